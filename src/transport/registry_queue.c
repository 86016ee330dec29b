/* The upload workers. The registry client is shared with them: its scheme
 * decision is locked, and the http and auth rooms are built for threads. */
#include "transport/registry_queue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/xalloc.h"

#define QUEUE_MAX_JOBS 32

typedef struct job {
	struct job *next;
	int fd;
	char digest[IMS_DIGEST_BUFSZ];
	int64_t size;
} job;

struct ims_upload_queue {
	ims_registry *reg;
	char *repo;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* a job finished */
	job *head, *tail;
	size_t pending, running;
	bool stop;
	pthread_t *threads;
	int nthreads, max, waiting;
	ims_error *failures; /* one line per failed blob; sticky */
	const ims_events *ev;
	ims_upload_slots *slots;
};

struct ims_upload_slots {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int free;
};

ims_upload_slots *ims_upload_slots_new(int n)
{
	ims_upload_slots *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	s->free = n < 1 ? 1 : n;
	return s;
}

void ims_upload_slots_free(ims_upload_slots *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	free(s);
}

bool ims_upload_slots_try(ims_upload_slots *s)
{
	pthread_mutex_lock(&s->lock);
	bool got = s->free > 0;
	if (got)
		s->free--;
	pthread_mutex_unlock(&s->lock);
	return got;
}

void ims_upload_slots_take(ims_upload_slots *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->free == 0)
		pthread_cond_wait(&s->freed, &s->lock);
	s->free--;
	pthread_mutex_unlock(&s->lock);
}

void ims_upload_slots_give(void *ud)
{
	ims_upload_slots *s = ud;
	pthread_mutex_lock(&s->lock);
	s->free++;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

typedef struct {
	const ims_events *ev;
	char label[40];
	int64_t size;
} upload_progress;

static void on_progress(void *ud, int64_t done)
{
	upload_progress *u = ud;
	ims_events_progress(u->ev, u->label, done < u->size ? done : u->size - 1, u->size);
}

static void run(ims_upload_queue *q, job *j)
{
	ims_error *e = NULL;
	/* "uploading sha256:0123456789ab": the end comes once the registry
	 * has taken the blob, not when the last byte left. */
	upload_progress u = { q->ev, "", j->size };
	snprintf(u.label, sizeof(u.label), "uploading %.19s", j->digest);
	ims_registry_progress pg = { on_progress, &u };
	bool tell = q->ev && q->ev->cb && j->size > 0;
	int rc = ims_registry_blob_upload_fd(q->reg, q->repo, j->digest, j->fd, j->size, tell ? &pg : NULL, &e);
	if (tell)
		ims_events_progress(q->ev, u.label, j->size, j->size);
	close(j->fd);
	pthread_mutex_lock(&q->lock);
	if (rc < 0) {
		ims_error_append(&q->failures, e ? e->code : rc, "%s", e ? e->message : "upload failed");
		if (q->failures && !q->failures->http_status && e)
			q->failures->http_status = e->http_status;
	}
	pthread_mutex_unlock(&q->lock);
	ims_error_free(e);
	free(j);
}

static void *worker(void *ud)
{
	ims_upload_queue *q = ud;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->stop) {
			q->waiting++;
			pthread_cond_wait(&q->work, &q->lock);
			q->waiting--;
		}
		if (!q->head)
			break;
		job *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		q->pending--;
		q->running++;
		pthread_mutex_unlock(&q->lock);
		if (q->slots)
			ims_upload_slots_take(q->slots);
		run(q, j);
		if (q->slots)
			ims_upload_slots_give(q->slots);
		pthread_mutex_lock(&q->lock);
		q->running--;
		pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

ims_upload_queue *ims_upload_queue_new(ims_registry *reg, const char *repo, int jobs, ims_upload_slots *slots,
				       const ims_events *ev)
{
	ims_upload_queue *q = xcalloc(1, sizeof(*q));
	q->ev = ev;
	q->slots = slots;
	q->reg = reg;
	q->repo = xstrdup(repo);
	q->max = jobs < 1 ? 1 : jobs > QUEUE_MAX_JOBS ? QUEUE_MAX_JOBS : jobs;
	q->threads = xcalloc((size_t)q->max, sizeof(pthread_t));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->idle, NULL);
	return q;
}

void ims_upload_queue_add(ims_upload_queue *q, int fd, const char *digest, int64_t size)
{
	job *j = xcalloc(1, sizeof(*j));
	j->fd = fd;
	snprintf(j->digest, sizeof(j->digest), "%s", digest);
	j->size = size;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->pending++;
	/* One more thread whenever the idle ones cannot take every job. */
	if (q->pending > (size_t)q->waiting && q->nthreads < q->max &&
	    pthread_create(&q->threads[q->nthreads], NULL, worker, q) == 0)
		q->nthreads++;
	bool inline_run = q->nthreads == 0; /* no thread could be made */
	if (inline_run) {
		q->head = q->tail = NULL;
		q->pending = 0;
		q->running++;
	}
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->lock);
	if (inline_run) {
		run(q, j);
		pthread_mutex_lock(&q->lock);
		q->running--;
		pthread_mutex_unlock(&q->lock);
	}
}

int ims_upload_queue_wait(ims_upload_queue *q, ims_error **err)
{
	pthread_mutex_lock(&q->lock);
	while (q->head || q->running)
		pthread_cond_wait(&q->idle, &q->lock);
	int rc = 0;
	if (q->failures) {
		rc = q->failures->code;
		if (err && !*err) {
			ims_error_set(err, rc, "%s", q->failures->message);
			(*err)->http_status = q->failures->http_status;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void ims_upload_queue_free(ims_upload_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	while (q->head) {
		job *j = q->head;
		q->head = j->next;
		close(j->fd);
		free(j);
	}
	q->tail = NULL;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->idle);
	ims_error_free(q->failures);
	free(q->threads);
	free(q->repo);
	free(q);
}
