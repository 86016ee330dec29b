/* The executor: runs a plan. The only room that sequences I/O between the
 * source, the layer writer and the target, for every verb: build, copy,
 * inspect and tags. The public face (api/) makes a plan and hands it here
 * with the caller's settings. */
#ifndef IMS_EXEC_H
#define IMS_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/result.h"
#include "plan/plan.h"
#include "util/event.h"
#include "util/stream.h"

/* Credentials a caller holds in memory (the Image API's `auth`), for the
 * registries their key covers (host or host/namespace, longest wins). They
 * come before every other source. */
typedef struct {
	const char *key;
	const char *username, *password, *token;
} ims_exec_credential;

/* The caller's settings: where to stage, how to reach registries, and who
 * listens to events. */
typedef struct {
	const char *tmp_dir;         /* NULL: $TMPDIR or /tmp */
	int jobs;                    /* parallel transfers; 0: 4 */
	int verbose;                 /* trace requests as events */
	const char *ca_cert;         /* an extra CA bundle for every registry */
	const char *const *insecure; /* hosts allowed plain HTTP / unverified TLS */
	size_t ninsecure;
	const ims_exec_credential *creds;
	size_t ncreds;
	const char *cache_dir; /* the layer cache; NULL: none */
	int64_t cache_max;     /* its size cap; 0: the default */
	double timeout;        /* seconds every network request of a run must end within; 0: none */
	long low_speed_time;   /* seconds below 1 KiB/s that count as a stall; 0: the default (30) */
	ims_events ev;
} ims_exec_env;

typedef enum {
	IMS_EXEC_RUN,         /* build and write */
	IMS_EXEC_DRY,         /* compute everything, write nothing; ask a registry target what it has */
	IMS_EXEC_DRY_OFFLINE, /* compute everything, write nothing, ask nobody */
} ims_exec_mode;

/* Runs a build plan. */
int ims_exec_build(ims_build_result **out, const ims_exec_env *env, const ims_plan *p, ims_exec_mode mode,
		   ims_error **err);
/* The config a build plan gives its first platform, before the new layers
 * exist (the Image API's get_config). Caller frees *json. */
int ims_exec_preview_config(const ims_exec_env *env, const ims_plan *p, char **json, ims_error **err);
/* Runs a copy plan; *digest (if non-NULL) gets what was written. */
int ims_exec_copy(const ims_exec_env *env, const ims_plan *p, char **digest, ims_error **err);
/* Runs an index plan; dst and shown[i] are the target and source i as the
 * user wrote them (for messages); *digest and *json (each if non-NULL) get
 * the index written and the result as JSON. */
int ims_exec_index(const ims_exec_env *env, const ims_plan *p, const char *dst, const char *const *shown,
		   char **digest, char **json, ims_error **err);
/* Runs an inspect plan into a JSON document or raw bytes. */
int ims_exec_inspect(const ims_exec_env *env, const ims_plan *p, char **out, size_t *len, ims_error **err);
/* The entries a report keeps per image (across its layers); past it each
 * layer still counts its entries but lists no more (its "truncated"). */
#define IMS_REPORT_MAX_ENTRIES 200000
struct ims_json;
/* Runs an inspect plan further, into the report tree of its image: config,
 * history, and every layer with its entries (exec/report.c). */
int ims_exec_report(const ims_exec_env *env, const ims_plan *p, struct ims_json **out, ims_error **err);
/* Runs a tags plan. */
int ims_exec_tags(const ims_exec_env *env, const ims_plan *p, char ***tags, size_t *n, ims_error **err);

/* One repository of a registry, verb by verb (registry.c), for the public
 * ims_registry_client. env must outlive the handle. */
typedef struct ims_exec_registry ims_exec_registry;
int ims_exec_registry_open(ims_exec_registry **out, const ims_exec_env *env, const char *registry,
			   const char *repository, ims_error **err);
void ims_exec_registry_close(ims_exec_registry *x);
int ims_exec_registry_get_manifest(ims_exec_registry *x, const char *reference, char **data, size_t *len,
				   char **media_type, char digest[IMS_DIGEST_BUFSZ], ims_error **err);
int ims_exec_registry_put_manifest(ims_exec_registry *x, const char *tag, const char *data, size_t len,
				   const char *media_type, char digest[IMS_DIGEST_BUFSZ], ims_error **err);
int ims_exec_registry_tags(ims_exec_registry *x, char ***tags, size_t *n, ims_error **err);
int ims_exec_registry_blob_exists(ims_exec_registry *x, const char *digest, bool *exists, int64_t *size,
				  ims_error **err);
/* Verified while streaming into sink. */
int ims_exec_registry_get_blob(ims_exec_registry *x, const char *digest, ims_sink *sink, ims_error **err);
/* want_digest NULL / want_size < 0: not known beforehand. */
int ims_exec_registry_upload(ims_exec_registry *x, ims_reader *rd, const char *want_digest, int64_t want_size,
			     char digest[IMS_DIGEST_BUFSZ], int64_t *size, ims_error **err);
int ims_exec_registry_mount(ims_exec_registry *x, const char *digest, const char *from, bool *mounted, ims_error **err);

/* The layer cache's default directory, size and pruning (layer_cache.c). */
char *ims_exec_cache_default_dir(void);
int ims_exec_cache_du(const ims_exec_env *env, int64_t *bytes, size_t *blobs, size_t *layers, ims_error **err);
int ims_exec_cache_prune(const ims_exec_env *env, int64_t max_bytes, int64_t *freed, ims_error **err);

/* Global set-up of the rooms below (libcurl), for ims_init/ims_shutdown. */
int ims_exec_global_init(void);
void ims_exec_global_cleanup(void);

/* The credential store (auth login/logout/get; exec/credstore.c). */
int ims_exec_login(const ims_exec_env *env, const char *registry, const char *username, const char *password,
		   ims_error **err);
int ims_exec_logout(const ims_exec_env *env, const char *registry, ims_error **err);
int ims_exec_lookup(const ims_exec_env *env, const char *server_url, char **username, char **secret, ims_error **err);

#endif
