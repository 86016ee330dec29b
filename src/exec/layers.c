/* Building the plan's new layers, once, shared by every platform. Each
 * layer streams straight into a blob writer of the target; the digest is
 * known only at the end, so an existing blob is detected then and the
 * writer aborted ("skipped"). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec_int.h"
#include "exec/layer_cache.h"
#include "exec/platform_steps.h"
#include "exec/prewalk.h"
#include "exec/remote_cache.h"
#include "exec/skips.h"
#include "layer/layer.h"
#include "transport/fetch.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

void ims_exec_new_layers_free(ims_new_layer *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ims_descriptor_dispose(&l[i].desc);
	free(l);
}

/* A `url:` layer: downloaded into a private temp dir, then read as an
 * archive whose sha256 (required with url) is checked before anything else. */
static int url_step(const ims_exec_env *env, const ims_step *s, ims_http *http, const ims_layer_opts *o, ims_sink *sink,
		    ims_layer_result *res, ims_error **err)
{
	if (!http)
		return ims_error_set(err, IMS_EUNSUPPORTED, "`url` layers need network access");
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int lock = -1;
	ims_sweep_tmpdirs(env->tmp_dir, "imagespec-url");
	int r = ims_mkdtemp_locked(env->tmp_dir, "imagespec-url", &dir, &lock, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = ims_path_join(dir, "download");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = ims_error_sys(err, errno, IMS_EGENERIC, "create `%s`", path);
		goto out;
	}
	ims_events_info(&env->ev, "downloading %s", s->url);
	r = ims_transport_fetch_url(http, s->url, fd, err);
	if (close(fd) < 0 && r >= 0)
		r = ims_error_sys(err, errno, IMS_EGENERIC, "write `%s`", path);
	if (r >= 0)
		r = ims_layer_write_archive(&s->archive, path, o, sink, res, err);
out:
	ims_rm_rf(dir, NULL);
	return r;
}

static int write_step(const ims_exec_env *env, const ims_step *s, ims_http *http, const ims_layer_opts *o,
		      ims_layer_files *lf, const ims_layer_hashes *h, ims_sink *sink, ims_layer_result *res,
		      ims_error **err)
{
	switch (s->kind) {
	case IMS_STEP_FILES:
		return ims_layer_files_write(lf, h, sink, res, err);
	case IMS_STEP_ARCHIVE:
		return ims_layer_write_archive(&s->archive, s->archive_path, o, sink, res, err);
	case IMS_STEP_URL:
		return url_step(env, s, http, o, sink, res, err);
	case IMS_STEP_WHITEOUT:
		return ims_layer_write_whiteouts(&s->whiteouts, o, sink, res, err);
	default:
		return ims_error_set(err, IMS_EUNSUPPORTED, "this layer kind is not supported yet");
	}
}

/* A blob layer names an existing blob. It must be in the target already,
 * be copyable from the base, or be a foreign layer with urls. */
