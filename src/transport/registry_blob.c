/* Blobs: HEAD, a GET verified while it streams, and cross-repository
 * mounts. Uploads are in registry_upload.c. */
#include <stdlib.h>
#include <string.h>

#include "digest/sha256_stream.h"
#include "transport/registry_int.h"
#include "transport/transport.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static int check_blob_args(const char *repo, const char *digest, ims_error **err)
{
	int rc = ims_registry__check_repo(repo, err);
	if (rc < 0)
		return rc;
	return ims_digest_check(digest, "blob", err);
}

int ims_registry_blob_head(ims_registry *r, const char *repo, const char *digest, bool *exists, int64_t *size,
			   ims_error **err)
{
	int rc = check_blob_args(repo, digest, err);
	if (rc < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, false, NULL, "look up blob %s in `%s/%s`", digest, r->host, repo);
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "HEAD";
	req.follow_redirects = true;
	ims_http_response resp = { 0 };
	if ((rc = ims_registry__send_path(r, &c, &req, &resp, err, "%s/blobs/%s", repo, digest)) < 0)
		goto out;
	if ((rc = ims_registry__exists(&c, &resp, exists, err)) < 0 || !*exists)
		goto out;
	if ((rc = ims_registry__check_dcd(&c, &resp, digest, err)) < 0)
		goto out;
	if (size) {
		const char *cl = ims_http_header(&resp, "content-length");
		char *end = NULL;
		long long v = cl ? strtoll(cl, &end, 10) : -1;
		*size = (cl && end != cl && !*end && v >= 0) ? (int64_t)v : -1;
	}
out:
	ims_http_response_dispose(&resp);
	ims_registry__call_dispose(&c);
	return rc;
}

/* The first offset of a "Content-Range: bytes FIRST-LAST/SIZE", or -1. */
static int64_t range_start(const ims_http_response *resp)
{
	const char *v = ims_http_header(resp, "content-range");
	if (!v || strncmp(v, "bytes ", 6))
		return -1;
	char *end = NULL;
	long long first = strtoll(v + 6, &end, 10);
	return end != v + 6 && *end == '-' && first >= 0 ? (int64_t)first : -1;
}

/* What a resumed GET writes on. Its answer's headers are in by the first
 * byte of body: a 206 (Content-Range) goes on where the earlier try
 * stopped, and is refused before its first byte reaches the blob when its
 * range starts anywhere else (catalogue item 56); a 200 from a server that
 * ignores Range starts over, and the `have` bytes delivered already are
 * dropped. */
typedef struct {
	ims_sink sink;
	ims_sink *next;
	const ims_http_response *resp;
	int64_t have, skip;
	bool started;
	const char *what;
} resume_sink;

static int resume_write(void *ud, const void *p, size_t n, ims_error **err)
{
	resume_sink *s = ud;
	if (!s->started) {
		s->started = true;
		bool ranged = ims_http_header(s->resp, "content-range") != NULL;
		if (ranged && range_start(s->resp) != s->have)
			return ims_error_set(err, IMS_EGENERIC, "%s: asked for the bytes from %lld on, got a range from %lld",
					     s->what, (long long)s->have, (long long)range_start(s->resp));
		s->skip = ranged ? 0 : s->have;
	}
	if (s->skip > 0) {
		size_t drop = (int64_t)n < s->skip ? n : (size_t)s->skip;
		s->skip -= (int64_t)drop;
		p = (const char *)p + drop;
		n -= drop;
	}
	return ims_sink_write(s->next, p, n, err);
}

/* A GET cut short (the connection reset mid-body) is resumed where it stopped, up to this many
 * tries in all and as long as each try brings bytes: with `Range:
 * bytes=N-` (206), or from the start when the server ignores it (200).
 * The digest is that of everything delivered, so the whole is verified. */
#define BLOB_GET_TRIES 5

