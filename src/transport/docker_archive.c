/* `docker-archive:FILE[:REF]`: the `docker save` / `docker load` format.
 *
 * Reading extracts the archive into a private temp directory and reads
 * manifest.json. The first read of a manifest or blob picks one image and
 * presents it as a Docker schema2 manifest synthesized from the files (each
 * hashed once), so the rest of imagespec sees it like any registry image.
 * Opening needs no choice, so an archive of several images opens without
 * a name too (for what needs none, such as listing its names).
 *
 * Writing stages blobs by digest in a temp directory; commit writes
 * <config hex>.json, <layer hex>.tar, manifest.json and repositories into
 * FILE through a temp file and a rename. An existing FILE is replaced as a
 * whole, as `docker save -o` does. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/digest.h"
#include "digest/sha256_stream.h"
#include "layer/tarball.h"
#include "transport/blobdir.h"
#include "transport/docker_archive_manifest.h"
#include "transport/transport.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

/* A file of the extracted archive, known by its digest. */
typedef struct {
	char digest[IMS_DIGEST_BUFSZ];
	int64_t size;
	char *path;
} da_file;

/* An image staged for writing. */
typedef struct {
	char digest[IMS_DIGEST_BUFSZ]; /* of its manifest */
	ims_manifest *m;
	char **tags; /* short form */
	size_t ntags, cap;
} da_image;

typedef struct {
	ims_transport pub;
	char *file;
	char *shown;
	char *tmp;
	int tmp_lock; /* holds tmp against sweepers */
	char *name;
	/* reading */
	ims_docker_archive_manifest *dm;
	da_file *files;
	size_t nfiles, fcap;
	char *manifest;
	size_t manifest_len;
	char manifest_digest[IMS_DIGEST_BUFSZ];
	/* writing */
	ims_blobdir stage;
	da_image *images;
	size_t nimages, icap;
} docker_archive;

static void drop_files(docker_archive *a)
{
	for (size_t i = 0; i < a->nfiles; i++)
		free(a->files[i].path);
	free(a->files);
	a->files = NULL;
	a->nfiles = a->fcap = 0;
}

static void archive_free(docker_archive *a)
{
	drop_files(a);
	ims_docker_archive_manifest_free(a->dm);
	free(a->manifest);
	for (size_t i = 0; i < a->nimages; i++) {
		ims_manifest_free(a->images[i].m);
		for (size_t j = 0; j < a->images[i].ntags; j++)
			free(a->images[i].tags[j]);
		free(a->images[i].tags);
	}
	free(a->images);
	ims_blobdir_dispose(&a->stage);
	if (a->tmp)
		ims_rm_rf(a->tmp, NULL);
	if (a->tmp_lock >= 0)
		close(a->tmp_lock);
	free(a->tmp);
	free(a->file);
	free(a->shown);
	free(a->name);
	free(a);
}

/* ---- reading ---- */

/* Hashes one file of the archive, noting whether it is gzip-compressed. */
static int hash_file(docker_archive *a, const char *rel, da_file *f, bool *gzip, ims_error **err)
{
	_cleanup_free_ char *path = ims_path_join(a->tmp, rel);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ims_error_sys(err, errno, errno == ENOENT ? IMS_ENOTFOUND : IMS_EGENERIC, "%s: `%s`",
				     a->shown, rel);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_EGENERIC, "%s: `%s` is not a regular file", a->shown, rel);
	ims_reader file = ims_reader_fd(steal_fd(&fd));
	ims_sha256_reader hr;
	ims_sha256_reader_init(&hr, &file);
	unsigned char buf[1 << 16];
	int r = 0;
	for (bool first = true;; first = false) {
		ssize_t n = hr.reader.read(hr.reader.ud, buf, sizeof(buf), err);
		if (n < 0) {
			r = ims_error_wrap(err, "%s: read `%s`", a->shown, rel);
			break;
		}
		if (n == 0)
			break;
		if (first && gzip)
			*gzip = n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
	}
	ims_reader_close(&hr.reader);
	ims_sha256_reader_final(&hr, f->digest);
	f->size = hr.count;
	f->path = steal_pointer(&path);
	return r;
}

