/* Unit tests for src/transport: oci layouts, oci-archive, docker-archive,
 * the blob helpers, and the checks that keep bad input out of paths. When
 * skopeo is installed, it must accept what we write. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/digest.h"
#include "json/json.h"
#include "json/oci.h"
#include "transport/docker_archive_manifest.h"
#include "transport/oci_layout.h"
#include "transport/transport.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"
#include "testref.h"

/* tap.h's is_str reuses ok()'s flag name; use distinct names here. */
#undef is_str
#define is_str(a, b, ...)                                                                         \
	do {                                                                                      \
		const char *_sa = (a), *_sb = (b);                                                \
		int _same = (_sa && _sb) ? !strcmp(_sa, _sb) : _sa == _sb;                        \
		ok(_same, __VA_ARGS__);                                                           \
		if (!_same)                                                                       \
			printf("#   got:      '%s'\n#   expected: '%s'\n", _sa ? _sa : "(null)", \
			       _sb ? _sb : "(null)");                                             \
	} while (0)

static char *root;
static bool have_skopeo;

/* ---- a tiny valid image ---- */

typedef struct {
	char *layer;
	size_t layer_len;
	char layer_digest[IMS_DIGEST_BUFSZ];
	char *config;
	size_t config_len;
	char config_digest[IMS_DIGEST_BUFSZ];
	char *manifest;
	size_t manifest_len;
	char manifest_digest[IMS_DIGEST_BUFSZ];
	char *manifest_type;
} image;

/* A tar made with libarchive, written to a file and read back. */
static char *make_tar(const char *name, const char *content, bool gzip, size_t *len)
{
	char *path = xasprintf("%s/layer-XXXXXX", root);
	int fd = mkstemp(path);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	archive_write_open_fd(a, fd);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_write_header(a, e);
	archive_write_data(a, content, strlen(content));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	close(fd);
	char *data = NULL;
	ims_read_file(path, 1 << 20, &data, len, NULL);
	unlink(path);
	free(path);
	return data;
}

static void make_image(image *im, const char *content, bool docker, bool gzip)
{
	memset(im, 0, sizeof(*im));
	im->layer = make_tar("hello.txt", content, gzip, &im->layer_len);
	ims_sha256_buf(im->layer, im->layer_len, im->layer_digest);
	char diff_id[IMS_DIGEST_BUFSZ];
	if (gzip) {
		/* the diff_id is the digest of the uncompressed tar */
		size_t n;
		char *plain = make_tar("hello.txt", content, false, &n);
		ims_sha256_buf(plain, n, diff_id);
		free(plain);
	} else {
		memcpy(diff_id, im->layer_digest, sizeof(diff_id));
	}
	im->config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/hello\"]},"
			       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
			       "\"history\":[{\"created_by\":\"test\"}]}",
			       diff_id);
	im->config_len = strlen(im->config);
	ims_sha256_buf(im->config, im->config_len, im->config_digest);

	ims_manifest m = { 0 };
	m.media_type = (char *)(docker ? IMS_MT_DOCKER_MANIFEST : IMS_MT_OCI_MANIFEST);
	m.config.media_type = (char *)(docker ? IMS_MT_DOCKER_CONFIG : IMS_MT_OCI_CONFIG);
	memcpy(m.config.digest, im->config_digest, IMS_DIGEST_BUFSZ);
	m.config.size = (int64_t)im->config_len;
	ims_descriptor layer = { 0 };
	layer.media_type = (char *)(docker ? (gzip ? IMS_MT_DOCKER_LAYER_GZIP : IMS_MT_DOCKER_LAYER)
					   : (gzip ? IMS_MT_OCI_LAYER_GZIP : IMS_MT_OCI_LAYER));
	memcpy(layer.digest, im->layer_digest, IMS_DIGEST_BUFSZ);
	layer.size = (int64_t)im->layer_len;
	m.layers = &layer;
	m.nlayers = 1;
	im->manifest = ims_manifest_encode(&m, &im->manifest_len);
	ims_sha256_buf(im->manifest, im->manifest_len, im->manifest_digest);
	im->manifest_type = m.media_type;
}

static void free_image(image *im)
{
	free(im->layer);
	free(im->config);
	free(im->manifest);
}

static ims_descriptor manifest_desc(const image *im)
{
	ims_descriptor d = { 0 };
	d.media_type = (char *)im->manifest_type;
	memcpy(d.digest, im->manifest_digest, IMS_DIGEST_BUFSZ);
	d.size = (int64_t)im->manifest_len;
	return d;
}

static int put_blob(ims_transport *t, const void *p, size_t n, const char *digest, ims_error **err)
{
	ims_blob_writer *w = NULL;
	int r = ims_transport_new_blob(t, &w, err);
	if (r < 0)
		return r;
	if ((r = ims_sink_write(&w->sink, p, n, err)) < 0) {
		w->abort(w);
		return r;
	}
	return w->commit(w, digest, (int64_t)n, err);
}

/* Stores an image and points name at it (NULL: the ref's own name). */
static int write_image(ims_transport *t, const image *im, const char *name, ims_error **err)
{
	int r;
	if ((r = put_blob(t, im->layer, im->layer_len, im->layer_digest, err)) < 0)
		return r;
	if ((r = put_blob(t, im->config, im->config_len, im->config_digest, err)) < 0)
		return r;
	if ((r = ims_transport_put_manifest(t, im->manifest, im->manifest_len, im->manifest_type,
					    im->manifest_digest, err)) < 0)
		return r;
	ims_descriptor d = manifest_desc(im);
	return ims_transport_tag(t, name, &d, err);
}

static int open_ref(ims_transport **t, const char *s, int mode, ims_error **err)
{
	return test_open_ref(t, root, s, mode, err);
}

/* Writes one image under name to ref and commits. */
static int write_ref(const char *ref, const image *im, const char *name)
{
	ims_transport *t = NULL;
	ims_error *e = NULL;
	int r = open_ref(&t, ref, IMS_TRANSPORT_WRITE, &e);
	if (r == 0)
		r = write_image(t, im, name, &e);
	if (r == 0)
		r = ims_transport_commit(t, &e);
	if (e)
		printf("# %s: %s\n", ref, e->message);
	ims_error_free(e);
	ims_transport_close(t);
	return r;
}

/* Reads the manifest ref names; returns the error code. */
static int read_manifest(const char *ref, char **data, size_t *len, char **mt, char **msg)
{
	ims_transport *t = NULL;
	ims_error *e = NULL;
	int r = open_ref(&t, ref, IMS_TRANSPORT_READ, &e);
	if (r == 0)
		r = ims_transport_get_manifest(t, NULL, data, len, mt, &e);
	if (msg)
		*msg = e ? xstrdup(e->message) : NULL;
	if (e && !msg)
		printf("# %s: %s\n", ref, e->message);
	ims_error_free(e);
	ims_transport_close(t);
	return r;
}

static bool manifest_is(const char *ref, const image *im)
{
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	bool same = read_manifest(ref, &data, &len, &mt, NULL) == 0 && len == im->manifest_len &&
		    !memcmp(data, im->manifest, len);
	free(data);
	free(mt);
	return same;
}

