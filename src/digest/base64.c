#include "digest/base64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

/* EVP_EncodeBlock and EVP_DecodeBlock take an int length: both go in
 * chunks, of whole quanta so that only the last one can hold padding. */
#define ENC_CHUNK (3 * 16 * 1024)
#define DEC_CHUNK (4 * 16 * 1024)

char *ims_base64_encode(ims_base64_kind kind, const void *p, size_t n)
{
	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		abort();
	const unsigned char *in = p;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	*o = '\0';
	for (size_t off = 0; off < n; off += ENC_CHUNK) {
		size_t c = n - off < ENC_CHUNK ? n - off : ENC_CHUNK;
		o += EVP_EncodeBlock((unsigned char *)o, in + off, (int)c);
	}
	if (kind == IMS_BASE64_URL) {
		for (char *q = out; q < o; q++) {
			if (*q == '+')
				*q = '-';
			else if (*q == '/')
				*q = '_';
		}
		while (o > out && o[-1] == '=')
			o--;
		*o = '\0';
	}
	return out;
}

char *ims_base64url(const void *p, size_t n)
{
	return ims_base64_encode(IMS_BASE64_URL, p, n);
}

/* The value of a character of the standard alphabet, or -1. */
static int std_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void clear_free(char *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
	free(p);
}

static int invalid(ims_error **err, const char *why)
{
	return ims_error_set(err, IMS_EINVALID, "not valid base64: %s", why);
}

/* The text as OpenSSL will see it: standard alphabet, no whitespace,
 * padded to whole quanta, in norm (len + 4 bytes); *nlen its length and
 * *dlen the length of the bytes it decodes to. Refuses what the flags do
 * not allow. */
static int normalize(const char *in, size_t len, ims_base64_kind kind, unsigned flags, char *norm, size_t *nlen,
		     size_t *dlen, ims_error **err)
{
	size_t chars = 0, pad = 0;
	int last = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if ((flags & IMS_BASE64_SKIP_SPACE) && is_space(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (kind == IMS_BASE64_URL) {
			if (c == '+' || c == '/')
				c = 0; /* not of this alphabet */
			else if (c == '-')
				c = '+';
			else if (c == '_')
				c = '/';
		}
		int v = std_value(c);
		if (v < 0)
			return invalid(err, "a character outside the alphabet");
		if (pad)
			return invalid(err, "`=` before the end");
		norm[chars++] = (char)c;
		last = v;
	}
	size_t rest = chars % 4;
	if (rest == 1)
		return invalid(err, "a lone character in the last quantum");
	size_t want_pad = rest ? 4 - rest : 0;
	if (kind == IMS_BASE64_URL && pad)
		return invalid(err, "`=` padding in base64url");
	if (pad && pad != want_pad)
		return invalid(err, "wrong `=` padding");
	if (kind == IMS_BASE64_STD && !pad && want_pad && !(flags & IMS_BASE64_PAD_OPTIONAL))
		return invalid(err, "missing `=` padding");
	/* 2 characters carry 12 bits for 1 byte, 3 carry 18 for 2: the
	 * last character's low 4 or 2 bits are unused. */
	if (!(flags & IMS_BASE64_LOOSE_BITS) && (last & (rest == 2 ? 0xf : rest == 3 ? 0x3 : 0)))
		return invalid(err, "nonzero unused bits at the end");
	for (size_t i = 0; i < want_pad; i++)
		norm[chars + i] = '=';
	*nlen = chars + want_pad;
	*dlen = chars / 4 * 3 + (rest ? rest - 1 : 0);
	return 0;
}

int ims_base64_decode(char **out, size_t *outlen, const char *in, size_t len, ims_base64_kind kind, unsigned flags,
		      ims_error **err)
{
	*out = NULL;
	*outlen = 0;
	if (len > SIZE_MAX - 4)
		abort();
	size_t cap = len + 4, nlen = 0, dlen = 0;
	char *norm = xmalloc(cap);
	int r = normalize(in, len, kind, flags, norm, &nlen, &dlen, err);
	if (r < 0)
		goto out;
	unsigned char *d = xmalloc(nlen / 4 * 3 + 1);
	size_t o = 0;
	for (size_t off = 0; off < nlen; off += DEC_CHUNK) {
		size_t c = nlen - off < DEC_CHUNK ? nlen - off : DEC_CHUNK;
		int got = EVP_DecodeBlock(d + o, (const unsigned char *)norm + off, (int)c);
		if (got < 0) {
			clear_free((char *)d, nlen / 4 * 3 + 1);
			r = invalid(err, "refused by the decoder");
			goto out;
		}
		o += (size_t)got;
	}
	/* EVP_DecodeBlock decodes the padding as zero bytes: drop them. */
	d[dlen] = '\0';
	if (o > dlen)
		explicit_bzero(d + dlen, o - dlen);
	*out = (char *)d;
	*outlen = dlen;
out:
	clear_free(norm, cap);
	return r;
}
