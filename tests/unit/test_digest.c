/* The digest room: the sha256 sink and reader, and base64. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/base64.h"
#include "digest/digest.h"
#include "digest/sha256_stream.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/stream.h"
#include "util/xalloc.h"
#include "tap.h"

#define EMPTY_SHA "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A sink that collects, and fails once it has taken `fail_after` bytes. */
typedef struct {
	ims_buf buf;
	int64_t fail_after; /* -1: never */
	int calls;
} collector;

static int collect(void *ud, const void *p, size_t n, ims_error **err)
{
	collector *c = ud;
	c->calls++;
	if (c->fail_after >= 0 && (int64_t)(c->buf.len + n) > c->fail_after)
		return ims_error_set(err, IMS_ENET, "the next sink failed");
	ims_buf_add(&c->buf, p, n, NULL);
	return 0;
}

/* A reader over a buffer, in chunks of at most `step` bytes, that fails
 * at `fail_at` when >= 0. */
typedef struct {
	const char *p;
	size_t len, off, step;
	int64_t fail_at;
	bool closed;
} mem_reader;

static ssize_t mem_read(void *ud, void *p, size_t n, ims_error **err)
{
	mem_reader *m = ud;
	if (m->fail_at >= 0 && (int64_t)m->off >= m->fail_at)
		return ims_error_set(err, IMS_EGENERIC, "the source failed");
	size_t left = m->len - m->off;
	size_t k = n < left ? n : left;
	if (k > m->step)
		k = m->step;
	memcpy(p, m->p + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

static void mem_close(void *ud)
{
	((mem_reader *)ud)->closed = true;
}

static void fill(char *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + 3);
}

static void test_sink(void)
{
	char data[5000], want[IMS_DIGEST_BUFSZ], got[IMS_DIGEST_BUFSZ];
	fill(data, sizeof(data));
	ims_sha256_buf(data, sizeof(data), want);

	/* Uneven chunks: hash and count of the whole, everything forwarded. */
	collector c = { IMS_BUF_INIT(0), -1, 0 };
	ims_sink next = { collect, &c };
	ims_sha256_sink s;
	ims_sha256_sink_init(&s, &next);
	is_int(s.limit, -1, "init: no limit");
	ims_error *e = NULL;
	int r = 0;
	for (size_t off = 0, step = 1; r == 0 && off < sizeof(data); off += step, step = step * 3 + 1) {
		size_t n = step < sizeof(data) - off ? step : sizeof(data) - off;
		r = ims_sink_write(&s.sink, data + off, n, &e);
		if (r == 0)
			r = ims_sink_write(&s.sink, data, 0, &e);
	}
	is_int(r, 0, "writes succeed");
	is_int(s.count, sizeof(data), "the count is every byte");
	ims_sha256_sink_final(&s, got);
	is_str(got, want, "the hash equals ims_sha256_buf");
	ok(s.hash == NULL, "final frees the hash");
	ims_sha256_sink_dispose(&s);
	ok(c.buf.len == sizeof(data) && !memcmp(c.buf.data, data, sizeof(data)), "the next sink got the same bytes");
	ims_buf_dispose(&c.buf);

	/* No next sink: only hash and count. */
	ims_sha256_sink_init(&s, NULL);
	ims_sha256_sink_final(&s, got);
	is_str(got, EMPTY_SHA, "nothing written: the digest of nothing");
	ims_sha256_sink_init(&s, NULL);
	r = ims_sink_write(&s.sink, data, sizeof(data), &e);
	ims_sha256_sink_final(&s, got);
	ok(r == 0 && s.count == (int64_t)sizeof(data), "without a next sink it counts");
	is_str(got, want, "without a next sink it hashes");

	/* The limit: exactly the limit passes, one byte more does not, and
	 * nothing of the refused write is hashed, counted or forwarded. */
	c = (collector){ IMS_BUF_INIT(0), -1, 0 };
	ims_sha256_sink_init(&s, &next);
	s.limit = 10;
	r = ims_sink_write(&s.sink, data, 6, &e);
	r |= ims_sink_write(&s.sink, data + 6, 4, &e);
	ok(r == 0 && e == NULL, "writes up to the limit pass");
	r = ims_sink_write(&s.sink, data + 10, 1, &e);
	is_int(r, IMS_EDIGEST, "a byte past the limit is IMS_EDIGEST");
	is_str(e ? e->message : NULL, "more than the expected 10 bytes", "the limit's message");
	ims_error_clear(&e);
	is_int(s.count, 10, "the refused write is not counted");
	is_int(c.buf.len, 10, "the refused write is not forwarded");
	ims_sha256_sink_final(&s, got);
	ims_sha256_buf(data, 10, want);
	is_str(got, want, "the refused write is not hashed");
	ims_buf_dispose(&c.buf);

	ims_sha256_sink_init(&s, NULL);
	s.limit = 0;
	r = ims_sink_write(&s.sink, data, 0, &e);
	ok(r == 0, "limit 0: an empty write passes");
	r = ims_sink_write(&s.sink, data, 1, &e);
	is_int(r, IMS_EDIGEST, "limit 0: one byte is refused");
	ims_error_clear(&e);
	ims_sha256_sink_dispose(&s);
	ok(s.hash == NULL, "dispose frees the hash");
	ims_sha256_sink_dispose(&s);
	ims_sha256_sink_dispose(NULL);

	/* An error of the next sink comes back unchanged. */
	c = (collector){ IMS_BUF_INIT(0), 3, 0 };
	ims_sha256_sink_init(&s, &next);
	r = ims_sink_write(&s.sink, data, 3, &e);
	ok(r == 0, "the next sink takes 3 bytes");
	r = ims_sink_write(&s.sink, data, 3, &e);
	is_int(r, IMS_ENET, "its failure is returned with its code");
	is_str(e ? e->message : NULL, "the next sink failed", "and its message");
	ims_error_clear(&e);
	ims_sha256_sink_dispose(&s);
	ims_buf_dispose(&c.buf);
}

static void test_reader(void)
{
	char data[5000], want[IMS_DIGEST_BUFSZ], got[IMS_DIGEST_BUFSZ];
	fill(data, sizeof(data));
	ims_sha256_buf(data, sizeof(data), want);

	mem_reader m = { data, sizeof(data), 0, 777, -1, false };
	ims_reader src = { mem_read, mem_close, &m };
	ims_sha256_reader hr;
	ims_sha256_reader_init(&hr, &src);
	ims_buf out = IMS_BUF_INIT(0);
	char chunk[1000];
	ims_error *e = NULL;
	ssize_t n;
	while ((n = hr.reader.read(hr.reader.ud, chunk, sizeof(chunk), &e)) > 0)
		ims_buf_add(&out, chunk, (size_t)n, NULL);
	is_int(n, 0, "reads to the end");
	ok(out.len == sizeof(data) && !memcmp(out.data, data, sizeof(data)), "the reader yields the source's bytes");
	is_int(hr.count, sizeof(data), "the count is every byte read");
	ims_sha256_reader_final(&hr, got);
	is_str(got, want, "the hash equals ims_sha256_buf");
	ok(hr.hash == NULL, "final frees the hash");
	ok(!m.closed, "final does not close the source");
	ims_reader_close(&hr.reader);
	ok(m.closed, "closing the reader closes the source");
	ok(src.close == NULL && src.ud == NULL, "through the source's own struct");
	ims_reader_close(&src);
	ims_sha256_reader_dispose(&hr);
	ims_buf_dispose(&out);

	/* With ims_stream_copy into a sha256 sink: both sides agree. */
	m = (mem_reader){ data, sizeof(data), 0, 100, -1, false };
	src = (ims_reader){ mem_read, mem_close, &m };
	ims_sha256_reader_init(&hr, &src);
	ims_sha256_sink s;
	ims_sha256_sink_init(&s, NULL);
	long long copied = 0;
	int r = ims_stream_copy(&hr.reader, &s.sink, &copied, &e);
	char got2[IMS_DIGEST_BUFSZ];
	ims_sha256_reader_final(&hr, got);
	ims_sha256_sink_final(&s, got2);
	ok(r == 0 && copied == (long long)sizeof(data) && hr.count == s.count, "reader and sink count alike");
	ok(!strcmp(got, want) && !strcmp(got2, want), "reader and sink hash alike");
	ims_reader_close(&hr.reader);

	/* A failing source: its error comes back, and what was read before
	 * it is what was hashed. */
	m = (mem_reader){ data, sizeof(data), 0, 100, 300, false };
	src = (ims_reader){ mem_read, mem_close, &m };
	ims_sha256_reader_init(&hr, &src);
	while ((n = hr.reader.read(hr.reader.ud, chunk, sizeof(chunk), &e)) > 0)
		;
	is_int(n, IMS_EGENERIC, "the source's error is returned");
	is_str(e ? e->message : NULL, "the source failed", "with its message");
	ims_error_clear(&e);
	is_int(hr.count, 300, "the bytes before the failure are counted");
	ims_sha256_reader_final(&hr, got);
	ims_sha256_buf(data, 300, want);
	is_str(got, want, "and hashed");
	ims_reader_close(&hr.reader);

	/* Nothing read. */
	m = (mem_reader){ data, 0, 0, 100, -1, false };
	src = (ims_reader){ mem_read, NULL, &m };
	ims_sha256_reader_init(&hr, &src);
	n = hr.reader.read(hr.reader.ud, chunk, sizeof(chunk), &e);
	ims_sha256_reader_final(&hr, got);
	ok(n == 0 && hr.count == 0, "an empty source");
	is_str(got, EMPTY_SHA, "hashes to the digest of nothing");
	ims_reader_close(&hr.reader);
	ims_sha256_reader_dispose(NULL);
}

/* ---- base64 ---- */

static void enc(ims_base64_kind kind, const char *in, size_t n, const char *want)
{
	char *s = ims_base64_encode(kind, in, n);
	is_str(s, want, "%s encode of %zu bytes is `%s`", kind == IMS_BASE64_URL ? "base64url" : "base64", n, want);
	free(s);
}

/* Decodes text (a C string) and compares with want (n bytes); want NULL:
 * must be refused. */
static void dec(ims_base64_kind kind, unsigned flags, const char *text, const char *want, size_t n, const char *what)
{
	char *out = (char *)"unset";
	size_t len = 12345;
	ims_error *e = NULL;
	int r = ims_base64_decode(&out, &len, text, strlen(text), kind, flags, &e);
	if (!want) {
		ok(r == IMS_EINVALID && out == NULL && len == 0 && e && e->code == IMS_EINVALID &&
			   !strncmp(e->message, "not valid base64: ", 18),
		   "refused: %s", what);
		ims_error_free(e);
		return;
	}
	ok(r == 0 && e == NULL && out && len == n && !memcmp(out, want, n) && out[n] == '\0', "decoded: %s", what);
	if (r < 0)
		printf("#   error: %s\n", e ? e->message : "(none)");
	ims_error_free(e);
	free(r == 0 ? out : NULL);
}

static void test_base64_vectors(void)
{
	/* RFC 4648 10. */
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *const url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		enc(IMS_BASE64_STD, in[i], strlen(in[i]), std[i]);
		enc(IMS_BASE64_URL, in[i], strlen(in[i]), url[i]);
		dec(IMS_BASE64_STD, 0, std[i], in[i], strlen(in[i]), std[i]);
		dec(IMS_BASE64_URL, 0, url[i], in[i], strlen(in[i]), url[i]);
	}
	/* The two characters in which the alphabets differ. */
	enc(IMS_BASE64_STD, "\xfb\xff", 2, "+/8=");
	enc(IMS_BASE64_URL, "\xfb\xff", 2, "-_8");
	enc(IMS_BASE64_STD, "\xff\xfe\xfd", 3, "//79");
	enc(IMS_BASE64_URL, "\xff\xfe\xfd", 3, "__79");
	dec(IMS_BASE64_STD, 0, "+/8=", "\xfb\xff", 2, "`+/8=`");
	dec(IMS_BASE64_URL, 0, "-_8", "\xfb\xff", 2, "`-_8`");
	dec(IMS_BASE64_STD, 0, "AAEA", "\0\1\0", 3, "NUL bytes are kept and counted");
	char *u = ims_base64url("\xfb\xff", 2);
	is_str(u, "-_8", "ims_base64url is the URL alphabet");
	free(u);

	/* Larger than one chunk of OpenSSL's int-sized calls: a round trip,
	 * and the length the RFC says. */
	size_t n = 200001;
	char *big = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i * 131 + (i >> 9));
	for (int k = 0; k < 2; k++) {
		ims_base64_kind kind = k ? IMS_BASE64_URL : IMS_BASE64_STD;
		char *t = ims_base64_encode(kind, big, n);
		is_int(strlen(t), k ? (n * 4 + 2) / 3 : (n + 2) / 3 * 4, "%s of %zu bytes has the RFC's length",
		       k ? "base64url" : "base64", n);
		char *back = NULL;
		size_t blen = 0;
		int r = ims_base64_decode(&back, &blen, t, strlen(t), kind, 0, NULL);
		ok(r == 0 && blen == n && !memcmp(back, big, n), "%s round trip of %zu bytes",
		   k ? "base64url" : "base64", n);
		free(back);
		free(t);
	}
	free(big);
}

