/* Google service accounts (RFC 7523, as Google's OAuth2 for server to
 * server applications uses it):
 *
 *   1. read the key file: {"type": "service_account", "client_email",
 *      "private_key" (PEM), "private_key_id", "token_uri"};
 *   2. sign a JWT, {"alg":"RS256","typ":"JWT","kid":id} .
 *      {"iss": email, "scope": cloud-platform, "aud": token_uri, "iat",
 *      "exp": iat + 3600}, with the private key;
 *   3. POST grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&
 *      assertion=JWT to token_uri, which answers {"access_token",
 *      "expires_in", "token_type": "Bearer"};
 *   4. registries take the token as the password of "oauth2accesstoken".
 *
 * The private key, the assertion (a bearer credential for an hour) and the
 * token are secrets: no message holds them, and their buffers are wiped
 * before they are freed. The key file is trusted, so its token_uri is used
 * as it is; only plain HTTP to anything but loopback is refused, since the
 * assertion would cross the network in clear. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/auth_int.h"
#include "auth/google.h"
#include "digest/base64.h"
#include "digest/digest.h"
#include "json/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define KEY_FILE_MAX (64 * 1024)
#define DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define USERNAME "oauth2accesstoken"
/* Google refuses assertions that live longer than an hour. */
#define ASSERTION_LIFETIME 3600
/* A token with less than this left is renewed: a push of large layers
 * that starts with it would end with a 401. */
#define RENEW_MARGIN 60.0
#define GRANT "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
#define EMAIL_MAX 320

typedef struct entry {
	struct entry *next;
	char *path;
	/* Held during a fetch, so that threads asking for the same key file
	 * at once cause one request; other key files are not held up. */
	pthread_mutex_t fetch;
	char *token;    /* a secret; under fetch */
	double expires; /* monotonic seconds; under fetch */
} entry;

struct ims_google {
	ims_http *http;
	pthread_mutex_t lock; /* the list; entries live until ims_google_free */
	entry *head;
	double skew; /* seconds added to the clock: tests move time on (ims_google__advance) */
};

/* The fields of a key file that are used. */
typedef struct {
	const char *path;
	char *what; /* "service account key file `PATH`", for messages */
	char *email;
	char *key; /* PEM; a secret */
	char *key_id;
	char *token_uri;
} sa_key;

static bool has_suffix_ci(const char *s, size_t n, const char *sfx)
{
	size_t l = strlen(sfx);
	/* At least one label before the suffix: "evilgcr.io" is not ".gcr.io". */
	return n > l && s[n - l - 1] != '.' && strncasecmp(s + n - l, sfx, l) == 0;
}

bool ims_google_host(const char *registry)
{
	if (!registry)
		return false;
	size_t n = strcspn(registry, ":/");
	const char *p = registry + n;
	if (*p == ':') {
		size_t d = strspn(p + 1, "0123456789");
		if (d == 0 || d > 5 || (p[1 + d] && p[1 + d] != '/'))
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = registry[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && !(c == '.' && i > 0 && registry[i - 1] != '.'))
			return false;
	}
	/* A trailing dot names the same host. */
	if (n > 1 && registry[n - 1] == '.')
		n--;
	if (n == 6 && strncasecmp(registry, "gcr.io", 6) == 0)
		return true;
	return has_suffix_ci(registry, n, ".gcr.io") || has_suffix_ci(registry, n, ".pkg.dev");
}

