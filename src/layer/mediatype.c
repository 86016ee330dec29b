#include "layer/layer.h"

const char *ims_layer_media_type(bool docker, ims_layer_alg alg)
{
	switch (alg) {
	case IMS_LAYER_ALG_NONE:
		return docker ? "application/vnd.docker.image.rootfs.diff.tar"
			      : "application/vnd.oci.image.layer.v1.tar";
	case IMS_LAYER_ALG_ZSTD:
		/* Docker's schema 2 has no zstd layer type, and a manifest
		 * never mixes Docker and OCI types. */
		return docker ? NULL : "application/vnd.oci.image.layer.v1.tar+zstd";
	case IMS_LAYER_ALG_GZIP:
	default:
		return docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
			      : "application/vnd.oci.image.layer.v1.tar+gzip";
	}
}
