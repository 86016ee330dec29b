/* What a build did: the structs behind the public ims_build_result. The
 * executor fills it; the public face reads it. */
#ifndef IMS_EXEC_RESULT_H
#define IMS_EXEC_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "imagespec/build.h"
#include "json/oci.h"

/* Where a layer's bytes came from. */
typedef enum {
	IMS_ORIGIN_BASE,   /* a layer of the base image */
	IMS_ORIGIN_BUILT,  /* tarred and compressed by this run */
	IMS_ORIGIN_CACHED, /* the local layer cache or a --cache-from artifact */
	IMS_ORIGIN_BLOB,   /* a `blob:` step: an existing blob named by digest */
} ims_layer_origin;

typedef struct {
	ims_descriptor desc;
	char diff_id[IMS_DIGEST_BUFSZ];
	ims_layer_action action;
	ims_layer_origin origin;
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

ims_build_result *ims_result_new(void);
void ims_result_free(ims_build_result *r);
/* The --json document of SPEC-v1.md (caller frees). */
char *ims_result_json(const ims_build_result *r);
/* A human-readable summary of the steps and actions (caller frees). */
char *ims_result_text(const ims_build_result *r);
/* The names --json gives a layer's origin ("built", "cache", "base",
 * "blob") and action ("written", "uploaded", "mounted", "skipped"). */
const char *ims_result_origin_name(ims_layer_origin o);
const char *ims_result_action_name(ims_layer_action a);
/* The counts of imagespec/build.h's ims_build_counts. */
void ims_result_counts(const ims_build_result *r, ims_build_counts *out);

#endif
