/* Parallel blob uploads for the registry transport: a small pool of worker
 * threads that push spooled blobs (monolithic, from their fds) while the
 * caller builds the next layer. Internal to the transport room. */
#ifndef IMS_TRANSPORT_REGISTRY_QUEUE_H
#define IMS_TRANSPORT_REGISTRY_QUEUE_H

#include <stdint.h>

#include "transport/registry_client.h"
#include "util/event.h"

typedef struct ims_upload_queue ims_upload_queue;

/* Uploads go to repo on reg, with at most jobs (1..32) at once. Threads
 * start with the first blob. */
/* ev (may be NULL) hears "uploading sha256:…" progress for each blob. */
ims_upload_queue *ims_upload_queue_new(ims_registry *reg, const char *repo, int jobs, const ims_events *ev);
/* Queues fd (owned from now on; closed after the upload) for digest. */
void ims_upload_queue_add(ims_upload_queue *q, int fd, const char *digest, int64_t size);
/* Waits until every queued upload has finished. Fails when any upload of
 * this queue's life failed (the error names every failed blob). */
int ims_upload_queue_wait(ims_upload_queue *q, ims_error **err);
/* Drops what has not started, waits for what has, joins the threads. */
void ims_upload_queue_free(ims_upload_queue *q);

#endif
