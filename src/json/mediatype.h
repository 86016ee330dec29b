/* Media types: the one place that names them and maps between the OCI and
 * Docker families. json/ owns them because manifests and indexes carry
 * them; nothing here depends on layer/ or spec/, so the layer's
 * compression comes in as this header's own enum. */
#ifndef IMS_JSON_MEDIATYPE_H
#define IMS_JSON_MEDIATYPE_H

#include <stdbool.h>

#include "imagespec/error.h"

#define IMS_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMS_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define IMS_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMS_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define IMS_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMS_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMS_MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define IMS_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMS_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMS_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMS_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define IMS_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IMS_MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* A layer cache shared through a registry: an OCI manifest of this
 * artifactType, whose config (of this media type) maps recipes to layers
 * and whose layers are those layers (json/cachedoc.h). */
#define IMS_MT_CACHE_ARTIFACT "application/vnd.imagespec.cache.v1"
#define IMS_MT_CACHE_CONFIG "application/vnd.imagespec.cache.config.v1+json"

/* How a layer blob is compressed. */
typedef enum {
	IMS_MT_LAYER_TAR, /* plain tar */
	IMS_MT_LAYER_GZIP,
	IMS_MT_LAYER_ZSTD,
} ims_mt_compression;

/* The media type of a new layer in the Docker (docker true) or OCI family.
 * NULL for Docker with zstd: Docker's schema 2 has no zstd layer type, and
 * a manifest never mixes Docker and OCI types, so the caller must refuse
 * that combination (or switch to OCI). */
const char *ims_mt_layer(bool docker, ims_mt_compression c);

/* The layer media type mt in the Docker (docker true) or OCI family: the
 * other member of an OCI/Docker pair (plain, gzip, non-distributable gzip),
 * or mt itself (*out == mt) when it has no pair. IMS_EINVALID for an OCI
 * type with no Docker equivalent (zstd, ...) when docker is true. */
int ims_mt_convert_layer(const char *mt, bool docker, const char **out, ims_error **err);

#endif
