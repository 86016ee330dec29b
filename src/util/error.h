/* Internal helpers around the public ims_error type. */
#ifndef IMS_UTIL_ERROR_H
#define IMS_UTIL_ERROR_H

#include <stdarg.h>
#include "imagespec/error.h"

/* Sets *err (if err is non-NULL and *err is NULL) and returns code.
 * If *err is already set, the new error is dropped and code returned. */
int ims_error_set(ims_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like ims_error_set, appending ": strerror(errnum)" and recording errnum. */
int ims_error_sys(ims_error **err, int errnum, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefixes the existing message with "what: "; keeps the code. Returns the code. */
int ims_error_wrap(ims_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sets the hint of an existing error (replacing any). */
void ims_error_hint(ims_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands *from (an error another thread or step kept) to *err when err
 * is non-NULL and *err is NULL, leaving *from NULL; else keeps *from. */
void ims_error_pass(ims_error **err, ims_error **from);
/* Appends one more line ("\n" + text) to an existing error, or creates it. */
int ims_error_append(ims_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
