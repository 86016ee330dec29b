/* Fuzzes the reference grammar. Whatever parses must print, the printed form
 * must parse, and printing that again must give the same string: the
 * canonical form is what we push to and write into index.json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

#define FUZZ_MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what, const char *s)
{
	if (!cond) {
		fprintf(stderr, "fuzz_ref: %s: `%s`\n", what, s ? s : "(null)");
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

	ims_ref *r = NULL;
	ims_error *e = NULL;
	if (ims_ref_parse(&r, s, &e) < 0) {
		check(e && e->code == IMS_EINVALID && e->message, "a failed parse sets IMS_EINVALID", s);
		ims_error_free(e);
		free(s);
		return 0;
	}
	check(e == NULL, "a successful parse sets no error", s);
	if (r->kind == IMS_REF_REGISTRY) {
		check(r->registry && r->repository && (r->tag || r->digest), "registry fields", s);
		(void)ims_ref_host_is_loopback(r->registry);
		free(ims_ref_repo_string(r));
	}
	if (r->tag)
		check(ims_ref_tag_valid(r->tag), "the tag is valid", s);

	char *str = ims_ref_string(r);
	check(str != NULL, "a parsed reference prints", s);
	ims_ref *r2 = NULL;
	ims_error *e2 = NULL;
	int rc = ims_ref_parse(&r2, str, &e2);
	if (rc < 0)
		fprintf(stderr, "fuzz_ref: `%s` -> `%s`: %s\n", s, str, e2 ? e2->message : "?");
	check(rc == 0, "the canonical form parses", str);
	check(r2->kind == r->kind, "the kind survives", str);
	char *str2 = ims_ref_string(r2);
	check(!strcmp(str, str2), "the canonical form is stable", str);

	ims_ref *d = ims_ref_dup(r);
	char *str3 = ims_ref_string(d);
	check(!strcmp(str, str3), "a duplicate prints the same", str);

	free(str);
	free(str2);
	free(str3);
	ims_ref_free(d);
	ims_ref_free(r);
	ims_ref_free(r2);
	free(s);
	return 0;
}
