#include "util/fanout.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/xalloc.h"

typedef struct batch batch;
struct batch {
	void (*fn)(void *job);
	void *const *jobs;
	size_t n, next; /* jobs[next..n) are not taken yet */
	size_t left;    /* not done yet */
	batch *below;   /* the stack of batches with jobs, newest on top */
};

struct ims_fanout {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a batch pushed, a job done, or closing */
	batch *top;
	bool closing;
	pthread_t *threads;
	int nthreads;
};

int ims_usable_cpus(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

int ims_fanout_threads(int wanted)
{
	int cpus = ims_usable_cpus();
	return wanted < cpus ? wanted : cpus;
}

/* Takes the next job of the newest batch that has one (f->mu held). */
static bool take(ims_fanout *f, batch **b, void **job)
{
	for (batch **p = &f->top; *p; p = &(*p)->below) {
		if ((*p)->next < (*p)->n) {
			*b = *p;
			*job = (*p)->jobs[(*p)->next++];
			return true;
		}
	}
	return false;
}

/* Runs job of b (f->mu held on entry and on return). */
static void run_one(ims_fanout *f, batch *b, void *job)
{
	pthread_mutex_unlock(&f->mu);
	b->fn(job);
	pthread_mutex_lock(&f->mu);
	if (--b->left == 0)
		pthread_cond_broadcast(&f->cv);
}

static void *worker(void *ud)
{
	ims_fanout *f = ud;
	batch *b;
	void *job;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		if (take(f, &b, &job))
			run_one(f, b, job);
		else if (f->closing)
			break;
		else
			pthread_cond_wait(&f->cv, &f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

ims_fanout *ims_fanout_new(int threads)
{
	if (threads < 2)
		return NULL;
	ims_fanout *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->threads = xcalloc((size_t)threads - 1, sizeof(*f->threads));
	for (int i = 0; i < threads - 1; i++) {
		if (pthread_create(&f->threads[f->nthreads], NULL, worker, f) != 0)
			break;
		f->nthreads++;
	}
	if (!f->nthreads) {
		ims_fanout_free(f);
		return NULL;
	}
	return f;
}

void ims_fanout_run(ims_fanout *f, void (*fn)(void *job), void *const *jobs, size_t n)
{
	if (!f || n < 2) {
		for (size_t i = 0; i < n; i++)
			fn(jobs[i]);
		return;
	}
	batch mine = { fn, jobs, n, 0, n, NULL };
	pthread_mutex_lock(&f->mu);
	mine.below = f->top;
	f->top = &mine;
	pthread_cond_broadcast(&f->cv);
	/* The caller runs jobs of its own batch only: another batch's job
	 * could wait on a batch of its own in turn, and so on, each on this
	 * thread's stack. Its own can always finish this way (as one thread
	 * would run them), so the wait never depends on a job nobody runs. */
	while (mine.left > 0) {
		if (mine.next < mine.n)
			run_one(f, &mine, mine.jobs[mine.next++]);
		else
			pthread_cond_wait(&f->cv, &f->mu);
	}
	/* Off the stack before the frame goes: every job is taken, but a
	 * newer batch may have been pushed on top of this one meanwhile. */
	for (batch **p = &f->top; *p; p = &(*p)->below) {
		if (*p == &mine) {
			*p = mine.below;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
}

void ims_fanout_free(ims_fanout *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->closing = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < f->nthreads; i++)
		pthread_join(f->threads[i], NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->threads);
	free(f);
}
