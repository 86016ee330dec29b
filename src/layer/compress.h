/* The compression stage of the layer pipeline: bytes in, compressed bytes
 * out to the next sink. One stage per algorithm, like libarchive's write
 * filters, but with the choices fixed for reproducible output, the same
 * bytes whatever the number of threads:
 *   gzip: blocks deflated in parallel into one gzip member (layer/pgzip.h),
 *         no name and mtime 0 in the header;
 *   zstd: libzstd's worker threads (always at least one), fixed job size
 *         and overlap, no checksum;
 *   none: a buffered pass-through.
 * Output reaches the next sink from the caller's thread only. */
#ifndef IMS_LAYER_COMPRESS_H
#define IMS_LAYER_COMPRESS_H

#include <stddef.h>

#include "layer/input.h"
#include "util/stream.h"

#define IMS_COMPRESS_BUFSZ ((size_t)128 * 1024)

/* Chosen from measurements (docs/choices.md, "Parallel gzip"). */
#define IMS_GZIP_DEFAULT_LEVEL 2
/* zstd's job size and overlap (ZSTD_c_jobSize, ZSTD_c_overlapLog): part of
 * the output format, like the gzip block size. */
#define IMS_ZSTD_JOB_SIZE (1 << 20)
#define IMS_ZSTD_OVERLAP_LOG 8

typedef struct ims_compressor ims_compressor;

/* level -1 is the algorithm's default (gzip IMS_GZIP_DEFAULT_LEVEL, zstd 3).
 * gzip takes 0-9 and zstd 1-19; other levels are IMS_EINVALID. threads
 * (0 or 1: one) is how many may compress at once, at most as many as the
 * CPUs the process may use and IMS_PGZIP_MAX_THREADS; it never changes the
 * output. next is copied. */
int ims_compressor_new(ims_compressor **out, ims_layer_alg alg, int level, int threads, const ims_sink *next,
		       ims_error **err);
/* The same, with threads not limited by the CPU count (for tests). */
int ims_compressor_new_threads(ims_compressor **out, ims_layer_alg alg, int level, int threads, const ims_sink *next,
			       ims_error **err);
int ims_compressor_write(ims_compressor *c, const void *p, size_t n, ims_error **err);
/* The library that makes alg's bytes, and its version ("libdeflate 1.14";
 * libzstd's "1.5.4"; "" for none): another version may make other bytes from
 * the same input, so layer caches key on it. */
const char *ims_compressor_version(ims_layer_alg alg);
/* Ends the stream and flushes everything to the next sink. */
int ims_compressor_finish(ims_compressor *c, ims_error **err);
void ims_compressor_free(ims_compressor *c);

#endif