static char *slurp(const char *path)
{
	char *data = NULL;
	if (ims_read_file(path, 1 << 22, &data, NULL, NULL) < 0)
		return NULL;
	return data;
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool skopeo_ok(const char *ref)
{
	char *cmd = xasprintf("cd '%s' && skopeo inspect '%s' >/dev/null 2>skopeo.err || { sed 's/^/# /' skopeo.err; false; }",
			      root, ref);
	int r = system(cmd);
	free(cmd);
	return r == 0;
}

/* ---- oci layouts ---- */

static void test_oci_layout(void)
{
	image a, b, c;
	make_image(&a, "a\n", false, false);
	make_image(&b, "b\n", false, true);
	make_image(&c, "c\n", false, false);

	is_int(write_ref("oci:lay:v1", &a, NULL), 0, "write an image to oci:lay:v1");
	char *p = xasprintf("%s/lay/oci-layout", root);
	char *s = slurp(p);
	is_str(s, "{\"imageLayoutVersion\":\"1.0.0\"}", "oci-layout written");
	free(s);
	free(p);

	p = xasprintf("%s/lay/index.json", root);
	s = slurp(p);
	ims_index *ix = NULL;
	ok(s && ims_index_parse(&ix, s, strlen(s), NULL) == 0, "index.json parses");
	if (ix) {
		is_int(ix->nmanifests, 1, "one entry");
		is_str(ix->manifests[0].digest, a.manifest_digest, "entry digest");
		is_str(ims_oci_ref_name(&ix->manifests[0]), "v1", "entry ref.name is the ref's tag");
		is_str(ix->manifests[0].media_type, IMS_MT_OCI_MANIFEST, "entry media type");
		ims_index_free(ix);
		ix = NULL;
	}
	free(s);

	ok(manifest_is("oci:lay:v1", &a), "read back by tag");
	ok(manifest_is("oci:lay", &a), "a layout with one image needs no tag");

	/* blobs read back, verified */
	ims_transport *t = NULL;
	ims_error *e = NULL;
	ok(open_ref(&t, "oci:lay:v1", IMS_TRANSPORT_READ, &e) == 0, "open for reading");
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	ok(ims_transport_read_blob(t, a.config_digest, 1 << 20, &data, &len, &e) == 0 && len == a.config_len &&
		   !memcmp(data, a.config, len),
	   "read the config blob");
	free(data);
	ok(ims_transport_read_blob(t, a.layer_digest, 16, &data, &len, &e) == IMS_EGENERIC, "read_blob is capped");
	ims_error_clear(&e);
	ok(ims_transport_get_manifest(t, a.manifest_digest, &data, &len, &mt, &e) == 0 &&
		   !strcmp(mt, IMS_MT_OCI_MANIFEST),
	   "get_manifest by digest detects the media type");
	free(data);
	free(mt);
	ok(ims_transport_read_blob(t, b.layer_digest, 1 << 20, &data, &len, &e) == IMS_ENOTFOUND,
	   "a missing blob is IMS_ENOTFOUND");
	ims_error_clear(&e);
	ims_transport_close(t);

	if (have_skopeo)
		ok(skopeo_ok("oci:lay:v1"), "skopeo inspect oci:lay:v1");

	/* a second tag keeps the first */
	is_int(write_ref("oci:lay:v2", &b, NULL), 0, "write a second image as v2");
	ok(manifest_is("oci:lay:v1", &a), "v1 still there");
	ok(manifest_is("oci:lay:v2", &b), "v2 there");
	if (have_skopeo)
		ok(skopeo_ok("oci:lay:v2"), "skopeo inspect oci:lay:v2 (gzip layer)");

	/* retagging replaces only the entry with that name */
	is_int(write_ref("oci:lay:v1", &c, NULL), 0, "retag v1");
	ok(manifest_is("oci:lay:v1", &c), "v1 moved");
	ok(manifest_is("oci:lay:v2", &b), "v2 kept");
	s = slurp(p);
	ok(s && ims_index_parse(&ix, s, strlen(s), NULL) == 0 && ix->nmanifests == 2, "still two entries");
	ims_index_free(ix);
	ix = NULL;
	free(s);

	/* several names in one session, and untagged entries deduplicated */
	ok(open_ref(&t, "oci:lay", IMS_TRANSPORT_WRITE, &e) == 0, "open without a tag");
	ok(write_image(t, &a, NULL, &e) == 0, "untagged entry");
	ims_descriptor d = manifest_desc(&a);
	ok(ims_transport_tag(t, "latest", &d, &e) == 0, "extra tag `latest`");
	ok(ims_transport_tag(t, "bad tag", &d, &e) == IMS_EINVALID, "an invalid ref.name is refused");
	ims_error_clear(&e);
	ok(ims_transport_commit(t, &e) == 0, "commit");
	ims_transport_close(t);
	is_int(write_ref("oci:lay", &a, NULL), 0, "the same untagged image again");
	s = slurp(p);
	ok(s && ims_index_parse(&ix, s, strlen(s), NULL) == 0, "index parses");
	if (ix) {
		is_int(ix->nmanifests, 4, "v1, v2, untagged once, latest");
		int untagged = 0;
		for (size_t i = 0; i < ix->nmanifests; i++)
			untagged += ims_oci_ref_name(&ix->manifests[i]) == NULL;
		is_int(untagged, 1, "the untagged entry is not duplicated");
		ims_index_free(ix);
		ix = NULL;
	}
	free(s);
	ok(manifest_is("oci:lay:latest", &a), "latest resolves");

	/* close without commit leaves index.json byte-identical */
	char *before = slurp(p);
	ok(open_ref(&t, "oci:lay:v3", IMS_TRANSPORT_WRITE, &e) == 0, "open for an abandoned write");
	ok(write_image(t, &c, NULL, &e) == 0, "stage v3");
	ims_transport_close(t);
	char *after = slurp(p);
	ok(before && after && !strcmp(before, after), "close without commit: index.json unchanged");
	free(before);
	free(after);
	char *msg = NULL;
	is_int(read_manifest("oci:lay:v3", &data, &len, &mt, &msg), IMS_ENOTFOUND, "v3 was never published");
	ok(msg && strstr(msg, "`v3`"), "the error names the tag: %s", msg ? msg : "");
	free(msg);

	/* ambiguity */
	is_int(read_manifest("oci:lay", &data, &len, &mt, &msg), IMS_EINVALID, "no tag, several images");
	ok(msg && strstr(msg, "`v1`") && strstr(msg, "`v2`"), "the error lists the names: %s", msg ? msg : "");
	free(msg);
	free(p);

	free_image(&a);
	free_image(&b);
	free_image(&c);
}

static void test_blob_checks(void)
{
	ims_transport *t = NULL;
	ims_error *e = NULL;
	ok(open_ref(&t, "oci:fresh", IMS_TRANSPORT_WRITE, &e) == 0, "open a fresh layout");
	char *blobs = xasprintf("%s/fresh/blobs/sha256", root);
	is_int(count_dir(blobs), 0, "no blobs yet");

	char wrong[IMS_DIGEST_BUFSZ];
	ims_sha256_buf("abd", 3, wrong);
	ims_blob_writer *w = NULL;
	ok(ims_transport_new_blob(t, &w, &e) == 0, "new blob");
	ims_sink_write(&w->sink, "abc", 3, &e);
	is_int(w->commit(w, wrong, 3, &e), IMS_EDIGEST, "commit with the wrong digest is refused");
	ims_error_clear(&e);
	is_int(count_dir(blobs), 0, "nothing left in blobs/");

	char right[IMS_DIGEST_BUFSZ];
	ims_sha256_buf("abc", 3, right);
	ok(ims_transport_new_blob(t, &w, &e) == 0, "new blob");
	ims_sink_write(&w->sink, "abc", 3, &e);
	is_int(w->commit(w, right, 4, &e), IMS_EDIGEST, "commit with the wrong size is refused");
	ims_error_clear(&e);
	is_int(count_dir(blobs), 0, "nothing left in blobs/");

	ok(ims_transport_new_blob(t, &w, &e) == 0, "new blob");
	ims_sink_write(&w->sink, "abc", 3, &e);
	is_int(w->commit(w, "sha256:../../etc/passwd", 3, &e), IMS_EINVALID, "commit under a bad digest is refused");
	ims_error_clear(&e);
	is_int(count_dir(blobs), 0, "nothing left in blobs/");

	/* count_only: the caller vouches for the digest; the size is still
	 * checked, and a bad digest still refused. */
	ok(ims_transport_new_blob(t, &w, &e) == 0 && w->count_only, "new blob, count only");
	ims_blob_writer_count_only(w);
	ims_sink_write(&w->sink, "abc", 3, &e);
	is_int(w->commit(w, right, 4, &e), IMS_EDIGEST, "count only: commit with the wrong size is refused");
	ims_error_clear(&e);
	ok(ims_transport_new_blob(t, &w, &e) == 0, "new blob, count only");
	ims_blob_writer_count_only(w);
	ims_sink_write(&w->sink, "abc", 3, &e);
	is_int(w->commit(w, "sha256:../../etc/passwd", 3, &e), IMS_EINVALID,
	       "count only: commit under a bad digest is refused");
	ims_error_clear(&e);
	is_int(count_dir(blobs), 0, "count only: nothing left in blobs/");
	ok(ims_transport_new_blob(t, &w, &e) == 0, "new blob, count only");
	ims_blob_writer_count_only(w);
	ims_sink_write(&w->sink, "abc", 3, &e);
	is_int(w->commit(w, right, 3, &e), 0, "count only: the vouched digest and the right size are stored");
	is_int(count_dir(blobs), 1, "count only: the blob is in blobs/");
	char *stored = xasprintf("%s/%s", blobs, right + strlen("sha256:"));
	char got[IMS_DIGEST_BUFSZ] = "";
	FILE *sf = fopen(stored, "rb");
	char buf[8];
	size_t n = sf ? fread(buf, 1, sizeof(buf), sf) : 0;
	if (sf)
		fclose(sf);
	ims_sha256_buf(buf, n, got);
	is_str(got, right, "count only: the stored bytes are the ones written");
	unlink(stored);
	free(stored);

	static const char *bad[] = {
		"sha256:../../etc/passwd",
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF",
		"sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/x",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool exists = true;
		ims_reader rd = { 0 };
		char *data = NULL;
		size_t len = 0;
		ok(ims_transport_has_blob(t, bad[i], &exists, &e) == IMS_EINVALID, "has_blob refuses `%s`", bad[i]);
		ims_error_clear(&e);
		ok(ims_transport_open_blob(t, bad[i], &rd, &e) == IMS_EINVALID, "open_blob refuses `%s`", bad[i]);
		ims_error_clear(&e);
		ok(ims_transport_get_manifest(t, bad[i], &data, &len, NULL, &e) == IMS_EINVALID,
		   "get_manifest refuses `%s`", bad[i]);
		ims_error_clear(&e);
		ok(ims_transport_put_manifest(t, "{}", 2, NULL, bad[i], &e) == IMS_EINVALID,
		   "put_manifest refuses `%s`", bad[i]);
		ims_error_clear(&e);
	}
	ims_descriptor d = { 0 };
	strcpy(d.digest, "sha256:../../x");
	ok(ims_transport_tag(t, "x", &d, &e) == IMS_EINVALID, "tag refuses a bad digest");
	ims_error_clear(&e);
	ok(ims_transport_copy_blob(t, t, &d, &e) == IMS_EINVALID, "copy_blob refuses a bad digest");
	ims_error_clear(&e);

	/* a tag must point at something stored */
	memcpy(d.digest, right, sizeof(d.digest));
	ok(ims_transport_tag(t, "x", &d, &e) == IMS_ENOTFOUND, "tagging a missing manifest is refused");
	ims_error_clear(&e);
	ims_transport_close(t);
	free(blobs);

	/* a non-empty directory that is not a layout is not adopted */
	char *dir = xasprintf("%s/notlayout", root);
	char *f = xasprintf("%s/notlayout/file", root);
	ims_mkdir_p(dir, 0755, NULL);
	ims_write_file_atomic(f, "x", 1, 0644, NULL);
	ok(open_ref(&t, "oci:notlayout", IMS_TRANSPORT_WRITE, &e) == IMS_EINVALID,
	   "a non-empty directory that is not a layout is refused");
	ims_error_clear(&e);
	ok(open_ref(&t, "oci:notlayout", IMS_TRANSPORT_READ, &e) == IMS_ENOTFOUND, "reading a non-layout fails");
	ims_error_clear(&e);
	free(f);
	free(dir);

	/* the layout version is checked */
	dir = xasprintf("%s/v2layout", root);
	f = xasprintf("%s/v2layout/oci-layout", root);
	ims_mkdir_p(dir, 0755, NULL);
	ims_write_file_atomic(f, "{\"imageLayoutVersion\":\"2.0.0\"}", 30, 0644, NULL);
	ok(open_ref(&t, "oci:v2layout", IMS_TRANSPORT_READ, &e) == IMS_EUNSUPPORTED, "layout version 2.0.0 refused");
	ims_error_clear(&e);
	free(f);
	free(dir);

	ok(open_ref(&t, "docker.io/library/busybox:1", IMS_TRANSPORT_READ, &e) == IMS_EUNSUPPORTED,
	   "registry references are not supported yet");
	ims_error_clear(&e);
	ok(open_ref(&t, "scratch", IMS_TRANSPORT_WRITE, &e) == IMS_EUNSUPPORTED, "scratch is not a target");
	ims_error_clear(&e);
	ok(open_ref(&t, "scratch", IMS_TRANSPORT_READ, &e) == 0, "scratch opens for reading");
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	ok(ims_transport_get_manifest(t, NULL, &data, &len, &mt, &e) == IMS_EUNSUPPORTED, "scratch has no manifest");
	ims_error_clear(&e);
	ims_transport_close(t);
}

static void test_copy_blob(void)
{
	image a;
	make_image(&a, "copy\n", false, false);
	is_int(write_ref("oci:src:x", &a, NULL), 0, "source layout");
	ims_transport *src = NULL, *dst = NULL;
	ims_error *e = NULL;
	ok(open_ref(&src, "oci:src:x", IMS_TRANSPORT_READ, &e) == 0, "open source");
	ok(open_ref(&dst, "oci:dst:x", IMS_TRANSPORT_WRITE, &e) == 0, "open destination");
	char *blobs = xasprintf("%s/dst/blobs/sha256", root);

	ims_descriptor d = { 0 };
	memcpy(d.digest, a.layer_digest, sizeof(d.digest));
	d.size = (int64_t)a.layer_len - 1;
	is_int(ims_transport_copy_blob(src, dst, &d, &e), IMS_EDIGEST, "a short size claim is caught");
	ok(e && strstr(e->message, a.layer_digest), "the error names the blob");
	ims_error_clear(&e);
	d.size = (int64_t)a.layer_len + 1;
	is_int(ims_transport_copy_blob(src, dst, &d, &e), IMS_EDIGEST, "a long size claim is caught");
	ims_error_clear(&e);
	is_int(count_dir(blobs), 0, "nothing left after failed copies");

	d.size = (int64_t)a.layer_len;
	is_int(ims_transport_copy_blob(src, dst, &d, &e), 0, "copy the layer");
	is_int(count_dir(blobs), 1, "one blob in the destination");
	bool exists = false;
	ok(ims_transport_has_blob(dst, a.layer_digest, &exists, &e) == 0 && exists, "has_blob sees it");
	is_int(ims_transport_copy_blob(src, dst, &d, &e), 0, "copying again is a no-op");
	ims_transport_close(src);
	ims_transport_close(dst);
	free(blobs);
	free_image(&a);
}

/* ---- oci-archive ---- */

static void test_oci_archive(void)
{
	image a, b;
	make_image(&a, "arch-a\n", false, false);
	make_image(&b, "arch-b\n", false, true);
	is_int(write_ref("oci-archive:img.tar:a", &a, NULL), 0, "write oci-archive:img.tar:a");
	ok(manifest_is("oci-archive:img.tar:a", &a), "read it back");
	if (have_skopeo)
		ok(skopeo_ok("oci-archive:img.tar:a"), "skopeo inspect oci-archive:img.tar:a");
	is_int(write_ref("oci-archive:img.tar:b", &b, NULL), 0, "add tag b to the same archive");
	ok(manifest_is("oci-archive:img.tar:a", &a), "a survives");
	ok(manifest_is("oci-archive:img.tar:b", &b), "b there");
	char *msg = NULL, *data = NULL, *mt = NULL;
	size_t len;
	is_int(read_manifest("oci-archive:img.tar:zz", &data, &len, &mt, &msg), IMS_ENOTFOUND, "missing tag");
	ok(msg && strstr(msg, "`zz`") && strstr(msg, "oci-archive `img.tar`") && !strstr(msg, root),
	   "the error names the tag and the archive, not the temp dir: %s", msg ? msg : "");
	free(msg);
	is_int(read_manifest("oci-archive:missing.tar", &data, &len, &mt, &msg), IMS_ENOTFOUND,
	       "a missing archive is IMS_ENOTFOUND");
	free(msg);

	char *gz = xasprintf("cd '%s' && gzip -n -c img.tar > img.tar.gz", root);
	ok(system(gz) == 0 && manifest_is("oci-archive:img.tar.gz:a", &a), "a gzip-compressed archive is read");
	free(gz);

	/* the archive is normalised */
	struct archive *ar = archive_read_new();
	archive_read_support_format_tar(ar);
	char *path = xasprintf("%s/img.tar", root);
	bool norm = archive_read_open_filename(ar, path, 10240) == ARCHIVE_OK;
	struct archive_entry *ent;
	char prev[4096] = "";
	int n = 0;
	while (norm && archive_read_next_header(ar, &ent) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		norm = archive_entry_mtime(ent) == 0 && archive_entry_uid(ent) == 0 && archive_entry_gid(ent) == 0 &&
		       strcmp(prev, name) < 0 &&
		       (archive_entry_perm(ent) == (archive_entry_filetype(ent) == AE_IFDIR ? 0755 : 0644));
		snprintf(prev, sizeof(prev), "%s", name);
		n++;
	}
	archive_read_free(ar);
	ok(norm && n > 4, "entries sorted, uid/gid 0, mtime 0, modes 0644/0755 (%d entries)", n);

	/* writing the same content twice gives the same bytes */
	char *one = NULL, *two = NULL;
	size_t l1 = 0, l2 = 0;
	write_ref("oci-archive:r1.tar:a", &a, NULL);
	write_ref("oci-archive:r2.tar:a", &a, NULL);
	char *p1 = xasprintf("%s/r1.tar", root), *p2 = xasprintf("%s/r2.tar", root);
	ims_read_file(p1, 1 << 24, &one, &l1, NULL);
	ims_read_file(p2, 1 << 24, &two, &l2, NULL);
	ok(one && two && l1 == l2 && !memcmp(one, two, l1), "reproducible archive bytes");
	free(one);
	free(two);
	free(p1);
	free(p2);

	/* close without commit leaves the archive as it was */
	char *before = NULL, *after = NULL;
	size_t lb = 0, la = 0;
	ims_read_file(path, 1 << 24, &before, &lb, NULL);
	ims_transport *t = NULL;
	ims_error *e = NULL;
	ok(open_ref(&t, "oci-archive:img.tar:c", IMS_TRANSPORT_WRITE, &e) == 0, "open for an abandoned write");
	write_image(t, &b, NULL, &e);
	ims_transport_close(t);
	ims_read_file(path, 1 << 24, &after, &la, NULL);
	ok(before && after && lb == la && !memcmp(before, after, lb), "archive untouched without commit");
	free(before);
	free(after);
	free(path);
	free_image(&a);
	free_image(&b);
}

/* Hostile archives: each must be refused without writing outside. */
static void write_evil(const char *file, const char *name, int type, const char *link)
{
	char *path = xasprintf("%s/%s", root, file);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, path);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "oci-layout");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 30);
	archive_write_header(a, e);
	archive_write_data(a, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	archive_entry_clear(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, (mode_t)type);
	archive_entry_set_perm(e, 0644);
	if (link && type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	else if (link)
		archive_entry_set_hardlink(e, link);
	archive_entry_set_size(e, type == AE_IFREG && !link ? 4 : 0);
	archive_write_header(a, e);
	if (type == AE_IFREG && !link)
		archive_write_data(a, "evil", 4);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	free(path);
}

static void test_hostile_archives(void)
{
	struct {
		const char *name;
		int type;
		const char *link;
		const char *what;
	} cases[] = {
		{ "../evil", AE_IFREG, NULL, "a climbing name" },
		{ "/tmp/evil-abs", AE_IFREG, NULL, "an absolute name" },
		{ "blobs/../../evil", AE_IFREG, NULL, "a climbing name inside" },
		{ "index.json", AE_IFLNK, "/etc/passwd", "an absolute symlink" },
		{ "a/index.json", AE_IFLNK, "../../etc/passwd", "a climbing symlink" },
		{ "index.json", AE_IFLNK, "missing", "a dangling symlink" },
		{ "index.json", AE_IFLNK, ".", "a symlink to the archive root" },
		{ "index.json", AE_IFREG, "../etc/passwd", "a climbing hard link" },
		{ "oci-layout", AE_IFREG, "oci-layout", "a second entry of the same name" },
		{ "fifo", AE_IFIFO, NULL, "a FIFO" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_evil("evil.tar", cases[i].name, cases[i].type, cases[i].link);
		char *msg = NULL, *data = NULL, *mt = NULL;
		size_t len;
		int r = read_manifest("oci-archive:evil.tar", &data, &len, &mt, &msg);
		ok(r == IMS_EGENERIC && msg && strstr(msg, "`evil.tar`: "), "%s is refused: %s", cases[i].what,
		   msg ? msg : "");
		free(msg);
		r = read_manifest("docker-archive:evil.tar", &data, &len, &mt, &msg);
		ok(r == IMS_EGENERIC, "docker-archive refuses %s too", cases[i].what);
		free(msg);
	}
	/* a link inside the archive becomes a copy of its target */
	write_evil("link.tar", "x/link", AE_IFLNK, "../oci-layout");
	char *msg = NULL, *data = NULL, *mt = NULL;
	size_t len;
	is_int(read_manifest("oci-archive:link.tar", &data, &len, &mt, &msg), IMS_ENOTFOUND,
	       "an internal symlink is accepted (the layout just lacks index.json)");
	free(msg);

	char *evil = xasprintf("%s/../evil", root);
	ok(!ims_path_exists(evil), "nothing was written outside");
	free(evil);
	ok(!ims_path_exists("/tmp/evil-abs"), "nothing was written at the absolute name");

	char *path = xasprintf("%s/notatar.tar", root);
	ims_write_file_atomic(path, "hello, world, this is not a tar file at all", 43, 0644, NULL);
	is_int(read_manifest("oci-archive:notatar.tar", &data, &len, &mt, &msg), IMS_EGENERIC, "not a tar");
	free(msg);
	ims_transport *t = NULL;
	ims_error *e = NULL;
	ok(open_ref(&t, "oci-archive:notatar.tar", IMS_TRANSPORT_WRITE, &e) < 0,
	   "an existing non-archive is not overwritten");
	ims_error_clear(&e);
	free(path);
}

/* ---- docker-archive ---- */

static void test_docker_archive(void)
{
	image a, g;
	make_image(&a, "docker\n", true, false);
	make_image(&g, "gzipped\n", true, true);

	ims_transport *t = NULL;
	ims_error *e = NULL;
	ok(open_ref(&t, "docker-archive:d.tar:busybox:1", IMS_TRANSPORT_WRITE, &e) == 0, "open docker-archive");
	ok(ims_transport_flags(t) == (IMS_TRANSPORT_UNCOMPRESSED_LAYERS | IMS_TRANSPORT_NO_INDEX), "its flags");
	ok(write_image(t, &a, NULL, &e) == 0, "write an image tagged with the ref's name");
	ims_descriptor d = manifest_desc(&a);
	ok(ims_transport_tag(t, "docker.io/acme/app:2", &d, &e) == 0, "a second name");
	ok(ims_transport_tag(t, "ghcr.io/acme/app", &d, &e) == 0, "a third name, on another registry");
	ok(ims_transport_tag(t, "not a name", &d, &e) == IMS_EINVALID, "an invalid name is refused");
	ims_error_clear(&e);
	static const char index[] = "{\"schemaVersion\":2,\"mediaType\":\"" IMS_MT_OCI_INDEX "\",\"manifests\":[]}";
	char idig[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(index, strlen(index), idig);
	ok(ims_transport_put_manifest(t, index, strlen(index), IMS_MT_OCI_INDEX, idig, &e) == IMS_EUNSUPPORTED &&
		   strstr(e->message, "one platform"),
	   "an index is refused");
	ims_error_clear(&e);
	ok(ims_transport_commit(t, &e) == 0, "commit");
	if (e)
		printf("# %s\n", e->message);
	ims_error_clear(&e);
	ims_transport_close(t);

	/* what docker load reads */
	char *dir = xasprintf("%s/dx", root);
	char *cmd = xasprintf("mkdir -p '%s' && tar -xf '%s/d.tar' -C '%s'", dir, root, dir);
	ok(system(cmd) == 0, "tar(1) extracts the archive");
	free(cmd);
	char *p = xasprintf("%s/manifest.json", dir);
	char *s = slurp(p);
	char *want = xasprintf("[{\"Config\":\"%s.json\",\"RepoTags\":[\"busybox:1\",\"acme/app:2\","
			       "\"ghcr.io/acme/app:latest\"],\"Layers\":[\"%s.tar\"]}]",
			       ims_digest_hex(a.config_digest), ims_digest_hex(a.layer_digest));
	is_str(s, want, "manifest.json in docker's short form");
	free(want);
	free(s);
	free(p);
	p = xasprintf("%s/repositories", dir);
	s = slurp(p);
	want = xasprintf("{\"busybox\":{\"1\":\"%1$s\"},\"acme/app\":{\"2\":\"%1$s\"},\"ghcr.io/acme/app\":{\"latest\":\"%1$s\"}}",
			 ims_digest_hex(a.layer_digest));
	is_str(s, want, "repositories names the top layer");
	free(want);
	free(s);
	free(p);
	free(dir);

	if (have_skopeo) {
		ok(skopeo_ok("docker-archive:d.tar"), "skopeo inspect docker-archive:d.tar");
		ok(skopeo_ok("docker-archive:d.tar:busybox:1"), "skopeo inspect docker-archive:d.tar:busybox:1");
	}

	/* read back */
	char *data = NULL, *mt = NULL, *msg = NULL;
	size_t len = 0;
	ok(read_manifest("docker-archive:d.tar:docker.io/library/busybox:1", &data, &len, &mt, NULL) == 0,
	   "read by the long name");
	is_str(mt, IMS_MT_DOCKER_MANIFEST, "a schema2 manifest is synthesized");
	ims_manifest *m = NULL;
	ok(data && ims_manifest_parse(&m, data, len, NULL) == 0, "it parses");
	if (m) {
		is_str(m->config.digest, a.config_digest, "config digest");
		is_str(m->config.media_type, IMS_MT_DOCKER_CONFIG, "config media type");
		is_int(m->config.size, a.config_len, "config size");
		is_int(m->nlayers, 1, "one layer");
		is_str(m->layers[0].digest, a.layer_digest, "layer digest");
		is_str(m->layers[0].media_type, IMS_MT_DOCKER_LAYER, "plain tar layer type");
		ims_manifest_free(m);
		m = NULL;
	}
	free(mt);
	ok(manifest_is("docker-archive:d.tar", &a), "the synthesized manifest is the one written");
	ok(manifest_is("docker-archive:d.tar:acme/app:2", &a), "read by a short name");
	ok(manifest_is("docker-archive:d.tar:ghcr.io/acme/app:latest", &a), "read by another registry's name");
	free(data);
	is_int(read_manifest("docker-archive:d.tar:nope:1", &data, &len, &mt, &msg), IMS_ENOTFOUND, "missing name");
	ok(msg && strstr(msg, "nope:1") && strstr(msg, "docker-archive `d.tar`"), "the error names it: %s",
	   msg ? msg : "");
	free(msg);

	ok(open_ref(&t, "docker-archive:d.tar", IMS_TRANSPORT_READ, &e) == 0, "open for reading");
	ok(ims_transport_read_blob(t, a.config_digest, 1 << 20, &data, &len, &e) == 0 && len == a.config_len &&
		   !memcmp(data, a.config, len),
	   "config blob readable");
	free(data);
	ok(ims_transport_read_blob(t, a.layer_digest, 1 << 20, &data, &len, &e) == 0 && len == a.layer_len,
	   "layer blob readable");
	free(data);
	ok(ims_transport_get_manifest(t, a.config_digest, &data, &len, &mt, &e) == IMS_ENOTFOUND,
	   "only the synthesized manifest is a manifest");
	ims_error_clear(&e);
	ims_transport_close(t);

	/* two images, and a gzip layer */
	ok(open_ref(&t, "docker-archive:two.tar", IMS_TRANSPORT_WRITE, &e) == 0, "open another archive");
	ok(write_image(t, &a, "a:1", &e) == 0 && write_image(t, &g, "g:1", &e) == 0, "two images");
	ok(ims_transport_commit(t, &e) == 0, "commit");
	ims_transport_close(t);
	is_int(read_manifest("docker-archive:two.tar", &data, &len, &mt, &msg), IMS_EINVALID, "ambiguous");
	ok(msg && strstr(msg, "a:1") && strstr(msg, "g:1"), "the error lists the names: %s", msg ? msg : "");
	free(msg);
	ok(manifest_is("docker-archive:two.tar:a:1", &a), "first image by name");
	ok(read_manifest("docker-archive:two.tar:g:1", &data, &len, &mt, NULL) == 0 &&
		   ims_manifest_parse(&m, data, len, NULL) == 0,
	   "second image by name");
	if (m) {
		is_str(m->layers[0].media_type, IMS_MT_DOCKER_LAYER_GZIP, "gzip magic gives the gzip media type");
		ims_manifest_free(m);
	}
	free(data);
	free(mt);
	if (have_skopeo)
		ok(skopeo_ok("docker-archive:two.tar:g:1"), "skopeo inspect docker-archive:two.tar:g:1");

	free_image(&a);
	free_image(&g);
}

static bool skopeo_copy(const char *from, const char *to)
{
	char *cmd = xasprintf("cd '%s' && skopeo --insecure-policy copy -q '%s' '%s' >/dev/null 2>skopeo.err || "
			      "{ sed 's/^/# /' skopeo.err; false; }",
			      root, from, to);
	int r = system(cmd);
	free(cmd);
	return r == 0;
}

/* skopeo reads every blob we wrote (verifying digests), and we read what
 * skopeo writes. */
static void test_skopeo_interop(void)
{
	image a;
	make_image(&a, "interop\n", false, false);
	is_int(write_ref("oci:ia:t", &a, NULL), 0, "source layout");
	ok(skopeo_copy("oci:ia:t", "oci:ib:t"), "skopeo copies our oci layout");
	ok(skopeo_copy("docker-archive:d.tar:busybox:1", "oci:ic:t"), "skopeo copies our docker-archive");
	ok(skopeo_copy("oci-archive:img.tar:b", "oci:id:t"), "skopeo copies our oci-archive");

	ok(skopeo_copy("oci:ia:t", "docker-archive:sk.tar:foo/bar:1"), "skopeo writes a docker-archive");
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	ims_manifest *m = NULL;
	ok(read_manifest("docker-archive:sk.tar:docker.io/foo/bar:1", &data, &len, &mt, NULL) == 0 &&
		   ims_manifest_parse(&m, data, len, NULL) == 0,
	   "we read skopeo's docker-archive");
	if (m) {
		is_str(m->config.digest, a.config_digest, "same config");
		is_str(m->layers[0].digest, a.layer_digest, "same layer");
		ims_manifest_free(m);
	}
	free(data);
	free(mt);
	/* skopeo compresses the layer on the way, so compare configs */
	ok(skopeo_copy("oci:ia:t", "oci-archive:sk-oci.tar:t2"), "skopeo writes an oci-archive");
	ok(read_manifest("oci-archive:sk-oci.tar:t2", &data, &len, &mt, NULL) == 0 &&
		   ims_manifest_parse(&m, data, len, NULL) == 0,
	   "we read skopeo's oci-archive");
	if (m) {
		is_str(m->config.digest, a.config_digest, "same config");
		ims_manifest_free(m);
	}
	free(data);
	free(mt);
	free_image(&a);
}

/* ---- list_tags and the optional-op wrappers ---- */

/* The names list_tags gives for ref, joined with spaces (caller frees), or
 * NULL; *rc gets the code and *msg (if non-NULL) the message. */
static char *tags_of(const char *ref, int mode, int *rc, char **msg)
{
	ims_transport *t = NULL;
	ims_error *e = NULL;
	char **v = (char **)1;
	size_t n = 99;
	int r = open_ref(&t, ref, mode, &e);
	if (r == 0)
		r = ims_transport_list_tags(t, &v, &n, &e);
	*rc = r;
	if (msg)
		*msg = e ? xstrdup(e->message) : NULL;
	else if (e)
		printf("# %s: %s\n", ref, e->message);
	ims_error_free(e);
	ims_transport_close(t);
	if (r < 0)
		return NULL;
	char *s = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *j = xasprintf("%s%s%s", s, i ? " " : "", v[i]);
		free(s);
		s = j;
	}
	if (v[n] != NULL) {
		free(s);
		s = xstrdup("(not NULL-terminated)");
	}
	ims_strv_free(v);
	return s;
}

static void tags_are(const char *ref, int mode, const char *want, const char *what)
{
	int rc = 0;
	char *got = tags_of(ref, mode, &rc, NULL);
	is_str(got, want, "list_tags %s: %s", ref, what);
	free(got);
}

/* Rewrites dir's index.json with extra entries after those it has. */
static void add_index_entries(const char *dir, const image *im, const char *const *names, size_t n)
{
	char *p = xasprintf("%s/%s/index.json", root, dir);
	char *s = slurp(p);
	ims_index *ix = NULL;
	if (s && ims_index_parse(&ix, s, strlen(s), NULL) == 0) {
		ix->manifests = xrealloc(ix->manifests, (ix->nmanifests + n) * sizeof(*ix->manifests));
		for (size_t i = 0; i < n; i++) {
			ims_descriptor d = manifest_desc(im);
			ims_descriptor *e = &ix->manifests[ix->nmanifests++];
			ims_descriptor_copy(e, &d);
			if (names[i]) {
				e->annotations = ims_json_new_object();
				ims_json_set(e->annotations, IMS_OCI_REF_NAME, ims_json_new_string(names[i]));
			}
		}
		size_t len = 0;
		char *out = ims_index_encode(ix, &len);
		ims_write_file_atomic(p, out, len, 0644, NULL);
		free(out);
		ims_index_free(ix);
	}
	free(s);
	free(p);
}

static void test_list_tags_oci(void)
{
	/* what test_oci_layout left: v1, v2, an untagged entry, latest */
	tags_are("oci:lay", IMS_TRANSPORT_READ, "v1 v2 latest", "index order, untagged entries left out");
	tags_are("oci:lay:v2", IMS_TRANSPORT_READ, "v1 v2 latest", "the reference's own tag does not matter");

	image a, b;
	make_image(&a, "tags-a\n", false, false);
	make_image(&b, "tags-b\n", false, false);
	tags_are("oci:tl", IMS_TRANSPORT_WRITE, "", "a fresh layout has no names");
	is_int(write_ref("oci:tl:one", &a, NULL), 0, "write tl:one");
	is_int(write_ref("oci:tl:two", &b, NULL), 0, "write tl:two");
	static const char *const extra[] = { "one", NULL, "bad name", "three", "two" };
	add_index_entries("tl", &a, extra, sizeof(extra) / sizeof(extra[0]));
	tags_are("oci:tl", IMS_TRANSPORT_READ, "one two three", "no duplicates, no invalid names");

	/* staged names appear with the commit */
	ims_transport *t = NULL;
	ims_error *e = NULL;
	char **v = NULL;
	size_t n = 0;
	ok(open_ref(&t, "oci:tl:four", IMS_TRANSPORT_WRITE, &e) == 0, "open tl for writing");
	ok(write_image(t, &b, NULL, &e) == 0, "stage tl:four");
	ok(ims_transport_list_tags(t, &v, &n, &e) == 0 && n == 3, "before commit: the committed names");
	ims_strv_free(v);
	ok(ims_transport_commit(t, &e) == 0, "commit");
	ok(ims_transport_list_tags(t, &v, &n, &e) == 0 && n == 4 && !strcmp(v[3], "four"), "after: four is last");
	ims_strv_free(v);
	ims_transport_close(t);
	ims_error_clear(&e);

	int rc = 0;
	char *msg = NULL;
	ok(!tags_of("oci:nolayout", IMS_TRANSPORT_READ, &rc, &msg) && rc == IMS_ENOTFOUND,
	   "no layout: IMS_ENOTFOUND from open (%s)", msg ? msg : "");
	free(msg);
	free_image(&a);
	free_image(&b);
}

static void test_list_tags_archives(void)
{
	/* what test_oci_archive left: a, b (c was never committed) */
	tags_are("oci-archive:img.tar", IMS_TRANSPORT_READ, "a b", "the archive's ref.names");
	tags_are("oci-archive:img.tar.gz", IMS_TRANSPORT_READ, "a b", "gzip-compressed");
	tags_are("oci-archive:img.tar:zz", IMS_TRANSPORT_READ, "a b", "a name the archive lacks does not matter");
	tags_are("oci-archive:img.tar", IMS_TRANSPORT_WRITE, "a b", "opened for writing: what it holds");

	/* what test_docker_archive left */
	tags_are("docker-archive:d.tar", IMS_TRANSPORT_READ, "busybox:1 acme/app:2 ghcr.io/acme/app:latest",
		 "RepoTags as written");
	tags_are("docker-archive:two.tar", IMS_TRANSPORT_READ, "a:1 g:1", "two images need no name to list");
	tags_are("docker-archive:two.tar:nope:1", IMS_TRANSPORT_READ, "a:1 g:1", "nor a name that is there");
	int rc = 0;
	char *msg = NULL;
	ok(!tags_of("docker-archive:new.tar", IMS_TRANSPORT_WRITE, &rc, &msg) && rc == IMS_EINVALID && msg &&
		   strstr(msg, "writing only"),
	   "docker-archive opened for writing cannot list: %s", msg ? msg : "");
	free(msg);

	/* manifest.json with a name twice and a name that is not one */
	char *p = xasprintf("%s/dx/manifest.json", root);
	char *s = slurp(p);
	ims_json *j = NULL;
	ok(s && ims_json_parse(&j, s, strlen(s), NULL, NULL) == 0 && j->type == IMS_JSON_ARRAY && j->n == 1,
	   "read d.tar's manifest.json");
	if (j && j->n == 1) {
		ims_json *second = ims_json_clone(j->v[0]);
		ims_json *t1 = ims_json_new_array(), *t2 = ims_json_new_array();
		ims_json_append(t1, ims_json_new_string("x:1"));
		ims_json_append(t1, ims_json_new_string("Not A Name"));
		ims_json_append(t1, ims_json_new_string("busybox:1"));
		ims_json_append(t2, ims_json_new_string("x:1"));
		ims_json_append(t2, ims_json_new_string("y:2"));
		ims_json_set(j->v[0], "RepoTags", t1);
		ims_json_set(second, "RepoTags", t2);
		ims_json_append(j, second);
		size_t len = 0;
		char *out = ims_json_encode(j, &len);
		ims_write_file_atomic(p, out, len, 0644, NULL);
		free(out);
	}
	ims_json_free(j);
	free(s);
	free(p);
	/* dx is d.tar as tar(1) extracted it in test_docker_archive */
	char *cmd = xasprintf("cd '%s/dx' && tar -cf ../dup.tar *", root);
	ok(system(cmd) == 0, "tar(1) packs dup.tar");
	free(cmd);
	tags_are("docker-archive:dup.tar", IMS_TRANSPORT_READ, "x:1 busybox:1 y:2",
		 "each name once, in order, valid names only");
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	is_int(read_manifest("docker-archive:dup.tar", &data, &len, &mt, &msg), IMS_EINVALID,
	       "reading the manifest still needs a name");
	free(msg);
	ok(read_manifest("docker-archive:dup.tar:y:2", &data, &len, &mt, NULL) == 0, "and reads by one");
	free(data);
	free(mt);
}

/* A plugin's table: only what the wrappers need. */
static int fake_calls;
static bool fake_fail;

static int fake_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts, ims_error **err)
{
	*out = xcalloc(1, sizeof(ims_transport));
	return 0;
}

static void fake_close(ims_transport *t)
{
	free(t);
}

static int fake_list_tags(ims_transport *t, char ***tags, size_t *n, ims_error **err)
{
	fake_calls++;
	if (fake_fail) {
		*tags = xcalloc(2, sizeof(char *)); /* a half-made list is freed by the wrapper */
		(*tags)[0] = xstrdup("half");
		return ims_error_set(err, IMS_ENET, "the fake failed");
	}
	return 0; /* leaves *tags NULL: the wrapper gives an empty list */
}

/* What fake_tag_names answers, and what fake_ask_ahead was given. */
static const char *fake_tag_answer = "";
static char fake_asked[4][IMS_DIGEST_BUFSZ];
static size_t fake_nasked;

static int fake_tag_names(ims_transport *t, const char *name, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	fake_calls++;
	snprintf(digest, IMS_DIGEST_BUFSZ, "%s", fake_tag_answer);
	return 0;
}

/* Takes one list, as the registry's does, and declines any other. */
static bool fake_ask_ahead(ims_transport *t, const char *const *digests, size_t n)
{
	fake_calls++;
	if (fake_nasked)
		return false;
	for (size_t i = 0; i < n && fake_nasked < 4; i++)
		snprintf(fake_asked[fake_nasked++], IMS_DIGEST_BUFSZ, "%s", digests[i]);
	return true;
}

static int fake_read_blob(ims_transport *t, const char *digest, size_t max, char **data, size_t *len,
			  ims_error **err)
{
	fake_calls++;
	*data = xstrdup("from the op");
	*len = strlen(*data);
	return 0;
}

static int fake_mount(ims_transport *t, ims_transport *src, const ims_descriptor *d, bool *mounted, ims_error **err)
{
	fake_calls++;
	*mounted = true;
	return 0;
}

static void test_wrappers(void)
{
	ims_transport *t = NULL;
	ims_error *e = NULL;
	char **v = (char **)1;
	size_t n = 7;
	ok(open_ref(&t, "scratch", IMS_TRANSPORT_READ, &e) == 0, "open scratch");
	is_int(ims_transport_list_tags(t, &v, &n, &e), IMS_EUNSUPPORTED, "list_tags without the op");
	is_str(e ? e->message : NULL, "scratch cannot list tags", "its message");
	ok(v == NULL && n == 0, "and no list");
	ims_error_clear(&e);
	ims_transport_close(t);

	ims_descriptor d = { 0 };
	ims_sha256_buf("m", 1, d.digest);
	bool mounted = true;
	ok(open_ref(&t, "oci:mnt", IMS_TRANSPORT_WRITE, &e) == 0, "open a layout (no mount op)");
	ok(ims_transport_mount_blob(t, t, &d, &mounted, &e) == 0 && !mounted && !e,
	   "mount_blob without the op: not mounted, no error");
	bool there = true;
	ok(ims_transport_manifest_there(t, "x", d.digest, &there, &e) == 0 && !there && !e,
	   "manifest_there without tag_names: not there, no error");
	char at[IMS_DIGEST_BUFSZ] = "x";
	ok(ims_transport_tag_names(t, "x", at, &e) == 0 && !*at && !e, "tag_names without the op: names nothing");
	const char *one[] = { d.digest };
	ok(!ims_transport_ask_ahead(t, one, 1), "ask_ahead without the op: nothing is asked");
	ims_transport_close(t);

	ims_ref ref = { .kind = IMS_REF_OCI, .path = (char *)"fake" };
	ims_transport_ops ops = {
		.version = 1,
		.kind = IMS_REF_OCI,
		.name = "fake",
		.open = fake_open,
		.close = fake_close,
		.list_tags = fake_list_tags,
		.mount_blob = fake_mount,
		.tag_names = fake_tag_names,
		.ask_ahead = fake_ask_ahead,
		.read_blob = fake_read_blob,
	};
	ok(ims_transport_open_with(&t, &ops, &ref, IMS_TRANSPORT_READ, NULL, &e) == IMS_EUNSUPPORTED &&
		   strstr(e->message, "unknown interface version"),
	   "a version 1 table is refused");
	ims_error_clear(&e);
	ops.version = 2;
	ok(ims_transport_open_with(&t, &ops, &ref, IMS_TRANSPORT_READ, NULL, &e) == IMS_EUNSUPPORTED,
	   "a version 2 table is refused");
	ims_error_clear(&e);
	ops.version = 3;
	ok(ims_transport_open_with(&t, &ops, &ref, IMS_TRANSPORT_READ, NULL, &e) == IMS_EUNSUPPORTED,
	   "a version 3 table (manifest_there where tag_names is) is refused");
	ims_error_clear(&e);
	ops.version = IMS_TRANSPORT_OPS_VERSION;
	is_int(IMS_TRANSPORT_OPS_VERSION, 4, "the interface is version 4");
	ok(ims_transport_open_with(&t, &ops, &ref, IMS_TRANSPORT_READ, NULL, &e) == 0, "a version 4 table opens");
	fake_calls = 0;
	is_int(ims_transport_tag_names(t, "bad tag", at, &e), IMS_EINVALID, "tag_names: an invalid tag is refused");
	ok(fake_calls == 0, "before the op sees it");
	ims_error_clear(&e);
	fake_tag_answer = "sha256:../x";
	is_int(ims_transport_tag_names(t, "1", at, &e), IMS_EDIGEST, "an invalid digest from the op is refused");
	ok(!*at, "and not given");
	ims_error_clear(&e);
	fake_tag_answer = d.digest;
	ok(ims_transport_tag_names(t, "1", at, &e) == 0 && !strcmp(at, d.digest), "the op's digest is given");
	ok(ims_transport_manifest_there(t, "1", d.digest, &there, &e) == 0 && there, "manifest_there: there");
	ims_descriptor other = { 0 };
	ims_sha256_buf("o", 1, other.digest);
	ok(ims_transport_manifest_there(t, "1", other.digest, &there, &e) == 0 && !there,
	   "manifest_there: another manifest is not");
	fake_tag_answer = "";
	ok(ims_transport_manifest_there(t, "1", d.digest, &there, &e) == 0 && !there, "manifest_there: a name unset");
	const char *list[] = { d.digest, "sha256:../x", NULL, other.digest };
	fake_calls = 0;
	bool asked = ims_transport_ask_ahead(t, list, 4);
	ok(asked && fake_calls == 1 && fake_nasked == 2 && !strcmp(fake_asked[0], d.digest) &&
		   !strcmp(fake_asked[1], other.digest),
	   "ask_ahead: the op gets the valid digests, in order");
	const char *bad_only[] = { "sha256:../x" };
	ok(!ims_transport_ask_ahead(t, bad_only, 1) && fake_calls == 1,
	   "ask_ahead with no valid digest: the op is not called, and nothing is asked");
	ok(!ims_transport_ask_ahead(t, list, 4) && fake_calls == 2 && fake_nasked == 2,
	   "ask_ahead: a list the op declines is not being asked");
	char *blob = NULL;
	size_t blen = 0;
	fake_calls = 0;
	is_int(ims_transport_read_blob(t, "sha256:../x", 100, &blob, &blen, &e), IMS_EINVALID,
	       "read_blob: a bad digest is refused");
	ok(fake_calls == 0 && !blob, "before the op sees it");
	ims_error_clear(&e);
	ok(ims_transport_read_blob(t, d.digest, 100, &blob, &blen, &e) == 0 && fake_calls == 1 && blob &&
		   !strcmp(blob, "from the op") && blen == 11,
	   "read_blob: the op reads the blob");
	free(blob);
	ok(ims_transport_list_tags(t, &v, &n, &e) == 0 && v && !v[0] && n == 0, "no names: an empty list");
	ims_strv_free(v);
	fake_fail = true;
	v = (char **)1;
	is_int(ims_transport_list_tags(t, &v, &n, &e), IMS_ENET, "the op's error comes back");
	ok(v == NULL && n == 0, "with no list");
	ims_error_clear(&e);
	fake_calls = 0;
	mounted = true;
	is_int(ims_transport_mount_blob(t, t, &d, &mounted, &e), IMS_EINVALID, "mount into a reader is refused");
	ok(!mounted && fake_calls == 0, "without calling the op");
	ims_error_clear(&e);
	ims_transport_close(t);
	ok(ims_transport_open_with(&t, &ops, &ref, IMS_TRANSPORT_WRITE, NULL, &e) == 0, "open for writing");
	ims_descriptor bad = { 0 };
	strcpy(bad.digest, "sha256:../x");
	is_int(ims_transport_mount_blob(t, t, &bad, &mounted, &e), IMS_EINVALID, "a bad digest is refused");
	ok(fake_calls == 0, "before the op sees it");
	ims_error_clear(&e);
	ok(ims_transport_mount_blob(t, t, &d, &mounted, &e) == 0 && mounted && fake_calls == 1, "the op mounts");
	ims_transport_close(t);
}

static void test_docker_manifest_parser(void)
{
	ims_docker_archive_manifest *m = NULL;
	const char *good = "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"l/layer.tar\"],\"Parent\":\"x\"}]";
	ok(ims_docker_archive_manifest_parse(&m, good, strlen(good), NULL) == 0 && m->nimages == 1 &&
		   m->images[0].ntags == 0 && m->images[0].nlayers == 1,
	   "a manifest.json with null RepoTags");
	ims_docker_archive_manifest_free(m);
	static const char *bad[] = {
		"{}",
		"[{\"Config\":\"/etc/passwd\",\"Layers\":[]}]",
		"[{\"Config\":\"c.json\",\"Layers\":[\"../x.tar\"]}]",
		"[{\"Config\":\"c.json\",\"Layers\":[\"a/../../x.tar\"]}]",
		"[{\"Config\":\"c.json\"}]",
		"[{\"Config\":1,\"Layers\":[]}]",
		"[{\"Config\":\"c.json\",\"Layers\":[],\"RepoTags\":[1]}]",
		"[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = NULL;
		ims_error *e = NULL;
		ok(ims_docker_archive_manifest_parse(&m, bad[i], strlen(bad[i]), &e) == IMS_EGENERIC && !m,
		   "refused: %s (%s)", bad[i], e ? e->message : "");
		ims_error_free(e);
	}
	static const char *names[][3] = {
		{ "busybox:1", "busybox:1", "docker.io/library/busybox:1" },
		{ "docker.io/library/x:1", "x:1", "docker.io/library/x:1" },
		{ "docker.io/acme/app:1", "acme/app:1", "docker.io/acme/app:1" },
		{ "index.docker.io/acme/app", "acme/app:latest", "docker.io/acme/app:latest" },
		{ "localhost:5000/a/b:c", "localhost:5000/a/b:c", "localhost:5000/a/b:c" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *s = ims_docker_archive_short_name(names[i][0]);
		char *l = ims_docker_archive_long_name(names[i][0]);
		is_str(s, names[i][1], "short form of %s", names[i][0]);
		is_str(l, names[i][2], "long form of %s", names[i][0]);
		free(s);
		free(l);
	}
	ok(!ims_docker_archive_short_name("x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
	   "digest references are not archive names");
	ok(!ims_docker_archive_short_name("oci:x:y"), "nor are oci references");
}

int main(void)
{
	if (ims_mkdtemp(NULL, "test-transport", &root, NULL) < 0)
		return 1;
	have_skopeo = access("/usr/bin/skopeo", X_OK) == 0;
	if (!have_skopeo)
		printf("# skopeo not installed: skipping the cross-checks\n");
	test_oci_layout();
	test_list_tags_oci();
	test_blob_checks();
	test_copy_blob();
	test_oci_archive();
	test_hostile_archives();
	test_docker_archive();
	test_list_tags_archives();
	test_wrappers();
	if (have_skopeo)
		test_skopeo_interop();
	test_docker_manifest_parser();
	if (!tap_failed)
		ims_rm_rf(root, NULL);
	else
		printf("# left %s for inspection\n", root);
	free(root);
	return tap_done();
}
