/* One block of a parallel gzip stream (layer/pgzip.h): the raw deflate of a
 * block of input, on its own (no dictionary), ending on a byte boundary
 * after an empty stored block (what zlib's sync flush writes) so that
 * blocks compressed apart join into one deflate stream; the last block of
 * the stream ends with a final deflate block instead.
 *
 * Inside a block, stretches that look incompressible (gzblock.c,
 * looks_stored) are written as stored deflate blocks; the others are
 * compressed by libdeflate (docs/choices.md, "Parallel gzip"). libdeflate
 * writes a whole deflate stream, whose last block is marked final and
 * ends mid-byte: a piece of one block is joined by reading from its
 * end-of-block code which of the two ways it can end is its own, or, when
 * the code leaves both possible, by trying them, each checked by
 * libdeflate's inflate; a piece of several is read back with zlib's
 * inflate, block by block, which finds that mark (to clear it) and where
 * the piece ends, and checks that it inflates to its input.
 *
 * The bytes depend on the block, the level and libdeflate's version only,
 * never on which thread or compressor did the work: that is what makes the
 * layer's digest independent of the thread count. */
#ifndef IMS_LAYER_GZBLOCK_H
#define IMS_LAYER_GZBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* The unit of the stored-or-compressed decision inside a block: small, so
 * that a random file between text files is stored whole (layers are full
 * of small files), but not so small that counting its bytes says little. */
#define IMS_GZBLOCK_CHUNK ((size_t)1 * 1024)

/* The read-back's output buffer (gzblock.c, read_back). */
#define IMS_GZBLOCK_BACK ((size_t)16 * 1024)

typedef struct {
	unsigned char *p; /* the deflate bytes */
	size_t len, cap;
	uint32_t crc;  /* crc32 of the block's input */
	size_t stored; /* bytes of input written as stored blocks */
} ims_gzblock_out;

/* What can go wrong in a block; none is expected (the buffers are ours). */
typedef enum {
	IMS_GZBLOCK_OK = 0,
	IMS_GZBLOCK_ENOMEM,  /* libdeflate or zlib could not allocate */
	IMS_GZBLOCK_ECOMPRESS, /* libdeflate gave up */
	IMS_GZBLOCK_ECHECK,  /* a piece did not inflate to its input */
} ims_gzblock_status;

/* A block compressor: one per thread, reused from block to block, with
 * nothing carried over that could change the bytes. */
typedef struct {
	int level;
	struct libdeflate_compressor *ld; /* made on first use */
	z_stream inf;                     /* reads pieces back */
	bool inf_live;
	unsigned char *back; /* what a piece inflates to, IMS_GZBLOCK_BACK at a time */
	struct libdeflate_decompressor *ldd; /* checks pieces joined the quick way, and last pieces */
	unsigned char *whole;                /* what such a piece inflates to */
	size_t cap_whole;
	bool no_quick;       /* tests: every piece that goes on through zlib's read-back */
	uint64_t quick[2];   /* pieces joined the quick way: without, with the extra zero byte */
	uint64_t slow;       /* pieces joined through the read-back */
	uint64_t by_code;    /* quick joins told by the end-of-block code, not inflated */
	uint32_t *seen; /* repeat finder: 4-byte key → position + 1 in the block */
	bool seen_clean;
	bool *decide; /* per chunk of the block: stored */
	size_t ndecide;
} ims_gzblock;

/* Makes b for level (0-9; 0 stores everything). Cannot fail: what it
 * needs is allocated on first use. */
void ims_gzblock_init(ims_gzblock *b, int level);
void ims_gzblock_dispose(ims_gzblock *b);

/* Compresses in[0..n) into o (grown as needed; o->len is set); with last,
 * the stream's final block. */
ims_gzblock_status ims_gzblock_deflate(ims_gzblock *b, const unsigned char *in, size_t n, bool last,
				       ims_gzblock_out *o);

/* What a status says, for an error message. */
const char *ims_gzblock_strerror(ims_gzblock_status s);

/* The version of libdeflate whose bytes these are (part of every gzip
 * layer's cache recipe: another version may write other bytes). */
const char *ims_gzblock_version(void);

void ims_gzblock_out_dispose(ims_gzblock_out *o);

#endif
