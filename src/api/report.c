/* ims_report: an inspect plan that the executor reads further (every layer
 * blob, streamed), then compared and rendered by report/. */
#include <stdlib.h>
#include <string.h>

#include "api/context.h"
#include "exec/result.h"
#include "imagespec/report.h"
#include "json/oci.h"
#include "plan/plan.h"
#include "ref/ref.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The report tree of one image. */
static int tree(ims_context *ctx, const char *ref, const char *platform, ims_json **out, ims_error **err)
{
	ims_plan *p = NULL;
	int r = ims_plan_inspect(&p, ref, platform, IMS_INSPECT_SUMMARY, err);
	if (r >= 0)
		r = ims_exec_report(&ctx->env, p, out, err);
	ims_plan_destroy(p);
	return r < 0 ? r : 0;
}

static int check_options(const ims_report_options *opts, ims_error **err)
{
	if (!opts || opts->version != IMS_REPORT_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_report_options version %d is not supported (this library has %d)",
				     opts ? opts->version : 0, IMS_REPORT_OPTIONS_VERSION);
	return 0;
}

static void render(const ims_json *tree, ims_report_format format, char **out, size_t *len)
{
	size_t n = 0;
	*out = format == IMS_REPORT_HTML ? ims_report_html(tree, &n) : ims_json_encode_pretty(tree, &n);
	if (len)
		*len = n;
}

int ims_report(ims_context *ctx, const char *ref, const ims_report_options *opts, char **out, size_t *len,
	       ims_error **err)
{
	int r = check_options(opts, err);
	if (r < 0)
		return r;
	ims_json *now = NULL, *before = NULL;
	r = tree(ctx, ref, opts->platform, &now, err);
	if (r >= 0 && opts->against && (r = tree(ctx, opts->against, opts->platform, &before, err)) >= 0)
		ims_report_compare(now, before);
	if (r >= 0)
		render(now, opts->format, out, len);
	ims_json_free(now);
	ims_json_free(before);
	return r < 0 ? r : 0;
}

struct ims_report_image {
	ims_json *tree;
};

void ims_report_image_free(ims_report_image *im)
{
	if (!im)
		return;
	ims_json_free(im->tree);
	free(im);
}

/* An inspect plan for the build plan's target, resolving as the build
 * does (relative paths against the spec's directory). */
static int target_tree(ims_context *ctx, const ims_plan *build, const char *platform, ims_json **out, ims_error **err)
{
	_cleanup_free_ char *ref = ims_ref_string(build->target);
	ims_plan *p = NULL;
	int r = ims_plan_inspect(&p, ref, platform, IMS_INSPECT_SUMMARY, err);
	if (r >= 0 && build->target_dir) {
		free(p->source_dir);
		p->source_dir = xstrdup(build->target_dir);
	}
	if (r >= 0)
		r = ims_exec_report(&ctx->env, p, out, err);
	ims_plan_destroy(p);
	return r < 0 ? r : 0;
}

int ims_report_read_target(ims_report_image **out, ims_context *ctx, const ims_plan *plan, ims_error **err)
{
	*out = NULL;
	if (!plan->target || plan->target->kind == IMS_REF_SCRATCH)
		return 0;
	_cleanup_free_ char *platform = plan->nplatforms ? ims_platform_string(plan->platforms[0]) : NULL;
	ims_json *tree = NULL;
	int r = target_tree(ctx, plan, platform, &tree, err);
	if (r == IMS_ENOTFOUND) { /* nothing there yet: nothing to compare with */
		ims_error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	*out = xcalloc(1, sizeof(**out));
	(*out)->tree = tree;
	return 0;
}

/* The build result's layer with this digest, or NULL. */
static const ims_result_layer *result_layer(const ims_build_result *res, const char *digest)
{
	for (size_t m = 0; m < res->nmanifests; m++)
		for (size_t k = 0; k < res->manifests[m].nlayers; k++)
			if (!strcmp(res->manifests[m].layers[k].desc.digest, digest))
				return &res->manifests[m].layers[k];
	return NULL;
}

/* Each layer's source and action, as the build result says. */
static void mark_layers(ims_json *tree, const ims_build_result *res)
{
	ims_json *layers = ims_json_get(tree, "layers");
	for (size_t i = 0; layers && layers->type == IMS_JSON_ARRAY && i < layers->n; i++) {
		const char *dg = ims_json_get_string(layers->v[i], "digest");
		const ims_result_layer *l = dg ? result_layer(res, dg) : NULL;
		if (!l)
			continue;
		ims_json_set(layers->v[i], "source", ims_json_new_string(ims_result_origin_name(l->origin)));
		ims_json_set(layers->v[i], "action", ims_json_new_string(ims_result_action_name(l->action)));
	}
}

int ims_report_build(ims_context *ctx, const ims_plan *plan, const ims_build_result *res, const ims_report_image *prev,
		     const ims_report_options *opts, char **out, size_t *len, ims_error **err)
{
	int r = check_options(opts, err);
	if (r < 0)
		return r;
	if (res->dry_run)
		return ims_error_set(err, IMS_EUNSUPPORTED, "a plan writes no layers to report on");
	const char *platform = res->nmanifests > 1 ? res->manifests[0].platform : NULL;
	ims_json *now = NULL;
	if ((r = target_tree(ctx, plan, platform, &now, err)) < 0)
		return r;
	mark_layers(now, res);
	if (prev)
		ims_report_compare(now, prev->tree);
	render(now, opts->format, out, len);
	ims_json_free(now);
	return 0;
}
