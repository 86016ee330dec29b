/* One block of a parallel gzip stream (layer/pgzip.h): raw deflate of a
 * block of input, primed with the 32 KiB of input before it, ending on a
 * byte boundary (sync flush) so that blocks compressed apart join into one
 * deflate stream; the last block is finished (Z_FINISH) instead.
 *
 * The bytes depend on the dictionary, the block and the level only, never
 * on which thread or z_stream did the work: that is what makes the layer's
 * digest independent of the thread count. Stretches of the block that look
 * incompressible (gzblock.c, looks_stored) are written as stored deflate
 * blocks instead of being searched for matches. */
#ifndef IMS_LAYER_GZBLOCK_H
#define IMS_LAYER_GZBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* The window deflate can reach back into, so the dictionary size. */
#define IMS_GZBLOCK_DICT ((size_t)32 * 1024)

/* The unit of the stored-or-compressed decision inside a block: small, so
 * that a random file between text files is stored whole (layers are full
 * of small files), but not so small that counting its bytes says little. */
#define IMS_GZBLOCK_CHUNK ((size_t)1 * 1024)

typedef struct {
	unsigned char *p; /* the deflate bytes */
	size_t len, cap;
	unsigned long crc; /* crc32 of the block's input */
	size_t stored;     /* bytes of input written as stored blocks */
} ims_gzblock_out;

/* A deflater for blocks: one per thread, reused from block to block, with
 * nothing carried over that could change the bytes. */
typedef struct {
	z_stream z;
	int level;
	int zr; /* of deflateInit2; Z_OK once made */
	bool live;
	uint32_t *seen; /* repeat finder: 4-byte key → position + 1 in the block */
	bool seen_clean;
	bool *decide; /* per chunk of the block: stored */
	size_t ndecide;
} ims_gzblock;

/* Makes b for level (0-9). Returns Z_OK or zlib's error. */
int ims_gzblock_init(ims_gzblock *b, int level);
void ims_gzblock_dispose(ims_gzblock *b);

/* Compresses in[0..n) primed with dict[0..dlen) into o (grown as needed;
 * o->len is set). Returns 0, or a zlib error code (never expected: the
 * stream and its buffers are ours). */
int ims_gzblock_deflate(ims_gzblock *b, const unsigned char *dict, size_t dlen, const unsigned char *in, size_t n,
			bool last, ims_gzblock_out *o);

void ims_gzblock_out_dispose(ims_gzblock_out *o);

#endif
