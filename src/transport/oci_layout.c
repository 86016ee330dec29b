/* `oci:DIR[:TAG]`: an OCI image layout directory (image-spec layout.md).
 *
 * Writes are staged so that a failed build never damages what was there:
 * blobs go in first (content-addressed, harmless if left over), tags are
 * kept in memory, and commit merges them into the current index.json and
 * replaces it with one atomic rename. */
#include "transport/oci_layout.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/digest.h"
#include "transport/blobdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

#define LAYOUT_FILE_MAX 4096
#define LAYOUT_VERSION "1.0.0"

typedef struct {
	ims_transport pub;
	char *dir;
	char *shown;
	char *name;
	ims_blobdir blobs;
	ims_index *index; /* as read; NULL until needed */
	ims_descriptor *staged;
	size_t nstaged, cap;
	int made;       /* 1: this open created the dir; 2: it adopted an empty one */
	bool committed; /* commit() succeeded at least once */
	int users;      /* oci-layout, locked shared while this writer is open */
} oci_layout;

static void index_freep(ims_index **ix)
{
	ims_index_free(*ix);
}

bool ims_oci_ref_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 512)
		return false;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && isalnum((unsigned char)s[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '-' && s[i + 1] == '-')
			i += 2;
		else if (strchr("-._:@/+", s[i]))
			i++;
		else
			return false;
	}
}

const char *ims_oci_ref_name(const ims_descriptor *d)
{
	return d->annotations ? ims_json_get_string(d->annotations, IMS_OCI_REF_NAME) : NULL;
}

static char *layout_path(const oci_layout *l, const char *file)
{
	return ims_path_join(l->dir, file);
}

/* The oci-layout file is the marker that tells a layout from any directory. */
static int check_marker(oci_layout *l, bool *present, ims_error **err)
{
	_cleanup_free_ char *p = layout_path(l, "oci-layout");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	int r = ims_read_file(p, LAYOUT_FILE_MAX, &data, &len, &e);
	if (r == IMS_ENOTFOUND) {
		ims_error_free(e);
		*present = false;
		return 0;
	}
	if (r < 0) {
		ims_error_set(err, r, "%s: %s", l->shown, e->message);
		ims_error_free(e);
		return r;
	}
	*present = true;
	ims_json *j = NULL;
	r = ims_json_parse(&j, data, len, NULL, err);
	if (r < 0)
		return ims_error_wrap(err, "%s: oci-layout", l->shown);
	const char *v = ims_json_get_string(j, "imageLayoutVersion");
	if (!v)
		r = ims_error_set(err, IMS_EGENERIC, "%s: oci-layout has no imageLayoutVersion", l->shown);
	else if (strcmp(v, LAYOUT_VERSION) != 0)
		r = ims_error_set(err, IMS_EUNSUPPORTED, "%s: imageLayoutVersion `%.40s` is not supported (want %s)",
				  l->shown, v, LAYOUT_VERSION);
	ims_json_free(j);
	return r;
}

/* Reads index.json as it is on disk now (not a cached copy). */
static int read_index(oci_layout *l, ims_index **out, ims_error **err)
{
	_cleanup_free_ char *p = layout_path(l, "index.json");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	int r = ims_read_file(p, IMS_MANIFEST_MAX, &data, &len, &e);
	if (r < 0) {
		if (r == IMS_ENOTFOUND)
			ims_error_set(err, r, "%s has no index.json", l->shown);
		else
			ims_error_set(err, r, "%s: %s", l->shown, e->message);
		ims_error_free(e);
		return r;
	}
	if ((r = ims_index_parse(out, data, len, err)) < 0)
		return ims_error_wrap(err, "%s: index.json", l->shown);
	return 0;
}

static int cached_index(oci_layout *l, ims_index **out, ims_error **err)
{
	if (!l->index) {
		int r = read_index(l, &l->index, err);
		if (r < 0)
			return r;
	}
	*out = l->index;
	return 0;
}

