/* Unit tests for src/auth: WWW-Authenticate parsing, the realm rules, the
 * token cache, token responses, and token fetches against
 * tests/auth/token_server.py (started here on 127.0.0.1, port 0, and
 * stopped by PID). Every error message is checked for the canary secrets. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_int.h"
#include "digest/base64.h"
#include "http/http.h"
#include "json/json.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "tap.h"

#define CANARY_PASSWORD "CANARY-pw-7f3a9"
#define CANARY_REFRESH "CANARY-refresh-51c2"
#define CANARY_TOKEN "CANARY-token-0b8e"

/* ---- bookkeeping of error messages: none may carry a secret ---- */

static char **messages;
static size_t nmessages, capmessages;

static void keep_message(const ims_error *e)
{
	if (!e)
		return;
	messages = xgrow(messages, &capmessages, nmessages + 1, sizeof(*messages));
	messages[nmessages++] = xasprintf("%s%s%s", e->message ? e->message : "", e->hint ? " " : "",
					  e->hint ? e->hint : "");
	printf("# message: %s\n", messages[nmessages - 1]);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* ---- challenge parsing ---- */

static int parse(const char *v, ims_challenge *c)
{
	ims_error *e = NULL;
	int rc = ims_challenge_parse(v, c, &e);
	if (rc < 0) {
		ok(e && e->code == IMS_EINVALID, "a refused header is IMS_EINVALID (%s)", e ? e->message : "?");
		keep_message(e);
	}
	ims_error_free(e);
	return rc;
}

static void refuse(const char *v, const char *what)
{
	ims_challenge c;
	is_int(parse(v, &c), IMS_EINVALID, "refused: %s", what);
	ims_challenge_dispose(&c);
}

static void test_challenge(void)
{
	ims_challenge c;

	/* Docker Hub */
	is_int(parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		     "scope=\"repository:library/busybox:pull\"",
		     &c),
	       0, "docker hub challenge");
	is_str(c.scheme, "bearer", "scheme lower-cased");
	is_str(c.realm, "https://auth.docker.io/token", "hub realm");
	is_str(c.service, "registry.docker.io", "hub service");
	is_str(c.scope, "repository:library/busybox:pull", "hub scope");
	ok(c.error == NULL, "no error parameter");
	ims_challenge_dispose(&c);

	/* GHCR */
	is_int(parse("Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\",scope=\"repository:user/image:pull\"",
		     &c),
	       0, "ghcr challenge");
	is_str(c.realm, "https://ghcr.io/token", "ghcr realm");
	ims_challenge_dispose(&c);

	/* distribution with token auth, insufficient scope */
	is_int(parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
		     "scope=\"repository:team/app:pull,push\",error=\"insufficient_scope\"",
		     &c),
	       0, "insufficient_scope challenge");
	is_str(c.scope, "repository:team/app:pull,push", "a comma inside quotes stays in the value");
	is_str(c.error, "insufficient_scope", "error parameter");
	ims_challenge_dispose(&c);

	/* distribution with silly auth */
	is_int(parse("Bearer realm=\"silly-realm\",service=\"silly-service\"", &c), 0, "silly auth");
	is_str(c.realm, "silly-realm", "silly realm kept as sent");
	ims_challenge_dispose(&c);

	/* htpasswd */
	is_int(parse("Basic realm=\"Registry Realm\"", &c), 0, "basic challenge");
	is_str(c.scheme, "basic", "basic scheme");
	is_str(c.realm, "Registry Realm", "basic realm with a space");
	ims_challenge_dispose(&c);

	is_int(parse("BEARER Realm=\"https://a/t\", SERVICE=svc , Scope=\"x\"", &c), 0, "case and spacing");
	is_str(c.scheme, "bearer", "scheme lower-cased");
	is_str(c.service, "svc", "token value and upper-case name");
	is_str(c.scope, "x", "mixed-case scope name");
	ims_challenge_dispose(&c);

	is_int(parse("Bearer realm=\"https://a/t\",service=\"say \\\"hi\\\" \\\\ bye\"", &c), 0, "escapes");
	is_str(c.service, "say \"hi\" \\ bye", "backslash escapes removed");
	ims_challenge_dispose(&c);

	is_int(parse("Basic realm=\"r\", Bearer realm=\"https://auth/t\",service=\"s\"", &c), 0, "basic then bearer");
	is_str(c.scheme, "bearer", "bearer preferred over basic");
	is_str(c.realm, "https://auth/t", "the bearer challenge's realm");
	ims_challenge_dispose(&c);

	is_int(parse("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"", &c), 0,
	       "RFC 7235 example");
	is_str(c.scheme, "basic", "basic preferred over an unknown scheme");
	is_str(c.realm, "simple", "the basic challenge's realm");
	ims_challenge_dispose(&c);

	is_int(parse("Basic dXNlcjpwYXNz==, Bearer realm=\"https://x/t\"", &c), 0, "token68 then bearer");
	is_str(c.scheme, "bearer", "token68 challenge skipped over");
	ims_challenge_dispose(&c);

	is_int(parse("Basic abc=", &c), 0, "token68 with padding");
	is_str(c.scheme, "basic", "token68 basic");
	ims_challenge_dispose(&c);

	is_int(parse("Negotiate", &c), 0, "a scheme without parameters");
	is_str(c.scheme, "negotiate", "an unknown scheme is reported");
	ims_challenge_dispose(&c);

	is_int(parse("Bearer realm=\"https://a/t\",,  ,service=s", &c), 0, "empty list elements");
	is_str(c.service, "s", "parameter after empty elements");
	ims_challenge_dispose(&c);

	is_int(parse("Bearer realm=\"https://a/t\", error=\"invalid_token\"", &c), 0, "invalid_token");
	is_str(c.error, "invalid_token", "error invalid_token");
	ims_challenge_dispose(&c);

	refuse("Bearer realm=\"a\",realm=\"b\"", "duplicate realm");
	refuse("Bearer realm=\"a\",REALM=\"b\"", "duplicate realm, other case");
	refuse("Bearer realm=\"a\",scope=\"x\r\ny\"", "CR/LF inside scope");
	refuse("Bearer realm=\"a\"\nX-Evil: 1", "LF after a parameter");
	refuse("Bearer realm=\"a\x01\"", "control character");
	refuse("Bearer realm=\"unterminated", "unterminated quote");
	refuse("Bearer realm=\"ends with backslash\\", "trailing backslash");
	refuse("Bearer service=x, realm=", "missing value");
	is_int(parse("Bearer realm=", &c), 0, "`realm=` alone is a token68");
	ims_challenge_dispose(&c);
	refuse("Bearer realm=\"a\" service=\"b\"", "missing comma");
	refuse("", "empty header");
	refuse(" , , ", "only separators");
	refuse("=x", "no scheme");
	refuse("Bearer realm=\"a\" junk", "junk after a parameter");

	{
		char *v = xstrdup("Bearer a0=x");
		for (int i = 1; i < 33; i++) {
			char *n = xasprintf("%s,a%d=x", v, i);
			free(v);
			v = n;
		}
		refuse(v, "33 parameters");
		char *cut = strrchr(v, ',');
		*cut = '\0';
		is_int(parse(v, &c), 0, "32 parameters accepted");
		ims_challenge_dispose(&c);
		free(v);
	}
	{
		size_t n = 9000;
		char *v = xmalloc(n + 1);
		memcpy(v, "Bearer realm=\"", 14);
		memset(v + 14, 'a', n - 15);
		v[n - 1] = '"';
		v[n] = '\0';
		refuse(v, "oversize header");
		free(v);
	}
	{
		/* 10 000 parameters: bounded, refused early */
		size_t n = 10000 * 6;
		char *v = xmalloc(n + 16);
		strcpy(v, "Bearer ");
		for (int i = 0; i < 10000 && strlen(v) < n; i++)
			strcat(v, "a=b, ");
		refuse(v, "10 000 parameters");
		free(v);
	}
}

