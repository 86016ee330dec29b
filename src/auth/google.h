/* Google service accounts (gcr.io, *.gcr.io, *.pkg.dev): an RS256 JWT
 * signed with the key of the service-account JSON, exchanged at its
 * token_uri for an access token, used as the password of the user
 * "oauth2accesstoken". Tokens are cached until they expire. */
#ifndef IMS_AUTH_GOOGLE_H
#define IMS_AUTH_GOOGLE_H

#include <stdbool.h>

#include "auth/auth.h"
#include "http/http.h"

/* True for gcr.io, *.gcr.io and *.pkg.dev (with or without a port). */
bool ims_google_host(const char *registry);

typedef struct ims_google ims_google;

int ims_google_new(ims_google **out, ims_http *http);
void ims_google_free(ims_google *g);

/* Credentials (username "oauth2accesstoken", password = access token) from
 * the service-account key file at path (cached per path until expiry).
 * Errors name the file, never the key or the token. */
int ims_google_credentials(ims_google *g, const char *path, ims_credentials *out, ims_error **err);

/* Tests: moves g's clock on by seconds, so expiry is tested without waiting. */
void ims_google__advance(ims_google *g, double seconds);

#endif
