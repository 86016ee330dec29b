#include "layer/tarball.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/archive_api.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"

#define NAME_MAX_LEN 4096

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* Normalises an entry name ("./a//b/" → "a/b"); NULL when it is absolute,
 * climbs with "..", or is too long. "" stands for the archive root. */
static char *entry_name(const char *raw)
{
	if (!raw || raw[0] == '/' || strlen(raw) > NAME_MAX_LEN)
		return NULL;
	char *out = xmalloc(strlen(raw) + 1);
	size_t o = 0;
	const char *p = raw;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	out[o] = '\0';
	return out;
}

static int extract_file(struct archive *a, const char *dst, const char *name, const char *shown,
			long long *total, ims_error **err)
{
	_cleanup_close_ int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return ims_error_set(err, IMS_EGENERIC, "%s: entry `%s` appears twice", shown, name);
		return ims_error_sys(err, errno, IMS_EGENERIC, "%s: extract `%s`", shown, name);
	}
	char buf[1 << 16];
	int r;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0)
			return ims_error_set(err, IMS_EGENERIC, "%s: read `%s`: %s", shown, name,
					     archive_error_string(a));
		if (n == 0)
			return 0;
		if ((r = ims_check_interrupt(err)) < 0)
			return r;
		*total += n;
		if (*total > IMS_TARBALL_MAX_BYTES)
			return ims_error_set(err, IMS_EGENERIC, "%s unpacks to more than %lld bytes", shown,
					     IMS_TARBALL_MAX_BYTES);
		if (ims_write_all(fd, buf, (size_t)n) < 0)
			return ims_error_sys(err, errno, IMS_EGENERIC, "%s: extract `%s`", shown, name);
	}
}

/* A link entry, made once the file it names has been extracted. */
typedef struct {
	char *name;
	char *target; /* archive path of the target, cleaned */
	bool done;
} pending_link;

typedef struct {
	pending_link *v;
	size_t n, cap;
} link_list;

static void links_dispose(link_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].target);
	}
	free(l->v);
}

/* Where a link entry points, as an archive path; NULL when it points
 * outside the archive. Symlinks are relative to their directory, hard link
 * targets are archive paths already. */
static char *link_target(const char *name, struct archive_entry *e)
{
	const char *hard = archive_entry_hardlink(e);
	if (hard)
		return entry_name(hard);
	const char *sym = archive_entry_symlink(e);
	if (!sym || sym[0] == '/')
		return NULL;
	const char *slash = strrchr(name, '/');
	_cleanup_free_ char *joined = slash ? xasprintf("%.*s/%s", (int)(slash - name), name, sym) : xstrdup(sym);
	char *clean = ims_path_clean(joined);
	if (clean && (!strcmp(clean, ".") || !*clean)) {
		free(clean);
		return NULL;
	}
	return clean;
}

static int extract_entry(struct archive *a, struct archive_entry *e, const char *dir, const char *shown,
			 long long *total, link_list *links, ims_error **err)
{
	const char *raw = archive_entry_pathname(e);
	_cleanup_free_ char *name = entry_name(raw);
	if (!name)
		return ims_error_set(err, IMS_EGENERIC, "%s: entry `%.200s` has an absolute or climbing name", shown,
				     raw ? raw : "");
	mode_t type = archive_entry_filetype(e);
	bool is_link = archive_entry_hardlink(e) || type == AE_IFLNK;
	if (!is_link && type != AE_IFREG && type != AE_IFDIR)
		return ims_error_set(err, IMS_EGENERIC, "%s: entry `%s` is not a regular file, directory or link",
				     shown, name);
	if (!*name) {
		if (type == AE_IFDIR && !is_link)
			return 0;
		return ims_error_set(err, IMS_EGENERIC, "%s: an entry has an empty name", shown);
	}
	if (is_link) {
		char *target = link_target(name, e);
		if (!target)
			return ims_error_set(err, IMS_EGENERIC, "%s: link entry `%s` points outside the archive", shown,
					     name);
		links->v = xgrow(links->v, &links->cap, links->n + 1, sizeof(*links->v));
		links->v[links->n++] = (pending_link){ .name = xstrdup(name), .target = target };
		return 0;
	}
	/* No symlinks are ever created, so no path below dir leads outside it. */
	_cleanup_free_ char *dst = ims_path_join(dir, name);
	if (type == AE_IFDIR)
		return ims_mkdir_p(dst, 0700, err);
	_cleanup_free_ char *parent = ims_path_dirname(dst);
	int r = ims_mkdir_p(parent, 0700, err);
	if (r < 0)
		return r;
	return extract_file(a, dst, name, shown, total, err);
}

/* Makes one link as a hard link to a regular file; 1 when its target is
 * not there (yet). */
