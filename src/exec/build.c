/* ims_build: base → new layers → per-platform images → index → tags → commit.
 * The target only becomes visible at commit, after every blob it names. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/exec_int.h"
#include "exec/layer_cache.h"
#include "exec/prefetch.h"
#include "exec/prewalk.h"
#include "exec/platform.h"
#include "exec/platform_steps.h"
#include "exec/remote_cache.h"
#include "exec/target_tag.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static bool oci_layout(const ims_ref *r)
{
	return r->kind == IMS_REF_OCI || r->kind == IMS_REF_OCI_ARCHIVE;
}

/* `format: inherit` follows the base, except into an OCI layout: there a
 * Docker-typed base gives OCI types, as buildah writes them, since skopeo
 * 1.9 and umoci 0.4.7 cannot read Docker types from a layout. Layer blobs
 * stay the same; the manifest and config digests change (docs/image.yaml.md). */
static bool want_docker(const ims_plan *p, const ims_base *b, const ims_events *ev)
{
	if (p->format == IMS_PLAN_FORMAT_DOCKER)
		return true;
	if (p->format == IMS_PLAN_FORMAT_OCI)
		return false;
	bool docker = b->n && b->images[0].docker;
	if (docker && oci_layout(p->target)) {
		ims_events_info(ev,
				"the base has Docker media types; `format: inherit` writes OCI ones into an "
				"OCI layout (`format: docker` keeps them)");
		return false;
	}
	return docker;
}

/* The names the target gets: its own tag/name plus every extra tag. */
static int target_names(const ims_plan *p, char ***out, size_t *n, ims_error **err)
{
	const ims_ref *t = p->target;
	char **names = xcalloc(p->ntags + 2, sizeof(char *));
	size_t k = 0;
	if (t->kind == IMS_REF_DOCKER_ARCHIVE) {
		if (t->name)
			names[k++] = xstrdup(t->name);
		if (p->ntags && !t->name) {
			free(names);
			return ims_error_set(err, IMS_EINVALID,
					     "tags on a docker-archive need a name: write docker-archive:FILE:REPO:TAG");
		}
		if (p->ntags) {
			ims_ref *r = NULL;
			if (ims_ref_parse(&r, t->name, err) < 0) {
				free(names[0]);
				free(names);
				return IMS_EINVALID;
			}
			for (size_t i = 0; i < p->ntags; i++) {
				r->tag = (free(r->tag), xstrdup(p->tags[i]));
				free(r->digest);
				r->digest = NULL;
				names[k++] = ims_ref_string(r);
			}
			ims_ref_free(r);
		}
	} else {
		if (t->kind == IMS_REF_REGISTRY)
			names[k++] = xstrdup(t->tag ? t->tag : "latest");
		else if (t->name)
			names[k++] = xstrdup(t->name);
		for (size_t i = 0; i < p->ntags; i++) {
			bool dup = false;
			for (size_t j = 0; j < k; j++)
				dup |= !strcmp(names[j], p->tags[i]);
			if (!dup)
				names[k++] = xstrdup(p->tags[i]);
		}
	}
	*out = names;
	*n = k;
	return 0;
}

/* A target path written in the spec is relative to the spec's directory;
 * show it relative to the working directory, where the user stands. */
static char *shown_path(const ims_plan *p)
{
	_cleanup_free_ char *abs = ims_path_absolute(p->target_dir, p->target->path);
	_cleanup_free_ char *cwd = ims_path_absolute(NULL, ".");
	size_t n = strlen(cwd);
	if (!strcmp(abs, cwd))
		return xstrdup(".");
	if (!strncmp(abs, cwd, n) && (abs[n] == '/' || n == 1))
		return xstrdup(abs + (n == 1 ? 1 : n + 1));
	return steal_pointer(&abs);
}

static char *display_ref(const ims_plan *p, const char *name)
{
	const ims_ref *t = p->target;
	_cleanup_free_ char *path = t->path ? shown_path(p) : NULL;
	switch (t->kind) {
	case IMS_REF_OCI:
		return xasprintf("oci:%s%s%s", path, name ? ":" : "", name ? name : "");
	case IMS_REF_OCI_ARCHIVE:
		return xasprintf("oci-archive:%s%s%s", path, name ? ":" : "", name ? name : "");
	case IMS_REF_DOCKER_ARCHIVE:
		return xasprintf("docker-archive:%s%s%s", path, name ? ":" : "", name ? name : "");
	default:
		return xasprintf("%s/%s:%s", t->registry, t->repository, name ? name : "latest");
	}
}

