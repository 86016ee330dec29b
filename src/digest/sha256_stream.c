#include "digest/sha256_stream.h"

#include <string.h>

#include "util/error.h"

static int sink_write(void *ud, const void *p, size_t n, ims_error **err)
{
	ims_sha256_sink *s = ud;
	/* Stop a source that sends more than promised before it fills the disk. */
	if (s->limit >= 0 && (int64_t)n > s->limit - s->count)
		return ims_error_set(err, IMS_EDIGEST, "more than the expected %lld bytes", (long long)s->limit);
	if (s->hash)
		ims_sha256_update(s->hash, p, n);
	s->count += (int64_t)n;
	return s->next ? ims_sink_write(s->next, p, n, err) : 0;
}

void ims_sha256_sink_init(ims_sha256_sink *s, ims_sink *next)
{
	s->sink = (ims_sink){ sink_write, s };
	s->next = next;
	s->hash = ims_sha256_new();
	s->count = 0;
	s->limit = -1;
}

void ims_sha256_sink_final(ims_sha256_sink *s, char digest[IMS_DIGEST_BUFSZ])
{
	if (s->hash)
		ims_sha256_final(s->hash, digest);
	else
		digest[0] = '\0';
	ims_sha256_sink_dispose(s);
}

void ims_sha256_sink_count_only(ims_sha256_sink *s)
{
	ims_sha256_sink_dispose(s);
}

bool ims_sha256_sink_final_is(ims_sha256_sink *s, const char *digest, int64_t size, char got[IMS_DIGEST_BUFSZ])
{
	ims_sha256_sink_final(s, got);
	return (!got[0] || !strcmp(got, digest)) && s->count == size;
}

void ims_sha256_sink_dispose(ims_sha256_sink *s)
{
	if (!s)
		return;
	ims_sha256_free(s->hash);
	s->hash = NULL;
}

static ssize_t reader_read(void *ud, void *p, size_t n, ims_error **err)
{
	ims_sha256_reader *r = ud;
	ssize_t got = r->src->read(r->src->ud, p, n, err);
	if (got > 0) {
		ims_sha256_update(r->hash, p, (size_t)got);
		r->count += got;
	}
	return got;
}

static void reader_close(void *ud)
{
	ims_sha256_reader *r = ud;
	ims_reader_close(r->src);
}

void ims_sha256_reader_init(ims_sha256_reader *r, ims_reader *src)
{
	r->reader = (ims_reader){ reader_read, reader_close, r };
	r->src = src;
	r->hash = ims_sha256_new();
	r->count = 0;
}

void ims_sha256_reader_final(ims_sha256_reader *r, char digest[IMS_DIGEST_BUFSZ])
{
	ims_sha256_final(r->hash, digest);
	ims_sha256_reader_dispose(r);
}

void ims_sha256_reader_dispose(ims_sha256_reader *r)
{
	if (!r)
		return;
	ims_sha256_free(r->hash);
	r->hash = NULL;
}
