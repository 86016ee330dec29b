/* A layer cache shared by a fleet through the registry it already runs:
 * --cache-from reads artifacts that map recipes to layers, --cache-to
 * writes one. A fresh machine with an empty local cache hashes its inputs,
 * finds the recipe in the artifact, and skips or mounts the layer instead
 * of compressing and uploading it.
 *
 * The artifact is an OCI manifest with artifactType IMS_MT_CACHE_ARTIFACT:
 * its config (IMS_MT_CACHE_CONFIG, json/cachedoc.h) maps recipes to layer
 * descriptors, and its layers are those layers, so the registry keeps them
 * and can mount them into other repositories.
 *
 * Nothing here fails a build: a cache that is missing, unreadable, refused
 * or malformed is a warning, and the build goes on as if there were none.
 * What the artifact says is checked against what the registry serves:
 * every entry must name one of the artifact's own layers (same digest and
 * size), and a layer taken from it is mounted or copied by digest, which
 * the registry (or our download) verifies. Whoever can write the cache
 * repository can choose which layer a recipe gives: trust it as much as
 * the target. */
#include <stdlib.h>
#include <string.h>

#include "exec/remote_cache.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* "WHAT: why" as a warning; clears *e. */
static void warn_error(const ims_exec_env *env, ims_error **e, const char *what)
{
	ims_events_warn(&env->ev, "%s: %s", what, *e ? (*e)->message : "failed");
	ims_error_clear(e);
}

/* Keeps the entries that name one of the manifest's own layers. */
static void keep_entries(ims_remote_cache *rc, const ims_cachedoc *doc, const ims_manifest *m, size_t source)
{
	for (size_t i = 0; i < doc->n; i++) {
		const ims_cachedoc_entry *e = &doc->v[i];
		const ims_descriptor *d = NULL;
		for (size_t k = 0; k < m->nlayers && !d; k++)
			if (!strcmp(m->layers[k].digest, e->digest) && m->layers[k].size == e->size)
				d = &m->layers[k];
		if (!d)
			continue;
		rc->v = xrealloc(rc->v, (rc->n + 1) * sizeof(*rc->v));
		ims_remote_entry *o = &rc->v[rc->n++];
		memset(o, 0, sizeof(*o));
		memcpy(o->recipe, e->recipe, IMS_DIGEST_BUFSZ);
		memcpy(o->diff_id, e->diff_id, IMS_DIGEST_BUFSZ);
		ims_descriptor_copy(&o->desc, d);
		o->source = source;
	}
}

/* Reads one artifact: its manifest, then its config, both verified. */
static int load_one(ims_remote_cache *rc, ims_transport *t, ims_cachedoc *doc, ims_manifest **m, ims_error **err)
{
	_cleanup_free_ char *data = NULL, *mt = NULL, *cfg = NULL;
	size_t len = 0, clen = 0;
	int r = ims_transport_get_manifest(t, t->ref->digest, &data, &len, &mt, err);
	if (r < 0)
		return r;
	if ((r = ims_manifest_parse(m, data, len, err)) < 0)
		return r;
	if (!(*m)->artifact_type || strcmp((*m)->artifact_type, IMS_MT_CACHE_ARTIFACT) ||
	    strcmp((*m)->config.media_type, IMS_MT_CACHE_CONFIG))
		return ims_error_set(err, IMS_EINVALID, "it is not an imagespec layer cache (artifactType `%s`)",
				     (*m)->artifact_type ? (*m)->artifact_type : "");
	if ((r = ims_transport_read_blob(t, (*m)->config.digest, IMS_CONFIG_MAX, &cfg, &clen, err)) < 0)
		return r;
	return ims_cachedoc_parse(doc, cfg, clen, err);
}