/* ---- helpers: base64, URLs, host classes, time, scopes ---- */

static void test_helpers(void)
{
	char *b;
	is_str(b = ims_base64_encode(IMS_BASE64_STD, "user:pass", 9), "dXNlcjpwYXNz", "base64");
	free(b);
	is_str(b = ims_base64_encode(IMS_BASE64_STD, "a", 1), "YQ==", "base64 two pads");
	free(b);
	is_str(b = ims_base64_encode(IMS_BASE64_STD, "ab", 2), "YWI=", "base64 one pad");
	free(b);

	ims_credentials c = { .username = "alice", .password = "p:w" };
	char *v = NULL;
	ims_error *e = NULL;
	is_int(ims_auth__basic_value(&c, &v, &e), 0, "basic value");
	is_str(v, "Basic YWxpY2U6cDp3", "Basic base64(user:pass)");
	free(v);
	ims_credentials bad = { .username = "a:b", .password = "x", .source = "the spec's auth `r`" };
	is_int(ims_auth__basic_value(&bad, &v, &e), IMS_EINVALID, "a colon in the username is refused");
	keep_message(e);
	ims_error_clear(&e);

	ims_url_parts u;
	ok(ims_auth__url_split("HTTPS://Auth.Example.COM/token?x=1", &u) && u.https && u.port == 443 &&
		   !strcmp(u.host, "auth.example.com"),
	   "url split: lower-cased host, default port");
	ims_auth__url_parts_dispose(&u);
	ok(ims_auth__url_split("http://[::1]:5000/t", &u) && !u.https && u.port == 5000 && !strcmp(u.host, "::1"),
	   "url split: IPv6 literal");
	ims_auth__url_parts_dispose(&u);
	ok(!ims_auth__url_split("ftp://x/", &u), "url split: ftp refused");
	ok(!ims_auth__url_split("https://u:p@x/", &u), "url split: userinfo refused");
	ok(!ims_auth__url_split("https://x:99999/", &u), "url split: bad port refused");
	ok(!ims_auth__url_split("https:///t", &u), "url split: empty host refused");

	is_int(ims_auth__host_class("127.0.0.1"), IMS_HOST_LOOPBACK, "127.0.0.1 loopback");
	is_int(ims_auth__host_class("127.1"), IMS_HOST_LOOPBACK, "127.1 loopback");
	is_int(ims_auth__host_class("2130706433"), IMS_HOST_LOOPBACK, "decimal loopback");
	is_int(ims_auth__host_class("localhost"), IMS_HOST_LOOPBACK, "localhost");
	is_int(ims_auth__host_class("::1"), IMS_HOST_LOOPBACK, "::1");
	is_int(ims_auth__host_class("0.0.0.0"), IMS_HOST_LOOPBACK, "unspecified counts as loopback");
	is_int(ims_auth__host_class("169.254.169.254"), IMS_HOST_LINKLOCAL, "metadata address link-local");
	is_int(ims_auth__host_class("fe80::1%eth0"), IMS_HOST_LINKLOCAL, "fe80::/10 with a zone");
	is_int(ims_auth__host_class("::ffff:169.254.169.254"), IMS_HOST_LINKLOCAL, "v4-mapped link-local");
	is_int(ims_auth__host_class("10.1.2.3"), IMS_HOST_PRIVATE, "10/8 private");
	is_int(ims_auth__host_class("172.31.0.1"), IMS_HOST_PRIVATE, "172.16/12 private");
	is_int(ims_auth__host_class("172.32.0.1"), IMS_HOST_PUBLIC, "172.32 public");
	is_int(ims_auth__host_class("192.168.0.1"), IMS_HOST_PRIVATE, "192.168/16 private");
	is_int(ims_auth__host_class("fd00::1"), IMS_HOST_PRIVATE, "fc00::/7 private");
	is_int(ims_auth__host_class("auth.docker.io"), IMS_HOST_PUBLIC, "a name is public");

	double t;
	ok(ims_auth__rfc3339("1970-01-01T00:01:00Z", &t) && t == 60, "rfc3339 Z");
	ok(ims_auth__rfc3339("1970-01-01T01:00:00.5+01:00", &t) && t == 0.5, "rfc3339 offset and fraction");
	ok(!ims_auth__rfc3339("yesterday", &t), "rfc3339 garbage refused");

	const char *sc[] = { "repository:b:pull", "repository:a:pull,push", "repository:b:pull" };
	is_str(v = ims_auth__scope_set(sc, 3), "repository:a:pull,push repository:b:pull", "scope set sorted, unique");
	free(v);
	is_str(v = ims_auth__scope_set(NULL, 0), "", "empty scope set");
	free(v);

	char id1[65], id2[65], id3[65];
	ims_credentials a1 = { .username = "u", .password = "p1" }, a2 = { .username = "u", .password = "p2" };
	ims_credentials a3 = { .username = "u:p1" };
	ims_auth__identity(&a1, id1);
	ims_auth__identity(&a2, id2);
	ims_auth__identity(&a3, id3);
	ok(strcmp(id1, id2) && strcmp(id1, id3), "credential identities differ with the secret");
	ok(!has(id1, "p1"), "the identity is a hash, not the secret");

	ims_credentials d = { 0 };
	d.username = xstrdup("u");
	d.password = xstrdup("p");
	d.source = xstrdup("s");
	ims_credentials_dispose(&d);
	ok(!d.username && !d.password && !d.source, "dispose clears the struct");
}

