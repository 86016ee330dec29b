/* The blob store: compressed layers under blobs/sha256/HEX. A blob is
 * written to an anonymous file while it is hashed and only linked into
 * place once its digest and size match, so a killed build leaves nothing.
 * A blob's mtime is its last use: the LRU order of ims_cache_prune. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache_int.h"
#include "digest/sha256_stream.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static char *blob_path(const ims_cache *c, const char *digest)
{
	return ims_cache__path(c, "blobs/sha256", ims_digest_hex(digest));
}

bool ims_cache_blob_has(ims_cache *c, const char *digest, int64_t *size)
{
	if (!ims_digest_valid(digest))
		return false;
	_cleanup_free_ char *path = blob_path(c, digest);
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (size)
		*size = st.st_size;
	return true;
}

void ims_cache_blob_remove(ims_cache *c, const char *digest)
{
	if (!ims_digest_valid(digest))
		return;
	_cleanup_free_ char *path = blob_path(c, digest);
	unlink(path);
}

bool ims_cache_blob_read(ims_cache *c, const char *digest, size_t max, char **data, size_t *len)
{
	if (!ims_digest_valid(digest))
		return false;
	_cleanup_free_ char *path = blob_path(c, digest);
	ims_error *e = NULL;
	if (ims_read_file(path, max, data, len, &e) < 0) {
		ims_error_free(e);
		return false;
	}
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(*data, *len, got);
	if (strcmp(got, digest) != 0) {
		unlink(path);
		free(*data);
		*data = NULL;
		return false;
	}
	utimensat(AT_FDCWD, path, NULL, 0); /* used now: last to go */
	return true;
}

int ims_cache_blob_put(ims_cache *c, const char *digest, const void *data, size_t len, ims_error **err)
{
	ims_cache_writer *w = NULL;
	int r = ims_cache_writer_new(c, &w, err);
	if (r < 0)
		return r;
	if ((r = ims_sink_write(ims_cache_writer_sink(w), data, len, err)) < 0) {
		ims_cache_writer_abort(w);
		return r;
	}
	return ims_cache_writer_commit(w, digest, (int64_t)len, err);
}

int ims_cache_blob_open(ims_cache *c, const char *digest, ims_reader *out, ims_error **err)
{
	int r = ims_digest_check(digest, "cached blob", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = blob_path(c, digest);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ims_error_sys(err, errno, errno == ENOENT ? IMS_ENOTFOUND : IMS_EGENERIC,
				     "open cached blob `%s`", path);
	futimens(fd, NULL); /* used now: last to go */
	*out = ims_reader_fd(fd);
	return 0;
}

struct ims_cache_writer {
	ims_cache *c;
	int fd;
	char *tmp; /* a named temp file where O_TMPFILE is not supported */
	ims_sink file;
	ims_sha256_sink hash;
};

static int fd_write(void *ud, const void *p, size_t n, ims_error **err)
{
	ims_cache_writer *w = ud;
	if (ims_write_all(w->fd, p, n) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "write to the cache in `%s`", w->c->dir);
	return 0;
}

int ims_cache_writer_new(ims_cache *c, ims_cache_writer **out, ims_error **err)
{
	_cleanup_free_ char *dir = ims_cache__path(c, "blobs/sha256", NULL);
	ims_cache_writer *w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		w->tmp = xasprintf("%s/.tmp-XXXXXX", dir);
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
	}
	if (w->fd < 0) {
		int e = errno;
		free(w->tmp);
		free(w);
		return ims_error_sys(err, e, IMS_EGENERIC, "create a blob in the cache `%s`", dir);
	}
	w->file = (ims_sink){ fd_write, w };
	ims_sha256_sink_init(&w->hash, &w->file);
	*out = w;
	return 0;
}

void ims_cache_writer_count_only(ims_cache_writer *w)
{
	ims_sha256_sink_count_only(&w->hash);
}

ims_sink *ims_cache_writer_sink(ims_cache_writer *w)
{
	return &w->hash.sink;
}

static void writer_free(ims_cache_writer *w)
{
	ims_sha256_sink_dispose(&w->hash);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w);
}

void ims_cache_writer_abort(ims_cache_writer *w)
{
	if (w)
		writer_free(w);
}

/* Links the finished file in as path; an existing blob of that digest
 * is the same bytes, so losing the race is fine. */
static int link_in(ims_cache_writer *w, const char *path, ims_error **err)
{
	int r;
	if (w->tmp) {
		r = rename(w->tmp, path);
		if (r == 0) {
			free(w->tmp);
			w->tmp = NULL;
		}
	} else {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
		r = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
		if (r < 0 && errno == EEXIST)
			r = 0;
	}
	return r < 0 ? ims_error_sys(err, errno, IMS_EGENERIC, "store `%s`", path) : 0;
}

/* fd's first size bytes through w's sink, read with pread (fd's offset is
 * its owner's). */
static int copy_in(ims_cache_writer *w, int fd, int64_t size, ims_error **err)
{
	_cleanup_free_ unsigned char *buf = xmalloc(128 * 1024);
	for (int64_t off = 0; off < size;) {
		size_t want = size - off < 128 * 1024 ? (size_t)(size - off) : 128 * 1024;
		ssize_t got = pread(fd, buf, want, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return ims_error_sys(err, got < 0 ? errno : EIO, IMS_EGENERIC, "read a blob to cache");
		int r = ims_sink_write(ims_cache_writer_sink(w), buf, (size_t)got, err);
		if (r < 0)
			return r;
		off += got;
	}
	return 0;
}

int ims_cache_blob_adopt(ims_cache *c, int fd, const char *digest, int64_t size, ims_error **err)
{
	int r = ims_digest_check(digest, "cached blob", err);
	if (r < 0)
		return r;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != size)
		return ims_error_set(err, IMS_EDIGEST, "the blob %s to cache is not a file of %lld bytes", digest,
				     (long long)size);
	_cleanup_free_ char *path = blob_path(c, digest);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchmod(fd, 0600) == 0 && linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return 0; /* the same bytes, stored by another build */
	/* Another filesystem (EXDEV), or a file with a name that is gone
	 * (ENOENT): the bytes are copied. */
	ims_cache_writer *w;
	if ((r = ims_cache_writer_new(c, &w, err)) < 0)
		return r;
	ims_cache_writer_count_only(w);
	if ((r = copy_in(w, fd, size, err)) < 0) {
		ims_cache_writer_abort(w);
		return r;
	}
	return ims_cache_writer_commit(w, digest, size, err);
}

int ims_cache_writer_commit(ims_cache_writer *w, const char *digest, int64_t size, ims_error **err)
{
	char got[IMS_DIGEST_BUFSZ];
	int64_t n = w->hash.count;
	int r = ims_digest_check(digest, "cached blob", err);
	if (!ims_sha256_sink_final_is(&w->hash, digest, size, got) && r >= 0)
		r = ims_error_set(err, IMS_EDIGEST, "the blob written to the cache is %s (%lld bytes), not %s (%lld)",
				  got, (long long)n, digest, (long long)size);
	if (r >= 0 && fchmod(w->fd, 0600) < 0)
		r = ims_error_sys(err, errno, IMS_EGENERIC, "store a blob in the cache");
	if (r >= 0) {
		_cleanup_free_ char *path = blob_path(w->c, digest);
		r = link_in(w, path, err);
	}
	writer_free(w);
	return r;
}
