/* Base blobs synced at once (prefetch.h). One thread walks the list in
 * order with the same call the platforms make (ims_exec_copy_blob_if_missing),
 * so a blob is skipped, mounted or copied exactly as it would be later;
 * the registry transport is safe for a second caller (its notes and queue
 * are locked; ims_http and the token cache are shared by design). The
 * manifest still waits for every blob: ims_exec_prefetch_finish comes
 * before any platform is written. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "exec/prefetch.h"
#include "util/xalloc.h"

typedef struct {
	const ims_descriptor *d; /* in the base, which outlives the thread */
	bool done;
	int rc;
	ims_layer_action action;
	ims_error *err;
} item;

struct ims_prefetch {
	ims_transport *src, *dst;
	ims_transfer_opts opts;
	item *items;
	size_t n, cap;
	atomic_bool stop;
	pthread_t thread;
	bool running;
};

static bool removed(const ims_plan *p, const char *digest)
{
	for (size_t i = 0; i < p->nremovals; i++)
		if (!strcmp(p->removals[i].digest, digest))
			return true;
	return false;
}

static bool listed(const ims_prefetch *pf, const char *digest)
{
	for (size_t i = 0; i < pf->n; i++)
		if (!strcmp(pf->items[i].d->digest, digest))
			return true;
	return false;
}

static void *run(void *ud)
{
	ims_prefetch *pf = ud;
	for (size_t i = 0; i < pf->n && !atomic_load(&pf->stop); i++) {
		item *it = &pf->items[i];
		it->rc = ims_exec_copy_blob_if_missing(pf->src, pf->dst, it->d, &pf->opts, &it->action, &it->err);
		it->done = true;
		if (it->rc < 0)
			break; /* the build fails on it; the rest would be waste */
	}
	return NULL;
}

void ims_exec_prefetch_start(ims_prefetch **out, const ims_plan *p, const ims_base *base, ims_transport *target)
{
	*out = NULL;
	if (!target || !base->t || target->ref->kind != IMS_REF_REGISTRY || base->t->ref->kind != IMS_REF_REGISTRY)
		return;
	ims_prefetch *pf = xcalloc(1, sizeof(*pf));
	pf->src = base->t;
	pf->dst = target;
	pf->opts = (ims_transfer_opts){ .ignore_exists = p->ignore_exists, .mount = true };
	for (size_t i = 0; i < base->n; i++) {
		const ims_manifest *m = base->images[i].manifest;
		for (size_t k = 0; m && k < m->nlayers; k++) {
			const ims_descriptor *d = &m->layers[k];
			if (d->nurls || removed(p, d->digest) || listed(pf, d->digest))
				continue;
			pf->items = xgrow(pf->items, &pf->cap, pf->n + 1, sizeof(*pf->items));
			pf->items[pf->n++] = (item){ .d = d };
		}
	}
	atomic_init(&pf->stop, false);
	if (pf->n && pthread_create(&pf->thread, NULL, run, pf) == 0)
		pf->running = true;
	if (!pf->running) {
		/* nothing to do, or no thread: the platforms copy as before */
		ims_exec_prefetch_free(pf);
		return;
	}
	*out = pf;
}

void ims_exec_prefetch_finish(ims_prefetch *pf, bool stop)
{
	if (!pf || !pf->running)
		return;
	if (stop)
		atomic_store(&pf->stop, true);
	pthread_join(pf->thread, NULL);
	pf->running = false;
}

int ims_exec_prefetch_result(ims_prefetch *pf, const char *digest, ims_layer_action *action, ims_error **err)
{
	if (!pf)
		return 0;
	ims_exec_prefetch_finish(pf, false);
	for (size_t i = 0; i < pf->n; i++) {
		item *it = &pf->items[i];
		if (strcmp(it->d->digest, digest) || !it->done)
			continue;
		if (it->rc < 0) {
			if (err && !*err) {
				*err = it->err;
				it->err = NULL;
			}
			return it->rc;
		}
		*action = it->action;
		return 1;
	}
	return 0;
}

void ims_exec_prefetch_free(ims_prefetch *pf)
{
	if (!pf)
		return;
	ims_exec_prefetch_finish(pf, true);
	for (size_t i = 0; i < pf->n; i++)
		ims_error_free(pf->items[i].err);
	free(pf->items);
	free(pf);
}
