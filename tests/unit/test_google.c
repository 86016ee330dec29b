/* Unit tests for Google service accounts (src/auth/google.c) and the RS256
 * signatures and base64url of src/digest/sign.c.
 *
 * Keys are made with openssl(1) in a temp directory; signatures are checked
 * with `openssl dgst -verify`, and the whole exchange against
 * tests/auth/google_token_server.py, which verifies each JWT with the
 * public key (started here on 127.0.0.1, port 0, and stopped by PID). Every
 * error message is checked for key material, assertions and tokens. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/google.h"
#include "digest/base64.h"
#include "digest/digest.h"
#include "http/http.h"
#include "json/json.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"

#define EMAIL "builder@project-a.iam.gserviceaccount.com"
#define KID "0123456789abcdef0123456789abcdef01234567"

static const char *srcdir = TEST_SRCDIR;
static ims_http *http;
static char tmp[64];
/* PEM files: PKCS#8 and PKCS#1 forms of one key, its public key, another
 * key, an EC key and an encrypted key. */
static char *key8, *key1, *pub, *other, *other_pub, *eckey, *enckey;
static char *key8_pem; /* the text, to look for in messages */

/* ---- small helpers ---- */

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = xvasprintf(fmt, ap);
	va_end(ap);
	int st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f || fwrite(p, 1, n, f) != n)
		ok(0, "write %s", path);
	if (f)
		fclose(f);
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n;
	ims_error *e = NULL;
	if (ims_read_file(path, 1 << 20, &s, &n, &e) < 0) {
		ok(0, "read %s: %s", path, e->message);
		ims_error_free(e);
		return xstrdup("");
	}
	return s;
}

/* ---- bookkeeping of error messages: none may carry a secret ---- */

static char **messages;
static size_t nmessages, capmessages;

static void keep(const ims_error *e)
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

/* True when msg holds a secret: a 16-byte run of any line of the key's
 * base64 body, a token, or the start of a JWT ({"alg" in base64url). */
static bool leaks(const char *msg)
{
	if (has(msg, "PRIVATE KEY") || has(msg, "ya29.") || has(msg, "eyJ"))
		return true;
	const char *p = key8_pem;
	while (p && *p) {
		size_t n = strcspn(p, "\n");
		if (n >= 32 && *p != '-')
			for (size_t i = 0; i + 16 <= n; i += 8) {
				char run[17];
				memcpy(run, p + i, 16);
				run[16] = '\0';
				if (has(msg, run))
					return true;
			}
		p += n + (p[n] == '\n');
	}
	return false;
}

/* ---- base64url ---- */

static void b64(const char *in, size_t n, const char *want)
{
	char *s = ims_base64url(in, n);
	is_str(s, want, "base64url of %zu bytes is `%s`", n, want);
	free(s);
}

static void test_base64url(void)
{
	/* RFC 4648 10, without the padding. */
	b64("", 0, "");
	b64("f", 1, "Zg");
	b64("fo", 2, "Zm8");
	b64("foo", 3, "Zm9v");
	b64("foob", 4, "Zm9vYg");
	b64("fooba", 5, "Zm9vYmE");
	b64("foobar", 6, "Zm9vYmFy");
	/* The two characters that differ from standard base64. */
	b64("\xfb\xff", 2, "-_8");
	b64("\xff\xfe\xfd", 3, "__79");
	b64("{\"alg\":\"RS256\"}", 15, "eyJhbGciOiJSUzI1NiJ9");

	/* Past one internal chunk (48 KiB): no padding in the middle. */
	size_t n = 100001;
	unsigned char *big = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	char *s = ims_base64url(big, n);
	is_int(strlen(s), (n * 4 + 2) / 3, "base64url of 100001 bytes has the unpadded length");
	ok(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s),
	   "only the URL alphabet, no padding anywhere");
	_cleanup_free_ char *bin = path_in("big.bin"), *txt = path_in("big.b64");
	write_file(bin, big, n);
	char *want = NULL;
	if (sh("openssl base64 -A -in %s | tr '+/' '-_' | tr -d '=' > %s", bin, txt) == 0)
		want = slurp(txt);
	is_str(s, want, "base64url of 100001 bytes matches openssl base64");
	free(want);
	free(s);
	free(big);
}

/* ---- RS256 ---- */

