/* The HTTP room: the only user of <curl/curl.h>.
 *
 * One ims_http per run holds the settings (TLS, insecure hosts, retries,
 * tracing), a libcurl share handle so that TLS sessions and DNS answers are
 * reused across requests and threads, and a pool of easy handles that keep
 * their connections (libcurl does not support one connection cache used by
 * concurrent threads). A request is one
 * method + URL; redirects are followed by hand (at most 10) so that the
 * Authorization header never leaves the origin it was meant for. Retries of
 * idempotent requests (and of bodies that can be replayed: memory or a file
 * descriptor) happen here, with exponential backoff, jitter and Retry-After. */
#ifndef IMS_HTTP_H
#define IMS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagespec/error.h"
#include "util/buf.h"
#include "util/stream.h"

/* libcurl is loaded when the room first needs it (util/lazylib.h); the
 * global set-up is libcurl's, run then, and undone here. */
int ims_http_global_init(void);
void ims_http_global_cleanup(void);

/* TLS settings for one host[:port] (from the spec's `registries:`, the
 * command line, or /etc/docker/certs.d/HOST/). */
typedef struct {
	const char *host;        /* "host" or "host:port", matched exactly */
	const char *ca_file;     /* extra CA (PEM), merged with the system CAs */
	const char *client_cert; /* PEM; needs client_key */
	const char *client_key;
	bool insecure;           /* do not verify TLS; plain HTTP allowed */
} ims_http_host;

typedef struct {
	const char *ca_file;     /* --ca-cert: extra CAs for every host */
	const ims_http_host *hosts;
	size_t nhosts;
	const char *const *certs_dirs; /* default {"/etc/docker/certs.d", "/etc/containers/certs.d"} when NULL */
	size_t ncerts_dirs;
	int max_attempts;        /* total tries per request; default 5 */
	double backoff_initial;  /* seconds; default 0.5 */
	double backoff_max;      /* cap for one wait, also for Retry-After; default 30 */
	long connect_timeout;    /* seconds; default 30 */
	long low_speed_time;     /* abort a transfer slower than IMS_HTTP_LOW_SPEED_LIMIT bytes/s for this
				  * many seconds (a stall); default 30. A stall is not retried. */
	double timeout;          /* seconds from ims_http_new within which every request must end (the
				  * command's --timeout): a request running then is stopped, none starts
				  * after, and no retry waits past it; 0: no deadline */
	/* Redacted trace lines (-v): method, URL without secrets, status.
	 * Called on the requesting thread, so it must be thread-safe when
	 * requests run in parallel. */
	void (*trace)(void *ud, const char *line);
	void *trace_ud;
	/* Told of every retry, with its reason and wait, whatever the
	 * verbosity ("GET URL: registry answered 503; retrying in 1.0 s (try
	 * 2 of 5)"). Same threading rule as trace. */
	void (*notice)(void *ud, const char *line);
	void *notice_ud;
	/* Warned once per host named insecure, at its first request: TLS is
	 * not verified there and plain HTTP is allowed (catalogue item 76);
	 * and of each distinct `Warning` header text a response carries,
	 * cleaned and bounded ("`host:port` warns: TEXT"), a few per run at
	 * most (catalogue item 60). Same threading rule as trace. */
	void (*warn)(void *ud, const char *line);
	void *warn_ud;
	const char *user_agent;  /* default "imagespec/VERSION" */
} ims_http_options;

typedef struct ims_http ims_http;

/* Below this many bytes a second for low_speed_time seconds, a transfer
 * has stalled. */
#define IMS_HTTP_LOW_SPEED_LIMIT 1024
#define IMS_HTTP_LOW_SPEED_TIME 30

int ims_http_new(ims_http **out, const ims_http_options *o, ims_error **err);
void ims_http_free(ims_http *h);

/* True when host (host[:port]) may use plain HTTP: loopback, or named insecure. */
bool ims_http_host_insecure(const ims_http *h, const char *host);
/* True when the user named host:port, or host, insecure (the spec's
 * `registries:`, --insecure-registry); loopback alone does not count. */
bool ims_http_host_named_insecure(const ims_http *h, const char *host, unsigned port);

typedef enum {
	IMS_HTTP_OK = 0,          /* a response arrived (any status) */
	IMS_HTTP_FAIL_CONNECT,    /* could not connect / resolve */
	IMS_HTTP_FAIL_TLS,        /* TLS handshake failed: e.g. the server speaks plain HTTP */
	IMS_HTTP_FAIL_TLS_VERIFY, /* certificate not trusted / wrong name: never fall back */
	IMS_HTTP_FAIL_TIMEOUT,
	IMS_HTTP_FAIL_OTHER,
} ims_http_failure;

