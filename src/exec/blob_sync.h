/* Blobs made present in a target by a few threads at once: each blob is
 * skipped, mounted or copied by the one copy-if-missing
 * (ims_exec_copy_blob_if_missing), and its outcome kept for the caller to
 * collect in its own order. Both transports must be registries, the one
 * kind safe for several callers (its notes and upload queue are locked;
 * ims_http and the token cache are shared by design). Internal to exec/. */
#ifndef IMS_EXEC_BLOB_SYNC_H
#define IMS_EXEC_BLOB_SYNC_H

#include "exec/exec_int.h"

typedef struct ims_blob_sync ims_blob_sync;

/* Whether src and dst can be synced from several threads. */
bool ims_exec_blob_sync_possible(const ims_transport *src, const ims_transport *dst);
/* An empty sync from src to dst with up to threads threads (1 to 8). */
ims_blob_sync *ims_exec_blob_sync_new(ims_transport *src, ims_transport *dst, const ims_transfer_opts *o,
				      int threads);
/* Adds a blob (before run); a digest already added is not added twice.
 * d must outlive the sync. */
void ims_exec_blob_sync_add(ims_blob_sync *s, const ims_descriptor *d);
size_t ims_exec_blob_sync_count(const ims_blob_sync *s);
/* Starts the threads; they take the blobs in the order added and stop
 * taking new ones at the first failure. Returns false when no thread
 * could be started (the caller copies the blobs itself). */
bool ims_exec_blob_sync_run(ims_blob_sync *s);
/* Waits for the threads; with stop, they end after the blobs in flight.
 * NULL-safe; a second call does nothing. */
void ims_exec_blob_sync_finish(ims_blob_sync *s, bool stop);
/* Waits, then: 1 when digest was synced, with its action; its negative
 * code when that failed (the error handed over to *err); 0 when the sync
 * did not take it (not added, or stopped before it). NULL-safe. */
int ims_exec_blob_sync_result(ims_blob_sync *s, const char *digest, ims_layer_action *action, ims_error **err);
void ims_exec_blob_sync_free(ims_blob_sync *s);

/* An image's config and layers from src to dst: on up to jobs threads
 * when both are registries, else one at a time, in order; either way the
 * first that failed (in order) is the one reported, a layer's error
 * naming it. */
int ims_exec_copy_image_blobs(ims_transport *src, ims_transport *dst, const ims_manifest *m,
			      const ims_transfer_opts *o, int jobs, ims_error **err);

#endif