static int blob_step(const ims_plan *p, const ims_step *s, ims_transport *target, ims_base *base, ims_http *http,
		     ims_new_layer *nl, ims_error **err)
{
	const ims_step_blob *b = &s->blob;
	nl->desc.media_type = b->media_type ? xstrdup(b->media_type) : NULL;
	snprintf(nl->desc.digest, sizeof(nl->desc.digest), "%s", b->digest);
	snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", b->diff_id);
	nl->desc.size = b->size;
	if (b->nurls) {
		nl->desc.urls = xcalloc(b->nurls, sizeof(char *));
		for (size_t i = 0; i < b->nurls; i++)
			nl->desc.urls[i] = xstrdup(b->urls[i]);
		nl->desc.nurls = b->nurls;
	}
	nl->action = IMS_ACTION_SKIPPED;
	nl->origin = IMS_ORIGIN_BLOB;
	/* the output holds the blob: an ordinary layer of it */
	ims_descriptor fetch = { .size = nl->desc.size, .urls = b->urls, .nurls = b->nurls };
	snprintf(fetch.digest, sizeof(fetch.digest), "%s", b->digest);
	if (b->nurls && p->copy_remote_layers)
		ims_exec_foreign_adopt(&nl->desc);
	if (!target)
		return 0;
	bool have = false;
	int r = ims_transport_has_blob(target, b->digest, &have, err);
	if (r < 0 || have)
		return r;
	bool in_base = false;
	if (base->t) {
		ims_reader rd = { 0 };
		ims_error *e = NULL;
		if (ims_transport_open_blob(base->t, b->digest, &rd, &e) == 0) {
			in_base = true;
			ims_reader_close(&rd);
		}
		ims_error_free(e);
	}
	if (in_base) {
		ims_transfer_opts o = { .ignore_exists = p->ignore_exists, .mount = true };
		return ims_exec_copy_blob_if_missing(base->t, target, &nl->desc, &o, &nl->action, err);
	}
	if (b->nurls && !p->copy_remote_layers)
		return 0; /* a foreign layer stays where its urls say */
	if (b->nurls) {
		if ((r = ims_exec_foreign_fetch(http, &fetch, target, err)) < 0)
			return ims_error_wrap(err, "%sblob layer", s->at);
		nl->action = IMS_ACTION_WRITTEN;
		return 0;
	}
	return ims_error_set(err, IMS_ENOTFOUND,
			     "%sblob layer %s is neither in the target nor in the base; give its `urls` or use a base "
			     "that has it",
			     s->at, b->digest);
}

/* One step being built: where it goes and what the cache knows of it. */
typedef struct {
	const ims_exec_env *env;
	const ims_plan *p;
	const ims_step *s;
	ims_transport *target; /* NULL: dry run */
	ims_transport *probe;  /* a dry run's registry target, to ask what it has; may be NULL */
	ims_http *http;
	const ims_layer_opts *o;
	ims_exec_cache *cache;
	const ims_remote_cache *remote;
	ims_layer_files *lf; /* FILES */
	ims_prewalk *walked; /* may hold this step's walk, made ahead */
	ims_new_layer *nl;
	ims_layer_result res;
	bool cached;
	size_t index, count; /* for messages: layer index+1 of count */
} step_job;

/* A dry run: what a new layer of this digest would take, when the target
 * is a registry that can be asked (skip or upload); mount when from is a
 * repository of that registry. */
static int predict(step_job *j, const char *digest, const ims_ref *from, ims_error **err)
{
	j->nl->action = IMS_ACTION_WRITTEN;
	if (!j->probe)
		return 0;
	bool have = false;
	int r = ims_transport_has_blob(j->probe, digest, &have, err);
	if (r >= 0 && have && !j->p->ignore_exists)
		j->nl->action = IMS_ACTION_SKIPPED;
	else if (r >= 0 && from && !strcmp(from->registry, j->probe->ref->registry))
		j->nl->action = IMS_ACTION_MOUNTED;
	return r;
}

/* Copies a cached blob into the target; a blob whose bytes turn out wrong
 * is dropped from the cache and *ok left false (the layer is built). */
static int copy_cached(step_job *j, const ims_cache_layer *l, const char *recipe, bool *ok, ims_error **err)
{
	ims_reader rd = { 0 };
	ims_blob_writer *w = NULL;
	ims_error *e = NULL;
	int r = ims_cache_blob_open(j->cache->cache, l->digest, &rd, &e);
	if (r >= 0 && (r = ims_transport_new_blob(j->target, &w, err)) < 0) {
		ims_reader_close(&rd);
		return r;
	}
	if (r >= 0 && (r = ims_stream_copy(&rd, &w->sink, NULL, &e)) < 0)
		w->abort(w);
	else if (r >= 0)
		r = w->commit(w, l->digest, l->size, &e);
	ims_reader_close(&rd);
	if (r >= 0) {
		*ok = true;
		return 0;
	}
	if (e && e->code != IMS_EDIGEST && e->code != IMS_ENOTFOUND) {
		if (err && !*err)
			*err = e;
		else
			ims_error_free(e);
		return r;
	}
	ims_events_warn(&j->env->ev, "the cached layer %s is damaged or gone; building it again", l->digest);
	ims_error_free(e);
	ims_cache_blob_remove(j->cache->cache, l->digest);
	ims_cache_layer_forget(j->cache->cache, recipe);
	return 0;
}

