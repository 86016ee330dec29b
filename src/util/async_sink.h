/* A sink that hands its bytes to a thread of its own: writes are copied
 * into a few buffers, and the thread writes them to the next sink, in
 * order. The caller's thread goes on (making tar, compressing) while the
 * next sinks (hashing, writing a file) run beside it.
 *
 * The next sink is only ever called from that thread, and never after
 * ims_async_sink_finish or ims_async_sink_free has returned. Its first
 * error is sticky: the next write or finish returns it. Memory is bounded:
 * at most nbufs buffers of bufsz bytes. */
#ifndef IMS_UTIL_ASYNC_SINK_H
#define IMS_UTIL_ASYNC_SINK_H

#include <stddef.h>

#include "util/stream.h"

typedef struct ims_async_sink ims_async_sink;

/* next is copied. Fails only when no thread can be started. */
int ims_async_sink_new(ims_async_sink **out, const ims_sink *next, size_t bufsz, size_t nbufs, ims_error **err);
/* The sink to write to (from one thread). */
ims_sink *ims_async_sink_sink(ims_async_sink *a);
/* Waits until everything written has reached the next sink; returns its
 * first error, if any. No writes after this. */
int ims_async_sink_finish(ims_async_sink *a, ims_error **err);
/* Stops the thread (what was not yet written is dropped) and frees a. */
void ims_async_sink_free(ims_async_sink *a);

#endif