/* ---- token responses ---- */

static void parse_token(const char *body, int want_rc, const char *want_token, double want_life, const char *what)
{
	ims_token t;
	ims_error *e = NULL;
	int rc = ims_auth__token_parse(body, strlen(body), "http://ts:80", &t, &e);
	is_int(rc, want_rc, "token response: %s", what);
	if (rc == 0) {
		is_str(t.token, want_token, "token response: %s: token", what);
		ok(t.lifetime == want_life, "token response: %s: lifetime %g", what, t.lifetime);
		ims_auth__free_secret(t.token);
	} else {
		keep_message(e);
		ok(e && !has(e->message, CANARY_TOKEN), "token response: %s: the message holds no token", what);
	}
	ims_error_free(e);
}

static void test_token_response(void)
{
	parse_token("{\"token\":\"t1\",\"expires_in\":300}", 0, "t1", 300, "token");
	parse_token("{\"access_token\":\"t2\"}", 0, "t2", 60, "access_token, default expiry");
	parse_token("{\"token\":\"t3\",\"access_token\":\"t4\",\"expires_in\":0}", 0, "t3", 60, "both, zero expiry");
	parse_token("{\"token\":\"t5\",\"expires_in\":-5}", 0, "t5", 60, "negative expiry");
	parse_token("{\"token\":\"t6\",\"expires_in\":99999999999}", 0, "t6", 86400, "huge expiry clamped");
	parse_token("{\"token\":\"t7\",\"expires_in\":\"300\"}", 0, "t7", 60, "string expiry ignored");
	parse_token("{\"token\":\"\",\"access_token\":\"t8\"}", 0, "t8", 60, "empty token, access_token used");
	parse_token("{\"expires_in\":60}", IMS_EGENERIC, NULL, 0, "no token");
	parse_token("{\"token\":\"" CANARY_TOKEN " x\"}", IMS_EGENERIC, NULL, 0, "a token with a space");
	parse_token("{\"token\":\"a\\r\\nX-Evil: 1\"}", IMS_EGENERIC, NULL, 0, "a token with CR/LF");
	parse_token("[\"" CANARY_TOKEN "\"]", IMS_EGENERIC, NULL, 0, "an array");
	parse_token("{\"token\":\"" CANARY_TOKEN "\"", IMS_EGENERIC, NULL, 0, "truncated JSON");
	parse_token("<html>", IMS_EGENERIC, NULL, 0, "not JSON");

	/* issued_at a minute ago: a minute less is left */
	char body[256], when[64];
	time_t ago = time(NULL) - 60;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&ago));
	snprintf(body, sizeof(body), "{\"token\":\"t\",\"expires_in\":300,\"issued_at\":\"%s\"}", when);
	ims_token t;
	ims_error *e = NULL;
	is_int(ims_auth__token_parse(body, strlen(body), "x", &t, &e), 0, "issued_at parsed");
	/* About 240 s; the lower bound leaves room for a loaded machine. */
	ok(t.remaining > 120 && t.remaining <= 241, "issued_at shortens what is left (%g)", t.remaining);
	ims_auth__free_secret(t.token);
	snprintf(body, sizeof(body), "{\"token\":\"t\",\"expires_in\":300,\"issued_at\":\"2999-01-01T00:00:00Z\"}");
	is_int(ims_auth__token_parse(body, strlen(body), "x", &t, &e), 0, "future issued_at");
	ok(t.remaining == 300, "an issued_at in the future (clock skew) is ignored");
	ims_auth__free_secret(t.token);
}

/* ---- the cache ---- */

static void *hammer(void *arg)
{
	ims_auth_cache *c = arg;
	for (int i = 0; i < 2000; i++) {
		char key[32];
		snprintf(key, sizeof(key), "k%d", i % 300);
		ims_auth__cache_put(c, key, "o", "s", "Bearer v", 300, 300);
		free(ims_auth__cache_get(c, key));
		free(ims_auth__cache_find(c, "o", "s"));
		if (i % 7 == 0)
			ims_auth__cache_drop(c, key);
	}
	return NULL;
}

