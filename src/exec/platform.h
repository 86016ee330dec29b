/* Building one platform's image; internal to exec/. */
#ifndef IMS_EXEC_PLATFORM_H
#define IMS_EXEC_PLATFORM_H

#include "exec/exec_int.h"

typedef struct {
	const ims_plan *p;
	ims_base *base;
	const ims_base_image *im;
	ims_transport *target; /* NULL: dry run */
	ims_transport *probe;  /* a dry run's registry target, to ask what it has; may be NULL */
	const ims_new_layer *nl;
	size_t nnew;
	bool docker;       /* Docker media types */
	bool uncompressed; /* the target wants plain tar layers */
	ims_http *http;    /* for foreign layers' urls; may be NULL */
	ims_result_manifest *rm;
	struct ims_blob_sync *prefetch; /* base blobs synced already; may be NULL */
	/* The name the target will give this manifest first (one platform:
	 * the reference's tag); NULL when an index will name it. */
	const char *top_name;
	char *config_digest; /* out; caller frees */
	bool keep_manifest;  /* give the manifest's bytes in manifest_data */
	char *manifest_data; /* out with keep_manifest; caller frees */
	size_t manifest_len;
} ims_platform_job;

int ims_exec_platform(ims_platform_job *j, ims_descriptor *out, ims_error **err);

#endif