static int sign_file(const char *keyfile, const char *data, unsigned char **sig, size_t *n, ims_error **e)
{
	_cleanup_free_ char *pem = slurp(keyfile);
	/* An exact copy without the NUL: the length must be honoured. */
	size_t len = strlen(pem);
	char *copy = xmemdup(pem, len);
	int rc = ims_rs256_sign(copy, len, data, strlen(data), sig, n, e);
	free(copy);
	keep(*e);
	return rc;
}

/* `openssl dgst -sha256 -verify` of sig over data with public key pubfile. */
static bool openssl_verifies(const char *pubfile, const char *data, const unsigned char *sig, size_t n)
{
	_cleanup_free_ char *d = path_in("data"), *s = path_in("sig");
	write_file(d, data, strlen(data));
	write_file(s, sig, n);
	return sh("openssl dgst -sha256 -verify %s -signature %s %s >/dev/null 2>&1", pubfile, s, d) == 0;
}

static void refused_key(const char *pem, const char *what, const char *needle)
{
	unsigned char *sig = (unsigned char *)"x";
	size_t n = 1;
	ims_error *e = NULL;
	is_int(ims_rs256_sign(pem, strlen(pem), "data", 4, &sig, &n, &e), IMS_EINVALID, "sign refuses %s", what);
	ok(sig == NULL && n == 0, "no signature for %s", what);
	ok(e && has(e->message, needle), "message for %s says `%s`", what, needle);
	keep(e);
	ims_error_free(e);
}

static void test_sign(void)
{
	const char *data = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0";
	unsigned char *sig = NULL, *sig2 = NULL;
	size_t n = 0, n2 = 0;
	ims_error *e = NULL;

	is_int(sign_file(key8, data, &sig, &n, &e), 0, "sign with a PKCS#8 key");
	is_int(n, 256, "a 2048-bit key makes 256-byte signatures");
	ok(openssl_verifies(pub, data, sig, n), "openssl dgst -verify accepts the PKCS#8 signature");
	ok(!openssl_verifies(other_pub, data, sig, n), "openssl dgst -verify refuses it with another public key");
	ok(!openssl_verifies(pub, "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ5In0", sig, n),
	   "openssl dgst -verify refuses it for other data");

	_cleanup_free_ char *k1 = slurp(key1);
	ok(has(k1, "-----BEGIN RSA PRIVATE KEY-----"), "the PKCS#1 fixture is in the traditional form");
	is_int(sign_file(key1, data, &sig2, &n2, &e), 0, "sign with a PKCS#1 key");
	ok(openssl_verifies(pub, data, sig2, n2), "openssl dgst -verify accepts the PKCS#1 signature");
	/* PKCS#1 v1.5 is deterministic: both forms of one key sign alike. */
	ok(n == n2 && memcmp(sig, sig2, n) == 0, "PKCS#8 and PKCS#1 forms give the same signature");
	free(sig);
	free(sig2);

	/* Text before the PEM header, as some tools write it. */
	_cleanup_free_ char *prefixed = xasprintf("Bag Attributes\n    localKeyID: 01\n%s", key8_pem);
	is_int(ims_rs256_sign(prefixed, strlen(prefixed), "x", 1, &sig, &n, &e), 0, "text before the PEM is skipped");
	free(sig);

	refused_key("", "an empty key", "empty");
	refused_key("not a key at all", "text without PEM", "not in PEM form");
	refused_key("-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n", "a broken PKCS#8 body",
		    "cannot read the private key");
	_cleanup_free_ char *half = xstrndup(key8_pem, strlen(key8_pem) / 2);
	refused_key(half, "a truncated key", "cannot read the private key");
	_cleanup_free_ char *ec = slurp(eckey);
	refused_key(ec, "an EC key", "not an RSA key");
	/* With no passphrase callback, OpenSSL would prompt on the terminal. */
	_cleanup_free_ char *enc = slurp(enckey);
	ok(has(enc, "ENCRYPTED PRIVATE KEY"), "the encrypted fixture is encrypted");
	refused_key(enc, "an encrypted key", "is encrypted");
}

/* ---- ims_google_host ---- */

