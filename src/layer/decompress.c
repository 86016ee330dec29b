/* Base layers to plain tar, for targets that store uncompressed layers.
 * Memory stays bounded: two stream buffers, zlib's 32 KiB window, and a
 * zstd window capped at zstd's default limit (2^27 bytes). */
#include "layer/layer.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "digest/sha256_stream.h"
#include "layer/compress.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef struct {
	ims_reader *r;
	ims_sha256_sink out; /* the diffId and size of the tar, on the way to the caller's sink */
	unsigned char *in, *obuf;
	size_t in_pos, in_len; /* unread input is in[in_pos, in_len) */
	bool eof;
} dstate;

/* Refills the input buffer when it is empty. Returns bytes available, 0 at
 * the end, or a negative code. */
static ssize_t fill(dstate *s, ims_error **err)
{
	if (s->in_pos < s->in_len)
		return (ssize_t)(s->in_len - s->in_pos);
	if (s->eof)
		return 0;
	ssize_t got = s->r->read(s->r->ud, s->in, IMS_COMPRESS_BUFSZ, err);
	if (got < 0)
		return got;
	if (got == 0)
		s->eof = true;
	s->in_pos = 0;
	s->in_len = (size_t)got;
	return got;
}

static int emit(dstate *s, const void *p, size_t n, ims_error **err)
{
	return ims_sink_write(&s->out.sink, p, n, err);
}

/* Makes at least n unread bytes available unless the input ends first. */
static int ensure(dstate *s, size_t n, ims_error **err)
{
	if (s->in_len - s->in_pos >= n || s->eof)
		return 0;
	memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
	s->in_len -= s->in_pos;
	s->in_pos = 0;
	while (s->in_len < n && !s->eof) {
		ssize_t got = s->r->read(s->r->ud, s->in + s->in_len, IMS_COMPRESS_BUFSZ - s->in_len, err);
		if (got < 0)
			return (int)got;
		if (got == 0)
			s->eof = true;
		s->in_len += (size_t)got;
	}
	return 0;
}

/* After a gzip member comes another member (as pigz and concatenation
 * make), zeros (some tools pad), or the end. Returns 1 for another member,
 * 0 at the end. */
static int gzip_next_member(dstate *s, ims_error **err)
{
	int r = ensure(s, 2, err);
	if (r < 0)
		return r;
	if (s->in_len - s->in_pos >= 2 && s->in[s->in_pos] == 0x1f && s->in[s->in_pos + 1] == 0x8b)
		return 1;
	for (;;) {
		for (; s->in_pos < s->in_len; s->in_pos++)
			if (s->in[s->in_pos])
				return ims_error_set(err, IMS_EINVALID, "unexpected data after the gzip stream");
		ssize_t n = fill(s, err);
		if (n <= 0)
			return (int)n;
	}
}

static int run_gzip(dstate *s, ims_error **err)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* 32: accept a gzip or zlib header; 15: the largest window. */
	if (inflateInit2(&z, 32 + 15) != Z_OK)
		return ims_error_set(err, IMS_EGENERIC, "gzip: cannot initialise zlib");
	int r = 0;
	for (;;) {
		ssize_t n = fill(s, err);
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0) {
			r = ims_error_set(err, IMS_EINVALID, "the gzip stream is truncated");
			break;
		}
		z.next_in = s->in + s->in_pos;
		z.avail_in = (uInt)n;
		int zr;
		do {
			z.next_out = s->obuf;
			z.avail_out = (uInt)IMS_COMPRESS_BUFSZ;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
				r = ims_error_set(err, IMS_EINVALID, "corrupt gzip stream: %s",
						  z.msg ? z.msg : "inflate failed");
				goto out;
			}
			size_t got = IMS_COMPRESS_BUFSZ - z.avail_out;
			if (got && (r = emit(s, s->obuf, got, err)) < 0)
				goto out;
		} while (zr != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
		s->in_pos = s->in_len - z.avail_in;
		if (zr == Z_STREAM_END) {
			r = gzip_next_member(s, err);
			if (r <= 0)
				break;
			inflateReset(&z);
		}
	}
out:
	inflateEnd(&z);
	return r;
}

static int run_zstd(dstate *s, ims_error **err)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return ims_error_set(err, IMS_EGENERIC, "zstd: cannot create a decompression context");
	int r = 0;
	size_t last = 0; /* 0: between frames */
	for (;;) {
		ssize_t n = fill(s, err);
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0) {
			if (last != 0)
				r = ims_error_set(err, IMS_EINVALID, "the zstd stream is truncated");
			break;
		}
		ZSTD_inBuffer in = { s->in + s->in_pos, (size_t)n, 0 };
		do {
			ZSTD_outBuffer o = { s->obuf, IMS_COMPRESS_BUFSZ, 0 };
			last = ZSTD_decompressStream(d, &o, &in);
			if (ZSTD_isError(last)) {
				r = ims_error_set(err, IMS_EINVALID, "corrupt zstd stream: %s", ZSTD_getErrorName(last));
				goto out;
			}
			if (o.pos && (r = emit(s, s->obuf, o.pos, err)) < 0)
				goto out;
			/* A full output buffer may hide more flushable output. */
			if (in.pos == in.size && o.pos < o.size)
				break;
		} while (1);
		s->in_pos += in.pos;
	}
out:
	ZSTD_freeDCtx(d);
	return r;
}

static int run_plain(dstate *s, ims_error **err)
{
	for (;;) {
		ssize_t n = fill(s, err);
		if (n <= 0)
			return (int)n;
		int r = emit(s, s->in + s->in_pos, (size_t)n, err);
		if (r < 0)
			return r;
		s->in_pos = s->in_len;
	}
}

int ims_layer_decompress(ims_reader *r, ims_sink *out, char diff_id[IMS_DIGEST_BUFSZ], int64_t *tar_size,
			 ims_error **err)
{
	dstate s = { .r = r };
	s.in = xmalloc(IMS_COMPRESS_BUFSZ);
	s.obuf = xmalloc(IMS_COMPRESS_BUFSZ);
	ims_sha256_sink_init(&s.out, out);
	int ret = ensure(&s, 6, err);
	if (ret == 0) {
		const unsigned char *m = s.in;
		size_t n = s.in_len;
		if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
			ret = run_gzip(&s, err);
		else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
			ret = run_zstd(&s, err);
		else if (n >= 6 && !memcmp(m, "\xfd" "7zXZ\0", 6))
			ret = ims_error_set(err, IMS_EUNSUPPORTED, "xz-compressed layers are not supported");
		else if (n >= 3 && !memcmp(m, "BZh", 3))
			ret = ims_error_set(err, IMS_EUNSUPPORTED, "bzip2-compressed layers are not supported");
		else
			ret = run_plain(&s, err);
	}
	if (ret == 0) {
		ims_sha256_sink_final(&s.out, diff_id);
		if (tar_size)
			*tar_size = s.out.count;
	}
	ims_sha256_sink_dispose(&s.out);
	free(s.in);
	free(s.obuf);
	return ret < 0 ? ret : 0;
}
