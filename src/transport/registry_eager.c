#include "transport/registry_eager.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest/digest.h"
#include "util/error.h"
#include "util/xalloc.h"

struct ims_eager_upload {
	ims_registry *reg;
	char *repo;
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more; /* avail grew, or commit, or abort */
	int64_t avail;       /* bytes in the file */
	int64_t sent;        /* bytes the stream has read (the thread's own) */
	bool committed, aborted;
	char digest[IMS_DIGEST_BUFSZ]; /* set by commit, read after it */
	int64_t size;
	int rc;
	ims_error *err;
	const ims_events *ev;
	char label[48];
	void (*finished)(void *);
	void *finished_ud;
};

static void tell(ims_eager_upload *u, int64_t done, int64_t total)
{
	if (u->ev)
		ims_events_progress(u->ev, u->label, done, total);
}

/* The stream's reader: what the writer has written so far, waiting for
 * more until commit or abort. Both end the body: a PATCH cut short leaves
 * the registry writing on after it answered the DELETE (distribution 2.8
 * then keeps the session's files), so an abort ends it cleanly, and the
 * empty digest has the session deleted. */
static ssize_t follow(void *ud, void *p, size_t n, ims_error **err)
{
	ims_eager_upload *u = ud;
	pthread_mutex_lock(&u->lock);
	while (u->sent >= u->avail && !u->committed && !u->aborted)
		pthread_cond_wait(&u->more, &u->lock);
	bool aborted = u->aborted, committed = u->committed;
	int64_t left = u->avail - u->sent;
	pthread_mutex_unlock(&u->lock);
	if (aborted || left <= 0)
		return 0;
	size_t want = (int64_t)n < left ? n : (size_t)left;
	ssize_t got = pread(u->fd, p, want, u->sent);
	if (got <= 0)
		return ims_error_sys(err, got < 0 ? errno : EIO, IMS_EGENERIC, "read back a spooled blob");
	u->sent += got;
	tell(u, u->sent, committed ? u->size : -1);
	return got;
}

static void on_progress(void *ud, int64_t done)
{
	ims_eager_upload *u = ud;
	tell(u, done < u->size ? done : u->size - 1, u->size);
}

static void *run(void *ud)
{
	ims_eager_upload *u = ud;
	ims_reader rd = { follow, NULL, u };
	ims_error *e = NULL;
	int rc = ims_registry_blob_upload_follow(u->reg, u->repo, &rd, u->digest, &e);
	pthread_mutex_lock(&u->lock);
	while (rc < 0 && !u->committed && !u->aborted)
		pthread_cond_wait(&u->more, &u->lock);
	bool again = rc < 0 && u->committed && !u->aborted;
	pthread_mutex_unlock(&u->lock);
	if (again) {
		/* The file is whole now: send it the way every registry takes. */
		if (u->ev)
			ims_events_info(u->ev, "the streamed upload of %s failed (%s); uploading it whole", u->digest,
					e && e->message ? e->message : "failed");
		ims_error_free(e);
		e = NULL;
		ims_registry_progress pg = { on_progress, u };
		rc = ims_registry_blob_upload_fd(u->reg, u->repo, u->digest, u->fd, u->size, u->ev ? &pg : NULL, &e);
	}
	tell(u, u->committed ? u->size : u->sent, u->committed ? u->size : u->sent);
	u->rc = rc;
	u->err = e;
	if (u->finished)
		u->finished(u->finished_ud);
	return NULL;
}

ims_eager_upload *ims_eager_start(ims_registry *reg, const char *repo, int fd, const ims_events *ev,
				  const char *label, void (*finished)(void *), void *finished_ud)
{
	ims_eager_upload *u = xcalloc(1, sizeof(*u));
	u->reg = reg;
	u->repo = xstrdup(repo);
	u->fd = fd;
	u->ev = ev && ev->cb ? ev : NULL;
	snprintf(u->label, sizeof(u->label), "%s", label);
	u->finished = finished;
	u->finished_ud = finished_ud;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->more, NULL);
	/* Signals stay with the threads that expect them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&u->thread, NULL, run, u);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&u->lock);
		pthread_cond_destroy(&u->more);
		free(u->repo);
		free(u);
		return NULL;
	}
	return u;
}

void ims_eager_grow(ims_eager_upload *u, int64_t n)
{
	pthread_mutex_lock(&u->lock);
	u->avail = n;
	pthread_cond_signal(&u->more);
	pthread_mutex_unlock(&u->lock);
}

void ims_eager_commit(ims_eager_upload *u, const char *digest, int64_t size)
{
	pthread_mutex_lock(&u->lock);
	snprintf(u->digest, sizeof(u->digest), "%s", digest);
	u->size = size;
	u->avail = size;
	u->committed = true;
	pthread_cond_signal(&u->more);
	pthread_mutex_unlock(&u->lock);
}

static void dispose(ims_eager_upload *u)
{
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->more);
	ims_error_free(u->err);
	free(u->repo);
	free(u);
}

void ims_eager_abort(ims_eager_upload *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->aborted = true;
	pthread_cond_signal(&u->more);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	dispose(u);
}

int ims_eager_wait(ims_eager_upload *u, ims_error **err)
{
	pthread_join(u->thread, NULL);
	int rc = u->rc;
	if (rc < 0)
		ims_error_pass(err, &u->err);
	close(u->fd);
	dispose(u);
	return rc;
}
