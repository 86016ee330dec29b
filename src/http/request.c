/* ims_http_do: one request, with redirects followed by hand and retries.
 *
 * Redirects are not left to libcurl so that the Authorization header goes
 * only to the origin it was meant for, and never again once a hop has left
 * it (CVE-2024-45336): a registry that 302s a blob to an attacker would
 * otherwise hand over the operator's token. */
#include <string.h>

#include "http/http_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n");
}

static int invalid(ims_error **err, const char *what)
{
	return ims_error_set(err, IMS_EINVALID, "invalid HTTP request: %s", what);
}

static int validate(const ims_http_request *req, ims_error **err)
{
	if (!req->method || !*req->method || !req->url)
		return invalid(err, "no method or URL");
	for (const char *m = req->method; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return invalid(err, "the method is not an upper-case word");
	int nbodies = (req->body != NULL) + (req->body_fd >= 0) + (req->body_reader != NULL);
	if (nbodies > 1)
		return invalid(err, "more than one body (did the caller start from IMS_HTTP_REQUEST_INIT?)");
	if (nbodies && !ims_http__method_has_body(req->method))
		return invalid(err, "a body on a request that takes none");
	if ((!req->body && req->body_len) || req->body_offset < 0 || req->body_fd_len < 0)
		return invalid(err, "bad body size");
	if (has_crlf(req->authorization))
		return invalid(err, "line break in a header");
	for (size_t i = 0; i < req->nheaders; i++)
		if (has_crlf(req->headers[i]))
			return invalid(err, "line break in a header");
	ims_http_url u;
	if (!ims_http__url_parse(req->url, &u)) {
		_cleanup_free_ char *safe = ims_http_redact_url(req->url);
		return ims_error_set(err, IMS_EINVALID, "`%s` is not an http or https URL", safe);
	}
	ims_http__url_dispose(&u);
	return 0;
}

static void reset(ims_http_response *r)
{
	ims_http__headers_clear(r);
	ims_buf_reset(&r->body);
	r->status = 0;
	r->failure = IMS_HTTP_OK;
}

static void trace_try(const ims_http *h, const ims_http_request *req, const char *url, int rc,
		      const ims_http_response *r, const ims_http_try *t, int attempt)
{
	if (!h->trace)
		return;
	_cleanup_free_ char *safe = ims_http_redact_url(url);
	if (rc == 0)
		ims_http__tracef(h, "%s %s -> %ld (%lld bytes, attempt %d)", req->method, safe, r->status,
				 (long long)t->bytes, attempt);
	else
		ims_http__tracef(h, "%s %s -> %s (attempt %d)", req->method, safe, ims_http__failure_name(r->failure),
				 attempt);
}

/* "GET URL: registry answered 503; retrying in 1.0 s (try 2 of 5)". */
static void notice_retry(const ims_http *h, const ims_http_request *req, const char *safe_url, int rc,
			 const ims_http_response *resp, const ims_error *e, double wait, int next, int max)
{
	_cleanup_free_ char *why = rc == 0 ? xasprintf("answered %ld", resp->status)
					   : xstrdup(e && e->message ? e->message : ims_http__failure_name(resp->failure));
	_cleanup_free_ char *line = xasprintf("%s %s: %s; retrying in %.1f s (try %d of %d)", req->method, safe_url,
					      why, wait, next, max);
	h->notice(h->notice_ud, line);
}

/* Tries one URL until it answers with something not worth retrying, or
 * tries run out. Only bodies that can be replayed are sent again, and
 * never after part of a response went to the caller's sink. */
static int tries(ims_http *h, const ims_http_request *req, const char *url, bool send_auth, ims_http_response *resp,
		 ims_error **err)
{
	uint64_t rng = ims_http__rng_seed();
	int max = req->no_retry ? 1 : h->max_attempts;
	ims_buf prev = IMS_BUF_INIT(0); /* the body of the previous 500 */
	bool have_prev = false;
	int same = 0; /* how many 500s in a row had it */
	for (int attempt = 1;; attempt++) {
		reset(resp);
		ims_http_try t = { 0 };
		ims_error *e = NULL;
		int rc = ims_check_interrupt(&e);
		if (rc == 0)
			rc = ims_http__transfer(h, req, url, send_auth, resp, &t, &e);
		resp->attempts = attempt;
		if (rc < 0 && resp->failure == IMS_HTTP_OK)
			resp->failure = IMS_HTTP_FAIL_OTHER;
		trace_try(h, req, url, rc, resp, &t, attempt);
		if (rc == 0)
			ims_http__warnings(h, url, resp);

		bool again = attempt < max && !req->body_reader && !t.sink_used;
		if (again && rc == 0 && resp->status == 500 && !ims_http_header(resp, "retry-after")) {
			bool repeat = have_prev && prev.len == resp->body.len &&
				      (!prev.len || !memcmp(prev.data, resp->body.data, prev.len));
			have_prev = true;
			same = repeat ? same + 1 : 0;
			ims_buf_reset(&prev);
			ims_buf_add(&prev, resp->body.data ? resp->body.data : "", resp->body.len, NULL);
			if (same >= 2 || (same >= 1 && req->permanent && req->permanent(resp))) {
				if (h->trace) {
					_cleanup_free_ char *safe = ims_http_redact_url(url);
					ims_http__tracef(h, "%s %s: the same 500 again, giving up", req->method, safe);
				}
				again = false;
			}
		} else {
			have_prev = false;
			same = 0;
		}
		double wait;
		if (again && rc == 0 && ims_http__retry_status(resp->status)) {
			double ra = ims_http_retry_after(ims_http_header(resp, "retry-after"));
			wait = ra < 0 ? ims_http__backoff(h, attempt, &rng) : ra < h->backoff_max ? ra : h->backoff_max;
		} else if (again && rc < 0 && t.retryable) {
			wait = ims_http__backoff(h, attempt, &rng);
		} else {
			if (rc < 0 && err && !*err)
				*err = steal_pointer(&e);
			ims_error_free(e);
			ims_buf_dispose(&prev);
			return rc;
		}
		double left = ims_http__left(h);
		if (left >= 0 && wait >= left) {
			/* no try could start before the deadline: say what the last one got */
			if (rc < 0 && err && !*err)
				*err = steal_pointer(&e);
			ims_error_free(e);
			ims_buf_dispose(&prev);
			if (rc < 0)
				ims_error_wrap(err, "the deadline of %g s (--timeout) leaves no time to try again",
					       h->timeout);
			return rc;
		}
		if (h->trace || h->notice) {
			_cleanup_free_ char *safe = ims_http_redact_url(url);
			if (h->trace)
				ims_http__tracef(h, "%s %s: retrying in %.2f s", req->method, safe, wait);
			if (h->notice)
				notice_retry(h, req, safe, rc, resp, e, wait, attempt + 1, max);
		}
		ims_error_free(e);
		ims_http__sleep(wait);
	}
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* https -> http only towards hosts that may speak plain HTTP anyway. */
static bool downgrade_refused(const ims_http *h, const char *from, const char *to)
{
	ims_http_url a, b;
	if (!ims_http__url_parse(from, &a))
		return true;
	bool refused = false;
	if (ims_http__url_parse(to, &b)) {
		if (!strcmp(a.scheme, "https") && !strcmp(b.scheme, "http")) {
			_cleanup_free_ char *key = ims_http__url_hostkey(&b);
			refused = !ims_http_host_insecure(h, key);
		}
		ims_http__url_dispose(&b);
	} else {
		refused = true;
	}
	ims_http__url_dispose(&a);
	return refused;
}

/* The next URL of a redirect chain, or an error saying why there is none. */
static int next_hop(ims_http *h, const ims_http_request *req, const char *url, const char *location, char **next,
		    ims_error **err)
{
	*next = ims_http_resolve_url(url, location);
	if (!*next) {
		_cleanup_free_ char *safe = ims_http_redact_url(location);
		return ims_http__fail(err, req->method, url,
				      "refusing a redirect to `%s`: only http and https are allowed", safe);
	}
	if (downgrade_refused(h, url, *next)) {
		_cleanup_free_ char *safe = ims_http_redact_url(*next);
		free(*next);
		*next = NULL;
		return ims_http__fail(err, req->method, url, "refusing a redirect from https to `%s`", safe);
	}
	return 0;
}

int ims_http_do(ims_http *h, const ims_http_request *req, ims_http_response *resp, ims_error **err)
{
	memset(resp, 0, sizeof(*resp));
	int rc = validate(req, err);
	if (rc < 0) {
		resp->failure = IMS_HTTP_FAIL_OTHER;
		return rc;
	}
	_cleanup_free_ char *origin = ims_http_origin(req->url);
	char *url = xstrdup(req->url);
	bool follow = req->follow_redirects && (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"));
	/* Once false, stays false: a chain that comes back to the origin
	 * after a stranger answered does not get the credentials again. */
	bool same_origin = true;
	for (int hops = 0;; hops++) {
		if (same_origin) {
			_cleanup_free_ char *o = ims_http_origin(url);
			same_origin = o && !strcmp(o, origin);
		}
		rc = tries(h, req, url, same_origin, resp, err);
		if (rc < 0 || !follow || !is_redirect(resp->status))
			break;
		const char *location = ims_http_header(resp, "location");
		if (!location)
			break;
		if (hops == IMS_HTTP_MAX_REDIRECTS) {
			rc = ims_http__fail(err, req->method, req->url, "stopped after %d redirects",
					    IMS_HTTP_MAX_REDIRECTS);
			break;
		}
		char *next;
		if ((rc = next_hop(h, req, url, location, &next, err)) < 0)
			break;
		free(url);
		url = next;
	}
	if (rc < 0 && resp->status && err && *err && !(*err)->http_status)
		(*err)->http_status = resp->status;
	if (rc < 0 && resp->failure == IMS_HTTP_OK)
		resp->failure = IMS_HTTP_FAIL_OTHER;
	resp->url = url;
	return rc;
}
