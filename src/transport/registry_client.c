/* The registry client's core: the scheme decision and the request loop that
 * answers authentication challenges. The operations live in
 * registry_manifest.c, registry_tags.c, registry_blob.c and
 * registry_upload.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ref/ref.h"
#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int ims_registry_new(ims_registry **out, ims_http *http, ims_auth *auth, const char *host, ims_error **err)
{
	if (!host || !*host || strlen(host) > 255 || strpbrk(host, "/?#@ \t\r\n"))
		return ims_error_set(err, IMS_EINVALID, "invalid registry host `%s`", host ? host : "");
	ims_registry *r = xcalloc(1, sizeof(*r));
	r->http = http;
	r->auth = auth;
	r->host = xstrdup(host);
	/* Docker Hub's name in references is not where its API lives. */
	r->api_host = xstrdup(strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" : host);
	r->loopback = ims_ref_host_is_loopback(r->api_host);
	r->insecure = r->loopback || ims_http_host_insecure(http, r->api_host);
	r->stream_piece = IMS_REGISTRY_STREAM_PIECE;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void ims_registry_free(ims_registry *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r->api_host);
	free(r->base);
	free(r->origin);
	free(r);
}

const char *ims_registry_host(const ims_registry *r)
{
	return r->host;
}

/* req (or, with req NULL, GET /v2/) to scheme://host/v2/path without
 * credentials, its answer in resp: any answer means the scheme works. */
static int probe(ims_registry *r, const char *scheme, ims_http_request *req, const char *path,
		 ims_http_response *resp, ims_error **err)
{
	_cleanup_free_ char *url = xasprintf("%s://%s/v2/%s", scheme, r->api_host, path ? path : "");
	ims_http_request ping = IMS_HTTP_REQUEST_INIT;
	if (!req) {
		ping.method = "GET";
		req = &ping;
	}
	req->url = url;
	req->authorization = NULL;
	memset(resp, 0, sizeof(*resp));
	int rc = ims_http_do(r->http, req, resp, err);
	req->url = NULL;
	return rc;
}

static void set_base(ims_registry *r, const char *scheme, long ping_status)
{
	r->base = xasprintf("%s://%s", scheme, r->api_host);
	r->origin = ims_http_origin(r->base);
	if (!r->origin)
		r->origin = xstrdup(r->base);
	r->ping_status = ping_status;
}

/* Under r->lock. The scheme, decided by req to path (GET /v2/ when req is
 * NULL) sent over https, then over plain http for loopback or insecure
 * hosts that do not speak TLS; req's answer is left in resp (disposed
 * when req is NULL). */
static int decide_scheme(ims_registry *r, ims_http_request *req, const char *path, ims_http_response *resp,
			 ims_error **err)
{
	ims_http_response own = { 0 };
	if (!req)
		resp = &own;
	ims_error *tls_err = NULL;
	int rc = probe(r, "https", req, path, resp, &tls_err);
	if (rc == 0) {
		set_base(r, "https", req ? 0 : resp->status);
		ims_http_response_dispose(&own);
		return 0;
	}
	ims_http_failure failure = resp->failure;
	ims_http_response_dispose(resp);
	/* Plain HTTP only when the server does not speak TLS at all; a
	 * certificate that fails verification is an attack or a missing CA,
	 * and falling back would hide it. */
	if (failure != IMS_HTTP_FAIL_TLS || !r->insecure) {
		if (err && !*err)
			*err = tls_err;
		else
			ims_error_free(tls_err);
		resp->failure = failure;
		return ims_error_wrap(err, "connect to registry `%s`", r->host);
	}
	ims_error *http_err = NULL;
	rc = probe(r, "http", req, path, resp, &http_err);
	if (rc == 0) {
		ims_error_free(tls_err);
		set_base(r, "http", req ? 0 : resp->status);
		ims_http_response_dispose(&own);
		return 0;
	}
	long status = resp->status;
	failure = resp->failure;
	ims_http_response_dispose(resp);
	resp->failure = failure;
	if (status && http_err) {
		/* The server answers plain HTTP (a status line came), badly:
		 * the https attempt is beside the point. */
		ims_error_free(tls_err);
		if (err && !*err)
			*err = http_err;
		else
			ims_error_free(http_err);
		return ims_error_wrap(err, "connect to registry `%s`", r->host);
	}
	ims_error_set(err, rc, "connect to registry `%s`: over https: %s; over http: %s", r->host,
		      tls_err ? tls_err->message : "failed", http_err ? http_err->message : "failed");
	ims_error_free(tls_err);
	ims_error_free(http_err);
	return rc;
}

