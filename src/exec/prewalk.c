#include "exec/prewalk.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "exec/layer_cache.h"
#include "exec/skips.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/event.h"
#include "util/fanout.h"
#include "util/xalloc.h"

struct ims_prewalk {
	const ims_step *s;
	ims_exec_skips skips;
	ims_layer_opts o;
	ims_fanout *pool;    /* o.pool: the walk's and the hashing's threads */
	ims_events_log said; /* o.ev: what the walk says (its thread only; read once joined) */
	atomic_bool stop;
	pthread_t thread;
	bool joined;
	bool taken;          /* once */
	bool verbose;        /* say, when taken, that the walk was made ahead */
	ims_layer_files *lf; /* the walk's listing, until taken */
	int r;
	ims_error *err;
	/* the stat table of the spec's directory, read beside the walk */
	ims_cache *cache;
	const char *stats_root;
	pthread_t stats_thread;
	bool stats_running;
	ims_cache_stats *stats; /* until taken */
	/* hashing ahead (hash_ahead): set before the walk starts */
	bool remote;   /* the plan reads caches shared through a registry */
	bool readonly; /* a dry run: the table learns nothing */
	size_t hashed; /* files hashed ahead (the walk thread's; read once joined) */
};

static bool stats_lookup(void *ud, const char *path, const struct stat *st, char digest[IMS_DIGEST_BUFSZ])
{
	return ims_cache_stats_lookup(((ims_prewalk *)ud)->stats, path, st, digest);
}

static void stats_learn(void *ud, const char *path, const struct stat *st, const char *digest)
{
	ims_cache_stats_learn(((ims_prewalk *)ud)->stats, path, st, digest);
}

static bool stats_seen(void *ud, const char *path, const struct stat *st)
{
	return ims_cache_stats_seen(((ims_prewalk *)ud)->stats, path, st);
}

/* The walked files the stat table does not know are hashed here, on the
 * walk's thread, when the layer step would hash them before it knows its
 * recipe (ims_exec_recipe's rule): with a cache shared through a registry
 * to read, always (a fresh runner), and with the local cache alone when
 * the table has seen every such file (a fresh clone). The step would wait
 * for the registries first; this hashing overlaps their round trips. A
 * file that cannot be hashed is left for the step, which hashes what is
 * left and says why it cannot; a remote cache that turns out unreadable
 * makes the step build the layer, reading the files a second time. */
static void hash_ahead(ims_prewalk *w)
{
	if (w->stats_running) /* the table, read on its own thread */
		pthread_join(w->stats_thread, NULL);
	else if (w->stats_root && !w->stats) /* that thread could not start */
		w->stats = ims_cache_stats_load(w->cache, w->stats_root);
	w->stats_running = false;
	ims_layer_hashes h = { stats_lookup, w->readonly ? NULL : stats_learn, stats_seen, w };
	size_t unseen = 0, unknown = ims_layer_files_known(w->lf, &h, &unseen);
	if (unknown == 0 || !ims_exec_hash_first(w->remote, w->cache != NULL, unseen))
		return;
	ims_error *e = NULL;
	if (ims_layer_files_hash(w->lf, &h, &e) == 0)
		w->hashed = unknown;
	ims_error_free(e);
}

static void *walk(void *ud)
{
	ims_prewalk *w = ud;
	w->r = ims_layer_files_prepare(&w->lf, w->s->maps, w->s->nmaps, &w->o, &w->err);
	if (w->r >= 0)
		hash_ahead(w);
	return NULL;
}

static void *load_stats(void *ud)
{
	ims_prewalk *w = ud;
	w->stats = ims_cache_stats_load(w->cache, w->stats_root);
	return NULL;
}

/* The walk leaves the cache directory out by its inode (exec/skips.c), so
 * a missing one is made first (ims_cache_open), as the base's load would
 * make it next. A cache that cannot be opened (that load says why) means
 * no walk ahead. */
static bool cache_ready(const ims_exec_env *env, ims_cache **c)
{
	*c = NULL;
	ims_error *e = NULL;
	if (env->cache_dir && ims_cache_open(c, env->cache_dir, env->cache_max, &e) < 0) {
		ims_error_free(e);
		return false;
	}
	return true;
}

