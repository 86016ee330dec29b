/* Private to the executor: the base, the new layers and the steps shared
 * by the verbs. */
#ifndef IMS_EXEC_EXEC_INT_H
#define IMS_EXEC_EXEC_INT_H

#include "cache/cache.h"
#include "exec/exec.h"
#include "exec/session.h"
#include "layer/layer.h"
#include "transport/transport.h"

/* One platform image of the base (or of a copy or inspect source). */
typedef struct {
	ims_platform *platform;
	ims_manifest *manifest; /* NULL for scratch */
	ims_config *config;
	bool docker; /* the image's media types are Docker's */
	/* the config's history did not describe the layers one to one and was
	 * fitted to them (ims_config_fit_history): how many entries it had */
	bool history_fitted;
	size_t history_had;
} ims_base_image;

typedef struct {
	ims_transport *t; /* NULL for scratch */
	ims_base_image *images;
	size_t n;
	char *digest; /* of the top-level document; NULL for scratch */
} ims_base;

/* Opens the plan's source and loads a manifest and config per wanted
 * platform (base.c). Configs are read from the local cache docs when it
 * has them (docs may be NULL), and stored there unless dry. */
int ims_exec_base_load(ims_base *b, const ims_exec_env *env, const ims_plan *p, const ims_session *s, bool dry,
		       ims_cache *docs, ims_error **err);
/* The local cache for the small documents a run reads and keeps (base
 * configs, pushed manifests): env's, or NULL when there is none or it
 * cannot be opened (the layer step says why). */
ims_cache *ims_exec_docs_open(const ims_exec_env *env);
/* Loads one image (manifest + verified config) by digest. */
int ims_exec_load_image(ims_transport *t, const char *digest, ims_base_image *out, ims_error **err);
void ims_exec_base_dispose(ims_base *b);
/* For inspect and report (inspect.c): opens a read plan's source, with a
 * session when it is a registry; and the image of the plan's platform (the
 * host's by default) from the top-level document data, or the image itself. */
int ims_exec_open_source(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport **t,
			 ims_error **err);
/* The same, and its top-level document, through the registries.conf
 * mirrors when there are any (ims_exec_open_pull). */
int ims_exec_open_source_pull(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport **t,
			      char **data, size_t *len, char **mt, ims_error **err);
int ims_exec_select_image(const ims_plan *p, ims_transport *t, const char *data, size_t len, const char *mt,
			  ims_base_image *im, ims_error **err);

/* A layer added by the plan, shared by every platform. */
typedef struct {
	ims_descriptor desc; /* media_type NULL until a format is chosen, except blob: with mediaType */
	char diff_id[IMS_DIGEST_BUFSZ];
	ims_layer_alg alg;
	ims_layer_action action;
	ims_layer_origin origin;
	const ims_step *step;
	char recipe[IMS_DIGEST_BUFSZ]; /* "" when the layer has none (not cacheable) */
} ims_new_layer;

struct ims_remote_cache_s;
struct ims_platform_steps_s;
struct ims_exec_cache_closer;
/* Builds the layer steps into target (NULL: dry run, nothing written),
 * taking what it can from the local cache and from remote (may be NULL).
 * ps NULL: the steps shared by every platform; else only the per-platform
 * steps, as ps fills them (exec/platform_steps.h). Entries of the steps
 * left out stay zeroed but for `step`. With closer, the local cache is
 * saved and closed on a thread of its own, which *closer names: the caller
 * waits for it (ims_exec_cache_join, exec/layer_cache.h) before the next
 * call and before it returns; without, before this returns. */
struct ims_prewalk;
int ims_exec_build_layers(const ims_exec_env *env, const ims_plan *p, const struct ims_platform_steps_s *ps,
			  ims_transport *target, ims_transport *probe, ims_base *base, ims_http *http,
			  const struct ims_remote_cache_s *remote, struct ims_prewalk *walked, bool uncompressed,
			  ims_new_layer **out, size_t *n, struct ims_exec_cache_closer **closer, ims_error **err);
/* walked (exec/prewalk.h; may be NULL): a walk of the first step's files
 * made ahead, taken instead of walking again. */

/* Sets o to the options of step s's layer that a walk of its files uses
 * (source dir, created, defaults, what to leave out), the rest zero; the
 * layer step and exec/prewalk.c make them alike. */