static int write_index(oci_layout *l, const ims_index *ix, ims_error **err)
{
	size_t len = 0;
	_cleanup_free_ char *data = ims_index_encode(ix, &len);
	_cleanup_free_ char *p = layout_path(l, "index.json");
	int r = ims_write_file_atomic(p, data, len, 0644, err);
	return r < 0 ? ims_error_wrap(err, "%s", l->shown) : 0;
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/* Locks the layout's directory (the lock that commit and init take). The
 * lock is on the directory as it is now at the path: when another writer
 * removed it in the meantime, -EAGAIN says to start over. */
static int lock_dir(oci_layout *l, int *out, ims_error **err)
{
	_cleanup_close_ int fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return -EAGAIN;
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "lock %s", l->shown);
	struct stat a, b;
	if (fstat(fd, &a) < 0 || lstat(l->dir, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		return -EAGAIN;
	*out = steal_fd(&fd);
	return 0;
}

/* One try of prepare_for_write; -EAGAIN when the directory went away. */
static int prepare_once(oci_layout *l, ims_error **err)
{
	int r;
	/* The layout's own directories are never followed as links: a
	 * symlinked DIR (or blobs/) would send the writes somewhere else. */
	if ((r = ims_check_output_path(l->dir, l->shown, true, err)) < 0)
		return r;
	if (!ims_path_exists(l->dir)) {
		if ((r = ims_mkdir_p(l->dir, 0755, err)) < 0)
			return r;
		l->made = 1;
	}
	/* Builds that start together into one new layout: the first to take
	 * the lock makes it, the others find a layout. */
	_cleanup_close_ int lock = -1;
	if ((r = lock_dir(l, &lock, err)) < 0)
		return r;
	static const char *const subdirs[] = { "blobs", "blobs/sha256" };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *p = layout_path(l, subdirs[i]);
		_cleanup_free_ char *shown = xasprintf("%s: `%s`", l->shown, subdirs[i]);
		if ((r = ims_check_output_path(p, shown, true, err)) < 0)
			return r;
	}
	bool present = false;
	if ((r = check_marker(l, &present, err)) < 0)
		return r;
	if (!present) {
		if (!dir_is_empty(l->dir)) {
			ims_error_set(err, IMS_EINVALID, "%s is not empty and is not an OCI layout; refusing to write there",
				      l->shown);
			ims_error_hint(err, "choose a new or empty directory for the layout");
			return IMS_EINVALID;
		}
		if (!l->made)
			l->made = 2;
		static const char marker[] = "{\"imageLayoutVersion\":\"" LAYOUT_VERSION "\"}";
		_cleanup_free_ char *p = layout_path(l, "oci-layout");
		if ((r = ims_write_file_atomic(p, marker, sizeof(marker) - 1, 0644, err)) < 0)
			return r;
	}
	if ((r = ims_blobdir_create(&l->blobs, err)) < 0)
		return r;
	/* A fresh layout gets an empty index at once so that it is valid even
	 * if the build fails before commit. */
	_cleanup_free_ char *ip = layout_path(l, "index.json");
	if (!ims_path_exists(ip)) {
		ims_index empty = { .media_type = (char *)IMS_MT_OCI_INDEX };
		if ((r = write_index(l, &empty, err)) < 0)
			return r;
	}
	/* Every writer holds oci-layout shared until it closes, so that one
	 * that made the layout and failed can tell whether others use it. */
	_cleanup_free_ char *mp = layout_path(l, "oci-layout");
	l->users = open(mp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (l->users < 0 || flock(l->users, LOCK_SH) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "lock %s", l->shown);
	/* what writers killed earlier left behind */
	ims_blobdir_sweep(&l->blobs);
	ims_sweep_tmp(l->dir, "index.json.tmp-");
	ims_sweep_tmp(l->dir, "oci-layout.tmp-");
	return 0;
}

/* Makes dir a layout if it is not one yet: only a missing or empty
 * directory is adopted, so a typo in --output cannot scribble blobs into
 * someone's source tree. */
static int prepare_for_write(oci_layout *l, ims_error **err)
{
	int r = -EAGAIN;
	for (int i = 0; i < 8 && r == -EAGAIN; i++) {
		if (l->users >= 0)
			close(l->users);
		l->users = -1;
		l->made = 0;
		r = prepare_once(l, err);
	}
	if (r == -EAGAIN)
		r = ims_error_set(err, IMS_EGENERIC, "%s keeps disappearing while it is being prepared", l->shown);
	return r;
}

static void layout_free(oci_layout *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nstaged; i++)
		ims_descriptor_dispose(&l->staged[i]);
	free(l->staged);
	ims_index_free(l->index);
	ims_blobdir_dispose(&l->blobs);
	if (l->users >= 0)
		close(l->users);
	free(l->dir);
	free(l->shown);
	free(l->name);
	free(l);
}

static int layout_new(oci_layout **out, const char *dir, const char *name, int mode, const char *shown,
		      ims_error **err)
{
	oci_layout *l = xcalloc(1, sizeof(*l));
	l->users = -1;
	l->dir = xstrdup(dir);
	l->shown = xstrdup(shown);
	l->name = name ? xstrdup(name) : NULL;
	ims_blobdir_init(&l->blobs, dir, shown);
	int r = 0;
	/* Names are checked where they are written; a reader just compares. */
	if ((mode & IMS_TRANSPORT_WRITE) && name && !ims_oci_ref_name_valid(name))
		r = ims_error_set(err, IMS_EINVALID, "`%s` is not a valid OCI layout tag", name);
	else if (mode & IMS_TRANSPORT_WRITE)
		r = prepare_for_write(l, err);
	if (r == 0 && (mode & IMS_TRANSPORT_READ)) {
		bool present = false;
		if ((r = check_marker(l, &present, err)) == 0 && !present)
			r = ims_error_set(err, IMS_ENOTFOUND, "%s is not an OCI layout (no oci-layout file)", shown);
		if (r == 0)
			r = cached_index(l, &(ims_index *){ NULL }, err);
	}
	if (r < 0) {
		layout_free(l);
		return r;
	}
	*out = l;
	return 0;
}

int ims_oci_layout_open_dir(ims_transport **out, const char *dir, const char *name, int mode, const char *shown,
			    ims_error **err)
{
	oci_layout *l = NULL;
	int r = layout_new(&l, dir, name, mode, shown, err);
	if (r < 0)
		return r;
	ims_ref *ref = xcalloc(1, sizeof(*ref));
	ref->kind = IMS_REF_OCI;
	ref->path = xstrdup(dir);
	ref->name = name ? xstrdup(name) : NULL;
	l->pub.ops = &ims_transport_oci_ops;
	l->pub.ref = ref;
	l->pub.mode = mode;
	*out = &l->pub;
	return 0;
}

static int oci_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
		    ims_error **err)
{
	_cleanup_free_ char *dir = ims_path_absolute(opts->base_dir, ref->path);
	_cleanup_free_ char *shown = xasprintf("oci layout `%s`", ref->path);
	oci_layout *l = NULL;
	int r = layout_new(&l, dir, ref->name, mode, shown, err);
	if (r < 0)
		return r;
	*out = &l->pub;
	return 0;
}

