/**
 * @file imagespec/imagespec.h
 * @brief Umbrella header of libimagespec.
 *
 * Call ims_init() once before anything else and ims_shutdown() at the end.
 * Out of memory aborts the process (as in crun); every other failure is
 * reported through an ims_error.
 */
#ifndef IMAGESPEC_H
#define IMAGESPEC_H

#include "common.h"
#include "error.h"
#include "context.h"
#include "spec.h"
#include "plan.h"
#include "build.h"
#include "image.h"
#include "transport.h"
#include "registry.h"
#include "cache.h"
#include "auth.h"

IMS_BEGIN_DECL

/** Global initialisation (libcurl, OpenSSL). Returns 0 or a negative code. */
IMS_EXTERN(int) ims_init(void);
/** Releases what ims_init() set up. */
IMS_EXTERN(void) ims_shutdown(void);
/** The library version, e.g. "0.1.0". */
IMS_EXTERN(const char *) ims_version(void);
/** The JSON Schema of image.yaml v1 (NUL-terminated, static). */
IMS_EXTERN(const char *) ims_schema(void);

IMS_END_DECL

#endif
