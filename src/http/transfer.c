/* One try of one URL with a fresh easy handle: no redirects (libcurl's are
 * off, so the Authorization header cannot follow one) and no retries
 * (request.c decides). The body goes up through a read callback, so memory,
 * file and stream bodies share one path; the answer comes back through the
 * header and write callbacks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http/http_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

/* Past this, a peer is sending headers to exhaust memory, not to answer. */
#define HEADERS_MAX (1024 * 1024)

typedef struct {
	const ims_http_request *req;
	ims_http_response *resp;
	size_t mem_pos;
	int64_t fd_pos;
	long status; /* of the response being received */
	size_t max_body;
	size_t header_bytes;
	bool truncated;
	int64_t bytes;
	bool sink_used;
	ims_error *cb_err; /* why a callback stopped the transfer */
} xfer;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = size * n;
	x->header_bytes += len;
	if (x->header_bytes > HEADERS_MAX) {
		ims_error_set(&x->cb_err, IMS_ENET,
			      "the response headers are too large (over %d KiB): not a registry's answer",
			      HEADERS_MAX / 1024);
		return 0;
	}
	if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
		/* A new response begins (after a 1xx): only the last one counts. */
		ims_http__headers_clear(x->resp);
		const char *sp = memchr(p, ' ', len);
		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	ims_http__headers_add_line(x->resp, p, len);
	return len;
}

static bool is_2xx(long status)
{
	return status >= 200 && status < 300;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = size * n;
	x->bytes += (int64_t)len;
	if (is_2xx(x->status) && x->req->sink) {
		x->sink_used = true;
		if (ims_sink_write(x->req->sink, p, len, &x->cb_err) < 0) {
			if (!x->cb_err)
				ims_error_set(&x->cb_err, IMS_EGENERIC, "writing the response body failed");
			return 0;
		}
		if (x->req->progress)
			x->req->progress(x->req->progress_ud, x->bytes);
		return len;
	}
	ims_buf *b = &x->resp->body;
	size_t room = x->max_body - b->len;
	if (len <= room) {
		ims_buf_add(b, p, len, NULL);
		return len;
	}
	ims_buf_add(b, p, room, NULL);
	x->truncated = true;
	/* A success body the caller meant to keep is refused whole; an error
	 * body is only there to be quoted, so its head is enough. */
	if (is_2xx(x->status))
		ims_error_set(&x->cb_err, IMS_EGENERIC, "response body exceeds the limit of %zu bytes", x->max_body);
	return 0;
}

static size_t read_fd(xfer *x, char *p, size_t want)
{
	const ims_http_request *r = x->req;
	int64_t left = r->body_fd_len - x->fd_pos;
	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	ssize_t got;
	do
		got = pread(r->body_fd, p, want, (off_t)(r->body_offset + x->fd_pos));
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		ims_error_sys(&x->cb_err, errno, IMS_EGENERIC, "reading the request body");
		return CURL_READFUNC_ABORT;
	}
	if (got == 0) {
		/* Content-Length is already sent: a short file cannot be sent. */
		ims_error_set(&x->cb_err, IMS_EGENERIC, "the request body ended %lld bytes early", (long long)left);
		return CURL_READFUNC_ABORT;
	}
	x->fd_pos += got;
	if (x->req->progress)
		x->req->progress(x->req->progress_ud, x->fd_pos - x->req->body_offset);
	return (size_t)got;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	const ims_http_request *r = x->req;
	size_t want = size * n;
	if (r->body_reader) {
		ssize_t got = r->body_reader->read(r->body_reader->ud, p, want, &x->cb_err);
		if (got < 0) {
			if (!x->cb_err)
				ims_error_set(&x->cb_err, IMS_EGENERIC, "reading the request body failed");
			return CURL_READFUNC_ABORT;
		}
		return (size_t)got;
	}
	if (r->body_fd >= 0)
		return read_fd(x, p, want);
	size_t left = r->body_len - x->mem_pos;
	if (want > left)
		want = left;
	if (want)
		memcpy(p, (const char *)r->body + x->mem_pos, want);
	x->mem_pos += want;
	return want;
}

/* libcurl rewinds when it resends on a fresh connection. */
static int on_seek(void *ud, curl_off_t off, int origin)
{
	xfer *x = ud;
	const ims_http_request *r = x->req;
	if (origin != SEEK_SET || off < 0 || r->body_reader)
		return CURL_SEEKFUNC_CANTSEEK;
	if (r->body_fd >= 0) {
		if (off > r->body_fd_len)
			return CURL_SEEKFUNC_FAIL;
		x->fd_pos = off;
	} else {
		if ((size_t)off > r->body_len)
			return CURL_SEEKFUNC_FAIL;
		x->mem_pos = (size_t)off;
	}
	return CURL_SEEKFUNC_OK;
}

