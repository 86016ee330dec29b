/* ims_plan_*, ims_build and the build result: the public face of the
 * plan and exec rooms. */
#include "imagespec/build.h"
#include "imagespec/plan.h"

#include "api/context.h"
#include "plan/from_spec.h"
#include "util/error.h"

int ims_plan_new(ims_plan **out, ims_spec *spec, const ims_plan_options *opts, ims_error **err)
{
	return ims_plan_from_spec(out, spec->m, opts, err);
}

void ims_plan_free(ims_plan *plan)
{
	ims_plan_destroy(plan);
}

char *ims_plan_describe(const ims_plan *plan)
{
	return ims_plan_text(plan);
}

int ims_build(ims_build_result **out, ims_context *ctx, ims_plan *plan, const ims_build_options *opts, ims_error **err)
{
	if (opts && opts->version != 1 && opts->version != IMS_BUILD_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_build_options version %d is not supported (this library has %d)",
				     opts->version, IMS_BUILD_OPTIONS_VERSION);
	if (plan->kind != IMS_PLAN_BUILD)
		return ims_error_set(err, IMS_EINVALID, "this plan is not a build plan");
	bool dry = opts && opts->dry_run, offline = opts && opts->version >= 2 && opts->offline;
	return ims_exec_build(out, &ctx->env, plan, dry ? (offline ? IMS_EXEC_DRY_OFFLINE : IMS_EXEC_DRY) : IMS_EXEC_RUN,
			      err);
}

void ims_build_result_free(ims_build_result *r)
{
	ims_result_free(r);
}

const char *ims_build_result_digest(const ims_build_result *r)
{
	return r->digest;
}

const char *ims_build_result_media_type(const ims_build_result *r)
{
	return r->media_type;
}

long long ims_build_result_size(const ims_build_result *r)
{
	return r->size;
}

size_t ims_build_result_nreferences(const ims_build_result *r)
{
	return r->nrefs;
}

const char *ims_build_result_reference(const ims_build_result *r, size_t i)
{
	return i < r->nrefs ? r->refs[i] : NULL;
}

char *ims_build_result_json(const ims_build_result *r)
{
	return ims_result_json(r);
}

char *ims_build_result_describe(const ims_build_result *r)
{
	return ims_result_text(r);
}

void ims_build_result_counts(const ims_build_result *r, ims_build_counts *out)
{
	ims_result_counts(r, out);
}
