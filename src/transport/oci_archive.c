/* `oci-archive:FILE[:TAG]`: an OCI layout in a tar file.
 *
 * Reading extracts the archive (checked entry by entry) into a private
 * temp directory and reads it as a layout. Writing stages a layout in a temp
 * directory and commit packs it into FILE with a rename. When FILE already
 * holds an oci-archive, it is unpacked into the stage first, so the tags it
 * had survive next to the new ones (replaced only when the name is reused),
 * just as they would in an `oci:` directory. Blobs that no tag uses any
 * more are kept too: pruning is left to tools that own the archive. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/tarball.h"
#include "transport/oci_layout.h"
#include "transport/transport.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

typedef struct {
	ims_transport pub;
	char *file;
	char *shown;
	char *tmp;
	int tmp_lock; /* holds tmp against sweepers */
	char *root;   /* tmp/layout: the staged layout (its own lock is its dir) */
	ims_transport *inner;
} oci_archive;

static void archive_free(oci_archive *a)
{
	ims_transport_close(a->inner);
	if (a->tmp)
		ims_rm_rf(a->tmp, NULL);
	if (a->tmp_lock >= 0)
		close(a->tmp_lock);
	free(a->tmp);
	free(a->root);
	free(a->file);
	free(a->shown);
	free(a);
}

static int ocia_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
		     ims_error **err)
{
	oci_archive *a = xcalloc(1, sizeof(*a));
	a->tmp_lock = -1;
	a->file = ims_path_absolute(opts->base_dir, ref->path);
	a->shown = xasprintf("oci-archive `%s`", ref->path);
	int r = (mode & IMS_TRANSPORT_WRITE) ? ims_check_output_path(a->file, a->shown, false, err) : 0;
	if (r == 0 && (mode & IMS_TRANSPORT_WRITE))
		ims_tarball_sweep(a->file);
	if (r == 0) {
		ims_sweep_tmpdirs(opts->tmp_dir, "imagespec-oci-archive");
		r = ims_mkdtemp_locked(opts->tmp_dir, "imagespec-oci-archive", &a->tmp, &a->tmp_lock, err);
	}
	if (r == 0) {
		a->root = ims_path_join(a->tmp, "layout");
		if (mkdir(a->root, 0700) < 0)
			r = ims_error_sys(err, errno, IMS_EGENERIC, "create `%s`", a->root);
	}
	if (r == 0 && ((mode & IMS_TRANSPORT_READ) || ims_path_exists(a->file)))
		r = ims_tarball_extract(a->file, a->root, a->shown, err);
	if (r == 0)
		r = ims_oci_layout_open_dir(&a->inner, a->root, ref->name, mode, a->shown, err);
	if (r < 0) {
		archive_free(a);
		return r;
	}
	*out = &a->pub;
	return 0;
}

static ims_transport *inner(ims_transport *t)
{
	return ((oci_archive *)t)->inner;
}

static int ocia_get_manifest(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
			     ims_error **err)
{
	return ims_transport_get_manifest(inner(t), digest, data, len, media_type, err);
}

static int ocia_open_blob(ims_transport *t, const char *digest, ims_reader *out, ims_error **err)
{
	return ims_transport_open_blob(inner(t), digest, out, err);
}

static int ocia_has_blob(ims_transport *t, const char *digest, bool *exists, ims_error **err)
{
	return ims_transport_has_blob(inner(t), digest, exists, err);
}

static int ocia_new_blob(ims_transport *t, ims_blob_writer **out, ims_error **err)
{
	return ims_transport_new_blob(inner(t), out, err);
}

static int ocia_put_manifest(ims_transport *t, const char *data, size_t len, const char *media_type,
			     const char *digest, ims_error **err)
{
	return ims_transport_put_manifest(inner(t), data, len, media_type, digest, err);
}

static int ocia_tag(ims_transport *t, const char *name, const ims_descriptor *desc, ims_error **err)
{
	return ims_transport_tag(inner(t), name, desc, err);
}

static int ocia_list_tags(ims_transport *t, char ***tags, size_t *n, ims_error **err)
{
	return ims_transport_list_tags(inner(t), tags, n, err);
}

static int ocia_commit(ims_transport *t, ims_error **err)
{
	oci_archive *a = (oci_archive *)t;
	int r = ims_transport_commit(a->inner, err);
	if (r < 0)
		return r;
	ims_tarball_entry *v = NULL;
	size_t n = 0, cap = 0;
	r = ims_tarball_list_dir(a->root, &v, &n, &cap, err);
	if (r == 0)
		r = ims_tarball_write(a->file, v, n, a->shown, err);
	ims_tarball_entries_free(v, n);
	return r;
}

static void ocia_close(ims_transport *t)
{
	archive_free((oci_archive *)t);
}

const ims_transport_ops ims_transport_oci_archive_ops = {
	.version = IMS_TRANSPORT_OPS_VERSION,
	.kind = IMS_REF_OCI_ARCHIVE,
	.name = "oci-archive",
	.flags = 0,
	.open = ocia_open,
	.get_manifest = ocia_get_manifest,
	.open_blob = ocia_open_blob,
	.has_blob = ocia_has_blob,
	.new_blob = ocia_new_blob,
	.put_manifest = ocia_put_manifest,
	.tag = ocia_tag,
	.commit = ocia_commit,
	.close = ocia_close,
	.list_tags = ocia_list_tags,
};
