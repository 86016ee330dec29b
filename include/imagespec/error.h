/**
 * @file imagespec/error.h
 * @brief The one error type of libimagespec.
 *
 * Failing functions take an `ims_error **err` as their last argument, set it
 * and return the (negative) error code. On success `*err` is untouched.
 * There is no thread-local "last error".
 */
#ifndef IMAGESPEC_ERROR_H
#define IMAGESPEC_ERROR_H

#include "common.h"

IMS_BEGIN_DECL

/** Error codes that callers may branch on. */
typedef enum {
	IMS_OK = 0,
	IMS_EGENERIC = -1,     /**< anything else: I/O, build failure */
	IMS_ENOTFOUND = -2,    /**< a reference, tag, blob or file does not exist */
	IMS_EAUTH = -3,        /**< authentication refused */
	IMS_EDIGEST = -4,      /**< content does not match its digest or size */
	IMS_EINVALID = -5,     /**< invalid spec, argument or document */
	IMS_ENET = -6,         /**< network failure */
	IMS_EUNSUPPORTED = -7, /**< a feature that is not supported (yet) */
	IMS_ESOURCE = -8,      /**< a problem in the source tree (escaping link, FIFO, .wh. file) */
	IMS_EINTERRUPTED = -9, /**< stopped by ims_interrupt() (SIGINT, SIGTERM) */
} ims_error_code;

/** An error. Free with ims_error_free(). */
typedef struct ims_error {
	int code;         /**< one of ims_error_code */
	int sys_errno;    /**< errno of the failing system call, or 0 */
	long http_status; /**< HTTP status of the failing request, or 0 */
	char *message;    /**< one or more lines, lower case, no trailing newline */
	char *hint;       /**< what to do about it, or NULL */
} ims_error;

/** Frees an error; NULL-safe. */
IMS_EXTERN(void) ims_error_free(ims_error *err);

/** Clears *err (frees it and sets it to NULL). */
IMS_EXTERN(void) ims_error_clear(ims_error **err);

/** The exit status the command line uses for an error code (0, 1, 2 or 3). */
IMS_EXTERN(int) ims_error_exit_status(int code);

IMS_END_DECL

#endif
