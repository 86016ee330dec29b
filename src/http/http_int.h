/* Inside the HTTP room: the client state and the helpers its files share.
 * Only the room's own .c files include this, so <curl/curl.h> stays in the room. */
#ifndef IMS_HTTP_INT_H
#define IMS_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/curl_api.h"

#include "http/http.h"

#define IMS_HTTP_MAX_REDIRECTS 10
#define IMS_HTTP_DEFAULT_MAX_BODY (64 * 1024)
/* Idle easy handles kept (each with its own live connections). */
#define IMS_HTTP_POOL_MAX 16
/* Warning headers: the longest text shown, and how many distinct ones. */
#define IMS_HTTP_WARNING_MAX 256
#define IMS_HTTP_WARNINGS_SHOWN 8

/* What TLS means for one host[:port], built on its first request: the
 * merged CA bundle (NULL when the system CAs alone are enough), the client
 * certificate pair and whether verification is off. */
typedef struct ims_http_tls {
	struct ims_http_tls *next;
	char *key;     /* host[:port] as written in URLs */
	char *ca_blob; /* system bundle + --ca-cert + caFile + certs.d *.crt */
	size_t ca_len;
	char *cert; /* client certificate (PEM path) */
	char *cert_key;
	bool insecure;
	ims_error *err; /* a broken certs.d or caFile: every request fails with it */
} ims_http_tls;

/* A copy of one ims_http_host: the caller's strings need not outlive new(). */
typedef struct {
	char *host;
	char *ca_file;
	char *client_cert;
	char *client_key;
	bool insecure;
	bool warned; /* its insecure warning was given; guarded by tls_lock */
} ims_http_host_conf;

struct ims_http {
	CURLSH *share; /* TLS sessions and DNS answers */
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock; /* guards idle */
	struct {
		CURL *e;
		char *origin; /* of its last request */
	} idle[IMS_HTTP_POOL_MAX];
	size_t nidle;

	char *sys_cafile; /* $SSL_CERT_FILE or libcurl's bundle; may be NULL */
	char *sys_capath; /* $SSL_CERT_DIR or libcurl's directory; may be NULL */
	bool capath_only; /* verify against sys_capath alone (tls.c says why) */
	char *ca_extra;   /* --ca-cert contents (PEM), or NULL */
	size_t ca_extra_len;
	ims_http_host_conf *hosts;
	size_t nhosts;
	char **certs_dirs;
	size_t ncerts_dirs;

	int max_attempts;
	double backoff_initial;
	double backoff_max;
	long connect_timeout;
	long low_speed_time;
	double timeout;  /* the deadline's length, for messages; 0: none */
	double deadline; /* ims_http__now() by which every request must end; 0: none */
	char *user_agent;
	void (*trace)(void *ud, const char *line);
	void *trace_ud;
	void (*notice)(void *ud, const char *line);
	void *notice_ud;
	void (*warn)(void *ud, const char *line);
	void *warn_ud;
	pthread_mutex_t warn_lock; /* guards the warnings shown */
	char *warnings[IMS_HTTP_WARNINGS_SHOWN];
	size_t nwarnings;
	bool warnings_capped;

	pthread_mutex_t tls_lock; /* guards tls */
	ims_http_tls *tls;
};

/* Tells h->warn of the Warning headers of a response from url (warning.c). */
void ims_http__warnings(ims_http *h, const char *url, const ims_http_response *resp);

/* URL parts, from libcurl's parser. */
typedef struct {
	char *scheme; /* lower case: "http" or "https" */
	char *host;   /* lower case; IPv6 in brackets */
	char *port;   /* as written, or NULL */
	long portnum; /* with the scheme's default filled in */
} ims_http_url;

/* Borrows an easy handle (one that last served origin, if any) and gives
 * it back, reset, with its connections. */
CURL *ims_http__handle_get(ims_http *h, const char *origin);
void ims_http__handle_put(ims_http *h, CURL *e, const char *origin);
void ims_http__pool_free(ims_http *h);

/* Parses an absolute http(s) URL; false for anything else. */
bool ims_http__url_parse(const char *url, ims_http_url *u);
void ims_http__url_dispose(ims_http_url *u);
/* "host" or "host:port" as written in the URL: the key for settings. */
char *ims_http__url_hostkey(const ims_http_url *u);
/* "scheme://host:port", the unit of trust for credentials. */
char *ims_http__url_origin(const ims_http_url *u);

/* True for 127.0.0.0/8, ::1 and localhost; host may carry a port. */
bool ims_http__loopback(const char *host);
/* The first request to a host named insecure warns (h->warn), once. */
void ims_http__warn_insecure(ims_http *h, const ims_http_url *u);
/* The caller's settings for host[:port], or NULL. */
const ims_http_host_conf *ims_http__host_conf(const ims_http *h, const char *hostkey);

/* The TLS settings for host[:port], built once and cached on h. */
int ims_http__tls_apply(ims_http *h, CURL *e, const char *hostkey, ims_error **err);
void ims_http__tls_free_all(ims_http *h);
/* Reads the CA files of the options into h (fails on a missing file). */
int ims_http__tls_init(ims_http *h, const ims_http_options *o, ims_error **err);

/* Retry policy. */
bool ims_http__retry_status(long status);
/* CLOCK_MONOTONIC, in seconds. */
double ims_http__now(void);
/* Seconds left before h's deadline (> 0), 0 when it has passed, -1 when
 * there is none. */
double ims_http__left(const ims_http *h);
/* The error for a request that the deadline stopped or kept from starting. */
int ims_http__deadline_fail(const ims_http *h, ims_error **err, const char *method, const char *url);

/* Seconds to wait before try number attempt+1, with +-20% jitter. */
double ims_http__backoff(const ims_http *h, int attempt, uint64_t *rng);
void ims_http__sleep(double seconds);
uint64_t ims_http__rng_seed(void);

/* "could not connect", "timed out", ...: for messages and trace lines. */
const char *ims_http__failure_name(ims_http_failure f);

/* PUT, POST and PATCH: the methods that carry a body (0 bytes at least). */
bool ims_http__method_has_body(const char *method);

/* One try of one URL: no redirects, no retries. *retryable tells whether
 * a failure (negative return) may be tried again. *sink_used tells whether
 * bytes went to the caller's sink, after which nothing may be replayed. */
typedef struct {
	bool retryable;
	bool sink_used;
	int64_t bytes; /* response body bytes received */
} ims_http_try;

int ims_http__transfer(ims_http *h, const ims_http_request *req, const char *url, bool send_auth,
		       ims_http_response *resp, ims_http_try *t, ims_error **err);

/* Response headers. */
void ims_http__headers_clear(ims_http_response *r);
/* Adds one raw header line ("Name: value\r\n"); false when it is not a header. */
bool ims_http__headers_add_line(ims_http_response *r, const char *line, size_t len);

/* Sets an IMS_ENET error "METHOD `redacted url`: why". */
int ims_http__fail(ims_error **err, const char *method, const char *url, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void ims_http__tracef(const ims_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
