/* The layer compressors: parallel gzip gives the same bytes for any number
 * of threads and any way the input is cut into writes, reads back with
 * zlib, stores what does not compress and holds a bounded number of
 * blocks; zstd gives the same bytes for any number of workers. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "digest/digest.h"
#include "layer/compress.h"
#include "layer/gzblock.h"
#include "layer/layer.h"
#include "layer/pgzip.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "tap.h"
#include "testsink.h"

#define BLOCK IMS_PGZIP_BLOCK

typedef struct {
	unsigned char *p;
	size_t len, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
	b->p = xgrow(b->p, &b->cap, b->len + n + 1, 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static int to_bytes(void *ud, const void *p, size_t n, ims_error **err)
{
	(void)err;
	put(ud, p, n);
	return 0;
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: the same inputs on every machine. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void add_random(bytes *b, uint64_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(rnd(s) >> 56);
		put(b, &c, 1);
	}
}

static void add_text(bytes *b, uint64_t *s, size_t n)
{
	static const char *words[] = { "layer", "image",        "tar",      "gzip",     "block",
				       "the",   "of",           "registry", "manifest", "digest",
				       "a",     "reproducible", "build",    "zlib",     "deflate" };
	size_t end = b->len + n;
	while (b->len < end) {
		const char *w = words[rnd(s) % IMS_ARRAY_SIZE(words)];
		size_t k = strlen(w);
		if (k > end - b->len)
			k = end - b->len;
		put(b, w, k);
		if (b->len < end)
			put(b, rnd(s) % 9 ? " " : "\n", 1);
	}
}

/* Text and random bytes in pieces of 1-40 KB, as a layer of small files. */
static void add_mixed(bytes *b, uint64_t *s, size_t n)
{
	size_t end = b->len + n;
	for (int i = 0; b->len < end; i++) {
		size_t k = 1000 + rnd(s) % 40000;
		if (k > end - b->len)
			k = end - b->len;
		if (i % 2)
			add_random(b, s, k);
		else
			add_text(b, s, k);
	}
}

typedef struct {
	const char *name;
	bytes in;
} input;

/* Compresses in with pgzip; writes of `step` bytes, or of varying sizes
 * when step is 0. */
static bytes pgzip(const bytes *in, int level, int threads, size_t step, ims_pgzip_stats *st)
{
	bytes out = { 0 };
	ims_sink s = { to_bytes, &out };
	ims_pgzip *g = NULL;
	ims_error *err = NULL;
	if (ims_pgzip_new(&g, level, threads, &s, &err) < 0)
		abort();
	uint64_t seed = 7;
	for (size_t off = 0; off < in->len;) {
		size_t k = step ? step : 1 + rnd(&seed) % (3 * BLOCK / 2);
		if (k > in->len - off)
			k = in->len - off;
		if (ims_pgzip_write(g, in->p + off, k, &err) < 0)
			abort();
		off += k;
	}
	if (ims_pgzip_finish(g, &err) < 0)
		abort();
	if (st)
		ims_pgzip_get_stats(g, st);
	ims_pgzip_free(g);
	return out;
}

