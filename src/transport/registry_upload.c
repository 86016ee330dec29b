/* Blob uploads.
 *
 * Monolithic (POST, then PUT ?digest= with the whole body and a
 * Content-Length) is the default: every registry takes it, proxies that
 * answer 411 to chunked bodies let it through, and a failure leaves
 * nothing half-written. A failed attempt DELETEs its session and starts
 * over from a new POST (never re-sending a request whose outcome is
 * unknown: distribution 2.8.2 appends a repeated chunk silently).
 *
 * Streamed (POST, one chunked PATCH, empty PUT ?digest=) is for bytes that
 * cannot be read twice, so it is never retried. */
#include <stdlib.h>
#include <string.h>

#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define UPLOAD_ATTEMPTS 3

static const char *const octet_stream[] = { "Content-Type: application/octet-stream" };

/* POST /v2/REPO/blobs/uploads/: a new session, at *location. */
static int start(ims_registry *r, const ims_registry_call *c, char **location, bool *transient, ims_error **err)
{
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "POST";
	ims_http_response resp = { 0 };
	int rc = ims_registry__send_path(r, c, &req, &resp, err, "%s/blobs/uploads/", c->repo);
	if (rc < 0) {
		/* a stall lasted --low-speed-time already, and a deadline stays passed */
		*transient = rc == IMS_ENET && resp.failure != IMS_HTTP_FAIL_TIMEOUT;
		ims_http_response_dispose(&resp);
		return rc;
	}
	if (resp.status == 202)
		rc = ims_registry__location(r, c, &resp, location, err);
	else {
		*transient = ims_registry__transient(&resp);
		rc = ims_registry__fail(c, &resp, err);
	}
	ims_http_response_dispose(&resp);
	return rc;
}

/* The session URL with ?digest= (or &digest=) appended: the spec says to
 * keep the registry's own query (distribution's _state) untouched. */
static char *with_digest(const char *location, const char *digest)
{
	return xasprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', digest);
}

/* Sends req (a PATCH or the closing PUT) to the session and checks the
 * answer: 201, 202 and 204 all mean done (ECR, Harbor and registries'
 * test servers disagree on which). */
static int session_request(ims_registry *r, const ims_registry_call *c, ims_http_request *req, ims_http_response *resp,
			   bool *transient, ims_error **err)
{
	int rc = ims_registry__send(r, c, req, resp, err);
	if (rc < 0) {
		*transient = rc == IMS_ENET && resp->failure != IMS_HTTP_FAIL_TIMEOUT;
		return rc;
	}
	if (resp->status == 201 || resp->status == 202 || resp->status == 204)
		return 0;
	*transient = ims_registry__transient(resp);
	return ims_registry__fail(c, resp, err);
}

static int finish(ims_registry *r, const ims_registry_call *c, const char *location, const char *digest,
		  ims_http_request *req, bool *transient, ims_error **err)
{
	_cleanup_free_ char *url = with_digest(location, digest);
	req->method = "PUT";
	req->url = url;
	req->headers = octet_stream;
	req->nheaders = 1;
	/* Our own loop restarts from a new session; a PUT repeated on the same
	 * one after an unknown outcome could only fail. */
	req->no_retry = true;
	ims_http_response resp = { 0 };
	int rc = session_request(r, c, req, &resp, transient, err);
	if (rc == 0)
		rc = ims_registry__check_dcd(c, &resp, digest, err);
	ims_http_response_dispose(&resp);
	return rc;
}

static int attempt_fd(ims_registry *r, const ims_registry_call *c, const char *digest, int fd, int64_t size,
		      const ims_registry_progress *pg, bool *transient, ims_error **err)
{
	_cleanup_free_ char *location = NULL;
	int rc = start(r, c, &location, transient, err);
	if (rc < 0)
		return rc;
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.body_fd = fd;
	req.body_offset = 0;
	req.body_fd_len = size;
	if (pg) {
		req.progress = pg->fn;
		req.progress_ud = pg->ud;
	}
	rc = finish(r, c, location, digest, &req, transient, err);
	if (rc < 0)
		ims_registry__cancel_upload(r, c, location);
	return rc;
}

