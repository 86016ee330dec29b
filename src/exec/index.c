/* Running an index plan (`imagespec index create|append`): single-platform
 * images, and the entries of indexes, joined into one index at the target.
 *
 * Everything is read and checked first (every source's manifests and
 * configs, the platforms, the target's index for append), so that a
 * missing source or a duplicate platform fails with nothing written. Then,
 * per new entry, its blobs the target lacks and its manifest; then the
 * index; then the name, made visible at commit. */
#include <stdlib.h>
#include <string.h>

#include "exec/blob_sync.h"
#include "exec/exec_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const ims_transfer_opts index_copy_opts = { .ignore_exists = false, .mount = true };

/* One entry of the index to write. */
typedef struct {
	ims_descriptor desc;    /* media type, digest, size, platform */
	ims_transport *src;     /* borrowed; NULL: the target holds it already */
	ims_manifest *manifest; /* new entries: whose blobs to copy */
	char *data;             /* new entries: the manifest's bytes, as stored */
	size_t len;
	const char *shown; /* the source as the user wrote it */
} entry;

typedef struct {
	const ims_exec_env *env;
	const ims_plan *p;
	const char *const *shown;
	const char *shown_dst;
	ims_transport **srcs;
	ims_transport *dst;
	entry *v;
	size_t n;
	size_t nkept;  /* entries [0, nkept) came from the target's index (append) */
	size_t norder; /* entries in the index written */
} job;

static void entry_dispose(entry *e)
{
	ims_descriptor_dispose(&e->desc);
	ims_manifest_free(e->manifest);
	free(e->data);
}

static bool same_platform(const ims_platform *a, const ims_platform *b)
{
	if (!a || !b || !a->os || !b->os || strcmp(a->os, b->os))
		return false;
	const char *aa, *av, *ba, *bv;
	ims_platform_normalize(a->architecture, a->variant, &aa, &av);
	ims_platform_normalize(b->architecture, b->variant, &ba, &bv);
	const char *ao = a->os_version ? a->os_version : "", *bo = b->os_version ? b->os_version : "";
	return !strcmp(aa, ba) && !strcmp(av, bv) && !strcmp(ao, bo);
}

static bool is_attestation(const ims_platform *pl)
{
	return pl && pl->os && !strcmp(pl->os, "unknown");
}

/* The platform of an image, from its config (os, architecture, variant,
 * os.version); what the config leaves out is taken from the index entry
 * that named it, when there is one. */
static int image_platform(ims_transport *t, const ims_manifest *m, const ims_platform *hint, ims_platform **out,
			  ims_error **err)
{
	_cleanup_free_ char *cdata = NULL;
	size_t clen = 0;
	ims_config *cfg = NULL;
	int r = ims_transport_read_blob(t, m->config.digest, IMS_CONFIG_MAX, &cdata, &clen, err);
	if (r < 0)
		return ims_error_wrap(err, "read config %s", m->config.digest);
	if ((r = ims_config_parse(&cfg, cdata, clen, err)) < 0)
		return ims_exec_not_spec(err, ims_error_wrap(err, "config %s", m->config.digest));
	ims_platform *pl = ims_config_platform(cfg);
	ims_config_free(cfg);
	if (!pl)
		return ims_error_set(err, IMS_EGENERIC, "config %s names no os and architecture", m->config.digest);
	if (hint && !pl->variant && hint->variant)
		pl->variant = xstrdup(hint->variant);
	if (hint && !pl->os_version && hint->os_version)
		pl->os_version = xstrdup(hint->os_version);
	*out = pl;
	return 0;
}

