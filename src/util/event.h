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

#endif
