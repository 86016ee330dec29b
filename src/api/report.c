/* ims_report: an inspect plan that the executor reads further (every layer
 * blob, streamed), then compared and rendered by report/. */
#include <stdlib.h>

#include "api/context.h"
#include "imagespec/report.h"
#include "json/json.h"
#include "report/report.h"
#include "util/error.h"

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

int ims_report(ims_context *ctx, const char *ref, const ims_report_options *opts, char **out, size_t *len,
	       ims_error **err)
{
	if (!opts || opts->version != IMS_REPORT_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_report_options version %d is not supported (this library has %d)",
				     opts ? opts->version : 0, IMS_REPORT_OPTIONS_VERSION);
	ims_json *now = NULL, *before = NULL;
	int r = tree(ctx, ref, opts->platform, &now, err);
	if (r >= 0 && opts->against && (r = tree(ctx, opts->against, opts->platform, &before, err)) >= 0)
		ims_report_compare(now, before);
	if (r >= 0) {
		size_t n = 0;
		*out = opts->format == IMS_REPORT_HTML ? ims_report_html(now, &n) : ims_json_encode_pretty(now, &n);
		if (len)
			*len = n;
	}
	ims_json_free(now);
	ims_json_free(before);
	return r < 0 ? r : 0;
}
