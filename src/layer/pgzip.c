#include "layer/pgzip.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "layer/gzblock.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A block's life: filled by the caller (FREE while it is), QUEUED for a
 * worker, RUNNING, DONE, then written out by the caller and FREE again.
 * Slots are used round the ring in input order, so the oldest block is
 * always at `emit` and the next one for a worker at `take`. */
typedef enum { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE } slot_state;

typedef struct {
	unsigned char *in; /* IMS_PGZIP_BLOCK bytes */
	size_t len;
	bool last;
	slot_state state;
	ims_gzblock_status status;
	ims_gzblock_out out;
} slot;

/* A block compressor, made on first use (a layer of one block never makes
 * one per thread). */
typedef struct {
	ims_gzblock b;
	bool made;
} deflater;

struct ims_pgzip {
	ims_sink next;
	int level;
	int max_threads;
	slot *slots;
	size_t nslots;
	size_t fill, emit, take; /* ring indexes */
	size_t in_flight;        /* slots not FREE, plus the one being filled */

	pthread_mutex_t lock;
	pthread_cond_t work; /* a block was queued, or stop */
	pthread_cond_t done; /* a block was compressed */
	pthread_t *threads;
	int nthreads, waiting;
	bool stop;

	deflater self; /* the caller's, while no worker runs */
	unsigned long crc;
	uint64_t total;
	bool header_done, finished, broken;
	ims_pgzip_stats st;
};

static void deflater_run(deflater *d, int level, slot *s)
{
	if (!d->made) {
		ims_gzblock_init(&d->b, level);
		d->made = true;
	}
	s->status = ims_gzblock_deflate(&d->b, s->in, s->len, s->last, &s->out);
}

static void deflater_end(deflater *d)
{
	if (d->made)
		ims_gzblock_dispose(&d->b);
	d->made = false;
}

static void *worker(void *ud)
{
	ims_pgzip *g = ud;
	deflater d = { .made = false };
	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (!g->stop && g->slots[g->take].state != SLOT_QUEUED) {
			g->waiting++;
			pthread_cond_wait(&g->work, &g->lock);
			g->waiting--;
		}
		if (g->stop)
			break;
		slot *s = &g->slots[g->take];
		g->take = (g->take + 1) % g->nslots;
		s->state = SLOT_RUNNING;
		pthread_mutex_unlock(&g->lock);
		deflater_run(&d, g->level, s);
		pthread_mutex_lock(&g->lock);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	deflater_end(&d);
	return NULL;
}

int ims_pgzip_new(ims_pgzip **out, int level, int threads, const ims_sink *next, ims_error **err)
{
	if (level < 0 || level > 9)
		return ims_error_set(err, IMS_EINVALID, "gzip level %d is out of range (0-9)", level);
	ims_pgzip *g = xcalloc(1, sizeof(*g));
	g->next = *next;
	g->level = level;
	g->max_threads = threads < 1 ? 1 : threads > IMS_PGZIP_MAX_THREADS ? IMS_PGZIP_MAX_THREADS : threads;
	/* Two blocks a thread: one being compressed, one queued behind it
	 * (or done, waiting for an older, slower block to be written). */
	g->nslots = 2 * (size_t)g->max_threads;
	g->slots = xcalloc(g->nslots, sizeof(slot));
	g->slots[0].in = xmalloc(IMS_PGZIP_BLOCK);
	g->threads = xcalloc((size_t)g->max_threads, sizeof(pthread_t));
	g->in_flight = 1;
	g->st.slots = g->nslots;
	g->st.max_in_flight = 1;
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->done, NULL);
	*out = g;
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The header zlib writes for windowBits 31 without deflateSetHeader: no
 * name, mtime 0, XFL from the level, OS 3 (Unix). The OS byte is fixed
 * rather than zlib's build-time guess, so that the bytes are the same on
 * every system. */
static int write_header(ims_pgzip *g, ims_error **err)
{
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	h[8] = g->level == 9 ? 2 : g->level < 2 ? 4 : 0;
	g->header_done = true;
	return ims_sink_write(&g->next, h, sizeof(h), err);
}

