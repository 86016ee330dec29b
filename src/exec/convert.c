/* Media types across the OCI and Docker families: a manifest never mixes them. */
#include <string.h>

#include "exec/exec_int.h"
#include "util/error.h"

static const struct {
	const char *oci, *docker;
} pairs[] = {
	{ IMS_MT_OCI_LAYER_GZIP, IMS_MT_DOCKER_LAYER_GZIP },
	{ IMS_MT_OCI_LAYER, IMS_MT_DOCKER_LAYER },
	{ IMS_MT_OCI_LAYER_ND_GZIP, IMS_MT_DOCKER_LAYER_FOREIGN },
};

int ims_exec_convert_layer_type(const char *mt, bool docker, const char **out, ims_error **err)
{
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
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
