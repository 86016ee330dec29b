/* Resolving the base: the top-level document, platform selection from an
 * index, and each platform's manifest and config (digest-verified). */
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "exec/exec_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

void ims_exec_base_dispose(ims_base *b)
{
	for (size_t i = 0; i < b->n; i++) {
		ims_platform_free(b->images[i].platform);
		ims_manifest_free(b->images[i].manifest);
		ims_config_free(b->images[i].config);
	}
	free(b->images);
	free(b->digest);
	ims_transport_close(b->t);
	memset(b, 0, sizeof(*b));
}

static ims_base_image *add_image(ims_base *b)
{
	b->images = xrealloc(b->images, (b->n + 1) * sizeof(*b->images));
	ims_base_image *im = &b->images[b->n++];
	memset(im, 0, sizeof(*im));
	return im;
}

static int load_scratch(ims_base *b, const ims_plan *p, ims_error **err)
{
	if (p->all_platforms)
		return ims_error_set(err, IMS_EINVALID,
				     "platform `all` needs a base that is an index; with `scratch`, list the platforms");
	if (p->nplatforms == 0) {
		ims_platform *host = ims_platform_host();
		ims_base_image *im = add_image(b);
		im->platform = host;
		im->config = ims_config_new(host);
		return 0;
	}
	for (size_t i = 0; i < p->nplatforms; i++) {
		ims_base_image *im = add_image(b);
		im->platform = ims_platform_dup(p->platforms[i]);
		im->config = ims_config_new(p->platforms[i]);
	}
	return 0;
}

int ims_exec_not_spec(ims_error **err, int r)
{
	if (err && *err && (*err)->code == IMS_EINVALID)
		(*err)->code = IMS_EGENERIC;
	return r == IMS_EINVALID ? IMS_EGENERIC : r;
}

/* The local cache, for base configs: small, named by their digest, and
 * read by every build, so kept there; an unchanged rebuild then does not
 * ask the registry for them (docker-registry took 7.5 ms to serve a 1 KB
 * config, a tenth of such a build). store: not in a dry run. */
typedef struct {
	ims_cache *c;
	bool store;
} config_cache;

static int read_config(ims_transport *t, const config_cache *cc, const ims_descriptor *cd, char **data, size_t *len,
		       ims_error **err)
{
	if (cc && cd->size >= 0 && cd->size <= IMS_CONFIG_MAX &&
	    ims_cache_blob_read(cc->c, cd->digest, IMS_CONFIG_MAX, data, len))
		return 0;
	int r = ims_transport_read_blob(t, cd->digest, IMS_CONFIG_MAX, data, len, err);
	if (r >= 0 && cc && cc->store && (int64_t)*len == cd->size) {
		ims_error *e = NULL;
		ims_cache_blob_put(cc->c, cd->digest, *data, *len, &e); /* a cache that cannot keep it: read it again next time */
		ims_error_free(e);
	}
	return r;
}

static int load_doc(ims_transport *t, const config_cache *cc, const char *data, size_t len, const char *mt,
		    ims_base_image *out, ims_error **err)
{
	_cleanup_free_ char *detected = NULL;
	ims_doc_kind kind;
	int r = ims_doc_detect(data, len, mt, &kind, &detected, err);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	if (kind != IMS_DOC_MANIFEST)
		return ims_error_set(err, IMS_EUNSUPPORTED, "a nested index is not supported as a base");
	if ((r = ims_manifest_parse(&out->manifest, data, len, err)) < 0)
		return ims_exec_not_spec(err, r);
	out->docker = !strcmp(detected, IMS_MT_DOCKER_MANIFEST);
	const ims_descriptor *cd = &out->manifest->config;
	_cleanup_free_ char *cdata = NULL;
	size_t clen = 0;
	if ((r = read_config(t, cc, cd, &cdata, &clen, err)) < 0)
		return ims_error_wrap(err, "read config %s", cd->digest);
	if ((int64_t)clen != cd->size)
		return ims_error_set(err, IMS_EDIGEST, "config %s is %zu bytes, but the manifest says %lld", cd->digest,
				     clen, (long long)cd->size);
	if ((r = ims_config_parse(&out->config, cdata, clen, err)) < 0)
		return ims_exec_not_spec(err, ims_error_wrap(err, "config %s", cd->digest));
	if (ims_config_ndiff_ids(out->config) != out->manifest->nlayers)
		return ims_error_set(err, IMS_EGENERIC,
				     "the base's config lists %zu diff_ids but its manifest has %zu layers",
				     ims_config_ndiff_ids(out->config), out->manifest->nlayers);
	/* a base whose history does not match its layers: fitted, so that the
	 * entries this build adds (and removeLayers) line up; a config without
	 * any history is fitted silently (OCI allows it) */
	out->history_fitted = ims_config_fit_history(out->config, out->manifest->nlayers, &out->history_had) &&
			      out->history_had > 0;
	if (!out->platform)
		out->platform = ims_config_platform(out->config);
	return 0;
}

