#include "transport/blobdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/digest.h"
#include "digest/sha256_stream.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

void ims_blobdir_init(ims_blobdir *b, const char *root, const char *shown)
{
	b->root = xstrdup(root);
	b->shown = xstrdup(shown);
}

void ims_blobdir_dispose(ims_blobdir *b)
{
	free(b->root);
	free(b->shown);
	b->root = b->shown = NULL;
}

static char *sha_dir(const ims_blobdir *b)
{
	return ims_path_join(b->root, "blobs/sha256");
}

int ims_blobdir_create(ims_blobdir *b, ims_error **err)
{
	_cleanup_free_ char *d = sha_dir(b);
	return ims_mkdir_p(d, 0755, err);
}

char *ims_blobdir_path(const ims_blobdir *b, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", b->root, ims_digest_hex(digest));
}

int ims_blobdir_has(ims_blobdir *b, const char *digest, bool *exists, ims_error **err)
{
	int r = ims_digest_check(digest, "blob", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *p = ims_blobdir_path(b, digest);
	struct stat st;
	/* A symlink or directory under that name is not a blob we wrote. */
	if (lstat(p, &st) == 0) {
		*exists = S_ISREG(st.st_mode);
		return 0;
	}
	if (errno == ENOENT || errno == ENOTDIR) {
		*exists = false;
		return 0;
	}
	return ims_error_sys(err, errno, IMS_EGENERIC, "stat blob %s in %s", digest, b->shown);
}

/* Opens a blob file without following links; returns the fd or a code. */
static int open_regular(ims_blobdir *b, const char *digest, ims_error **err)
{
	int r = ims_digest_check(digest, "blob", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *p = ims_blobdir_path(b, digest);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ims_error_set(err, IMS_ENOTFOUND, "blob %s not found in %s", digest, b->shown);
		return ims_error_sys(err, errno, IMS_EGENERIC, "open blob %s in %s", digest, b->shown);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "stat blob %s in %s", digest, b->shown);
	if (!S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_EGENERIC, "blob %s in %s is not a regular file", digest, b->shown);
	return steal_fd(&fd);
}

int ims_blobdir_open(ims_blobdir *b, const char *digest, ims_reader *out, ims_error **err)
{
	int fd = open_regular(b, digest, err);
	if (fd < 0)
		return fd;
	*out = ims_reader_fd(fd);
	return 0;
}

int ims_blobdir_read(ims_blobdir *b, const char *digest, size_t max, char **data, size_t *len, ims_error **err)
{
	_cleanup_close_ int fd = open_regular(b, digest, err);
	if (fd < 0)
		return fd;
	ims_buf buf = IMS_BUF_INIT(max);
	char chunk[1 << 16];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ims_buf_dispose(&buf);
			return ims_error_sys(err, errno, IMS_EGENERIC, "read blob %s in %s", digest, b->shown);
		}
		if (n == 0)
			break;
		if (ims_buf_add(&buf, chunk, (size_t)n, NULL) < 0) {
			ims_buf_dispose(&buf);
			return ims_error_set(err, IMS_EGENERIC, "blob %s in %s is larger than the limit of %zu bytes",
					     digest, b->shown, max);
		}
	}
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(buf.data ? buf.data : "", buf.len, got);
	if (strcmp(got, digest) != 0) {
		ims_buf_dispose(&buf);
		return ims_error_set(err, IMS_EDIGEST, "blob %s in %s has digest %s", digest, b->shown, got);
	}
	*data = ims_buf_steal(&buf, len);
	return 0;
}

/* ---- writer ---- */

typedef struct {
	ims_blob_writer pub;
	ims_blobdir *b;
	ims_tmpfile tf;
	ims_sink file;        /* the temp file */
	ims_sha256_sink hash; /* pub.sink: hashes and counts on the way to file */
} blob_writer;

static int file_write(void *ud, const void *p, size_t n, ims_error **err)
{
	blob_writer *w = ud;
	if (ims_write_all(w->tf.fd, p, n) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "write a blob in %s", w->b->shown);
	return 0;
}

