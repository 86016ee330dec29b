#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

int ims_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ims_read_file(const char *path, size_t max, char **out, size_t *len, ims_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ims_error_sys(err, errno, errno == ENOENT ? IMS_ENOTFOUND : IMS_EGENERIC,
				     "open `%s`", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "stat `%s`", path);
	if (!S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a regular file", path);
	if ((size_t)st.st_size > max)
		return ims_error_set(err, IMS_EINVALID, "`%s` is larger than the limit of %zu bytes", path, max);
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = xmalloc(cap);
	ims_prefault(buf, cap); /* read() would fault in each page */
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				return ims_error_set(err, IMS_EINVALID, "`%s` is larger than the limit of %zu bytes",
						     path, max);
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return ims_error_sys(err, e, IMS_EGENERIC, "read `%s`", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return ims_error_set(err, IMS_EINVALID, "`%s` is larger than the limit of %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int ims_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, ims_error **err)
{
	/* PATH.tmp-XXXXXX, locked while it lives: ims_sweep_tmp removes it if
	 * this process is killed before the rename */
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = ims_path_dirname(path);
	_cleanup_free_ char *prefix = xasprintf("%s.tmp-", slash ? slash + 1 : path);
	ims_tmpfile t;
	int r = ims_tmpfile_open(&t, dir, prefix, err);
	if (r < 0)
		return r;
	if (ims_write_all(t.fd, data, len) < 0 || fchmod(t.fd, mode) < 0 || fsync(t.fd) < 0) {
		int e = errno;
		ims_tmpfile_dispose(&t);
		return ims_error_sys(err, e, IMS_EGENERIC, "write `%s`", path);
	}
	if ((r = ims_tmpfile_commit(&t, path, err)) < 0)
		return ims_error_wrap(err, "write `%s`", path);
	return 0;
}

int ims_mkdir_p(const char *path, mode_t mode, ims_error **err)
{
	_cleanup_free_ char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return ims_error_sys(err, errno, IMS_EGENERIC, "create directory `%s`", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return ims_error_sys(err, errno, IMS_EGENERIC, "create directory `%s`", p);
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return ims_error_set(err, IMS_EGENERIC, "`%s` is not a directory", p);
	return 0;
}

static int rm_at(int parent, const char *name, ims_error **err, const char *shown)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ims_error_sys(err, errno, IMS_EGENERIC, "remove `%s`", shown);
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return ims_error_sys(err, errno, IMS_EGENERIC, "remove `%s`", shown);
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return ims_error_sys(err, errno, IMS_EGENERIC, "remove `%s`", shown);
		}
		struct dirent *de;
		int r = 0;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if ((r = rm_at(dirfd(d), de->d_name, err, shown)) < 0)
				break;
		}
		closedir(d);
		if (r < 0)
			return r;
		if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return ims_error_sys(err, errno, IMS_EGENERIC, "remove `%s`", shown);
		return 0;
	}
	if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
		return ims_error_sys(err, errno, IMS_EGENERIC, "remove `%s`", shown);
	return 0;
}

int ims_rm_rf(const char *path, ims_error **err)
{
	if (!path || !*path)
		return 0;
	return rm_at(AT_FDCWD, path, err, path);
}

int ims_mkdtemp(const char *dir_hint, const char *prefix, char **out, ims_error **err)
{
	const char *base = dir_hint;
	if (!base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char *t = xasprintf("%s/%s-XXXXXX", base, prefix ? prefix : "imagespec");
	if (!mkdtemp(t)) {
		int e = errno;
		free(t);
		return ims_error_sys(err, e, IMS_EGENERIC, "create a temporary directory in `%s`", base);
	}
	*out = t;
	return 0;
}

char *ims_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (la == 0 && a[0] == '/')
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

char *ims_path_dirname(const char *path)
{
	const char *s = strrchr(path, '/');
	if (!s)
		return xstrdup(".");
	if (s == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(s - path));
}

char *ims_path_clean(const char *path)
{
	bool abs = path[0] == '/';
	size_t n = strlen(path);
	char **parts = xcalloc(n / 2 + 2, sizeof(char *));
	size_t np = 0;
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (np == 0) {
				free(parts);
				return NULL;
			}
			np--;
			continue;
		}
		parts[np++] = t;
	}
	size_t total = 2;
	for (size_t i = 0; i < np; i++)
		total += strlen(parts[i]) + 1;
	char *r = xmalloc(total);
	char *w = r;
	if (abs)
		*w++ = '/';
	for (size_t i = 0; i < np; i++) {
		if (i)
			*w++ = '/';
		size_t l = strlen(parts[i]);
		memcpy(w, parts[i], l);
		w += l;
	}
	if (w == r)
		*w++ = '.';
	*w = '\0';
	if (abs && r[1] == '.' && r[2] == '\0')
		r[1] = '\0';
	free(parts);
	return r;
}

char *ims_path_absolute(const char *base, const char *path)
{
	char *joined;
	if (path[0] == '/') {
		joined = xstrdup(path);
	} else {
		char cwd[PATH_MAX];
		if (!base) {
			if (!getcwd(cwd, sizeof(cwd)))
				strcpy(cwd, "/");
			base = cwd;
		}
		joined = ims_path_join(base, path);
	}
	char *c = ims_path_clean(joined);
	free(joined);
	return c ? c : xstrdup("/");
}

bool ims_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int ims_check_output_path(const char *path, const char *shown, bool want_dir, ims_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return ims_error_sys(err, errno, IMS_EGENERIC, "%s", shown);
	}
	if (S_ISLNK(st.st_mode)) {
		ims_error_set(err, IMS_EINVALID, "%s is a symbolic link; refusing to write through it", shown);
		ims_error_hint(err, "name the %s it points to (`readlink -f`), or remove the link",
			       want_dir ? "directory" : "file");
		return IMS_EINVALID;
	}
	if (want_dir && !S_ISDIR(st.st_mode))
		return ims_error_set(err, IMS_EINVALID, "%s is not a directory", shown);
	if (!want_dir && !S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_EINVALID, "%s is not a regular file", shown);
	return 0;
}

int ims_copy_fd(int src, int dst, ims_error **err)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t r = read(src, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ims_error_sys(err, errno, IMS_EGENERIC, "read");
		}
		if (r == 0)
			return 0;
		if (ims_write_all(dst, buf, (size_t)r) < 0)
			return ims_error_sys(err, errno, IMS_EGENERIC, "write");
	}
}

/* Set once an open with O_NOATIME was refused (EPERM: not the owner);
 * the files of one tree mostly have one owner, so the flag is not asked
 * for again, which would cost a second open for each. */
static atomic_bool noatime_refused;

int ims_openat_noatime(int dirfd, const char *name, int flags)
{
	if (!atomic_load_explicit(&noatime_refused, memory_order_relaxed)) {
		int fd = openat(dirfd, name, flags | O_NOATIME);
		if (fd >= 0 || errno != EPERM)
			return fd;
		atomic_store_explicit(&noatime_refused, true, memory_order_relaxed);
	}
	return openat(dirfd, name, flags);
}

bool ims_noatime__on(void)
{
	return !atomic_load(&noatime_refused);
}

void ims_noatime__reset(void)
{
	atomic_store(&noatime_refused, false);
}
