/**
 * @file imagespec/cache.h
 * @brief The local layer cache: how big it is, and pruning it.
 *
 * A context with a cache_dir (ims_context_options) builds through the
 * cache: a layer whose inputs did not change is neither re-tarred nor
 * recompressed, and an unchanged source file is not even read again. The
 * cache never changes a digest.
 */
#ifndef IMAGESPEC_CACHE_H
#define IMAGESPEC_CACHE_H

#include "common.h"
#include "context.h"
#include "error.h"

IMS_BEGIN_DECL

/** The directory the command line uses by default: $XDG_CACHE_HOME/imagespec,
 * else ~/.cache/imagespec. Caller frees; NULL when neither can be found. */
IMS_EXTERN(char *) ims_layer_cache_default_dir(void);

typedef struct {
	long long bytes; /**< of the stored layer blobs */
	size_t blobs;
	size_t layers; /**< remembered recipes */
} ims_layer_cache_usage;

/** The size of the context's cache (IMS_EINVALID when it has none). */
IMS_EXTERN(int) ims_layer_cache_du(ims_context *ctx, ims_layer_cache_usage *out, ims_error **err);
/** Removes the least recently used layers until the cache holds at most max_bytes. */
IMS_EXTERN(int) ims_layer_cache_prune(ims_context *ctx, long long max_bytes, long long *freed, ims_error **err);

IMS_END_DECL

#endif
