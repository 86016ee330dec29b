/* Credentials: disposal that wipes secrets, and the identity the token
 * cache is keyed by. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "digest/digest.h"

void ims_auth__free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void ims_credentials_dispose(ims_credentials *c)
{
	if (!c)
		return;
	/* The username is not secret by itself, but it is half of a Basic
	 * value; wiping it costs nothing. */
	ims_auth__free_secret(c->username);
	ims_auth__free_secret(c->password);
	ims_auth__free_secret(c->token);
	ims_auth__free_secret(c->identity_token);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

static bool empty(const char *s)
{
	return !s || !*s;
}

bool ims_auth__anonymous(const ims_credentials *c)
{
	return !c || (empty(c->username) && empty(c->password) && empty(c->token) && empty(c->identity_token));
}

static void put_field(ims_sha256 *h, char tag, const char *s)
{
	/* Tag and length make the encoding unambiguous: ("a:b", "") and
	 * ("a", ":b") must not collide. Streaming into the hash leaves no
	 * copy of the secret behind. */
	char head[32];
	size_t n = s ? strlen(s) : 0;
	int hl = snprintf(head, sizeof(head), "%c%zu:", tag, n);
	ims_sha256_update(h, head, (size_t)hl);
	if (n)
		ims_sha256_update(h, s, n);
}

void ims_auth__identity(const ims_credentials *c, char out[65])
{
	if (ims_auth__anonymous(c)) {
		strcpy(out, "anonymous");
		return;
	}
	ims_sha256 *h = ims_sha256_new();
	put_field(h, 'u', c->username);
	put_field(h, 'p', c->password);
	put_field(h, 't', c->token);
	put_field(h, 'i', c->identity_token);
	char d[IMS_DIGEST_BUFSZ];
	ims_sha256_final(h, d);
	ims_sha256_free(h);
	memcpy(out, ims_digest_hex(d), 64);
	out[64] = '\0';
}

const char *ims_auth__source(const ims_credentials *c)
{
	return c && c->source && *c->source ? c->source : "the configured credentials";
}

bool ims_auth__token_valid(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n <= IMS_AUTH_TOKEN_MAX;
}
