/* Fuzzes the WWW-Authenticate parser: a registry's header is the first
 * thing we read from a peer we do not trust yet. A parse either fails with
 * IMS_EINVALID and a message, or gives a lower-case scheme whose fields
 * hold no line break (they end up in URLs and messages). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

#define FUZZ_MAX_INPUT 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_www_authenticate: %s\n", what);
		abort();
	}
}

static void clean(const char *s)
{
	for (; s && *s; s++)
		check(*s != '\r' && *s != '\n', "no line break in a field");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	ims_challenge c;
	ims_error *e = NULL;
	if (ims_challenge_parse(s, &c, &e) < 0) {
		check(e && e->code == IMS_EINVALID && e->message, "a failed parse sets IMS_EINVALID");
		ims_error_free(e);
		free(s);
		return 0;
	}
	check(e == NULL, "a successful parse sets no error");
	check(c.scheme && *c.scheme, "a scheme");
	for (const char *p = c.scheme; *p; p++)
		check(!(*p >= 'A' && *p <= 'Z'), "the scheme is lower-cased");
	check(strlen(s) <= 8192, "an accepted header is at most 8 KiB");
	clean(c.realm);
	clean(c.service);
	clean(c.scope);
	clean(c.error);
	ims_challenge_dispose(&c);
	free(s);
	return 0;
}