static bool sensitive(const char *line)
{
	static const char *const names[] = { "authorization:", "proxy-authorization:", "cookie:" };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(names); i++)
		if (!strncasecmp(line, names[i], strlen(names[i])))
			return true;
	return false;
}

static struct curl_slist *append(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n)
		abort();
	return n;
}

static struct curl_slist *headers(const ims_http_request *req, bool send_auth, bool upload)
{
	struct curl_slist *l = NULL;
	for (size_t i = 0; i < req->nheaders; i++)
		if (send_auth || !sensitive(req->headers[i]))
			l = append(l, req->headers[i]);
	if (send_auth && req->authorization) {
		_cleanup_free_ char *a = xasprintf("Authorization: %s", req->authorization);
		l = append(l, a);
	}
	/* Registries answer 100-continue unevenly, and waiting for it costs a
	 * round trip (or a second) per upload. */
	if (upload)
		l = append(l, "Expect:");
	return l;
}

bool ims_http__method_has_body(const char *method)
{
	return !strcmp(method, "PUT") || !strcmp(method, "POST") || !strcmp(method, "PATCH");
}

static void set_method(CURL *e, const ims_http_request *req, xfer *x)
{
	const char *m = req->method;
	if (!strcmp(m, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(m, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (ims_http__method_has_body(m)) {
		/* Every body goes up as an "upload" with the verb renamed: a known
		 * size (0 too) becomes Content-Length, an unknown one is chunked,
		 * and no form Content-Type is invented as it would be for POST. */
		curl_off_t size = req->body_reader    ? -1
				  : req->body_fd >= 0 ? (curl_off_t)req->body_fd_len
						      : (curl_off_t)req->body_len;
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, size);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, x);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
		if (strcmp(m, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}
}

/* Called by libcurl at least once a second, even on a silent connection:
 * where an interrupted build (ims_interrupt) stops a transfer. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	xfer *x = ud;
	if (!ims_interrupted())
		return 0;
	if (!x->cb_err)
		ims_check_interrupt(&x->cb_err);
	return 1;
}

static void set_common(ims_http *h, CURL *e, const char *url, xfer *x, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* Signals and threads do not mix; the threaded resolver needs none. */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, h->connect_timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)IMS_HTTP_LOW_SPEED_LIMIT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->low_speed_time);
	/* the deadline: whatever is left of it (at least 1 ms: 0 means none) */
	double left = ims_http__left(h);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left < 0 ? 0L : left * 1000 < 1 ? 1L : (long)(left * 1000));
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 60L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 30L);
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
}

const char *ims_http__failure_name(ims_http_failure f)
{
	switch (f) {
	case IMS_HTTP_OK:
		return "ok";
	case IMS_HTTP_FAIL_CONNECT:
		return "could not connect";
	case IMS_HTTP_FAIL_TLS:
		return "TLS handshake failed";
	case IMS_HTTP_FAIL_TLS_VERIFY:
		return "TLS certificate not trusted";
	case IMS_HTTP_FAIL_TIMEOUT:
		return "timed out";
	default:
		return "request failed";
	}
}

/* What a libcurl failure means to the caller, and whether another try
 * may help: a handshake or verification failure will fail again. */
static ims_http_failure classify(CURLcode rc, bool *retry)
{
	*retry = false;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		*retry = true;
		return IMS_HTTP_FAIL_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
		return IMS_HTTP_FAIL_TLS;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return IMS_HTTP_FAIL_TLS_VERIFY;
	case CURLE_OPERATION_TIMEDOUT:
		*retry = true;
		return IMS_HTTP_FAIL_TIMEOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		/* The connection dropped: a blip worth another try. */
		*retry = true;
		return IMS_HTTP_FAIL_OTHER;
	default:
		return IMS_HTTP_FAIL_OTHER;
	}
}

