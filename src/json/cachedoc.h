/* The config document of a layer cache artifact (IMS_MT_CACHE_CONFIG): which
 * layer each recipe made.
 *   {"version": 1, "layers": [{"recipe": "sha256:...", "digest": "sha256:...",
 *    "diffId": "sha256:...", "size": N, "mediaType": "..."}, ...]}
 * Decoding is strict (digests, sizes, media types, a cap on entries): a
 * document written by anyone else is refused, not half-read. */
#ifndef IMS_JSON_CACHEDOC_H
#define IMS_JSON_CACHEDOC_H

#include <stddef.h>
#include <stdint.h>

#include "digest/digest.h"
#include "imagespec/error.h"

#define IMS_CACHEDOC_MAX_ENTRIES 4096

typedef struct {
	char recipe[IMS_DIGEST_BUFSZ];
	char digest[IMS_DIGEST_BUFSZ];
	char diff_id[IMS_DIGEST_BUFSZ];
	int64_t size;
	char *media_type;
} ims_cachedoc_entry;

typedef struct {
	ims_cachedoc_entry *v;
	size_t n;
} ims_cachedoc;

int ims_cachedoc_parse(ims_cachedoc *out, const char *data, size_t len, ims_error **err);
char *ims_cachedoc_encode(const ims_cachedoc *d, size_t *len);
/* Appends an entry (copies its media type). */
void ims_cachedoc_add(ims_cachedoc *d, const ims_cachedoc_entry *e);
void ims_cachedoc_dispose(ims_cachedoc *d);

#endif
