/* The compression stage of the layer pipeline: bytes in, compressed bytes
 * out to the next sink. One stage per algorithm, like libarchive's write
 * filters, but with the choices fixed for reproducible output:
 *   gzip: zlib, no name and mtime 0 in the header (no deflateSetHeader);
 *   zstd: one thread, no checksum, fixed level;
 *   none: a buffered pass-through.
 * Output is handed on in chunks of IMS_COMPRESS_BUFSZ bytes. */
#ifndef IMS_LAYER_COMPRESS_H
#define IMS_LAYER_COMPRESS_H

#include <stddef.h>

#include "layer/input.h"
#include "util/stream.h"

#define IMS_COMPRESS_BUFSZ ((size_t)128 * 1024)

typedef struct ims_compressor ims_compressor;

/* level -1 is the algorithm's default (gzip 6, zstd 3). gzip takes 0-9 and
 * zstd 1-19; other levels are IMS_EINVALID. next is copied. */
int ims_compressor_new(ims_compressor **out, ims_layer_alg alg, int level, const ims_sink *next,
		       ims_error **err);
int ims_compressor_write(ims_compressor *c, const void *p, size_t n, ims_error **err);
/* Ends the stream and flushes everything to the next sink. */
int ims_compressor_finish(ims_compressor *c, ims_error **err);
void ims_compressor_free(ims_compressor *c);

#endif