static int make_link(const char *dir, const pending_link *l, const char *shown, ims_error **err)
{
	_cleanup_free_ char *src = ims_path_join(dir, l->target);
	_cleanup_free_ char *dst = ims_path_join(dir, l->name);
	struct stat st;
	if (lstat(src, &st) < 0)
		return 1;
	if (!S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_EGENERIC, "%s: link entry `%s` points at `%s`, which is not a file",
				     shown, l->name, l->target);
	_cleanup_free_ char *parent = ims_path_dirname(dst);
	int r = ims_mkdir_p(parent, 0700, err);
	if (r < 0)
		return r;
	if (link(src, dst) < 0) {
		if (errno == EEXIST)
			return ims_error_set(err, IMS_EGENERIC, "%s: entry `%s` appears twice", shown, l->name);
		return ims_error_sys(err, errno, IMS_EGENERIC, "%s: link `%s`", shown, l->name);
	}
	return 0;
}

/* Links may point at links, in any order: resolve until nothing moves. */
static int make_links(const char *dir, link_list *links, const char *shown, ims_error **err)
{
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t i = 0; i < links->n; i++) {
			if (links->v[i].done)
				continue;
			int r = make_link(dir, &links->v[i], shown, err);
			if (r < 0)
				return r;
			if (r == 0)
				links->v[i].done = progress = true;
		}
	}
	for (size_t i = 0; i < links->n; i++)
		if (!links->v[i].done)
			return ims_error_set(err, IMS_EGENERIC, "%s: link entry `%s` points at `%s`, which is missing",
					     shown, links->v[i].name, links->v[i].target);
	return 0;
}

static int extract_all(struct archive *a, const char *dir, const char *shown, ims_error **err)
{
	long long total = 0;
	size_t count = 0;
	link_list links = { 0 };
	int r = 0;
	while (r == 0) {
		struct archive_entry *e;
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if ((r = ims_check_interrupt(err)) < 0)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN)
			r = ims_error_set(err, IMS_EGENERIC, "%s: %s", shown, archive_error_string(a));
		else if (++count > IMS_TARBALL_MAX_ENTRIES)
			r = ims_error_set(err, IMS_EGENERIC, "%s has more than %d entries", shown,
					  IMS_TARBALL_MAX_ENTRIES);
		else
			r = extract_entry(a, e, dir, shown, &total, &links, err);
	}
	if (r == 0)
		r = make_links(dir, &links, shown, err);
	links_dispose(&links);
	return r;
}

int ims_tarball_extract(const char *path, const char *dir, const char *shown, ims_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ims_error_sys(err, errno, errno == ENOENT ? IMS_ENOTFOUND : IMS_EGENERIC, "open %s", shown);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "stat %s", shown);
	if (!S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_EGENERIC, "%s is not a regular file", shown);

	int r = ims_layer__need_archive(err);
	if (r < 0)
		return r;
	/* tar only, plain or gzip: nothing else is an image archive, and each
	 * extra reader is attack surface. */
	_cleanup_(archive_freep) struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
		return ims_error_set(err, IMS_EGENERIC, "%s is not a tar archive: %s", shown, archive_error_string(a));
	return extract_all(a, dir, shown, err);
}

/* ---- listing ---- */

static int list_rec(const char *root, const char *rel, ims_tarball_entry **v, size_t *n, size_t *cap,
		    ims_error **err)
{
	_cleanup_free_ char *abs = *rel ? ims_path_join(root, rel) : xstrdup(root);
	DIR *d = opendir(abs);
	if (!d)
		return ims_error_sys(err, errno, IMS_EGENERIC, "read directory `%s`", abs);
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *name = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		char *src = ims_path_join(root, name);
		struct stat st;
		if (lstat(src, &st) < 0) {
			r = ims_error_sys(err, errno, IMS_EGENERIC, "stat `%s`", src);
		} else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			r = ims_error_set(err, IMS_EGENERIC, "`%s` is not a regular file or directory", src);
		} else {
			*v = xgrow(*v, cap, *n + 1, sizeof(**v));
			(*v)[(*n)++] = (ims_tarball_entry){ .name = name, .dir = S_ISDIR(st.st_mode),
							    .src = S_ISDIR(st.st_mode) ? NULL : src };
			if (S_ISDIR(st.st_mode))
				free(src);
			name = src = NULL;
			if (S_ISDIR(st.st_mode))
				r = list_rec(root, (*v)[*n - 1].name, v, n, cap, err);
		}
		free(name);
		free(src);
	}
	closedir(d);
	return r;
}

int ims_tarball_list_dir(const char *root, ims_tarball_entry **v, size_t *n, size_t *cap, ims_error **err)
{
	return list_rec(root, "", v, n, cap, err);
}

