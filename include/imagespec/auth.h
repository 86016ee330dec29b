/**
 * @file imagespec/auth.h
 * @brief Registry credentials kept as docker keeps them (config.json and
 * credential helpers), for `imagespec auth login|logout|get`.
 *
 * Registry names are taken as docker takes them: `docker.io`,
 * `localhost:5000`, `https://index.docker.io/v1/`. Secrets never appear in
 * an error message or an event.
 */
#ifndef IMAGESPEC_AUTH_H
#define IMAGESPEC_AUTH_H

#include "common.h"
#include "context.h"
#include "error.h"

IMS_BEGIN_DECL

/**
 * Stores credentials for registry, without contacting it: through the
 * credential helper config.json names for it (`credHelpers`, else
 * `credsStore`), else in config.json `auths` ($DOCKER_CONFIG/config.json or
 * ~/.docker/config.json, created 0600 in a 0700 directory when missing;
 * every other entry and field is kept; written atomically).
 */
IMS_EXTERN(int) ims_auth_login(ims_context *ctx, const char *registry, const char *username, const char *password,
			       ims_error **err);

/** Removes the credentials stored for registry (helper and file). Succeeds
 * when there were none. */
IMS_EXTERN(int) ims_auth_logout(ims_context *ctx, const char *registry, ims_error **err);

/**
 * The credentials a build would use for server_url, from config.json (its
 * helpers included) and $REGISTRY_AUTH_FILE, for the credential-helper
 * protocol: an identity token comes back with the username "<token>".
 * Returns IMS_ENOTFOUND when there are none. Free both strings with
 * ims_auth_secret_free().
 */
IMS_EXTERN(int) ims_auth_get(ims_context *ctx, const char *server_url, char **username, char **secret,
			     ims_error **err);

/** Zeroes and frees a string returned by ims_auth_get(); NULL-safe. */
IMS_EXTERN(void) ims_auth_secret_free(char *secret);

IMS_END_DECL

#endif