struct ims_exec_skips_s;
void ims_exec_walk_opts(ims_layer_opts *o, const ims_plan *p, const ims_step *s, const struct ims_exec_skips_s *skips);
void ims_exec_new_layers_free(ims_new_layer *l, size_t n);

/* Applies the plan's config edits (not layers/history) to cfg, resolving
 * ${base:NAME} against base_cfg (config_edit.c). */
void ims_exec_edit_config(ims_config *cfg, const ims_config *base_cfg, const ims_plan_config *edits);

/* Whether removeLayers drops the base layer with this digest (platform.c). */
bool ims_exec_layer_removed(const ims_plan *p, const char *digest);

/* The plan's annotations as a JSON object, or NULL without any. */
ims_json *ims_exec_annotations(const ims_plan *p);

/* Blob transfers (transfer.c). */
typedef struct {
	bool ignore_exists; /* write even what the target has */
	bool mount;         /* try a cross-repository mount first */
} ims_transfer_opts;
/* Makes blob d of src present in dst: skipped when there, else mounted
 * when the registry can, else copied (verified while streaming). */
int ims_exec_copy_blob_if_missing(ims_transport *src, ims_transport *dst, const ims_descriptor *d,
				  const ims_transfer_opts *o, ims_layer_action *action, ims_error **err);
/* Copies a compressed layer as a plain tar blob (docker-archive),
 * verifying the compressed digest and the diff_id. A layer that
 * decompresses to more than IMS_EXEC_UNCOMPRESSED_MAX bytes is refused
 * there, its partial blob dropped (catalogue item 41: a decompression
 * bomb must not fill the disk). */
int ims_exec_copy_uncompressed(ims_transport *src, ims_transport *dst, const ims_descriptor *d, const char *diff_id,
			       ims_descriptor *out, ims_layer_action *action, ims_error **err);
/* A manifest or index src holds under digest (NULL: the one its reference
 * names), checked against digest when one is given (copy.c). *media_type
 * (may be NULL) gets the content type it came with. */
int ims_exec_get_verified(ims_transport *src, const char *digest, char **data, size_t *len, char **media_type,
			  ims_error **err);
/* The cap on a base layer's tar: the one on a layer imagespec writes. */
#define IMS_EXEC_UNCOMPRESSED_MAX ((int64_t)64 << 30)
/* Tests only: another cap (<= 0: the default). */
void ims_exec__set_uncompressed_max(int64_t max);
/* Stores bytes held in memory as a blob, unless dst has it (asked only
 * without ignore_exists). */
int ims_exec_put_blob(ims_transport *dst, const char *data, size_t len, const char *digest, bool ignore_exists,
		      ims_error **err);

/* A document or blob that came from a base or a copy source and does not
 * parse (a malformed manifest, config, gzip stream) is a build failure
 * (exit 1), not a problem of the spec (exit 2): the json and layer rooms
 * report it as IMS_EINVALID. Returns r, recoded the same way. */
int ims_exec_not_spec(ims_error **err, int r);

/* Foreign layers (foreign.c): a descriptor with urls whose blob the base
 * does not hold. _check asks each url (HEAD) until one serves the blob
 * with the right size; _fetch downloads it from the first url that serves
 * it into dst, verified against the digest and size. Both fail (exit 1)
 * naming every url and why. */
int ims_exec_foreign_check(ims_http *http, const ims_descriptor *d, ims_error **err);
int ims_exec_foreign_fetch(ims_http *http, const ims_descriptor *d, ims_transport *dst, ims_error **err);
/* A foreign layer that the output holds (sync.copyRemoteLayers) becomes an
 * ordinary one: no urls, the distributable media type of its kind. */
void ims_exec_foreign_adopt(ims_descriptor *d);

/* Opens ref for reading and reads its top manifest (by ref's digest, else
 * its tag): from the first of the mirrors that the session's
 * registries.conf gives it, else from its primary location (pull.c).
 * Failing mirrors are warnings; the primary's failure is the error. */
int ims_exec_open_pull(ims_transport **t, const ims_ref *ref, const ims_transport_opts *o, const ims_session *s,
		       char **data, size_t *len, char **mt, ims_error **err);

/* The options every transport of a run is opened with. */
ims_transport_opts ims_exec_transport_opts(const ims_exec_env *env, const char *base_dir, ims_session *s);

#endif
