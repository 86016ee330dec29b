#include "digest/digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

struct ims_sha256 {
	EVP_MD_CTX *ctx;
};

/* SHA-256 fetched from the provider once: EVP_sha256() in
 * EVP_DigestInit_ex fetches it again at every init, under the method
 * store's lock (0.35 against 0.15 µs a digest; a fresh runner hashes a
 * file each, 5,000 for the benchmark's tree, on every core at once). Never
 * freed: it lives as long as the library. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

ims_sha256 *ims_sha256_new(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	ims_sha256 *h = xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1)
		abort();
	return h;
}

void ims_sha256_update(ims_sha256 *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		abort();
}

void ims_digest_from_raw(const unsigned char raw[32], char out[IMS_DIGEST_BUFSZ])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[raw[i] >> 4];
		out[8 + 2 * i] = hex[raw[i] & 15];
	}
	out[IMS_DIGEST_LEN] = '\0';
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
}

void ims_digest_to_raw(const char *digest, unsigned char raw[32])
{
	const char *h = ims_digest_hex(digest);
	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
}

void ims_sha256_final(ims_sha256 *h, char out[IMS_DIGEST_BUFSZ])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != 32)
		abort();
	ims_digest_from_raw(md, out);
}

void ims_sha256_free(ims_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void ims_sha256_buf(const void *p, size_t n, char out[IMS_DIGEST_BUFSZ])
{
	ims_sha256 *h = ims_sha256_new();
	ims_sha256_update(h, p, n);
	ims_sha256_final(h, out);
	ims_sha256_free(h);
}

bool ims_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0)
		return false;
	for (int i = 0; i < 64; i++) {
		char c = s[7 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[71] == '\0';
}

int ims_digest_check(const char *s, const char *what, ims_error **err)
{
	if (ims_digest_valid(s))
		return 0;
	return ims_error_set(err, IMS_EINVALID,
			     "%s: `%.80s` is not a valid digest (expected sha256: and 64 lowercase hex digits)",
			     what, s ? s : "");
}

const char *ims_digest_hex(const char *digest)
{
	return digest + 7;
}

int ims_random_bytes(void *buf, size_t n, ims_error **err)
{
	if (RAND_bytes(buf, (int)n) != 1)
		return ims_error_set(err, IMS_EGENERIC, "cannot get random bytes");
	return 0;
}