void ims_remote_cache_load(ims_remote_cache *rc, const ims_exec_env *env, const ims_plan *p, ims_session *s)
{
	memset(rc, 0, sizeof(*rc));
	rc->src = xcalloc(p->ncache_from + 1, sizeof(*rc->src));
	for (size_t i = 0; i < p->ncache_from; i++) {
		_cleanup_free_ char *shown = ims_ref_string(p->cache_from[i]);
		ims_transport_opts o = ims_exec_transport_opts(env, NULL, s);
		ims_transport *t = NULL;
		ims_cachedoc doc = { 0 };
		ims_manifest *m = NULL;
		ims_error *e = NULL;
		if (ims_transport_open(&t, p->cache_from[i], IMS_TRANSPORT_READ, &o, &e) < 0 ||
		    load_one(rc, t, &doc, &m, &e) < 0) {
			_cleanup_free_ char *what = xasprintf("the layer cache `%s` is not used", shown);
			warn_error(env, &e, what);
			ims_transport_close(t);
		} else {
			size_t before = rc->n;
			keep_entries(rc, &doc, m, rc->nsrc);
			ims_events_info(&env->ev, "layer cache %s: %zu layers", shown, rc->n - before);
			rc->src[rc->nsrc++] = t;
		}
		ims_manifest_free(m);
		ims_cachedoc_dispose(&doc);
	}
}

void ims_remote_cache_ask_ahead(const ims_remote_cache *rc, ims_transport *target, const ims_exec_env *env)
{
	size_t n = rc->n < IMS_REMOTE_AHEAD_MAX ? rc->n : IMS_REMOTE_AHEAD_MAX;
	if (!target || !n)
		return;
	const char **v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = rc->v[i].desc.digest;
	if (ims_transport_ask_ahead(target, v, n) && env->verbose > 0)
		ims_events_info(&env->ev, "asking ahead for the %zu layer%s the layer caches name", n,
				n == 1 ? "" : "s");
	free(v);
}

void ims_remote_cache_dispose(ims_remote_cache *rc)
{
	for (size_t i = 0; i < rc->n; i++)
		ims_descriptor_dispose(&rc->v[i].desc);
	free(rc->v);
	for (size_t i = 0; i < rc->nsrc; i++)
		ims_transport_close(rc->src[i]);
	free(rc->src);
	memset(rc, 0, sizeof(*rc));
}

const ims_remote_entry *ims_remote_cache_find(const ims_remote_cache *rc, const char *recipe)
{
	for (size_t i = 0; rc && i < rc->n; i++)
		if (!strcmp(rc->v[i].recipe, recipe))
			return &rc->v[i];
	return NULL;
}

int ims_remote_cache_use(const ims_remote_cache *rc, const ims_remote_entry *e, ims_transport *target,
			 bool ignore_exists, ims_layer_action *action, ims_error **err)
{
	ims_transfer_opts o = { .ignore_exists = ignore_exists, .mount = true };
	return ims_exec_copy_blob_if_missing(rc->src[e->source], target, &e->desc, &o, action, err);
}

/* ---- writing ---- */

/* Makes layer d present in the cache repository: mounted or copied from
 * the target when it is a registry, else uploaded from the local cache. */
static int put_layer(ims_transport *to, ims_transport *target, ims_cache *local, const ims_descriptor *d,
		     ims_error **err)
{
	ims_layer_action a;
	ims_transfer_opts o = { .mount = true };
	if (target && target->ref->kind == IMS_REF_REGISTRY)
		return ims_exec_copy_blob_if_missing(target, to, d, &o, &a, err);
	bool have = false;
	int r = ims_transport_has_blob(to, d->digest, &have, err);
	if (r < 0 || have)
		return r;
	ims_reader rd = { 0 };
	ims_blob_writer *w = NULL;
	if (!local || (r = ims_cache_blob_open(local, d->digest, &rd, err)) < 0)
		return local ? r : ims_error_set(err, IMS_ENOTFOUND, "layer %s is in no cache", d->digest);
	if ((r = ims_transport_new_blob(to, &w, err)) >= 0) {
		if ((r = ims_stream_copy(&rd, &w->sink, NULL, err)) < 0)
			w->abort(w);
		else
			r = w->commit(w, d->digest, d->size, err);
	}
	ims_reader_close(&rd);
	return r;
}

