#include "layer/gzblock.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

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

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A quick bound first, exact (it never changes the answer): merging the
 * 256 counts into two, bytes below 128 and the others, can only lower
 * chi2, and two counts h and n - h give chi2 = (2h - n)^2 / n. So a chunk
 * with (2h - n)^2 >= (89/256) n^2 is not spread evenly, whatever its
 * counts: text and code (no high bytes) stop here after one pass of
 * 64-bit loads instead of a histogram. */
static bool high_bytes_even(const unsigned char *p, size_t n)
{
	uint64_t high = 0;
	size_t i = 0;
	/* Each byte's top bit, moved to its bottom and summed by one
	 * multiplication (at most 8, so no byte overflows); no popcount
	 * instruction is assumed (x86-64 v1 has none). */
	for (; i + 8 <= n; i += 8)
		high += ((load64(p + i) & 0x8080808080808080ull) >> 7) * 0x0101010101010101ull >> 56;
	for (; i < n; i++)
		high += p[i] >> 7;
	int64_t d = 2 * (int64_t)high - (int64_t)n;
	return 256 * (uint64_t)(d * d) < CHI2_LIMIT * (uint64_t)n * n;
}

_Static_assert(IMS_GZBLOCK_CHUNK < 65536, "spread_evenly counts a chunk's bytes in 16 bits");

static bool spread_evenly(const unsigned char *p, size_t n)
{
	if (!high_bytes_even(p, n))
		return false;
	/* Four tables so that runs of one byte do not serialize on a counter;
	 * 16-bit counts (a chunk is at most IMS_GZBLOCK_CHUNK bytes), so that
	 * clearing and summing them costs a quarter of 32-bit ones. */
	uint16_t h[4][256];
	memset(h, 0, sizeof(h));
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		h[0][p[i]]++;
		h[1][p[i + 1]]++;
		h[2][p[i + 2]]++;
		h[3][p[i + 3]]++;
	}
	for (; i < n; i++)
		h[0][p[i]]++;
	/* sum (256 c - n)^2 = 65536 sum c^2 - 256 n^2, since sum c = n: the
	 * same integer, from the squares alone (and never negative). */
	uint64_t sq = 0, nn = n;
	for (int c = 0; c < 256; c++) {
		uint64_t k = (uint64_t)h[0][c] + h[1][c] + h[2][c] + h[3][c];
		sq += k * k;
	}
	return 65536 * sq - 256 * nn * nn < CHI2_LIMIT * nn * nn;
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
 * chunk, so that the answer depends on this block alone. *src is lowered
 * to the earliest byte that a counted repeat copies. */
#define ANCHOR 0xa5
#define ANCHOR2 0x5a

static bool has_repeats(ims_gzblock *b, const unsigned char *in, size_t off, size_t end, size_t *src)
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
				if (c - back < *src)
					*src = c - back;
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

/* Whether in[off..end) is better stored; when it is not only because it
 * repeats earlier bytes, *src is lowered to the first of them. */
static bool looks_stored(ims_gzblock *b, const unsigned char *in, size_t off, size_t end, size_t *src)
{
	return spread_evenly(in + off, end - off) && !has_repeats(b, in, off, end, src);
}

void ims_gzblock_init(ims_gzblock *b, int level)
{
	memset(b, 0, sizeof(*b));
	b->level = level;
}

void ims_gzblock_dispose(ims_gzblock *b)
{
	if (b->ld)
		libdeflate_free_compressor(b->ld);
	if (b->ldd)
		libdeflate_free_decompressor(b->ldd);
	if (b->inf_live)
		inflateEnd(&b->inf);
	free(b->back);
	free(b->whole);
	free(b->seen);
	free(b->decide);
	memset(b, 0, sizeof(*b));
}

