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

static void keep(const ims_event *e, void *ud)
{
	ims_events_log *log = ud;
	log->v = xgrow(log->v, &log->cap, log->n + 1, sizeof(*log->v));
	log->v[log->n++] = (ims_event_kept){ e->kind, xstrdup(e->message ? e->message : ""), e->done, e->total };
}

void ims_events_log_init(ims_events_log *log)
{
	*log = (ims_events_log){ .ev = { keep, log } };
}

void ims_events_log_replay(const ims_events_log *log, const ims_events *to)
{
	for (size_t i = 0; to && to->cb && i < log->n; i++) {
		ims_event e = { log->v[i].kind, log->v[i].message, log->v[i].done, log->v[i].total };
		to->cb(&e, to->ud);
	}
}

void ims_events_log_dispose(ims_events_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		free(log->v[i].message);
	free(log->v);
	log->v = NULL;
	log->n = log->cap = 0;
}