/* ---- reading ---- */

/* Lists what a layout holds, for errors that ask the user to choose. */
static char *list_names(const void *ctx)
{
	const ims_index *ix = ctx;
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < ix->nmanifests && i < 20; i++) {
		const char *n = ims_oci_ref_name(&ix->manifests[i]);
		if (i)
			ims_buf_puts(&b, ", ");
		if (n)
			ims_buf_printf(&b, "`%s`", n);
		else
			ims_buf_printf(&b, "untagged %.19s", ix->manifests[i].digest);
	}
	if (ix->nmanifests > 20)
		ims_buf_puts(&b, ", ...");
	if (!b.data)
		ims_buf_puts(&b, "nothing");
	return ims_buf_steal(&b, NULL);
}

static bool has_name(const void *ctx, size_t i, const char *name)
{
	const char *n = ims_oci_ref_name(&((const ims_index *)ctx)->manifests[i]);
	return n && !strcmp(n, name);
}

static int pick(oci_layout *l, const ims_descriptor **out, ims_error **err)
{
	ims_index *ix;
	int r = cached_index(l, &ix, err);
	if (r < 0)
		return r;
	ims_transport_choice c = {
		.name = l->name, .shown = l->shown, .usage = "oci:DIR:TAG", .n = ix->nmanifests,
		.match = has_name, .list = list_names, .ctx = ix,
	};
	size_t i = 0;
	if ((r = ims_transport_choose(&c, &i, err)) < 0)
		return r;
	*out = &ix->manifests[i];
	return 0;
}

static int oci_get_manifest(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
			    ims_error **err)
{
	oci_layout *l = (oci_layout *)t;
	const ims_descriptor *d = NULL;
	int r;
	if (!digest) {
		if ((r = pick(l, &d, err)) < 0)
			return r;
		digest = d->digest;
	} else if (l->index) {
		/* A known entry lends its media type to the detection. */
		for (size_t i = 0; i < l->index->nmanifests && !d; i++)
			if (!strcmp(l->index->manifests[i].digest, digest))
				d = &l->index->manifests[i];
	}
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	if ((r = ims_blobdir_read(&l->blobs, digest, IMS_MANIFEST_MAX, &buf, &n, err)) < 0)
		return r;
	if (d && d->size != (int64_t)n)
		return ims_error_set(err, IMS_EDIGEST, "manifest %s in %s has %zu bytes, its descriptor says %lld",
				     digest, l->shown, n, (long long)d->size);
	ims_doc_kind kind;
	char *mt = NULL;
	if ((r = ims_doc_detect(buf, n, d ? d->media_type : NULL, &kind, &mt, err)) < 0)
		return ims_error_wrap(err, "manifest %s in %s", digest, l->shown);
	*data = steal_pointer(&buf);
	*len = n;
	*media_type = mt;
	return 0;
}

