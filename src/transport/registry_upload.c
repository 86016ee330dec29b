/* Blob uploads.
 *
 * Monolithic (POST, then PUT ?digest= with the whole body and a
 * Content-Length) is the default: every registry takes it, proxies that
 * answer 411 to chunked bodies let it through, and a failure leaves
 * nothing half-written. A failed attempt DELETEs its session and starts
 * over from a new POST (never re-sending a request whose outcome is
 * unknown: distribution 2.8.2 appends a repeated chunk silently).
 *
 * Streamed (POST, chunked PATCHes of up to IMS_REGISTRY_STREAM_PIECE bytes,
 * empty PUT ?digest=) is for bytes that cannot be read twice, so it is
 * never retried. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define UPLOAD_ATTEMPTS 3

static const char *const octet_stream[] = { "Content-Type: application/octet-stream" };

/* The least bytes a PATCH of the session must carry but the last, when
 * the POST's answer says so (OCI-Chunk-Min-Length, distribution-spec
 * 1.1); 0 when it does not, or says something that is not a number. */
static int64_t chunk_min(const ims_http_response *resp)
{
	const char *v = ims_http_header(resp, "oci-chunk-min-length");
	if (!v || *v < '0' || *v > '9')
		return 0;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return errno || *end ? 0 : (int64_t)n;
}

/* POST /v2/REPO/blobs/uploads/: a new session, at *location; *min (when
 * not NULL) is the session's least chunk, 0 for none. */
static int start(ims_registry *r, const ims_registry_call *c, char **location, int64_t *min, bool *transient,
		 ims_error **err)
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
	if (resp.status == 202) {
		rc = ims_registry__location(r, c, &resp, location, err);
		if (min)
			*min = chunk_min(&resp);
	} else {
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
	int rc = start(r, c, &location, NULL, transient, err);
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

/* One PATCH's share of a stream: the bytes read ahead (so that no PATCH
 * is empty), then the stream's own, up to left. */
typedef struct {
	ims_reader *in;
	const unsigned char *ahead;
	size_t nahead;
	int64_t left;
	bool ended; /* in said end */
} piece;

static ssize_t piece_read(void *ud, void *p, size_t n, ims_error **err)
{
	piece *pc = ud;
	if (pc->left <= 0 || pc->ended)
		return 0;
	if ((int64_t)n > pc->left)
		n = (size_t)pc->left;
	ssize_t got;
	if (pc->nahead) {
		got = (ssize_t)(n < pc->nahead ? n : pc->nahead);
		memcpy(p, pc->ahead, (size_t)got);
		pc->ahead += got;
		pc->nahead -= (size_t)got;
	} else {
		got = pc->in->read(pc->in->ud, p, n, err);
		if (got <= 0) {
			pc->ended = got == 0;
			return got;
		}
	}
	pc->left -= got;
	return got;
}

/* The first bytes of a PATCH, read before it is sent. */
#define AHEAD_BUFSZ ((size_t)64 * 1024)

/* POST, chunked PATCHes from reader, PUT ?digest=: digest is read only
 * once reader has ended (a blob still being written names its digest at
 * the end); an empty one then means "not wanted": the session, complete
 * and so in a state the registry agrees on, is deleted.
 *
 * Why pieces: docker-registry syncs the upload's file to disk at the end
 * of each PATCH (distribution's filesystem driver closes its writer with
 * an fsync), so a layer sent in one PATCH ends with a sync of all of it,
 * after its last byte: 0.2 s for a 74 MB layer on the bench's disk, with
 * the build waiting and nothing else to do. In pieces, each sync covers
 * the bytes since the last one and runs while the layer is still being
 * compressed; only the last piece's is left at the end. A piece is read
 * ahead before its PATCH is sent, so none is empty. A registry that names
 * a least chunk (OCI-Chunk-Min-Length) gets pieces at least that big. */
static int upload_stream(ims_registry *r, const ims_registry_call *c, const char *digest, ims_reader *reader,
			 ims_error **err)
{
	_cleanup_free_ char *location = NULL;
	_cleanup_free_ unsigned char *ahead = NULL;
	bool transient = false;
	int64_t min = 0;
	int rc = start(r, c, &location, &min, &transient, err);
	if (rc < 0)
		return rc;
	ahead = xmalloc(AHEAD_BUFSZ);
	piece pc = { .in = reader };
	int64_t each = r->stream_piece > 0 ? r->stream_piece : IMS_REGISTRY_STREAM_PIECE;
	/* A registry's least chunk: pieces are made that big (a huge one
	 * makes the stream one PATCH, as before pieces). */
	if (min > each)
		each = min;
	size_t first = each < (int64_t)AHEAD_BUFSZ ? (size_t)each : AHEAD_BUFSZ;
	while (!pc.ended) {
		ssize_t got = reader->read(reader->ud, ahead, first, err);
		if (got <= 0) {
			rc = (int)got;
			break;
		}
		pc.ahead = ahead;
		pc.nahead = (size_t)got;
		pc.left = each;
		ims_reader body = { piece_read, NULL, &pc };
		ims_http_request req = IMS_HTTP_REQUEST_INIT;
		req.method = "PATCH";
		req.url = location;
		req.headers = octet_stream;
		req.nheaders = 1;
		req.body_reader = &body;
		req.no_retry = true;
		ims_http_response resp = { 0 };
		rc = session_request(r, c, &req, &resp, &transient, err);
		/* The session moves with each request: distribution signs its
		 * state into the query, and an old Location is a 404. */
		char *next = NULL;
		if (rc == 0 && ims_http_header(&resp, "location") &&
		    (rc = ims_registry__location(r, c, &resp, &next, err)) == 0) {
			free(location);
			location = next;
		}
		ims_http_response_dispose(&resp);
		if (rc < 0)
			break;
	}
	if (rc == 0 && !*digest)
		rc = ims_error_set(err, IMS_EGENERIC, "%s: cancelled", c->what);
	if (rc == 0)
		rc = ims_digest_check(digest, "blob", err);
	if (rc == 0) {
		ims_http_request put = IMS_HTTP_REQUEST_INIT;
		put.body = "";
		put.body_len = 0;
		rc = finish(r, c, location, digest, &put, &transient, err);
	}
	if (rc < 0)
		ims_registry__cancel_upload(r, c, location);
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