void ims_gzblock_out_dispose(ims_gzblock_out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

const char *ims_gzblock_strerror(ims_gzblock_status s)
{
	switch (s) {
	case IMS_GZBLOCK_OK:
		return "no error";
	case IMS_GZBLOCK_ENOMEM:
		return "out of memory";
	case IMS_GZBLOCK_ECOMPRESS:
		return "libdeflate could not compress a block";
	case IMS_GZBLOCK_ECHECK:
		return "a compressed block did not read back to its input (a bug in the compressor)";
	}
	return "unknown error";
}

const char *ims_gzblock_version(void)
{
	return "libdeflate " LIBDEFLATE_VERSION_STRING;
}

/* The stored-or-deflated decision of every chunk of in[0..n), in order
 * (the repeat finder's table carries over from chunk to chunk). A chunk
 * compressed for its repeats takes the chunks they copy with it: a piece
 * is compressed on its own, so what it copies must be in it. */
static void classify(ims_gzblock *b, const unsigned char *in, size_t n)
{
	size_t nchunks = (n + IMS_GZBLOCK_CHUNK - 1) / IMS_GZBLOCK_CHUNK;
	if (b->ndecide < nchunks) {
		free(b->decide);
		b->decide = xcalloc(nchunks, sizeof(*b->decide));
		b->ndecide = nchunks;
	}
	for (size_t c = 0; c < nchunks; c++) {
		size_t off = c * IMS_GZBLOCK_CHUNK;
		size_t end = n - off < IMS_GZBLOCK_CHUNK ? n : off + IMS_GZBLOCK_CHUNK;
		size_t src = off;
		b->decide[c] = b->level == 0 || looks_stored(b, in, off, end, &src);
		for (size_t k = src / IMS_GZBLOCK_CHUNK; k < c; k++)
			b->decide[k] = false;
	}
}

/* Grows o to what is needed plus a little, not to the next power of two:
 * a slot's buffer settles at about a block and a half (libdeflate's bound
 * for a piece is its size plus a few bytes), not at twice that. */
static void reserve(ims_gzblock_out *o, size_t more)
{
	if (o->cap - o->len < more) {
		o->cap = o->len + more + 16 * 1024;
		o->p = xrealloc(o->p, o->cap);
	}
}

static void put_bytes(ims_gzblock_out *o, const void *p, size_t n)
{
	reserve(o, n);
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/* in[0..n) as stored deflate blocks (at most 65,535 bytes each), from a
 * byte boundary: a header byte (BFINAL, BTYPE 00, padding), LEN, NLEN and
 * the bytes. */
static void put_stored(ims_gzblock_out *o, const unsigned char *in, size_t n, bool final)
{
	do {
		size_t k = n > 65535 ? 65535 : n;
		unsigned char h[5] = { final && k == n ? 1 : 0, (unsigned char)k, (unsigned char)(k >> 8),
				       (unsigned char)~k, (unsigned char)(~k >> 8) };
		put_bytes(o, h, sizeof(h));
		put_bytes(o, in, k);
		in += k;
		n -= k;
	} while (n > 0);
}

/* Inflates the piece p[0..k) block by block (Z_BLOCK): checks that it is
 * one whole deflate stream that gives in[0..n), and finds the bit where
 * its last block's header starts and the bit where the piece ends. */
static ims_gzblock_status read_back(ims_gzblock *b, const unsigned char *p, size_t k, const unsigned char *in,
				    size_t n, size_t *final_bit, size_t *end_bit)
{
	z_stream *z = &b->inf;
	if (!b->inf_live) {
		if (inflateInit2(z, -15) != Z_OK)
			return IMS_GZBLOCK_ENOMEM;
		b->inf_live = true;
	} else if (inflateReset(z) != Z_OK) {
		return IMS_GZBLOCK_ECHECK;
	}
	if (!b->back)
		b->back = xmalloc(IMS_GZBLOCK_BACK);
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)k;
	size_t header = 0, end = SIZE_MAX, off = 0;
	for (;;) {
		/* What comes out is compared with the input a buffer at a time. */
		z->next_out = b->back;
		z->avail_out = (uInt)IMS_GZBLOCK_BACK;
		int r = inflate(z, Z_BLOCK);
		size_t got = IMS_GZBLOCK_BACK - z->avail_out;
		if ((r == Z_OK || r == Z_STREAM_END) && (got > n - off || memcmp(b->back, in + off, got) != 0))
			return IMS_GZBLOCK_ECHECK;
		off += got;
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK)
			return IMS_GZBLOCK_ECHECK;
		/* data_type (zlib.h): the bits held but not used, plus 128 right
		 * after a block's end, plus 64 while in the last block. So
		 * after an end, the next block's header starts here, or the
		 * stream ends here if that was the last block. */
		size_t at = (size_t)(z->next_in - p) * 8 - (size_t)(z->data_type & 63);
		if ((z->data_type & 128) && (z->data_type & 64))
			end = at;
		else if (z->data_type & 128)
			header = at;
	}
	*final_bit = header;
	*end_bit = end;
	bool whole = z->avail_in == 0 && end != SIZE_MAX && (end + 7) / 8 == k && off == n &&
		     (p[header / 8] >> (header % 8) & 1);
	return whole ? IMS_GZBLOCK_OK : IMS_GZBLOCK_ECHECK;
}

