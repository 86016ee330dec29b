/* sha256 digests: the only room that includes OpenSSL. */
#ifndef IMS_DIGEST_H
#define IMS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"

/* "sha256:" + 64 hex + NUL */
#define IMS_DIGEST_LEN 71
#define IMS_DIGEST_BUFSZ 72

typedef struct ims_sha256 ims_sha256;

ims_sha256 *ims_sha256_new(void);
void ims_sha256_update(ims_sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into out (IMS_DIGEST_BUFSZ bytes). May be called once. */
void ims_sha256_final(ims_sha256 *h, char out[IMS_DIGEST_BUFSZ]);
void ims_sha256_free(ims_sha256 *h);
/* One-shot digest of a buffer. */
void ims_sha256_buf(const void *p, size_t n, char out[IMS_DIGEST_BUFSZ]);

/* True when s is exactly "sha256:" followed by 64 lowercase hex digits.
 * Checked before a digest is ever used in a path, URL or comparison. */
bool ims_digest_valid(const char *s);
/* Like ims_digest_valid, with an error that names what the digest was for. */
int ims_digest_check(const char *s, const char *what, ims_error **err);
/* The hex part of a valid digest. */
const char *ims_digest_hex(const char *digest);
/* "sha256:<hex>" of the 32 bytes of a SHA-256, into out. */
void ims_digest_from_raw(const unsigned char raw[32], char out[IMS_DIGEST_BUFSZ]);
/* The 32 bytes a valid digest spells out. */
void ims_digest_to_raw(const char *digest, unsigned char raw[32]);

/* Fills buf with n cryptographically random bytes. */
int ims_random_bytes(void *buf, size_t n, ims_error **err);

/* RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of data with the RSA
 * private key in pem_key (PEM, pem_len bytes, need not be NUL-terminated):
 * PKCS#8 "BEGIN PRIVATE KEY" or PKCS#1 "BEGIN RSA PRIVATE KEY", not
 * encrypted. *sig (caller frees) gets *sig_len bytes. Errors are
 * IMS_EINVALID for a key that cannot be read or is not RSA; they never
 * quote the key. */
int ims_rs256_sign(const char *pem_key, size_t pem_len, const void *data, size_t len, unsigned char **sig,
		   size_t *sig_len, ims_error **err);

#endif