typedef struct ims_http_response ims_http_response;

typedef struct {
	const char *method; /* GET, HEAD, PUT, POST, PATCH, DELETE */
	const char *url;    /* http:// or https:// only */
	const char *const *headers; /* "Name: value" lines */
	size_t nheaders;
	/* The Authorization header value ("Bearer x", "Basic y"): sent only to
	 * the scheme+host+port of url, never after a redirect to another origin. */
	const char *authorization;
	/* The body: at most one of these. */
	const void *body;      /* in memory (replayable) */
	size_t body_len;
	int body_fd;           /* a file descriptor read from body_offset (replayable); -1 when unused */
	int64_t body_offset;
	int64_t body_fd_len;
	ims_reader *body_reader; /* streamed, sent chunked; never retried */
	/* Where a 2xx response body goes; NULL: into resp->body (capped by max_body). */
	ims_sink *sink;
	size_t max_body;       /* cap for buffered bodies; default 64 KiB */
	bool follow_redirects; /* GET/HEAD: follow up to 10 redirects by hand */
	bool no_retry;         /* the caller retries itself */
	/* Told the bytes of body_fd sent, or of a 2xx body given to sink, so
	 * far (again from 0 when a try starts over). Called on the requesting
	 * thread; may be NULL. */
	void (*progress)(void *ud, int64_t done);
	void *progress_ud;
	/* For a status worth retrying (500 in practice): true when the answer
	 * says another try gives the same (a registry error code that is not
	 * transient). Such an answer is tried once more, and only when it
	 * comes back the same is the request given up; NULL: never. */
	bool (*permanent)(const ims_http_response *resp);
} ims_http_request;

#define IMS_HTTP_REQUEST_INIT { .body_fd = -1 }

struct ims_http_response {
	long status;
	char **names;  /* lower-cased header names of the final response */
	char **values;
	size_t nheaders;
	ims_buf body;  /* buffered body (non-2xx always; 2xx when no sink) */
	char *url;     /* the URL that answered (after redirects) */
	ims_http_failure failure; /* why no response arrived (with a negative return) */
	int attempts;
};

/* Performs the request. Returns 0 when a response arrived, whatever its
 * status, or IMS_ENET with *err naming the method and the redacted URL.
 * 408, 429, 500, 502, 503, 504 and connection errors are retried when the
 * body can be replayed; the last response is returned when tries run out.
 * A 500 that comes back byte for byte the same is deterministic, not a
 * blip: it is given up after 3 tries, or after 2 when req->permanent says
 * its body names a failure that is not transient.
 * Other negative returns: IMS_EINVALID for a malformed request or broken
 * TLS settings (certs.d), the sink's own code when it fails, IMS_EGENERIC
 * for a 2xx body over max_body. *resp is always filled in (status, headers,
 * url, attempts as far as they got) and must be disposed, even on failure.
 * Safe to call from several threads at once on the same ims_http. */
int ims_http_do(ims_http *h, const ims_http_request *req, ims_http_response *resp, ims_error **err);
void ims_http_response_dispose(ims_http_response *r);
/* The last value of a header (case-insensitive name), or NULL. */
const char *ims_http_header(const ims_http_response *r, const char *name);
/* Resolves a Location (absolute, or relative to base). Returns NULL for a
 * scheme other than http/https. Caller frees. */
char *ims_http_resolve_url(const char *base, const char *location);
/* Origin "scheme://host:port" of a URL (default ports filled in); caller frees. */
char *ims_http_origin(const char *url);
/* The host of an origin ("scheme://host:port"), without brackets; NULL
 * when it has none. Caller frees. */
char *ims_http_origin_host(const char *origin);
/* What a literal host is; names other than "localhost" are IMS_ADDR_NAME
 * (DNS is not asked). 0.0.0.0 and :: count as link-local: never a peer. */
typedef enum { IMS_ADDR_NAME, IMS_ADDR_PUBLIC, IMS_ADDR_PRIVATE, IMS_ADDR_LOOPBACK, IMS_ADDR_LINK_LOCAL } ims_http_addr;
ims_http_addr ims_http_host_class(const char *host);
/* A URL safe to print: no userinfo, and every query value replaced by
 * "REDACTED" except digest, mount, from, n, last, scope, service. */
char *ims_http_redact_url(const char *url);
/* Parses a Retry-After value (seconds or an HTTP date) into seconds from now;
 * -1 when absent or invalid. */
double ims_http_retry_after(const char *value);

#endif