static int oci_open_blob(ims_transport *t, const char *digest, ims_reader *out, ims_error **err)
{
	return ims_blobdir_open(&((oci_layout *)t)->blobs, digest, out, err);
}

/* The ref.names of index.json as last read or committed (tags staged by
 * this session appear once committed). */
static int oci_list_tags(ims_transport *t, char ***tags, size_t *n, ims_error **err)
{
	oci_layout *l = (oci_layout *)t;
	ims_index *ix;
	int r = cached_index(l, &ix, err);
	if (r < 0)
		return r;
	char **v = xcalloc(ix->nmanifests + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < ix->nmanifests; i++) {
		const char *name = ims_oci_ref_name(&ix->manifests[i]);
		/* what oci_tag would refuse to write is not passed on */
		if (name && ims_oci_ref_name_valid(name))
			v[k++] = xstrdup(name);
	}
	*n = ims_transport__unique(v, k);
	*tags = v;
	return 0;
}

/* ---- writing ---- */

static int oci_has_blob(ims_transport *t, const char *digest, bool *exists, ims_error **err)
{
	return ims_blobdir_has(&((oci_layout *)t)->blobs, digest, exists, err);
}

static int oci_new_blob(ims_transport *t, ims_blob_writer **out, ims_error **err)
{
	return ims_blobdir_new_writer(&((oci_layout *)t)->blobs, out, err);
}

static int oci_put_manifest(ims_transport *t, const char *data, size_t len, const char *media_type,
			    const char *digest, ims_error **err)
{
	oci_layout *l = (oci_layout *)t;
	ims_doc_kind kind;
	_cleanup_free_ char *mt = NULL;
	int r = ims_doc_detect(data, len, media_type, &kind, &mt, err);
	if (r < 0)
		return ims_error_wrap(err, "store manifest %s", digest);
	return ims_blobdir_put(&l->blobs, data, len, digest, err);
}