static void test_cache(void)
{
	ims_auth_cache c;
	char *v;
	ims_auth__cache_init(&c);
	ims_auth__cache_put(&c, "k1", "https://r:443", "s1", "Bearer one", 300, 300);
	is_str(v = ims_auth__cache_get(&c, "k1"), "Bearer one", "cache hit");
	free(v);
	is_str(v = ims_auth__cache_find(&c, "https://r:443", "s1"), "Bearer one", "find by origin and scopes");
	free(v);
	ok(!(v = ims_auth__cache_find(&c, "https://r:443", "s2")), "other scopes miss");
	free(v);
	ims_auth__cache_put(&c, "k2", "o", "s", "Bearer two", 300, 29);
	ok(!(v = ims_auth__cache_get(&c, "k2")), "less than 10%% of the lifetime left: renew");
	free(v);
	ims_auth__cache_put(&c, "k3", "o", "s", "Bearer three", 60, 15);
	is_str(v = ims_auth__cache_get(&c, "k3"), "Bearer three", "15 s of 60 left: still fresh");
	free(v);
	ims_auth__cache_put(&c, "k4", "o", "s", "Bearer four", 60, 9);
	ok(!(v = ims_auth__cache_get(&c, "k4")), "less than 10 s left: renew");
	free(v);
	ims_auth__cache_put(&c, "k5", "o", "s", "Basic x", 0, 0);
	is_str(v = ims_auth__cache_get(&c, "k5"), "Basic x", "lifetime 0 never expires");
	free(v);
	ims_auth__cache_drop(&c, "k1");
	ok(!(v = ims_auth__cache_get(&c, "k1")), "dropped");
	free(v);
	for (int i = 0; i < 400; i++) {
		char key[16];
		snprintf(key, sizeof(key), "n%d", i);
		ims_auth__cache_put(&c, key, "o", "s", "Bearer n", 300, 300);
	}
	ok(c.n <= 256, "the cache is bounded (%zu entries)", c.n);
	ok((v = ims_auth__cache_get(&c, "n399")) != NULL, "the newest entry survives eviction");
	free(v);

	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, &c);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ok(c.n <= 256, "concurrent use keeps the cache consistent");
	ims_auth__cache_dispose(&c);
}

/* ---- credentials supplied to ims_auth ---- */

typedef struct {
	const char *username, *password, *token, *identity_token, *source;
	int calls;
} test_creds;

