/* Layer caches shared through a registry (--cache-from, --cache-to).
 * Private to exec/. */
#ifndef IMS_EXEC_REMOTE_CACHE_H
#define IMS_EXEC_REMOTE_CACHE_H

#include "cache/cache.h"
#include "exec/exec_int.h"
#include "json/cachedoc.h"

typedef struct {
	char recipe[IMS_DIGEST_BUFSZ];
	ims_descriptor desc; /* one of its artifact's layers */
	char diff_id[IMS_DIGEST_BUFSZ];
	size_t source; /* index in src */
} ims_remote_entry;

typedef struct ims_remote_cache_s {
	ims_transport **src; /* the cache repositories read */
	size_t nsrc;
	ims_remote_entry *v;
	size_t n;
} ims_remote_cache;

/* Reads the plan's cache_from artifacts; warns about those it cannot use. */
void ims_remote_cache_load(ims_remote_cache *rc, const ims_exec_env *env, const ims_plan *p, ims_session *s);
void ims_remote_cache_dispose(ims_remote_cache *rc);
/* Asks target ahead (ims_transport_ask_ahead) for the first
 * IMS_REMOTE_AHEAD_MAX layers the caches name, while the build hashes its
 * files: a fresh runner whose recipes hit finds the target's answers
 * given when its hashes are done, instead of making a round trip per
 * layer then. Nothing when the target was asked ahead already (the tag
 * named a manifest the local cache keeps): one list a transport. */
#define IMS_REMOTE_AHEAD_MAX 64
void ims_remote_cache_ask_ahead(const ims_remote_cache *rc, ims_transport *target, const ims_exec_env *env);
const ims_remote_entry *ims_remote_cache_find(const ims_remote_cache *rc, const char *recipe);
/* Makes e's layer present in target: skipped, mounted from the cache
 * repository, or copied (verified). */
int ims_remote_cache_use(const ims_remote_cache *rc, const ims_remote_entry *e, ims_transport *target,
			 bool ignore_exists, ims_layer_action *action, ims_error **err);
/* Writes the plan's cache_to artifact for the new layers that have a
 * recipe (their media types as the build wrote them: docker or OCI); a
 * failure is a warning. */
void ims_remote_cache_export(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport *target,
			     ims_cache *local, const ims_new_layer *nl, size_t n, bool docker);

#endif
