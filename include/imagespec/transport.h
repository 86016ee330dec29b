/**
 * @file imagespec/transport.h
 * @brief Reading and copying images wherever they are (the seed's RegistryClient verbs).
 */
#ifndef IMAGESPEC_TRANSPORT_H
#define IMAGESPEC_TRANSPORT_H

#include "common.h"
#include "context.h"
#include "error.h"

IMS_BEGIN_DECL

typedef enum {
	IMS_INSPECT_SUMMARY,  /**< reference, digest, media type, platforms, config summary */
	IMS_INSPECT_MANIFEST, /**< the manifest (of the selected platform), pretty JSON */
	IMS_INSPECT_CONFIG,   /**< the config (of the selected platform), pretty JSON */
	IMS_INSPECT_RAW,      /**< the top-level document, bytes as stored */
} ims_inspect_what;

/** Describes an image. platform NULL: the host's (for an index). Caller frees *out. */
IMS_EXTERN(int) ims_inspect(ims_context *ctx, const char *ref, const char *platform, ims_inspect_what what,
			    char **out, size_t *len, ims_error **err);

/** Copies an image (with every blob) from src to dst. platform: NULL keeps an
 * index whole ("all"), else selects one platform. On success *digest (if
 * non-NULL) gets the digest written; caller frees. */
IMS_EXTERN(int) ims_copy(ims_context *ctx, const char *src, const char *dst, const char *platform, char **digest,
			 ims_error **err);

/**
 * Joins single-platform images into an index at dst (a registry reference
 * or oci:DIR[:TAG]); a source that is an index gives each of its platform
 * images. The platform of each entry is read from the image's config.
 * Blobs dst lacks are copied (or mounted), each manifest before the index.
 * append non-zero: the index at dst is kept, and an entry of the same
 * platform as a new one is replaced (with a warning event). The result is a
 * Docker manifest list when every entry is a Docker manifest, else an OCI
 * index. Two sources of one platform are an error (IMS_EINVALID); nothing
 * is written before every source was read. *digest (if non-NULL) gets the
 * index's digest, *json (if non-NULL) the result as `build --json` shapes it
 * (references, digest, mediaType, size, manifests[] with platform, digest,
 * mediaType, size and source); caller frees both.
 */
IMS_EXTERN(int) ims_index_join(ims_context *ctx, const char *dst, const char *const *srcs, size_t nsrcs, int append,
			       char **digest, char **json, ims_error **err);

/** Copies every tag of the registry repository src to the registry
 * repository dst (both HOST/REPO, without a tag or digest; IMS_EINVALID
 * otherwise), one tag after another, each with its blobs before its
 * manifests, as ims_copy does. platform as for ims_copy. On success *tags
 * and *digests (n entries each, in the source's order; caller frees both
 * with ims_strv_dispose) say what was copied. A tag that fails stops the
 * copy; the tags before it stay copied. */
IMS_EXTERN(int) ims_copy_all_tags(ims_context *ctx, const char *src, const char *dst, const char *platform,
				  char ***tags, char ***digests, size_t *n, ims_error **err);

/** Lists the tags of a registry repository, the ref names of an oci: layout or oci-archive:, or the RepoTags of a docker-archive:. Caller frees with ims_strv_dispose. */
IMS_EXTERN(int) ims_tags(ims_context *ctx, const char *repo, char ***tags, size_t *n, ims_error **err);
IMS_EXTERN(void) ims_strv_dispose(char **v, size_t n);

IMS_END_DECL

#endif