static char *dup0(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int creds_fn(void *ud, const char *registry, const char *repository, ims_credentials *out, ims_error **err)
{
	test_creds *t = ud;
	t->calls++;
	out->username = dup0(t->username);
	out->password = dup0(t->password);
	out->token = dup0(t->token);
	out->identity_token = dup0(t->identity_token);
	out->source = dup0(t->source);
	return 0;
}

static ims_http *http;

typedef struct {
	ims_auth *a;
	test_creds creds;
	const char *origin, *registry;
} client;

static void client_init(client *k, const char *origin, const char *registry)
{
	memset(k, 0, sizeof(*k));
	k->origin = origin;
	k->registry = registry;
	ims_auth_new(&k->a, http, creds_fn, &k->creds);
}

/* ims_auth_header for a Bearer challenge at realm; *out the value or NULL,
 * *e the error (kept for the canary check). */
static int header(client *k, const char *challenge, const char *const *scopes, size_t n, bool renew, char **out,
		  ims_error **e)
{
	ims_challenge ch;
	ims_error *pe = NULL;
	*out = NULL;
	if (ims_challenge_parse(challenge, &ch, &pe) < 0) {
		ok(0, "challenge parses: %s", pe->message);
		ims_error_free(pe);
		return -1;
	}
	int rc = ims_auth_header(k->a, k->origin, k->registry, "team/app", &ch, scopes, n, renew, out, e);
	keep_message(*e);
	ims_challenge_dispose(&ch);
	return rc;
}

/* ---- realm rules, offline (refused before any request) ---- */

static void realm_case(const char *origin, const char *registry, const char *realm, int want, const char *what)
{
	ims_error *e = NULL;
	int rc = ims_auth__realm_check(http, origin, registry, realm, &e);
	is_int(rc, want, "realm: %s", what);
	if (rc < 0)
		ok(e && has(e->message, registry), "realm: %s: the message names the registry", what);
	keep_message(e);
	ims_error_free(e);
}

static void test_realm_rules(void)
{
	const char *hub = "https://registry-1.docker.io:443";
	realm_case(hub, "registry-1.docker.io", "https://auth.docker.io/token", 0, "hub");
	realm_case(hub, "registry-1.docker.io", "http://auth.docker.io/token", IMS_EAUTH, "http realm, https registry");
	realm_case(hub, "registry-1.docker.io", "https://169.254.169.254/latest/meta-data", IMS_EAUTH,
		   "metadata address");
	realm_case(hub, "registry-1.docker.io", "https://[fe80::1]/t", IMS_EAUTH, "fe80::/10");
	realm_case(hub, "registry-1.docker.io", "https://[::ffff:a9fe:a9fe]/t", IMS_EAUTH, "v4-mapped metadata");
	realm_case(hub, "registry-1.docker.io", "https://127.0.0.1:8080/token", IMS_EAUTH,
		   "loopback realm, public registry");
	realm_case(hub, "registry-1.docker.io", "https://localhost./token", IMS_EAUTH, "localhost. realm");
	realm_case(hub, "registry-1.docker.io", "https://0x7f000001/token", IMS_EAUTH, "hex loopback realm");
	realm_case(hub, "registry-1.docker.io", "https://10.0.0.1/token", IMS_EAUTH, "private realm, public registry");
	realm_case(hub, "registry-1.docker.io", "ftp://auth.docker.io/token", IMS_EAUTH, "ftp realm");
	realm_case(hub, "registry-1.docker.io", "https://u:p@auth.docker.io/token", IMS_EAUTH, "userinfo realm");
	realm_case(hub, "registry-1.docker.io", "silly-realm", IMS_EAUTH, "not a URL");
	realm_case(hub, "registry-1.docker.io", "", IMS_EAUTH, "empty realm");
	realm_case("https://10.0.0.5:5000", "10.0.0.5:5000", "https://192.168.1.1/token", 0,
		   "private realm, private registry");
	realm_case("https://10.0.0.5:5000", "10.0.0.5:5000", "https://169.254.1.1/token", IMS_EAUTH,
		   "link-local realm, private registry");
	realm_case("https://10.0.0.5:5000", "10.0.0.5:5000", "https://10.0.0.5:5000/token", 0, "same host:port");
	realm_case("http://127.0.0.1:5000", "127.0.0.1:5000", "http://127.0.0.1:5001/token", 0,
		   "loopback realm, loopback registry, other port");
	realm_case("https://127.0.0.1:5000", "127.0.0.1:5000", "http://127.0.0.1:5000/token", 0,
		   "http realm, https loopback registry");
	realm_case("https://registry.internal:443", "registry.internal", "http://auth.internal/token", 0,
		   "http realm, registry named insecure");

	/* Which realms may be sent credentials (http: the test's, where
	 * 127.0.0.1 and registry.internal are named insecure; bare: none). */
	ims_http *bare = NULL;
	ims_http_options bo = { .max_attempts = 1 };
	ims_http_host one = { .host = "127.0.0.2:5001", .insecure = true };
	ims_http_options no = { .hosts = &one, .nhosts = 1, .max_attempts = 1 };
	ims_http *named = NULL;
	if (ims_http_new(&bare, &bo, NULL) == 0 && ims_http_new(&named, &no, NULL) == 0) {
		ok(!ims_auth__realm_may_carry_secrets(bare, "http://127.0.0.1:5000", "http://127.0.0.1:5001/token"),
		   "secrets: not to another loopback port of a loopback registry");
		ok(!ims_auth__realm_may_carry_secrets(bare, "http://127.0.0.1:5000", "http://localhost:5000/token"),
		   "secrets: not to another host name on the same port");
		ok(ims_auth__realm_may_carry_secrets(bare, "http://127.0.0.1:5000", "http://127.0.0.1:5000/token"),
		   "secrets: to the registry's own host and port");
		ok(ims_auth__realm_may_carry_secrets(bare, "http://127.0.0.1:5000", "https://127.0.0.1:5001/token"),
		   "secrets: to an https realm");
		ok(!ims_auth__realm_may_carry_secrets(bare, "https://registry.internal:443",
						      "http://auth.internal/token"),
		   "secrets: not over plain HTTP to another host");
		ok(ims_auth__realm_may_carry_secrets(named, "http://127.0.0.2:5000", "http://127.0.0.2:5001/token"),
		   "secrets: to a host:port named insecure");
		ok(!ims_auth__realm_may_carry_secrets(named, "http://127.0.0.2:5000", "http://127.0.0.2:5002/token"),
		   "secrets: not to another port of it");
	} else {
		ok(0, "ims_http_new");
	}
	ims_http_free(bare);
	ims_http_free(named);

	/* Through ims_auth_header: refused before any request is sent. */
	client k;
	char *v;
	ims_error *e = NULL;
	client_init(&k, hub, "registry-1.docker.io");
	k.creds = (test_creds){ .username = "alice", .password = CANARY_PASSWORD, .source = "the spec's auth `hub`" };
	const char *scopes[] = { "repository:team/app:pull" };
	is_int(header(&k, "Bearer realm=\"https://169.254.169.254/token\",service=\"s\"", scopes, 1, false, &v, &e),
	       IMS_EAUTH, "header: metadata realm refused");
	ims_error_clear(&e);
	is_int(header(&k, "Bearer realm=\"http://auth.example.com/token\"", scopes, 1, false, &v, &e), IMS_EAUTH,
	       "header: http realm for an https registry refused");
	ims_error_clear(&e);
	is_int(header(&k, "Bearer service=\"s\"", scopes, 1, false, &v, &e), IMS_EAUTH, "header: no realm refused");
	ims_error_clear(&e);
	is_int(header(&k, "Negotiate", scopes, 1, false, &v, &e), IMS_EUNSUPPORTED, "header: unknown scheme");
	ims_error_clear(&e);
	ims_auth_free(k.a);
}

/* ---- the token server ---- */

typedef struct {
	pid_t pid;
	int port;
	char dir[64];
	char *log;
	char *realm; /* http://127.0.0.1:PORT/token */
} server;

static const char *srcdir = TEST_SRCDIR;

static bool server_start(server *s, const char *const *flags)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/test-auth-XXXXXX");
	if (!mkdtemp(s->dir))
		return false;
	char *script = xasprintf("%s/auth/token_server.py", srcdir);
	char *portfile = xasprintf("%s/port", s->dir);
	s->log = xasprintf("%s/log", s->dir);
	const char *fixed[] = { "python3", script, "--port-file", portfile, "--log", s->log };
	char *argv[32];
	size_t n = 0;
	for (size_t i = 0; i < IMS_ARRAY_SIZE(fixed); i++)
		argv[n++] = xstrdup(fixed[i]);
	for (size_t i = 0; flags[i] && n < 31; i++)
		argv[n++] = xstrdup(flags[i]);
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid == 0) {
		execvp("python3", argv);
		_exit(127);
	}
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	free(script);
	bool up = false;
	for (int i = 0; i < 500 && !up; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			up = fscanf(f, "%d", &s->port) == 1;
			fclose(f);
		}
		if (!up) {
			if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			usleep(20000);
		}
	}
	unlink(portfile);
	free(portfile);
	if (up)
		s->realm = xasprintf("http://127.0.0.1:%d/token", s->port);
	return up;
}

static void server_stop(server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	unlink(s->log);
	rmdir(s->dir);
	free(s->log);
	free(s->realm);
}

/* The requests the server saw, as parsed JSON lines. */
static ims_json **server_log(server *s, size_t *n)
{
	ims_json **v = NULL;
	size_t cap = 0;
	*n = 0;
	FILE *f = fopen(s->log, "r");
	char line[8192];
	while (f && fgets(line, sizeof(line), f)) {
		ims_json *j = NULL;
		if (ims_json_parse(&j, line, strlen(line), NULL, NULL) == 0) {
			v = xgrow(v, &cap, *n + 1, sizeof(*v));
			v[(*n)++] = j;
		}
	}
	if (f)
		fclose(f);
	return v;
}