static void test_base64_refusals(void)
{
	/* Characters. */
	dec(IMS_BASE64_STD, 0, "Zm9v!A==", NULL, 0, "a character outside the alphabet");
	dec(IMS_BASE64_STD, 0, "Zm9-", NULL, 0, "`-` in standard base64");
	dec(IMS_BASE64_STD, 0, "Zm9_", NULL, 0, "`_` in standard base64");
	dec(IMS_BASE64_URL, 0, "Zm9+", NULL, 0, "`+` in base64url");
	dec(IMS_BASE64_URL, 0, "Zm9/", NULL, 0, "`/` in base64url");
	dec(IMS_BASE64_STD, 0, "Zm9v\xc3\xa9", NULL, 0, "a non-ASCII byte");
	char nul[] = "Zm\0v";
	char *out = NULL;
	size_t len = 0;
	ok(ims_base64_decode(&out, &len, nul, 4, IMS_BASE64_STD, 0, NULL) == IMS_EINVALID && !out,
	   "refused: a NUL inside the text");
	/* Whitespace, which EVP_DecodeBlock would skip at either end. */
	dec(IMS_BASE64_STD, 0, " Zm9v", NULL, 0, "leading space");
	dec(IMS_BASE64_STD, 0, "Zm9v\n", NULL, 0, "a trailing newline");
	dec(IMS_BASE64_STD, 0, "Zm\n9v", NULL, 0, "a line break inside");
	/* Padding. */
	dec(IMS_BASE64_STD, 0, "Zg", NULL, 0, "missing padding (strict)");
	dec(IMS_BASE64_STD, 0, "Zg=", NULL, 0, "half the padding");
	dec(IMS_BASE64_STD, 0, "Zg===", NULL, 0, "too much padding");
	dec(IMS_BASE64_STD, 0, "Zm8==", NULL, 0, "two pads after three characters");
	dec(IMS_BASE64_STD, 0, "Zm9v====", NULL, 0, "a quantum of padding");
	dec(IMS_BASE64_STD, 0, "Zm9v=", NULL, 0, "a pad after whole quanta");
	dec(IMS_BASE64_STD, 0, "Zg==Zg==", NULL, 0, "padding before the end");
	dec(IMS_BASE64_STD, 0, "Z=g=", NULL, 0, "padding between characters");
	dec(IMS_BASE64_STD, 0, "==", NULL, 0, "padding alone");
	dec(IMS_BASE64_URL, 0, "Zg==", NULL, 0, "padding in base64url");
	dec(IMS_BASE64_URL, IMS_BASE64_PAD_OPTIONAL, "Zg==", NULL, 0, "padding in base64url, whatever the flags");
	/* Lengths and bits. */
	dec(IMS_BASE64_STD, 0, "Zm9vY", NULL, 0, "a lone character in the last quantum");
	dec(IMS_BASE64_STD, IMS_BASE64_PAD_OPTIONAL, "Z", NULL, 0, "a single character");
	dec(IMS_BASE64_STD, 0, "Zh==", NULL, 0, "nonzero unused bits after two characters");
	dec(IMS_BASE64_STD, 0, "Zm9=", NULL, 0, "nonzero unused bits after three characters");
	dec(IMS_BASE64_URL, 0, "Zh", NULL, 0, "nonzero unused bits in base64url");

	/* The message says what is wrong, never the text (it may be a secret). */
	ims_error *e = NULL;
	out = NULL;
	ims_base64_decode(&out, &len, "c2VjcmV0!", 9, IMS_BASE64_STD, 0, &e);
	ok(e && !strstr(e->message, "c2VjcmV0"), "the message does not quote the text");
	is_str(e ? e->message : NULL, "not valid base64: a character outside the alphabet", "the message says why");
	ims_error_free(e);
}

