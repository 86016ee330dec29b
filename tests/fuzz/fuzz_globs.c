/* Fuzzes the glob matcher of `exclude`, `include` and ignore files: the
 * input is a pattern, a NUL or newline, then a path. Nothing crashes or
 * loops, and a pattern without metacharacters matches itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/glob.h"

#define FUZZ_MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_globs: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	char *path = strchr(s, '\n');
	if (path)
		*path++ = '\0';
	else
		path = s + strlen(s);
	(void)ims_glob_match(s, path);
	if (*s && !strpbrk(s, "*?[]\\!") && s[0] != '/' && !strstr(s, "//") && s[strlen(s) - 1] != '/')
		check(ims_glob_match(s, s), "a plain pattern matches itself");
	ims_patterns *p = ims_patterns_new();
	ims_patterns_add(p, s, "");
	(void)ims_patterns_match(p, path, false);
	(void)ims_patterns_match(p, path, true);
	(void)ims_patterns_may_match_below(p, path);
	(void)ims_patterns_may_unmatch_below(p, path);
	ims_patterns_free(p);
	free(s);
	return 0;
}
