/* The scheme table and the helpers every caller goes through. Like libgit2's
 * transport table, the entry is chosen by the reference's kind, and the
 * vtable carries a version so plugins built against another layout are
 * refused instead of misread. */
#include "transport/transport.h"

#include <stdlib.h>
#include <string.h>

#include "digest/digest.h"
#include "digest/sha256_stream.h"
#include "transport/registry_pool.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const ims_transport_ops *lookup(ims_ref_kind kind)
{
	static const ims_transport_ops *const table[] = {
		[IMS_REF_REGISTRY] = &ims_transport_registry_ops,
		[IMS_REF_SCRATCH] = &ims_transport_scratch_ops,
		[IMS_REF_OCI] = &ims_transport_oci_ops,
		[IMS_REF_OCI_ARCHIVE] = &ims_transport_oci_archive_ops,
		[IMS_REF_DOCKER_ARCHIVE] = &ims_transport_docker_archive_ops,
	};
	if ((size_t)kind >= IMS_ARRAY_SIZE(table))
		return NULL;
	return table[kind];
}

const ims_transport_ops *ims_transport_ops_for(ims_ref_kind kind)
{
	return lookup(kind);
}

int ims_transport_open_with(ims_transport **out, const ims_transport_ops *ops, const ims_ref *ref, int mode,
			    const ims_transport_opts *opts, ims_error **err)
{
	static const ims_transport_opts defaults = { 0 };
	if (!ops || ops->version != IMS_TRANSPORT_OPS_VERSION || !ops->open || !ops->close)
		return ims_error_set(err, IMS_EUNSUPPORTED, "transport `%s` has an unknown interface version",
				     ops && ops->name ? ops->name : "?");
	if (!(mode & (IMS_TRANSPORT_READ | IMS_TRANSPORT_WRITE)))
		return ims_error_set(err, IMS_EINVALID, "open a transport: no mode given");
	ims_transport *t = NULL;
	int r = ops->open(&t, ref, mode, opts ? opts : &defaults, err);
	if (r < 0)
		return r;
	/* The header is filled here so no transport has to remember to. */
	t->ops = ops;
	t->ref = ims_ref_dup(ref);
	t->mode = mode;
	*out = t;
	return 0;
}

int ims_transport_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
		       ims_error **err)
{
	const ims_transport_ops *ops = lookup(ref->kind);
	if (!ops)
		return ims_error_set(err, IMS_EUNSUPPORTED, "unknown reference kind %d", (int)ref->kind);
	return ims_transport_open_with(out, ops, ref, mode, opts, err);
}

void ims_transport_close(ims_transport *t)
{
	if (!t)
		return;
	ims_ref *ref = t->ref;
	t->ops->close(t);
	ims_ref_free(ref);
}

unsigned ims_transport_flags(const ims_transport *t)
{
	return t->ops->flags;
}

unsigned ims_transport_kind_flags(ims_ref_kind kind)
{
	const ims_transport_ops *ops = ims_transport_ops_for(kind);
	return ops ? ops->flags : 0;
}

static int missing(ims_transport *t, const char *what, ims_error **err)
{
	return ims_error_set(err, IMS_EUNSUPPORTED, "%s cannot %s", t->ops->name, what);
}

static int need_mode(ims_transport *t, int mode, ims_error **err)
{
	if (t->mode & mode)
		return 0;
	return ims_error_set(err, IMS_EINVALID, "%s was opened for %s only", t->ops->name,
			     (t->mode & IMS_TRANSPORT_READ) ? "reading" : "writing");
}

int ims_transport_get_manifest(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
			       ims_error **err)
{
	int r;
	if (!t->ops->get_manifest)
		return missing(t, "read manifests", err);
	if (digest && (r = ims_digest_check(digest, "manifest", err)) < 0)
		return r;
	char *mt = NULL;
	if ((r = t->ops->get_manifest(t, digest, data, len, &mt, err)) < 0)
		return r;
	if (media_type)
		*media_type = mt;
	else
		free(mt);
	return 0;
}

int ims_transport_open_blob(ims_transport *t, const char *digest, ims_reader *out, ims_error **err)
{
	int r;
	if (!t->ops->open_blob)
		return missing(t, "read blobs", err);
	if ((r = ims_digest_check(digest, "blob", err)) < 0)
		return r;
	return t->ops->open_blob(t, digest, out, err);
}

int ims_transport_has_blob(ims_transport *t, const char *digest, bool *exists, ims_error **err)
{
	int r;
	if (!t->ops->has_blob)
		return missing(t, "look blobs up", err);
	if ((r = ims_digest_check(digest, "blob", err)) < 0)
		return r;
	return t->ops->has_blob(t, digest, exists, err);
}

int ims_transport_new_blob(ims_transport *t, ims_blob_writer **out, ims_error **err)
{
	int r;
	if (!t->ops->new_blob)
		return missing(t, "store blobs", err);
	if ((r = need_mode(t, IMS_TRANSPORT_WRITE, err)) < 0)
		return r;
	return t->ops->new_blob(t, out, err);
}