static int add_file(docker_archive *a, const char *rel, ims_descriptor *d, const char *plain, const char *gz,
		    ims_error **err)
{
	da_file f = { 0 };
	bool gzip = false;
	int r = hash_file(a, rel, &f, &gzip, err);
	if (r < 0) {
		free(f.path);
		return r;
	}
	memcpy(d->digest, f.digest, sizeof(d->digest));
	d->size = f.size;
	d->media_type = xstrdup(gzip && gz ? gz : plain);
	a->files = xgrow(a->files, &a->fcap, a->nfiles + 1, sizeof(*a->files));
	a->files[a->nfiles++] = f;
	return 0;
}

static char *list_tags(const void *ctx)
{
	const ims_docker_archive_manifest *dm = ctx;
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < dm->nimages; i++) {
		const ims_docker_archive_image *im = &dm->images[i];
		if (i)
			ims_buf_puts(&b, ", ");
		if (!im->ntags)
			ims_buf_printf(&b, "untagged `%s`", im->config);
		for (size_t j = 0; j < im->ntags; j++)
			ims_buf_printf(&b, "%s`%s`", j ? " " : "", im->repo_tags[j]);
	}
	if (!b.data)
		ims_buf_puts(&b, "nothing");
	return ims_buf_steal(&b, NULL);
}

/* "busybox:1" matches "docker.io/library/busybox:1", as in docker. */
static bool has_tag(const void *ctx, size_t i, const char *name)
{
	const ims_docker_archive_image *im = &((const ims_docker_archive_manifest *)ctx)->images[i];
	_cleanup_free_ char *want = ims_docker_archive_long_name(name);
	for (size_t j = 0; want && j < im->ntags; j++) {
		_cleanup_free_ char *have = ims_docker_archive_long_name(im->repo_tags[j]);
		if (have && !strcmp(have, want))
			return true;
	}
	return false;
}

static int pick(docker_archive *a, const ims_docker_archive_manifest *dm, const ims_docker_archive_image **out,
		ims_error **err)
{
	ims_transport_choice c = {
		.name = a->name, .shown = a->shown, .usage = "docker-archive:FILE:REPO:TAG", .n = dm->nimages,
		.match = has_tag, .list = list_tags, .ctx = dm,
	};
	size_t i = 0;
	int r = ims_transport_choose(&c, &i, err);
	if (r == 0)
		*out = &dm->images[i];
	return r;
}

/* Builds the schema2 manifest the rest of imagespec reads. */
static int synthesize(docker_archive *a, const ims_docker_archive_image *im, ims_error **err)
{
	ims_manifest *m = xcalloc(1, sizeof(*m));
	m->media_type = xstrdup(IMS_MT_DOCKER_MANIFEST);
	int r = add_file(a, im->config, &m->config, IMS_MT_DOCKER_CONFIG, NULL, err);
	m->layers = xcalloc(im->nlayers + 1, sizeof(*m->layers));
	for (size_t i = 0; r == 0 && i < im->nlayers; i++) {
		r = add_file(a, im->layers[i], &m->layers[i], IMS_MT_DOCKER_LAYER, IMS_MT_DOCKER_LAYER_GZIP, err);
		m->nlayers++;
	}
	if (r == 0) {
		a->manifest = ims_manifest_encode(m, &a->manifest_len);
		ims_sha256_buf(a->manifest, a->manifest_len, a->manifest_digest);
	} else {
		drop_files(a); /* the next call starts over */
	}
	ims_manifest_free(m);
	return r;
}

/* Picks the image and synthesizes its manifest on first use. */
static int need_image(docker_archive *a, ims_error **err)
{
	if (a->manifest)
		return 0;
	const ims_docker_archive_image *im = NULL;
	int r = pick(a, a->dm, &im, err);
	return r < 0 ? r : synthesize(a, im, err);
}

