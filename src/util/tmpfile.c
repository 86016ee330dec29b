#include "util/tmpfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* Whether fd is still the file (or directory) at path. */
static bool still_at(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* A named temp file, locked; a sweeper that removed it between mkostemp
 * and flock is noticed (the name no longer leads to this file) and the
 * file is made again. */
static int open_named(ims_tmpfile *t, ims_error **err)
{
	for (int i = 0; i < 16; i++) {
		char *p = xasprintf("%s/%sXXXXXX", t->dir, t->prefix);
		int fd = mkostemp(p, O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			free(p);
			return ims_error_sys(err, e, IMS_EGENERIC, "create a temporary file in `%s`", t->dir);
		}
		if (flock(fd, LOCK_EX) == 0 && still_at(fd, p)) {
			t->fd = fd;
			t->path = p;
			return 0;
		}
		close(fd);
		free(p);
	}
	return ims_error_set(err, IMS_EGENERIC, "create a temporary file in `%s`: it keeps being removed", t->dir);
}

int ims_tmpfile_open(ims_tmpfile *t, const char *dir, const char *prefix, ims_error **err)
{
	*t = (ims_tmpfile){ .fd = -1, .dir = xstrdup(dir), .prefix = xstrdup(prefix) };
	/* O_TMPFILE needs /proc to be given a name later (linkat through
	 * /proc/self/fd works without privileges). */
	if (access("/proc/self/fd", X_OK) == 0) {
		int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0) {
			/* locked too: the name it gets at commit lives for a
			 * moment, and a sweeper must leave it alone */
			if (flock(fd, LOCK_EX) == 0) {
				t->fd = fd;
				return 0;
			}
			close(fd);
		}
	}
	int r = open_named(t, err);
	if (r < 0)
		ims_tmpfile_dispose(t);
	return r;
}

/* Where linkat through /proc is refused (some sandboxes): the bytes go to
 * a named temp file instead. */
static int copy_to_named(ims_tmpfile *t, ims_error **err)
{
	ims_tmpfile named = { .fd = -1, .dir = xstrdup(t->dir), .prefix = xstrdup(t->prefix) };
	int r = open_named(&named, err);
	struct stat st;
	if (r == 0 && (lseek(t->fd, 0, SEEK_SET) < 0 || fstat(t->fd, &st) < 0))
		r = ims_error_sys(err, errno, IMS_EGENERIC, "name a temporary file in `%s`", t->dir);
	if (r == 0)
		r = ims_copy_fd(t->fd, named.fd, err);
	if (r == 0 && (fchmod(named.fd, st.st_mode & 07777) < 0 || fsync(named.fd) < 0))
		r = ims_error_sys(err, errno, IMS_EGENERIC, "write `%s`", named.path);
	if (r < 0) {
		ims_tmpfile_dispose(&named);
		return r;
	}
	close(t->fd);
	t->fd = steal_fd(&named.fd);
	t->path = steal_pointer(&named.path);
	ims_tmpfile_dispose(&named);
	return 0;
}

/* Gives an O_TMPFILE a temp name in its directory. */
static int name_it(ims_tmpfile *t, ims_error **err)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	for (int i = 0; i < 16; i++) {
		unsigned char rnd[6];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			for (size_t k = 0; k < sizeof(rnd); k++)
				rnd[k] = (unsigned char)(rand() ^ getpid() ^ i);
		static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
		char suffix[7];
		for (size_t k = 0; k < sizeof(rnd); k++)
			suffix[k] = abc[rnd[k] % (sizeof(abc) - 1)];
		suffix[6] = '\0';
		char *p = xasprintf("%s/%s%s", t->dir, t->prefix, suffix);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, p, AT_SYMLINK_FOLLOW) == 0) {
			t->path = p;
			return 0;
		}
		int e = errno;
		free(p);
		if (e != EEXIST)
			return copy_to_named(t, err);
	}
	return ims_error_set(err, IMS_EGENERIC, "name a temporary file in `%s`", t->dir);
}

int ims_tmpfile_commit(ims_tmpfile *t, const char *dst, ims_error **err)
{
	int r = 0;
	if (!t->path)
		r = name_it(t, err);
	if (r == 0 && rename(t->path, dst) < 0)
		r = ims_error_sys(err, errno, IMS_EGENERIC, "rename into `%s`", dst);
	if (r == 0) {
		free(t->path);
		t->path = NULL;
	}
	ims_tmpfile_dispose(t);
	return r;
}

void ims_tmpfile_dispose(ims_tmpfile *t)
{
	if (!t)
		return;
	/* unlink before close: the lock keeps sweepers away until the name
	 * is gone */
	if (t->path)
		unlink(t->path);
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	free(t->dir);
	free(t->prefix);
	*t = (ims_tmpfile){ .fd = -1 };
}

/* Opens dir/name without following a link, takes its lock if nobody holds
 * it, and checks that the name still leads there. */
static int take_abandoned(int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	struct stat a, b;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &a) < 0 || fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
}

void ims_sweep_tmp(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t n = strlen(prefix);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, n) != 0)
			continue;
		int fd = take_abandoned(dirfd(d), de->d_name, 0);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			unlinkat(dirfd(d), de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

static const char *tmp_base(const char *dir_hint)
{
	const char *base = dir_hint;
	if (!base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	return base;
}

int ims_mkdtemp_locked(const char *dir_hint, const char *prefix, char **out, int *lock, ims_error **err)
{
	const char *base = tmp_base(dir_hint);
	for (int i = 0; i < 16; i++) {
		char *t = xasprintf("%s/%s-XXXXXX", base, prefix);
		if (!mkdtemp(t)) {
			int e = errno;
			free(t);
			return ims_error_sys(err, e, IMS_EGENERIC, "create a temporary directory in `%s`", base);
		}
		int fd = open(t, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX) == 0 && still_at(fd, t)) {
			*out = t;
			*lock = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		free(t);
	}
	return ims_error_set(err, IMS_EGENERIC, "create a temporary directory in `%s`: it keeps being removed", base);
}

void ims_sweep_tmpdirs(const char *dir_hint, const char *prefix)
{
	const char *base = tmp_base(dir_hint);
	DIR *d = opendir(base);
	if (!d)
		return;
	_cleanup_free_ char *want = xasprintf("%s-", prefix);
	size_t n = strlen(want);
	struct dirent *de;
	while ((de = readdir(d))) {
		/* exactly what mkdtemp makes: prefix-XXXXXX */
		if (strncmp(de->d_name, want, n) != 0 || strlen(de->d_name) != n + 6)
			continue;
		int fd = take_abandoned(dirfd(d), de->d_name, O_DIRECTORY);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
			_cleanup_free_ char *p = ims_path_join(base, de->d_name);
			ims_rm_rf(p, NULL);
		}
		close(fd);
	}
	closedir(d);
}
