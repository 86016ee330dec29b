/* A fan-out of small jobs on a few threads, for work that splits as it
 * goes (a tree walk, whose directories split again): ims_fanout_run hands
 * a batch of jobs to the pool and returns once every one of them is done.
 * While it waits, the calling thread runs the jobs of its batch that no
 * worker has taken, so a job may run a batch of its own: each batch can
 * finish on its caller's thread alone, and nesting cannot deadlock. It
 * runs no other batch's jobs, so a thread's stack holds no more batches
 * than the nesting of its own jobs. Workers take jobs from the newest
 * batch first (depth first, as a serial walk goes), each batch's in
 * order. Each job writes its own result, and the caller
 * reads them in order once ims_fanout_run has returned: the threads change
 * when a job runs, never what the caller makes of the results. */
#ifndef IMS_UTIL_FANOUT_H
#define IMS_UTIL_FANOUT_H

#include <stddef.h>

typedef struct ims_fanout ims_fanout;

/* The CPUs this process may run on (its affinity mask; 1 when unknown):
 * threads beyond it would only hold more memory. */
int ims_usable_cpus(void);
/* wanted threads (-j), at most ims_usable_cpus(). */
int ims_fanout_threads(int wanted);

/* A pool where threads jobs run at once, the caller's thread counted (so
 * threads - 1 are started). NULL when threads < 2, or when no thread could
 * be started: ims_fanout_run then runs the jobs itself, in order. */
ims_fanout *ims_fanout_new(int threads);

/* Runs fn(jobs[i]) for every i < n, on the pool's threads and this one;
 * returns when all are done. f may be NULL. Any thread may call it, a
 * job's included. */
void ims_fanout_run(ims_fanout *f, void (*fn)(void *job), void *const *jobs, size_t n);

/* Stops the pool's threads (no batch may be running) and frees it;
 * NULL-safe. */
void ims_fanout_free(ims_fanout *f);

#endif
