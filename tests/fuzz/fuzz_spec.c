/* Fuzzes the spec parser: arbitrary bytes as image.yaml (or JSON). Every
 * input must either parse or fail with an error, without crashing,
 * leaking or running away in time or memory. */
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"

#define FUZZ_MAX_INPUT (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	/* data must never be NULL: NULL would make the parser read "fuzz.yaml" */
	const char *doc = size ? (const char *)data : "";
	static const char *const names[] = { "version", "p" };
	static const char *const values[] = { "1.0", "" };
	ims_spec_params params = { names, values, 2 };
	ims_spec_model *m = NULL;
	ims_error *err = NULL;
	if (ims_spec_model_parse(&m, "fuzz.yaml", doc, size, "/fuzz", &params, &err) == 0)
		ims_spec_model_free(m);
	ims_error_free(err);
	return 0;
}
