/* The registry transport: the transport vtable over the registry client.
 *
 * Writing is ordered the way registries need it: blobs first (spooled,
 * verified, then uploaded by a few worker threads while the caller builds
 * the next layer), the manifest by digest once every upload has finished,
 * and the tags last, as PUTs of the same bytes. There is nothing to commit
 * atomically: the tag going last is what makes the image appear. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ref/ref.h"
#include "transport/registry_ahead.h"
#include "transport/registry_pool.h"
#include "transport/registry_eager.h"
#include "transport/registry_queue.h"
#include "transport/registry_spool.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define DEFAULT_JOBS 4

typedef struct {
	char digest[IMS_DIGEST_BUFSZ];
	int action;
} blob_note;

/* A manifest pushed in this run, kept (≤ 4 MiB) so that tags can PUT the
 * very same bytes. */
typedef struct {
	char digest[IMS_DIGEST_BUFSZ];
	char *media_type;
	char *data;
	size_t len;
	bool pushed; /* PUT by digest or by a tag already */
} kept_manifest;

typedef struct {
	ims_transport base;
	ims_registry *reg;
	char *tmp_dir;
	int jobs;
	bool put_always; /* sync.ignoreExists: no HEAD saves a manifest PUT */
	ims_events ev;
	ims_upload_queue *queue;
	ims_upload_slots *slots;  /* -j: the queue's workers and the streams share them */
	ims_eager_upload **eager; /* committed streamed uploads, waited for before a manifest */
	size_t neager, cap_eager;
	int nstreams;             /* for their progress labels */
	pthread_mutex_t lock; /* notes, queue, eager: two callers may write (exec/prefetch.c) */
	blob_note *notes;
	size_t nnotes, cap_notes;
	kept_manifest *kept;
	size_t nkept, cap_kept;
	/* What tag_name named when tag_names asked (a digest, or "" for
	 * nothing): asked once, and the PUT of that name uses it instead of a
	 * HEAD. */
	char *tag_name;
	char tag_at[IMS_DIGEST_BUFSZ];
	ims_blob_ahead *ahead; /* blobs asked for ahead (ask_ahead) */
} registry_transport;

static const char *repo_of(const registry_transport *t)
{
	return t->base.ref->repository;
}

/* ---- what happened to each blob ---- */

static blob_note *find_note(registry_transport *t, const char *digest)
{
	for (size_t i = 0; i < t->nnotes; i++)
		if (!strcmp(t->notes[i].digest, digest))
			return &t->notes[i];
	return NULL;
}

/* Records action unless an upload or mount is already recorded. */
static void note(registry_transport *t, const char *digest, int action)
{
	pthread_mutex_lock(&t->lock);
	blob_note *n = find_note(t, digest);
	if (!n) {
		t->notes = xgrow(t->notes, &t->cap_notes, t->nnotes + 1, sizeof(*t->notes));
		n = &t->notes[t->nnotes++];
		snprintf(n->digest, sizeof(n->digest), "%s", digest);
		n->action = action;
	} else if (n->action == IMS_REGISTRY_BLOB_SKIPPED) {
		n->action = action;
	}
	pthread_mutex_unlock(&t->lock);
}

static int noted(registry_transport *t, const char *digest)
{
	pthread_mutex_lock(&t->lock);
	blob_note *n = find_note(t, digest);
	int a = n ? n->action : IMS_REGISTRY_BLOB_NONE;
	pthread_mutex_unlock(&t->lock);
	return a;
}

int ims_transport_registry_blob_action(ims_transport *t, const char *digest)
{
	if (!t || t->ops != &ims_transport_registry_ops || !digest)
		return IMS_REGISTRY_BLOB_NONE;
	return noted((registry_transport *)t, digest);
}

const char *ims_registry_blob_action_name(int action)
{
	switch (action) {
	case IMS_REGISTRY_BLOB_UPLOADED:
		return "uploaded";
	case IMS_REGISTRY_BLOB_MOUNTED:
		return "mounted";
	case IMS_REGISTRY_BLOB_SKIPPED:
		return "skipped";
	default:
		return NULL;
	}
}

/* ---- open, close ---- */