/* A new entry: one image manifest of source i, bytes as stored. */
static int add_image(job *j, size_t i, char *data, size_t len, const char *mt, const ims_platform *hint,
		     ims_error **err)
{
	ims_manifest *m = NULL;
	int r = ims_manifest_parse(&m, data, len, err);
	if (r < 0) {
		free(data);
		return ims_exec_not_spec(err, r);
	}
	ims_platform *pl = NULL;
	if ((r = image_platform(j->srcs[i], m, hint, &pl, err)) < 0) {
		free(data);
		ims_manifest_free(m);
		return r;
	}
	for (size_t k = j->nkept; k < j->n; k++) {
		if (!same_platform(j->v[k].desc.platform, pl))
			continue;
		_cleanup_free_ char *ps = ims_platform_string(pl);
		r = ims_error_set(err, IMS_EINVALID, "platform `%s` is given twice: by `%s` and by `%s`", ps,
				  j->v[k].shown, j->shown[i]);
		ims_error_hint(err, "an index holds one image per platform; leave one of them out");
		ims_platform_free(pl);
		ims_manifest_free(m);
		free(data);
		return r;
	}
	j->v = xrealloc(j->v, (j->n + 1) * sizeof(*j->v));
	entry *e = &j->v[j->n++];
	memset(e, 0, sizeof(*e));
	e->desc.media_type = xstrdup(mt);
	ims_sha256_buf(data, len, e->desc.digest);
	e->desc.size = (int64_t)len;
	e->desc.platform = pl;
	e->src = j->srcs[i];
	e->manifest = m;
	e->data = data;
	e->len = len;
	e->shown = j->shown[i];
	return 0;
}

/* A manifest src holds under digest (NULL: the one its reference names),
 * checked against the digest when there is one. */
static int get_doc(ims_transport *src, const char *digest, char **data, size_t *len, ims_doc_kind *kind, char **mt,
		   ims_error **err)
{
	_cleanup_free_ char *ct = NULL;
	int r = ims_exec_get_verified(src, digest, data, len, &ct, err);
	if (r < 0)
		return r;
	if ((r = ims_doc_detect(*data, *len, ct, kind, mt, err)) < 0)
		r = ims_exec_not_spec(err, r);
	if (r < 0) {
		free(*data);
		*data = NULL;
	}
	return r;
}

/* Source i: an image, or an index whose image entries are taken one by one
 * (attestations and other platform-less entries are left out). */
static int read_source(job *j, size_t i, ims_error **err)
{
	char *data = NULL;
	_cleanup_free_ char *mt = NULL;
	size_t len = 0;
	ims_doc_kind kind;
	int r = get_doc(j->srcs[i], j->p->sources[i]->digest, &data, &len, &kind, &mt, err);
	if (r < 0)
		return r;
	if (kind == IMS_DOC_MANIFEST)
		return add_image(j, i, data, len, mt, NULL, err);
	ims_index *ix = NULL;
	r = ims_index_parse(&ix, data, len, err);
	free(data);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	size_t before = j->n;
	for (size_t k = 0; k < ix->nmanifests && r >= 0; k++) {
		const ims_descriptor *d = &ix->manifests[k];
		if (!d->platform || is_attestation(d->platform))
			continue;
		if (!strcmp(d->media_type, IMS_MT_OCI_INDEX) || !strcmp(d->media_type, IMS_MT_DOCKER_LIST)) {
			r = ims_error_set(err, IMS_EUNSUPPORTED, "`%s` nests an index (%s); that is not supported yet",
					  j->shown[i], d->digest);
			break;
		}
		char *md = NULL;
		_cleanup_free_ char *mmt = NULL;
		size_t mlen = 0;
		ims_doc_kind mk;
		if ((r = get_doc(j->srcs[i], d->digest, &md, &mlen, &mk, &mmt, err)) < 0)
			break;
		r = add_image(j, i, md, mlen, mmt, d->platform, err);
	}
	ims_index_free(ix);
	if (r >= 0 && j->n == before)
		r = ims_error_set(err, IMS_ENOTFOUND, "the index `%s` lists no platform images", j->shown[i]);
	return r;
}

/* append: the target's index, whose entries are kept unless a new entry
 * has their platform (replaced, with a warning). */
