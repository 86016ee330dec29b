/* RS256 signatures (RFC 7518 3.3: RSASSA-PKCS1-v1_5 with SHA-256), for the
 * JWTs of Google service accounts (their base64url is in base64.c). Here
 * because this room is the only one that includes OpenSSL.
 *
 * The key is a secret: no error message quotes it, and OpenSSL's error
 * queue is drained so that nothing about it lingers for a later caller. */
#include "digest/digest.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

/* Larger than any RSA key in PEM (16384 bits is about 12 KiB). */
#define PEM_MAX (64 * 1024)

/* OpenSSL's default would prompt on the terminal for the passphrase of an
 * encrypted key; a build has nobody to answer. */
static int no_passphrase(char *buf, int size, int rwflag, void *ud)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)ud;
	return -1;
}

/* OpenSSL's reason strings are static text ("bad base64 decode"), never
 * the key; the data attached to an error is left out all the same. */
static int openssl_failed(ims_error **err, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	if (reason)
		return ims_error_set(err, IMS_EINVALID, "%s: %s", what, reason);
	return ims_error_set(err, IMS_EINVALID, "%s", what);
}

static int load_key(EVP_PKEY **out, const char *pem, size_t pem_len, ims_error **err)
{
	*out = NULL;
	if (!pem || pem_len == 0 || pem_len > PEM_MAX)
		return ims_error_set(err, IMS_EINVALID, "the private key is empty or larger than %d bytes", PEM_MAX);
	/* Said plainly: OpenSSL's reasons for these ("unsupported", "bad
	 * password read") do not point at the cause. */
	if (!memmem(pem, pem_len, "-----BEGIN ", 11))
		return ims_error_set(err, IMS_EINVALID, "the private key is not in PEM form (no `-----BEGIN` line)");
	if (memmem(pem, pem_len, "-----BEGIN ENCRYPTED", 20) || memmem(pem, pem_len, "Proc-Type: 4,ENCRYPTED", 22))
		return ims_error_set(err, IMS_EINVALID, "the private key is encrypted (a passphrase is not supported)");
	/* A read-only BIO over the caller's buffer: no copy of the key. */
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (!bio)
		abort();
	/* Reads PKCS#8 ("BEGIN PRIVATE KEY") and the traditional PKCS#1
	 * ("BEGIN RSA PRIVATE KEY") alike; text before the header is skipped. */
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!k)
		return openssl_failed(err, "cannot read the private key (expected an unencrypted RSA key in PEM)");
	if (EVP_PKEY_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		return ims_error_set(err, IMS_EINVALID, "the private key is not an RSA key (RS256 needs one)");
	}
	*out = k;
	return 0;
}

int ims_rs256_sign(const char *pem_key, size_t pem_len, const void *data, size_t len, unsigned char **sig,
		   size_t *sig_len, ims_error **err)
{
	EVP_PKEY *k;
	*sig = NULL;
	*sig_len = 0;
	int rc = load_key(&k, pem_key, pem_len, err);
	if (rc < 0)
		return rc;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *s = NULL;
	size_t n = 0;
	if (!ctx)
		abort();
	/* The default padding of an RSA key is PKCS#1 v1.5, which RS256 is. */
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, data, len) != 1) {
		rc = openssl_failed(err, "cannot sign with the private key");
	} else {
		s = xmalloc(n);
		if (EVP_DigestSign(ctx, s, &n, data, len) != 1) {
			free(s);
			s = NULL;
			rc = openssl_failed(err, "cannot sign with the private key");
		}
	}
	EVP_MD_CTX_free(ctx);
	/* Frees the key's numbers with BN_clear_free: no copy stays behind. */
	EVP_PKEY_free(k);
	if (rc == 0) {
		*sig = s;
		*sig_len = n;
	}
	return rc;
}