static int open_read(docker_archive *a, ims_error **err)
{
	int r = ims_tarball_extract(a->file, a->tmp, a->shown, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *mp = ims_path_join(a->tmp, "manifest.json");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	if ((r = ims_read_file(mp, IMS_DOCKER_ARCHIVE_MANIFEST_MAX, &data, &len, &e)) < 0) {
		ims_error_set(err, r == IMS_ENOTFOUND ? IMS_ENOTFOUND : IMS_EGENERIC, "%s has no usable manifest.json: %s",
			      a->shown, e->message);
		ims_error_free(e);
		return r == IMS_ENOTFOUND ? IMS_ENOTFOUND : IMS_EGENERIC;
	}
	if ((r = ims_docker_archive_manifest_parse(&a->dm, data, len, err)) < 0)
		return ims_error_wrap(err, "%s", a->shown);
	return 0;
}

static int da_list_tags(ims_transport *t, char ***tags, size_t *n, ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	if (!(t->mode & IMS_TRANSPORT_READ))
		return ims_error_set(err, IMS_EINVALID, "%s was opened for writing only", a->shown);
	size_t total = 0;
	for (size_t i = 0; i < a->dm->nimages; i++)
		total += a->dm->images[i].ntags;
	char **v = xcalloc(total + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < a->dm->nimages; i++) {
		const ims_docker_archive_image *im = &a->dm->images[i];
		for (size_t j = 0; j < im->ntags; j++) {
			/* As written (docker's short form), but only names that
			 * can be looked up. */
			_cleanup_free_ char *ln = ims_docker_archive_long_name(im->repo_tags[j]);
			if (ln)
				v[k++] = xstrdup(im->repo_tags[j]);
		}
	}
	*n = ims_transport__unique(v, k);
	*tags = v;
	return 0;
}

static int da_get_manifest(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
			   ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	if (!(t->mode & IMS_TRANSPORT_READ))
		return ims_error_set(err, IMS_EINVALID, "%s was opened for writing only", a->shown);
	int r = need_image(a, err);
	if (r < 0)
		return r;
	if (digest && strcmp(digest, a->manifest_digest) != 0)
		return ims_error_set(err, IMS_ENOTFOUND, "manifest %s not found in %s", digest, a->shown);
	*data = xmemdup(a->manifest, a->manifest_len + 1);
	*len = a->manifest_len;
	*media_type = xstrdup(IMS_MT_DOCKER_MANIFEST);
	return 0;
}

static int da_open_blob(ims_transport *t, const char *digest, ims_reader *out, ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	if (!(t->mode & IMS_TRANSPORT_READ))
		return ims_blobdir_open(&a->stage, digest, out, err);
	int r = need_image(a, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->nfiles; i++) {
		if (strcmp(a->files[i].digest, digest) != 0)
			continue;
		int fd = open(a->files[i].path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return ims_error_sys(err, errno, IMS_EGENERIC, "%s: open blob %s", a->shown, digest);
		*out = ims_reader_fd(fd);
		return 0;
	}
	return ims_error_set(err, IMS_ENOTFOUND, "blob %s not found in %s", digest, a->shown);
}

static int da_has_blob(ims_transport *t, const char *digest, bool *exists, ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	if (!(t->mode & IMS_TRANSPORT_READ))
		return ims_blobdir_has(&a->stage, digest, exists, err);
	int r = need_image(a, err);
	if (r < 0)
		return r;
	*exists = false;
	for (size_t i = 0; i < a->nfiles && !*exists; i++)
		*exists = !strcmp(a->files[i].digest, digest);
	return 0;
}

/* ---- writing ---- */


static int da_new_blob(ims_transport *t, ims_blob_writer **out, ims_error **err)
{
	return ims_blobdir_new_writer(&((docker_archive *)t)->stage, out, err);
}

static int require_blob(docker_archive *a, const ims_descriptor *d, const char *what, ims_error **err)
{
	bool exists = false;
	int r = ims_blobdir_has(&a->stage, d->digest, &exists, err);
	if (r < 0)
		return r;
	if (!exists)
		return ims_error_set(err, IMS_ENOTFOUND, "%s %s was not stored in %s before its manifest", what,
				     d->digest, a->shown);
	return 0;
}

static int check_manifest(docker_archive *a, const ims_manifest *m, ims_error **err)
{
	int r = require_blob(a, &m->config, "config", err);
	for (size_t i = 0; r == 0 && i < m->nlayers; i++) {
		const char *mt = m->layers[i].media_type ? m->layers[i].media_type : "";
		/* docker load reads plain and gzip tar only. */
		if (strstr(mt, "zstd"))
			return ims_error_set(err, IMS_EUNSUPPORTED, "%s cannot hold zstd layer %s", a->shown,
					     m->layers[i].digest);
		r = require_blob(a, &m->layers[i], "layer", err);
	}
	return r;
}

static da_image *find_image(docker_archive *a, const char *digest)
{
	for (size_t i = 0; i < a->nimages; i++)
		if (!strcmp(a->images[i].digest, digest))
			return &a->images[i];
	return NULL;
}

static int da_put_manifest(ims_transport *t, const char *data, size_t len, const char *media_type,
			   const char *digest, ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	ims_doc_kind kind;
	_cleanup_free_ char *mt = NULL;
	int r = ims_doc_detect(data, len, media_type, &kind, &mt, err);
	if (r < 0)
		return ims_error_wrap(err, "store manifest %s", digest);
	if (kind == IMS_DOC_INDEX) {
		ims_error_set(err, IMS_EUNSUPPORTED, "docker-archive holds one platform; build one --platform");
		ims_error_hint(err, "or write an index with `oci:` or `oci-archive:`");
		return IMS_EUNSUPPORTED;
	}
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len, got);
	if (strcmp(got, digest) != 0)
		return ims_error_set(err, IMS_EDIGEST, "manifest %s has digest %s", digest, got);
	ims_manifest *m = NULL;
	if ((r = ims_manifest_parse(&m, data, len, err)) < 0)
		return ims_error_wrap(err, "store manifest %s", digest);
	if ((r = check_manifest(a, m, err)) < 0) {
		ims_manifest_free(m);
		return r;
	}
	da_image *im = find_image(a, digest);
	if (im) {
		ims_manifest_free(im->m);
		im->m = m;
		return 0;
	}
	a->images = xgrow(a->images, &a->icap, a->nimages + 1, sizeof(*a->images));
	im = &a->images[a->nimages++];
	*im = (da_image){ .m = m };
	memcpy(im->digest, digest, sizeof(im->digest));
	return 0;
}

static void drop_tag(da_image *im, const char *tag)
{
	for (size_t i = 0; i < im->ntags; i++) {
		if (strcmp(im->tags[i], tag) != 0)
			continue;
		free(im->tags[i]);
		memmove(&im->tags[i], &im->tags[i + 1], (im->ntags - i) * sizeof(char *));
		im->ntags--;
		return;
	}
}

static int da_tag(ims_transport *t, const char *name, const ims_descriptor *desc, ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	da_image *im = find_image(a, desc->digest);
	if (!im)
		return ims_error_set(err, IMS_ENOTFOUND, "manifest %s was not stored in %s", desc->digest, a->shown);
	if (!name)
		name = a->name;
	if (!name)
		return 0; /* an untagged image: docker load gives it no name */
	char *tag = ims_docker_archive_short_name(name);
	if (!tag)
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid docker-archive name (want repo:tag)", name);
	/* A name points at one image, as in docker. */
	for (size_t i = 0; i < a->nimages; i++)
		drop_tag(&a->images[i], tag);
	im->tags = xgrow(im->tags, &im->cap, im->ntags + 2, sizeof(char *));
	im->tags[im->ntags++] = tag;
	im->tags[im->ntags] = NULL;
	return 0;
}

/* Adds "<hex><ext>" for a staged blob once, however many images use it. */
static void add_blob_entry(docker_archive *a, ims_tarball_entry **v, size_t *n, size_t *cap, const char *digest,
			   const char *ext)
{
	char *name = xasprintf("%s%s", ims_digest_hex(digest), ext);
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*v)[i].name, name)) {
			free(name);
			return;
		}
	}
	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (ims_tarball_entry){ .name = name, .src = ims_blobdir_path(&a->stage, digest) };
}