void ims_tarball_entries_free(ims_tarball_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].src);
	}
	free(v);
}

/* ---- writing ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const ims_tarball_entry *)a)->name, ((const ims_tarball_entry *)b)->name);
}

static int write_data(struct archive *a, const ims_tarball_entry *e, int64_t *size, const char *shown,
		      ims_error **err)
{
	if (!e->src) {
		if (e->len && archive_write_data(a, e->data, e->len) != (la_ssize_t)e->len)
			return ims_error_set(err, IMS_EGENERIC, "%s: write `%s`: %s", shown, e->name,
					     archive_error_string(a));
		return 0;
	}
	_cleanup_close_ int fd = open(e->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "%s: open `%s`", shown, e->src);
	char buf[1 << 16];
	int64_t left = *size;
	while (left > 0) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ims_error_sys(err, errno, IMS_EGENERIC, "%s: read `%s`", shown, e->src);
		if (r == 0 || r > left)
			break;
		int ir = ims_check_interrupt(err);
		if (ir < 0)
			return ir;
		if (archive_write_data(a, buf, (size_t)r) != r)
			return ims_error_set(err, IMS_EGENERIC, "%s: write `%s`: %s", shown, e->name,
					     archive_error_string(a));
		left -= r;
	}
	if (left != 0)
		return ims_error_set(err, IMS_EGENERIC, "%s: `%s` changed while it was archived", shown, e->src);
	return 0;
}

static int entry_size(const ims_tarball_entry *e, int64_t *size, const char *shown, ims_error **err)
{
	*size = 0;
	if (e->dir)
		return 0;
	if (!e->src) {
		*size = (int64_t)e->len;
		return 0;
	}
	struct stat st;
	if (stat(e->src, &st) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "%s: stat `%s`", shown, e->src);
	*size = st.st_size;
	return 0;
}

static int write_entries(struct archive *a, ims_tarball_entry *v, size_t n, const char *shown, ims_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int64_t size;
		int r = ims_check_interrupt(err);
		if (r == 0)
			r = entry_size(&v[i], &size, shown, err);
		if (r < 0)
			return r;
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_filetype(e, v[i].dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, v[i].dir ? 0755 : 0644);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_mtime(e, 0, 0);
		archive_entry_set_size(e, size);
		int ar = archive_write_header(a, e);
		archive_entry_free(e);
		if (ar != ARCHIVE_OK)
			return ims_error_set(err, IMS_EGENERIC, "%s: write `%s`: %s", shown, v[i].name,
					     archive_error_string(a));
		if (!v[i].dir && (r = write_data(a, &v[i], &size, shown, err)) < 0)
			return r;
	}
	return 0;
}

/* "FILE.tmp-" for path/to/FILE */
static char *tmp_prefix(const char *path)
{
	const char *base = strrchr(path, '/');
	return xasprintf("%s.tmp-", base ? base + 1 : path);
}

int ims_tarball_write(const char *path, ims_tarball_entry *v, size_t n, const char *shown, ims_error **err)
{
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1].name, v[i].name))
			return ims_error_set(err, IMS_EGENERIC, "%s: entry `%s` would appear twice", shown, v[i].name);

	int r = ims_layer__need_archive(err);
	if (r < 0)
		return r;
	/* FILE.tmp-XXXXXX next to FILE, locked, so that a re-run removes
	 * what a killed writer left (ims_tarball_sweep) */
	_cleanup_free_ char *dir = ims_path_dirname(path);
	_cleanup_free_ char *prefix = tmp_prefix(path);
	ims_tmpfile tf;
	r = ims_tmpfile_open(&tf, dir, prefix, err);
	if (r < 0)
		return ims_error_wrap(err, "create %s", shown);
	int fd = tf.fd;
	struct archive *a = archive_write_new();
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK || archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		r = ims_error_set(err, IMS_EGENERIC, "%s: %s", shown, archive_error_string(a));
	if (r == 0)
		r = write_entries(a, v, n, shown, err);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = ims_error_set(err, IMS_EGENERIC, "%s: %s", shown, archive_error_string(a));
	archive_write_free(a);
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = ims_error_sys(err, errno, IMS_EGENERIC, "write %s", shown);
	if (r == 0)
		r = ims_check_interrupt(err);
	if (r == 0 && (r = ims_tmpfile_commit(&tf, path, err)) < 0)
		ims_error_wrap(err, "replace %s", shown);
	ims_tmpfile_dispose(&tf);
	return r;
}

void ims_tarball_sweep(const char *path)
{
	_cleanup_free_ char *dir = ims_path_dirname(path);
	_cleanup_free_ char *prefix = tmp_prefix(path);
	ims_sweep_tmp(dir, prefix);
}