static void test_host(void)
{
	static const char *const yes[] = { "gcr.io",
					   "GCR.IO",
					   "gcr.io.",
					   "gcr.io:443",
					   "eu.gcr.io",
					   "us.gcr.io:5000",
					   "gcr.io/project-a",
					   "us-docker.pkg.dev:443",
					   "europe-west1-docker.pkg.dev" };
	static const char *const no[] = { "pkg.dev",         ".gcr.io",    "x..gcr.io",           "evilgcr.io",
					  "gcr.io.evil.com", "gcr.io:",    "gcr.io:abc",          "gcr.io:123456",
					  "docker.io",       "[::1]:5000", "pkg.dev.example.com", "" };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(yes); i++)
		ok(ims_google_host(yes[i]), "`%s` is a Google registry", yes[i]);
	for (size_t i = 0; i < IMS_ARRAY_SIZE(no); i++)
		ok(!ims_google_host(no[i]), "`%s` is not a Google registry", no[i]);
	ok(!ims_google_host(NULL), "ims_google_host(NULL) is false");
}

/* ---- service-account files ---- */

/* Writes a key file named name; NULL members are left out. */
static char *write_sa(const char *name, const char *type, const char *email, const char *pemfile, const char *kid,
		      const char *uri)
{
	ims_json *o = ims_json_new_object();
	if (type)
		ims_json_set(o, "type", ims_json_new_string(type));
	ims_json_set(o, "project_id", ims_json_new_string("project-a"));
	if (kid)
		ims_json_set(o, "private_key_id", ims_json_new_string(kid));
	if (pemfile) {
		_cleanup_free_ char *pem = slurp(pemfile);
		ims_json_set(o, "private_key", ims_json_new_string(pem));
	}
	if (email)
		ims_json_set(o, "client_email", ims_json_new_string(email));
	ims_json_set(o, "client_id", ims_json_new_string("1234567890"));
	if (uri)
		ims_json_set(o, "token_uri", ims_json_new_string(uri));
	size_t n;
	_cleanup_free_ char *s = ims_json_encode(o, &n);
	ims_json_free(o);
	char *path = path_in(name);
	write_file(path, s, n);
	return path;
}

/* ---- the token endpoint ---- */

/* A token endpoint, and an ims_google of its own to talk to it. */
typedef struct {
	pid_t pid;
	int port;
	char *log;
	char *uri; /* http://127.0.0.1:PORT/token */
	ims_google *g;
} server;

static bool server_start(server *s, const char *const *flags)
{
	static int seq;
	memset(s, 0, sizeof(*s));
	char *script = xasprintf("%s/auth/google_token_server.py", srcdir);
	char *portfile = xasprintf("%s/port-%d", tmp, seq);
	s->log = xasprintf("%s/log-%d", tmp, seq++);
	const char *fixed[] = { "python3", script,         "--port-file", portfile,         "--log",
				s->log,    "--public-key", pub,           "--client-email", EMAIL };
	char *argv[32];
	size_t n = 0;
	for (size_t i = 0; i < IMS_ARRAY_SIZE(fixed); i++)
		argv[n++] = xstrdup(fixed[i]);
	for (size_t i = 0; flags && flags[i] && n < 31; i++)
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
	if (up) {
		s->uri = xasprintf("http://127.0.0.1:%d/token", s->port);
		ims_google_new(&s->g, http);
	}
	ok(up, "token server starts (python3 with the cryptography module)");
	return up;
}

static void server_stop(server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
	ims_google_free(s->g);
	unlink(s->log);
	free(s->log);
	free(s->uri);
}

/* The requests the server saw, one parsed JSON line each. */
static ims_json **server_log(const server *s, size_t *n)
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

static size_t requests(const server *s)
{
	size_t n;
	ims_json **v = server_log(s, &n);
	log_free(v, n);
	return n;
}

/* Member key of the last request, encoded as JSON ("\"x\"", "true", "null"). */
static char *last(const server *s, const char *key)
{
	size_t n;
	ims_json **v = server_log(s, &n);
	const ims_json *f = n ? ims_json_get(v[n - 1], key) : NULL;
	char *r = f ? ims_json_encode(f, NULL) : xstrdup("(absent)");
	log_free(v, n);
	return r;
}

#define is_last(s, key, want, ...)               \
	do {                                     \
		char *_v = last((s), (key));     \
		is_str(_v, (want), __VA_ARGS__); \
		free(_v);                        \
	} while (0)

