/* Base blobs synced at once: the blobs of the base that a registry target
 * lacks are mounted or copied on a thread of their own while the new
 * layers are built, as the seed's image.sync() starts them at once.
 * Internal to exec/. */
#ifndef IMS_EXEC_PREFETCH_H
#define IMS_EXEC_PREFETCH_H

#include "exec/exec_int.h"

typedef struct ims_prefetch ims_prefetch;

/* Starts syncing the base's blobs (every platform's, each digest once;
 * not those removeLayers drops, nor foreign ones) into target, when both
 * the base and the target are registries: the case where the bytes cross
 * a network twice. *out is NULL when there is nothing to start. The base
 * and target must outlive the thread (ims_exec_prefetch_finish). */
void ims_exec_prefetch_start(ims_prefetch **out, const ims_plan *p, const ims_base *base, ims_transport *target);
/* Waits for the thread; with stop, it ends after the blob in flight
 * (the build failed). NULL-safe; a second call does nothing. */
void ims_exec_prefetch_finish(ims_prefetch *pf, bool stop);
/* After finish: 1 when the sync took digest on, with its action (or its
 * error, handed over to *err, and its negative code returned instead);
 * 0 when it did not (not a blob it syncs, or stopped before it): the
 * caller copies it as before. */
int ims_exec_prefetch_result(ims_prefetch *pf, const char *digest, ims_layer_action *action, ims_error **err);
void ims_exec_prefetch_free(ims_prefetch *pf);

#endif
