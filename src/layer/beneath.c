#include "layer/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define MAX_HOPS 40 /* Linux's own limit for a path walk (MAXSYMLINKS) */

/* Component by component: each directory opened with O_PATH | O_NOFOLLOW
 * from the one before, as Linux before 5.6 allows. */
static int open_walk(int rootfd, const char *p, int flags)
{
	int dir = rootfd;
	const char *c = p;
	for (;;) {
		const char *slash = strchr(c, '/');
		if (!slash) {
			int fd = openat(dir, c, flags);
			int e = errno;
			if (dir != rootfd)
				close(dir);
			errno = e;
			return fd;
		}
		_cleanup_free_ char *name = xstrndup(c, (size_t)(slash - c));
		int next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (dir != rootfd)
			close(dir);
		if (next < 0) {
			errno = e;
			return -1;
		}
		dir = next;
		c = slash + 1;
	}
}

/* 1 while openat2 may be used, 0 once the kernel (before 5.6) or a
 * seccomp filter refused it, or a test turned it off. */
static atomic_int use_openat2 = 1;

void ims_beneath__use_openat2(bool on)
{
	atomic_store(&use_openat2, on);
}

/* The same rule in one system call: RESOLVE_BENEATH keeps the walk under
 * rootfd, RESOLVE_NO_SYMLINKS fails it at any symlink, as O_NOFOLLOW on
 * each component does (a trailing one with O_PATH | O_NOFOLLOW is opened
 * itself, as openat does). A directory three levels down costs one call
 * instead of three opens and two closes. Returns -2 when openat2 cannot be
 * used, with errno untouched. */
static int open_resolved(int rootfd, const char *p, int flags)
{
	if (!atomic_load_explicit(&use_openat2, memory_order_relaxed))
		return -2;
	struct open_how how = { .flags = (uint64_t)(unsigned)flags,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int e = errno;
	long fd = syscall(SYS_openat2, rootfd, p, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS || errno == EPERM || errno == EINVAL || errno == E2BIG) {
		/* no openat2 here (EPERM: a seccomp filter's answer), or not
		 * with these flags: the walk answers, now and from now on */
		atomic_store_explicit(&use_openat2, 0, memory_order_relaxed);
		errno = e;
		return -2;
	}
	return -1;
}

int ims_beneath_open(int rootfd, const char *p, int flags)
{
	flags |= O_NOFOLLOW | O_CLOEXEC;
	if (!p || !*p)
		return openat(rootfd, ".", flags & ~O_NOFOLLOW);
	int fd = open_resolved(rootfd, p, flags);
	return fd != -2 ? fd : open_walk(rootfd, p, flags);
}

int ims_beneath_within(const char *p, const char *dir)
{
	size_t l = strlen(dir);
	if (l == 0)
		return 1;
	return !strncmp(p, dir, l) && (p[l] == '\0' || p[l] == '/');
}

/* Makes an absolute path relative to the root, or fails with -EXDEV. */
static int rebase(const char *root_abs, const char *abs, char **rest)
{
	if (!root_abs)
		return -EXDEV;
	size_t l = strlen(root_abs);
	while (l > 0 && root_abs[l - 1] == '/')
		l--;
	/* Compare with the separator, so `/a/b` does not take in `/a/bc`. */
	if (strncmp(abs, root_abs, l) || (abs[l] != '\0' && abs[l] != '/'))
		return -EXDEV;
	*rest = xstrdup(abs + l);
	return 0;
}

static void pop(ims_buf *cur)
{
	char *s = strrchr(cur->data, '/');
	cur->len = s ? (size_t)(s - cur->data) : 0;
	cur->data[cur->len] = '\0';
}

static int stat_in(int rootfd, const char *dir, const char *name, struct stat *st)
{
	_cleanup_close_ int fd = ims_beneath_open(rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int read_link(int rootfd, const char *dir, const char *name, char **out)
{
	_cleanup_close_ int fd = ims_beneath_open(rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	char buf[PATH_MAX];
	ssize_t n = readlinkat(fd, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf) - 1)
		return -ENAMETOOLONG;
	*out = xstrndup(buf, (size_t)n);
	return 0;
}

static int resolve(int rootfd, const char *root_abs, const char *start, const char *path, int hops, char **out,
		   struct stat *st)
{
	ims_buf cur = IMS_BUF_INIT(0);
	_cleanup_free_ char *rest = NULL;
	int r = 0;

	ims_buf_puts(&cur, path[0] == '/' ? "" : start);
	if (path[0] == '/') {
		if ((r = rebase(root_abs, path, &rest)) < 0)
			goto out;
	} else {
		rest = xstrdup(path);
	}
	for (char *p = rest; *p;) {
		char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		_cleanup_free_ char *c = xstrndup(p, l);
		p += l;
		p += strspn(p, "/");
		if (!*c || !strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (cur.len == 0) {
				r = -EXDEV;
				goto out;
			}
			pop(&cur);
			continue;
		}
		if ((r = stat_in(rootfd, cur.data, c, st)) < 0)
			goto out;
		if (S_ISLNK(st->st_mode)) {
			_cleanup_free_ char *t = NULL;
			if (++hops > MAX_HOPS) {
				r = -ELOOP;
				goto out;
			}
			if ((r = read_link(rootfd, cur.data, c, &t)) < 0)
				goto out;
			char *joined = xasprintf("%s/%s", t, p);
			if (t[0] == '/') {
				char *rel = NULL;
				if ((r = rebase(root_abs, joined, &rel)) < 0) {
					free(joined);
					goto out;
				}
				free(joined);
				joined = rel;
				ims_buf_reset(&cur);
			}
			free(rest);
			rest = joined;
			p = rest;
			continue;
		}
		if (*p && !S_ISDIR(st->st_mode)) {
			r = -ENOTDIR;
			goto out;
		}
		if (cur.len)
			ims_buf_putc(&cur, '/');
		ims_buf_puts(&cur, c);
	}
	/* The result may be a directory reached through "..", or the start
	 * itself: stat what was reached. */
	{
		_cleanup_close_ int fd = ims_beneath_open(rootfd, cur.data, O_PATH);
		if (fd < 0 || fstat(fd, st) < 0) {
			r = -errno;
			goto out;
		}
	}
	*out = ims_buf_steal(&cur, NULL);
out:
	ims_buf_dispose(&cur);
	return r;
}

int ims_beneath_resolve(int rootfd, const char *root_abs, const char *start, const char *path, char **out,
			struct stat *st)
{
	return resolve(rootfd, root_abs, start, path, 0, out, st);
}

int ims_beneath_resolve_link(int rootfd, const char *root_abs, const char *start, const char *text, char **out,
			     struct stat *st)
{
	return resolve(rootfd, root_abs, start, text, 1, out, st);
}
