/**
 * @file imagespec/plan.h
 * @brief From a spec and command-line overrides to the steps of a build.
 */
#ifndef IMAGESPEC_PLAN_H
#define IMAGESPEC_PLAN_H

#include "common.h"
#include "error.h"
#include "spec.h"

IMS_BEGIN_DECL

typedef struct ims_plan ims_plan;

/** 2 added the cache references; a version 1 struct (without them) is still taken. */
#define IMS_PLAN_OPTIONS_VERSION 2

typedef struct {
	int version;                  /**< IMS_PLAN_OPTIONS_VERSION */
	const char *target;           /**< --target: replaces the spec's target */
	const char *output;           /**< --output: oci:, oci-archive: or docker-archive: instead of pushing */
	const char *const *tags;      /**< -t: more tags */
	size_t ntags;
	const char *const *platforms; /**< --platform: replaces the spec's platforms */
	size_t nplatforms;
	const char *const *cache_from; /**< --cache-from: registry cache artifacts to read, before the spec's */
	size_t ncache_from;
	const char *cache_to;          /**< --cache-to: the cache artifact to write (replaces the spec's) */
} ims_plan_options;

#define IMS_PLAN_OPTIONS_INIT { IMS_PLAN_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL }

/** Plans a build. The plan borrows the spec: keep the spec alive. */
IMS_EXTERN(int) ims_plan_new(ims_plan **out, ims_spec *spec, const ims_plan_options *opts, ims_error **err);
/** Frees a plan; NULL-safe. */
IMS_EXTERN(void) ims_plan_free(ims_plan *plan);
/** A human-readable description of the steps (caller frees). */
IMS_EXTERN(char *) ims_plan_describe(const ims_plan *plan);

IMS_END_DECL

#endif