int ims_registry_blob_get(ims_registry *r, const char *repo, const char *digest, int64_t size, ims_sink *sink,
			  ims_error **err)
{
	int rc = check_blob_args(repo, digest, err);
	if (rc < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, false, NULL, "get blob %s from `%s/%s`", digest, r->host, repo);
	/* Hash on the way through, and stop a body longer than promised
	 * before it fills the disk. */
	ims_sha256_sink h;
	ims_sha256_sink_init(&h, sink);
	h.limit = size;
	ims_http_response resp = { 0 };
	char got[IMS_DIGEST_BUFSZ];
	for (int attempt = 1;; attempt++) {
		int64_t have = h.count;
		resume_sink rs = { { resume_write, NULL }, &h.sink, &resp, have, 0, false, c.what };
		rs.sink.ud = &rs;
		_cleanup_free_ char *range = have ? xasprintf("Range: bytes=%lld-", (long long)have) : NULL;
		const char *hdrs[] = { range };
		ims_http_request req = IMS_HTTP_REQUEST_INIT;
		req.method = "GET";
		req.sink = &rs.sink;
		req.follow_redirects = true;
		if (range) {
			req.headers = hdrs;
			req.nheaders = 1;
		}
		ims_http_response_dispose(&resp);
		ims_error *e = NULL;
		rc = ims_registry__send_path(r, &c, &req, &resp, &e, "%s/blobs/%s", repo, digest);
		if (rc == 0 && have && resp.status == 206 && range_start(&resp) != have)
			rc = ims_error_set(&e, IMS_EGENERIC,
					   "%s: asked for the bytes from %lld on, got a range from %lld", c.what,
					   (long long)have, (long long)range_start(&resp));
		else if (rc == 0 && resp.status != 200 && !(have && resp.status == 206))
			rc = ims_registry__fail(&c, &resp, &e);
		bool progress = h.count > have;
		/* a stall (or the deadline) ends it: it already lasted long enough;
		 * a body that ended where its Content-Length said is whole, even
		 * when shorter than the descriptor (a size mismatch, below) */
		bool cut = progress && rc == IMS_ENET && resp.failure != IMS_HTTP_FAIL_TIMEOUT;
		if (!cut || attempt == BLOB_GET_TRIES) {
			if (rc < 0 && e && attempt > 1) {
				char *m = xasprintf("%s (%d tries, each resumed where the last stopped)", e->message,
						    attempt);
				free(e->message);
				e->message = m;
			}
			if (rc < 0 && err && !*err)
				*err = steal_pointer(&e);
			ims_error_free(e);
			break;
		}
		ims_error_free(e);
	}
	ims_sha256_sink_final(&h, got);
	if (rc == 0 && (strcmp(got, digest) != 0 || (size >= 0 && h.count != size))) {
		if (size >= 0)
			rc = ims_error_set(err, IMS_EDIGEST, "%s: got %lld bytes with digest %s, expected %lld bytes",
					   c.what, (long long)h.count, got, (long long)size);
		else
			rc = ims_error_set(err, IMS_EDIGEST, "%s: got %lld bytes with digest %s", c.what,
					   (long long)h.count, got);
	}
	ims_http_response_dispose(&resp);
	ims_registry__call_dispose(&c);
	return rc;
}

int ims_registry_blob_mount(ims_registry *r, const char *repo, const char *digest, const char *from_repo, bool *mounted,
			    ims_error **err)
{
	*mounted = false;
	int rc = check_blob_args(repo, digest, err);
	if (rc < 0)
		return rc;
	if ((rc = ims_registry__check_repo(from_repo, err)) < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, true, from_repo, "mount blob %s from `%s/%s` into `%s/%s`", digest,
				r->host, from_repo, r->host, repo);
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.no_retry = true;
	ims_http_response resp = { 0 };
	_cleanup_free_ char *location = NULL;
	/* A mount is an optimisation: whatever goes wrong here (a token
	 * server that refuses the source scope, as Docker Hub does for a
	 * repository that does not exist; a 401 from Harbor), the caller
	 * uploads instead and reports the real problem if there is one. */
	ims_error *ignored = NULL;
	if (ims_registry__send_path(r, &c, &req, &resp, &ignored, "%s/blobs/uploads/?mount=%s&from=%s", repo, digest,
				    from_repo) < 0)
		goto out;
	if (resp.status == 201) {
		*mounted = ims_registry__check_dcd(&c, &resp, digest, &ignored) == 0;
		goto out;
	}
	/* 202: not mounted, but an upload session was opened; close it. */
	if (resp.status == 202 && ims_registry__location(r, &c, &resp, &location, &ignored) == 0)
		ims_registry__cancel_upload(r, &c, location);
out:
	ims_error_free(ignored);
	ims_http_response_dispose(&resp);
	ims_registry__call_dispose(&c);
	return 0;
}
