/* Fuzzes the response headers a registry's answer is read by besides
 * WWW-Authenticate: Link (tag-list pagination) and Retry-After (how long
 * to wait before a retry). The first byte picks the parser. A Link target
 * is a piece of the header between `<` and `>`; a Retry-After is -1 or a
 * finite wait. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "transport/registry_int.h"

#define FUZZ_MAX_INPUT 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_headers: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] & 1;
	data++, size--;
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (which == 0) {
		char *next = ims_registry__link_next(s);
		if (next) {
			check(strstr(s, next) != NULL, "the Link target is a piece of the header");
			check(!strchr(next, '<') && !strchr(next, '>'), "the Link target holds no < or >");
			free(next);
		}
	} else {
		double w = ims_http_retry_after(s);
		check(w == -1 || (w >= 0 && isfinite(w)), "Retry-After: -1 or a finite wait");
	}
	free(s);
	return 0;
}