/* Whether p[0..k) followed by nothing else is one whole deflate stream
 * that gives in[0..n): libdeflate's decompressor (strict: a stored
 * block's NLEN, every code) must use every byte and give exactly in. */
static bool inflates_whole(ims_gzblock *b, const unsigned char *p, size_t k, const unsigned char *in, size_t n)
{
	if (!b->ldd && !(b->ldd = libdeflate_alloc_decompressor()))
		return false;
	if (b->cap_whole < n) {
		free(b->whole);
		b->whole = xmalloc(n);
		b->cap_whole = n;
	}
	size_t used = 0, got = 0;
	return libdeflate_deflate_decompress_ex(b->ldd, p, k, b->whole, n, &used, &got) == LIBDEFLATE_SUCCESS &&
	       used == k && got == n && memcmp(b->whole, in, n) == 0;
}

/* Bits of a deflate stream, least significant first (RFC 1951 3.1.1). */
typedef struct {
	const unsigned char *p;
	size_t nbits, at;
} bitreader;

static bool take_bits(bitreader *r, unsigned n, unsigned *v)
{
	if (r->nbits - r->at < n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++, r->at++)
		*v |= (unsigned)(r->p[r->at / 8] >> (r->at % 8) & 1) << i;
	return true;
}

/* The code-length code (RFC 1951 3.2.7): a canonical Huffman code of at
 * most 7 bits over 19 symbols, as how many codes each length has and the
 * symbols in code order (shorter codes first, then by symbol). */
typedef struct {
	unsigned char count[8], sorted[19];
} length_code;

static void length_code_make(length_code *c, const unsigned char lens[19])
{
	memset(c->count, 0, sizeof(c->count));
	unsigned n = 0;
	for (unsigned len = 1; len <= 7; len++)
		for (unsigned sym = 0; sym < 19; sym++)
			if (lens[sym] == len) {
				c->count[len]++;
				c->sorted[n++] = (unsigned char)sym;
			}
}

/* One symbol, read a bit at a time from its code's first (most
 * significant) bit; -1 at the end of the bits or on a code not in use. */
static int length_symbol(bitreader *r, const length_code *c)
{
	unsigned code = 0, first = 0, index = 0;
	for (unsigned len = 1; len <= 7; len++) {
		unsigned bit;
		if (!take_bits(r, 1, &bit))
			return -1;
		code |= bit;
		if (code - first < c->count[len])
			return c->sorted[index + code - first];
		index += c->count[len];
		first = (first + c->count[len]) << 1;
		code <<= 1;
	}
	return -1;
}

/* The code of end-of-block (symbol 256) in the compressed deflate block
 * at the start of p[0..k): its length and its value (written from its
 * most significant bit), and the bit where the block's data starts. False
 * for a stored block or a header that does not parse. RFC 1951 3.2.6-7. */