static void log_free(ims_json **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ims_json_free(v[i]);
	free(v);
}

static size_t log_count(server *s)
{
	size_t n;
	ims_json **v = server_log(s, &n);
	log_free(v, n);
	return n;
}

/* Field of the last request. */
static char *last_field(server *s, const char *key)
{
	size_t n;
	ims_json **v = server_log(s, &n);
	const char *f = n ? ims_json_get_string(v[n - 1], key) : NULL;
	char *r = f ? xstrdup(f) : NULL;
	log_free(v, n);
	return r;
}

static char *last_scopes(server *s)
{
	size_t n;
	ims_json **v = server_log(s, &n);
	ims_json *sc = n ? ims_json_get(v[n - 1], "scopes") : NULL;
	char *r = sc ? ims_json_encode(sc, NULL) : NULL;
	log_free(v, n);
	return r;
}

static char *challenge_for(server *s, const char *path)
{
	return xasprintf("Bearer realm=\"http://127.0.0.1:%d%s\",service=\"registry.test\"", s->port, path);
}

#define REGISTRY "127.0.0.1:5999"
#define ORIGIN "http://127.0.0.1:5999"
#define SOURCE "the spec's auth `127.0.0.1:5999`"

static void test_main_server(void)
{
	const char *flags[] = {
		"--user",       "alice", "--password", CANARY_PASSWORD, "--refresh-token", CANARY_REFRESH,
		"--expires-in", "300",   NULL
	};
	server s;
	if (!server_start(&s, flags)) {
		ok(0, "token server starts");
		return;
	}
	_cleanup_free_ char *ch = challenge_for(&s, "/token");
	const char *pull[] = { "repository:team/app:pull" };
	const char *push[] = { "repository:team/app:pull,push", "repository:other/src:pull" };
	const char *push_rev[] = { "repository:other/src:pull", "repository:team/app:pull,push" };
	client k;
	char *v, *f;
	ims_error *e = NULL;

	/* anonymous */
	client_init(&k, ORIGIN, REGISTRY);
	is_int(header(&k, ch, pull, 1, false, &v, &e), 0, "anonymous fetch");
	is_str(v, "Bearer tok-1", "anonymous token");
	free(v);
	is_str(f = last_field(&s, "authorization"), NULL, "no Authorization to the token server when anonymous");
	free(f);
	is_str(f = last_field(&s, "service"), "registry.test", "service sent");
	free(f);
	is_str(f = last_scopes(&s), "[\"repository:team/app:pull\"]", "the exact scope");
	free(f);
	{
		/* a realm with a query of its own */
		_cleanup_free_ char *chq = challenge_for(&s, "/token?account=x");
		is_int(header(&k, chq, pull, 1, false, &v, &e), 0, "realm with a query");
		free(v);
		is_str(f = last_field(&s, "service"), "registry.test", "service appended to the realm's query");
		free(f);
		is_str(f = last_scopes(&s), "[\"repository:team/app:pull\"]", "scope appended to the realm's query");
		free(f);
	}
	ims_auth_free(k.a);

	/* Basic credentials, two scopes */
	client_init(&k, ORIGIN, REGISTRY);
	k.creds = (test_creds){ .username = "alice", .password = CANARY_PASSWORD, .source = SOURCE };
	is_int(header(&k, ch, push, 2, false, &v, &e), 0, "fetch with Basic credentials");
	ok(v && !strncmp(v, "Bearer tok-", 11), "token for credentials");
	_cleanup_free_ char *first = v;
	is_str(f = last_field(&s, "authorization"), "basic", "Basic sent to the token endpoint");
	free(f);
	is_str(f = last_scopes(&s), "[\"repository:team/app:pull,push\",\"repository:other/src:pull\"]",
	       "each scope its own parameter");
	free(f);
	size_t before = log_count(&s);
	is_int(header(&k, ch, push_rev, 2, false, &v, &e), 0, "second call");
	is_str(v, first, "cache hit (scopes in another order)");
	free(v);
	is_int(log_count(&s), before, "one request for two calls");
	is_str(v = ims_auth_cached(k.a, ORIGIN, push, 2), first, "ims_auth_cached finds it");
	free(v);
	ok(!(v = ims_auth_cached(k.a, ORIGIN, pull, 1)), "ims_auth_cached: other scopes miss");
	free(v);
	is_int(header(&k, ch, push, 2, true, &v, &e), 0, "renew");
	ok(v && strcmp(v, first), "renew=true fetches a new token (%s)", v ? v : "");
	_cleanup_free_ char *renewed = v;
	is_int(log_count(&s), before + 1, "renew made one request");
	is_str(v = ims_auth_cached(k.a, ORIGIN, push, 2), renewed, "the renewed token is cached");
	free(v);
	is_int(k.creds.calls, 3, "credentials looked up per call");

	/* other credentials: another cache entry */
	k.creds = (test_creds){ .username = "alice", .password = "wrong-" CANARY_PASSWORD, .source = SOURCE };
	is_int(header(&k, ch, push, 2, false, &v, &e), IMS_EAUTH, "wrong password refused");
	ok(e && has(e->message, REGISTRY) && has(e->message, SOURCE), "the message names registry and source: %s",
	   e ? e->message : "");
	ok(e && !has(e->message, CANARY_PASSWORD), "the message does not hold the password");
	ok(e && e->http_status == 401, "http_status 401");
	ok(!v, "no value on failure");
	ims_error_clear(&e);
	ims_auth_free(k.a);

	/* Basic challenge */
	client_init(&k, ORIGIN, REGISTRY);
	k.creds = (test_creds){ .username = "alice", .password = "pw", .source = SOURCE };
	is_int(header(&k, "Basic realm=\"Registry\"", pull, 1, false, &v, &e), 0, "basic challenge");
	is_str(v, "Basic YWxpY2U6cHc=", "Basic base64(alice:pw)");
	free(v);
	is_str(v = ims_auth_cached(k.a, ORIGIN, pull, 1), "Basic YWxpY2U6cHc=", "Basic value cached");
	free(v);
	/* Basic credentials answer for their repository whatever the scopes
	 * (the first scope's repository is the one they were looked up for) */
	is_str(v = ims_auth_cached(k.a, ORIGIN, push, 2), "Basic YWxpY2U6cHc=",
	       "... and sent with other scopes of that repository, before a 401");
	free(v);
	const char *other[] = { "repository:other/src:pull" };
	ok(!(v = ims_auth_cached(k.a, ORIGIN, other, 1)), "... not with another repository's");
	free(v);
	ok(!(v = ims_auth_cached(k.a, "https://elsewhere.example", push, 2)), "... nor to another origin");
	free(v);
	is_int(header(&k, "Basic realm=\"Registry\"", pull, 1, true, &v, &e), IMS_EAUTH, "basic refused on renew");
	ok(e && has(e->message, SOURCE), "basic refusal names the source");
	ims_error_clear(&e);
	ok(!(v = ims_auth_cached(k.a, ORIGIN, push, 2)), "refused credentials are not sent again before a 401");
	free(v);
	k.creds = (test_creds){ 0 };
	is_int(header(&k, "Basic realm=\"Registry\"", pull, 1, false, &v, &e), IMS_EAUTH, "anonymous basic");
	ok(e && has(e->message, "anonymous access to `" REGISTRY "`"), "anonymous basic names the registry");
	ims_error_clear(&e);
	ims_auth_free(k.a);

	/* identity token: OAuth2 POST */
	client_init(&k, ORIGIN, REGISTRY);
	k.creds = (test_creds){ .identity_token = CANARY_REFRESH, .source = SOURCE };
	before = log_count(&s);
	is_int(header(&k, ch, push, 2, false, &v, &e), 0, "identity token exchange");
	ok(v && !strncmp(v, "Bearer tok-", 11), "token from the refresh grant");
	free(v);
	is_str(f = last_field(&s, "method"), "POST", "POST to the realm");
	free(f);
	is_str(f = last_field(&s, "grant_type"), "refresh_token", "grant_type=refresh_token");
	free(f);
	is_str(f = last_field(&s, "client_id"), "imagespec", "client_id=imagespec");
	free(f);
	is_str(f = last_field(&s, "content_type"), "application/x-www-form-urlencoded", "form content type");
	free(f);
	is_str(f = last_scopes(&s), "[\"repository:team/app:pull,push\",\"repository:other/src:pull\"]",
	       "scopes in the form");
	free(f);
	is_int(log_count(&s), before + 1, "one POST, no GET");
	k.creds = (test_creds){ .identity_token = "bad-" CANARY_REFRESH, .source = SOURCE };
	is_int(header(&k, ch, push, 2, false, &v, &e), IMS_EAUTH, "bad identity token refused");
	ok(e && !has(e->message, CANARY_REFRESH), "no refresh token in the message");
	ims_error_clear(&e);
	ims_auth_free(k.a);

	/* a spec token is used as it is */
	client_init(&k, ORIGIN, REGISTRY);
	k.creds = (test_creds){ .token = CANARY_TOKEN, .source = SOURCE };
	before = log_count(&s);
	is_int(header(&k, ch, pull, 1, false, &v, &e), 0, "spec token");
	is_str(v, "Bearer " CANARY_TOKEN, "Bearer <token> as is");
	free(v);
	is_int(log_count(&s), before, "no exchange for a spec token");
	is_int(header(&k, ch, pull, 1, true, &v, &e), IMS_EAUTH, "a refused spec token is final");
	ok(e && has(e->message, SOURCE) && !has(e->message, CANARY_TOKEN), "the refusal names the source only");
	ims_error_clear(&e);
	ims_auth_free(k.a);

	/* the realm on the registry's own host:port */
	_cleanup_free_ char *own_origin = xasprintf("http://127.0.0.1:%d", s.port);
	_cleanup_free_ char *own_reg = xasprintf("127.0.0.1:%d", s.port);
	client_init(&k, own_origin, own_reg);
	is_int(header(&k, ch, pull, 1, false, &v, &e), 0, "realm on the same host:port allowed");
	free(v);
	ims_auth_free(k.a);

	/* a loopback realm for a non-loopback registry */
	client_init(&k, "https://registry.example.com:443", "registry.example.com");
	before = log_count(&s);
	is_int(header(&k, ch, pull, 1, false, &v, &e), IMS_EAUTH, "loopback http realm for a public registry refused");
	is_int(log_count(&s), before, "nothing sent");
	ims_error_clear(&e);
	ims_auth_free(k.a);

	server_stop(&s);
}

