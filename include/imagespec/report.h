/**
 * @file imagespec/report.h
 * @brief The layer report: an image's layers, their files, its config, and
 * what changed against another image, as JSON or as one self-contained
 * HTML page (docs/cli.md, "report").
 */
#ifndef IMAGESPEC_REPORT_H
#define IMAGESPEC_REPORT_H

#include "build.h"
#include "common.h"
#include "context.h"
#include "error.h"
#include "plan.h"

IMS_BEGIN_DECL

/** The form of the report. */
typedef enum {
	IMS_REPORT_JSON, /**< the report tree, pretty JSON */
	IMS_REPORT_HTML, /**< one HTML page, inline CSS and JS only, nothing fetched */
} ims_report_format;

#define IMS_REPORT_OPTIONS_VERSION 1

typedef struct {
	int version;              /**< IMS_REPORT_OPTIONS_VERSION */
	ims_report_format format; /**< JSON or HTML */
	const char *platform;     /**< of an index: NULL for the host's */
	const char *against;      /**< another image reference to compare with, or NULL */
} ims_report_options;

#define IMS_REPORT_OPTIONS_INIT                                         \
	{                                                               \
		IMS_REPORT_OPTIONS_VERSION, IMS_REPORT_JSON, NULL, NULL \
	}

/** Reads the image ref names (every layer blob, streamed and verified
 * against its digest) and describes it in *out (*len bytes; caller frees).
 * With opts->against, the layers are compared with that image's. */
IMS_EXTERN(int)
ims_report(ims_context *ctx, const char *ref, const ims_report_options *opts, char **out, size_t *len, ims_error **err);

/** An image read for a report, kept to compare with later (opaque). */
typedef struct ims_report_image ims_report_image;

/** For `build --report`, before the build: reads the image the plan's
 * target holds now (the previous build), every layer streamed, for
 * ims_report_build to compare with. *out is NULL, and 0 returned, when the
 * target holds no image yet. Free with ims_report_image_free. */
IMS_EXTERN(int) ims_report_read_target(ims_report_image **out, ims_context *ctx, const ims_plan *plan, ims_error **err);
IMS_EXTERN(void) ims_report_image_free(ims_report_image *im);

/** After a build: the report of the image it wrote (read back from the
 * plan's target; of an index, the first platform built), each layer marked
 * with where it came from (built, cache, base, blob) and what the target
 * got (written, uploaded, mounted, skipped) as res says; compared with prev
 * when not NULL. opts gives the format; its against and platform are not
 * used. */
IMS_EXTERN(int)
ims_report_build(ims_context *ctx, const ims_plan *plan, const ims_build_result *res, const ims_report_image *prev,
		 const ims_report_options *opts, char **out, size_t *len, ims_error **err);

IMS_END_DECL

#endif