static bool end_of_block_code(const unsigned char *p, size_t k, unsigned *len, unsigned *code, size_t *data)
{
	bitreader r = { p, k * 8, 0 };
	unsigned head;
	if (!take_bits(&r, 3, &head))
		return false;
	if (head >> 1 == 1) { /* fixed codes: end-of-block is 7 zero bits */
		*len = 7;
		*code = 0;
		*data = r.at;
		return true;
	}
	unsigned hlit, hdist, hclen;
	if (head >> 1 != 2 || !take_bits(&r, 5, &hlit) || !take_bits(&r, 5, &hdist) || !take_bits(&r, 4, &hclen))
		return false;
	hlit += 257;
	hdist += 1;
	static const unsigned char order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
	unsigned char cl[19] = { 0 };
	for (unsigned i = 0; i < hclen + 4; i++) {
		unsigned v;
		if (!take_bits(&r, 3, &v))
			return false;
		cl[order[i]] = (unsigned char)v;
	}
	length_code lc;
	length_code_make(&lc, cl);
	unsigned char lens[288 + 32]; /* HLIT and HDIST can say that many */
	for (unsigned i = 0; i < hlit + hdist;) {
		int sym = length_symbol(&r, &lc);
		unsigned rep, fill = 0;
		if (sym < 0)
			return false;
		if (sym < 16) {
			lens[i++] = (unsigned char)sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0 || !take_bits(&r, 2, &rep))
				return false;
			fill = lens[i - 1];
			rep += 3;
		} else if (!take_bits(&r, sym == 17 ? 3 : 7, &rep)) {
			return false;
		} else {
			rep += sym == 17 ? 3 : 11;
		}
		if (rep > hlit + hdist - i)
			return false;
		memset(lens + i, fill, rep);
		i += rep;
	}
	if (hlit <= 256 || lens[256] == 0)
		return false;
	/* The canonical code: shorter codes first, then by symbol. */
	unsigned count[16] = { 0 };
	for (unsigned i = 0; i < hlit; i++)
		count[lens[i]]++;
	unsigned next = 0;
	for (unsigned l = 1; l < lens[256]; l++)
		next = (next + count[l]) << 1;
	for (unsigned i = 0; i < 256; i++)
		next += lens[i] == lens[256];
	*len = lens[256];
	*code = next;
	*data = r.at;
	return true;
}

/* Where the one deflate block of p[0..k) ends in its last byte, told
 * apart without inflating it: 0 when at most 5 of the last byte's bits
 * are used, 1 when 6 or more are (or it ends on the byte), -1 when its
 * end-of-block code cannot tell. The block's last bits are its
 * end-of-block code and the bits after it are zero, so each ending that
 * is possible (only zeros after it) and has that code right before it
 * is a candidate; the true ending is one of them. When every candidate
 * is on one side, that side is the answer. */
static int ending_from_code(const unsigned char *p, size_t k)
{
	unsigned len, code;
	size_t data;
	if (!end_of_block_code(p, k, &len, &code, &data))
		return -1;
	bool side[2] = { false, false };
	for (unsigned used = 1; used <= 8; used++) {
		size_t end = (k - 1) * 8 + used;
		if ((p[k - 1] >> used) != 0 || end < data + len)
			continue;
		bitreader r = { p, end, end - len };
		unsigned v = 0, bit;
		for (unsigned i = 0; i < len && take_bits(&r, 1, &bit); i++)
			v = v << 1 | bit;
		if (v == code)
			side[used > 5] = true;
	}
	return side[0] == side[1] ? -1 : side[1];
}

/* The quick way to join a piece p[0..k) of one deflate block (its first
 * block is marked final, so there is no other): that mark is bit 0. Where
 * the block ends in the last byte is not said, only that the bits after
 * it are zero: the empty stored block's 3 zero header bits fit in that
 * byte when at most 5 of its bits are used, else they take one more zero
 * byte. For most pieces the block's end-of-block code tells which
 * (ending_from_code), with no inflate at all. Otherwise (a fixed-code
 * block's end-of-block is 7 zero bits, which leaves both possible) they
 * are tried in turn, the first skipped when the last byte's highest 1 is
 * among its top 2 bits. Each try is checked by inflating the joined
 * piece, ended by a final empty block (03 00, not kept): a wrong guess
 * cannot pass, since its stored block's LEN and NLEN come out of the
 * wrong bytes and do not match. Either way the bytes are those zlib's
 * read-back would write. False (p as it was) when the piece has several
 * blocks or no try passes. */