int ims_transport_put_manifest(ims_transport *t, const char *data, size_t len, const char *media_type,
			       const char *digest, ims_error **err)
{
	int r;
	if (!t->ops->put_manifest)
		return missing(t, "store manifests", err);
	if ((r = need_mode(t, IMS_TRANSPORT_WRITE, err)) < 0)
		return r;
	if ((r = ims_digest_check(digest, "manifest", err)) < 0)
		return r;
	return t->ops->put_manifest(t, data, len, media_type, digest, err);
}

int ims_transport_tag(ims_transport *t, const char *name, const ims_descriptor *desc, ims_error **err)
{
	int r;
	if (!t->ops->tag)
		return missing(t, "tag", err);
	if ((r = need_mode(t, IMS_TRANSPORT_WRITE, err)) < 0)
		return r;
	if ((r = ims_digest_check(desc->digest, "tag", err)) < 0)
		return r;
	return t->ops->tag(t, name, desc, err);
}

int ims_transport_commit(ims_transport *t, ims_error **err)
{
	int r;
	if (!t->ops->commit)
		return 0; /* nothing staged, nothing to publish */
	if ((r = need_mode(t, IMS_TRANSPORT_WRITE, err)) < 0)
		return r;
	return t->ops->commit(t, err);
}

int ims_transport_mount_blob(ims_transport *t, ims_transport *src, const ims_descriptor *d, bool *mounted,
			     ims_error **err)
{
	int r;
	*mounted = false;
	if (!t->ops->mount_blob)
		return 0; /* optional: the caller copies */
	if ((r = need_mode(t, IMS_TRANSPORT_WRITE, err)) < 0)
		return r;
	if ((r = ims_digest_check(d->digest, "blob", err)) < 0)
		return r;
	return t->ops->mount_blob(t, src, d, mounted, err);
}

int ims_transport_tag_names(ims_transport *t, const char *name, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	*digest = '\0';
	if (!t->ops->tag_names)
		return 0; /* optional: the caller writes what it would anyway */
	if (!name || !ims_ref_tag_valid(name))
		return ims_error_set(err, IMS_EINVALID, "invalid tag `%s`", name ? name : "");
	char got[IMS_DIGEST_BUFSZ] = "";
	int r = t->ops->tag_names(t, name, got, err);
	if (r < 0)
		return r;
	if (*got && !ims_digest_valid(got))
		return ims_error_set(err, IMS_EDIGEST, "`%s` names an invalid digest", name);
	memcpy(digest, got, IMS_DIGEST_BUFSZ);
	return 0;
}

int ims_transport_manifest_there(ims_transport *t, const char *name, const char *digest, bool *there,
				 ims_error **err)
{
	int r;
	*there = false;
	if ((r = ims_digest_check(digest, "manifest", err)) < 0)
		return r;
	char at[IMS_DIGEST_BUFSZ];
	if ((r = ims_transport_tag_names(t, name, at, err)) < 0)
		return r;
	*there = !strcmp(at, digest);
	return 0;
}

bool ims_transport_ask_ahead(ims_transport *t, const char *const *digests, size_t n)
{
	if (!t->ops->ask_ahead || !n)
		return false;
	const char **valid = xcalloc(n, sizeof(*valid));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (digests[i] && ims_digest_valid(digests[i]))
			valid[k++] = digests[i];
	bool asked = k && t->ops->ask_ahead(t, valid, k);
	free(valid);
	return asked;
}

int ims_transport_list_tags(ims_transport *t, char ***tags, size_t *n, ims_error **err)
{
	*tags = NULL;
	*n = 0;
	if (!t->ops->list_tags)
		return missing(t, "list tags", err);
	char **v = NULL;
	size_t k = 0;
	int r = t->ops->list_tags(t, &v, &k, err);
	if (r < 0) {
		ims_strv_free(v);
		return r;
	}
	*tags = v ? v : xcalloc(1, sizeof(char *));
	*n = k;
	return 0;
}

/* ---- reading and copying blobs ---- */

int ims_transport_read_blob(ims_transport *t, const char *digest, size_t max, char **data, size_t *len,
			    ims_error **err)
{
	if (t->ops->read_blob) {
		int r = ims_digest_check(digest, "blob", err);
		return r < 0 ? r : t->ops->read_blob(t, digest, max, data, len, err);
	}
	ims_reader rd = { 0 };
	int r = ims_transport_open_blob(t, digest, &rd, err);
	if (r < 0)
		return r;
	ims_buf buf = IMS_BUF_INIT(max);
	ims_sha256_reader hr;
	ims_sha256_reader_init(&hr, &rd);
	char chunk[1 << 16];
	for (;;) {
		ssize_t n = hr.reader.read(hr.reader.ud, chunk, sizeof(chunk), err);
		if (n < 0) {
			r = (int)n;
			ims_error_wrap(err, "read blob %s", digest);
			break;
		}
		if (n == 0)
			break;
		if (ims_buf_add(&buf, chunk, (size_t)n, NULL) < 0) {
			r = ims_error_set(err, IMS_EGENERIC, "blob %s is larger than the limit of %zu bytes", digest,
					  max);
			break;
		}
	}
	ims_reader_close(&hr.reader);
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_reader_final(&hr, got);
	if (r == 0 && strcmp(got, digest) != 0)
		r = ims_error_set(err, IMS_EDIGEST, "blob %s: content has digest %s", digest, got);
	if (r < 0) {
		ims_buf_dispose(&buf);
		return r;
	}
	*data = ims_buf_steal(&buf, len);
	return 0;
}

