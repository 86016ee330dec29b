/* The executor: runs a plan. The only room that sequences I/O between the
 * base, the layer writer and the target. */
#ifndef IMS_EXEC_H
#define IMS_EXEC_H

#include "api/internal.h"
#include "transport/transport.h"

struct ims_http;

/* One platform image of the base. */
typedef struct {
	ims_platform *platform;
	ims_manifest *manifest; /* NULL for scratch */
	ims_config *config;
	bool docker; /* the base's media types are Docker's */
} ims_base_image;

typedef struct {
	ims_transport *t; /* NULL for scratch */
	ims_base_image *images;
	size_t n;
	char *digest; /* of the top-level document; NULL for scratch */
} ims_base;

/* Opens the plan's base and loads a manifest and config per wanted platform. */
int ims_exec_base_load(ims_base *b, ims_context *ctx, const ims_plan *p, ims_registry_pool *pool, ims_error **err);
/* Loads one image (manifest + verified config) by descriptor/digest. */
int ims_exec_load_image(ims_transport *t, const char *digest, ims_base_image *out, ims_error **err);
void ims_exec_base_dispose(ims_base *b);

/* A layer added by the plan, shared by every platform. */
typedef struct {
	ims_descriptor desc; /* media_type NULL until a format is chosen, except blob: with mediaType */
	char diff_id[IMS_DIGEST_BUFSZ];
	ims_compress_alg alg;
	ims_layer_action action;
	const ims_step *step;
} ims_new_layer;

/* Builds every layer step into target (NULL: dry run, nothing written). */
int ims_exec_build_layers(ims_context *ctx, const ims_plan *p, ims_transport *target, ims_base *base,
			  struct ims_http *http, bool uncompressed, ims_new_layer **out, size_t *n, ims_error **err);
void ims_exec_new_layers_free(ims_new_layer *l, size_t n);

/* Applies the spec's config edits (not layers/history) to cfg, resolving
 * ${base:NAME} against base_cfg. */
int ims_exec_edit_config(ims_config *cfg, const ims_config *base_cfg, const ims_plan *p, ims_error **err);

/* Result helpers. */
ims_build_result *ims_result_new(void);

/* Copies a compressed base layer as a plain tar blob (docker-archive),
 * verifying the compressed digest and the diff_id. */
int ims_exec_copy_uncompressed(ims_transport *src, ims_transport *dst, const ims_descriptor *d, const char *diff_id,
			       ims_descriptor *out, ims_layer_action *action, ims_error **err);

#endif