int ims_google_new(ims_google **out, ims_http *http)
{
	ims_google *g = xcalloc(1, sizeof(*g));
	g->http = http;
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

void ims_google_free(ims_google *g)
{
	if (!g)
		return;
	for (entry *e = g->head, *next; e; e = next) {
		next = e->next;
		free(e->path);
		ims_auth__free_secret(e->token);
		pthread_mutex_destroy(&e->fetch);
		free(e);
	}
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static double now(const ims_google *g)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + g->skew;
}

void ims_google__advance(ims_google *g, double seconds)
{
	pthread_mutex_lock(&g->lock);
	g->skew += seconds;
	pthread_mutex_unlock(&g->lock);
}

/* ---- the key file ---- */

static void sa_key_dispose(sa_key *k)
{
	free(k->what);
	free(k->email);
	ims_auth__free_secret(k->key);
	free(k->key_id);
	free(k->token_uri);
}

static bool printable(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0 && n <= max;
}

static int check_type(const sa_key *k, const ims_json *o, ims_error **err)
{
	const ims_json *t = ims_json_get(o, "type");
	if (t && t->type == IMS_JSON_STRING && strcmp(t->s, "service_account") == 0)
		return 0;
	/* Showing what it is tells a gcloud user key ("authorized_user") or
	 * a workload identity file ("external_account") from a typo. */
	if (t && t->type == IMS_JSON_STRING && printable(t->s, 64))
		return ims_error_set(err, IMS_EINVALID, "%s: `type` is `%s`, not `service_account`", k->what, t->s);
	return ims_error_set(err, IMS_EINVALID, "%s: `type` must be `service_account`", k->what);
}

static int required(char **out, const sa_key *k, const ims_json *o, const char *field, ims_error **err)
{
	int rc = ims_json_opt_string(out, o, field, k->what, err);
	if (rc == 0 && (!*out || !**out))
		rc = ims_error_set(err, IMS_EINVALID, "%s: `%s` is missing or empty", k->what, field);
	return rc;
}

static int check_token_uri(const sa_key *k, ims_error **err)
{
	ims_url_parts u;
	if (!ims_auth__url_split(k->token_uri, &u))
		return ims_error_set(err, IMS_EINVALID, "%s: `token_uri` is not an http(s) URL", k->what);
	bool ok = u.https || ims_auth__host_class(u.host) == IMS_HOST_LOOPBACK;
	/* Only scheme, host and port: a query could carry anything. */
	_cleanup_free_ char *shown = ims_auth__url_display(&u);
	ims_auth__url_parts_dispose(&u);
	if (!ok)
		return ims_error_set(err, IMS_EINVALID,
				     "%s: `token_uri` `%s` must use https (plain http only to a loopback address)",
				     k->what, shown);
	return 0;
}

static int key_fields(sa_key *k, const ims_json *o, ims_error **err)
{
	int rc;
	if ((rc = check_type(k, o, err)) < 0 || (rc = required(&k->email, k, o, "client_email", err)) < 0 ||
	    (rc = required(&k->key, k, o, "private_key", err)) < 0 ||
	    (rc = ims_json_opt_string(&k->key_id, o, "private_key_id", k->what, err)) < 0 ||
	    (rc = ims_json_opt_string(&k->token_uri, o, "token_uri", k->what, err)) < 0)
		return rc;
	/* The email goes into every message about this account. */
	if (!printable(k->email, EMAIL_MAX))
		return ims_error_set(err, IMS_EINVALID, "%s: `client_email` is not an email address", k->what);
	if (!k->token_uri || !*k->token_uri) {
		free(k->token_uri);
		k->token_uri = xstrdup(DEFAULT_TOKEN_URI);
	}
	return check_token_uri(k, err);
}

static int key_read(sa_key *k, const char *path, ims_error **err)
{
	char *data = NULL;
	size_t len = 0;
	memset(k, 0, sizeof(*k));
	k->path = path;
	k->what = xasprintf("service account key file `%s`", path);
	int rc = ims_read_file(path, KEY_FILE_MAX, &data, &len, err);
	if (rc < 0)
		return ims_error_wrap(err, "read the service account key file");
	ims_json_limits lim = { .max_bytes = KEY_FILE_MAX, .max_depth = 8, .max_items = 1000 };
	ims_json *o = NULL;
	ims_error *perr = NULL;
	/* The parser's message may quote the text near the error, which
	 * could be the key: it is dropped. */
	if (ims_json_parse(&o, data, len, &lim, &perr) < 0 || o->type != IMS_JSON_OBJECT) {
		ims_error_free(perr);
		rc = ims_error_set(err, IMS_EINVALID, "%s is not a JSON object", k->what);
	} else {
		rc = key_fields(k, o, err);
	}
	ims_json *pk = ims_json_get(o, "private_key");
	if (pk && pk->type == IMS_JSON_STRING && pk->s)
		explicit_bzero(pk->s, pk->slen);
	ims_json_free(o);
	explicit_bzero(data, len);
	free(data);
	return rc;
}

/* ---- the assertion ---- */

/* base64url of the compact JSON of v, which it frees. */
static char *b64_json(ims_json *v)
{
	size_t n;
	_cleanup_free_ char *s = ims_json_encode(v, &n);
	ims_json_free(v);
	return ims_base64url(s, n);
}

/* The whole form body, GRANT + header.claims.signature: assembled in one
 * allocation, so that no stray copy of the assertion is left in the heap
 * by a growing buffer. */
static int make_form(const sa_key *k, char **out, ims_error **err)
{
	int64_t iat = (int64_t)time(NULL);
	ims_json *h = ims_json_new_object(), *c = ims_json_new_object();
	ims_json_set(h, "alg", ims_json_new_string("RS256"));
	ims_json_set(h, "typ", ims_json_new_string("JWT"));
	if (k->key_id && *k->key_id)
		ims_json_set(h, "kid", ims_json_new_string(k->key_id));
	ims_json_set(c, "iss", ims_json_new_string(k->email));
	ims_json_set(c, "scope", ims_json_new_string(SCOPE));
	ims_json_set(c, "aud", ims_json_new_string(k->token_uri));
	ims_json_set(c, "iat", ims_json_new_int(iat));
	ims_json_set(c, "exp", ims_json_new_int(iat + ASSERTION_LIFETIME));
	_cleanup_free_ char *hb = b64_json(h), *cb = b64_json(c);
	_cleanup_free_ char *input = xasprintf("%s.%s", hb, cb);
	unsigned char *sig;
	size_t sig_len;
	int rc = ims_rs256_sign(k->key, strlen(k->key), input, strlen(input), &sig, &sig_len, err);
	if (rc < 0)
		return ims_error_wrap(err, "%s: `private_key`", k->what);
	char *sb = ims_base64url(sig, sig_len);
	explicit_bzero(sig, sig_len);
	free(sig);
	size_t gl = strlen(GRANT), il = strlen(input), sl = strlen(sb);
	char *form = xmalloc(gl + il + 1 + sl + 1);
	memcpy(form, GRANT, gl);
	memcpy(form + gl, input, il);
	form[gl + il] = '.';
	memcpy(form + gl + il + 1, sb, sl + 1);
	ims_auth__free_secret(sb);
	*out = form;
	return 0;
}

/* ---- the token endpoint ---- */

static void wipe_response(ims_http_response *resp)
{
	if (resp->body.data)
		explicit_bzero(resp->body.data, resp->body.len);
	ims_http_response_dispose(resp);
}

/* The OAuth2 `error` code of a refusal ("invalid_grant"), when it is a
 * plain word: the rest of the body is the peer's and stays out of
 * messages (it could echo the assertion). Empty when there is none. */
static void oauth_error(const ims_http_response *resp, char out[65])
{
	ims_json_limits lim = { .max_bytes = IMS_AUTH_TOKEN_BODY_MAX, .max_depth = 16, .max_items = 10000 };
	ims_json *o = NULL;
	ims_error *perr = NULL;
	out[0] = '\0';
	if (ims_json_parse(&o, resp->body.data ? resp->body.data : "", resp->body.len, &lim, &perr) < 0) {
		ims_error_free(perr);
		return;
	}
	const char *e = ims_json_get_string(o, "error");
	if (e && *e && strlen(e) < 65 && strspn(e, "abcdefghijklmnopqrstuvwxyz_") == strlen(e))
		strcpy(out, e);
	ims_json_free(o);
}

static int refused(const sa_key *k, const ims_http_response *resp, ims_error **err)
{
	char code[65];
	oauth_error(resp, code);
	int rc = ims_error_set(err, IMS_EAUTH, "the token endpoint refused service account `%s` from `%s`%s%s%s",
			       k->email, k->path, *code ? " (" : "", code, *code ? ")" : "");
	if (err && *err)
		(*err)->http_status = resp->status;
	ims_error_hint(err,
		       "check that the key has not been deleted or disabled, that the account exists, "
		       "and that the system clock is right");
	return rc;
}

static int fetch(ims_http *http, const sa_key *k, ims_token *tok, ims_error **err)
{
	char *form = NULL;
	int rc = make_form(k, &form, err);
	if (rc < 0)
		return rc;
	static const char *const headers[] = { "Accept: application/json",
					       "Content-Type: application/x-www-form-urlencoded" };
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = k->token_uri;
	req.headers = headers;
	req.nheaders = IMS_ARRAY_SIZE(headers);
	req.body = form;
	req.body_len = strlen(form);
	req.max_body = IMS_AUTH_TOKEN_BODY_MAX;
	ims_http_response resp = { 0 };
	rc = ims_http_do(http, &req, &resp, err);
	ims_auth__free_secret(form);
	ims_url_parts u;
	_cleanup_free_ char *server = NULL;
	if (ims_auth__url_split(k->token_uri, &u)) {
		server = ims_auth__url_display(&u);
		ims_auth__url_parts_dispose(&u);
	}
	if (rc < 0) {
		ims_error_wrap(err, "get an access token for service account `%s` from `%s`", k->email, k->path);
	} else if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
		rc = refused(k, &resp, err);
	} else if (resp.status != 200) {
		rc = ims_error_set(err, IMS_EGENERIC,
				   "the token endpoint `%s` answered HTTP %ld for service account `%s` from `%s`",
				   server, resp.status, k->email, k->path);
		if (err && *err)
			(*err)->http_status = resp.status;
	} else if ((rc = ims_auth__token_parse(resp.body.data, resp.body.len, server, tok, err)) < 0) {
		ims_error_wrap(err, "service account `%s` from `%s`", k->email, k->path);
	}
	wipe_response(&resp);
	return rc;
}