int ims_registry_blob_upload_fd(ims_registry *r, const char *repo, const char *digest, int fd, int64_t size,
				const ims_registry_progress *progress, ims_error **err)
{
	int rc = ims_registry__check_repo(repo, err);
	if (rc < 0 || (rc = ims_digest_check(digest, "blob", err)) < 0)
		return rc;
	if (fd < 0 || size < 0)
		return ims_error_set(err, IMS_EINVALID, "push blob %s: no content", digest);
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, true, NULL, "push blob %s to `%s/%s`", digest, r->host, repo);
	if ((rc = ims_registry__connect(r, err)) < 0)
		goto out;
	for (int attempt = 1;; attempt++) {
		ims_error *e = NULL;
		bool transient = false;
		rc = attempt_fd(r, &c, digest, fd, size, progress, &transient, &e);
		if (rc == 0 || !transient || attempt == UPLOAD_ATTEMPTS) {
			if (rc < 0 && attempt > 1 && e) {
				char *m = xasprintf("%s (after %d attempts)", e->message, attempt);
				free(e->message);
				e->message = m;
			}
			if (rc < 0 && err && !*err)
				*err = e;
			else
				ims_error_free(e);
			break;
		}
		ims_error_free(e);
	}
out:
	ims_registry__call_dispose(&c);
	return rc;
}

/* POST, one chunked PATCH from reader, PUT ?digest=: digest is read only
 * once reader has ended (a blob still being written names its digest at
 * the end); an empty one then means "not wanted": the session, complete
 * and so in a state the registry agrees on, is deleted. */
static int upload_stream(ims_registry *r, const ims_registry_call *c, const char *digest, ims_reader *reader,
			 ims_error **err)
{
	_cleanup_free_ char *location = NULL;
	_cleanup_free_ char *next = NULL;
	bool transient = false;
	int rc = start(r, c, &location, &transient, err);
	if (rc < 0)
		return rc;
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "PATCH";
	req.url = location;
	req.headers = octet_stream;
	req.nheaders = 1;
	req.body_reader = reader;
	req.no_retry = true;
	ims_http_response resp = { 0 };
	rc = session_request(r, c, &req, &resp, &transient, err);
	/* The session moves with each request: distribution signs its state
	 * into the query, and an old Location is a 404. */
	if (rc == 0 && ims_http_header(&resp, "location"))
		rc = ims_registry__location(r, c, &resp, &next, err);
	ims_http_response_dispose(&resp);
	if (rc == 0 && !*digest)
		rc = ims_error_set(err, IMS_EGENERIC, "%s: cancelled", c->what);
	if (rc == 0)
		rc = ims_digest_check(digest, "blob", err);
	if (rc == 0) {
		ims_http_request put = IMS_HTTP_REQUEST_INIT;
		put.body = "";
		put.body_len = 0;
		rc = finish(r, c, next ? next : location, digest, &put, &transient, err);
	}
	if (rc < 0)
		ims_registry__cancel_upload(r, c, next ? next : location);
	return rc;
}

int ims_registry_blob_upload_stream(ims_registry *r, const char *repo, const char *digest, ims_reader *reader,
				    ims_error **err)
{
	int rc = ims_registry__check_repo(repo, err);
	if (rc < 0 || (rc = ims_digest_check(digest, "blob", err)) < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, true, NULL, "push blob %s to `%s/%s`", digest, r->host, repo);
	rc = upload_stream(r, &c, digest, reader, err);
	ims_registry__call_dispose(&c);
	return rc;
}

int ims_registry_blob_upload_follow(ims_registry *r, const char *repo, ims_reader *reader, const char *digest_later,
				    ims_error **err)
{
	int rc = ims_registry__check_repo(repo, err);
	if (rc < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, true, NULL, "push a new blob to `%s/%s`", r->host, repo);
	if ((rc = ims_registry__connect(r, err)) == 0)
		rc = upload_stream(r, &c, digest_later, reader, err);
	ims_registry__call_dispose(&c);
	return rc;
}