static bool inflates_to(const bytes *gz, const bytes *want)
{
	z_stream z = { 0 };
	if (inflateInit2(&z, 31) != Z_OK)
		return false;
	unsigned char *got = xmalloc(want->len + 1);
	z.next_in = gz->p;
	z.avail_in = (uInt)gz->len;
	z.next_out = got;
	z.avail_out = (uInt)want->len + 1;
	int r = inflate(&z, Z_FINISH);
	bool same = r == Z_STREAM_END && z.total_out == want->len && z.avail_in == 0 &&
		    (!want->len || !memcmp(got, want->p, want->len));
	inflateEnd(&z);
	free(got);
	return same;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The first 10 bytes zlib writes for windowBits 31 at level. */
static void zlib_header(int level, unsigned char h[10])
{
	z_stream z = { 0 };
	unsigned char out[64], none[1] = { 0 };
	deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = none;
	z.avail_in = 0;
	z.next_out = out;
	z.avail_out = sizeof(out);
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	memcpy(h, out, 10);
}

static void test_identity(input *ins, size_t nin)
{
	static const int threads[] = { 1, 2, 3, 8 };
	unsigned char zh[10];
	zlib_header(6, zh);
	for (size_t i = 0; i < nin; i++) {
		const bytes *in = &ins[i].in;
		bytes one = pgzip(in, 6, 1, 0, NULL);
		ok(inflates_to(&one, in), "gzip %s: inflates (windowBits 31) to the input", ins[i].name);
		ok(one.len >= 18 && !memcmp(one.p, zh, 10), "gzip %s: the header zlib writes", ins[i].name);
		ok(one.len >= 18 && le32(one.p + one.len - 8) == (uint32_t)crc32(0, in->p, (uInt)in->len) &&
			   le32(one.p + one.len - 4) == (uint32_t)in->len,
		   "gzip %s: CRC32 and ISIZE", ins[i].name);
		bool same = true;
		for (size_t t = 1; t < IMS_ARRAY_SIZE(threads); t++) {
			bytes o = pgzip(in, 6, threads[t], 0, NULL);
			same = same && o.len == one.len && !memcmp(o.p, one.p, o.len);
			free(o.p);
		}
		/* Cut differently: one write, or 4 KiB at a time. */
		bytes whole = pgzip(in, 6, 2, in->len ? in->len : 1, NULL);
		bytes small = pgzip(in, 6, 3, 4096, NULL);
		same = same && whole.len == one.len && !memcmp(whole.p, one.p, one.len) && small.len == one.len &&
		       !memcmp(small.p, one.p, one.len);
		ok(same, "gzip %s (%zu bytes): the same bytes for 1, 2, 3 and 8 threads and any writes", ins[i].name,
		   in->len);
		free(whole.p);
		free(small.p);
		free(one.p);
	}
}

static void test_stored(void)
{
	uint64_t s = 11;
	bytes r = { 0 }, t = { 0 }, m = { 0 };
	add_random(&r, &s, 3 * BLOCK);
	add_text(&t, &s, 3 * BLOCK);
	add_mixed(&m, &s, 6 * BLOCK);
	ims_pgzip_stats st;
	bytes o = pgzip(&r, 6, 2, 0, &st);
	ok(st.stored >= r.len - r.len / 100, "stored: random input is stored (%llu of %zu bytes)",
	   (unsigned long long)st.stored, r.len);
	ok(o.len < r.len + r.len / 1000 + 64, "stored: random input grows by stored block headers only (%zu)", o.len);
	free(o.p);
	o = pgzip(&t, 6, 2, 0, &st);
	is_int(st.stored, 0, "stored: nothing of text is stored");
	ok(o.len < t.len / 2, "stored: text compresses (%zu of %zu)", o.len, t.len);
	free(o.p);
	o = pgzip(&m, 6, 2, 0, &st);
	ok(st.stored > m.len / 3 && st.stored < m.len * 2 / 3,
	   "stored: about half of mixed input is stored (%llu of %zu)", (unsigned long long)st.stored, m.len);
	free(o.p);

	/* Random bytes twice in a row: deflate's matches, so compressed. */
	bytes twice = { 0 };
	add_random(&twice, &s, 20000);
	unsigned char *first = xmemdup(twice.p, 20000);
	put(&twice, first, 20000);
	free(first);
	o = pgzip(&twice, 6, 1, 0, &st);
	ok(o.len < 20000 + 20000 / 4, "stored: a repeat of random bytes is compressed (%zu of %zu)", o.len, twice.len);
	ok(inflates_to(&o, &twice), "stored: ... and reads back");
	free(o.p);
	/* Every byte value in turn: spread evenly, yet all repeats. */
	bytes cyc = { 0 };
	for (int i = 0; i < 4 * 256 * 64; i++) {
		unsigned char c = (unsigned char)i;
		put(&cyc, &c, 1);
	}
	o = pgzip(&cyc, 6, 1, 0, &st);
	ok(o.len < cyc.len / 20 && st.stored == 0, "stored: cycling byte values compress (%zu)", o.len);
	free(o.p);

	/* Level 0 stores everything; 1 and 9 set XFL as zlib does. */
	for (int level = 0; level <= 9; level += level == 1 ? 8 : 1) {
		unsigned char zh[10];
		zlib_header(level, zh);
		o = pgzip(&m, level, 2, 0, NULL);
		ok(!memcmp(o.p, zh, 10) && inflates_to(&o, &m), "level %d: zlib's header, reads back", level);
		free(o.p);
	}
	free(twice.p);
	free(cyc.p);
	free(r.p);
	free(t.p);
	free(m.p);
}

/* The bytes themselves, pinned: a change to the compressor that was meant
 * to keep them (a faster path) must keep them, and one that changes them
 * must say so by raising IMS_LAYER_FORMAT_VERSION (layer/layer.h: cached
 * layers and recipes follow it) and these digests. The input has text,
 * random stretches, a random stretch repeated within reach, cycling byte
 * values and a block that is random throughout. */
static void test_pinned(void)
{
	uint64_t s = 77;
	bytes in = { 0 };
	add_mixed(&in, &s, 6 * BLOCK + 999);
	add_random(&in, &s, 2 * BLOCK);
	size_t at = in.len;
	add_random(&in, &s, 9000);
	unsigned char *rep = xmemdup(in.p + at, 9000);
	add_text(&in, &s, 3000);
	put(&in, rep, 9000);
	free(rep);
	for (int i = 0; i < 3 * 256 * 8; i++) {
		unsigned char c = (unsigned char)(i * 7);
		put(&in, &c, 1);
	}
	add_mixed(&in, &s, 2 * BLOCK);
	static const struct {
		int level;
		const char *digest;
	} want[] = {
		{ 1, "sha256:9361e20cf2a2c4781d70f9b3a3e22fdbd89927ed56c63e58c903a146ca4fc7c0" },
		{ 4, "sha256:e8dd227b4de6f7abbcae89a9b6966b427e3663d1eca02b243921f92aa59c23be" },
		{ 6, "sha256:26c3b10fc05fff233b41cca16e4cd47404d7f6247c9190bbfcb0b9b248e03c7a" },
	};
	for (size_t i = 0; i < IMS_ARRAY_SIZE(want); i++) {
		bytes o = pgzip(&in, want[i].level, 2, 0, NULL);
		char got[IMS_DIGEST_BUFSZ];
		ims_sha256_buf(o.p, o.len, got);
		is_str(got, want[i].digest, "pinned: level %d gives the bytes of layer format %d (%zu bytes)",
		       want[i].level, IMS_LAYER_FORMAT_VERSION, o.len);
		ok(inflates_to(&o, &in), "pinned: level %d reads back", want[i].level);
		free(o.p);
	}
	free(in.p);
}

/* Inflates a block's raw deflate bytes; returns the zlib code of the last
 * call and the bytes in out. */
static int raw_inflate(const ims_gzblock_out *o, bytes *out)
{
	z_stream z = { 0 };
	inflateInit2(&z, -15);
	unsigned char buf[4096];
	z.next_in = o->p;
	z.avail_in = (uInt)o->len;
	int r;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = inflate(&z, Z_SYNC_FLUSH);
		put(out, buf, sizeof(buf) - z.avail_out);
	} while (r == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
	if (z.avail_in)
		r = Z_DATA_ERROR;
	inflateEnd(&z);
	return r;
}

/* The joins themselves, block by block: libdeflate's pieces end anywhere
 * in a byte and their last block is marked final; a block that is not the
 * last must inflate to its input and stop short of the stream's end, on a
 * byte boundary after an empty stored block (00 00 ff ff), and the last
 * one must end the stream. Pieces of every length from 1 to 300 bytes of
 * text (so every bit position of an ending), between stored chunks, and
 * pieces that libdeflate cuts into several deflate blocks (text, then
 * bytes of a small skewed alphabet). */
/* Whether the slow way (zlib's read-back, b->no_quick) joins in[0..n)
 * into the bytes of o. */
static bool same_as_slow(ims_gzblock *slow, const bytes *in, bool last, const ims_gzblock_out *o)
{
	ims_gzblock_out so = { 0 };
	bool same = ims_gzblock_deflate(slow, in->p, in->len, last, &so) == IMS_GZBLOCK_OK && so.len == o->len &&
		    !memcmp(so.p, o->p, o->len);
	ims_gzblock_out_dispose(&so);
	return same;
}

static void test_joins(void)
{
	uint64_t s = 99;
	ims_gzblock b, slow;
	ims_gzblock_out o = { 0 };
	int bad_mid = 0, bad_last = 0, pieces = 0, differ = 0;
	uint64_t quick[2] = { 0 }, slow_joins = 0, by_code = 0;
	for (int level = 1; level <= 9; level += 3) {
		ims_gzblock_init(&b, level);
		ims_gzblock_init(&slow, level);
		slow.no_quick = true;
		for (size_t len = 1; len <= 300; len++) {
			bytes in = { 0 };
			add_text(&in, &s, len);
			add_random(&in, &s, 2 * IMS_GZBLOCK_CHUNK);
			add_text(&in, &s, len * 7 + 1);
			for (int last = 0; last <= 1; last++) {
				bytes back = { 0 };
				int r = ims_gzblock_deflate(&b, in.p, in.len, last, &o);
				int z = r == IMS_GZBLOCK_OK ? raw_inflate(&o, &back) : Z_DATA_ERROR;
				bool same = back.len == in.len && !memcmp(back.p, in.p, in.len);
				if (!last)
					bad_mid += !(same && z == Z_OK && o.len >= 4 &&
						     !memcmp(o.p + o.len - 4, "\0\0\xff\xff", 4));
				else
					bad_last += !(same && z == Z_STREAM_END);
				differ += !same_as_slow(&slow, &in, last, &o);
				pieces++;
				free(back.p);
			}
			free(in.p);
		}
		/* Several deflate blocks in one piece. */
		bytes in = { 0 };
		add_text(&in, &s, 40000);
		for (int i = 0; i < 60000; i++) {
			unsigned char c = (unsigned char)(0x80 + (rnd(&s) % 16) * (rnd(&s) % 3));
			put(&in, &c, 1);
		}
		add_text(&in, &s, 20000);
		for (int last = 0; last <= 1; last++) {
			bytes back = { 0 };
			int r = ims_gzblock_deflate(&b, in.p, in.len, last, &o);
			int z = r == IMS_GZBLOCK_OK ? raw_inflate(&o, &back) : Z_DATA_ERROR;
			bool same = back.len == in.len && !memcmp(back.p, in.p, in.len);
			ok(same && z == (last ? Z_STREAM_END : Z_OK) && o.stored == 0,
			   "joins: level %d, a piece of several kinds of bytes, %s", level, last ? "last" : "not last");
			differ += !same_as_slow(&slow, &in, last, &o);
			free(back.p);
		}
		free(in.p);
		quick[0] += b.quick[0];
		quick[1] += b.quick[1];
		slow_joins += b.slow;
		by_code += b.by_code;
		ims_gzblock_dispose(&b);
		ims_gzblock_dispose(&slow);
	}
	is_int(bad_mid, 0, "joins: %d blocks that are not the last inflate to their input and stop on a byte", pieces / 2);
	is_int(bad_last, 0, "joins: %d last blocks inflate to their input and end the stream", pieces / 2);
	is_int(differ, 0, "joins: the quick join writes the bytes of zlib's read-back, for all %d blocks", pieces + 6);
	/* Both guesses of the quick join are taken (with and without the
	 * extra zero byte), and pieces of several deflate blocks still go
	 * through the read-back. */
	printf("# joins: %llu quick joins without the extra byte, %llu with it (%llu of them told by the "
	       "end-of-block code), %llu through the read-back\n",
	       (unsigned long long)quick[0], (unsigned long long)quick[1], (unsigned long long)by_code,
	       (unsigned long long)slow_joins);
	ok(quick[0] > 100 && quick[1] > 100, "joins: the quick join takes both endings");
	ok(slow_joins >= 3, "joins: pieces of several deflate blocks are joined through the read-back");
	ims_gzblock_out_dispose(&o);
}

/* The ending of a piece of one deflate block is read from its
 * end-of-block code, without inflating it (gzblock.c, ending_from_code),
 * so that code must be read right for every shape of Huffman code:
 * alphabets of 1 to 256 byte values, flat to steep, so that end-of-block
 * takes codes of many lengths, and fixed-code blocks (small pieces), at
 * every level; pieces of 1 byte to 128 KiB. Every join must give the
 * bytes of zlib's read-back, and most must be told by the code. */
static void test_join_codes(void)
{
	static const int levels[] = { 1, 2, 3, 4, 6, 9 };
	uint64_t s = 7, by_code = 0, joins = 0, lens_seen = 0;
	int differ = 0, rounds = 0;
	ims_gzblock_out o = { 0 };
	for (size_t l = 0; l < IMS_ARRAY_SIZE(levels); l++) {
		ims_gzblock b, slow;
		ims_gzblock_init(&b, levels[l]);
		ims_gzblock_init(&slow, levels[l]);
		slow.no_quick = true;
		for (int i = 0; i < 150; i++, rounds++) {
			unsigned alphabet = 1 + (unsigned)(rnd(&s) % 256), steep = (unsigned)(rnd(&s) % 4);
			size_t len = (size_t)1 << (rnd(&s) % 17);
			len += rnd(&s) % len;
			bytes in = { 0 };
			for (size_t j = 0; j < len; j++) {
				unsigned v = (unsigned)(rnd(&s) % alphabet);
				for (unsigned t = 0; t < steep; t++)
					v = v * (unsigned)(rnd(&s) % alphabet) / alphabet;
				unsigned char c = (unsigned char)(' ' + v);
				put(&in, &c, 1);
			}
			if (ims_gzblock_deflate(&b, in.p, in.len, false, &o) != IMS_GZBLOCK_OK ||
			    !same_as_slow(&slow, &in, false, &o))
				differ++;
			free(in.p);
		}
		by_code += b.by_code;
		joins += b.quick[0] + b.quick[1] + b.slow;
		lens_seen += b.by_code > 0;
		ims_gzblock_dispose(&b);
		ims_gzblock_dispose(&slow);
	}
	is_int(differ, 0, "join codes: %d pieces of skewed alphabets join into the bytes of zlib's read-back", rounds);
	printf("# join codes: %llu of %llu joins told by the end-of-block code\n", (unsigned long long)by_code,
	       (unsigned long long)joins);
	ok(by_code * 2 > joins, "join codes: most joins are told by the end-of-block code, without inflating");
	is_int((int)lens_seen, (int)IMS_ARRAY_SIZE(levels), "join codes: at every level");
	ims_gzblock_out_dispose(&o);
}

static void test_bounded(const bytes *in)
{
	static const int threads[] = { 1, 2, 8, 1000 };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(threads); i++) {
		ims_pgzip_stats st;
		bytes o = pgzip(in, 6, threads[i], 0, &st);
		int n = threads[i] > IMS_PGZIP_MAX_THREADS ? IMS_PGZIP_MAX_THREADS : threads[i];
		ok(st.slots == 2 * (size_t)n && st.max_in_flight <= st.slots && st.threads <= n &&
			   st.blocks == (in->len + BLOCK - 1) / BLOCK,
		   "bounded: %d threads hold at most %zu blocks (held %zu, %d threads started, %llu blocks)",
		   threads[i], st.slots, st.max_in_flight, st.threads, (unsigned long long)st.blocks);
		if (threads[i] == 1)
			is_int(st.threads, 0, "bounded: one thread compresses in the caller's");
		free(o.p);
	}
}