static void writer_free(blob_writer *w)
{
	ims_tmpfile_dispose(&w->tf);
	ims_sha256_sink_dispose(&w->hash);
	free(w);
}

static void writer_abort(ims_blob_writer *pub)
{
	writer_free((blob_writer *)pub);
}

/* Checks what was hashed (only counted, after count_only) against the
 * claim, then makes the blob visible. */
static int finish(blob_writer *w, const char *digest, int64_t size, ims_error **err)
{
	int r = ims_digest_check(digest, "blob", err);
	if (r < 0)
		return r;
	char got[IMS_DIGEST_BUFSZ];
	if (!ims_sha256_sink_final_is(&w->hash, digest, size, got))
		return ims_error_set(err, IMS_EDIGEST, "blob %s (%lld bytes): wrote %lld bytes with digest %s", digest,
				     (long long)size, (long long)w->hash.count, got);
	/* fsync before the rename, so index.json (written later) never names a
	 * blob that a crash could leave empty; 0644 because the temp file is
	 * 0600 and layouts are shared read-only. */
	if (fchmod(w->tf.fd, 0644) < 0 || fsync(w->tf.fd) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "write blob %s in %s", digest, w->b->shown);
	if ((r = ims_check_interrupt(err)) < 0)
		return r;
	_cleanup_free_ char *dst = ims_blobdir_path(w->b, digest);
	if ((r = ims_tmpfile_commit(&w->tf, dst, err)) < 0)
		return ims_error_wrap(err, "store blob %s in %s", digest, w->b->shown);
	return 0;
}

static void writer_count_only(ims_blob_writer *pub)
{
	ims_sha256_sink_count_only(&((blob_writer *)pub)->hash);
}

static int writer_commit(ims_blob_writer *pub, const char *digest, int64_t size, ims_error **err)
{
	blob_writer *w = (blob_writer *)pub;
	int r = finish(w, digest, size, err);
	writer_free(w);
	return r;
}

int ims_blobdir_new_writer(ims_blobdir *b, ims_blob_writer **out, ims_error **err)
{
	/* The temp file lives in blobs/sha256 so that commit is a rename on the
	 * same filesystem: an O_TMPFILE where the filesystem has them, else
	 * .tmp-XXXXXX, whose dot name is never a valid digest (readers of the
	 * layout ignore it) and which the next writer sweeps if a crash leaves
	 * it behind (ims_blobdir_sweep). */
	_cleanup_free_ char *dir = sha_dir(b);
	ims_tmpfile tf;
	int r = ims_tmpfile_open(&tf, dir, ".tmp-", err);
	if (r < 0)
		return ims_error_wrap(err, "create a blob in %s", b->shown);
	blob_writer *w = xcalloc(1, sizeof(*w));
	w->b = b;
	w->tf = tf;
	w->file = (ims_sink){ file_write, w };
	ims_sha256_sink_init(&w->hash, &w->file);
	w->pub.sink = w->hash.sink;
	w->pub.commit = writer_commit;
	w->pub.abort = writer_abort;
	w->pub.count_only = writer_count_only;
	*out = &w->pub;
	return 0;
}

void ims_blobdir_sweep(ims_blobdir *b)
{
	_cleanup_free_ char *dir = sha_dir(b);
	ims_sweep_tmp(dir, ".tmp-");
}

int ims_blobdir_put(ims_blobdir *b, const void *data, size_t len, const char *digest, ims_error **err)
{
	int r = ims_digest_check(digest, "blob", err);
	if (r < 0)
		return r;
	bool exists = false;
	if ((r = ims_blobdir_has(b, digest, &exists, err)) < 0)
		return r;
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len, got);
	if (strcmp(got, digest) != 0)
		return ims_error_set(err, IMS_EDIGEST, "document %s has digest %s", digest, got);
	if (exists)
		return 0;
	ims_blob_writer *w;
	if ((r = ims_blobdir_new_writer(b, &w, err)) < 0)
		return r;
	if ((r = ims_sink_write(&w->sink, data, len, err)) < 0) {
		w->abort(w);
		return r;
	}
	return w->commit(w, digest, (int64_t)len, err);
}