/* On a registry, what the executor wrote went up the wire. */
static void mark_uploads(ims_build_result *res)
{
	for (size_t i = 0; i < res->nmanifests; i++)
		for (size_t j = 0; j < res->manifests[i].nlayers; j++)
			if (res->manifests[i].layers[j].action == IMS_ACTION_WRITTEN)
				res->manifests[i].layers[j].action = IMS_ACTION_UPLOADED;
}

static int write_index(const ims_plan *p, ims_transport *target, bool docker, ims_descriptor *descs, size_t n,
		       ims_descriptor *out, ims_error **err)
{
	ims_index ix = { 0 };
	ix.media_type = (char *)(docker ? IMS_MT_DOCKER_LIST : IMS_MT_OCI_INDEX);
	ix.manifests = descs;
	ix.nmanifests = n;
	ix.annotations = ims_exec_annotations(p);
	size_t len = 0;
	_cleanup_free_ char *bytes = ims_index_encode(&ix, &len);
	ims_json_free(ix.annotations);
	out->media_type = xstrdup(ix.media_type);
	ims_sha256_buf(bytes, len, out->digest);
	out->size = (int64_t)len;
	if (!target)
		return 0;
	return ims_transport_put_manifest(target, bytes, len, out->media_type, out->digest, err);
}

/* One build in progress. */
typedef struct {
	const ims_exec_env *env;
	const ims_plan *p;
	bool dry;
	bool probing; /* a dry run that asks a registry target what it has */
	ims_build_result *res;
	ims_session session;
	bool have_session;
	ims_base base;
	ims_transport *target;   /* NULL for a dry run */
	ims_transport *probe;    /* a dry run's registry target, opened for reading */
	bool uncompressed;       /* the target wants plain tar layers */
	bool docker;             /* Docker media types */
	ims_remote_cache remote; /* --cache-from */
	ims_blob_sync *prefetch; /* base blobs synced while the layers are built */
	ims_prewalk *walked;     /* the first layer's files, listed ahead */
	ims_cache *docs;         /* base configs, pushed manifests (ims_exec_docs_open) */
	ims_exec_cache_closer *closer; /* the layer cache, being saved and closed */
	ims_new_layer *nl;
	size_t nnew;
	ims_descriptor *descs; /* one manifest per platform */
	size_t ndescs;
	char **names;
	size_t nnames;
} build;

static void build_dispose(build *b)
{
	ims_exec_cache_join(b->closer);
	for (size_t i = 0; i < b->ndescs; i++)
		ims_descriptor_dispose(&b->descs[i]);
	free(b->descs);
	for (size_t i = 0; i < b->nnames; i++)
		free(b->names[i]);
	free(b->names);
	ims_exec_new_layers_free(b->nl, b->nnew);
	ims_remote_cache_dispose(&b->remote);
	ims_exec_blob_sync_free(b->prefetch); /* before what its threads use */
	ims_prewalk_free(b->walked);
	ims_transport_close(b->target);
	ims_transport_close(b->probe);
	ims_exec_base_dispose(&b->base);
	ims_cache_close(b->docs);
	if (b->have_session)
		ims_session_close(&b->session);
}

/* The target's transport (or, for a dry run against a registry, the
 * probe that asks it which blobs it has); *flags gets its kind's flags. */
static int open_target(build *b, unsigned *flags, ims_error **err)
{
	const ims_plan *p = b->p;
	int r;
	if (!b->dry) {
		ims_transport_opts o = ims_exec_transport_opts(b->env, p->target_dir, &b->session);
		o.put_always = p->ignore_exists;
		if ((r = ims_transport_open(&b->target, p->target, IMS_TRANSPORT_WRITE, &o, err)) < 0) {
			_cleanup_free_ char *ts = ims_ref_string(p->target);
			return ims_error_wrap(err, "open target `%s`", ts);
		}
		*flags = ims_transport_flags(b->target);
		return 0;
	}
	/* a dry run computes what the real target would get, and asks a
	 * registry which blobs it has */
	*flags = ims_transport_kind_flags(p->target->kind);
	if (b->probing && p->target->kind == IMS_REF_REGISTRY) {
		ims_transport_opts o = ims_exec_transport_opts(b->env, p->target_dir, &b->session);
		if ((r = ims_transport_open(&b->probe, p->target, IMS_TRANSPORT_READ, &o, err)) < 0)
			return r;
	}
	return 0;
}

