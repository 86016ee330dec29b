/* The structs behind the public opaque types, shared by api/, plan/ and exec/. */
#ifndef IMS_API_INTERNAL_H
#define IMS_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "imagespec/build.h"
#include "imagespec/context.h"
#include "imagespec/plan.h"
#include "imagespec/spec.h"
#include "json/json.h"
#include "json/oci.h"
#include "ref/ref.h"
#include "spec/spec.h"

struct ims_context {
	char *tmp_dir;
	char *cache_dir;
	char **insecure;
	size_t ninsecure;
	char *ca_cert;
	int jobs;
	int verbose;
	ims_event_cb on_event;
	void *event_ud;
};

/* Emits an event through the context's callback (no-op without one). */
void ims_ctx_info(ims_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ims_ctx_warn(ims_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct ims_spec {
	ims_spec_model *m;
	char **warnings; /* NULL-terminated */
	size_t nwarnings;
};

void ims_spec_add_warning(ims_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef enum {
	IMS_STEP_FILES,
	IMS_STEP_ARCHIVE,
	IMS_STEP_URL,
	IMS_STEP_BLOB,
	IMS_STEP_WHITEOUT,
} ims_step_kind;

typedef struct {
	ims_step_kind kind;
	const ims_layer_spec *layer;  /* layers[] entry, NULL for the files: and whiteout layers */
	const ims_file_spec *files;   /* IMS_STEP_FILES */
	size_t nfiles;
	ims_attrs defaults;           /* top-level defaults with the layer's merged over */
	ims_compress_alg alg;         /* resolved: GZIP, ZSTD or NONE */
	int level;
	char *created_by;             /* history */
	char *comment;                /* history comment (layer name) or NULL */
	ims_pos pos;
} ims_step;

struct ims_plan {
	ims_spec *spec; /* borrowed */
	ims_ref *base;
	char *base_dir;   /* base ref paths resolve here (the spec's dir) */
	ims_ref *target;
	char *target_dir; /* the spec's dir, or the cwd for --target/--output */
	bool to_output;   /* --output given */
	char **tags;      /* extra tags (the target's own tag not included) */
	size_t ntags;
	ims_platform **platforms; /* empty: the host's (or the base's only one) */
	size_t nplatforms;
	bool all_platforms;
	int64_t created;
	ims_step *steps;
	size_t nsteps;
	ims_json *config_override; /* ims_image_set_config; owned */
};

typedef struct {
	ims_descriptor desc;
	char diff_id[IMS_DIGEST_BUFSZ];
	ims_layer_action action;
} ims_result_layer;

typedef struct {
	char *platform;
	ims_descriptor manifest;
	ims_result_layer *layers;
	size_t nlayers;
} ims_result_manifest;

struct ims_build_result {
	char **refs;
	size_t nrefs;
	char digest[IMS_DIGEST_BUFSZ];
	char *media_type;
	int64_t size;
	ims_result_manifest *manifests;
	size_t nmanifests;
	bool dry_run;
	char *config_digest; /* of the single manifest; docker-archive image id */
};

#endif
