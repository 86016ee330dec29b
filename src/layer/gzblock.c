#include "layer/gzblock.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* deflateParams before the first deflate() of a reset stream must flush
 * nothing: zlib 1.2.12 made it so (a reused stream of 1.2.11 could emit an
 * empty block there, which would change the bytes). */
#if ZLIB_VERNUM < 0x12c0
#error "imagespec needs zlib 1.2.12 or later"
#endif

/* A chunk is stored when deflate could save less than about 1/32 of it.
 * For bytes near the uniform distribution, the order-0 saving in bits per
 * byte is about chi2 / (2 n ln 2), with chi2 = sum (c - n/256)^2 / (n/256);
 * 1/4 bit a byte is chi2 < 0.347 n, that is
 *   sum (256 c - n)^2 < 89 n^2.
 * Integers only: a float threshold could land differently on another libm
 * and change the bytes of a layer. Random bytes give chi2 ~ 255 ± 23, text
 * and code tens of thousands. */
#define CHI2_LIMIT 89

/* Repeats that deflate would use: matches of at least MATCH_MIN bytes,
 * within deflate's reach, covering 1/REPEAT_SHARE of the chunk make it worth
 * compressing even when its bytes are spread evenly (an incompressible
 * file twice in a row, a table of all byte values). */
#define MATCH_MIN 8
#define REPEAT_SHARE 16
#define REACH ((size_t)32768)
#define SEEN_BITS 14

static bool spread_evenly(const unsigned char *p, size_t n)
{
	/* Four tables so that runs of one byte do not serialize on a counter. */
	uint32_t h[4][256] = { { 0 } };
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		h[0][p[i]]++;
		h[1][p[i + 1]]++;
		h[2][p[i + 2]]++;
		h[3][p[i + 3]]++;
	}
	for (; i < n; i++)
		h[0][p[i]]++;
	uint64_t sum = 0, nn = n;
	for (int c = 0; c < 256; c++) {
		int64_t d = 256 * (int64_t)(h[0][c] + h[1][c] + h[2][c] + h[3][c]) - (int64_t)n;
		sum += (uint64_t)(d * d);
	}
	return sum < CHI2_LIMIT * nn * nn;
}

static uint32_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Looks for repeats in in[off..end) against what the earlier probed
 * chunks of this block left in b->seen, at anchors only: the positions of
 * one byte value, ANCHOR. Anchors depend on the bytes alone, so a repeat
 * has its anchors where the original had them, and each finds its twin in
 * one probe (and is measured from there both ways); memchr skips the bytes between them, so a random chunk costs
 * a few probes (probing every position took most of a stored layer's
 * time). A stretch spread evenly over the byte values has ANCHOR about
 * every 256 bytes: once per period in a table of byte values, about 4
 * times in a random KiB. A chunk without it (a chance of e^-4 for random
 * bytes) is anchored on ANCHOR2 instead; one without either (e^-8) is
 * stored even if it repeats, which loses a little size, never
 * correctness. Only chunks that look random are probed, so text costs
 * nothing here; the table is cleared once per block that has such a
 * chunk, so that the answer depends on this block alone. */
#define ANCHOR 0xa5
#define ANCHOR2 0x5a

static bool has_repeats(ims_gzblock *b, const unsigned char *in, size_t off, size_t end)
{
	if (!b->seen)
		b->seen = xmalloc(sizeof(uint32_t) << SEEN_BITS);
	if (!b->seen_clean) {
		memset(b->seen, 0, sizeof(uint32_t) << SEEN_BITS);
		b->seen_clean = true;
	}
	if (end - off < 4)
		return false;
	size_t covered = 0, n = end - off, from = off; /* from: not yet counted */
	const unsigned char *p = in + off, *last = in + end - 4;
	int anchor = memchr(p, ANCHOR, (size_t)(last - p) + 1) ? ANCHOR : ANCHOR2;
	while (p <= last && (p = memchr(p, anchor, (size_t)(last - p) + 1))) {
		size_t i = (size_t)(p - in);
		uint32_t v = load32(p);
		uint32_t k = (v * 2654435761u) >> (32 - SEEN_BITS);
		size_t cand = b->seen[k];
		b->seen[k] = (uint32_t)(i + 1);
		if (cand && i - (cand - 1) <= REACH && load32(in + cand - 1) == v) {
			/* The repeat extends both ways from its anchor: back to
			 * what was counted already, forward to the chunk's end. */
			size_t c = cand - 1, len = 4, back = 0;
			while (i + len < end && in[c + len] == in[i + len])
				len++;
			while (i - back > from && c - back > 0 && in[c - back - 1] == in[i - back - 1])
				back++;
			if (back + len >= MATCH_MIN) {
				covered += back + len;
				from = i + len;
				if (covered * REPEAT_SHARE >= n)
					return true;
				p += len;
				continue;
			}
		}
		p++;
	}
	return false;
}

static bool looks_stored(ims_gzblock *b, const unsigned char *in, size_t off, size_t end)
{
	return spread_evenly(in + off, end - off) && !has_repeats(b, in, off, end);
}

