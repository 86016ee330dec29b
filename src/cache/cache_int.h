/* Private to the cache room. */
#ifndef IMS_CACHE_CACHE_INT_H
#define IMS_CACHE_CACHE_INT_H

#include "cache/cache.h"

struct ims_cache {
	char *dir;
	int64_t max_bytes;
};

/* DIR/SUB/NAME (caller frees). */
char *ims_cache__path(const ims_cache *c, const char *sub, const char *name);

#endif