/* The layer of recipe, from the cache: skipped when the target has it,
 * else copied from the cache's store. *hit false: build it. */
static int use_cached(step_job *j, const char *recipe, bool *hit, ims_error **err)
{
	ims_cache_layer l;
	bool found = false;
	int r = ims_cache_layer_get(j->cache->cache, recipe, &l, &found, err);
	if (r < 0 || !found)
		return r;
	bool have = false, ok = false;
	if (!j->target) {
		ok = ims_cache_blob_has(j->cache->cache, l.digest, NULL);
		if (ok && (r = predict(j, l.digest, NULL, err)) < 0)
			return r;
	} else if (!j->p->ignore_exists && (r = ims_transport_has_blob(j->target, l.digest, &have, err)) < 0) {
		return r;
	} else if (have) {
		ok = true;
		j->nl->action = IMS_ACTION_SKIPPED;
	} else if (ims_cache_blob_has(j->cache->cache, l.digest, NULL)) {
		if ((r = copy_cached(j, &l, recipe, &ok, err)) < 0)
			return r;
		j->nl->action = IMS_ACTION_WRITTEN;
	}
	if (!ok)
		return 0;
	snprintf(j->res.digest, sizeof(j->res.digest), "%s", l.digest);
	snprintf(j->res.diff_id, sizeof(j->res.diff_id), "%s", l.diff_id);
	j->res.size = l.size;
	*hit = j->cached = true;
	return 0;
}

/* The layer of recipe from a cache shared through a registry: skipped,
 * mounted or copied into the target. A dry run only looks. */
static int use_remote(step_job *j, const char *recipe, bool *hit, ims_error **err)
{
	const ims_remote_entry *e = ims_remote_cache_find(j->remote, recipe);
	if (!e)
		return 0;
	int r = j->target ? ims_remote_cache_use(j->remote, e, j->target, j->p->ignore_exists, &j->nl->action, err)
			  : predict(j, e->desc.digest, j->remote->src[e->source]->ref, err);
	if (r < 0)
		return r;
	snprintf(j->res.digest, sizeof(j->res.digest), "%s", e->desc.digest);
	snprintf(j->res.diff_id, sizeof(j->res.diff_id), "%s", e->diff_id);
	j->res.size = e->desc.size;
	*hit = j->cached = true;
	return 0;
}

/* Keeps a built layer: its recipe, computed from what was actually read
 * (for --cache-to too), and its blob in the local cache: written alongside
 * the target's (cw), or the target writer's own file lent to the cache
 * (lent, a descriptor remember closes). A source that changed while it was
 * read makes neither. */
static void remember(step_job *j, ims_cache_writer *cw, int lent)
{
	char recipe[IMS_DIGEST_BUFSZ];
	bool known = false;
	ims_error *e = NULL;
	int r = ims_exec_recipe(j->cache, j->s, j->o, j->lf, recipe, &known, &e);
	if (r >= 0 && known && j->lf && !ims_layer_files_unchanged(j->lf))
		known = false;
	if (r >= 0 && known)
		memcpy(j->nl->recipe, recipe, IMS_DIGEST_BUFSZ);
	else
		j->nl->recipe[0] = '\0';
	if (!cw && lent < 0) {
		/* nothing to store locally */
	} else if (r >= 0 && known) {
		r = cw ? ims_cache_writer_commit(cw, j->res.digest, j->res.size, &e)
		       : ims_cache_blob_adopt(j->cache->cache, lent, j->res.digest, j->res.size, &e);
		cw = NULL;
		if (r >= 0) {
			ims_cache_layer l = { .size = j->res.size };
			memcpy(l.digest, j->res.digest, IMS_DIGEST_BUFSZ);
			memcpy(l.diff_id, j->res.diff_id, IMS_DIGEST_BUFSZ);
			r = ims_cache_layer_put(j->cache->cache, recipe, &l, &e);
		}
	}
	ims_cache_writer_abort(cw);
	if (lent >= 0)
		close(lent);
	if (r < 0)
		ims_events_warn(&j->env->ev, "the layer was not cached: %s", e ? e->message : "failed");
	ims_error_free(e);
}

