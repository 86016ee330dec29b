/* Fuzzes the reading of a credential helper's answer to `get` (what
 * docker-credential-NAME prints on stdout, src/auth/helper.c): strict
 * {ServerURL, Username, Secret} JSON for the registry asked about. The
 * input is the helper's output, asked for two registries. A refusal has a
 * message that never quotes the output (it may hold the secret); an
 * answer always has a secret. Nothing crashes or leaks (ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credstore_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_cred_helper: %s\n", what);
		abort();
	}
}

/* Whether the n bytes at p occur in s. */
static int contains(const char *s, const uint8_t *p, size_t n)
{
	for (size_t l = strlen(s); l >= n && n; l--, s++)
		if (!memcmp(s, p, n))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The helper's output is capped before it is parsed. */
	if (size > IMS_CRED_HELPER_OUT_MAX)
		return 0;
	/* A copy of exactly size bytes, so ASan sees any read past them. */
	char *text = malloc(size ? size : 1);
	check(text != NULL, "memory");
	memcpy(text, data, size);
	(void)ims_cred__helper_said_not_found(text, size);
	static const char *const urls[] = { "registry.example:5000", "https://index.docker.io/v1/" };
	for (size_t i = 0; i < 2; i++) {
		ims_credentials c;
		memset(&c, 0, sizeof(c));
		ims_error *e = NULL;
		if (ims_cred__helper_answer("fuzz", text, size, urls[i], &c, &e) < 0) {
			check(e && e->message, "a refusal says why");
			/* Longer than any message's fixed text: never quoted. */
			check(size < 128 || !contains(e->message, data, size), "the output is not quoted");
			ims_error_free(e);
			continue;
		}
		check(e == NULL, "no error on success");
		check(c.source != NULL, "an answer names its helper");
		check((c.password && *c.password) || (c.identity_token && *c.identity_token), "an answer has a secret");
		ims_credentials_dispose(&c);
	}
	free(text);
	return 0;
}
