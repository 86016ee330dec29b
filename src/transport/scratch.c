/* `scratch`: the empty base. It has no manifest and no blobs; the executor
 * starts from an empty config instead of reading it. The entry exists so the
 * table covers every reference kind and the errors explain themselves. */
#include <stdlib.h>

#include "transport/transport.h"
#include "util/error.h"
#include "util/xalloc.h"

static int scratch_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
			ims_error **err)
{
	if (mode & IMS_TRANSPORT_WRITE)
		return ims_error_set(err, IMS_EUNSUPPORTED, "`scratch` can only be a base, not a target");
	*out = xcalloc(1, sizeof(ims_transport));
	return 0;
}

static int scratch_get_manifest(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
				ims_error **err)
{
	return ims_error_set(err, IMS_EUNSUPPORTED, "`scratch` has no manifest; it is the empty image");
}

static int scratch_open_blob(ims_transport *t, const char *digest, ims_reader *out, ims_error **err)
{
	return ims_error_set(err, IMS_EUNSUPPORTED, "`scratch` has no blobs; it is the empty image");
}

static void scratch_close(ims_transport *t)
{
	free(t);
}

const ims_transport_ops ims_transport_scratch_ops = {
	.version = IMS_TRANSPORT_OPS_VERSION,
	.kind = IMS_REF_SCRATCH,
	.name = "scratch",
	.open = scratch_open,
	.get_manifest = scratch_get_manifest,
	.open_blob = scratch_open_blob,
	.close = scratch_close,
};