static void test_base64_flags(void)
{
	dec(IMS_BASE64_STD, IMS_BASE64_PAD_OPTIONAL, "Zg", "f", 1, "PAD_OPTIONAL: no padding");
	dec(IMS_BASE64_STD, IMS_BASE64_PAD_OPTIONAL, "Zm8", "fo", 2, "PAD_OPTIONAL: no padding, one short");
	dec(IMS_BASE64_STD, IMS_BASE64_PAD_OPTIONAL, "Zg==", "f", 1, "PAD_OPTIONAL: right padding");
	dec(IMS_BASE64_STD, IMS_BASE64_PAD_OPTIONAL, "Zg=", NULL, 0, "PAD_OPTIONAL: wrong padding still refused");
	dec(IMS_BASE64_STD, IMS_BASE64_SKIP_SPACE, " Zm9v\r\n Ym Fy\t", "foobar", 6, "SKIP_SPACE: anywhere");
	dec(IMS_BASE64_STD, IMS_BASE64_SKIP_SPACE, "Zg=\n=\n", "f", 1, "SKIP_SPACE: between pads too");
	dec(IMS_BASE64_STD, IMS_BASE64_SKIP_SPACE, " \n", "", 0, "SKIP_SPACE: only space is empty");
	dec(IMS_BASE64_STD, IMS_BASE64_SKIP_SPACE, "Zm9v\v", NULL, 0, "SKIP_SPACE: a vertical tab is not space");
	dec(IMS_BASE64_STD, IMS_BASE64_SKIP_SPACE, "Zg==\nZg==", NULL, 0, "SKIP_SPACE: padding still only at the end");
	dec(IMS_BASE64_STD, IMS_BASE64_LOOSE_BITS, "Zh==", "f", 1, "LOOSE_BITS: unused bits ignored");
	dec(IMS_BASE64_STD, IMS_BASE64_LOOSE_BITS, "Zm9=", "fo", 2, "LOOSE_BITS: after three characters");
	dec(IMS_BASE64_URL, IMS_BASE64_LOOSE_BITS, "Zh", "f", 1, "LOOSE_BITS: in base64url");
	dec(IMS_BASE64_URL, IMS_BASE64_SKIP_SPACE, "Zm9v\nYmFy", "foobar", 6, "SKIP_SPACE: in base64url");
}

int main(void)
{
	test_sink();
	test_reader();
	test_base64_vectors();
	test_base64_refusals();
	test_base64_flags();
	return tap_done();
}