/* A server with its own flags; fetch once with creds; return rc, *e set. */
static int fetch_from(const char *const *flags, const test_creds *cr, server *s, char **v, ims_error **e)
{
	if (!server_start(s, flags)) {
		ok(0, "token server starts");
		return -100;
	}
	_cleanup_free_ char *ch = challenge_for(s, "/token");
	const char *pull[] = { "repository:team/app:pull" };
	client k;
	client_init(&k, ORIGIN, REGISTRY);
	if (cr)
		k.creds = *cr;
	int rc = header(&k, ch, pull, 1, false, v, e);
	ims_auth_free(k.a);
	return rc;
}

static void test_other_servers(void)
{
	server s;
	char *v;
	ims_error *e = NULL;

	{
		/* access_token only, expiring after 1 s */
		const char *flags[] = { "--mode", "access_token", "--expires-in", "1", NULL };
		if (!server_start(&s, flags)) {
			ok(0, "token server starts");
			return;
		}
		_cleanup_free_ char *ch = challenge_for(&s, "/token");
		const char *pull[] = { "repository:team/app:pull" };
		client k;
		client_init(&k, ORIGIN, REGISTRY);
		is_int(header(&k, ch, pull, 1, false, &v, &e), 0, "access_token response");
		is_str(v, "Bearer tok-1", "access_token used");
		free(v);
		sleep(2);
		is_int(header(&k, ch, pull, 1, false, &v, &e), 0, "after expiry");
		is_str(v, "Bearer tok-2", "renewed after expires_in ran out");
		free(v);
		is_int(log_count(&s), 2, "two requests");
		ims_auth_free(k.a);
		server_stop(&s);
	}
	{
		/* OAuth2 unsupported: POST 405, then GET with Basic */
		const char *flags[] = { "--no-post",     "--user",          "alice",        "--password",
					CANARY_PASSWORD, "--refresh-token", CANARY_REFRESH, NULL };
		test_creds cr = { .username = "alice",
				  .password = CANARY_PASSWORD,
				  .identity_token = CANARY_REFRESH,
				  .source = SOURCE };
		is_int(fetch_from(flags, &cr, &s, &v, &e), 0, "identity token with GET fallback");
		is_str(v, "Bearer tok-1", "token from the fallback GET");
		free(v);
		size_t n;
		ims_json **l = server_log(&s, &n);
		is_int(n, 2, "POST then GET");
		is_str(n == 2 ? ims_json_get_string(l[0], "method") : NULL, "POST", "first POST");
		is_str(n == 2 ? ims_json_get_string(l[1], "method") : NULL, "GET", "then GET");
		is_str(n == 2 ? ims_json_get_string(l[1], "authorization") : NULL, "basic", "GET with Basic");
		log_free(l, n);
		server_stop(&s);
	}
	{
		const char *flags[] = { "--mode", "garbage", NULL };
		is_int(fetch_from(flags, NULL, &s, &v, &e), IMS_EGENERIC, "garbage response refused");
		ok(e && has(e->message, "not a JSON object") && !has(e->message, "<html>"),
		   "the message does not echo the body");
		ims_error_clear(&e);
		server_stop(&s);
	}
	{
		const char *flags[] = { "--mode", "huge", NULL };
		ok(fetch_from(flags, NULL, &s, &v, &e) < 0 && !v, "10 MiB token body refused");
		ims_error_clear(&e);
		server_stop(&s);
	}
	{
		const char *flags[] = { "--mode", "missing", "--expires-in", "300", NULL };
		is_int(fetch_from(flags, NULL, &s, &v, &e), IMS_EGENERIC, "missing token refused");
		ok(e && has(e->message, "no `token`"), "the message says so");
		ims_error_clear(&e);
		server_stop(&s);
	}
	{
		const char *flags[] = { "--mode", "badtoken", NULL };
		is_int(fetch_from(flags, NULL, &s, &v, &e), IMS_EGENERIC, "a token with CR/LF refused");
		ims_error_clear(&e);
		server_stop(&s);
	}
	{
		const char *flags[] = { "--deny-anonymous", NULL };
		is_int(fetch_from(flags, NULL, &s, &v, &e), IMS_EAUTH, "anonymous refused by the token server");
		ok(e && has(e->message, "anonymous access to `" REGISTRY "` was refused"), "anonymous message: %s",
		   e ? e->message : "");
		ims_error_clear(&e);
		server_stop(&s);
	}
	{
		const char *flags[] = { "--mode", "redirect", "--redirect-to",
					"http://169.254.169.254/latest/meta-data", NULL };
		is_int(fetch_from(flags, NULL, &s, &v, &e), IMS_EAUTH, "a redirect to a link-local address refused");
		is_int(log_count(&s), 1, "the redirect was not followed");
		ims_error_clear(&e);
		server_stop(&s);
	}
	{
		/* A redirect to another origin is followed without the credentials. */
		server b;
		const char *bflags[] = { "--user", "alice", "--password", CANARY_PASSWORD, NULL };
		if (!server_start(&b, bflags)) {
			ok(0, "token server starts");
			return;
		}
		const char *aflags[] = { "--mode", "redirect",   "--redirect-to", b.realm, "--user",
					 "alice",  "--password", CANARY_PASSWORD, NULL };
		test_creds cr = { .username = "alice", .password = CANARY_PASSWORD, .source = SOURCE };
		is_int(fetch_from(aflags, &cr, &s, &v, &e), 0, "a redirect to another loopback origin is followed");
		is_str(v, "Bearer tok-1", "the token from the redirect's target");
		free(v);
		char *f;
		is_str(f = last_field(&s, "authorization"), "basic", "the realm got the credentials");
		free(f);
		is_str(f = last_field(&b, "authorization"), NULL, "the other origin did not");
		free(f);
		server_stop(&s);
		server_stop(&b);
	}
}