static int creds(ims_google *g, const char *path, ims_credentials *c, ims_error **e)
{
	int rc = ims_google_credentials(g, path, c, e);
	keep(*e);
	return rc;
}

static void test_exchange(void)
{
	const char *flags[] = { "--delay", "0.1", NULL };
	server s;
	if (!server_start(&s, flags))
		return;
	ims_credentials c;
	ims_error *e = NULL;

	_cleanup_free_ char *sa = write_sa("sa.json", "service_account", EMAIL, key8, KID, s.uri);
	is_int(creds(s.g, sa, &c, &e), 0, "credentials from a service-account file");
	is_str(c.username, "oauth2accesstoken", "username oauth2accesstoken");
	is_str(c.password, "ya29.test-1", "password is the access token");
	ok(!c.token && !c.identity_token, "no bearer or identity token");
	_cleanup_free_ char *source = xasprintf("service account `%s`", sa);
	is_str(c.source, source, "source names the key file");
	ims_credentials_dispose(&c);
	is_int(requests(&s), 1, "one request to the token endpoint");
	is_last(&s, "verified", "true", "the server verified the RS256 signature with the public key");
	is_last(&s, "status", "200", "and granted a token");
	is_last(&s, "path", "\"/token\"", "POST to the token_uri's path");
	is_last(&s, "content_type", "\"application/x-www-form-urlencoded\"", "form content type");
	is_last(&s, "grant_type", "\"urn:ietf:params:oauth:grant-type:jwt-bearer\"", "jwt-bearer grant");
	is_last(&s, "form_keys", "[\"assertion\",\"grant_type\"]", "the form has grant_type and assertion only");
	is_last(&s, "authorization", "false", "no Authorization header");
	is_last(&s, "header_keys", "[\"alg\",\"kid\",\"typ\"]", "JWT header alg, typ, kid");
	is_last(&s, "kid", "\"" KID "\"", "kid is private_key_id");
	is_last(&s, "iss", "\"" EMAIL "\"", "iss is client_email");
	_cleanup_free_ char *aud = xasprintf("\"%s\"", s.uri);
	is_last(&s, "aud", aud, "aud is token_uri");
	is_last(&s, "scope", "\"https://www.googleapis.com/auth/cloud-platform\"", "cloud-platform scope");
	is_last(&s, "lifetime", "3600", "exp is iat + 3600");

	/* The cache. */
	is_int(creds(s.g, sa, &c, &e), 0, "second call");
	is_str(c.password, "ya29.test-1", "second call gets the cached token");
	ims_credentials_dispose(&c);
	is_int(requests(&s), 1, "two calls, one request");

	/* PKCS#1, no private_key_id: another path, another token. */
	_cleanup_free_ char *sa1 = write_sa("sa1.json", "service_account", EMAIL, key1, NULL, s.uri);
	is_int(creds(s.g, sa1, &c, &e), 0, "credentials with a PKCS#1 key");
	is_str(c.password, "ya29.test-2", "a key file of its own gets a token of its own");
	ims_credentials_dispose(&c);
	is_last(&s, "verified", "true", "PKCS#1 signature verified");
	is_last(&s, "header_keys", "[\"alg\",\"typ\"]", "no kid without private_key_id");

	/* No state outside the object. */
	ims_google *g2 = NULL;
	ims_google_new(&g2, http);
	is_int(creds(g2, sa, &c, &e), 0, "a second ims_google");
	is_str(c.password, "ya29.test-3", "has a cache of its own");
	ims_credentials_dispose(&c);
	ims_google_free(g2);

	/* localhost is loopback too. */
	_cleanup_free_ char *luri = xasprintf("http://localhost:%d/token", s.port);
	_cleanup_free_ char *sal = write_sa("sal.json", "service_account", EMAIL, key8, KID, luri);
	is_int(creds(s.g, sal, &c, &e), 0, "plain http to localhost is allowed");
	ims_credentials_dispose(&c);
	_cleanup_free_ char *laud = xasprintf("\"%s\"", luri);
	is_last(&s, "aud", laud, "aud follows token_uri");

	/* A key that is not the account's: the endpoint refuses it. */
	size_t before = requests(&s);
	_cleanup_free_ char *bad = write_sa("tampered.json", "service_account", EMAIL, other, KID, s.uri);
	is_int(creds(s.g, bad, &c, &e), IMS_EAUTH, "another key is refused: IMS_EAUTH");
	ok(c.password == NULL && c.username == NULL, "no credentials on failure");
	ok(e && e->http_status == 400, "http_status 400");
	ok(e && has(e->message, bad), "the message names the key file");
	ok(e && has(e->message, "the token endpoint refused service account `" EMAIL "`"), "and the account");
	ok(e && has(e->message, "invalid_grant"), "and the OAuth2 error code");
	ok(e && !has(e->message, "Invalid JWT Signature"), "but not the server's free text");
	ok(e && !leaks(e->message) && !leaks(e->hint), "and no key, assertion or token");
	ims_error_clear(&e);
	is_int(requests(&s), before + 1, "the refused assertion reached the server");
	is_last(&s, "verified", "false", "whose signature check failed");
	is_last(&s, "reason", "\"Invalid JWT Signature.\"", "for the signature");
	is_int(creds(s.g, bad, &c, &e), IMS_EAUTH, "a refusal is not cached");
	ims_error_clear(&e);
	is_int(requests(&s), before + 2, "the second try asked again");

	ims_google_free(NULL);
	server_stop(&s);
}

