#include "transport/registry_ahead.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/digest.h"
#include "util/xalloc.h"

enum { QUEUED, ASKING, TAKEN, ABSENT, PRESENT, FAILED };

typedef struct {
	char digest[IMS_DIGEST_BUFSZ];
	int state;
} ahead_blob;

struct ims_blob_ahead {
	ahead_blob *v;
	size_t n;
	ims_blob_ahead_ask ask;
	void *ud;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t answered;
	bool stop;
};

static ahead_blob *find(ims_blob_ahead *a, const char *digest)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].digest, digest))
			return &a->v[i];
	return NULL;
}

static void *run(void *ud)
{
	ims_blob_ahead *a = ud;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n && !a->stop; i++) {
		ahead_blob *b = &a->v[i];
		if (b->state != QUEUED)
			continue; /* the caller took it over */
		b->state = ASKING;
		pthread_mutex_unlock(&a->lock);
		bool exists = false;
		int r = a->ask(a->ud, b->digest, &exists);
		pthread_mutex_lock(&a->lock);
		b->state = r < 0 ? FAILED : exists ? PRESENT : ABSENT;
		pthread_cond_broadcast(&a->answered);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

ims_blob_ahead *ims_blob_ahead_start(const char *const *digests, size_t n, ims_blob_ahead_ask ask, void *ud)
{
	if (!n)
		return NULL;
	ims_blob_ahead *a = xcalloc(1, sizeof(*a));
	a->v = xcalloc(n, sizeof(*a->v));
	for (size_t i = 0; i < n; i++) {
		if (find(a, digests[i]))
			continue; /* a blob named twice is asked once */
		snprintf(a->v[a->n].digest, sizeof(a->v[a->n].digest), "%s", digests[i]);
		a->v[a->n++].state = QUEUED;
	}
	a->ask = ask;
	a->ud = ud;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->answered, NULL);
	if (pthread_create(&a->thread, NULL, run, a) != 0) {
		pthread_cond_destroy(&a->answered);
		pthread_mutex_destroy(&a->lock);
		free(a->v);
		free(a);
		return NULL;
	}
	return a;
}

int ims_blob_ahead_take(ims_blob_ahead *a, const char *digest)
{
	if (!a)
		return IMS_AHEAD_ASK;
	int answer = IMS_AHEAD_ASK;
	pthread_mutex_lock(&a->lock);
	ahead_blob *b = find(a, digest);
	while (b && b->state == ASKING)
		pthread_cond_wait(&a->answered, &a->lock);
	if (b && b->state == QUEUED)
		b->state = TAKEN;
	else if (b && b->state == PRESENT)
		answer = IMS_AHEAD_PRESENT;
	else if (b && b->state == ABSENT)
		answer = IMS_AHEAD_ABSENT;
	pthread_mutex_unlock(&a->lock);
	return answer;
}

void ims_blob_ahead_free(ims_blob_ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_cond_destroy(&a->answered);
	pthread_mutex_destroy(&a->lock);
	free(a->v);
	free(a);
}
