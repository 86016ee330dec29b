/* Fuzzes the JSON room: the generic parser and the OCI readers on the same
 * bytes. Whatever parses must encode, and the encoding must parse back to
 * the same bytes: a writer we cannot read back would break our own digests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json/oci.h"

#define FUZZ_MAX_INPUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_json: %s\n", what);
		abort();
	}
}

static void fuzz_tree(const char *s, size_t n)
{
	ims_json *j = NULL;
	ims_error *e = NULL;
	if (ims_json_parse(&j, s, n, NULL, &e)) {
		check(e && e->message, "a failed parse sets an error");
		ims_error_free(e);
		return;
	}
	size_t len, len2;
	char *out = ims_json_encode(j, &len);
	check(out != NULL, "a parsed tree encodes");
	ims_json *j2 = NULL;
	check(ims_json_parse(&j2, out, len, NULL, NULL) == 0, "the encoding parses");
	char *out2 = ims_json_encode(j2, &len2);
	check(len == len2 && !memcmp(out, out2, len), "the encoding is stable");
	free(ims_json_encode_pretty(j, NULL));
	ims_json *c = ims_json_clone(j);
	ims_json_free(c);
	free(out);
	free(out2);
	ims_json_free(j);
	ims_json_free(j2);
}

static void fuzz_manifest(const char *s, size_t n)
{
	ims_manifest *m = NULL;
	ims_error *e = NULL;
	if (ims_manifest_parse(&m, s, n, &e)) {
		ims_error_free(e);
		return;
	}
	size_t len, len2;
	char *out = ims_manifest_encode(m, &len);
	ims_manifest *m2 = NULL;
	check(ims_manifest_parse(&m2, out, len, NULL) == 0, "an encoded manifest parses");
	char *out2 = ims_manifest_encode(m2, &len2);
	check(len == len2 && !memcmp(out, out2, len), "manifest encoding is stable");
	free(out);
	free(out2);
	ims_manifest_free(m);
	ims_manifest_free(m2);
}

static void fuzz_index(const char *s, size_t n)
{
	ims_index *ix = NULL;
	ims_error *e = NULL;
	if (ims_index_parse(&ix, s, n, &e)) {
		ims_error_free(e);
		return;
	}
	size_t len, len2;
	char *out = ims_index_encode(ix, &len);
	ims_index *ix2 = NULL;
	check(ims_index_parse(&ix2, out, len, NULL) == 0, "an encoded index parses");
	char *out2 = ims_index_encode(ix2, &len2);
	check(len == len2 && !memcmp(out, out2, len), "index encoding is stable");
	ims_platform *host = ims_platform_host();
	for (size_t i = 0; i < ix->nmanifests; i++)
		(void)ims_platform_matches(host, ix->manifests[i].platform);
	ims_platform_free(host);
	free(out);
	free(out2);
	ims_index_free(ix);
	ims_index_free(ix2);
}

static void fuzz_config(const char *s, size_t n)
{
	ims_config *c = NULL;
	ims_error *e = NULL;
	if (ims_config_parse(&c, s, n, &e)) {
		ims_error_free(e);
		return;
	}
	size_t len, len2;
	char *out = ims_config_encode(c, &len);
	ims_config *c2 = NULL;
	check(ims_config_parse(&c2, out, len, NULL) == 0, "an encoded config parses");
	char *out2 = ims_config_encode(c2, &len2);
	check(len == len2 && !memcmp(out, out2, len), "config encoding is stable");
	ims_strv_free(ims_config_env(c));
	(void)ims_config_env_get(c, "PATH");
	ims_platform_free(ims_config_platform(c));
	ims_config_remove_layer_history(c, 0);
	ims_config_remove_diff_id(c, 0);
	free(out);
	free(out2);
	ims_config_free(c);
	ims_config_free(c2);
}

static void fuzz_detect(const char *s, size_t n)
{
	static const char *const types[] = { NULL, IMS_MT_OCI_MANIFEST, IMS_MT_DOCKER_LIST, "application/json" };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ims_doc_kind k;
		char *mt = NULL;
		ims_error *e = NULL;
		if (ims_doc_detect(s, n, types[i], &k, &mt, &e) == 0)
			check(mt != NULL && (k == IMS_DOC_MANIFEST || k == IMS_DOC_INDEX), "detect sets its outputs");
		free(mt);
		ims_error_free(e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	/* A copy without a terminating NUL, so over-reads show up in ASan. */
	char *s = malloc(size ? size : 1);
	memcpy(s, data, size);
	fuzz_tree(s, size);
	fuzz_manifest(s, size);
	fuzz_index(s, size);
	fuzz_config(s, size);
	fuzz_detect(s, size);
	free(s);
	return 0;
}