static int write_artifact(ims_transport *to, const ims_cachedoc *doc, ims_descriptor *layers, size_t n, ims_error **err)
{
	size_t clen = 0, mlen = 0;
	_cleanup_free_ char *cfg = ims_cachedoc_encode(doc, &clen);
	ims_manifest m = { 0 };
	m.media_type = (char *)IMS_MT_OCI_MANIFEST;
	m.artifact_type = (char *)IMS_MT_CACHE_ARTIFACT;
	m.config.media_type = (char *)IMS_MT_CACHE_CONFIG;
	ims_sha256_buf(cfg, clen, m.config.digest);
	m.config.size = (int64_t)clen;
	m.layers = layers;
	m.nlayers = n;
	_cleanup_free_ char *man = ims_manifest_encode(&m, &mlen);
	ims_descriptor top = { 0 };
	top.media_type = (char *)IMS_MT_OCI_MANIFEST;
	ims_sha256_buf(man, mlen, top.digest);
	top.size = (int64_t)mlen;
	int r = ims_exec_put_blob(to, cfg, clen, m.config.digest, false, err);
	if (r >= 0)
		r = ims_transport_put_manifest(to, man, mlen, IMS_MT_OCI_MANIFEST, top.digest, err);
	if (r >= 0)
		r = ims_transport_tag(to, NULL, &top, err);
	if (r >= 0)
		r = ims_transport_commit(to, err);
	return r;
}

/* The media type the build gave a new layer. */
static const char *media_type(const ims_new_layer *l, bool docker)
{
	if (l->desc.media_type)
		return l->desc.media_type;
	ims_mt_compression c = l->alg == IMS_LAYER_ALG_ZSTD   ? IMS_MT_LAYER_ZSTD
			       : l->alg == IMS_LAYER_ALG_NONE ? IMS_MT_LAYER_TAR
							      : IMS_MT_LAYER_GZIP;
	return ims_mt_layer(docker, c);
}

void ims_remote_cache_export(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport *target,
			     ims_cache *local, const ims_new_layer *nl, size_t n, bool docker)
{
	if (!p->cache_to)
		return;
	_cleanup_free_ char *shown = ims_ref_string(p->cache_to);
	ims_transport_opts o = ims_exec_transport_opts(env, NULL, s);
	ims_transport *to = NULL;
	ims_cachedoc doc = { 0 };
	ims_descriptor *layers = xcalloc(n + 1, sizeof(*layers));
	size_t nlayers = 0;
	ims_error *e = NULL;
	int r = ims_transport_open(&to, p->cache_to, IMS_TRANSPORT_WRITE, &o, &e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const char *mt = media_type(&nl[i], docker);
		if (!*nl[i].recipe || !mt)
			continue;
		/* a shallow copy, but for its own media type */
		ims_descriptor d = nl[i].desc;
		d.media_type = xstrdup(mt);
		layers[nlayers++] = d;
		if ((r = put_layer(to, target, local, &d, &e)) < 0)
			break;
		ims_cachedoc_entry ce = { .size = d.size, .media_type = d.media_type };
		memcpy(ce.recipe, nl[i].recipe, IMS_DIGEST_BUFSZ);
		memcpy(ce.digest, d.digest, IMS_DIGEST_BUFSZ);
		memcpy(ce.diff_id, nl[i].diff_id, IMS_DIGEST_BUFSZ);
		ims_cachedoc_add(&doc, &ce);
	}
	if (r >= 0)
		r = write_artifact(to, &doc, layers, nlayers, &e);
	if (r < 0) {
		_cleanup_free_ char *what = xasprintf("the layer cache `%s` was not written", shown);
		warn_error(env, &e, what);
	} else
		ims_events_info(&env->ev, "layer cache %s: wrote %zu layers", shown, doc.n);
	ims_cachedoc_dispose(&doc);
	for (size_t i = 0; i < nlayers; i++)
		free(layers[i].media_type);
	free(layers);
	ims_transport_close(to);
}