static int read_target(job *j, ims_error **err)
{
	char *data = NULL;
	_cleanup_free_ char *mt = NULL;
	size_t len = 0;
	ims_doc_kind kind;
	_cleanup_free_ char *ds = ims_ref_string(j->p->target);
	int r = get_doc(j->dst, NULL, &data, &len, &kind, &mt, err);
	if (r == IMS_ENOTFOUND) {
		ims_error_hint(err, "there is no index to append to; make one with `imagespec index create`");
		return r;
	}
	if (r < 0)
		return ims_error_wrap(err, "read `%s`", ds);
	if (kind != IMS_DOC_INDEX) {
		free(data);
		r = ims_error_set(err, IMS_EINVALID, "`%s` is a single image, not an index", ds);
		ims_error_hint(err,
			       "make an index of it and the new images with `imagespec index create DEST %s SRC...`",
			       ds);
		return r;
	}
	ims_index *ix = NULL;
	r = ims_index_parse(&ix, data, len, err);
	free(data);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	j->v = xcalloc(ix->nmanifests + 1, sizeof(*j->v));
	for (size_t k = 0; k < ix->nmanifests; k++) {
		ims_descriptor_copy(&j->v[k].desc, &ix->manifests[k]);
		j->v[k].shown = "the existing index";
	}
	j->n = j->nkept = ix->nmanifests;
	ims_index_free(ix);
	return 0;
}

/* The index's order: the kept entries, each replaced in place by a new
 * entry of its platform (with a warning unless it is the same image),
 * then the other new entries in the order given. Borrowed pointers. */
static entry **index_order(job *j)
{
	entry **o = xcalloc(j->n + 1, sizeof(*o));
	bool *used = xcalloc(j->n + 1, sizeof(*used));
	size_t k = 0;
	for (size_t i = 0; i < j->nkept; i++) {
		entry *by = &j->v[i];
		for (size_t x = j->nkept; x < j->n && by == &j->v[i]; x++)
			if (!used[x] && same_platform(j->v[i].desc.platform, j->v[x].desc.platform))
				by = &j->v[x], used[x] = true;
		if (by != &j->v[i] && strcmp(by->desc.digest, j->v[i].desc.digest)) {
			_cleanup_free_ char *ps = ims_platform_string(by->desc.platform);
			ims_events_warn(&j->env->ev, "replacing the index's image for %s (%s) with `%s`'s (%s)", ps,
					j->v[i].desc.digest, by->shown, by->desc.digest);
		}
		o[k++] = by;
	}
	for (size_t x = j->nkept; x < j->n; x++)
		if (!used[x])
			o[k++] = &j->v[x];
	free(used);
	j->norder = k;
	return o;
}

/* One new entry's blobs (config, layers), then its manifest. */
static int write_entry(job *j, entry *e, ims_error **err)
{
	_cleanup_free_ char *ps = ims_platform_string(e->desc.platform);
	ims_events_info(&j->env->ev, "copying %s from `%s`", ps, e->shown);
	int r = ims_exec_copy_image_blobs(e->src, j->dst, e->manifest, &index_copy_opts, j->env->jobs, err);
	if (r >= 0)
		r = ims_transport_put_manifest(j->dst, e->data, e->len, e->desc.media_type, e->desc.digest, err);
	return r < 0 ? ims_error_wrap(err, "%s from `%s`", ps, e->shown) : 0;
}

/* A Docker manifest list when every entry is a Docker manifest; an OCI
 * index otherwise (it may name Docker manifests, a list may not name OCI
 * ones). */
static int write_index(job *j, entry *const *order, ims_descriptor *top, ims_error **err)
{
	bool docker = true;
	ims_descriptor *descs = xcalloc(j->norder + 1, sizeof(*descs));
	for (size_t i = 0; i < j->norder; i++) {
		descs[i] = order[i]->desc; /* shallow: borrowed */
		docker &= !strcmp(order[i]->desc.media_type, IMS_MT_DOCKER_MANIFEST);
	}
	ims_index ix = { .media_type = (char *)(docker ? IMS_MT_DOCKER_LIST : IMS_MT_OCI_INDEX),
			 .manifests = descs,
			 .nmanifests = j->norder };
	size_t len = 0;
	_cleanup_free_ char *bytes = ims_index_encode(&ix, &len);
	free(descs);
	top->media_type = xstrdup(ix.media_type);
	ims_sha256_buf(bytes, len, top->digest);
	top->size = (int64_t)len;
	return ims_transport_put_manifest(j->dst, bytes, len, top->media_type, top->digest, err);
}

