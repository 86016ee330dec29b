/* Parallel gzip, pigz-style, with bytes that do not depend on the thread
 * count: the input is cut into blocks of IMS_PGZIP_BLOCK bytes (a constant),
 * each compressed on its own (layer/gzblock.h), and the pieces written in
 * order as one deflate stream in one gzip member: a fixed 10-byte header (no name, mtime 0, OS Unix, as zlib
 * writes it), the blocks, then the CRC32 (per-block CRCs joined with
 * crc32_combine) and the size mod 2^32.
 *
 * The caller's thread fills blocks and writes the output to the next sink;
 * up to `threads` worker threads, started when there is work for them,
 * compress. At most 2 × threads blocks are held (being filled, queued,
 * compressed or waiting for their turn), so memory is bounded whatever the
 * layer size. With one thread, nothing is started: blocks are compressed
 * in the caller's thread, with the same result. */
#ifndef IMS_LAYER_PGZIP_H
#define IMS_LAYER_PGZIP_H

#include <stddef.h>
#include <stdint.h>

#include "imagespec/error.h"
#include "util/stream.h"

/* Chosen from measurements (docs/choices.md, "Parallel gzip"). */
#define IMS_PGZIP_BLOCK ((size_t)128 * 1024)
/* The most threads that compress at once, whatever -j says: 8 deflate
 * about as fast as the caller's thread makes tar and hashes it, and each
 * holds 2 blocks and a deflate state (~0.9 MB together), which keeps a
 * build within its memory budget (docs/choices.md). */
#define IMS_PGZIP_MAX_THREADS 8

typedef struct ims_pgzip ims_pgzip;

/* level is 0-9; threads below 1 mean 1, above the maximum the maximum.
 * next is copied and only ever written from the caller's thread. */
int ims_pgzip_new(ims_pgzip **out, int level, int threads, const ims_sink *next, ims_error **err);
int ims_pgzip_write(ims_pgzip *g, const void *p, size_t n, ims_error **err);
/* Compresses the rest, writes the trailer and flushes everything. */
int ims_pgzip_finish(ims_pgzip *g, ims_error **err);
void ims_pgzip_free(ims_pgzip *g);

/* What the tests check: how much was held at once, and what was stored. */
typedef struct {
	size_t slots;         /* blocks that may be held at once */
	size_t max_in_flight; /* most blocks held at once, the one being filled included */
	int threads;          /* worker threads started */
	uint64_t blocks;      /* blocks written */
	uint64_t stored;      /* input bytes written as stored deflate blocks */
} ims_pgzip_stats;

void ims_pgzip_get_stats(const ims_pgzip *g, ims_pgzip_stats *st);

#endif
