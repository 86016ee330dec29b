/* Parallel blob uploads for the registry transport: a small pool of worker
 * threads that push spooled blobs (monolithic, from their fds) while the
 * caller builds the next layer. Internal to the transport room. */
#ifndef IMS_TRANSPORT_REGISTRY_QUEUE_H
#define IMS_TRANSPORT_REGISTRY_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/registry_client.h"
#include "util/event.h"

typedef struct ims_upload_queue ims_upload_queue;

/* The uploads allowed at once (-j), shared by the queue's workers and the
 * streamed uploads of registry_eager.c, so that -j 1 means one. */
typedef struct ims_upload_slots ims_upload_slots;
ims_upload_slots *ims_upload_slots_new(int n);
void ims_upload_slots_free(ims_upload_slots *s);
bool ims_upload_slots_try(ims_upload_slots *s); /* takes one if one is free */
void ims_upload_slots_take(ims_upload_slots *s); /* waits for one */
void ims_upload_slots_give(void *s);            /* (an ims_upload_slots) */

/* Uploads go to repo on reg, with at most jobs (1..32) at once and, within
 * that, one slot of slots each (slots may be NULL). Threads start with the
 * first blob. ev (may be NULL) hears "uploading sha256:…" progress for
 * each blob. */
ims_upload_queue *ims_upload_queue_new(ims_registry *reg, const char *repo, int jobs, ims_upload_slots *slots,
				       const ims_events *ev);
/* Queues fd (owned from now on; closed after the upload) for digest. */
void ims_upload_queue_add(ims_upload_queue *q, int fd, const char *digest, int64_t size);
/* Waits until every queued upload has finished. Fails when any upload of
 * this queue's life failed (the error names every failed blob). */
int ims_upload_queue_wait(ims_upload_queue *q, ims_error **err);
/* Drops what has not started, waits for what has, joins the threads. */
void ims_upload_queue_free(ims_upload_queue *q);

#endif
