#include "util/event.h"

#include <stdarg.h>
#include <stdlib.h>

#include "util/text.h"
#include "util/xalloc.h"

static void emit(const ims_events *ev, ims_event_kind kind, const char *fmt, va_list ap)
{
	if (!ev || !ev->cb)
		return;
	char *raw = xvasprintf(fmt, ap);
	char *msg = ims_text_quote_lines(raw); /* as error messages are (util/error.c) */
	free(raw);
	ims_event e = { kind, msg, 0, -1 };
	ev->cb(&e, ev->ud);
	free(msg);
}

void ims_events_info(const ims_events *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(ev, IMS_EVENT_INFO, fmt, ap);
	va_end(ap);
}

void ims_events_warn(const ims_events *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(ev, IMS_EVENT_WARNING, fmt, ap);
	va_end(ap);
}

void ims_events_progress(const ims_events *ev, const char *what, long long done, long long total)
{
	if (!ev || !ev->cb)
		return;
	ims_event e = { IMS_EVENT_PROGRESS, what, done, total };
	ev->cb(&e, ev->ud);
}