/* Writes the layer into the target (or nowhere for a dry run), and into
 * the cache, then keeps it, or drops it when the target already has those
 * bytes. */
static int build_fresh(step_job *j, ims_error **err)
{
	ims_exec_cache *c = j->cache;
	ims_cache_writer *cw = NULL;
	ims_blob_writer *w = NULL;
	ims_sink null = ims_sink_null();
	ims_sink *out = &null;
	ims_tee tee;
	int r;
	/* The layer writer hashes the bytes it writes into out (that hash is
	 * the layer's digest): the writers below out only count them. */
	if (j->target) {
		if ((r = ims_transport_new_blob(j->target, &w, err)) < 0)
			return r;
		ims_blob_writer_count_only(w);
		out = &w->sink;
	}
	/* A target writer that writes into a private file (a registry's
	 * spool) lends that file to the cache once the layer is written: the
	 * cache links it in, and the layer is not written twice. */
	bool lend = c->cache && !c->readonly && ims_blob_writer_private_fd(w) >= 0;
	if (!lend && c->cache && !c->readonly && ims_cache_writer_new(c->cache, &cw, NULL) >= 0) {
		ims_cache_writer_count_only(cw);
		ims_tee_init(&tee, out, ims_cache_writer_sink(cw));
		out = &tee.sink;
	}
	r = write_step(j->env, j->s, j->http, j->o, j->lf, c->cache ? &c->hashes : NULL, out, &j->res, err);
	if (r < 0) {
		ims_cache_writer_abort(cw);
		if (w)
			w->abort(w);
		return r;
	}
	if (!w) {
		remember(j, cw, -1);
		return predict(j, j->res.digest, NULL, err);
	}
	/* Taken before commit: the target may close its file once it is sent. */
	int lent = lend ? fcntl(ims_blob_writer_private_fd(w), F_DUPFD_CLOEXEC, 0) : -1;
	/* The target first: committing ends a streamed upload, which the
	 * registry finishes while the layer is remembered (a stat of every
	 * source file, a recipe entry written and synced). */
	bool have = false;
	if (!j->p->ignore_exists && (r = ims_transport_has_blob(j->target, j->res.digest, &have, err)) < 0) {
		w->abort(w);
	} else if (have) {
		w->abort(w);
		j->nl->action = IMS_ACTION_SKIPPED;
	} else if ((r = w->commit(w, j->res.digest, j->res.size, err)) >= 0) {
		j->nl->action = IMS_ACTION_WRITTEN;
	}
	/* the layer is what was read, whatever the target made of it */
	remember(j, cw, lent);
	return r < 0 ? r : 0;
}

/* One new layer: from the cache when its recipe is known and there, else
 * built (and remembered). Two builds of the same recipe at once build it
 * once: the second waits for the first's lock, then finds it. */
static int build_one(step_job *j, ims_error **err)
{
	int r = 0, lock = -1;
	if (j->s->kind == IMS_STEP_FILES) {
		r = ims_prewalk_take(j->walked, j->s, &j->env->ev, &j->lf, err);
		if (r > 0)
			ims_layer_files_rebind(j->lf, j->o);
		else if (r == 0)
			r = ims_layer_files_prepare(&j->lf, j->s->maps, j->s->nmaps, j->o, err);
		if (r < 0)
			return r;
		r = 0;
	}
	char recipe[IMS_DIGEST_BUFSZ];
	bool known = false, hit = false;
	if ((r = ims_exec_recipe(j->cache, j->s, j->o, j->lf, recipe, &known, err)) < 0)
		goto out;
	if (known && j->cache->cache && !j->cache->readonly)
		lock = ims_cache_lock(j->cache->cache, recipe, NULL);
	if (known) {
		memcpy(j->nl->recipe, recipe, IMS_DIGEST_BUFSZ);
		if (j->cache->cache && (r = use_cached(j, recipe, &hit, err)) < 0)
			goto out;
		if (!hit && (r = use_remote(j, recipe, &hit, err)) < 0)
			goto out;
	}
	if (!hit) {
		ims_events_info(&j->env->ev, "building layer %zu/%zu: %s", j->index + 1, j->count, j->s->created_by);
		/* an earlier layer's listing is not held while this one is built */
		ims_exec_cache_drop_listing(j->cache, NULL);
		r = build_fresh(j, err);
	}
out:
	ims_cache_unlock(lock);
	if (hit)
		ims_exec_cache_drop_listing(j->cache, j->lf);
	else
		ims_layer_files_free(j->lf);
	j->lf = NULL;
	return r;
}