/* A push whose base lives on another registry: the target's first
 * question is asked on a thread while the base is loaded, so that the
 * slower of the two sets the pace, not their sum (a base on Docker Hub
 * and a tag on the team's registry). On one registry they go one after
 * the other, so that a refused password is not presented twice as often. */
static bool two_registries(const ims_plan *p)
{
	return p->source->kind == IMS_REF_REGISTRY && p->target->kind == IMS_REF_REGISTRY && p->source->registry &&
	       p->target->registry && strcasecmp(p->source->registry, p->target->registry) != 0;
}

/* The session, the base, the names and the target, before any layer. */
static int open_all(build *b, ims_error **err)
{
	const ims_plan *p = b->p;
	int r;
	if (ims_session_needed(p)) {
		if ((r = ims_session_open(&b->session, b->env, p, err)) < 0)
			return r;
		b->have_session = true;
	}
	b->docs = ims_exec_docs_open(b->env);
	bool ahead = !p->ignore_exists;
	unsigned flags = 0;
	ims_exec_target_question *q = NULL;
	bool opened = false;
	if (!b->dry && two_registries(p)) {
		if ((r = target_names(p, &b->names, &b->nnames, err)) < 0 || (r = open_target(b, &flags, err)) < 0)
			return r;
		opened = true;
		q = ims_exec_target_ask_start(b->target, b->nnames ? b->names[0] : NULL, ahead, b->docs, b->env);
	}
	r = ims_exec_base_load(&b->base, b->env, p, &b->session, b->dry, b->docs, err);
	if (r < 0) {
		ims_exec_target_ask_finish(q, false, NULL); /* the base's error first, as without the thread */
		return r;
	}
	if (!opened && ((r = target_names(p, &b->names, &b->nnames, err)) < 0 || (r = open_target(b, &flags, err)) < 0))
		return r;
	/* the target first: a refused password or an unreachable registry
	 * fails before any byte is compressed (target_tag.h) */
	ims_transport *t = b->target ? b->target : b->probe;
	if (q)
		r = ims_exec_target_ask_finish(q, true, err);
	else if (t && p->target->kind == IMS_REF_REGISTRY)
		r = ims_exec_target_ask(t, b->nnames ? b->names[0] : NULL, ahead, b->docs, b->env, err);
	if (r < 0) {
		_cleanup_free_ char *ts = ims_ref_string(p->target);
		return ims_error_wrap(err, "target `%s`", ts);
	}
	b->uncompressed = flags & IMS_TRANSPORT_UNCOMPRESSED_LAYERS;
	b->docker = b->uncompressed || want_docker(p, &b->base, &b->env->ev);
	if (b->base.n > 1 && (flags & IMS_TRANSPORT_NO_INDEX))
		return ims_error_set(err, IMS_EINVALID,
				     "a docker-archive holds one platform; build one with --platform");
	return 0;
}

/* The layers one platform adds of its own (steps naming ${platform.*}),
 * merged with the shared ones. */
typedef struct {
	ims_platform_steps ps;
	ims_new_layer *own; /* the per-platform steps' layers */
	size_t nown;
	ims_new_layer *merged; /* shallow: shared or own, per step; NULL: no per-platform step */
} platform_layers;

static void platform_layers_dispose(platform_layers *pl)
{
	free(pl->merged);
	ims_exec_new_layers_free(pl->own, pl->nown);
	ims_exec_platform_steps_dispose(&pl->ps);
}

static int build_platform_layers(build *b, const ims_base_image *im, platform_layers *pl, ims_error **err)
{
	if (!ims_exec_per_platform(b->p))
		return 0;
	int r = ims_exec_platform_steps(&pl->ps, b->p, im->platform, err);
	if (r >= 0) {
		/* the next pass loads the stat table the last one saves */
		ims_exec_cache_join(b->closer);
		b->closer = NULL;
		r = ims_exec_build_layers(b->env, b->p, &pl->ps, b->target, b->probe, &b->base, b->session.http,
					  &b->remote, NULL, b->uncompressed, &pl->own, &pl->nown, &b->closer, err);
	}
	if (r < 0)
		return ims_error_wrap(err, "platform `%s`", pl->ps.shown ? pl->ps.shown : "?");
	pl->merged = xcalloc(b->nnew + 1, sizeof(*pl->merged));
	for (size_t i = 0; i < b->nnew; i++)
		pl->merged[i] = b->p->steps[i].per_platform ? pl->own[i] : b->nl[i];
	return 0;
}

