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
#include "report.h"
#include "registry.h"
#include "cache.h"
#include "auth.h"

IMS_BEGIN_DECL

/**
 * Global initialisation. Returns 0 or a negative code. libcurl and
 * libarchive are not linked: each is loaded (dlopen) when first needed, by
 * a registry client or a layer written or read, once and under a lock,
 * and libcurl's global set-up (curl_global_init) runs then; a library
 * that cannot be loaded is the error of the call that needed it.
 */
IMS_EXTERN(int) ims_init(void);
/** Releases what was set up (libcurl's global state, when it was loaded). */
IMS_EXTERN(void) ims_shutdown(void);
/**
 * Asks every operation in progress, in every thread, to stop: each returns
 * IMS_EINTERRUPTED ("interrupted") soon after, having removed its temp files
 * and staging directories, a new `oci:` layout it made, and having left an
 * existing layout, archive or tag as it was. Async-signal-safe: meant to be
 * called from a SIGINT or SIGTERM handler. The flag is process-wide and
 * stays set until ims_interrupt_clear().
 */
IMS_EXTERN(void) ims_interrupt(void);
/** Clears what ims_interrupt() set, so that new operations run again. */
IMS_EXTERN(void) ims_interrupt_clear(void);
/** The library version, e.g. "0.1.0". */
IMS_EXTERN(const char *) ims_version(void);
/** The JSON Schema of image.yaml v1 (NUL-terminated, static). */
IMS_EXTERN(const char *) ims_schema(void);

IMS_END_DECL

#endif
