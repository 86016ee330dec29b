/**
 * @file imagespec/registry.h
 * @brief One repository of a registry, verb by verb (the seed's RegistryClient).
 *
 * For what the Image API does not do: read or push a manifest by hand, list
 * tags, check, fetch, upload or mount a blob. Every call speaks the
 * distribution API with the context's TLS settings and the credentials of
 * ims_registry_options, then docker's config.json and helpers, like a
 * build. Downloads are verified against their digest; uploads are hashed
 * while they stream, so a digest need not be known beforehand.
 *
 * @code
 * ims_registry_client *c;
 * ims_registry_open(&c, ctx, "127.0.0.1:5000", "team/app", NULL, &err);
 * char **tags; size_t n;
 * ims_registry_list_tags(c, &tags, &n, &err);
 * ims_strv_dispose(tags, n);
 * ims_registry_close(c);
 * @endcode
 */
#ifndef IMAGESPEC_REGISTRY_H
#define IMAGESPEC_REGISTRY_H

#include "common.h"
#include "context.h"
#include "error.h"
#include "image.h"

IMS_BEGIN_DECL

typedef struct ims_registry_client ims_registry_client;

#define IMS_REGISTRY_OPTIONS_VERSION 1

typedef struct {
	int version;                /**< IMS_REGISTRY_OPTIONS_VERSION */
	const ims_credential *auth; /**< used before every other source (the seed's `auth`) */
	size_t nauth;
} ims_registry_options;

#define IMS_REGISTRY_OPTIONS_INIT                     \
	{                                             \
		IMS_REGISTRY_OPTIONS_VERSION, NULL, 0 \
	}

/** Receives downloaded bytes; returns 0, or a negative value to stop. */
typedef int (*ims_write_fn)(void *ud, const void *data, size_t len);
/** Gives bytes to upload: returns how many it put in buf (0 at the end), or a negative value on failure. */
typedef long long (*ims_read_fn)(void *ud, void *buf, size_t len);

/** A client for registry ("host[:port]", "docker.io") and repository ("team/app"). opts may be NULL. */
IMS_EXTERN(int)
ims_registry_open(ims_registry_client **out, ims_context *ctx, const char *registry, const char *repository,
		  const ims_registry_options *opts, ims_error **err);
IMS_EXTERN(void) ims_registry_close(ims_registry_client *c);

/**
 * GET a manifest or index by tag or digest (the seed's manifest()). *data and
 * *media_type (caller frees) get the document as stored; *digest (caller
 * frees, may be NULL) its digest, checked against the reference when that
 * is a digest.
 */
IMS_EXTERN(int)
ims_registry_get_manifest(ims_registry_client *c, const char *reference, char **data, size_t *len, char **media_type,
			  char **digest, ims_error **err);
/**
 * PUT a manifest or index (the seed's manifestUpload()) under tag, or by its
 * digest when tag is NULL. The blobs it names must be there already.
 * *digest (caller frees, may be NULL) gets its digest.
 */
IMS_EXTERN(int)
ims_registry_put_manifest(ims_registry_client *c, const char *tag, const char *data, size_t len, const char *media_type,
			  char **digest, ims_error **err);
/** The repository's tags (the seed's tags()); free with ims_strv_dispose. */
IMS_EXTERN(int) ims_registry_list_tags(ims_registry_client *c, char ***tags, size_t *n, ims_error **err);
/** Whether the repository has the blob (the seed's blobExists()); *size (may be NULL) gets its size. */
IMS_EXTERN(int)
ims_registry_blob_exists(ims_registry_client *c, const char *digest, int *exists, long long *size, ims_error **err);
/**
 * Downloads a blob into write (the seed's blob()), verified against its
 * digest: on IMS_EDIGEST, write has seen bytes that must be thrown away.
 */
IMS_EXTERN(int)
ims_registry_get_blob(ims_registry_client *c, const char *digest, ims_write_fn write, void *ud, ims_error **err);
/**
 * Uploads a blob read from read (the seed's upload()). digest and size may
 * be given (NULL, -1: computed while reading); given ones are checked
 * before anything is committed. *out_digest (caller frees, may be NULL)
 * and *out_size (may be NULL) get what was uploaded. Skipped when the
 * repository has it.
 */
IMS_EXTERN(int)
ims_registry_upload_blob(ims_registry_client *c, ims_read_fn read, void *ud, const char *digest, long long size,
			 char **out_digest, long long *out_size, ims_error **err);
/**
 * Mounts a blob from another repository of the same registry (the seed's
 * mount()). *mounted is 0 when the registry did not mount it (then upload it).
 */
IMS_EXTERN(int)
ims_registry_mount_blob(ims_registry_client *c, const char *digest, const char *from_repository, int *mounted,
			ims_error **err);

IMS_END_DECL

#endif