static bool wanted(const ims_plan *p)
{
	return p->nsteps > 0 && p->steps[0].kind == IMS_STEP_FILES && !p->steps[0].per_platform && p->target &&
	       p->target->kind == IMS_REF_REGISTRY;
}

ims_prewalk *ims_prewalk_start(const ims_exec_env *env, const ims_plan *p, bool readonly)
{
	ims_cache *cache;
	if (!wanted(p) || !cache_ready(env, &cache))
		return NULL;
	ims_prewalk *w = xcalloc(1, sizeof(*w));
	w->cache = cache;
	w->remote = p->ncache_from > 0;
	w->readonly = readonly;
	w->s = &p->steps[0];
	w->verbose = env->verbose > 0;
	ims_exec_skips_collect(&w->skips, env, p);
	ims_exec_walk_opts(&w->o, p, w->s, &w->skips);
	w->o.threads = env->jobs; /* as the step's own walk would split */
	/* Started here, before the session loads libcurl: a thread the walk
	 * started at its first split would wait for that dlopen to end (glibc
	 * gives a new thread its TLS under the loader's lock); in the
	 * benchmark's unchanged rebuild, the walk's second thread waited
	 * about 9 ms in pthread_create. */
	w->pool = ims_fanout_new(ims_fanout_threads(env->jobs));
	w->o.pool = w->pool;
	ims_events_log_init(&w->said);
	w->o.ev = &w->said.ev;
	atomic_init(&w->stop, false);
	w->o.stop = &w->stop;
	/* the cache and the table ims_exec_cache_open would open and read
	 * after the registries answered (started first: the walk's thread
	 * reads stats_running when it is done) */
	if (w->cache && p->spec_dir) {
		w->stats_root = p->spec_dir;
		w->stats_running = pthread_create(&w->stats_thread, NULL, load_stats, w) == 0;
	}
	if (pthread_create(&w->thread, NULL, walk, w) != 0) {
		w->joined = true;
		ims_prewalk_free(w);
		return NULL;
	}
	return w;
}

static void join(ims_prewalk *w)
{
	if (!w->joined)
		pthread_join(w->thread, NULL);
	w->joined = true;
}

bool ims_prewalk_take_cache(ims_prewalk *w, const char *root, ims_cache **cache, ims_cache_stats **stats)
{
	*stats = NULL;
	if (!w || !w->cache)
		return false;
	/* the walk's thread may be hashing, through the table */
	join(w);
	if (w->stats_running) /* it reads through the cache */
		pthread_join(w->stats_thread, NULL);
	w->stats_running = false;
	if (root && w->stats_root && !strcmp(root, w->stats_root))
		*stats = steal_pointer(&w->stats);
	*cache = steal_pointer(&w->cache);
	return true;
}

int ims_prewalk_take(ims_prewalk *w, const ims_step *s, const ims_events *ev, ims_layer_files **lf,
		     ims_error **err)
{
	if (!w || w->s != s || w->taken)
		return 0;
	join(w); /* before anything the walk reads changes */
	w->taken = true;
	if (w->verbose && w->hashed)
		ims_events_info(ev,
				"the files of the first layer were listed, and %zu of them hashed, while the "
				"registries answered",
				w->hashed);
	else if (w->verbose)
		ims_events_info(ev, "the files of the first layer were listed while the registries answered");
	ims_events_log_replay(&w->said, ev);
	if (w->r < 0) {
		ims_error_pass(err, &w->err);
		return w->r;
	}
	*lf = w->lf;
	w->lf = NULL;
	return 1;
}

void ims_prewalk_free(ims_prewalk *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	join(w);
	if (w->stats_running)
		pthread_join(w->stats_thread, NULL);
	ims_fanout_free(w->pool);
	ims_cache_stats_free(w->stats);
	ims_cache_close(w->cache);
	ims_layer_files_free(w->lf);
	ims_error_free(w->err);
	ims_events_log_dispose(&w->said);
	ims_exec_skips_dispose(&w->skips);
	free(w);
}
