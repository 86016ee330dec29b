/* Fuzzes the token server's answer (RFC 6749 5.1 and docker's token
 * JSON): a granted token is a non-empty string without line breaks (it
 * goes into an Authorization header) with a positive lifetime; a refusal
 * sets an error with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_token: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	ims_token t = { 0 };
	ims_error *e = NULL;
	if (ims_auth__token_parse((const char *)data, size, "https://registry.example", &t, &e) < 0) {
		check(e && e->message, "a refusal says why");
		check(t.token == NULL, "a refusal gives no token");
		ims_error_free(e);
		return 0;
	}
	check(t.token && *t.token, "a token");
	check(!strpbrk(t.token, "\r\n"), "no line break in a token");
	check(t.lifetime > 0, "a positive lifetime");
	ims_auth__free_secret(t.token);
	return 0;
}