/* Writes the oldest block, which is DONE, and frees its slot. */
static int emit_one(ims_pgzip *g, ims_error **err)
{
	slot *s = &g->slots[g->emit];
	int r = 0;
	if (s->status != IMS_GZBLOCK_OK)
		r = ims_error_set(err, IMS_EGENERIC, "gzip: %s", ims_gzblock_strerror(s->status));
	if (r == 0 && !g->header_done)
		r = write_header(g, err);
	if (r == 0)
		r = ims_sink_write(&g->next, s->out.p, s->out.len, err);
	if (r < 0) {
		g->broken = true;
		return r;
	}
	g->crc = crc32_combine(g->crc, s->out.crc, (z_off_t)s->len);
	g->total += s->len;
	g->st.blocks++;
	g->st.stored += s->out.stored;
	pthread_mutex_lock(&g->lock);
	s->state = SLOT_FREE; /* its buffers stay, for the block that uses the slot next */
	g->in_flight--;
	g->emit = (g->emit + 1) % g->nslots;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* Writes the blocks that are done, in order; with wait, waits for the
 * oldest one first. */
static int emit_ready(ims_pgzip *g, bool wait, ims_error **err)
{
	for (;;) {
		pthread_mutex_lock(&g->lock);
		while (wait && g->slots[g->emit].state != SLOT_DONE)
			pthread_cond_wait(&g->done, &g->lock);
		bool ready = g->slots[g->emit].state == SLOT_DONE;
		pthread_mutex_unlock(&g->lock);
		if (!ready)
			return 0;
		int r = emit_one(g, err);
		if (r < 0)
			return r;
		wait = false;
	}
}

/* Hands the block being filled to a worker, or compresses it here when no
 * worker runs (one thread, or none could be started). */
static void queue(ims_pgzip *g, bool last)
{
	slot *s = &g->slots[g->fill];
	s->last = last;
	pthread_mutex_lock(&g->lock);
	size_t queued = 1;
	for (size_t i = g->take; i != g->fill; i = (i + 1) % g->nslots)
		queued += g->slots[i].state == SLOT_QUEUED;
	if (queued > (size_t)g->waiting && g->nthreads < g->max_threads && g->max_threads > 1 &&
	    pthread_create(&g->threads[g->nthreads], NULL, worker, g) == 0)
		g->nthreads++;
	g->st.threads = g->nthreads;
	bool here = g->nthreads == 0;
	s->state = here ? SLOT_RUNNING : SLOT_QUEUED;
	if (here)
		g->take = (g->take + 1) % g->nslots;
	else
		pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->lock);
	if (here) {
		deflater_run(&g->self, g->level, s);
		pthread_mutex_lock(&g->lock);
		s->state = SLOT_DONE;
		pthread_mutex_unlock(&g->lock);
	}
}

/* Queues the full block and starts the next one, once the next slot is
 * free. */
static int next_block(ims_pgzip *g, ims_error **err)
{
	queue(g, false);
	size_t n = (g->fill + 1) % g->nslots;
	int r = emit_ready(g, false, err);
	while (r == 0 && g->slots[n].state != SLOT_FREE)
		r = emit_ready(g, true, err);
	if (r < 0)
		return r;
	slot *t = &g->slots[n];
	if (!t->in)
		t->in = xmalloc(IMS_PGZIP_BLOCK);
	t->len = 0;
	g->fill = n;
	g->in_flight++;
	if (g->in_flight > g->st.max_in_flight)
		g->st.max_in_flight = g->in_flight;
	return 0;
}

int ims_pgzip_write(ims_pgzip *g, const void *p, size_t n, ims_error **err)
{
	if (g->broken || g->finished)
		return ims_error_set(err, IMS_EGENERIC, "gzip: the stream is no longer usable");
	const unsigned char *in = p;
	while (n > 0) {
		slot *s = &g->slots[g->fill];
		size_t k = IMS_PGZIP_BLOCK - s->len;
		if (k > n)
			k = n;
		memcpy(s->in + s->len, in, k);
		s->len += k;
		in += k;
		n -= k;
		/* A full block waits for more input before it is queued, so
		 * that the last block of the stream is never empty. */
		if (n > 0 && s->len == IMS_PGZIP_BLOCK) {
			int r = next_block(g, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ims_pgzip_finish(ims_pgzip *g, ims_error **err)
{
	if (g->finished && !g->broken)
		return 0;
	if (g->broken)
		return ims_error_set(err, IMS_EGENERIC, "gzip: the stream is no longer usable");
	g->finished = true;
	queue(g, true);
	int r = 0;
	while (r == 0 && g->in_flight > 0)
		r = emit_ready(g, true, err);
	if (r < 0)
		return r;
	unsigned char t[8];
	put_le32(t, (uint32_t)g->crc);
	put_le32(t + 4, (uint32_t)g->total);
	r = ims_sink_write(&g->next, t, sizeof(t), err);
	if (r < 0)
		g->broken = true;
	return r;
}

void ims_pgzip_get_stats(const ims_pgzip *g, ims_pgzip_stats *st)
{
	*st = g->st;
}

void ims_pgzip_free(ims_pgzip *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_broadcast(&g->work);
	pthread_mutex_unlock(&g->lock);
	for (int i = 0; i < g->nthreads; i++)
		pthread_join(g->threads[i], NULL);
	deflater_end(&g->self);
	for (size_t i = 0; i < g->nslots; i++) {
		free(g->slots[i].in);
		ims_gzblock_out_dispose(&g->slots[i].out);
	}
	free(g->slots);
	free(g->threads);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->work);
	pthread_cond_destroy(&g->done);
	free(g);
}
