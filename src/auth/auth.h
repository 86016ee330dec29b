/* The auth room: registry challenges, credentials and Bearer tokens.
 *
 * A registry answers 401 with a WWW-Authenticate challenge. For Basic, the
 * credentials are sent as they are; for Bearer, a token with the exact
 * scopes the operation needs is fetched from the challenge's realm (with
 * Basic credentials when there are any, anonymously otherwise), cached per
 * (realm, service, scopes, credential identity) and renewed before
 * expires_in runs out, or when the registry answers 401 again. */
#ifndef IMS_AUTH_H
#define IMS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "imagespec/error.h"

typedef struct {
	char *username;       /* Basic, or the user of a token exchange */
	char *password;
	char *token;          /* a Bearer token used as it is */
	char *identity_token; /* an OAuth2 refresh token (config.json identitytoken) */
	char *source;         /* where they came from, for messages: "the spec's auth `ghcr.io`" */
} ims_credentials;

void ims_credentials_dispose(ims_credentials *c);

/* Looks up credentials for a registry host and repository. Fills *out (all
 * NULL for anonymous). Supplied by the executor (spec auth; later config.json
 * and helpers). */
typedef int (*ims_credentials_fn)(void *ud, const char *registry, const char *repository, ims_credentials *out,
				  ims_error **err);

typedef struct {
	char *scheme;  /* "basic" or "bearer" (lower-cased) */
	char *realm;
	char *service;
	char *scope;   /* as the registry sent it; may be NULL */
	char *error;   /* e.g. "insufficient_scope"; may be NULL */
} ims_challenge;

/* Parses a WWW-Authenticate value (bounded: 8 KiB, 32 parameters; quoted
 * strings with escapes; duplicate parameters and CR/LF refused). When several
 * challenges are offered, Bearer is preferred over Basic. */
int ims_challenge_parse(const char *value, ims_challenge *out, ims_error **err);
void ims_challenge_dispose(ims_challenge *c);

typedef struct ims_auth ims_auth;

int ims_auth_new(ims_auth **out, ims_http *http, ims_credentials_fn creds, void *creds_ud);
void ims_auth_free(ims_auth *a);

/* Returns (in *out, caller frees) the Authorization value for a request to
 * registry (host[:port]) whose origin is `origin` ("https://host:port"),
 * answering challenge ch, with scopes like "repository:team/app:pull,push".
 * renew: the previous value was refused (401): IMS_AUTH_REFUSED when it was
 * just given (a new token is fetched; Basic credentials are final),
 * IMS_AUTH_STALE when it was a cached value that worked before (a token
 * that expired, a session a load balancer lost: a new token is fetched,
 * Basic credentials are presented again); 0 for a first answer.
 * Refuses a realm that is not http(s); an http realm for an https registry
 * (unless the registry is loopback or insecure); a link-local realm; a
 * loopback or private realm for a registry that is neither (a realm on the
 * registry's own host:port is allowed). See realm.c.
 * Errors: IMS_EAUTH when the credentials are refused (naming the registry
 * and the credentials' source, never the secret). */
enum { IMS_AUTH_REFUSED = 1, IMS_AUTH_STALE = 2 };
int ims_auth_header(ims_auth *a, const char *origin, const char *registry, const char *repository,
		    const ims_challenge *ch, const char *const *scopes, size_t nscopes, int renew, char **out,
		    ims_error **err);

/* A cached Authorization value for these scopes, if one is still fresh
 * (so that requests after the first skip the 401 round trip); NULL if none. */
char *ims_auth_cached(ims_auth *a, const char *origin, const char *const *scopes, size_t nscopes);

#endif