/* ---- threads ---- */

typedef struct {
	ims_google *g;
	const char *path;
	int rc;
	char *password;
} job;

static void *run_job(void *p)
{
	job *j = p;
	ims_credentials c;
	ims_error *e = NULL;
	j->rc = ims_google_credentials(j->g, j->path, &c, &e);
	if (j->rc == 0)
		j->password = xstrdup(c.password);
	ims_credentials_dispose(&c);
	ims_error_free(e);
	return NULL;
}

static void test_threads(void)
{
	const char *flags[] = { "--delay", "0.3", NULL };
	server s;
	if (!server_start(&s, flags))
		return;
	_cleanup_free_ char *sa = write_sa("threads.json", "service_account", EMAIL, key8, KID, s.uri);
	enum { N = 8 };
	job jobs[N];
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		jobs[i] = (job){ .g = s.g, .path = sa };
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
	}
	int good = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		good += jobs[i].rc == 0 && jobs[i].password && !strcmp(jobs[i].password, "ya29.test-1");
		free(jobs[i].password);
	}
	is_int(good, N, "%d threads at once all get the token", N);
	is_int(requests(&s), 1, "%d threads at once cause one request", N);
	server_stop(&s);
}

/* ---- expiry ---- */

static void test_expiry(void)
{
	/* Tokens with 60 s or less left are renewed. The clock is moved on by
	 * the test (ims_google__advance), so no window depends on the load. */
	const char *f90[] = { "--expires-in", "90", NULL };
	server s;
	ims_credentials c;
	ims_error *e = NULL;
	if (server_start(&s, f90)) {
		_cleanup_free_ char *sa = write_sa("exp90.json", "service_account", EMAIL, key8, KID, s.uri);
		is_int(creds(s.g, sa, &c, &e), 0, "expires_in 90: first call");
		ims_credentials_dispose(&c);
		is_int(creds(s.g, sa, &c, &e), 0, "expires_in 90: a second call at once");
		is_str(c.password, "ya29.test-1", "is served from the cache (30 s above the margin are left)");
		ims_credentials_dispose(&c);
		is_int(requests(&s), 1, "one request so far");
		ims_google__advance(s.g, 31);
		is_int(creds(s.g, sa, &c, &e), 0, "expires_in 90: a call 31 s later");
		is_str(c.password, "ya29.test-2", "gets a new token: less than 60 s were left");
		ims_credentials_dispose(&c);
		is_int(requests(&s), 2, "two requests");
		server_stop(&s);
	}

	const char *f60[] = { "--expires-in", "60", NULL };
	if (server_start(&s, f60)) {
		_cleanup_free_ char *sa = write_sa("exp60.json", "service_account", EMAIL, key8, KID, s.uri);
		is_int(creds(s.g, sa, &c, &e), 0, "expires_in 60: first call");
		ims_credentials_dispose(&c);
		is_int(creds(s.g, sa, &c, &e), 0, "expires_in 60: second call");
		is_str(c.password, "ya29.test-2", "a token inside the margin is used once, never cached");
		ims_credentials_dispose(&c);
		is_int(requests(&s), 2, "two calls, two requests");
		server_stop(&s);
	}
}