static ims_json *strings_json(char **s, size_t n)
{
	ims_json *arr = ims_json_new_array();
	for (size_t i = 0; i < n; i++)
		ims_json_append(arr, ims_json_new_string(s[i]));
	return arr;
}

/* The legacy `repositories` file: repo → tag → top layer id. Old docker
 * versions read it; newer ones only need manifest.json. */
static void add_repositories(ims_json *repos, const da_image *im)
{
	if (!im->m->nlayers)
		return;
	const char *top = ims_digest_hex(im->m->layers[im->m->nlayers - 1].digest);
	for (size_t i = 0; i < im->ntags; i++) {
		_cleanup_free_ char *repo = xstrdup(im->tags[i]);
		char *colon = strrchr(repo, ':');
		if (!colon)
			continue;
		*colon = '\0';
		ims_json *tags = ims_json_get(repos, repo);
		if (!tags) {
			tags = ims_json_new_object();
			ims_json_set(repos, repo, tags);
		}
		ims_json_set(tags, colon + 1, ims_json_new_string(top));
	}
}

static int da_commit(ims_transport *t, ims_error **err)
{
	docker_archive *a = (docker_archive *)t;
	if (!a->nimages)
		return ims_error_set(err, IMS_EGENERIC, "%s: no image was stored", a->shown);
	ims_tarball_entry *v = NULL;
	size_t n = 0, cap = 0;
	ims_json *list = ims_json_new_array();
	ims_json *repos = ims_json_new_object();
	for (size_t i = 0; i < a->nimages; i++) {
		const da_image *im = &a->images[i];
		ims_json *o = ims_json_new_object();
		_cleanup_free_ char *config = xasprintf("%s.json", ims_digest_hex(im->m->config.digest));
		ims_json_set(o, "Config", ims_json_new_string(config));
		ims_json_set(o, "RepoTags", strings_json(im->tags, im->ntags));
		ims_json *layers = ims_json_new_array();
		add_blob_entry(a, &v, &n, &cap, im->m->config.digest, ".json");
		for (size_t j = 0; j < im->m->nlayers; j++) {
			const char *d = im->m->layers[j].digest;
			char *ln = xasprintf("%s.tar", ims_digest_hex(d));
			ims_json_append(layers, ims_json_new_string(ln));
			free(ln);
			add_blob_entry(a, &v, &n, &cap, d, ".tar");
		}
		ims_json_set(o, "Layers", layers);
		ims_json_append(list, o);
		add_repositories(repos, im);
	}
	size_t mlen = 0, rlen = 0;
	_cleanup_free_ char *mdata = ims_json_encode(list, &mlen);
	_cleanup_free_ char *rdata = repos->n ? ims_json_encode(repos, &rlen) : NULL;
	ims_json_free(list);
	ims_json_free(repos);
	v = xgrow(v, &cap, n + 2, sizeof(*v));
	v[n++] = (ims_tarball_entry){ .name = xstrdup("manifest.json"), .data = mdata, .len = mlen };
	if (rdata)
		v[n++] = (ims_tarball_entry){ .name = xstrdup("repositories"), .data = rdata, .len = rlen };
	int r = ims_tarball_write(a->file, v, n, a->shown, err);
	ims_tarball_entries_free(v, n);
	return r;
}

