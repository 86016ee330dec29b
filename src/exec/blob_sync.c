/* A few threads making blobs present in a target (blob_sync.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "exec/blob_sync.h"
#include "util/error.h"
#include "util/xalloc.h"

#define THREADS_MAX 8

typedef struct {
	const ims_descriptor *d;
	bool done;
	int rc;
	ims_layer_action action;
	ims_error *err;
} item;

struct ims_blob_sync {
	ims_transport *src, *dst;
	ims_transfer_opts opts;
	item *items;
	size_t n, cap;
	atomic_size_t next; /* the next item a thread takes */
	atomic_bool stop;   /* the caller failed, or an item did */
	pthread_t threads[THREADS_MAX];
	int want, nthreads;
};

bool ims_exec_blob_sync_possible(const ims_transport *src, const ims_transport *dst)
{
	return src && dst && src->ref->kind == IMS_REF_REGISTRY && dst->ref->kind == IMS_REF_REGISTRY;
}

ims_blob_sync *ims_exec_blob_sync_new(ims_transport *src, ims_transport *dst, const ims_transfer_opts *o,
				      int threads)
{
	ims_blob_sync *s = xcalloc(1, sizeof(*s));
	s->src = src;
	s->dst = dst;
	s->opts = *o;
	s->want = threads < 1 ? 1 : threads > THREADS_MAX ? THREADS_MAX : threads;
	atomic_init(&s->next, 0);
	atomic_init(&s->stop, false);
	return s;
}

void ims_exec_blob_sync_add(ims_blob_sync *s, const ims_descriptor *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].d->digest, d->digest))
			return;
	s->items = xgrow(s->items, &s->cap, s->n + 1, sizeof(*s->items));
	s->items[s->n++] = (item){ .d = d };
}

size_t ims_exec_blob_sync_count(const ims_blob_sync *s)
{
	return s->n;
}

static void *worker(void *ud)
{
	ims_blob_sync *s = ud;
	while (!atomic_load(&s->stop)) {
		size_t i = atomic_fetch_add(&s->next, 1);
		if (i >= s->n)
			break;
		item *it = &s->items[i];
		it->rc = ims_exec_copy_blob_if_missing(s->src, s->dst, it->d, &s->opts, &it->action, &it->err);
		it->done = true;
		if (it->rc < 0)
			atomic_store(&s->stop, true); /* the caller fails on it; the rest would be waste */
	}
	return NULL;
}

bool ims_exec_blob_sync_run(ims_blob_sync *s)
{
	int want = (size_t)s->want < s->n ? s->want : (int)s->n;
	while (s->nthreads < want && pthread_create(&s->threads[s->nthreads], NULL, worker, s) == 0)
		s->nthreads++;
	return s->nthreads > 0;
}

void ims_exec_blob_sync_finish(ims_blob_sync *s, bool stop)
{
	if (!s)
		return;
	if (stop)
		atomic_store(&s->stop, true);
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	s->nthreads = 0;
}

int ims_exec_blob_sync_result(ims_blob_sync *s, const char *digest, ims_layer_action *action, ims_error **err)
{
	if (!s)
		return 0;
	ims_exec_blob_sync_finish(s, false);
	for (size_t i = 0; i < s->n; i++) {
		item *it = &s->items[i];
		if (strcmp(it->d->digest, digest) || !it->done)
			continue;
		if (it->rc < 0) {
			ims_error_pass(err, &it->err);
			return it->rc;
		}
		*action = it->action;
		return 1;
	}
	return 0;
}

void ims_exec_blob_sync_free(ims_blob_sync *s)
{
	if (!s)
		return;
	ims_exec_blob_sync_finish(s, true);
	for (size_t i = 0; i < s->n; i++)
		ims_error_free(s->items[i].err);
	free(s->items);
	free(s);
}

int ims_exec_copy_image_blobs(ims_transport *src, ims_transport *dst, const ims_manifest *m,
			      const ims_transfer_opts *o, int jobs, ims_error **err)
{
	ims_blob_sync *s = NULL;
	if (ims_exec_blob_sync_possible(src, dst)) {
		s = ims_exec_blob_sync_new(src, dst, o, jobs);
		ims_exec_blob_sync_add(s, &m->config);
		for (size_t i = 0; i < m->nlayers; i++)
			ims_exec_blob_sync_add(s, &m->layers[i]);
		if (!ims_exec_blob_sync_run(s)) {
			ims_exec_blob_sync_free(s);
			s = NULL; /* no thread: one at a time, below */
		}
	}
	int r = 0;
	for (size_t i = 0; i <= m->nlayers && r >= 0; i++) {
		const ims_descriptor *d = i ? &m->layers[i - 1] : &m->config;
		ims_layer_action a;
		r = ims_exec_blob_sync_result(s, d->digest, &a, err);
		if (r == 0)
			r = ims_exec_copy_blob_if_missing(src, dst, d, o, &a, err);
		if (r < 0 && i)
			ims_error_wrap(err, "layer %s", d->digest);
	}
	ims_exec_blob_sync_free(s);
	return r < 0 ? r : 0;
}