static void test_failures(const bytes *in)
{
	size_t left = 100000;
	ims_sink s = { test_fail_after, &left };
	ims_pgzip *g = NULL;
	ims_error *err = NULL;
	ims_pgzip_new(&g, 6, 4, &s, &err);
	int r = 0;
	for (size_t off = 0; off < in->len && r == 0; off += 65536)
		r = ims_pgzip_write(g, in->p + off, in->len - off < 65536 ? in->len - off : 65536, &err);
	if (r == 0)
		r = ims_pgzip_finish(g, &err);
	ok(r < 0 && err && strstr(err->message, "disk full"), "failures: the sink's error comes back");
	ims_error_clear(&err);
	ok(ims_pgzip_write(g, "x", 1, &err) < 0, "failures: no writes after a failure");
	ims_error_clear(&err);
	ims_pgzip_free(g);

	/* Dropped halfway, with workers busy: free joins them. */
	bytes out = { 0 };
	ims_sink keep = { to_bytes, &out };
	ims_pgzip_new(&g, 6, 8, &keep, &err);
	ims_pgzip_write(g, in->p, in->len / 2, &err);
	ims_pgzip_free(g);
	ok(true, "failures: a stream dropped halfway is freed");
	free(out.p);

	is_int(ims_pgzip_new(&g, 10, 1, &keep, &err), IMS_EINVALID, "failures: level 10 is refused");
	ims_error_clear(&err);
}

