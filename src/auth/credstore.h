/* Credentials outside the spec (SPEC-v1.md section 2, credential order):
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json (credHelpers for the
 * host, then credsStore, then auths with base64 `auth`, username/password
 * or identitytoken), then $REGISTRY_AUTH_FILE (podman's auth.json, same
 * format), then podman's default ${XDG_RUNTIME_DIR}/containers/auth.json
 * (v1.1), then anonymous. Docker Hub's names (docker.io, index.docker.io,
 * registry-1.docker.io and the "https://index.docker.io/v1/" key) are one. */
#ifndef IMS_AUTH_CREDSTORE_H
#define IMS_AUTH_CREDSTORE_H

#include "auth/auth.h"

typedef void (*ims_warn_fn)(void *ud, const char *msg);

/* A registry name as docker takes it ("docker.io", "localhost:5000",
 * "https://index.docker.io/v1/", "https://host/path") as the host[:port]
 * the store is keyed by: lower-cased, scheme and path dropped, Docker
 * Hub's aliases folded into "docker.io". NULL when it is not a registry
 * name. Caller frees. */
char *ims_credstore_registry(const char *name);
/* The server URL a credential helper is asked about for a registry keyed
 * as above: "https://index.docker.io/v1/" for Docker Hub, else host[:port],
 * as docker asks it. Caller frees. */
char *ims_credstore_server_url(const char *registry);

/* Fills *out for registry (host[:port]); all NULL when nothing matches.
 * A credsStore helper that is not installed draws a warning and gives
 * anonymous; a helper that fails, hangs or prints garbage is an error
 * naming the helper (never its output). out->source names the file/helper. */
int ims_credstore_lookup(const char *registry, ims_credentials *out, ims_warn_fn warn, void *warn_ud,
			 ims_error **err);

/* The credential-helper protocol: runs docker-credential-NAME (found on
 * PATH, executed without a shell) with `get` and the server URL on stdin,
 * with a timeout (10 s) and capped output (64 KiB); {ServerURL, Username,
 * Secret} on stdout; Username "<token>" means an identity token.
 * NAME must match [A-Za-z0-9][A-Za-z0-9._-]*. A helper saying
 * "credentials not found" gives anonymous (*found = false). */
int ims_cred_helper_get(const char *name, const char *server_url, ims_credentials *out, bool *found,
			ims_error **err);
int ims_cred_helper_store(const char *name, const char *server_url, const char *username, const char *secret,
			  ims_error **err);
int ims_cred_helper_erase(const char *name, const char *server_url, ims_error **err);

/* `imagespec auth login`: stores credentials as docker does: through the
 * configured credHelpers/credsStore helper when there is one, else in
 * config.json `auths` (base64), keeping every other entry, written 0600
 * atomically. */
int ims_credstore_login(const char *registry, const char *username, const char *password, ims_error **err);
/* `imagespec auth logout`: removes them (helper erase or the auths entry). */
int ims_credstore_logout(const char *registry, ims_error **err);

#endif
