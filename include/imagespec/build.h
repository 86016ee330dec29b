/**
 * @file imagespec/build.h
 * @brief Running a plan: building layers, editing the config, writing the target.
 */
#ifndef IMAGESPEC_BUILD_H
#define IMAGESPEC_BUILD_H

#include "common.h"
#include "context.h"
#include "error.h"
#include "plan.h"

IMS_BEGIN_DECL

/** What happened to one layer. */
typedef enum {
	IMS_ACTION_WRITTEN,  /**< written to a local target */
	IMS_ACTION_UPLOADED, /**< pushed to a registry */
	IMS_ACTION_MOUNTED,  /**< mounted from another repository */
	IMS_ACTION_SKIPPED,  /**< the target already had it */
} ims_layer_action;

typedef struct ims_build_result ims_build_result;

/** 2 added offline; a version 1 struct is still taken. */
#define IMS_BUILD_OPTIONS_VERSION 2

typedef struct {
	int version;  /**< IMS_BUILD_OPTIONS_VERSION */
	int dry_run;  /**< compute everything, write nothing (`imagespec plan`); a registry
		       *   target is asked which blobs it has (HEAD), to say upload, mount or skip */
	int offline;  /**< with dry_run: do not ask the target */
} ims_build_options;

#define IMS_BUILD_OPTIONS_INIT { IMS_BUILD_OPTIONS_VERSION, 0, 0 }

/** Runs the plan. On success *out describes what was written. */
IMS_EXTERN(int) ims_build(ims_build_result **out, ims_context *ctx, ims_plan *plan, const ims_build_options *opts,
			  ims_error **err);
IMS_EXTERN(void) ims_build_result_free(ims_build_result *r);

/** The digest of the top-level manifest or index ("sha256:..."). */
IMS_EXTERN(const char *) ims_build_result_digest(const ims_build_result *r);
IMS_EXTERN(const char *) ims_build_result_media_type(const ims_build_result *r);
IMS_EXTERN(long long) ims_build_result_size(const ims_build_result *r);
/** Every reference written (target and tags), without digest. */
IMS_EXTERN(size_t) ims_build_result_nreferences(const ims_build_result *r);
IMS_EXTERN(const char *) ims_build_result_reference(const ims_build_result *r, size_t i);
/** The --json document of SPEC-v1.md (caller frees). */
IMS_EXTERN(char *) ims_build_result_json(const ims_build_result *r);
/** A human-readable summary of the steps and actions (caller frees). */
IMS_EXTERN(char *) ims_build_result_describe(const ims_build_result *r);

/** What a build did, layer by layer, each distinct layer counted once
 *  however many platforms share it. Where the bytes came from: */
typedef struct {
	int layers;   /**< distinct layers in the image(s) */
	int base;     /**< layers of the base image */
	int built;    /**< tarred and compressed by this build */
	int cached;   /**< from the layer cache (local or --cache-from) */
	int blobs;    /**< `blob:` steps */
	/** and what happened to them in the target: */
	int uploaded, mounted, skipped, written;
	long long uploaded_bytes, written_bytes;
} ims_build_counts;

/** Fills *out from the result. */
IMS_EXTERN(void) ims_build_result_counts(const ims_build_result *r, ims_build_counts *out);

IMS_END_DECL

#endif