/* ---- refusals and failures of the endpoint ---- */

static void endpoint_status(const char *status, int code)
{
	const char *flags[] = { "--status", status, NULL };
	server s;
	if (!server_start(&s, flags))
		return;
	ims_credentials c;
	ims_error *e = NULL;
	_cleanup_free_ char *sa = write_sa("status.json", "service_account", EMAIL, key8, KID, s.uri);
	is_int(creds(s.g, sa, &c, &e), code, "HTTP %s from the token endpoint", status);
	ok(e && e->http_status == atol(status), "http_status %s", status);
	ok(e && has(e->message, sa) && has(e->message, EMAIL), "the message names the file and the account");
	ims_error_clear(&e);
	server_stop(&s);
}

static void test_network(void)
{
	ims_google *g = NULL;
	ims_google_new(&g, http);
	ims_credentials c;
	ims_error *e = NULL;
	/* Loopback, so allowed over http; nothing listens on port 1. */
	_cleanup_free_ char *sa = write_sa("down.json", "service_account", EMAIL, key8, KID,
					   "http://127.0.0.1:1/token");
	is_int(creds(g, sa, &c, &e), IMS_ENET, "no token endpoint: IMS_ENET");
	ok(e && has(e->message, sa), "the network error names the key file");
	ims_error_clear(&e);
	ims_google_free(g);
}

/* ---- bad key files: refused before any request ---- */

static void bad_file(const server *s, const char *path, int code, const char *needle, const char *what)
{
	ims_credentials c;
	ims_error *e = NULL;
	size_t before = requests(s);
	is_int(creds(s->g, path, &c, &e), code, "%s: refused", what);
	ok(e && has(e->message, path), "%s: the message names the file", what);
	ok(e && has(e->message, needle), "%s: the message says `%s`", what, needle);
	is_int(requests(s), before, "%s: no request", what);
	ims_error_free(e);
}

static void test_bad_files(void)
{
	server s;
	if (!server_start(&s, NULL))
		return;
	char *p;

	p = path_in("notjson.json");
	write_file(p, "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN", 54);
	bad_file(&s, p, IMS_EINVALID, "is not a JSON object", "truncated JSON");
	free(p);
	p = path_in("array.json");
	write_file(p, "[1, 2]", 6);
	bad_file(&s, p, IMS_EINVALID, "is not a JSON object", "a JSON array");
	free(p);
	p = write_sa("user.json", "authorized_user", EMAIL, key8, KID, s.uri);
	bad_file(&s, p, IMS_EINVALID, "`type` is `authorized_user`, not `service_account`", "a user credentials file");
	free(p);
	p = write_sa("notype.json", NULL, EMAIL, key8, KID, s.uri);
	bad_file(&s, p, IMS_EINVALID, "`type`", "no type");
	free(p);
	p = write_sa("nokey.json", "service_account", EMAIL, NULL, KID, s.uri);
	bad_file(&s, p, IMS_EINVALID, "`private_key` is missing", "no private_key");
	free(p);
	p = path_in("numkey.json");
	_cleanup_free_ char *numkey =
		xasprintf("{\"type\":\"service_account\",\"client_email\":\"%s\",\"private_key\":5}", EMAIL);
	write_file(p, numkey, strlen(numkey));
	bad_file(&s, p, IMS_EINVALID, "`private_key` must be a string", "a private_key that is a number");
	free(p);
	p = write_sa("noemail.json", "service_account", NULL, key8, KID, s.uri);
	bad_file(&s, p, IMS_EINVALID, "`client_email` is missing", "no client_email");
	free(p);
	p = write_sa("ec.json", "service_account", EMAIL, eckey, KID, s.uri);
	bad_file(&s, p, IMS_EINVALID, "`private_key`: the private key is not an RSA key", "an EC key");
	free(p);
	p = write_sa("enc.json", "service_account", EMAIL, enckey, KID, s.uri);
	bad_file(&s, p, IMS_EINVALID, "`private_key`: the private key is encrypted", "an encrypted key");
	free(p);

	/* token_uri: https, or http to loopback only. */
	p = write_sa("far.json", "service_account", EMAIL, key8, KID, "http://192.0.2.1/token");
	bad_file(&s, p, IMS_EINVALID, "`token_uri` `http://192.0.2.1:80` must use https", "http to another host");
	free(p);
	p = write_sa("name.json", "service_account", EMAIL, key8, KID, "http://oauth2.googleapis.com/token?x=secret");
	bad_file(&s, p, IMS_EINVALID, "`token_uri`", "http to a name");
	free(p);
	p = write_sa("ftp.json", "service_account", EMAIL, key8, KID, "ftp://127.0.0.1/token");
	bad_file(&s, p, IMS_EINVALID, "`token_uri` is not an http(s) URL", "an ftp token_uri");
	free(p);

	/* The file itself. */
	p = path_in("missing.json");
	bad_file(&s, p, IMS_ENOTFOUND, "service account key file", "a missing file");
	free(p);
	bad_file(&s, tmp, IMS_EINVALID, "is not a regular file", "a directory");
	p = path_in("fifo");
	mkfifo(p, 0600);
	bad_file(&s, p, IMS_EINVALID, "is not a regular file", "a FIFO");
	unlink(p);
	free(p);
	p = path_in("huge.json");
	char *huge = xmalloc(70 * 1024);
	memset(huge, ' ', 70 * 1024);
	huge[0] = '{';
	huge[70 * 1024 - 1] = '}';
	write_file(p, huge, 70 * 1024);
	free(huge);
	bad_file(&s, p, IMS_EINVALID, "larger than the limit", "a file over 64 KiB");
	free(p);

	server_stop(&s);
}

