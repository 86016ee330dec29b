/* Internals shared by the files of the registry client (registry_client.c,
 * registry_manifest.c, registry_tags.c, registry_blob.c,
 * registry_upload.c, registry_location.c). Not used outside them. */
#ifndef IMS_TRANSPORT_REGISTRY_INT_H
#define IMS_TRANSPORT_REGISTRY_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "transport/registry_client.h"

/* A streamed upload goes up in PATCHes of at most this many bytes, each a
 * chunked body (registry_upload.c, upload_stream). */
#define IMS_REGISTRY_STREAM_PIECE ((int64_t)8 << 20)

struct ims_registry {
	ims_http *http;
	ims_auth *auth;
	char *host;     /* as in the reference: what credentials are looked up by */
	char *api_host; /* where requests go: docker.io → registry-1.docker.io */
	bool insecure;  /* loopback or named insecure: plain HTTP allowed */
	bool loopback;
	int64_t stream_piece; /* a streamed upload's bytes per PATCH (registry_upload.c) */

	/* The scheme is decided once, by the first request of any thread. */
	pthread_mutex_t lock;
	char *base;   /* "https://host[:port]" once decided, else NULL */
	char *origin; /* ims_http_origin(base) */
	long ping_status; /* of GET /v2/; 0 when another request decided the scheme */
};

/* One operation: its message prefix and the scopes its requests need. */
typedef struct {
	char *what; /* "get manifest `host/repo:tag`" */
	const char *repo;
	char *scopes[2];
	size_t nscopes;
} ims_registry_call;

/* Fills c for an operation on repo: pull, or pull+push when push is set,
 * plus pull on from (a mount's source repository) when non-NULL. */
void ims_registry__call_init(ims_registry_call *c, const ims_registry *r, const char *repo, bool push, const char *from,
			     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void ims_registry__call_dispose(ims_registry_call *c);

/* Decides the scheme (GET /v2/ over https, then plain http for loopback or
 * insecure hosts that do not speak TLS). Idempotent; thread-safe.
 * ims_registry__send_path needs no GET /v2/: its first request decides. */
int ims_registry__connect(ims_registry *r, ims_error **err);

/* Sends req with the Authorization for c's scopes and answers challenges:
 * a 401 gets a header from the auth room and one retry, a second 401 a
 * renewed one (a new token; Basic credentials presented once more, so a
 * 401 in the middle of a push from a server that lost its session is
 * survived); a third is left in resp for the caller. Requests to another
 * origin (an upload Location, a redirect) carry no Authorization and get
 * no challenge answered. Returns 0 when a response arrived (any status). */
int ims_registry__send(ims_registry *r, const ims_registry_call *c, ims_http_request *req, ims_http_response *resp,
		       ims_error **err);

/* Points req at base + "/v2/" + the formatted path and sends it
 * (ims_registry__send). The first request to r (but one with a streamed
 * body) is what decides the scheme, with no GET /v2/ before it: sent
 * without credentials over https, then over plain http where that is
 * allowed, and a 401 to it is answered as usual. req->url is cleared
 * again; resp->url has the URL that answered. */
int ims_registry__send_path(ims_registry *r, const ims_registry_call *c, ims_http_request *req, ims_http_response *resp,
			    ims_error **err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The error for an unexpected response: "<what>: registry answered 404
 * MANIFEST_UNKNOWN: manifest unknown", with http_status set. 401/403 give
 * IMS_EAUTH, 404 IMS_ENOTFOUND, DIGEST_INVALID IMS_EDIGEST. */
int ims_registry__fail(const ims_registry_call *c, const ims_http_response *resp, ims_error **err);
/* For a HEAD: 200 sets *exists, 404 clears it, anything else fails. */
int ims_registry__exists(const ims_registry_call *c, const ims_http_response *resp, bool *exists, ims_error **err);
/* True when trying again from a new upload session may help: 408, 429,
 * 5xx, and the codes of a lost session (BLOB_UPLOAD_UNKNOWN/INVALID). */
bool ims_registry__transient(const ims_http_response *resp);
/* " CODE: message" from the registry's JSON error body (or the start of a
 * short text body), else "". Caller frees. */
char *ims_registry__detail(const ims_http_response *resp);
/* The most useful `code` of the registry's JSON error body (the first that
 * is not UNKNOWN, UNAVAILABLE or TOOMANYREQUESTS, else the first), or
 * NULL. Caller frees. */
char *ims_registry__error_code(const ims_http_response *resp);
/* True when the error body names a cause another try will not change (a
 * code other than UNKNOWN, UNAVAILABLE, TOOMANYREQUESTS): req->permanent. */
bool ims_registry__permanent(const ims_http_response *resp);

/* The Docker-Content-Digest of resp must be absent, another algorithm, or
 * equal to want (IMS_EDIGEST otherwise). */
int ims_registry__check_dcd(const ims_registry_call *c, const ims_http_response *resp, const char *want,
			    ims_error **err);

/* What the registry sent does not parse: a registry fault (exit 1), not
 * the IMS_EINVALID (exit 2) of bad usage the parsers report. Returns r,
 * recoded the same way. */
int ims_registry__not_spec(ims_error **err, int r);

/* Repository names of the distribution grammar only, so they cannot change
 * the shape of a URL. */
int ims_registry__check_repo(const char *repo, ims_error **err);

/* Resolves the Location of resp against the URL that answered (resp->url)
 * and checks it may be used (see registry_location.c). Caller frees *out. */
int ims_registry__location(ims_registry *r, const ims_registry_call *c, const ims_http_response *resp, char **out,
			   ims_error **err);
/* Cancels an upload session (DELETE), ignoring every failure. */
void ims_registry__cancel_upload(ims_registry *r, const ims_registry_call *c, const char *location);

/* The target of a Link header whose rel is "next", or NULL (caller frees). */
char *ims_registry__link_next(const char *value);

#endif
