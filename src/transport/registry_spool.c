#include "transport/registry_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/digest.h"
#include "digest/sha256_stream.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

int ims_spool_tmpfile(const char *dir, ims_error **err)
{
	const char *d = dir;
	if (!d || !*d)
		d = getenv("TMPDIR");
	if (!d || !*d)
		d = "/tmp";
	int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* Filesystems without O_TMPFILE: a named file, unlinked at once. */
	char *path = xasprintf("%s/.imagespec-spool-XXXXXX", d);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(path);
		return ims_error_sys(err, e, IMS_EGENERIC, "create a temporary file in `%s`", d);
	}
	unlink(path);
	free(path);
	return fd;
}

/* ---- writer ---- */

typedef struct {
	ims_blob_writer pub;
	int fd;
	ims_sink file;        /* the spool file */
	ims_sha256_sink hash; /* pub.sink: hashes and counts on the way to file */
	char *what;
	ims_spool_done_fn done;
	void *ud;
	ims_spool_hooks hooks;
	int64_t written;
} spool_writer;

static int file_write(void *ud, const void *p, size_t n, ims_error **err)
{
	spool_writer *w = ud;
	if (ims_write_all(w->fd, p, n) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "spool a blob for %s", w->what);
	w->written += (int64_t)n;
	if (w->hooks.grew)
		w->hooks.grew(w->ud, w->fd, w->written);
	return 0;
}

void ims_spool_writer_hooks(ims_blob_writer *pub, const ims_spool_hooks *hooks)
{
	((spool_writer *)pub)->hooks = *hooks;
}

static void writer_free(spool_writer *w)
{
	if (w->fd >= 0 && w->hooks.dropped)
		w->hooks.dropped(w->ud);
	if (w->fd >= 0)
		close(w->fd);
	ims_sha256_sink_dispose(&w->hash);
	free(w->what);
	free(w);
}

static void writer_abort(ims_blob_writer *pub)
{
	writer_free((spool_writer *)pub);
}

static void writer_count_only(ims_blob_writer *pub)
{
	ims_sha256_sink_count_only(&((spool_writer *)pub)->hash);
}

static int writer_private_fd(ims_blob_writer *pub)
{
	return ((spool_writer *)pub)->fd;
}

/* got is empty when the caller vouched for the digest (count_only). */
static int writer_commit(ims_blob_writer *pub, const char *digest, int64_t size, ims_error **err)
{
	spool_writer *w = (spool_writer *)pub;
	char got[IMS_DIGEST_BUFSZ];
	int rc = ims_digest_check(digest, "blob", err);
	if (!ims_sha256_sink_final_is(&w->hash, digest, size, got) && rc == 0)
		rc = ims_error_set(err, IMS_EDIGEST, "blob %s (%lld bytes) for %s: wrote %lld bytes with digest %s",
				   digest, (long long)size, w->what, (long long)w->hash.count, got);
	if (rc == 0) {
		int fd = w->fd;
		w->fd = -1;
		rc = w->done(w->ud, fd, digest, size, err);
	}
	writer_free(w);
	return rc;
}

int ims_spool_writer_new(ims_blob_writer **out, const char *dir, const char *what, ims_spool_done_fn done, void *ud,
			 ims_error **err)
{
	int fd = ims_spool_tmpfile(dir, err);
	if (fd < 0)
		return fd;
	spool_writer *w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->file = (ims_sink){ file_write, w };
	ims_sha256_sink_init(&w->hash, &w->file);
	w->what = xstrdup(what);
	w->done = done;
	w->ud = ud;
	w->pub.sink = w->hash.sink;
	w->pub.commit = writer_commit;
	w->pub.abort = writer_abort;
	w->pub.count_only = writer_count_only;
	w->pub.private_fd = writer_private_fd;
	*out = &w->pub;
	return 0;
}

/* ---- reader ---- */

typedef struct {
	ims_registry *reg;
	char *repo;
	char digest[IMS_DIGEST_BUFSZ];
	int64_t size;
	char *dir;
	int fd; /* -1 until fetched */
} spool_reader;

static int fd_sink_write(void *ud, const void *p, size_t n, ims_error **err)
{
	int fd = *(int *)ud;
	if (ims_write_all(fd, p, n) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "write a temporary file");
	return 0;
}

static int fetch(spool_reader *s, ims_error **err)
{
	int fd = ims_spool_tmpfile(s->dir, err);
	if (fd < 0)
		return fd;
	ims_sink sink = { fd_sink_write, &fd };
	int rc = ims_registry_blob_get(s->reg, s->repo, s->digest, s->size, &sink, err);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = ims_error_sys(err, errno, IMS_EGENERIC, "rewind a temporary file");
	if (rc < 0) {
		close(fd);
		return rc;
	}
	s->fd = fd;
	return 0;
}

static ssize_t reader_read(void *ud, void *p, size_t n, ims_error **err)
{
	spool_reader *s = ud;
	int rc;
	if (s->fd < 0 && (rc = fetch(s, err)) < 0)
		return rc;
	for (;;) {
		ssize_t got = read(s->fd, p, n);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return ims_error_sys(err, errno, IMS_EGENERIC, "read blob %s", s->digest);
	}
}

static void reader_close(void *ud)
{
	spool_reader *s = ud;
	if (s->fd >= 0)
		close(s->fd);
	free(s->repo);
	free(s->dir);
	free(s);
}

void ims_spool_reader(ims_reader *out, ims_registry *reg, const char *repo, const char *digest, int64_t size,
		      const char *dir)
{
	spool_reader *s = xcalloc(1, sizeof(*s));
	s->reg = reg;
	s->repo = xstrdup(repo);
	snprintf(s->digest, sizeof(s->digest), "%s", digest);
	s->size = size;
	s->dir = dir ? xstrdup(dir) : NULL;
	s->fd = -1;
	*out = (ims_reader){ reader_read, reader_close, s };
}