void ims_exec_walk_opts(ims_layer_opts *o, const ims_plan *p, const ims_step *s, const ims_exec_skips *skips)
{
	*o = (ims_layer_opts){
		.source_dir = p->spec_dir,
		.created = p->created,
		.defaults = s->defaults,
	};
	if (s->kind == IMS_STEP_FILES) {
		o->skip = skips->v;
		o->nskip = skips->n;
	}
}

int ims_exec_build_layers(const ims_exec_env *env, const ims_plan *p, const ims_platform_steps *ps,
			  ims_transport *target, ims_transport *probe, ims_base *base, ims_http *http,
			  const ims_remote_cache *remote, ims_prewalk *walked, bool uncompressed, ims_new_layer **out,
			  size_t *n, ims_exec_cache_closer **closer, ims_error **err)
{
	ims_new_layer *layers = xcalloc(p->nsteps + 1, sizeof(*layers));
	ims_exec_cache cache;
	ims_exec_cache_open(&cache, env, p, target == NULL, walked);
	cache.remote = remote && remote->n;
	cache.exported = p->cache_to != NULL;
	int r = 0;
	for (size_t i = 0; i < p->nsteps && r >= 0; i++) {
		const ims_step *s = ps ? &ps->v[i] : &p->steps[i];
		ims_new_layer *nl = &layers[i];
		nl->step = s;
		if (s->per_platform != (ps != NULL))
			continue; /* built in the other pass */
		if (s->kind == IMS_STEP_BLOB) {
			r = blob_step(p, s, target, base, http, nl, err);
			continue;
		}
		char label[48];
		snprintf(label, sizeof(label), "building layer %zu/%zu", i + 1, p->nsteps);
		ims_exec_skips skips = { 0 };
		if (s->kind == IMS_STEP_FILES)
			ims_exec_skips_collect(&skips, env, p);
		ims_layer_opts o;
		ims_exec_walk_opts(&o, p, s, &skips);
		o.alg = uncompressed ? IMS_LAYER_ALG_NONE : s->alg;
		o.level = s->level;
		o.threads = env->jobs;
		o.ev = &env->ev;
		o.progress = target ? label : NULL;
		nl->alg = o.alg;
		step_job j = { env, p,  s,      target, probe,     http,  &o, &cache,   remote,
			       NULL, walked, nl, { { 0 } }, false, i, p->nsteps };
		r = build_one(&j, err);
		ims_exec_skips_dispose(&skips);
		if (r < 0)
			break;
		nl->origin = j.cached ? IMS_ORIGIN_CACHED : IMS_ORIGIN_BUILT;
		snprintf(nl->desc.digest, sizeof(nl->desc.digest), "%s", j.res.digest);
		snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", j.res.diff_id);
		nl->desc.size = j.res.size;
		ims_events_info(&env->ev, "layer %zu/%zu: %s (%lld bytes%s)", i + 1, p->nsteps, j.res.digest,
				(long long)j.res.size, j.cached ? ", from the cache" : "");
	}
	if (closer)
		*closer = ims_exec_cache_close_async(&cache);
	else
		ims_exec_cache_close(&cache);
	if (r < 0) {
		ims_exec_new_layers_free(layers, p->nsteps);
		return r;
	}
	*out = layers;
	*n = p->nsteps;
	return 0;
}
