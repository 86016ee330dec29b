/* Internals of the auth room, shared between its files only. */
#ifndef IMS_AUTH_INT_H
#define IMS_AUTH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"

/* Limits of a token server's answer: a token is a header value sent on
 * every request, so a huge one is refused rather than carried around. */
#define IMS_AUTH_TOKEN_BODY_MAX (1024 * 1024)
#define IMS_AUTH_TOKEN_MAX (64 * 1024)
#define IMS_AUTH_EXPIRES_DEFAULT 60
#define IMS_AUTH_EXPIRES_MAX (24 * 60 * 60)

/* ---- credentials.c ---- */

/* Zeroes and frees a string that may hold a secret. */
void ims_auth__free_secret(char *s);
/* True when c carries nothing (anonymous). */
bool ims_auth__anonymous(const ims_credentials *c);
/* Hex sha256 over every field of c (secrets included), so that changed
 * credentials never reuse a token fetched with the old ones. */
void ims_auth__identity(const ims_credentials *c, char out[65]);
/* "the spec's auth `x`", or a neutral phrase when the source is unknown. */
const char *ims_auth__source(const ims_credentials *c);
/* True when s is usable inside an Authorization header: printable ASCII
 * without spaces (token68-ish), non-empty, at most IMS_AUTH_TOKEN_MAX. */
bool ims_auth__token_valid(const char *s);

/* ---- basic.c ---- */

/* "Basic base64(user:pass)"; IMS_EINVALID when the username holds a colon. */
int ims_auth__basic_value(const ims_credentials *c, char **out, ims_error **err);
/* The answer to a Basic challenge (see basic.c). */
int ims_auth__basic(const ims_credentials *c, const char *registry, bool renew, char **out, ims_error **err);

/* ---- realm.c ---- */

typedef enum {
	IMS_HOST_PUBLIC,    /* a name, or a public address */
	IMS_HOST_LOOPBACK,  /* 127/8, ::1, localhost, unspecified */
	IMS_HOST_PRIVATE,   /* RFC 1918, fc00::/7 */
	IMS_HOST_LINKLOCAL, /* 169.254/16, fe80::/10 */
} ims_host_class;

typedef struct {
	bool https;
	char *host; /* lower-cased, IPv6 without brackets */
	unsigned port;
} ims_url_parts;

/* Splits an http(s) URL; false for anything else (userinfo refused too). */
bool ims_auth__url_split(const char *url, ims_url_parts *out);
void ims_auth__url_parts_dispose(ims_url_parts *u);
/* "scheme://host:port", brackets around IPv6: what messages show of a
 * URL (its path and query may carry secrets). Caller frees. */
char *ims_auth__url_display(const ims_url_parts *u);
ims_host_class ims_auth__host_class(const char *host);
/* Applies the realm rules (realm.c) to realm for registry at origin. */
int ims_auth__realm_check(ims_http *http, const char *origin, const char *registry, const char *realm, ims_error **err);
/* The same rules for a token server's redirect (ggcr #2292). */
int ims_auth__redirect_check(ims_http *http, const char *origin, const char *registry, const char *url,
			     ims_error **err);
/* True when Basic credentials may travel to realm (TLS, or plain HTTP to a
 * loopback realm or for an insecure registry). */
bool ims_auth__realm_may_carry_secrets(ims_http *http, const char *origin, const char *realm);

/* ---- cache.c ---- */

typedef struct ims_auth_entry ims_auth_entry;

typedef struct {
	pthread_mutex_t lock;
	ims_auth_entry *head;
	size_t n;
} ims_auth_cache;

void ims_auth__cache_init(ims_auth_cache *c);
void ims_auth__cache_dispose(ims_auth_cache *c);
/* The scopes sorted, without duplicates, joined by one space; caller frees. */
char *ims_auth__scope_set(const char *const *scopes, size_t n);
/* A fresh value for key, or NULL; caller frees. */
char *ims_auth__cache_get(ims_auth_cache *c, const char *key);
/* Stores value under key for origin and scope set. lifetime is the full
 * validity in seconds, remaining what is left of it now; lifetime 0: never
 * expires (Basic, a token given as it is). */
void ims_auth__cache_put(ims_auth_cache *c, const char *key, const char *origin, const char *scope_set,
			 const char *value, double lifetime, double remaining);
void ims_auth__cache_drop(ims_auth_cache *c, const char *key);
/* The freshest value stored for origin and scope set, or NULL; caller frees. */
char *ims_auth__cache_find(ims_auth_cache *c, const char *origin, const char *scope_set);

/* ---- token.c ---- */

typedef struct {
	const char *registry; /* host[:port], for messages */
	const char *origin;   /* the registry's origin */
	const char *realm;
	const char *service; /* may be NULL */
	const char *const *scopes;
	size_t nscopes;
} ims_token_request;

typedef struct {
	char *token;      /* caller frees (ims_auth__free_secret) */
	double lifetime;  /* seconds, as granted */
	double remaining; /* seconds left now (issued_at taken into account) */
} ims_token;

int ims_auth__token_fetch(ims_http *http, const ims_token_request *r, const ims_credentials *c, ims_token *out,
			  ims_error **err);

/* ---- token_response.c ---- */

/* Parses a token server's JSON answer. origin names the server in errors. */
int ims_auth__token_parse(const char *body, size_t len, const char *origin, ims_token *out, ims_error **err);
/* Seconds since the epoch for an RFC 3339 time; false when malformed. */
bool ims_auth__rfc3339(const char *s, double *out);

struct ims_auth {
	ims_http *http;
	ims_credentials_fn creds;
	void *creds_ud;
	ims_auth_cache cache;
};

#endif
