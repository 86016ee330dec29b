#include "util/async_sink.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

typedef struct {
	unsigned char *p;
	size_t len;
} abuf;

/* The buffers form a ring: [head, tail) are full and queued for the
 * thread (head is the one it writes), tail is the caller's, being filled.
 * The caller moves tail on only when the buffer after it is not queued. */
struct ims_async_sink {
	ims_sink sink; /* the caller's side */
	ims_sink next;
	abuf *bufs;
	size_t nbufs, bufsz;
	size_t head, tail;
	pthread_mutex_t lock;
	pthread_cond_t work;  /* a buffer was queued, or stop */
	pthread_cond_t space; /* a buffer was written */
	pthread_t thread;
	bool running;   /* thread was started and not yet joined */
	bool stop;      /* no more buffers will come */
	bool drop;      /* freed unfinished: write nothing more */
	bool finished;  /* ims_async_sink_finish was called */
	ims_error *err; /* the next sink's first error; set once, by the thread */
	int code;
};

static void *drain(void *ud)
{
	ims_async_sink *a = ud;
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (a->head == a->tail && !a->stop)
			pthread_cond_wait(&a->work, &a->lock);
		if (a->head == a->tail)
			break;
		abuf *b = &a->bufs[a->head];
		bool skip = a->drop || a->code < 0;
		pthread_mutex_unlock(&a->lock);
		ims_error *e = NULL;
		int r = skip ? 0 : ims_sink_write(&a->next, b->p, b->len, &e);
		pthread_mutex_lock(&a->lock);
		if (r < 0) {
			a->code = r;
			a->err = e;
		}
		b->len = 0;
		a->head = (a->head + 1) % a->nbufs;
		pthread_cond_signal(&a->space);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* The thread's error for the caller (a copy: it is reported again by
 * every later call). */
static int failed(ims_async_sink *a, ims_error **err)
{
	const ims_error *e = a->err;
	if (!e)
		return ims_error_set(err, a->code, "writing failed");
	int r = ims_error_set(err, a->code, "%s", e->message);
	if (err && *err) {
		(*err)->sys_errno = e->sys_errno;
		(*err)->http_status = e->http_status;
		if (e->hint)
			ims_error_hint(err, "%s", e->hint);
	}
	return r;
}

/* Queues the caller's buffer and takes the next one, waiting for it to
 * be written when the ring is full. */
static int hand_off(ims_async_sink *a, ims_error **err)
{
	pthread_mutex_lock(&a->lock);
	size_t next = (a->tail + 1) % a->nbufs;
	while (next == a->head && a->code == 0)
		pthread_cond_wait(&a->space, &a->lock);
	int code = a->code;
	if (code == 0) {
		a->tail = next;
		pthread_cond_signal(&a->work);
	}
	pthread_mutex_unlock(&a->lock);
	return code < 0 ? failed(a, err) : 0;
}

static int async_write(void *ud, const void *p, size_t n, ims_error **err)
{
	ims_async_sink *a = ud;
	if (a->finished)
		return ims_error_set(err, IMS_EGENERIC, "write after the end of the stream");
	pthread_mutex_lock(&a->lock);
	int code = a->code;
	pthread_mutex_unlock(&a->lock);
	if (code < 0)
		return failed(a, err);
	const unsigned char *in = p;
	while (n > 0) {
		abuf *b = &a->bufs[a->tail];
		size_t k = a->bufsz - b->len;
		if (k > n)
			k = n;
		memcpy(b->p + b->len, in, k);
		b->len += k;
		in += k;
		n -= k;
		if (b->len == a->bufsz) {
			int r = hand_off(a, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ims_async_sink_new(ims_async_sink **out, const ims_sink *next, size_t bufsz, size_t nbufs, ims_error **err)
{
	ims_async_sink *a = xcalloc(1, sizeof(*a));
	a->next = *next;
	a->bufsz = bufsz ? bufsz : 1;
	a->nbufs = nbufs < 2 ? 2 : nbufs;
	a->bufs = xcalloc(a->nbufs, sizeof(*a->bufs));
	for (size_t i = 0; i < a->nbufs; i++)
		a->bufs[i].p = xmalloc(a->bufsz);
	a->sink = (ims_sink){ async_write, a };
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->space, NULL);
	int e = pthread_create(&a->thread, NULL, drain, a);
	if (e) {
		ims_async_sink_free(a);
		return ims_error_sys(err, e, IMS_EGENERIC, "start a writer thread");
	}
	a->running = true;
	*out = a;
	return 0;
}

ims_sink *ims_async_sink_sink(ims_async_sink *a)
{
	return &a->sink;
}

/* Lets the thread end once the queue is empty, and waits for it. */
static void stop(ims_async_sink *a)
{
	if (!a->running)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	a->running = false;
}

int ims_async_sink_finish(ims_async_sink *a, ims_error **err)
{
	if (a->finished)
		return ims_error_set(err, IMS_EGENERIC, "the stream was finished already");
	int r = a->bufs[a->tail].len ? hand_off(a, err) : 0;
	a->finished = true;
	stop(a);
	if (r == 0 && a->code < 0)
		r = failed(a, err);
	return r;
}

void ims_async_sink_free(ims_async_sink *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->drop = true;
	pthread_mutex_unlock(&a->lock);
	stop(a);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->space);
	for (size_t i = 0; i < a->nbufs; i++)
		free(a->bufs[i].p);
	free(a->bufs);
	ims_error_free(a->err);
	free(a);
}
