/**
 * @file imagespec/report.h
 * @brief The layer report: an image's layers, their files, its config, and
 * what changed against another image, as JSON or as one self-contained
 * HTML page (docs/cli.md, "report").
 */
#ifndef IMAGESPEC_REPORT_H
#define IMAGESPEC_REPORT_H

#include "common.h"
#include "context.h"
#include "error.h"

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

IMS_END_DECL

#endif
