/* base64 (RFC 4648), the one implementation in imagespec, on OpenSSL's
 * EVP_EncodeBlock/EVP_DecodeBlock. Here because this room is the only one
 * that includes OpenSSL.
 *
 * Decoding is strict unless a flag says otherwise: only the alphabet's 64
 * characters, padding only at the end and exactly as much as completes the
 * last quantum, no lone trailing character, and zero unused bits in the
 * last quantum (so every decoded value has one encoding). The checks are
 * made here, before OpenSSL sees the text: EVP_DecodeBlock skips leading
 * and trailing whitespace and decodes `=` as zero bytes.
 *
 * Inputs and outputs may be secrets (`auth` of config.json): no message
 * quotes the text, and scratch copies are cleared before they are freed. */
#ifndef IMS_DIGEST_BASE64_H
#define IMS_DIGEST_BASE64_H

#include <stddef.h>

#include "imagespec/error.h"

typedef enum {
	IMS_BASE64_STD, /* RFC 4648 4: A-Z a-z 0-9 + /, padded with `=` */
	IMS_BASE64_URL, /* RFC 4648 5: - and _ for + and /, never padded (JWS, RFC 7515 2) */
} ims_base64_kind;

/* Decoding flags; 0 is strict. */
enum {
	/* Skip space, tab, CR and LF anywhere (YAML blocks fold base64 into lines). */
	IMS_BASE64_SKIP_SPACE = 1 << 0,
	/* IMS_BASE64_STD: accept text without its `=` padding. Padding that is
	 * there must still be right. */
	IMS_BASE64_PAD_OPTIONAL = 1 << 1,
	/* Accept nonzero unused bits in the last quantum, as Go's default
	 * decoder (and so docker) does. */
	IMS_BASE64_LOOSE_BITS = 1 << 2,
};

/* Encodes n bytes; never fails (out of memory aborts). Caller frees. */
char *ims_base64_encode(ims_base64_kind kind, const void *p, size_t n);
/* ims_base64_encode(IMS_BASE64_URL, p, n): the JWT segments of Google
 * service accounts. Caller frees. */
char *ims_base64url(const void *p, size_t n);

/* Decodes len bytes of text. *out (caller frees) gets *outlen bytes and a
 * NUL after them, which is not counted; the decoded bytes may hold NULs.
 * Invalid text is IMS_EINVALID ("not valid base64: <why>"), and *out is
 * left NULL. */
int ims_base64_decode(char **out, size_t *outlen, const char *in, size_t len, ims_base64_kind kind, unsigned flags,
		      ims_error **err);

#endif
