/* Base blobs synced at once: the blobs of the base that a registry target
 * lacks are mounted or copied by threads of their own (exec/blob_sync.h)
 * while the new layers are built, as the seed's image.sync() starts them
 * at once. Internal to exec/. */
#ifndef IMS_EXEC_PREFETCH_H
#define IMS_EXEC_PREFETCH_H

#include "exec/blob_sync.h"

/* Starts syncing the base's blobs (every platform's, each digest once;
 * not those removeLayers drops, nor foreign ones) into target, when both
 * are registries: the case where the bytes cross a network twice. NULL
 * when there is nothing to start. The base and target must outlive it. */
ims_blob_sync *ims_exec_prefetch_start(const ims_plan *p, const ims_base *base, ims_transport *target, int jobs);

#endif
