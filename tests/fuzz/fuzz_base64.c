/* Fuzzes base64 decoding (config.json `auth`, spec `base64:` content, JWT
 * segments). The first byte picks the alphabet and the flags. Decoded
 * bytes encode and decode back to themselves; a refusal is IMS_EINVALID
 * and leaves *out NULL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/base64.h"

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_base64: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	ims_base64_kind kind = (data[0] & 1) ? IMS_BASE64_URL : IMS_BASE64_STD;
	unsigned flags = (data[0] >> 1) & 7;
	data++, size--;
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	char *out = NULL;
	size_t n = 0;
	ims_error *e = NULL;
	if (ims_base64_decode(&out, &n, (const char *)data, size, kind, flags, &e) < 0) {
		check(out == NULL && e && e->code == IMS_EINVALID, "a refusal is IMS_EINVALID with nothing out");
		ims_error_free(e);
		return 0;
	}
	check(out != NULL && out[n] == '\0', "a decode is NUL-terminated");
	char *again = ims_base64_encode(kind, out, n);
	char *back = NULL;
	size_t m = 0;
	check(ims_base64_decode(&back, &m, again, strlen(again), kind, 0, NULL) == 0, "our encoding decodes strictly");
	check(m == n && !memcmp(back, out, n), "a round trip gives the same bytes");
	free(back);
	free(again);
	free(out);
	return 0;
}