static int load_image(ims_transport *t, const config_cache *cc, const char *digest, ims_base_image *out,
		      ims_error **err)
{
	_cleanup_free_ char *data = NULL, *mt = NULL;
	size_t len = 0;
	int r = ims_transport_get_manifest(t, digest, &data, &len, &mt, err);
	if (r < 0)
		return r;
	char dg[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len, dg);
	if (strcmp(dg, digest))
		return ims_error_set(err, IMS_EDIGEST, "manifest %s does not match its digest (got %s)", digest, dg);
	return load_doc(t, cc, data, len, mt, out, err);
}

int ims_exec_load_image(ims_transport *t, const char *digest, ims_base_image *out, ims_error **err)
{
	return load_image(t, NULL, digest, out, err);
}

static char *available(const ims_index *ix)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < ix->nmanifests; i++) {
		if (!ix->manifests[i].platform)
			continue;
		_cleanup_free_ char *s = ims_platform_string(ix->manifests[i].platform);
		ims_buf_printf(&b, "%s%s", b.len ? ", " : "", s);
	}
	return ims_buf_steal(&b, NULL);
}

static bool is_attestation(const ims_descriptor *d)
{
	return d->platform && d->platform->os && !strcmp(d->platform->os, "unknown");
}

static int load_from_index(ims_base *b, const config_cache *cc, const ims_plan *p, const char *data, size_t len,
			   ims_error **err)
{
	ims_index *ix = NULL;
	int r = ims_index_parse(&ix, data, len, err);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	if (p->all_platforms) {
		for (size_t i = 0; i < ix->nmanifests && r >= 0; i++) {
			const ims_descriptor *d = &ix->manifests[i];
			if (!d->platform || is_attestation(d))
				continue;
			ims_base_image *im = add_image(b);
			im->platform = ims_platform_dup(d->platform);
			r = load_image(b->t, cc, d->digest, im, err);
		}
		if (r >= 0 && b->n == 0)
			r = ims_error_set(err, IMS_ENOTFOUND, "the base index lists no platform images");
		ims_index_free(ix);
		return r;
	}
	ims_platform *host = NULL;
	const ims_platform *const *want = (const ims_platform *const *)p->platforms;
	size_t nwant = p->nplatforms;
	if (nwant == 0) {
		host = ims_platform_host();
		want = (const ims_platform *const *)&host;
		nwant = 1;
	}
	for (size_t w = 0; w < nwant && r >= 0; w++) {
		const ims_descriptor *found = NULL;
		for (size_t i = 0; i < ix->nmanifests && !found; i++)
			if (ix->manifests[i].platform && !is_attestation(&ix->manifests[i]) &&
			    ims_platform_matches(want[w], ix->manifests[i].platform))
				found = &ix->manifests[i];
		if (!found) {
			_cleanup_free_ char *ws = ims_platform_string(want[w]);
			_cleanup_free_ char *av = available(ix);
			r = ims_error_set(err, IMS_ENOTFOUND, "the base has no image for platform `%s` (it has: %s)",
					  ws, *av ? av : "none");
			ims_error_hint(err, "choose one of its platforms with `platforms:` or --platform");
			break;
		}
		ims_base_image *im = add_image(b);
		im->platform = ims_platform_dup(found->platform);
		r = load_image(b->t, cc, found->digest, im, err);
	}
	ims_platform_free(host);
	ims_index_free(ix);
	return r;
}

