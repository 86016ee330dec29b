/* Internals shared by the credential store's files (dockerconfig.c,
 * helper.c, login.c) and their unit test; nothing else includes it. */
#ifndef IMS_AUTH_CREDSTORE_INT_H
#define IMS_AUTH_CREDSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/credstore.h"
#include "json/json.h"

/* config.json and auth.json are small; a bigger one is a mistake or an
 * attack, and is refused before it is parsed. */
#define IMS_CRED_FILE_MAX (1024 * 1024)
/* One `auth` value, base64: far above any real user:password. */
#define IMS_CRED_AUTH_MAX (64 * 1024)
/* A helper's answer, and a secret handed to one. */
#define IMS_CRED_HELPER_OUT_MAX (64 * 1024)
#define IMS_CRED_HELPER_TIMEOUT_MS 10000
/* The longest helper name accepted (docker-credential-NAME). */
#define IMS_CRED_HELPER_NAME_MAX 64

/* Docker Hub's canonical host, and the key docker writes for it. */
#define IMS_CRED_HUB "docker.io"
#define IMS_CRED_HUB_URL "https://index.docker.io/v1/"

/* ---- dockerconfig.c ---- */

/* The config.json path ($DOCKER_CONFIG/config.json, else
 * $HOME/.docker/config.json); NULL when neither variable is set. */
char *ims_cred__config_path(void);
/* Reads and parses a credentials file (capped, must be an object).
 * A missing file gives *out = NULL and 0. The read buffer is wiped. */
int ims_cred__file_load(const char *path, ims_json **out, ims_error **err);
/* Wipes every string of a tree (they may be secrets), then frees it. */
void ims_cred__json_free(ims_json *v);
/* The helper configured for registry: credHelpers[registry] (*explicit_
 * = true), else a non-empty credsStore; NULL when none. A name that is not
 * a string or not allowed is an IMS_EINVALID error naming the file. */
int ims_cred__helper_for(const ims_json *cfg, const char *path, const char *registry, const char **name,
			 bool *explicit_, ims_error **err);
/* A name safe to show in a message (printable, truncated); caller frees. */
char *ims_cred__display(const char *s);

/* ---- helper.c ---- */

/* True when name matches [A-Za-z0-9][A-Za-z0-9._-]* and is not too long. */
bool ims_cred__helper_name_valid(const char *name);
/* The absolute path of docker-credential-NAME on PATH (absolute PATH
 * entries only), or NULL. Caller frees. */
char *ims_cred__helper_find(const char *name);
/* Whether a helper's output is the "not found" answer. */
bool ims_cred__helper_said_not_found(const char *text, size_t len);
/* Reads a helper's answer to get (len bytes of text, not NUL-terminated)
 * into out: strict JSON {ServerURL, Username, Secret} for server_url.
 * Messages name the helper, never the text. */
int ims_cred__helper_answer(const char *name, const char *text, size_t len, const char *server_url,
			    ims_credentials *out, ims_error **err);
/* Tests only: the helper timeout in milliseconds (<= 0: the default). */
void ims_cred_helper__set_timeout_ms(int ms);

#endif
