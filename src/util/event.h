/* Events going down the rooms: the library never prints, it tells its
 * caller. A room that has something to say (a step, a warning, bytes done)
 * gets this {callback, userdata} pair from the room above and calls it;
 * no room needs to know who listens. The callback is the public one of
 * imagespec/context.h, so the CLI's listener sees the events unchanged. */
#ifndef IMS_UTIL_EVENT_H
#define IMS_UTIL_EVENT_H

#include "imagespec/context.h"

typedef struct {
	ims_event_cb cb; /* NULL: nobody listens */
	void *ud;
} ims_events;

void ims_events_info(const ims_events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ims_events_warn(const ims_events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes done of total (-1: unknown) for what (one line, no newline). */
void ims_events_progress(const ims_events *ev, const char *what, long long done, long long total);

/* Events kept to be said later, in the order they came: what a thread
 * says is kept in a log of its own, and the thread that joins it says it
 * then (replay), so that the output does not depend on which thread ran
 * first. log->ev is the events pair to hand down; it points into log, so
 * a log is not moved once initialised. */
typedef struct {
	ims_event_kind kind;
	char *message;
	long long done, total;
} ims_event_kept;

typedef struct {
	ims_events ev;
	ims_event_kept *v;
	size_t n, cap;
} ims_events_log;

void ims_events_log_init(ims_events_log *log);
/* Says every kept event to to (which may be NULL: nobody listens). */
void ims_events_log_replay(const ims_events_log *log, const ims_events *to);
void ims_events_log_dispose(ims_events_log *log);

#endif
