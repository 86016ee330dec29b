/* What the room says about a request: errors and trace lines. Both show
 * URLs only through ims_http_redact_url, because upload locations carry
 * signed state and redirect targets carry presigned credentials. */
#include <stdarg.h>
#include <stdlib.h>

#include "http/http_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int ims_http__fail(ims_error **err, const char *method, const char *url, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *why = xvasprintf(fmt, ap);
	va_end(ap);
	_cleanup_free_ char *safe = ims_http_redact_url(url);
	return ims_error_set(err, IMS_ENET, "%s `%s`: %s", method, safe, why);
}

void ims_http__tracef(const ims_http *h, const char *fmt, ...)
{
	if (!h->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *line = xvasprintf(fmt, ap);
	va_end(ap);
	h->trace(h->trace_ud, line);
}