static bytes zstd_of(const bytes *in, int threads)
{
	bytes out = { 0 };
	ims_sink s = { to_bytes, &out };
	ims_compressor *c = NULL;
	ims_error *err = NULL;
	if (ims_compressor_new_threads(&c, IMS_LAYER_ALG_ZSTD, -1, threads, &s, &err) < 0)
		abort();
	for (size_t off = 0; off < in->len; off += 100000)
		if (ims_compressor_write(c, in->p + off, in->len - off < 100000 ? in->len - off : 100000, &err) < 0)
			abort();
	if (ims_compressor_finish(c, &err) < 0)
		abort();
	ims_compressor_free(c);
	return out;
}

static void test_zstd(const bytes *in)
{
	bytes one = zstd_of(in, 1);
	bool same = true;
	static const int workers[] = { 0, 2, 8 };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(workers); i++) {
		bytes o = zstd_of(in, workers[i]);
		same = same && o.len == one.len && !memcmp(o.p, one.p, o.len);
		free(o.p);
	}
	ok(same, "zstd (%zu bytes, %zu jobs): the same bytes for 1, 2 and 8 workers (and threads 0)", in->len,
	   in->len / IMS_ZSTD_JOB_SIZE + 1);
	unsigned char *back = xmalloc(in->len + 1);
	size_t n = ZSTD_decompress(back, in->len + 1, one.p, one.len);
	ok(!ZSTD_isError(n) && n == in->len && !memcmp(back, in->p, n), "zstd: decompresses to the input");
	/* What the fixed worker count avoids: libzstd's single-threaded mode
	 * cuts the input differently. */
	ZSTD_CCtx *z = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(z, ZSTD_c_jobSize, IMS_ZSTD_JOB_SIZE);
	ZSTD_CCtx_setParameter(z, ZSTD_c_overlapLog, IMS_ZSTD_OVERLAP_LOG);
	unsigned char *st = xmalloc(ZSTD_compressBound(in->len));
	size_t sn = ZSTD_compress2(z, st, ZSTD_compressBound(in->len), in->p, in->len);
	ok(!ZSTD_isError(sn) && (sn != one.len || memcmp(st, one.p, sn)), "zstd: nbWorkers 0 would give other bytes");
	ZSTD_freeCCtx(z);
	free(st);
	free(back);
	free(one.p);
}

