/* Base blobs synced at once (prefetch.h): the list of what the platforms
 * will ask for, handed to a blob sync. Each blob is skipped, mounted or
 * copied exactly as the platform would have done it later; the manifest
 * still waits for every one (build.c finishes the sync before any
 * platform is written). */
#include "exec/prefetch.h"

ims_blob_sync *ims_exec_prefetch_start(const ims_plan *p, const ims_base *base, ims_transport *target, int jobs)
{
	if (!ims_exec_blob_sync_possible(base->t, target))
		return NULL;
	ims_transfer_opts o = { .ignore_exists = p->ignore_exists, .mount = true };
	ims_blob_sync *s = ims_exec_blob_sync_new(base->t, target, &o, jobs);
	for (size_t i = 0; i < base->n; i++) {
		const ims_manifest *m = base->images[i].manifest;
		for (size_t k = 0; m && k < m->nlayers; k++) {
			const ims_descriptor *d = &m->layers[k];
			if (!d->nurls && !ims_exec_layer_removed(p, d->digest))
				ims_exec_blob_sync_add(s, d);
		}
	}
	if (!ims_exec_blob_sync_count(s) || !ims_exec_blob_sync_run(s)) {
		/* nothing to do, or no thread: the platforms copy as before */
		ims_exec_blob_sync_free(s);
		return NULL;
	}
	return s;
}