/* Before any layer is built: every platform's ${platform.*} paths are
 * inside the spec's directory and there, so that a file missing for one
 * platform fails the build with the target untouched. */
static int check_platform_steps(build *b, ims_error **err)
{
	if (!ims_exec_per_platform(b->p))
		return 0;
	for (size_t i = 0; i < b->base.n; i++) {
		ims_platform_steps ps;
		int r = ims_exec_platform_steps(&ps, b->p, b->base.images[i].platform, err);
		if (r < 0)
			return r;
		ims_exec_platform_steps_dispose(&ps);
	}
	return 0;
}

/* A push of one platform keeps its manifest in the local cache, for the
 * next build to ask ahead for its layers (target_tag.h). */
static bool keep_manifests(const build *b)
{
	return !b->dry && b->target && b->p->target->kind == IMS_REF_REGISTRY && b->base.n == 1 && b->docs;
}

/* Each platform's config and manifest, on the shared new layers. */
static int write_platforms(build *b, ims_error **err)
{
	ims_build_result *res = b->res;
	res->manifests = xcalloc(b->base.n, sizeof(*res->manifests));
	b->descs = xcalloc(b->base.n, sizeof(*b->descs));
	for (size_t i = 0; i < b->base.n; i++) {
		const ims_base_image *im = &b->base.images[i];
		ims_result_manifest *rm = &res->manifests[res->nmanifests++];
		rm->platform = im->platform ? ims_platform_string(im->platform) : NULL;
		ims_platform_job j = { .p = b->p,
				       .base = &b->base,
				       .im = im,
				       .target = b->target,
				       .probe = b->probe,
				       .nl = b->nl,
				       .nnew = b->nnew,
				       .docker = b->docker,
				       .uncompressed = b->uncompressed,
				       .http = b->session.http,
				       .rm = rm,
				       .prefetch = b->prefetch,
				       .top_name = b->base.n == 1 && b->nnames ? b->names[0] : NULL,
				       .keep_manifest = keep_manifests(b) };
		ims_events_info(&b->env->ev, "writing image for %s",
				rm->platform ? rm->platform : "the base's platform");
		platform_layers pl = { 0 };
		int r = build_platform_layers(b, im, &pl, err);
		if (r >= 0 && pl.merged)
			j.nl = pl.merged;
		if (r >= 0)
			r = ims_exec_platform(&j, &b->descs[b->ndescs], err);
		if (r >= 0 && j.manifest_data)
			ims_exec_target_remember(b->docs, j.manifest_data, j.manifest_len, b->descs[b->ndescs].digest);
		free(j.manifest_data);
		platform_layers_dispose(&pl);
		if (r >= 0) {
			ims_descriptor_copy(&rm->manifest, &b->descs[b->ndescs++]);
			ims_platform_free(rm->manifest.platform);
			rm->manifest.platform = NULL;
		} else {
			/* filled before the push failed, and not counted */
			ims_descriptor_dispose(&b->descs[b->ndescs]);
		}
		if (b->base.n == 1) {
			free(res->config_digest);
			res->config_digest = j.config_digest;
		} else {
			free(j.config_digest);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* A registry that refuses a manifest naming a blob it does not hold, when
 * the image kept foreign layers where their urls say. */
static void foreign_hint(const ims_build_result *res, ims_error **err)
{
	bool foreign = false;
	for (size_t i = 0; i < res->nmanifests; i++)
		for (size_t k = 0; k < res->manifests[i].nlayers; k++)
			foreign |= res->manifests[i].layers[k].desc.nurls > 0;
	if (foreign && err && *err && !(*err)->hint && (*err)->message &&
	    strstr((*err)->message, "MANIFEST_BLOB_UNKNOWN"))
		ims_error_hint(err,
			       "the image keeps layers with `urls` (sync.copyRemoteLayers: false), and the "
			       "registry refuses them or their urls; let the output hold those blobs with "
			       "`sync: {copyRemoteLayers: true}`");
}

/* The base layer a registry's MANIFEST_BLOB_UNKNOWN names (its message
 * carries the code and, in the detail, the digest), or NULL. */
static const ims_descriptor *lost_base_layer(const build *b, const ims_error *e)
{
	const char *m = e && e->message && b->base.t ? strstr(e->message, "MANIFEST_BLOB_UNKNOWN") : NULL;
	for (const char *p = m; p && (p = strstr(p, "sha256:")); p += 7) {
		char d[IMS_DIGEST_BUFSZ];
		snprintf(d, sizeof(d), "%.71s", p);
		if (!ims_digest_valid(d))
			continue;
		for (size_t i = 0; i < b->base.n; i++) {
			const ims_manifest *man = b->base.images[i].manifest;
			for (size_t k = 0; man && k < man->nlayers; k++)
				if (!strcmp(man->layers[k].digest, d) && !man->layers[k].nurls)
					return &man->layers[k];
		}
	}
	return NULL;
}

static int tag_and_commit(build *b, const ims_descriptor *top, ims_error **err)
{
	int r = 0;
	if (b->nnames == 0)
		r = ims_transport_tag(b->target, NULL, top, err);
	for (size_t i = 0; i < b->nnames && r >= 0; i++)
		r = ims_transport_tag(b->target, b->names[i], top, err);
	return r < 0 ? r : ims_transport_commit(b->target, err);
}

/* The names, then commit. A registry that refuses the manifest with
 * MANIFEST_BLOB_UNKNOWN for a base layer it said it had (a HEAD that
 * lied, a blob lost since) gets that layer uploaded again, once, and the
 * manifest once more (catalogue item 58); any other failure, or a second
 * one, is the registry's message. */
static int push_names(build *b, const ims_descriptor *top, ims_error **err)
{
	ims_error *first = NULL;
	int r = tag_and_commit(b, top, &first);
	const ims_descriptor *lost = r < 0 ? lost_base_layer(b, first) : NULL;
	if (lost) {
		ims_events_warn(&b->env->ev, "%s; uploading base layer %s again and retrying once", first->message,
				lost->digest);
		ims_error *e = NULL;
		r = ims_transport_copy_blob_always(b->base.t, b->target, lost, &e);
		if (r >= 0) {
			ims_error_clear(&first);
			r = tag_and_commit(b, top, &first);
		} else {
			ims_error_append(&first, r, "uploading %s again failed: %s", lost->digest,
					 e && e->message ? e->message : "error");
		}
		ims_error_free(e);
	}
	if (r < 0 && err && !*err)
		*err = steal_pointer(&first);
	ims_error_free(first);
	return r;
}

/* The top document (the manifest, or an index over several), then the
 * names, made visible at commit. */
static int publish(build *b, ims_error **err)
{
	ims_build_result *res = b->res;
	ims_descriptor top = { 0 };
	int r = 0;
	if (b->ndescs == 1) {
		ims_descriptor_copy(&top, &b->descs[0]);
		ims_platform_free(top.platform);
		top.platform = NULL;
	} else {
		r = write_index(b->p, b->target, b->docker, b->descs, b->ndescs, &top, err);
	}
	if (r >= 0) {
		snprintf(res->digest, sizeof(res->digest), "%s", top.digest);
		res->media_type = xstrdup(top.media_type);
		res->size = top.size;
	}
	if (r >= 0 && b->target)
		r = push_names(b, &top, err);
	ims_descriptor_dispose(&top);
	if (r < 0) {
		foreign_hint(res, err);
		return r;
	}
	res->refs = xcalloc(b->nnames + 1, sizeof(char *));
	if (b->nnames == 0)
		res->refs[res->nrefs++] = display_ref(b->p, NULL);
	for (size_t i = 0; i < b->nnames; i++)
		res->refs[res->nrefs++] = display_ref(b->p, b->names[i]);
	return 0;
}

/* --cache-to: the new layers and their recipes, for the next machine. */
static void export_cache(build *b)
{
	if (!b->p->cache_to)
		return;
	ims_remote_cache_export(b->env, b->p, &b->session, b->target, b->docs, b->nl, b->nnew, b->docker);
}

/* One foreign layer: unless the target or the base holds its blob, one of
 * its urls must serve it. */
static int check_foreign(build *b, const ims_descriptor *d, ims_error **err)
{
	bool have = false;
	int r = ims_transport_has_blob(b->target, d->digest, &have, err);
	if (r < 0 || (have && !b->p->ignore_exists))
		return r;
	if (b->base.t && (r = ims_transport_has_blob(b->base.t, d->digest, &have, err)) < 0)
		return r;
	if (b->base.t && have)
		return 0;
	return ims_exec_foreign_check(b->session.http, d, err);
}

/* Before any blob is written: the foreign layers the output is to hold
 * (sync.copyRemoteLayers) can be fetched, so that a missing one fails the
 * build with the target untouched, not after the other blobs went up. */
static int check_foreign_layers(build *b, ims_error **err)
{
	const ims_plan *p = b->p;
	if (!b->target || !p->copy_remote_layers)
		return 0;
	int r = 0;
	for (size_t i = 0; i < p->nsteps && r >= 0; i++) {
		const ims_step *s = &p->steps[i];
		if (s->kind != IMS_STEP_BLOB || !s->blob.nurls)
			continue;
		ims_descriptor d = { .size = s->blob.size, .urls = s->blob.urls, .nurls = s->blob.nurls };
		snprintf(d.digest, sizeof(d.digest), "%s", s->blob.digest);
		if ((r = check_foreign(b, &d, err)) < 0)
			ims_error_wrap(err, "%sblob layer", s->at);
	}
	for (size_t i = 0; i < b->base.n && r >= 0; i++) {
		const ims_manifest *m = b->base.images[i].manifest;
		for (size_t k = 0; m && k < m->nlayers && r >= 0; k++) {
			const ims_descriptor *d = &m->layers[k];
			bool dropped = false;
			for (size_t x = 0; x < p->nremovals; x++)
				dropped |= !strcmp(p->removals[x].digest, d->digest);
			if (d->nurls && !dropped && (r = check_foreign(b, d, err)) < 0) {
				_cleanup_free_ char *bs = ims_ref_string(p->source);
				ims_error_wrap(err, "base `%s`", bs);
			}
		}
	}
	return r;
}

static int run(ims_build_result *res, const ims_exec_env *env, const ims_plan *p, ims_exec_mode mode, ims_error **err)
{
	bool dry = mode != IMS_EXEC_RUN;
	build b = { .env = env, .p = p, .dry = dry, .probing = mode == IMS_EXEC_DRY, .res = res };
	/* the first layer's files are listed while libcurl loads and the
	 * registries answer */
	b.walked = ims_prewalk_start(env, p, dry);
	int r = open_all(&b, err);
	if (r >= 0)
		r = check_foreign_layers(&b, err);
	if (r >= 0)
		r = check_platform_steps(&b, err);
	if (r >= 0)
		ims_remote_cache_load(&b.remote, env, p, &b.session);
	if (r >= 0 && b.remote.n && !p->ignore_exists && p->target->kind == IMS_REF_REGISTRY)
		ims_remote_cache_ask_ahead(&b.remote, b.target ? b.target : b.probe, env);
	/* after every check that can fail the build before a byte is
	 * written: from here on, base blobs cross over while layers build */
	if (r >= 0 && !dry)
		b.prefetch = ims_exec_prefetch_start(p, &b.base, b.target, env->jobs);
	if (r >= 0)
		r = ims_exec_build_layers(env, p, NULL, b.target, b.probe, &b.base, b.session.http, &b.remote, b.walked,
					  b.uncompressed, &b.nl, &b.nnew, &b.closer, err);
	/* every base blob in the target (or failed) before any manifest */
	ims_exec_blob_sync_finish(b.prefetch, r < 0);
	if (r >= 0)
		r = write_platforms(&b, err);
	if (r >= 0)
		r = publish(&b, err);
	if (r >= 0 && !dry)
		export_cache(&b);
	build_dispose(&b);
	if (r >= 0 && p->target->kind == IMS_REF_REGISTRY && (!dry || b.probing))
		mark_uploads(res);
	return r;
}

int ims_exec_build(ims_build_result **out, const ims_exec_env *env, const ims_plan *p, ims_exec_mode mode,
		   ims_error **err)
{
	ims_build_result *res = ims_result_new();
	res->dry_run = mode != IMS_EXEC_RUN;
	int r = run(res, env, p, mode, err);
	if (r < 0) {
		ims_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}
