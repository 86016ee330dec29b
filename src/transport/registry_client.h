/* A distribution-spec client for one registry host (the seed library's
 * RegistryClient): manifests, tags, blobs, uploads and mounts. Internal to
 * the transport room; the registry transport (registry.c) adapts it to the
 * transport vtable.
 *
 * Scheme: https first; plain http only for loopback hosts and hosts named
 * insecure, and only when the server does not speak TLS (a handshake
 * failure, never a verification failure). Every request carries the
 * Authorization that the auth room gives for the operation's exact scopes;
 * a 401 fetches one (or renews it once) and retries. */
#ifndef IMS_REGISTRY_CLIENT_H
#define IMS_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "digest/digest.h"
#include "http/http.h"
#include "imagespec/error.h"
#include "util/stream.h"

typedef struct ims_registry ims_registry;

/* host: "host[:port]" as in the reference ("docker.io" is mapped to
 * registry-1.docker.io). Connects lazily. auth may be NULL (anonymous
 * only). The client may be used from several threads at once. */
int ims_registry_new(ims_registry **out, ims_http *http, ims_auth *auth, const char *host, ims_error **err);
void ims_registry_free(ims_registry *r);
const char *ims_registry_host(const ims_registry *r);

/* GET /v2/ (also decides the scheme). Fails unless the answer is 200 or
 * 401, the two a distribution registry gives. */
int ims_registry_ping(ims_registry *r, ims_error **err);

/* The full Accept list (OCI index and manifest, Docker list and schema2).
 * reference: a tag or a digest. The body is capped at 4 MiB; when reference
 * is a digest the body must hash to it; a Docker-Content-Digest header that
 * disagrees with the body is refused. *digest gets the body's digest. */
int ims_registry_manifest_get(ims_registry *r, const char *repo, const char *reference, char **data, size_t *len,
			      char **media_type, char digest[IMS_DIGEST_BUFSZ], ims_error **err);
/* HEAD; *exists false on 404. */
int ims_registry_manifest_head(ims_registry *r, const char *repo, const char *reference, bool *exists,
			       char digest[IMS_DIGEST_BUFSZ], ims_error **err);
/* PUT with Content-Type: media_type. reference: a tag or the digest. */
int ims_registry_manifest_put(ims_registry *r, const char *repo, const char *reference, const char *data,
			      size_t len, const char *media_type, ims_error **err);

/* Tags, following Link pagination (capped). */
int ims_registry_tags(ims_registry *r, const char *repo, char ***tags, size_t *n, ims_error **err);
/* The same with page_size tags per request (ims_registry_tags uses 1000,
 * the most ECR allows). The tags come in the registry's order; free them
 * with ims_strv_free (the vector is NULL-terminated). */
int ims_registry_tags_paged(ims_registry *r, const char *repo, int page_size, char ***tags, size_t *n,
			    ims_error **err);

int ims_registry_blob_head(ims_registry *r, const char *repo, const char *digest, bool *exists, int64_t *size,
			   ims_error **err);
/* GET, streamed into sink; the digest and size are verified while
 * streaming (IMS_EDIGEST on mismatch: the sink has then seen bad bytes, so
 * callers write into something they can abort). size < 0: not known, only
 * the digest is checked. Redirects are followed without the Authorization
 * header. */
int ims_registry_blob_get(ims_registry *r, const char *repo, const char *digest, int64_t size, ims_sink *sink,
			  ims_error **err);
/* Monolithic upload of size bytes read from fd at offset 0: POST, then PUT
 * ?digest= with Content-Length (relative Locations resolved; 201/202/204
 * accepted). Up to 3 attempts, each from a new session (the failed one is
 * DELETEd), on transient failures: network errors, 408/429/5xx, and a lost
 * session (BLOB_UPLOAD_UNKNOWN/INVALID). A Location that downgrades to
 * http, or points at a link-local address (or at another host's loopback
 * or private address), is refused; one on another origin gets no
 * Authorization. The fd is read with pread: its offset does not matter. */
typedef struct {
	void (*fn)(void *ud, int64_t done); /* bytes sent so far (from 0 again on a new attempt) */
	void *ud;
} ims_registry_progress;
int ims_registry_blob_upload_fd(ims_registry *r, const char *repo, const char *digest, int fd, int64_t size,
				const ims_registry_progress *progress, ims_error **err);
/* Streamed upload: POST, chunked PATCHes of up to IMS_REGISTRY_STREAM_PIECE
 * bytes from reader (none empty), PUT ?digest=. Not retried (the stream
 * cannot be replayed). */
int ims_registry_blob_upload_stream(ims_registry *r, const char *repo, const char *digest, ims_reader *reader,
				    ims_error **err);
/* The same for a blob still being written: reader follows it, and
 * digest_later (a buffer) holds its digest by the time reader ends, or ""
 * when the blob is not wanted after all (the session is then deleted). */
int ims_registry_blob_upload_follow(ims_registry *r, const char *repo, ims_reader *reader, const char *digest_later,
				    ims_error **err);
/* Cross-repository mount: POST ?mount=digest&from=from_repo. *mounted is
 * true only on 201; any other answer leaves it false (and cancels an upload
 * session the registry may have opened), so the caller uploads instead. */
int ims_registry_blob_mount(ims_registry *r, const char *repo, const char *digest, const char *from_repo,
			    bool *mounted, ims_error **err);

#endif
