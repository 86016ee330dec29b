/* ims_layer_cache_*: the public face of the layer cache. */
#include "api/context.h"
#include "imagespec/cache.h"
#include "util/error.h"

char *ims_layer_cache_default_dir(void)
{
	return ims_exec_cache_default_dir();
}

int ims_layer_cache_du(ims_context *ctx, ims_layer_cache_usage *out, ims_error **err)
{
	int64_t bytes = 0;
	int r = ims_exec_cache_du(&ctx->env, &bytes, &out->blobs, &out->layers, err);
	out->bytes = bytes;
	return r < 0 ? r : 0;
}

int ims_layer_cache_prune(ims_context *ctx, long long max_bytes, long long *freed, ims_error **err)
{
	if (max_bytes < 0)
		return ims_error_set(err, IMS_EINVALID, "the size to prune to must not be negative");
	int64_t f = 0;
	int r = ims_exec_cache_prune(&ctx->env, max_bytes, &f, err);
	if (freed)
		*freed = f;
	return r < 0 ? r : 0;
}