static int reg_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts, ims_error **err)
{
	if (!opts->registries)
		return ims_error_set(err, IMS_EUNSUPPORTED, "registry references need a registry pool");
	ims_registry *reg = NULL;
	int rc = ims_registry_pool_get(opts->registries, ref->registry, &reg, err);
	if (rc < 0)
		return rc;
	registry_transport *t = xcalloc(1, sizeof(*t));
	t->reg = reg;
	t->tmp_dir = opts->tmp_dir ? xstrdup(opts->tmp_dir) : NULL;
	t->jobs = opts->jobs > 0 ? opts->jobs : DEFAULT_JOBS;
	t->put_always = opts->put_always;
	t->slots = ims_upload_slots_new(t->jobs);
	t->ev = opts->ev;
	pthread_mutex_init(&t->lock, NULL);
	*out = &t->base;
	return 0;
}

static void reg_close(ims_transport *base)
{
	registry_transport *t = (registry_transport *)base;
	ims_blob_ahead_free(t->ahead);
	ims_upload_queue_free(t->queue);
	for (size_t i = 0; i < t->neager; i++)
		ims_eager_wait(t->eager[i], NULL);
	free(t->eager);
	ims_upload_slots_free(t->slots);
	for (size_t i = 0; i < t->nkept; i++) {
		free(t->kept[i].media_type);
		free(t->kept[i].data);
	}
	free(t->kept);
	free(t->notes);
	free(t->tag_name);
	free(t->tmp_dir);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- reading ---- */

static int reg_get_manifest(ims_transport *base, const char *digest, char **data, size_t *len, char **media_type,
			    ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	const ims_ref *ref = base->ref;
	/* A reference pinned by digest is fetched by that digest, even when
	 * it names a tag too. */
	const char *reference = digest ? digest : ref->digest ? ref->digest : ref->tag;
	if (!reference)
		return ims_error_set(err, IMS_EINVALID, "`%s/%s` names no tag or digest", ref->registry,
				     ref->repository);
	char got[IMS_DIGEST_BUFSZ];
	return ims_registry_manifest_get(t->reg, repo_of(t), reference, data, len, media_type, got, err);
}

static int reg_open_blob(ims_transport *base, const char *digest, ims_reader *out, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	/* A HEAD now, so that a missing blob is an error of open (callers
	 * probe with it); the bytes come on the first read. */
	bool exists = false;
	int64_t size = -1;
	int rc = ims_registry_blob_head(t->reg, repo_of(t), digest, &exists, &size, err);
	if (rc < 0)
		return rc;
	if (!exists)
		return ims_error_set(err, IMS_ENOTFOUND, "blob %s not found in `%s/%s`", digest,
				     ims_registry_host(t->reg), repo_of(t));
	ims_spool_reader(out, t->reg, repo_of(t), digest, size, t->tmp_dir);
	return 0;
}

static int buf_write(void *ud, const void *p, size_t n, ims_error **err)
{
	return ims_buf_add(ud, p, n, err);
}

/* A config or a cache map: one GET (the registry client checks the digest
 * as the bytes come); a HEAD first would cost a round trip, and a missing
 * blob is the GET's 404 anyway. */
static int reg_read_blob(ims_transport *base, const char *digest, size_t max, char **data, size_t *len,
			 ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	ims_buf buf = IMS_BUF_INIT(max);
	ims_sink sink = { buf_write, &buf };
	int rc = ims_registry_blob_get(t->reg, repo_of(t), digest, -1, &sink, err);
	if (rc < 0) {
		ims_buf_dispose(&buf);
		return rc;
	}
	*data = ims_buf_steal(&buf, len);
	return 0;
}

/* ---- writing ---- */

static int reg_has_blob(ims_transport *base, const char *digest, bool *exists, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	/* Committed in this run (perhaps still uploading): it will be there
	 * before any manifest that needs it; or found there in this run. */
	int a = noted(t, digest);
	if (a == IMS_REGISTRY_BLOB_UPLOADED || a == IMS_REGISTRY_BLOB_MOUNTED || a == IMS_REGISTRY_BLOB_SKIPPED) {
		*exists = true;
		return 0;
	}
	/* asked for ahead: the answer given, or the one in flight */
	int ahead = ims_blob_ahead_take(t->ahead, digest);
	if (ahead != IMS_AHEAD_ASK) {
		*exists = ahead == IMS_AHEAD_PRESENT;
		return 0;
	}
	ims_error *e = NULL;
	int rc = ims_registry_blob_head(t->reg, repo_of(t), digest, exists, NULL, &e);
	if (rc == 0 && *exists)
		note(t, digest, IMS_REGISTRY_BLOB_SKIPPED);
	/* A server error that outlived the retries, for this one blob: a
	 * registry killed while writing its link file answers 500 until the
	 * blob is pushed again. Pushing it is what repairs it; the manifest
	 * still goes last, so nothing is lost by trying. */
	if (rc < 0 && e && e->http_status >= 500) {
		ims_events_warn(&t->ev, "%s; pushing the blob again", e->message);
		ims_error_free(e);
		*exists = false;
		return 0;
	}
	if (rc < 0) {
		if (err && !*err)
			*err = e;
		else
			ims_error_free(e);
	}
	return rc;
}

/* A blob being written: big ones start uploading before they are whole. */
typedef struct {
	registry_transport *t;
	ims_eager_upload *eager;
	bool tried;
} new_blob;

/* A blob this big is sent while it is being written (smaller ones, the
 * usual case for configs and app layers, cost one request less whole). */
#define EAGER_MIN (8 << 20)

/* IMAGESPEC_STREAM_UPLOADS=0: every blob whole (docs/registries.md). */
static bool streams_allowed(void)
{
	const char *v = getenv("IMAGESPEC_STREAM_UPLOADS");
	return !v || strcmp(v, "0") != 0;
}

static void grew(void *ud, int fd, int64_t total)
{
	new_blob *nb = ud;
	registry_transport *t = nb->t;
	/* Only with a free slot: -j 1 is one upload at a time, streamed or not. */
	if (!nb->eager && !nb->tried && total >= EAGER_MIN && streams_allowed()) {
		nb->tried = true;
		if (ims_upload_slots_try(t->slots)) {
			char label[48];
			pthread_mutex_lock(&t->lock);
			snprintf(label, sizeof(label), "uploading new layer %d", ++t->nstreams);
			pthread_mutex_unlock(&t->lock);
			nb->eager = ims_eager_start(t->reg, repo_of(t), fd, &t->ev, label, ims_upload_slots_give,
						    t->slots);
			if (!nb->eager)
				ims_upload_slots_give(t->slots);
		}
	}
	if (nb->eager)
		ims_eager_grow(nb->eager, total);
}

static void dropped(void *ud)
{
	new_blob *nb = ud;
	ims_eager_abort(nb->eager);
	free(nb);
}

static int spooled(void *ud, int fd, const char *digest, int64_t size, ims_error **err)
{
	new_blob *nb = ud;
	registry_transport *t = nb->t;
	ims_eager_upload *eager = nb->eager;
	free(nb);
	int a = noted(t, digest);
	if (a == IMS_REGISTRY_BLOB_UPLOADED || a == IMS_REGISTRY_BLOB_MOUNTED) {
		ims_eager_abort(eager);
		close(fd); /* the same layer again (another platform) */
		return 0;
	}
	if (eager) {
		ims_eager_commit(eager, digest, size);
		pthread_mutex_lock(&t->lock);
		t->eager = xgrow(t->eager, &t->cap_eager, t->neager + 1, sizeof(*t->eager));
		t->eager[t->neager++] = eager;
		pthread_mutex_unlock(&t->lock);
		note(t, digest, IMS_REGISTRY_BLOB_UPLOADED);
		return 0;
	}
	/* locked: base blobs are synced from a thread of their own
	 * (exec/prefetch.c) while the caller writes the new layers */
	pthread_mutex_lock(&t->lock);
	if (!t->queue)
		t->queue = ims_upload_queue_new(t->reg, repo_of(t), t->jobs, t->slots, &t->ev);
	ims_upload_queue *q = t->queue;
	pthread_mutex_unlock(&t->lock);
	ims_upload_queue_add(q, fd, digest, size);
	note(t, digest, IMS_REGISTRY_BLOB_UPLOADED);
	return 0;
}

static int reg_new_blob(ims_transport *base, ims_blob_writer **out, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	char *what = xasprintf("`%s/%s`", ims_registry_host(t->reg), repo_of(t));
	new_blob *nb = xcalloc(1, sizeof(*nb));
	nb->t = t;
	int rc = ims_spool_writer_new(out, t->tmp_dir, what, spooled, nb, err);
	free(what);
	if (rc < 0) {
		free(nb);
		return rc;
	}
	ims_spool_hooks h = { grew, dropped };
	ims_spool_writer_hooks(*out, &h);
	return rc;
}

/* Every upload begun: the queue's and the streamed ones. */
static int wait_uploads(registry_transport *t, ims_error **err)
{
	int rc = t->queue ? ims_upload_queue_wait(t->queue, err) : 0;
	pthread_mutex_lock(&t->lock);
	ims_eager_upload **v = t->eager;
	size_t n = t->neager;
	t->eager = NULL;
	t->neager = t->cap_eager = 0;
	pthread_mutex_unlock(&t->lock);
	for (size_t i = 0; i < n; i++) {
		ims_error *e = NULL;
		if (ims_eager_wait(v[i], &e) < 0) {
			rc = rc < 0 ? rc : e ? e->code : IMS_EGENERIC;
			ims_error_append(err, rc, "%s", e && e->message ? e->message : "upload failed");
		}
		ims_error_free(e);
	}
	free(v);
	return rc;
}

static void keep(registry_transport *t, const char *data, size_t len, const char *media_type, const char *digest)
{
	for (size_t i = 0; i < t->nkept; i++)
		if (!strcmp(t->kept[i].digest, digest))
			return;
	t->kept = xgrow(t->kept, &t->cap_kept, t->nkept + 1, sizeof(*t->kept));
	kept_manifest *k = &t->kept[t->nkept++];
	snprintf(k->digest, sizeof(k->digest), "%s", digest);
	k->media_type = xstrdup(media_type);
	k->data = xmemdup(data, len ? len : 1);
	k->len = len;
	k->pushed = false;
}

/* PUTs k under reference (a tag or its digest), unless a HEAD says that
 * reference names k already: an unchanged rebuild then sends only HEADs.
 * A registry checks a manifest PUT against every blob it names (15-20 ms
 * of an unchanged rebuild's 75 against docker-registry). A registry that
 * sends no Docker-Content-Digest for a tag gets the PUT, and so does every
 * reference with sync.ignoreExists. */
static int put_unless_there(registry_transport *t, const char *reference, kept_manifest *k, ims_error **err)
{
	bool have = false;
	char at[IMS_DIGEST_BUFSZ] = "";
	int rc = 0;
	if (t->put_always) {
		/* sync.ignoreExists: every name gets its PUT */
	} else if (t->tag_name && !strcmp(reference, t->tag_name)) {
		/* asked by tag_names; the PUT below changes the answer */
		have = *t->tag_at != '\0';
		memcpy(at, t->tag_at, sizeof(at));
		free(t->tag_name);
		t->tag_name = NULL;
	} else if ((rc = ims_registry_manifest_head(t->reg, repo_of(t), reference, &have, at, err)) < 0) {
		return rc;
	}
	if (!(have && !strcmp(at, k->digest)))
		rc = ims_registry_manifest_put(t->reg, repo_of(t), reference, k->data, k->len, k->media_type, err);
	if (rc == 0)
		k->pushed = true;
	return rc;
}

/* PUTs by digest every kept manifest not pushed yet, except `but`. */
static int flush_manifests(registry_transport *t, const char *but, ims_error **err)
{
	for (size_t i = 0; i < t->nkept; i++) {
		kept_manifest *k = &t->kept[i];
		if (k->pushed || (but && !strcmp(k->digest, but)))
			continue;
		int rc = put_unless_there(t, k->digest, k, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Manifests are kept and PUT lazily: the one that gets a tag is PUT once,
 * under its tag, instead of by digest and then again by tag. Whatever is
 * kept is flushed before the next manifest (an index's children precede
 * it) and at commit, so nothing is PUT before what it names. */
static int reg_put_manifest(ims_transport *base, const char *data, size_t len, const char *media_type,
			    const char *digest, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	/* A manifest must never arrive before its blobs. */
	int rc = wait_uploads(t, err);
	if (rc < 0)
		return rc;
	if ((rc = flush_manifests(t, NULL, err)) < 0)
		return rc;
	keep(t, data, len, media_type, digest);
	return 0;
}

static int reg_tag(ims_transport *base, const char *name, const ims_descriptor *desc, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	const char *tag = name ? name : base->ref->tag;
	if (!tag)
		return 0; /* a reference by digest only: the manifest is its name */
	if (!ims_ref_tag_valid(tag))
		return ims_error_set(err, IMS_EINVALID, "invalid tag `%s`", tag);
	int rc = wait_uploads(t, err);
	if (rc < 0)
		return rc;
	if ((rc = flush_manifests(t, desc->digest, err)) < 0)
		return rc;
	for (size_t i = 0; i < t->nkept; i++) {
		kept_manifest *k = &t->kept[i];
		if (!strcmp(k->digest, desc->digest))
			return put_unless_there(t, tag, k, err);
	}
	/* Not pushed in this run: tag what the registry holds under that
	 * digest, byte for byte. */
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	char got[IMS_DIGEST_BUFSZ];
	rc = ims_registry_manifest_get(t->reg, repo_of(t), desc->digest, &data, &len, &mt, got, err);
	if (rc == 0)
		rc = ims_registry_manifest_put(t->reg, repo_of(t), tag, data, len, mt, err);
	free(data);
	free(mt);
	return rc;
}

static int reg_commit(ims_transport *base, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	int rc = wait_uploads(t, err);
	return rc < 0 ? rc : flush_manifests(t, NULL, err);
}

static int reg_mount_blob(ims_transport *base, ims_transport *src, const ims_descriptor *d, bool *mounted,
			  ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	*mounted = false;
	if (src->ops != &ims_transport_registry_ops)
		return 0;
	registry_transport *s = (registry_transport *)src;
	if (strcmp(ims_registry_host(s->reg), ims_registry_host(t->reg)) != 0 || strcmp(repo_of(s), repo_of(t)) == 0)
		return 0;
	int rc = ims_registry_blob_mount(t->reg, repo_of(t), d->digest, repo_of(s), mounted, err);
	if (rc == 0 && *mounted)
		note(t, d->digest, IMS_REGISTRY_BLOB_MOUNTED);
	return rc;
}

static int reg_tag_names(ims_transport *base, const char *name, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	if (!t->tag_name || strcmp(t->tag_name, name) != 0) {
		bool have = false;
		char at[IMS_DIGEST_BUFSZ] = "";
		int rc = ims_registry_manifest_head(t->reg, repo_of(t), name, &have, at, err);
		if (rc < 0)
			return rc;
		free(t->tag_name);
		t->tag_name = xstrdup(name);
		snprintf(t->tag_at, sizeof(t->tag_at), "%s", have ? at : "");
	}
	memcpy(digest, t->tag_at, IMS_DIGEST_BUFSZ);
	return 0;
}

/* On the ahead thread: a HEAD, noted as has_blob notes it. */
static int ask_blob(void *ud, const char *digest, bool *exists)
{
	registry_transport *t = ud;
	ims_error *e = NULL;
	int rc = ims_registry_blob_head(t->reg, repo_of(t), digest, exists, NULL, &e);
	ims_error_free(e); /* has_blob asks again, and reports it */
	if (rc == 0 && *exists)
		note(t, digest, IMS_REGISTRY_BLOB_SKIPPED);
	return rc;
}

static bool reg_ask_ahead(ims_transport *base, const char *const *digests, size_t n)
{
	registry_transport *t = (registry_transport *)base;
	if (t->ahead) /* once: a second list would wait for the first */
		return false;
	t->ahead = ims_blob_ahead_start(digests, n, ask_blob, t);
	return t->ahead != NULL;
}

static int reg_list_tags(ims_transport *base, char ***tags, size_t *n, ims_error **err)
{
	registry_transport *t = (registry_transport *)base;
	int rc = ims_registry_tags(t->reg, repo_of(t), tags, n, err);
	if (rc < 0)
		return rc;
	/* A registry lists each tag once; a broken or hostile one may not. */
	*n = ims_transport__unique(*tags, *n);
	return 0;
}

const ims_transport_ops ims_transport_registry_ops = {
	.version = IMS_TRANSPORT_OPS_VERSION,
	.kind = IMS_REF_REGISTRY,
	.name = "registry",
	.open = reg_open,
	.get_manifest = reg_get_manifest,
	.open_blob = reg_open_blob,
	.has_blob = reg_has_blob,
	.new_blob = reg_new_blob,
	.put_manifest = reg_put_manifest,
	.tag = reg_tag,
	.commit = reg_commit,
	.close = reg_close,
	.mount_blob = reg_mount_blob,
	.list_tags = reg_list_tags,
	.tag_names = reg_tag_names,
	.ask_ahead = reg_ask_ahead,
	.read_blob = reg_read_blob,
};
