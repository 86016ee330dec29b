#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "util/xalloc.h"

/* Messages carry user values (tags, paths, registry answers) to a terminal:
 * every control character but the newline between lines is escaped here,
 * once for all callers (anchors-reliability.md items 43 and 54). */
static char *format(const char *fmt, va_list ap)
{
	char *raw = xvasprintf(fmt, ap);
	char *m = ims_text_quote_lines(raw);
	free(raw);
	return m;
}

void ims_error_free(ims_error *err)
{
	if (!err)
		return;
	free(err->message);
	free(err->hint);
	free(err);
}

void ims_error_clear(ims_error **err)
{
	if (err && *err) {
		ims_error_free(*err);
		*err = NULL;
	}
}

int ims_error_exit_status(int code)
{
	switch (code) {
	case IMS_OK:
		return 0;
	case IMS_EINVALID:
		return 2;
	case IMS_EAUTH:
		return 3;
	case IMS_EINTERRUPTED:
		return 130; /* as a shell reports SIGINT; the CLI re-raises the signal */
	default:
		return 1;
	}
}

static int vset(ims_error **err, int code, int errnum, const char *fmt, va_list ap)
{
	if (!err || *err)
		return code;
	ims_error *e = xcalloc(1, sizeof(*e));
	e->code = code;
	e->sys_errno = errnum;
	e->message = format(fmt, ap);
	if (errnum) {
		char *m = xasprintf("%s: %s", e->message, strerror(errnum));
		free(e->message);
		e->message = m;
	}
	*err = e;
	return code;
}

int ims_error_set(ims_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int ims_error_sys(ims_error **err, int errnum, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return code;
}

void ims_error_pass(ims_error **err, ims_error **from)
{
	if (err && !*err) {
		*err = *from;
		*from = NULL;
	}
}

int ims_error_wrap(ims_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return IMS_EGENERIC;
	va_list ap;
	va_start(ap, fmt);
	char *what = format(fmt, ap);
	va_end(ap);
	char *m = xasprintf("%s: %s", what, (*err)->message);
	free(what);
	free((*err)->message);
	(*err)->message = m;
	return (*err)->code;
}

void ims_error_hint(ims_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return;
	va_list ap;
	va_start(ap, fmt);
	free((*err)->hint);
	(*err)->hint = format(fmt, ap);
	va_end(ap);
}

int ims_error_append(ims_error **err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	char *line = format(fmt, ap);
	va_end(ap);
	if (!*err) {
		ims_error *e = xcalloc(1, sizeof(*e));
		e->code = code;
		e->message = line;
		*err = e;
		return code;
	}
	char *m = xasprintf("%s\n%s", (*err)->message, line);
	free(line);
	free((*err)->message);
	(*err)->message = m;
	return (*err)->code;
}