int ims_registry__connect(ims_registry *r, ims_error **err)
{
	pthread_mutex_lock(&r->lock);
	int rc = r->base ? 0 : decide_scheme(r, NULL, NULL, NULL, err);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int ims_registry_ping(ims_registry *r, ims_error **err)
{
	int rc = ims_registry__connect(r, err);
	if (rc < 0)
		return rc;
	if (!r->ping_status) {
		/* the scheme was decided by another request: ask /v2/ itself */
		_cleanup_free_ char *url = xasprintf("%s/v2/", r->base);
		ims_http_request req = IMS_HTTP_REQUEST_INIT;
		req.method = "GET";
		req.url = url;
		ims_http_response resp = { 0 };
		if ((rc = ims_http_do(r->http, &req, &resp, err)) < 0)
			return ims_error_wrap(err, "connect to registry `%s`", r->host);
		r->ping_status = resp.status;
		ims_http_response_dispose(&resp);
	}
	if (r->ping_status == 200 || r->ping_status == 401)
		return 0;
	return ims_error_set(err, IMS_EGENERIC,
			     "registry `%s` does not speak the distribution API: GET /v2/ answered %ld", r->host,
			     r->ping_status);
}

void ims_registry__call_init(ims_registry_call *c, const ims_registry *r, const char *repo, bool push, const char *from,
			     const char *fmt, ...)
{
	memset(c, 0, sizeof(*c));
	va_list ap;
	va_start(ap, fmt);
	c->what = xvasprintf(fmt, ap);
	va_end(ap);
	c->repo = repo;
	c->scopes[c->nscopes++] = xasprintf("repository:%s:%s", repo, push ? "pull,push" : "pull");
	if (from)
		c->scopes[c->nscopes++] = xasprintf("repository:%s:pull", from);
}

void ims_registry__call_dispose(ims_registry_call *c)
{
	free(c->what);
	for (size_t i = 0; i < c->nscopes; i++)
		free(c->scopes[i]);
	memset(c, 0, sizeof(*c));
}

/* True when url belongs to the registry's own origin: only then may the
 * registry's credentials travel with it. */
static bool same_origin(const ims_registry *r, const char *url)
{
	_cleanup_free_ char *o = ims_http_origin(url);
	return o && strcmp(o, r->origin) == 0;
}

/* Answers the challenge in resp with a header for c's scopes. */
static int answer(ims_registry *r, const ims_registry_call *c, const ims_http_response *resp, int renew, char **authz,
		  ims_error **err)
{
	const char *value = ims_http_header(resp, "www-authenticate");
	if (!value)
		return ims_registry__fail(c, resp, err);
	ims_challenge ch = { 0 };
	int rc = ims_challenge_parse(value, &ch, err);
	if (rc < 0) {
		/* The registry's header, not the user's input: a registry fault. */
		rc = ims_registry__not_spec(err,
					    ims_error_wrap(err, "%s: registry answered %ld", c->what, resp->status));
		ims_challenge_dispose(&ch);
		return rc;
	}
	free(*authz);
	*authz = NULL;
	rc = ims_auth_header(r->auth, r->origin, r->host, c->repo, &ch, (const char *const *)c->scopes, c->nscopes,
			     renew, authz, err);
	ims_challenge_dispose(&ch);
	if (rc < 0) {
		/* A refusal: what the registry said belongs in the message too.
		 * Anything else (a credential helper that is missing or broken, a
		 * bad key file) is not the registry's answer: say only what failed. */
		if (rc != IMS_EAUTH)
			return ims_error_wrap(err, "%s", c->what);
		_cleanup_free_ char *d = ims_registry__detail(resp);
		ims_error_wrap(err, "%s: registry answered %ld%s", c->what, resp->status, d);
		if (err && *err && !(*err)->http_status)
			(*err)->http_status = resp->status;
		return rc;
	}
	return 0;
}

static bool basic_challenge(const ims_http_response *resp)
{
	const char *v = ims_http_header(resp, "www-authenticate");
	while (v && (*v == ' ' || *v == '\t'))
		v++;
	return v && !strncasecmp(v, "basic", 5) && (v[5] == ' ' || v[5] == '\0');
}

/* The request loop of ims_registry__send. With answered, req was sent
 * once already, without credentials, and resp holds its answer. */
static int exchange(ims_registry *r, const ims_registry_call *c, ims_http_request *req, ims_http_response *resp,
		    bool answered, ims_error **err)
{
	int rc = 0;
	bool ours = same_origin(r, req->url);
	char *authz = NULL;
	if (ours && r->auth && !answered)
		authz = ims_auth_cached(r->auth, r->origin, (const char *const *)c->scopes, c->nscopes);
	bool cached = authz != NULL; /* a cached value that gets a 401 is stale */
	if (!req->permanent)
		req->permanent = ims_registry__permanent;
	for (int round = 0;; round++) {
		if (round > 0 || !answered) {
			req->authorization = authz;
			memset(resp, 0, sizeof(*resp));
			rc = ims_http_do(r->http, req, resp, err);
			if (rc < 0) {
				ims_http_failure why = resp->failure; /* the caller may ask */
				ims_http_response_dispose(resp);
				resp->failure = why;
				ims_error_wrap(err, "%s", c->what);
				break;
			}
		}
		/* A 401 from elsewhere (a redirect target) never gets the
		 * registry's credentials; a streamed body cannot be sent again. */
		if (resp->status != 401 || !ours || !r->auth || req->body_reader || round == 3)
			break;
		if (resp->url && !same_origin(r, resp->url))
			break;
		/* A 401 to a value that worked before (cached) is stale: a new
		 * token, or the same Basic credentials once more (a load balancer
		 * or a server that lost its session). Basic credentials just given
		 * are presented once more as well before they count as refused. */
		bool basic = basic_challenge(resp);
		int mode = round == 0                       ? (cached ? IMS_AUTH_STALE : 0)
			   : round == 1 && basic && !cached ? IMS_AUTH_STALE
							    : IMS_AUTH_REFUSED;
		if (mode == IMS_AUTH_REFUSED && !basic && round == 2)
			break;
		rc = answer(r, c, resp, mode, &authz, err);
		if (rc < 0) {
			ims_http_response_dispose(resp);
			break;
		}
		ims_http_response_dispose(resp);
	}
	req->authorization = NULL;
	free(authz);
	return rc;
}

int ims_registry__send(ims_registry *r, const ims_registry_call *c, ims_http_request *req, ims_http_response *resp,
		       ims_error **err)
{
	int rc = ims_registry__connect(r, err);
	if (rc < 0)
		return rc;
	return exchange(r, c, req, resp, false, err);
}

int ims_registry__send_path(ims_registry *r, const ims_registry_call *c, ims_http_request *req, ims_http_response *resp,
			    ims_error **err, const char *fmt, ...)
{
	memset(resp, 0, sizeof(*resp));
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *path = xvasprintf(fmt, ap);
	va_end(ap);
	/* The first request to a registry decides its scheme itself, instead
	 * of a GET /v2/ before it: one round trip fewer per registry a build
	 * talks to (containerd asks no /v2/ either). Not one with a streamed
	 * body, which could not be sent again over plain http. */
	bool answered = false;
	int rc = 0;
	if (!req->body_reader) {
		pthread_mutex_lock(&r->lock);
		if (!r->base) {
			if (!req->permanent)
				req->permanent = ims_registry__permanent;
			rc = decide_scheme(r, req, path, resp, err);
			answered = rc == 0;
		}
		pthread_mutex_unlock(&r->lock);
	} else {
		rc = ims_registry__connect(r, err);
	}
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = xasprintf("%s/v2/%s", r->base, path);
	req->url = url;
	rc = exchange(r, c, req, resp, answered, err);
	req->url = NULL;
	return rc;
}
