/* When a new layer comes from the local cache: the recipe of a step (what
 * the layer's bytes depend on, hashed), the lookup, and the store. Private
 * to exec/. */
#ifndef IMS_EXEC_LAYER_CACHE_H
#define IMS_EXEC_LAYER_CACHE_H

#include <pthread.h>

#include "cache/cache.h"
#include "exec/exec_int.h"
#include "exec/prewalk.h"
#include "layer/layer.h"

typedef struct {
	ims_cache *cache;       /* NULL: no cache */
	ims_cache_stats *stats; /* of the spec's directory; read through ims_exec_cache_stats */
	/* The stat table is read on a thread of its own while the first
	 * layer's files are walked; its first user waits for it. */
	pthread_t stats_thread;
	bool stats_loading;
	const char *stats_root;
	ims_layer_hashes hashes;
	const ims_events *ev;
	bool readonly; /* a dry run: look, never write */
	bool remote;   /* caches shared through a registry are read: recipes are worth hashing for */
	bool exported; /* a cache artifact is written: every layer's recipe is wanted */
	ims_layer_files *spare; /* the listing of a layer that came from a cache, freed by the closer */
} ims_exec_cache;

/* Opens env's cache (none without a cache_dir). A cache that cannot be
 * opened is a warning: the build goes on without it. The cache and the
 * stat table are walked's when it opened and read them (walked may be
 * NULL). */
void ims_exec_cache_open(ims_exec_cache *c, const ims_exec_env *env, const ims_plan *p, bool readonly,
			 ims_prewalk *walked);
/* lf, the listing of a layer that came from a cache, is freed when c is
 * closed (on the closer's thread: freeing 5,000 entries took 2 ms of a
 * push with nothing to upload, before its last requests); an earlier one
 * is freed now, so that c holds one at most. lf NULL: frees the one held
 * (before a layer is built, so that the peak memory is not raised). */
void ims_exec_cache_drop_listing(ims_exec_cache *c, ims_layer_files *lf);
/* The stat table, once read (NULL: none). */
ims_cache_stats *ims_exec_cache_stats(ims_exec_cache *c);
/* Saves what was learned and trims the store to its cap. */
void ims_exec_cache_close(ims_exec_cache *c);

/* The same on a thread of its own, so that the stat table's fsync and the
 * trim's scan overlap what the build does next (the config, the manifest,
 * the registry finishing the last upload). c is emptied at once. Without
 * a thread, it runs here. */
typedef struct ims_exec_cache_closer ims_exec_cache_closer;
ims_exec_cache_closer *ims_exec_cache_close_async(ims_exec_cache *c);
/* Waits for k (NULL: nothing to wait for) and reports its warning, from
 * the caller's thread. */
void ims_exec_cache_join(ims_exec_cache_closer *k);

/* The recipe of step s with options o: for a files layer (lf) when every
 * content hash is known (*known false otherwise);
 * for an archive, after hashing the archive file (from the stat cache when
 * unchanged); for a url layer, from its sha256. The files of a files
 * layer the stat cache does not know are read to know it with a remote
 * cache, and with the local one when the stat table has seen them all
 * (ims_cache_stats_seen). */
int ims_exec_recipe(ims_exec_cache *c, const ims_step *s, const ims_layer_opts *o, ims_layer_files *lf,
		    char recipe[IMS_DIGEST_BUFSZ], bool *known, ims_error **err);
/* That rule, for files the stat table does not know (unseen: how many of
 * them it has not seen at all): whether they are read for their hash
 * before the recipe is known. remote: caches shared through a registry
 * are read; local: a local cache is open. The first walk (prewalk.c)
 * hashes ahead by it. */
bool ims_exec_hash_first(bool remote, bool local, size_t unseen);

#endif