int main(void)
{
	uint64_t s = 1;
	input ins[] = {
		{ "empty", { 0 } },      { "tiny", { 0 } },      { "one block", { 0 } },
		{ "block - 1", { 0 } },  { "block + 1", { 0 } }, { "many blocks", { 0 } },
		{ "all random", { 0 } }, { "all text", { 0 } },  { "mixed", { 0 } },
	};
	put(&ins[1].in, "hello\n", 6);
	add_mixed(&ins[2].in, &s, BLOCK);
	add_mixed(&ins[3].in, &s, BLOCK - 1);
	add_mixed(&ins[4].in, &s, BLOCK + 1);
	add_mixed(&ins[5].in, &s, 20 * BLOCK + 12345);
	add_random(&ins[6].in, &s, 5 * BLOCK);
	add_text(&ins[7].in, &s, 5 * BLOCK);
	add_mixed(&ins[8].in, &s, 5 * BLOCK + 777);

	test_identity(ins, IMS_ARRAY_SIZE(ins));
	test_stored();
	test_pinned();
	test_joins();
	test_join_codes();
	test_bounded(&ins[5].in);
	test_failures(&ins[5].in);
	bytes big = { 0 };
	add_mixed(&big, &s, 5 * IMS_ZSTD_JOB_SIZE / 2);
	test_zstd(&big);
	free(big.p);
	for (size_t i = 0; i < IMS_ARRAY_SIZE(ins); i++)
		free(ins[i].in.p);
	return tap_done();
}