/* ---- fixtures ---- */

static bool make_keys(void)
{
	strcpy(tmp, "/tmp/test-google-XXXXXX");
	if (!mkdtemp(tmp))
		return false;
	key8 = path_in("key.pem");
	key1 = path_in("key1.pem");
	pub = path_in("pub.pem");
	other = path_in("other.pem");
	other_pub = path_in("other-pub.pem");
	eckey = path_in("ec.pem");
	enckey = path_in("enc.pem");
	const char *q = ">/dev/null 2>&1";
	bool made = sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s %s", key8, q) == 0 &&
		    sh("openssl pkey -in %s -pubout -out %s %s", key8, pub, q) == 0 &&
		    sh("openssl pkey -in %s -traditional -out %s %s", key8, key1, q) == 0 &&
		    sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s %s", other, q) == 0 &&
		    sh("openssl pkey -in %s -pubout -out %s %s", other, other_pub, q) == 0 &&
		    sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s %s", eckey, q) == 0 &&
		    sh("openssl pkey -in %s -aes256 -passout pass:secret -out %s %s", key8, enckey, q) == 0;
	if (made)
		key8_pem = slurp(key8);
	return made;
}

int main(void)
{
	/* An ambient proxy must not capture loopback traffic. */
	setenv("NO_PROXY", "127.0.0.1,localhost,::1", 1);
	setenv("no_proxy", "127.0.0.1,localhost,::1", 1);

	if (!make_keys()) {
		ok(0, "openssl makes the test keys");
		return tap_done();
	}
	ok(has(key8_pem, "-----BEGIN PRIVATE KEY-----"), "the PKCS#8 fixture is PKCS#8");
	test_base64url();
	test_sign();
	test_host();

	ims_http_global_init();
	ims_http_options o = { .max_attempts = 1, .connect_timeout = 5 };
	ims_error *e = NULL;
	if (ims_http_new(&http, &o, &e) < 0) {
		ok(0, "ims_http_new: %s", e->message);
		return tap_done();
	}
	test_exchange();
	test_threads();
	test_expiry();
	endpoint_status("403", IMS_EAUTH);
	endpoint_status("401", IMS_EAUTH);
	endpoint_status("500", IMS_EGENERIC);
	test_network();
	test_bad_files();
	ims_http_free(http);
	ims_http_global_cleanup();

	bool clean = true;
	for (size_t i = 0; i < nmessages; i++) {
		if (leaks(messages[i])) {
			printf("# leaked: %s\n", messages[i]);
			clean = false;
		}
		free(messages[i]);
	}
	free(messages);
	ok(clean, "no error message holds key material, an assertion or a token (%zu messages)", nmessages);

	sh("rm -rf %s", tmp);
	free(key8_pem);
	free(key8);
	free(key1);
	free(pub);
	free(other);
	free(other_pub);
	free(eckey);
	free(enckey);
	return tap_done();
}