static int check_single(const ims_base *b, const ims_plan *p, ims_error **err)
{
	const ims_base_image *im = &b->images[0];
	if (p->nplatforms > 1)
		return ims_error_set(err, IMS_EINVALID,
				     "the base is a single-platform image; it cannot give %zu platforms",
				     p->nplatforms);
	if (p->nplatforms == 1 && im->platform && !ims_platform_matches(p->platforms[0], im->platform)) {
		_cleanup_free_ char *want = ims_platform_string(p->platforms[0]);
		_cleanup_free_ char *have = ims_platform_string(im->platform);
		return ims_error_set(err, IMS_ENOTFOUND, "the base is a `%s` image, not `%s`", have, want);
	}
	return 0;
}

static void warn_history(const ims_base *b, const ims_exec_env *env, const char *bs)
{
	for (size_t i = 0; i < b->n; i++) {
		const ims_base_image *im = &b->images[i];
		if (!im->history_fitted)
			continue;
		_cleanup_free_ char *ps = im->platform ? ims_platform_string(im->platform) : NULL;
		ims_events_warn(&env->ev,
				"base `%s`%s%s%s: its config's history has %zu entries for layers but the image has %zu "
				"layers; the output's history is fitted to the layers (%s)",
				bs, ps ? " (" : "", ps ? ps : "", ps ? ")" : "", im->history_had, im->manifest->nlayers,
				im->history_had < im->manifest->nlayers
					? "entries added for the last layers"
					: "the last surplus entries marked empty_layer");
	}
}

static int load_source(ims_base *b, const config_cache *cc, const ims_exec_env *env, const ims_plan *p,
		       const ims_session *s, ims_error **err)
{
	ims_transport_opts o = ims_exec_transport_opts(env, p->source_dir, NULL);
	o.registries = s ? s->pool : NULL;
	_cleanup_free_ char *bs = ims_ref_string(p->source);
	ims_events_info(&env->ev, "resolving base %s", bs);
	_cleanup_free_ char *data = NULL, *mt = NULL, *detected = NULL;
	size_t len = 0;
	int r = ims_exec_open_pull(&b->t, p->source, &o, s, &data, &len, &mt, err);
	if (r < 0)
		return ims_error_wrap(err, "base `%s`", bs);
	char dg[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len, dg);
	if (p->source->digest && strcmp(dg, p->source->digest))
		return ims_error_set(err, IMS_EDIGEST, "base `%s`: the manifest's digest is %s", bs, dg);
	b->digest = xstrdup(dg);
	ims_doc_kind kind;
	if ((r = ims_doc_detect(data, len, mt, &kind, &detected, err)) < 0)
		return ims_exec_not_spec(err, ims_error_wrap(err, "base `%s`", bs));
	if (kind == IMS_DOC_INDEX) {
		r = load_from_index(b, cc, p, data, len, err);
		if (r < 0)
			return ims_error_wrap(err, "base `%s`", bs);
		warn_history(b, env, bs);
		return 0;
	}
	ims_base_image *im = add_image(b);
	if ((r = load_doc(b->t, cc, data, len, mt, im, err)) < 0)
		return ims_error_wrap(err, "base `%s`", bs);
	warn_history(b, env, bs);
	return check_single(b, p, err);
}

ims_cache *ims_exec_docs_open(const ims_exec_env *env)
{
	ims_cache *c = NULL;
	ims_error *e = NULL;
	if (env->cache_dir && ims_cache_open(&c, env->cache_dir, env->cache_max, &e) < 0)
		ims_error_free(e); /* the layers' turn to warn about it */
	return c;
}

int ims_exec_base_load(ims_base *b, const ims_exec_env *env, const ims_plan *p, const ims_session *s, bool dry,
		       ims_cache *docs, ims_error **err)
{
	memset(b, 0, sizeof(*b));
	if (p->source->kind == IMS_REF_SCRATCH)
		return load_scratch(b, p, err);
	config_cache cc = { docs, !dry };
	return load_source(b, docs ? &cc : NULL, env, p, s, err);
}
