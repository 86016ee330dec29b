/* The first layer's walk, made while the build reaches its registries.
 *
 * Listing a files layer's source tree (a directory read and an lstat per
 * entry) needs neither the base nor the target, and it is as long as
 * their first round trips (about 40 ms each for 5,000 files here): a
 * thread of its own walks the first step's tree while the main thread
 * loads the base and asks the target, and the layer step takes the
 * listing instead of walking again. The stat table of the spec's
 * directory (cache/stats.c) is read on another thread meanwhile, for the
 * step to take with the listing. Where the step would read files for
 * their content hash before it knows its recipe (a fresh runner with
 * --cache-from, a fresh clone), the walk's thread reads them once walked,
 * while the registries still answer. Nothing is compressed or sent, so a
 * refused password still fails before any byte is compressed, and stops
 * that reading at its next read. What the walk says (a secret left out, a
 * dropped mode bit) is kept and said when the step takes the walk, where
 * it was said before; a failed walk fails the step with the same error.
 *
 * Only for a registry target (an output path could appear in the tree
 * after the list of what to leave out was made); a cache directory that
 * does not exist yet is made before the walk (the same reason). Internal
 * to the executor room. */
#ifndef IMS_EXEC_PREWALK_H
#define IMS_EXEC_PREWALK_H

#include "cache/cache.h"
#include "exec/exec_int.h"
#include "layer/layer.h"

typedef struct ims_prewalk ims_prewalk;

/* Starts the walk of p's first step when it is a files layer and the
 * conditions above hold; NULL otherwise (the step walks as usual). Once
 * walked, the files the step would hash before it knows its recipe are
 * hashed too (prewalk.c, hash_ahead); readonly (a dry run): the stat
 * table learns nothing from them. */
ims_prewalk *ims_prewalk_start(const ims_exec_env *env, const ims_plan *p, bool readonly);

/* For step s: 0 when w is NULL or walked another step (the caller walks);
 * else waits for the walk, says what it said to ev (with -v, first that
 * the walk was made ahead: the tests see the path taken), and gives its listing
 * in *lf (1) or its error (< 0). Once only. */
int ims_prewalk_take(ims_prewalk *w, const ims_step *s, const ims_events *ev, ims_layer_files **lf,
		     ims_error **err);

/* The cache w opened (for the env's cache_dir), and in *stats the stat
 * table of root (the spec's directory) it read beside its walk, waited
 * for with the walk (whose hashing reads and teaches it): once; NULL when
 * it read none (the caller reads it). False when w opened no cache (the
 * caller opens it). */
bool ims_prewalk_take_cache(ims_prewalk *w, const char *root, ims_cache **cache, ims_cache_stats **stats);

/* Stops a walk still running, waits for it and frees w; NULL-safe. */
void ims_prewalk_free(ims_prewalk *w);

#endif