int main(void)
{
	/* An ambient proxy must not capture loopback traffic. */
	setenv("NO_PROXY", "127.0.0.1,localhost,::1", 1);
	setenv("no_proxy", "127.0.0.1,localhost,::1", 1);

	test_challenge();
	test_helpers();
	test_token_response();
	test_cache();

	ims_http_global_init();
	/* 127.0.0.1 named insecure: the test servers' realms, on other ports
	 * than the registries they answer for, may be sent credentials. */
	ims_http_host insecure[] = { { .host = "registry.internal", .insecure = true },
				     { .host = "127.0.0.1", .insecure = true } };
	ims_http_options o = { .hosts = insecure, .nhosts = 2, .max_attempts = 1, .connect_timeout = 5 };
	ims_error *e = NULL;
	if (ims_http_new(&http, &o, &e) < 0) {
		ok(0, "ims_http_new: %s", e->message);
		return tap_done();
	}
	test_realm_rules();
	test_main_server();
	test_other_servers();
	ims_http_free(http);
	ims_http_global_cleanup();

	bool clean = true;
	for (size_t i = 0; i < nmessages; i++) {
		if (has(messages[i], CANARY_PASSWORD) || has(messages[i], CANARY_REFRESH) ||
		    has(messages[i], CANARY_TOKEN)) {
			printf("# leaked: %s\n", messages[i]);
			clean = false;
		}
		free(messages[i]);
	}
	free(messages);
	ok(clean, "no error message holds a canary secret (%zu messages)", nmessages);
	return tap_done();
}