/* ---- the cache ---- */

static entry *entry_get(ims_google *g, const char *path)
{
	pthread_mutex_lock(&g->lock);
	entry *e = g->head;
	while (e && strcmp(e->path, path))
		e = e->next;
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->path = xstrdup(path);
		pthread_mutex_init(&e->fetch, NULL);
		e->next = g->head;
		g->head = e;
	}
	pthread_mutex_unlock(&g->lock);
	return e;
}

static int refresh(ims_google *g, entry *e, const char *path, ims_error **err)
{
	sa_key k;
	ims_token tok;
	/* Counted from before the request: the server's clock started
	 * earlier than our receipt of its answer. */
	double t0 = now(g);
	int rc = key_read(&k, path, err);
	if (rc == 0)
		rc = fetch(g->http, &k, &tok, err);
	sa_key_dispose(&k);
	if (rc < 0)
		return rc;
	ims_auth__free_secret(e->token);
	e->token = tok.token;
	e->expires = t0 + tok.remaining;
	return 0;
}

int ims_google_credentials(ims_google *g, const char *path, ims_credentials *out, ims_error **err)
{
	memset(out, 0, sizeof(*out));
	entry *e = entry_get(g, path);
	int rc = 0;
	pthread_mutex_lock(&e->fetch);
	if (!e->token || e->expires - now(g) <= RENEW_MARGIN)
		rc = refresh(g, e, path, err);
	if (rc == 0) {
		out->username = xstrdup(USERNAME);
		out->password = xstrdup(e->token);
		out->source = xasprintf("service account `%s`", path);
	}
	pthread_mutex_unlock(&e->fetch);
	return rc;
}