/* A descriptor fit to name a blob to copy: checked before any request. */
static int copyable(const ims_descriptor *d, ims_error **err)
{
	int r = ims_digest_check(d->digest, "blob", err);
	if (r >= 0 && d->size < 0)
		r = ims_error_set(err, IMS_EINVALID, "blob %s has a negative size", d->digest);
	return r;
}

int ims_transport_copy_blob(ims_transport *src, ims_transport *dst, const ims_descriptor *d, ims_error **err)
{
	int r;
	if ((r = copyable(d, err)) < 0)
		return r;
	bool exists = false;
	if ((r = ims_transport_has_blob(dst, d->digest, &exists, err)) < 0)
		return r;
	return exists ? 0 : ims_transport_copy_blob_always(src, dst, d, err);
}

void ims_blob_writer_count_only(ims_blob_writer *w)
{
	if (w && w->count_only)
		w->count_only(w);
}

int ims_blob_writer_private_fd(ims_blob_writer *w)
{
	return w && w->private_fd ? w->private_fd(w) : -1;
}

int ims_transport_copy_blob_always(ims_transport *src, ims_transport *dst, const ims_descriptor *d, ims_error **err)
{
	int r;
	if ((r = copyable(d, err)) < 0)
		return r;
	ims_reader rd = { 0 };
	if ((r = ims_transport_open_blob(src, d->digest, &rd, err)) < 0)
		return r;
	ims_blob_writer *w = NULL;
	if ((r = ims_transport_new_blob(dst, &w, err)) < 0) {
		ims_reader_close(&rd);
		return r;
	}
	/* h checks the content before commit: w need not hash it again. */
	ims_blob_writer_count_only(w);
	ims_sha256_sink h;
	ims_sha256_sink_init(&h, &w->sink);
	h.limit = d->size;
	r = ims_stream_copy(&rd, &h.sink, NULL, err);
	ims_reader_close(&rd);
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_sink_final(&h, got);
	if (r == 0 && (strcmp(got, d->digest) != 0 || h.count != d->size))
		r = ims_error_set(err, IMS_EDIGEST, "content has digest %s and %lld bytes, expected %lld bytes",
				  got, (long long)h.count, (long long)d->size);
	if (r < 0)
		w->abort(w);
	else
		r = w->commit(w, d->digest, d->size, err);
	if (r < 0)
		ims_error_wrap(err, "copy blob %s", d->digest);
	return r;
}

typedef struct {
	const char *s;
	size_t i;
} name_at;

static int by_name_then_place(const void *a, const void *b)
{
	const name_at *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

size_t ims_transport__unique(char **v, size_t n)
{
	if (n < 2)
		return n;
	name_at *s = xmalloc(n * sizeof(*s));
	for (size_t i = 0; i < n; i++)
		s[i] = (name_at){ v[i], i };
	qsort(s, n, sizeof(*s), by_name_then_place);
	_cleanup_free_ bool *dup = xcalloc(n, sizeof(bool));
	for (size_t i = 1; i < n; i++)
		if (!strcmp(s[i].s, s[i - 1].s))
			dup[s[i].i] = true;
	free(s);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (dup[i])
			free(v[i]);
		else
			v[k++] = v[i];
	}
	v[k] = NULL;
	return k;
}

int ims_transport_choose(const ims_transport_choice *c, size_t *out, ims_error **err)
{
	if (c->name) {
		for (size_t i = 0; i < c->n; i++) {
			if (c->match(c->ctx, i, c->name)) {
				*out = i;
				return 0;
			}
		}
		_cleanup_free_ char *names = c->list(c->ctx);
		ims_error_set(err, IMS_ENOTFOUND, "`%s` not found in %s", c->name, c->shown);
		ims_error_hint(err, "it holds %s", names);
		return IMS_ENOTFOUND;
	}
	if (c->n == 1) {
		*out = 0;
		return 0;
	}
	if (c->n == 0)
		return ims_error_set(err, IMS_ENOTFOUND, "%s holds no images", c->shown);
	_cleanup_free_ char *names = c->list(c->ctx);
	ims_error_set(err, IMS_EINVALID, "%s holds %zu images and no name was given: %s", c->shown, c->n, names);
	ims_error_hint(err, "name one, as in `%s`", c->usage);
	return IMS_EINVALID;
}
