#include "json/mediatype.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"

const char *ims_mt_layer(bool docker, ims_mt_compression c)
{
	switch (c) {
	case IMS_MT_LAYER_TAR:
		return docker ? IMS_MT_DOCKER_LAYER : IMS_MT_OCI_LAYER;
	case IMS_MT_LAYER_ZSTD:
		return docker ? NULL : IMS_MT_OCI_LAYER_ZSTD;
	case IMS_MT_LAYER_GZIP:
	default:
		return docker ? IMS_MT_DOCKER_LAYER_GZIP : IMS_MT_OCI_LAYER_GZIP;
	}
}

/* The layer types that exist in both families. */
static const struct {
	const char *oci, *docker;
} pairs[] = {
	{ IMS_MT_OCI_LAYER_GZIP, IMS_MT_DOCKER_LAYER_GZIP },
	{ IMS_MT_OCI_LAYER, IMS_MT_DOCKER_LAYER },
	{ IMS_MT_OCI_LAYER_ND_GZIP, IMS_MT_DOCKER_LAYER_FOREIGN },
};

int ims_mt_convert_layer(const char *mt, bool docker, const char **out, ims_error **err)
{
	for (size_t i = 0; i < IMS_ARRAY_SIZE(pairs); i++) {
		if (!strcmp(mt, pairs[i].oci) || !strcmp(mt, pairs[i].docker)) {
			*out = docker ? pairs[i].docker : pairs[i].oci;
			return 0;
		}
	}
	if (docker && !strncmp(mt, "application/vnd.oci.", 20))
		return ims_error_set(err, IMS_EINVALID,
				     "layer media type `%s` has no Docker equivalent; use `format: oci`", mt);
	*out = mt;
	return 0;
}
