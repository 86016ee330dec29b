/* ims_inspect, ims_copy and ims_tags: each a plan that the executor runs. */
#include <stdlib.h>

#include "api/context.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "imagespec/transport.h"

int ims_inspect(ims_context *ctx, const char *ref, const char *platform, ims_inspect_what what, char **out, size_t *len,
		ims_error **err)
{
	ims_plan *p = NULL;
	int r = ims_plan_inspect(&p, ref, platform, what, err);
	if (r >= 0)
		r = ims_exec_inspect(&ctx->env, p, out, len, err);
	ims_plan_destroy(p);
	return r < 0 ? r : 0;
}

int ims_copy(ims_context *ctx, const char *src, const char *dst, const char *platform, char **digest, ims_error **err)
{
	ims_plan *p = NULL;
	int r = ims_plan_copy(&p, src, dst, platform, err);
	if (r >= 0)
		r = ims_exec_copy(&ctx->env, p, digest, err);
	ims_plan_destroy(p);
	return r < 0 ? r : 0;
}

int ims_index_join(ims_context *ctx, const char *dst, const char *const *srcs, size_t nsrcs, int append, char **digest,
		   char **json, ims_error **err)
{
	ims_plan *p = NULL;
	int r = ims_plan_index(&p, dst, srcs, nsrcs, append != 0, err);
	if (r >= 0)
		r = ims_exec_index(&ctx->env, p, dst, srcs, digest, json, err);
	ims_plan_destroy(p);
	return r < 0 ? r : 0;
}

int ims_copy_all_tags(ims_context *ctx, const char *src, const char *dst, const char *platform, char ***tags,
		      char ***digests, size_t *n, ims_error **err)
{
	char **t = NULL, **d = NULL;
	size_t nt = 0;
	int r = ims_plan_check_repo_copy(src, dst, err);
	if (r >= 0)
		r = ims_tags(ctx, src, &t, &nt, err);
	if (r < 0)
		return r;
	d = xcalloc(nt ? nt : 1, sizeof(*d));
	for (size_t i = 0; i < nt && r >= 0; i++) {
		_cleanup_free_ char *s = xasprintf("%s:%s", src, t[i]);
		_cleanup_free_ char *o = xasprintf("%s:%s", dst, t[i]);
		if ((r = ims_copy(ctx, s, o, platform, &d[i], err)) < 0)
			ims_error_wrap(err, "tag `%s`", t[i]);
	}
	if (r < 0) {
		ims_strv_dispose(t, nt);
		ims_strv_dispose(d, nt);
		return r;
	}
	*tags = t;
	*digests = d;
	*n = nt;
	return 0;
}

int ims_tags(ims_context *ctx, const char *repo, char ***tags, size_t *n, ims_error **err)
{
	ims_plan *p = NULL;
	int r = ims_plan_tags(&p, repo, err);
	if (r >= 0)
		r = ims_exec_tags(&ctx->env, p, tags, n, err);
	ims_plan_destroy(p);
	return r < 0 ? r : 0;
}

void ims_strv_dispose(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