static void da_close(ims_transport *t)
{
	archive_free((docker_archive *)t);
}

static int da_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
		   ims_error **err)
{
	if ((mode & IMS_TRANSPORT_READ) && (mode & IMS_TRANSPORT_WRITE))
		return ims_error_set(err, IMS_EUNSUPPORTED, "docker-archive is opened for reading or for writing, not both");
	docker_archive *a = xcalloc(1, sizeof(*a));
	a->tmp_lock = -1;
	a->file = ims_path_absolute(opts->base_dir, ref->path);
	a->shown = xasprintf("docker-archive `%s`", ref->path);
	a->name = ref->name ? xstrdup(ref->name) : NULL;
	int r = (mode & IMS_TRANSPORT_WRITE) ? ims_check_output_path(a->file, a->shown, false, err) : 0;
	if (r == 0 && (mode & IMS_TRANSPORT_WRITE))
		ims_tarball_sweep(a->file);
	if (r == 0) {
		ims_sweep_tmpdirs(opts->tmp_dir, "imagespec-docker-archive");
		r = ims_mkdtemp_locked(opts->tmp_dir, "imagespec-docker-archive", &a->tmp, &a->tmp_lock, err);
	}
	ims_blobdir_init(&a->stage, a->tmp ? a->tmp : "", a->shown);
	if (r == 0 && (mode & IMS_TRANSPORT_READ))
		r = open_read(a, err);
	else if (r == 0)
		r = ims_blobdir_create(&a->stage, err);
	if (r < 0) {
		archive_free(a);
		return r;
	}
	*out = &a->pub;
	return 0;
}

const ims_transport_ops ims_transport_docker_archive_ops = {
	.version = IMS_TRANSPORT_OPS_VERSION,
	.kind = IMS_REF_DOCKER_ARCHIVE,
	.name = "docker-archive",
	.flags = IMS_TRANSPORT_UNCOMPRESSED_LAYERS | IMS_TRANSPORT_NO_INDEX,
	.open = da_open,
	.get_manifest = da_get_manifest,
	.open_blob = da_open_blob,
	.has_blob = da_has_blob,
	.new_blob = da_new_blob,
	.put_manifest = da_put_manifest,
	.tag = da_tag,
	.commit = da_commit,
	.close = da_close,
	.list_tags = da_list_tags,
};