/* `index --json`: the shape of `build --json` (references, digest,
 * mediaType, size, manifests[] with platform, digest, mediaType, size),
 * plus each entry's source ("" for an entry kept by append). */
static char *result_json(const job *j, entry *const *order, const char *dst, const ims_descriptor *top)
{
	ims_json *o = ims_json_new_object();
	ims_json *refs = ims_json_new_array();
	ims_json_append(refs, ims_json_new_string(dst));
	ims_json_set(o, "references", refs);
	ims_json_set(o, "digest", ims_json_new_string(top->digest));
	ims_json_set(o, "mediaType", ims_json_new_string(top->media_type));
	ims_json_set(o, "size", ims_json_new_int(top->size));
	ims_json *ms = ims_json_new_array();
	for (size_t i = 0; i < j->norder; i++) {
		const entry *e = order[i];
		ims_json *mo = ims_json_new_object();
		_cleanup_free_ char *ps = e->desc.platform ? ims_platform_string(e->desc.platform) : xstrdup("");
		ims_json_set(mo, "platform", ims_json_new_string(ps));
		ims_json_set(mo, "digest", ims_json_new_string(e->desc.digest));
		ims_json_set(mo, "mediaType", ims_json_new_string(e->desc.media_type));
		ims_json_set(mo, "size", ims_json_new_int(e->desc.size));
		ims_json_set(mo, "source", ims_json_new_string(e->src ? e->shown : ""));
		ims_json_append(ms, mo);
	}
	ims_json_set(o, "manifests", ms);
	char *out = ims_json_encode(o, NULL);
	ims_json_free(o);
	return out;
}

static int run(job *j, ims_session *s, ims_descriptor *top, char **json, ims_error **err)
{
	const ims_plan *p = j->p;
	ims_transport_opts o = ims_exec_transport_opts(j->env, NULL, s);
	int r = ims_transport_open(&j->dst, p->target, IMS_TRANSPORT_WRITE, &o, err);
	if (r < 0) {
		_cleanup_free_ char *ts = ims_ref_string(p->target);
		return ims_error_wrap(err, "open `%s`", ts);
	}
	if (p->append && (r = read_target(j, err)) < 0)
		return r;
	for (size_t i = 0; i < p->nsources && r >= 0; i++) {
		if ((r = ims_transport_open(&j->srcs[i], p->sources[i], IMS_TRANSPORT_READ, &o, err)) < 0 ||
		    (r = read_source(j, i, err)) < 0)
			ims_error_wrap(err, "source `%s`", j->shown[i]);
	}
	if (r < 0)
		return r;
	_cleanup_free_ entry **order = index_order(j);
	for (size_t i = 0; i < j->norder && r >= 0; i++)
		if (order[i]->src)
			r = write_entry(j, order[i], err);
	if (r >= 0)
		r = write_index(j, order, top, err);
	if (r >= 0)
		r = ims_transport_tag(j->dst, NULL, top, err);
	if (r >= 0)
		r = ims_transport_commit(j->dst, err);
	if (r >= 0 && json)
		*json = result_json(j, order, j->shown_dst, top);
	return r;
}

int ims_exec_index(const ims_exec_env *env, const ims_plan *p, const char *dst, const char *const *shown, char **digest,
		   char **json, ims_error **err)
{
	ims_session session = { 0 };
	ims_descriptor top = { 0 };
	job j = { .env = env,
		  .p = p,
		  .shown = shown,
		  .shown_dst = dst,
		  .srcs = xcalloc(p->nsources + 1, sizeof(ims_transport *)) };
	int r = 0;
	if (ims_session_needed(p))
		r = ims_session_open(&session, env, p, err);
	if (r >= 0)
		r = run(&j, &session, &top, json, err);
	if (r >= 0 && digest)
		*digest = xstrdup(top.digest);
	ims_descriptor_dispose(&top);
	for (size_t i = 0; i < j.n; i++)
		entry_dispose(&j.v[i]);
	free(j.v);
	for (size_t i = 0; i < p->nsources; i++)
		ims_transport_close(j.srcs[i]);
	free(j.srcs);
	ims_transport_close(j.dst);
	ims_session_close(&session);
	return r < 0 ? r : 0;
}