int ims_gzblock_init(ims_gzblock *b, int level)
{
	memset(b, 0, sizeof(*b));
	b->level = level;
	/* Raw deflate (negative windowBits): pgzip writes the gzip wrapper. */
	b->zr = deflateInit2(&b->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	b->live = b->zr == Z_OK;
	return b->zr;
}

void ims_gzblock_dispose(ims_gzblock *b)
{
	if (b->live)
		deflateEnd(&b->z);
	free(b->seen);
	free(b->decide);
	memset(b, 0, sizeof(*b));
}

void ims_gzblock_out_dispose(ims_gzblock_out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

/* Points z at the free end of o, growing o when it is full (or when zlib
 * asked for more room than it had). */
static void out_room(z_stream *z, ims_gzblock_out *o, bool grow)
{
	o->len = (size_t)(z->next_out - o->p);
	if (grow || o->len == o->cap)
		o->p = xgrow(o->p, &o->cap, o->cap + 1, 1);
	z->next_out = o->p + o->len;
	z->avail_out = (uInt)(o->cap - o->len);
}

/* deflate() until it has taken all input and, for a flush, left output
 * room (zlib's sign that the flush is complete). */
static int run(z_stream *z, int flush, ims_gzblock_out *o)
{
	for (;;) {
		out_room(z, o, false);
		int r = deflate(z, flush);
		if (r == Z_STREAM_END)
			return 0;
		if (r != Z_OK && r != Z_BUF_ERROR)
			return r;
		if (z->avail_in == 0 && z->avail_out > 0 && flush != Z_FINISH)
			return 0;
	}
}

/* deflateParams flushes the input so far with the old level (Z_BLOCK), so
 * it needs output room; Z_BUF_ERROR means "again, with more room". */
static int set_level(z_stream *z, int level, ims_gzblock_out *o)
{
	bool grow = false;
	for (;;) {
		out_room(z, o, grow);
		int r = deflateParams(z, level, Z_DEFAULT_STRATEGY);
		if (r != Z_BUF_ERROR)
			return r;
		grow = true;
	}
}

/* The stored-or-deflated decision of every chunk of in[0..n), in order
 * (the repeat finder's table carries over from chunk to chunk). Returns
 * whether every chunk is stored. */
static bool classify(ims_gzblock *b, const unsigned char *in, size_t n)
{
	size_t nchunks = (n + IMS_GZBLOCK_CHUNK - 1) / IMS_GZBLOCK_CHUNK;
	if (b->ndecide < nchunks) {
		free(b->decide);
		b->decide = xcalloc(nchunks, sizeof(*b->decide));
		b->ndecide = nchunks;
	}
	bool all = b->level > 0;
	for (size_t c = 0; c < nchunks; c++) {
		size_t off = c * IMS_GZBLOCK_CHUNK;
		size_t end = n - off < IMS_GZBLOCK_CHUNK ? n : off + IMS_GZBLOCK_CHUNK;
		b->decide[c] = b->level > 0 && looks_stored(b, in, off, end);
		all = all && b->decide[c];
	}
	return all;
}

int ims_gzblock_deflate(ims_gzblock *b, const unsigned char *dict, size_t dlen, const unsigned char *in, size_t n,
			bool last, ims_gzblock_out *o)
{
	if (!b->live)
		return b->zr;
	/* Room for the worst case up front (stored blocks: 5 bytes per 64 KiB,
	 * plus a few bytes for each flush), so that growing is rare. */
	size_t need = n + n / 64 + (n / IMS_GZBLOCK_CHUNK + 4) * 16;
	if (o->cap < need)
		o->p = xgrow(o->p, &o->cap, need, 1);
	o->len = 0;
	o->stored = 0;
	o->crc = crc32_z(crc32(0L, Z_NULL, 0), in, n);
	b->seen_clean = false;
	/* A block stored throughout never looks back, so priming it with the
	 * dictionary (which costs about as much as deflating 32 KiB) would
	 * change nothing in its bytes. */
	bool all_stored = classify(b, in, n);

	z_stream *z = &b->z;
	int r = deflateReset(z);
	/* The level may have been lowered for a stored chunk of the last
	 * block; before the first deflate() call this flushes nothing. */
	if (r == Z_OK)
		r = deflateParams(z, b->level, Z_DEFAULT_STRATEGY);
	if (r == Z_OK && dlen && !all_stored)
		r = deflateSetDictionary(z, dict, (uInt)dlen);
	if (r != Z_OK)
		return r;
	z->next_out = o->p;
	int cur = b->level;
	for (size_t off = 0, c = 0; off < n; off += IMS_GZBLOCK_CHUNK, c++) {
		size_t end = n - off < IMS_GZBLOCK_CHUNK ? n : off + IMS_GZBLOCK_CHUNK;
		/* Level 0 makes zlib write stored blocks, copying instead of
		 * searching for matches that random bytes do not have. */
		int want = b->decide[c] ? 0 : b->level;
		if (want != cur && (r = set_level(z, want, o)) != Z_OK)
			return r;
		cur = want;
		if (!want)
			o->stored += end - off;
		z->next_in = (Bytef *)(uintptr_t)(in + off);
		z->avail_in = (uInt)(end - off);
		if ((r = run(z, Z_NO_FLUSH, o)) != 0)
			return r;
	}
	z->next_in = Z_NULL;
	z->avail_in = 0;
	if ((r = run(z, last ? Z_FINISH : Z_SYNC_FLUSH, o)) != 0)
		return r;
	o->len = (size_t)(z->next_out - o->p);
	return 0;
}
