/**
 * @file imagespec/spec.h
 * @brief Loading and validating image.yaml (v1) documents.
 */
#ifndef IMAGESPEC_SPEC_H
#define IMAGESPEC_SPEC_H

#include "common.h"
#include "error.h"

IMS_BEGIN_DECL

typedef struct ims_spec ims_spec;

/** `-p NAME=VALUE` parameters; they win over the file's `params:`. */
typedef struct {
	const char *const *names;
	const char *const *values;
	size_t n;
} ims_params;

/**
 * Loads and validates a spec file ("-" reads standard input).
 * On failure err->message holds every problem found, one
 * "FILE:LINE:COL: message" per line, and the code is IMS_EINVALID.
 */
IMS_EXTERN(int) ims_spec_load_file(ims_spec **out, const char *path, const ims_params *params, ims_error **err);
/** Same, from a buffer; base_dir is where relative paths resolve (NULL: cwd). */
IMS_EXTERN(int) ims_spec_load_data(ims_spec **out, const char *name, const char *data, size_t len,
				   const char *base_dir, const ims_params *params, ims_error **err);
/** Frees a spec; NULL-safe. */
IMS_EXTERN(void) ims_spec_free(ims_spec *spec);
/** Borrowed: the spec's target reference as written (after substitution), or NULL. */
IMS_EXTERN(const char *) ims_spec_target(const ims_spec *spec);
/** Borrowed: the spec's base reference, or NULL. */
IMS_EXTERN(const char *) ims_spec_base(const ims_spec *spec);
/** Warnings found while loading (literal secrets...), NULL-terminated; borrowed. */
IMS_EXTERN(const char *const *) ims_spec_warnings(const ims_spec *spec);

IMS_END_DECL

#endif
