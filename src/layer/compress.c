#include "layer/compress.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/error.h"
#include "util/xalloc.h"

struct ims_compressor {
	ims_layer_alg alg;
	ims_sink next;
	z_stream z;
	bool z_live;
	ZSTD_CCtx *zs;
	char *out;   /* IMS_COMPRESS_BUFSZ bytes */
	size_t used; /* bytes of out waiting for the next sink */
	bool finished;
};

static int flush_out(ims_compressor *c, ims_error **err)
{
	int r = ims_sink_write(&c->next, c->out, c->used, err);
	c->used = 0;
	return r;
}

static int gzip_open(ims_compressor *c, int level, ims_error **err)
{
	if (level < 0)
		level = 6;
	if (level > 9)
		return ims_error_set(err, IMS_EINVALID, "gzip level %d is out of range (0-9)", level);
	/* windowBits 15+16 makes zlib write a gzip wrapper; without
	 * deflateSetHeader it has no name and mtime 0 (SPEC: reproducibility). */
	if (deflateInit2(&c->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return ims_error_set(err, IMS_EGENERIC, "gzip: cannot initialise zlib");
	c->z_live = true;
	return 0;
}

static int zstd_open(ims_compressor *c, int level, ims_error **err)
{
	if (level < 0)
		level = 3;
	if (level < 1 || level > 19)
		return ims_error_set(err, IMS_EINVALID, "zstd level %d is out of range (1-19)", level);
	c->zs = ZSTD_createCCtx();
	if (!c->zs)
		return ims_error_set(err, IMS_EGENERIC, "zstd: cannot create a compression context");
	/* One thread and no checksum: worker count changes zstd's output, and
	 * the digest already covers the bytes. */
	size_t r = ZSTD_CCtx_setParameter(c->zs, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c->zs, ZSTD_c_checksumFlag, 0);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c->zs, ZSTD_c_nbWorkers, 0);
	if (ZSTD_isError(r))
		return ims_error_set(err, IMS_EGENERIC, "zstd: %s", ZSTD_getErrorName(r));
	return 0;
}

int ims_compressor_new(ims_compressor **out, ims_layer_alg alg, int level, const ims_sink *next,
		       ims_error **err)
{
	ims_compressor *c = xcalloc(1, sizeof(*c));
	int r = 0;
	c->alg = alg;
	c->next = *next;
	c->out = xmalloc(IMS_COMPRESS_BUFSZ);
	if (c->alg == IMS_LAYER_ALG_GZIP)
		r = gzip_open(c, level, err);
	else if (c->alg == IMS_LAYER_ALG_ZSTD)
		r = zstd_open(c, level, err);
	if (r < 0) {
		ims_compressor_free(c);
		return r;
	}
	*out = c;
	return 0;
}

static int gzip_run(ims_compressor *c, const void *p, size_t n, int flush, ims_error **err)
{
	/* zlib counts in uInt; feed huge inputs in slices. */
	const unsigned char *in = p;
	do {
		size_t slice = n > (1u << 30) ? (1u << 30) : n;
		c->z.next_in = (unsigned char *)(uintptr_t)in;
		c->z.avail_in = (uInt)slice;
		int last = slice == n ? flush : Z_NO_FLUSH;
		for (;;) {
			c->z.next_out = (unsigned char *)c->out + c->used;
			c->z.avail_out = (uInt)(IMS_COMPRESS_BUFSZ - c->used);
			int zr = deflate(&c->z, last);
			c->used = IMS_COMPRESS_BUFSZ - c->z.avail_out;
			if (zr == Z_STREAM_ERROR)
				return ims_error_set(err, IMS_EGENERIC, "gzip: deflate failed");
			if (c->used == IMS_COMPRESS_BUFSZ) {
				int r = flush_out(c, err);
				if (r < 0)
					return r;
				continue;
			}
			/* Output space is left, so zlib took all it could. */
			if (last == Z_FINISH ? zr == Z_STREAM_END : c->z.avail_in == 0)
				break;
		}
		in += slice;
		n -= slice;
	} while (n > 0);
	return 0;
}

static int zstd_run(ims_compressor *c, const void *p, size_t n, ZSTD_EndDirective mode, ims_error **err)
{
	ZSTD_inBuffer in = { p, n, 0 };
	for (;;) {
		ZSTD_outBuffer o = { c->out, IMS_COMPRESS_BUFSZ, c->used };
		size_t left = ZSTD_compressStream2(c->zs, &o, &in, mode);
		if (ZSTD_isError(left))
			return ims_error_set(err, IMS_EGENERIC, "zstd: %s", ZSTD_getErrorName(left));
		c->used = o.pos;
		if (c->used == IMS_COMPRESS_BUFSZ) {
			int r = flush_out(c, err);
			if (r < 0)
				return r;
			continue;
		}
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

static int none_run(ims_compressor *c, const void *p, size_t n, ims_error **err)
{
	/* Small writes (tar headers) are gathered; big ones skip the copy. */
	if (c->used + n > IMS_COMPRESS_BUFSZ) {
		int r = flush_out(c, err);
		if (r < 0)
			return r;
	}
	if (n >= IMS_COMPRESS_BUFSZ)
		return ims_sink_write(&c->next, p, n, err);
	memcpy(c->out + c->used, p, n);
	c->used += n;
	return 0;
}

int ims_compressor_write(ims_compressor *c, const void *p, size_t n, ims_error **err)
{
	if (c->finished)
		return ims_error_set(err, IMS_EGENERIC, "write after the end of the compressed stream");
	if (n == 0)
		return 0;
	switch (c->alg) {
	case IMS_LAYER_ALG_GZIP:
		return gzip_run(c, p, n, Z_NO_FLUSH, err);
	case IMS_LAYER_ALG_ZSTD:
		return zstd_run(c, p, n, ZSTD_e_continue, err);
	default:
		return none_run(c, p, n, err);
	}
}

int ims_compressor_finish(ims_compressor *c, ims_error **err)
{
	if (c->finished)
		return 0;
	c->finished = true;
	int r = 0;
	if (c->alg == IMS_LAYER_ALG_GZIP)
		r = gzip_run(c, "", 0, Z_FINISH, err);
	else if (c->alg == IMS_LAYER_ALG_ZSTD)
		r = zstd_run(c, "", 0, ZSTD_e_end, err);
	if (r < 0)
		return r;
	return flush_out(c, err);
}

void ims_compressor_free(ims_compressor *c)
{
	if (!c)
		return;
	if (c->z_live)
		deflateEnd(&c->z);
	ZSTD_freeCCtx(c->zs);
	free(c->out);
	free(c);
}