static int failed(const ims_http *h, const ims_http_request *req, const char *url, CURLcode rc, const char *errbuf,
		  ims_http_response *resp, ims_http_try *t, ims_error **err)
{
	resp->failure = classify(rc, &t->retryable);
	/* CURLOPT_TIMEOUT_MS is what is left of the deadline ("Operation timed
	 * out after N milliseconds"), give or take the clock's rounding */
	double left = ims_http__left(h);
	if (rc == CURLE_OPERATION_TIMEDOUT && left >= 0 &&
	    (left < 0.5 || !strncmp(errbuf, "Operation timed out after", 25))) {
		t->retryable = false;
		return ims_http__deadline_fail(h, err, req->method, url);
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && !strncmp(errbuf, "Operation too slow", 18)) {
		/* It already lasted low_speed_time seconds: not again. */
		t->retryable = false;
		ims_http__fail(err, req->method, url, "stalled: less than %d bytes/s for %ld s",
			       IMS_HTTP_LOW_SPEED_LIMIT, h->low_speed_time);
		ims_error_hint(err,
			       "check the network and the registry; raise --low-speed-time for a link this slow, "
			       "and bound the whole run with --timeout");
		return IMS_ENET;
	}
	const char *what = resp->failure == IMS_HTTP_FAIL_OTHER && t->retryable ? "connection lost"
										: ims_http__failure_name(resp->failure);
	/* libcurl's own words, as it wrote them ("SSL: no alternative ..."). */
	_cleanup_free_ char *why = xstrdup(*errbuf ? errbuf : curl_easy_strerror(rc));
	size_t n = strlen(why);
	while (n > 0 && (why[n - 1] == '\n' || why[n - 1] == '\r'))
		why[--n] = '\0';
	ims_http__fail(err, req->method, url, "%s: %s", what, why);
	if (resp->failure == IMS_HTTP_FAIL_TLS_VERIFY)
		ims_error_hint(err,
			       "trust the registry's CA with --ca-cert, `caFile` or /etc/docker/certs.d/HOST/ca.crt");
	return IMS_ENET;
}

/* libcurl refuses a header line over CURL_MAX_HTTP_HEADER (100 KiB) with
 * "out of memory" (CURLE_TOO_LARGE from 8.6 on) before any of it reaches
 * on_header: a status line came, no body yet. Not worth another try. */
static bool header_overflow(CURLcode rc, const xfer *x)
{
	return (rc == CURLE_OUT_OF_MEMORY || (int)rc == 100 /* CURLE_TOO_LARGE */) && x->status && x->bytes == 0;
}

/* The callback's error becomes the request's, prefixed with what was asked. */
static int callback_failed(const ims_http_request *req, const char *url, xfer *x, ims_error **err)
{
	int code = x->cb_err->code;
	if (err && !*err)
		*err = steal_pointer(&x->cb_err);
	ims_error_free(x->cb_err);
	x->cb_err = NULL;
	_cleanup_free_ char *safe = ims_http_redact_url(url);
	ims_error_wrap(err, "%s `%s`", req->method, safe);
	if (err && *err && x->status)
		(*err)->http_status = x->status;
	return code;
}

int ims_http__transfer(ims_http *h, const ims_http_request *req, const char *url, bool send_auth,
		       ims_http_response *resp, ims_http_try *t, ims_error **err)
{
	xfer x = { .req = req, .resp = resp };
	x.max_body = req->max_body ? req->max_body : IMS_HTTP_DEFAULT_MAX_BODY;
	char errbuf[CURL_ERROR_SIZE] = "";

	ims_http_url u;
	if (!ims_http__url_parse(url, &u))
		return ims_http__fail(err, req->method, url, "not an http or https URL");
	if (ims_http__left(h) == 0) {
		ims_http__url_dispose(&u);
		return ims_http__deadline_fail(h, err, req->method, url);
	}
	_cleanup_free_ char *origin = ims_http__url_origin(&u);
	CURL *e = ims_http__handle_get(h, origin);
	int ret = 0;
	ims_http__warn_insecure(h, &u);
	if (!strcmp(u.scheme, "https")) {
		_cleanup_free_ char *key = ims_http__url_hostkey(&u);
		ret = ims_http__tls_apply(h, e, key, err);
	}
	ims_http__url_dispose(&u);
	if (ret < 0)
		goto out;

	set_common(h, e, url, &x, errbuf);
	set_method(e, req, &x);
	struct curl_slist *hdrs = headers(req, send_auth, ims_http__method_has_body(req->method));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);

	CURLcode rc = curl_easy_perform(e);
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	resp->status = code ? code : x.status;
	curl_slist_free_all(hdrs);

	if (x.cb_err)
		ret = callback_failed(req, url, &x, err);
	else if (header_overflow(rc, &x))
		ret = ims_http__fail(
			err, req->method, url,
			"the response headers are too large (a header line over %d KiB): not a registry's answer",
			CURL_MAX_HTTP_HEADER / 1024);
	else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.truncated))
		ret = failed(h, req, url, rc, errbuf, resp, t, err);
out:
	t->sink_used = x.sink_used;
	t->bytes = x.bytes;
	ims_http__handle_put(h, e, origin);
	return ret;
}