static bool same_name(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static int oci_tag(ims_transport *t, const char *name, const ims_descriptor *desc, ims_error **err)
{
	oci_layout *l = (oci_layout *)t;
	if (!name)
		name = l->name;
	if (name && !ims_oci_ref_name_valid(name))
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid OCI layout tag", name);
	bool exists = false;
	int r = ims_blobdir_has(&l->blobs, desc->digest, &exists, err);
	if (r < 0)
		return r;
	if (!exists)
		return ims_error_set(err, IMS_ENOTFOUND, "tag %s%s%s: manifest %s is not in %s", name ? "`" : "",
				     name ? name : "(none)", name ? "`" : "", desc->digest, l->shown);

	ims_descriptor d;
	ims_descriptor_copy(&d, desc);
	if (name) {
		if (!d.annotations)
			d.annotations = ims_json_new_object();
		ims_json_set(d.annotations, IMS_OCI_REF_NAME, ims_json_new_string(name));
	} else if (d.annotations) {
		ims_json_remove(d.annotations, IMS_OCI_REF_NAME);
	}
	/* Within one session the last word on a name wins. */
	for (size_t i = 0; i < l->nstaged; i++) {
		ims_descriptor *s = &l->staged[i];
		if (same_name(ims_oci_ref_name(s), name) && (name || !strcmp(s->digest, d.digest))) {
			ims_descriptor_dispose(s);
			*s = d;
			return 0;
		}
	}
	l->staged = xgrow(l->staged, &l->cap, l->nstaged + 1, sizeof(*l->staged));
	l->staged[l->nstaged++] = d;
	return 0;
}

/* index.json as it is on disk, or an empty one for a layout never committed. */
static int current_index(oci_layout *l, ims_index **out, ims_error **err)
{
	_cleanup_free_ char *p = layout_path(l, "index.json");
	if (!ims_path_exists(p)) {
		*out = xcalloc(1, sizeof(ims_index));
		(*out)->media_type = xstrdup(IMS_MT_OCI_INDEX);
		return 0;
	}
	return read_index(l, out, err);
}

static void push(ims_descriptor **v, size_t *n, size_t *cap, const ims_descriptor *d)
{
	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	ims_descriptor_copy(&(*v)[(*n)++], d);
}

static int oci_commit(ims_transport *t, ims_error **err)
{
	oci_layout *l = (oci_layout *)t;
	/* Two builds committing to one layout must not lose each other's tags:
	 * the read-merge-write below runs under a lock on the directory. */
	_cleanup_close_ int lock = -1;
	int r = lock_dir(l, &lock, err);
	if (r == -EAGAIN)
		return ims_error_set(err, IMS_EGENERIC, "%s was removed during the build", l->shown);
	if (r < 0)
		return r;
	_cleanup_(index_freep) ims_index *old = NULL;
	r = current_index(l, &old, err);
	if (r < 0)
		return r;

	ims_descriptor *v = NULL;
	size_t n = 0, cap = 0;
	_cleanup_free_ bool *used = xcalloc(l->nstaged + 1, sizeof(bool));
	/* Keep the old entries in their order; a staged tag takes the place of
	 * the entry that had its name, and an untagged image already listed by
	 * digest is not listed twice. */
	for (size_t i = 0; i < old->nmanifests; i++) {
		const ims_descriptor *e = &old->manifests[i];
		const char *en = ims_oci_ref_name(e);
		const ims_descriptor *repl = e;
		for (size_t j = 0; j < l->nstaged; j++) {
			const char *sn = ims_oci_ref_name(&l->staged[j]);
			if (en ? same_name(en, sn) : !sn && !strcmp(e->digest, l->staged[j].digest)) {
				if (used[j])
					repl = NULL; /* an earlier duplicate took it */
				else
					repl = &l->staged[j];
				used[j] = true;
				break;
			}
		}
		if (repl)
			push(&v, &n, &cap, repl);
	}
	for (size_t j = 0; j < l->nstaged; j++)
		if (!used[j])
			push(&v, &n, &cap, &l->staged[j]);

	if (n > IMS_MAX_INDEX_ENTRIES) {
		for (size_t i = 0; i < n; i++)
			ims_descriptor_dispose(&v[i]);
		free(v);
		return ims_error_set(err, IMS_EGENERIC, "%s would list more than %d images", l->shown,
				     IMS_MAX_INDEX_ENTRIES);
	}
	for (size_t i = 0; i < old->nmanifests; i++)
		ims_descriptor_dispose(&old->manifests[i]);
	free(old->manifests);
	old->manifests = v;
	old->nmanifests = n;
	if (!old->media_type)
		old->media_type = xstrdup(IMS_MT_OCI_INDEX);
	if ((r = write_index(l, old, err)) < 0)
		return r;

	ims_index_free(l->index);
	l->index = steal_pointer(&old);
	for (size_t j = 0; j < l->nstaged; j++)
		ims_descriptor_dispose(&l->staged[j]);
	l->nstaged = 0;
	l->committed = true;
	return 0;
}

/* Whether nobody else has the layout open for writing and nothing was
 * ever committed to it: then the layout this writer made can go. Called
 * under the directory lock. */
static bool nobody_else(oci_layout *l)
{
	if (l->users < 0 || flock(l->users, LOCK_EX | LOCK_NB) < 0)
		return false;
	ims_index *ix = NULL;
	ims_error *e = NULL;
	bool empty = read_index(l, &ix, &e) == 0 && ix->nmanifests == 0;
	ims_error_free(e);
	ims_index_free(ix);
	return empty;
}

/* A layout this build made and never committed is removed again, so a
 * failed build leaves nothing behind, unless another build has started
 * writing to it or committed to it meanwhile; an existing layout keeps its
 * old index.json (new blobs may stay: they are unreferenced and harmless,
 * and another build may be about to name them). */
static void oci_close(ims_transport *t)
{
	oci_layout *l = (oci_layout *)t;
	if (l && l->made && !l->committed && (t->mode & IMS_TRANSPORT_WRITE)) {
		_cleanup_close_ int lock = -1;
		ims_error *e = NULL;
		if (lock_dir(l, &lock, &e) == 0 && nobody_else(l)) {
			if (l->made == 1) {
				ims_rm_rf(l->dir, NULL);
			} else {
				static const char *const made[] = { "blobs", "index.json", "oci-layout" };
				for (size_t i = 0; i < IMS_ARRAY_SIZE(made); i++) {
					_cleanup_free_ char *p = layout_path(l, made[i]);
					ims_rm_rf(p, NULL);
				}
			}
		}
		ims_error_free(e);
	}
	layout_free(l);
}

const ims_transport_ops ims_transport_oci_ops = {
	.version = IMS_TRANSPORT_OPS_VERSION,
	.kind = IMS_REF_OCI,
	.name = "oci",
	.flags = 0,
	.open = oci_open,
	.get_manifest = oci_get_manifest,
	.open_blob = oci_open_blob,
	.has_blob = oci_has_blob,
	.new_blob = oci_new_blob,
	.put_manifest = oci_put_manifest,
	.tag = oci_tag,
	.commit = oci_commit,
	.close = oci_close,
	.list_tags = oci_list_tags,
};