static bool quick_join(ims_gzblock *b, unsigned char *p, size_t k, const unsigned char *in, size_t n,
		       ims_gzblock_out *o)
{
	if (!(p[0] & 1) || b->no_quick)
		return false;
	static const unsigned char tail[2][8] = { "\0\0\xff\xff\x03\0", "\0\0\0\xff\xff\x03\0" };
	static const size_t tail_len[2] = { 6, 7 };
	int told = ending_from_code(p, k);
	p[0] &= 0xfe;
	if (told >= 0) {
		memcpy(p + k, tail[told], tail_len[told] - 2);
		o->len += k + tail_len[told] - 2;
		b->quick[told]++;
		b->by_code++;
		return true;
	}
	unsigned last = p[k - 1];
	int high = 0; /* 1 + the index of the last byte's highest 1 */
	while (last >> high)
		high++;
	for (int extra = high > 5; extra <= 1; extra++) {
		memcpy(p + k, tail[extra], tail_len[extra]);
		if (inflates_whole(b, p, k + tail_len[extra], in, n)) {
			o->len += k + tail_len[extra] - 2; /* the final empty block is dropped */
			b->quick[extra]++;
			return true;
		}
	}
	p[0] |= 1;
	return false;
}

/* in[0..n) compressed by libdeflate. Unless final, the piece is made to
 * go on: its last block's BFINAL bit cleared, then an empty stored block
 * (3 zero bits, padding to the byte, LEN 0, NLEN 0xffff) so that it ends
 * on a byte boundary, as zlib's sync flush does. A piece of one deflate
 * block is joined the quick way (quick_join), the others through zlib's
 * read-back. */
static ims_gzblock_status put_deflated(ims_gzblock *b, const unsigned char *in, size_t n, bool final,
				       ims_gzblock_out *o)
{
	if (!b->ld && !(b->ld = libdeflate_alloc_compressor(b->level)))
		return IMS_GZBLOCK_ENOMEM;
	size_t bound = libdeflate_deflate_compress_bound(b->ld, n);
	reserve(o, bound + 7);
	unsigned char *p = o->p + o->len;
	size_t k = libdeflate_deflate_compress(b->ld, in, n, p, bound);
	if (k == 0)
		return IMS_GZBLOCK_ECOMPRESS;
	if (final) {
		if (!inflates_whole(b, p, k, in, n))
			return IMS_GZBLOCK_ECHECK;
		o->len += k;
		return IMS_GZBLOCK_OK;
	}
	if (quick_join(b, p, k, in, n, o))
		return IMS_GZBLOCK_OK;
	b->slow++;
	size_t final_bit, end_bit;
	ims_gzblock_status s = read_back(b, p, k, in, n, &final_bit, &end_bit);
	if (s != IMS_GZBLOCK_OK)
		return s;
	o->len += k;
	p[final_bit / 8] &= (unsigned char)~(1u << (final_bit % 8));
	unsigned used = (unsigned)(end_bit % 8);
	if (used)
		p[k - 1] &= (unsigned char)((1u << used) - 1);
	/* The empty block's 3 header bits fit after the used bits of the last
	 * byte (which are zero now), or take a byte of their own. */
	if (used == 0 || used > 5)
		put_bytes(o, "\0", 1);
	put_bytes(o, "\0\0\xff\xff", 4);
	return IMS_GZBLOCK_OK;
}

ims_gzblock_status ims_gzblock_deflate(ims_gzblock *b, const unsigned char *in, size_t n, bool last,
				       ims_gzblock_out *o)
{
	o->len = 0;
	o->stored = 0;
	o->crc = (uint32_t)libdeflate_crc32(0, in, n);
	if (n == 0) {
		/* Only an empty layer has an empty block, and it is the last:
		 * a final fixed-Huffman block holding just end-of-block, as
		 * zlib writes for no input. */
		if (last)
			put_bytes(o, "\x03\0", 2);
		return IMS_GZBLOCK_OK;
	}
	b->seen_clean = false;
	classify(b, in, n);
	size_t nchunks = (n + IMS_GZBLOCK_CHUNK - 1) / IMS_GZBLOCK_CHUNK;
	for (size_t c = 0; c < nchunks;) {
		size_t e = c + 1;
		while (e < nchunks && b->decide[e] == b->decide[c])
			e++;
		size_t off = c * IMS_GZBLOCK_CHUNK, end = e == nchunks ? n : e * IMS_GZBLOCK_CHUNK;
		bool final = last && end == n;
		if (b->decide[c]) {
			put_stored(o, in + off, end - off, final);
			o->stored += end - off;
		} else {
			ims_gzblock_status s = put_deflated(b, in + off, end - off, final, o);
			if (s != IMS_GZBLOCK_OK)
				return s;
		}
		c = e;
	}
	return IMS_GZBLOCK_OK;
}
