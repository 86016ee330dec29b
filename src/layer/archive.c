/* Archive layers: an existing tar (plain, gzip, zstd or xz) re-rooted under
 * `dest`, filtered by `include`, with `stripComponents` applied first.
 *
 * Entries are streamed in archive order: the archive's own order is already
 * deterministic, and sorting would mean holding the whole listing. Every
 * entry goes through the tar pipeline (layer/tarw.h), so names, owners,
 * modes and times are written exactly as for `files:` layers.
 *
 * What is refused, with the archive and the entry named (IMS_ESOURCE):
 * absolute names and `..` components (in any entry, kept or not: such an
 * archive is not to be trusted), and among kept entries devices, FIFOs,
 * sockets, names that are not clean UTF-8, symlinks whose target leaves
 * dest, and hard links to anything but an earlier regular file of this
 * layer. Among kept entries, whiteouts too (`.wh.NAME`, `.wh..wh..opq`,
 * or any name component starting with `.wh.`): in a layer they delete or
 * mask files of the base, which a tarball of files is not expected to do;
 * the spec's own `delete:` and `opaque:` say it openly (issue 9, item 5,
 * as a `.wh.*` file in a source directory is refused, SPEC-v1 "Refused
 * sources").
 */
#include "layer/layer.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/sha256_stream.h"
#include "layer/archive_api.h"
#include "layer/glob.h"
#include "layer/lpath.h"
#include "layer/tarw.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Bounds on what one archive may cost: entries, and bytes of the file and
 * of the entries' content (a small compressed file may expand enormously,
 * and skipped entries are decompressed too). */
#define ARCHIVE_MAX_ENTRIES 1000000
#define ARCHIVE_MAX_BYTES ((int64_t)64 << 30)

typedef struct {
	const char *shown;     /* the archive as the user named it */
	int fd;
	int strip;
	char *dest;            /* tar path of dest; "" for the image root */
	ims_patterns *include; /* NULL: every entry */
	locale_t utf8;
	/* With include: parents of the included entries, sorted and unique,
	 * so that a directory is kept when something included lies below it. */
	char **parents;
	size_t nparents, capparents;
	bool any_included;
} actx;

typedef enum {
	NAME_SKIP, /* stripped to nothing */
	NAME_ROOT, /* only "." left: the archive's root */
	NAME_PATH,
} name_kind;

static void archive_readp(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void tarwp(ims_tarw **w)
{
	ims_tarw_free(*w);
}

__attribute__((format(printf, 4, 5))) static int refuse(const actx *c, const char *entry, ims_error **err,
							 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *why = xvasprintf(fmt, ap);
	va_end(ap);
	_cleanup_free_ char *q = ims_lpath_quote(entry ? entry : "");
	return ims_error_set(err, IMS_ESOURCE, "archive `%s`: entry `%s`: %s", c->shown, q, why);
}

/* ---- the archive as a file ------------------------------------------- */

/* want_raw (hex or sha256:hex, any case) as a digest, or an error. */
static int want_digest(const char *shown, const char *want_raw, char want[IMS_DIGEST_BUFSZ], ims_error **err)
{
	const char *hex = want_raw;
	if (!strncmp(hex, "sha256:", 7))
		hex += 7;
	memcpy(want, "sha256:", 8);
	size_t n = strlen(hex);
	for (size_t i = 0; i < n && i < 64; i++)
		want[7 + i] = (char)tolower((unsigned char)hex[i]);
	want[7 + (n < 64 ? n : 64)] = '\0';
	if (n != 64 || !ims_digest_valid(want))
		return ims_error_set(err, IMS_EINVALID, "archive `%s`: sha256 `%s` is not 64 hex digits", shown,
				     want_raw);
	return 0;
}

static int mismatch(const char *shown, const char *got, const char *want, ims_error **err)
{
	return ims_error_set(err, IMS_EDIGEST, "archive `%s` has sha256 `%s`, expected `%s`", shown,
			     ims_digest_hex(got), ims_digest_hex(want));
}

int ims_layer_archive_check_digest(const ims_layer_archive *l, const char *archive_path, const char *got,
				   ims_error **err)
{
	if (!l->sha256 || !*l->sha256)
		return 0;
	const char *shown = l->shown ? l->shown : archive_path;
	char want[IMS_DIGEST_BUFSZ];
	int r = want_digest(shown, l->sha256, want, err);
	return r < 0 ? r : strcmp(got, want) ? mismatch(shown, got, want, err) : 0;
}

static int check_sha256(const actx *c, const char *want_raw, ims_error **err)
{
	char want[IMS_DIGEST_BUFSZ];
	int bad = want_digest(c->shown, want_raw, want, err);
	if (bad < 0)
		return bad;
	if (lseek(c->fd, 0, SEEK_SET) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "archive `%s`: seek", c->shown);
	ims_sha256_sink h;
	ims_sha256_sink_init(&h, NULL);
	_cleanup_free_ char *buf = xmalloc(1 << 17);
	for (;;) {
		ssize_t r = read(c->fd, buf, 1 << 17);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ims_sha256_sink_dispose(&h);
			return ims_error_sys(err, errno, IMS_EGENERIC, "archive `%s`: read", c->shown);
		}
		if (r == 0)
			break;
		int wr = ims_sink_write(&h.sink, buf, (size_t)r, err); /* fails only when interrupted */
		if (wr < 0) {
			ims_sha256_sink_dispose(&h);
			return wr;
		}
	}
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_sink_final(&h, got);
	return strcmp(got, want) ? mismatch(c->shown, got, want, err) : 0;
}

/* One reading pass. Only the tar formats and the gzip, zstd and xz filters:
 * an archive layer is tar content, and every other reader is attack
 * surface with no use here. */
static int open_pass(actx *c, struct archive **out, ims_error **err)
{
	if (lseek(c->fd, 0, SEEK_SET) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "archive `%s`: seek", c->shown);
	int lr = ims_layer__need_archive(err);
	if (lr < 0)
		return lr;
	struct archive *a = archive_read_new();
	if (!a)
		abort();
	if (archive_read_support_format_tar(a) < ARCHIVE_WARN || archive_read_support_format_gnutar(a) < ARCHIVE_WARN ||
	    archive_read_support_filter_gzip(a) < ARCHIVE_WARN || archive_read_support_filter_zstd(a) < ARCHIVE_WARN ||
	    archive_read_support_filter_xz(a) < ARCHIVE_WARN) {
		int r = ims_error_set(err, IMS_EUNSUPPORTED, "archive `%s`: %s", c->shown, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	locale_t old = c->utf8 ? uselocale(c->utf8) : (locale_t)0;
	int r = archive_read_open_fd(a, c->fd, 1 << 16);
	if (c->utf8)
		uselocale(old);
	if (r < ARCHIVE_WARN) {
		r = ims_error_set(err, IMS_ESOURCE, "archive `%s`: %s", c->shown, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	*out = a;
	return 0;
}

typedef struct {
	int64_t entries, bytes;
} pass_count;

/* Returns 1 with the next header, 0 at the end, or an error. Names are
 * decoded under a UTF-8 locale so that they never depend on LANG. */
static int next_entry(const actx *c, struct archive *a, struct archive_entry **ae, pass_count *n, ims_error **err)
{
	locale_t old = c->utf8 ? uselocale(c->utf8) : (locale_t)0;
	int r = archive_read_next_header(a, ae);
	if (c->utf8)
		uselocale(old);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		return ims_error_set(err, IMS_ESOURCE, "archive `%s`: %s", c->shown, archive_error_string(a));
	if (++n->entries > ARCHIVE_MAX_ENTRIES)
		return ims_error_set(err, IMS_ESOURCE, "archive `%s` has more than %d entries", c->shown,
				     ARCHIVE_MAX_ENTRIES);
	int64_t size = archive_entry_size_is_set(*ae) ? archive_entry_size(*ae) : 0;
	if (size < 0 || size > ARCHIVE_MAX_BYTES - n->bytes)
		return ims_error_set(err, IMS_ESOURCE, "archive `%s` holds more than %lld GiB", c->shown,
				     (long long)(ARCHIVE_MAX_BYTES >> 30));
	n->bytes += size;
	return 1;
}

/* ---- names ----------------------------------------------------------- */

/* Applies stripComponents to an entry name, as tar --strip-components
 * does (a "." component counts: "./go/x" stripped by 1 is "go/x"), then
 * drops "." components. Absolute names and `..` are refused whatever the
 * strip, so the archive cannot smuggle one past it. */
static int strip_name(const actx *c, const char *entry, const char *what, const char *name, name_kind *kind,
		      char **out, ims_error **err)
{
	if (!name || !*name)
		return refuse(c, entry, err, "empty %s", what);
	if (*name == '/')
		return refuse(c, entry, err, "absolute %s", what);

	size_t len = strlen(name), used = 0, seen = 0;
	char *buf = xmalloc(len + 1);
	for (const char *s = name; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && !memcmp(s, "..", 2)) {
			free(buf);
			return refuse(c, entry, err, "%s with a `..` component", what);
		}
		if (n && seen++ >= (size_t)c->strip && !(n == 1 && *s == '.')) {
			if (used)
				buf[used++] = '/';
			memcpy(buf + used, s, n);
			used += n;
		}
		s += n;
		s += *s == '/';
	}
	buf[used] = '\0';
	*kind = seen <= (size_t)c->strip ? NAME_SKIP : used ? NAME_PATH : NAME_ROOT;
	*out = buf;
	return 0;
}

/* The path in the layer: below dest. */
static char *reroot(const actx *c, const char *stripped)
{
	if (!*c->dest)
		return xstrdup(stripped);
	if (!*stripped)
		return xstrdup(c->dest);
	return xasprintf("%s/%s", c->dest, stripped);
}

static bool under_dest(const actx *c, const char *p, size_t len)
{
	size_t n = strlen(c->dest);
	return !n || (len >= n && !memcmp(p, c->dest, n) && (len == n || p[n] == '/'));
}

/* Whether a symlink at path (a tar path) pointing at target stays in dest.
 * The target is resolved lexically: relative ones from the link's
 * directory, absolute ones from the image root, with `..` at the root
 * staying there. Once inside dest a target may not step out of it, even
 * to come back, since what lies outside belongs to the base image. */
static bool link_stays(const actx *c, const char *path, const char *target)
{
	size_t cap = strlen(path) + strlen(target) + 2, len = 0;
	_cleanup_free_ char *cur = xmalloc(cap);

	if (*target != '/') {
		const char *slash = strrchr(path, '/');
		len = slash ? (size_t)(slash - path) : 0;
		memcpy(cur, path, len);
	}
	bool inside = under_dest(c, cur, len);
	for (const char *s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && !memcmp(s, "..", 2)) {
			while (len && cur[len - 1] != '/')
				len--;
			if (len)
				len--;
		} else if (n && !(n == 1 && *s == '.')) {
			if (len)
				cur[len++] = '/';
			memcpy(cur + len, s, n);
			len += n;
		}
		bool now = under_dest(c, cur, len);
		if (inside && !now)
			return false;
		inside = now;
		s += n;
		s += *s == '/';
	}
	return inside;
}

/* ---- include: directories above what is included ---------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* First index whose string is >= key. */
static size_t lower_bound(char *const *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* dir (a stripped path) is the parent of an included entry, or above one. */
static bool is_parent_of_included(const actx *c, const char *dir)
{
	size_t i = lower_bound(c->parents, c->nparents, dir);
	if (i < c->nparents && !strcmp(c->parents[i], dir))
		return true;
	_cleanup_free_ char *prefix = xasprintf("%s/", dir);
	i = lower_bound(c->parents, c->nparents, prefix);
	return i < c->nparents && !strncmp(c->parents[i], prefix, strlen(prefix));
}

static bool is_dir_entry(struct archive_entry *ae)
{
	return !archive_entry_hardlink(ae) && archive_entry_filetype(ae) == AE_IFDIR;
}

static bool included(const actx *c, const char *stripped, struct archive_entry *ae)
{
	return ims_patterns_match(c->include, stripped, is_dir_entry(ae));
}

/* A first pass over the headers: entries come before or after their
 * directories in any order, so which directories to keep is only known
 * once every included entry has been seen. */
static int collect_parents(actx *c, ims_error **err)
{
	_cleanup_(archive_readp) struct archive *a = NULL;
	struct archive_entry *ae;
	pass_count n = { 0 };
	int r = open_pass(c, &a, err);

	while (r >= 0 && (r = next_entry(c, a, &ae, &n, err)) > 0) {
		const char *entry = archive_entry_pathname(ae);
		_cleanup_free_ char *stripped = NULL;
		name_kind kind;
		if ((r = strip_name(c, entry, "name", entry, &kind, &stripped, err)) < 0)
			break;
		if (kind != NAME_PATH || !included(c, stripped, ae))
			continue;
		c->any_included = true;
		char *slash = strrchr(stripped, '/');
		if (!slash)
			continue;
		*slash = '\0';
		/* Archives list a directory's entries together: skip repeats early. */
		if (c->nparents && !strcmp(c->parents[c->nparents - 1], stripped))
			continue;
		c->parents = xgrow(c->parents, &c->capparents, c->nparents + 1, sizeof(char *));
		c->parents[c->nparents++] = steal_pointer(&stripped);
	}
	if (r < 0)
		return r;

	/* qsort wants a pointer even for nothing (nonnull): an include that
	 * matches only top-level entries collects no parents (fuzz_archive_layer). */
	if (c->nparents)
		qsort(c->parents, c->nparents, sizeof(char *), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < c->nparents; i++) {
		if (u && !strcmp(c->parents[u - 1], c->parents[i]))
			free(c->parents[i]);
		else
			c->parents[u++] = c->parents[i];
	}
	c->nparents = u;
	return 0;
}

/* A component of a stripped name is a whiteout (OCI image-spec layer.md). */
static bool has_whiteout(const char *stripped)
{
	for (const char *s = stripped; *s;) {
		if (!strncmp(s, ".wh.", 4))
			return true;
		const char *slash = strchr(s, '/');
		if (!slash)
			break;
		s = slash + 1;
	}
	return false;
}

/* Whether an entry that survived stripping belongs in the layer. */
static bool keep(const actx *c, name_kind kind, const char *stripped, struct archive_entry *ae)
{
	if (!c->include)
		return true;
	if (kind == NAME_ROOT)
		return c->any_included;
	if (included(c, stripped, ae))
		return true;
	return is_dir_entry(ae) && is_parent_of_included(c, stripped);
}

/* ---- entries --------------------------------------------------------- */

/* The path in the layer of a kept entry (stripped), or a refusal: a
 * whiteout, or a name a layer cannot hold. */
static int layer_path(const actx *c, const char *entry, const char *stripped, char **path, ims_error **err)
{
	if (has_whiteout(stripped)) {
		int r = refuse(c, entry, err,
			       "whiteouts (`.wh.*`) are refused in archive layers: they would delete files of "
			       "the base image");
		ims_error_hint(err, "remove base files with the spec's `delete:` or `opaque:`, or leave the entry out "
				    "with `include`");
		return r;
	}
	char *p = reroot(c, stripped);
	if (!ims_lpath_valid(p)) {
		free(p);
		return refuse(c, entry, err, "not a valid name in a layer (UTF-8 without control characters)");
	}
	*path = p;
	return 0;
}

/* A symlink at path (in the layer) pointing at target must stay in dest. */
static int check_symlink(const actx *c, const char *entry, const char *path, const char *target, ims_error **err)
{
	if (!target || !*target || !ims_lpath_name_ok(target, strlen(target)))
		return refuse(c, entry, err, "symlink with an empty or invalid target");
	if (!link_stays(c, path, target))
		return refuse(c, entry, err, "symlink target `%s` leaves `/%s`", target, c->dest);
	return 0;
}

int ims_layer__archive_entry_path(const char *dest, int strip, const char *name, const char *symlink, char **path,
				  ims_error **err)
{
	*path = NULL;
	actx c = { .shown = "fuzz", .strip = strip };
	if (strip < 0 || (dest && !ims_lpath_abs_clean(dest)))
		return ims_error_set(err, IMS_EINVALID, "bad dest or strip");
	c.dest = dest ? ims_lpath_from_abs(dest) : xstrdup("");
	_cleanup_free_ char *stripped = NULL;
	name_kind kind;
	int r = strip_name(&c, name, "name", name, &kind, &stripped, err);
	/* The archive root is the image root's own entry only below a dest. */
	if (r >= 0 && (kind == NAME_PATH || (kind == NAME_ROOT && *c.dest)))
		r = layer_path(&c, name, stripped, path, err);
	if (r >= 0 && *path && symlink && (r = check_symlink(&c, name, *path, symlink, err)) < 0) {
		free(*path);
		*path = NULL;
	}
	free(c.dest);
	return r;
}

typedef struct {
	struct archive *a;
	const actx *c;
} data_src;

static ssize_t data_read(void *ud, void *p, size_t n, ims_error **err)
{
	data_src *d = ud;
	la_ssize_t r = archive_read_data(d->a, p, n);
	if (r < 0)
		return ims_error_set(err, IMS_ESOURCE, "archive `%s`: %s", d->c->shown, archive_error_string(d->a));
	return r;
}

/* Fills the type-specific part of e, refusing what a layer cannot hold. */
static int entry_type(const actx *c, const char *entry, struct archive_entry *ae, ims_tar_entry *e, char **linkbuf,
		      ims_error **err)
{
	const char *hl = archive_entry_hardlink(ae);
	if (hl) {
		_cleanup_free_ char *stripped = NULL;
		name_kind kind;
		int r = strip_name(c, entry, "hard link target", hl, &kind, &stripped, err);
		if (r < 0)
			return r;
		if (kind != NAME_PATH)
			return refuse(c, entry, err, "hard link target `%s` is not in the layer", hl);
		/* tarw checks that this names an earlier regular file of the layer. */
		e->type = IMS_TAR_HARDLINK;
		e->linkname = *linkbuf = reroot(c, stripped);
		return 0;
	}
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		e->type = IMS_TAR_FILE;
		e->size = archive_entry_size(ae);
		return 0;
	case AE_IFDIR:
		e->type = IMS_TAR_DIR;
		return 0;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(ae);
		int r = check_symlink(c, entry, e->path, t, err);
		if (r < 0)
			return r;
		e->type = IMS_TAR_SYMLINK;
		e->linkname = t;
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
		return refuse(c, entry, err, "device nodes are not allowed in a layer");
	case AE_IFIFO:
		return refuse(c, entry, err, "FIFOs are not allowed in a layer");
	case AE_IFSOCK:
		return refuse(c, entry, err, "sockets are not allowed in a layer");
	default:
		return refuse(c, entry, err, "unsupported entry type");
	}
}

/* Owner and mode come from the archive unless the defaults override them;
 * the time is always normalised. */
static void entry_attrs(const ims_layer_opts *o, struct archive_entry *ae, ims_tar_entry *e)
{
	const ims_layer_attrs *d = &o->defaults;
	e->uid = d->has_uid ? d->uid : archive_entry_uid(ae);
	e->gid = d->has_gid ? d->gid : archive_entry_gid(ae);
	e->perm = archive_entry_perm(ae) & 07777;
	if (e->type == IMS_TAR_DIR && d->has_dir_mode)
		e->perm = d->dir_mode & 07777;
	else if ((e->type == IMS_TAR_FILE || e->type == IMS_TAR_HARDLINK) && d->has_mode)
		e->perm = d->mode & 07777;
	e->mtime = d->has_mtime ? d->mtime : o->created;
}

static int add_entry(const actx *c, const ims_layer_opts *o, struct archive *a, struct archive_entry *ae,
		     ims_tarw *w, ims_error **err)
{
	const char *entry = archive_entry_pathname(ae);
	_cleanup_free_ char *stripped = NULL, *path = NULL, *linkbuf = NULL, *quoted = NULL;
	name_kind kind;
	int r = strip_name(c, entry, "name", entry, &kind, &stripped, err);
	if (r < 0 || kind == NAME_SKIP || !keep(c, kind, stripped, ae))
		return r;
	if (kind == NAME_ROOT) {
		if (!is_dir_entry(ae))
			return refuse(c, entry, err, "the archive root is not a directory");
		/* The image root's metadata is the base's; only a dest below it
		 * takes the archive root's. */
		if (!*c->dest)
			return 0;
	}

	if ((r = layer_path(c, entry, stripped, &path, err)) < 0)
		return r;
	quoted = ims_lpath_quote(entry);
	ims_tar_entry e = { .path = path, .source = quoted };
	if ((r = entry_type(c, entry, ae, &e, &linkbuf, err)) < 0)
		return r;
	entry_attrs(o, ae, &e);

	data_src src = { a, c };
	ims_reader rd = { data_read, NULL, &src };
	r = ims_tarw_add(w, &e, e.type == IMS_TAR_FILE ? &rd : NULL, err);
	if (r < 0) {
		/* tarw calls a bad entry invalid; coming from an archive it is a
		 * source problem (exit 1), not a spec problem (exit 2). */
		if (err && *err && (*err)->code == IMS_EINVALID)
			(*err)->code = r = IMS_ESOURCE;
		ims_error_wrap(err, "archive `%s`", c->shown);
	}
	return r;
}

static int write_entries(actx *c, const ims_layer_opts *o, ims_sink *out, ims_layer_result *res, ims_error **err)
{
	_cleanup_(archive_readp) struct archive *a = NULL;
	_cleanup_(tarwp) ims_tarw *w = NULL;
	struct archive_entry *ae;
	pass_count n = { 0 };
	int r = open_pass(c, &a, err);
	if (r < 0)
		return r;
	if ((r = ims_tarw_open(&w, o->alg, o->level, o->threads, out, err)) < 0)
		return r;
	while ((r = next_entry(c, a, &ae, &n, err)) > 0)
		if ((r = add_entry(c, o, a, ae, w, err)) < 0)
			return r;
	if (r < 0)
		return r;
	return ims_tarw_finish(w, res, err);
}

/* ---- the layer --------------------------------------------------------- */

static int setup(actx *c, const ims_layer_archive *l, const char *archive_path, ims_error **err)
{
	c->shown = l->shown ? l->shown : archive_path;
	c->fd = -1;
	if (l->strip_components < 0)
		return ims_error_set(err, IMS_EINVALID, "archive `%s`: stripComponents must not be negative",
				     c->shown);
	c->strip = l->strip_components;
	c->dest = !l->dest ? xstrdup("") : ims_lpath_abs_clean(l->dest) ? ims_lpath_from_abs(l->dest) : NULL;
	if (!c->dest) {
		_cleanup_free_ char *q = ims_lpath_quote(l->dest);
		return ims_error_set(err, IMS_EINVALID,
				     "archive `%s`: dest `%s` is not a clean absolute path (no `.`, `..` or empty "
				     "components)",
				     c->shown, q);
	}
	/* An empty include list filters nothing, as BuildKit's does. */
	if (l->ninclude) {
		c->include = ims_patterns_new();
		for (size_t i = 0; i < l->ninclude; i++)
			ims_patterns_add(c->include, l->include[i], "");
	}
	c->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!c->utf8)
		c->utf8 = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);

	c->fd = open(archive_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (c->fd < 0)
		return ims_error_sys(err, errno, errno == ENOENT ? IMS_ENOTFOUND : IMS_EGENERIC, "open archive `%s`",
				     c->shown);
	struct stat st;
	if (fstat(c->fd, &st) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "stat archive `%s`", c->shown);
	/* Regular files only: the archive is read more than once. */
	if (!S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_ESOURCE, "archive `%s` is not a regular file", c->shown);
	if (st.st_size > ARCHIVE_MAX_BYTES)
		return ims_error_set(err, IMS_ESOURCE, "archive `%s` is larger than %lld GiB", c->shown,
				     (long long)(ARCHIVE_MAX_BYTES >> 30));
	return 0;
}

static void dispose(actx *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->dest);
	ims_patterns_free(c->include);
	for (size_t i = 0; i < c->nparents; i++)
		free(c->parents[i]);
	free(c->parents);
	if (c->utf8)
		freelocale(c->utf8);
}

int ims_layer_write_archive(const ims_layer_archive *l, const char *archive_path, const ims_layer_opts *o,
			    ims_sink *out, ims_layer_result *res, ims_error **err)
{
	actx c = { 0 };
	int r = setup(&c, l, archive_path, err);
	/* The digest is checked before a single header is parsed. */
	if (r >= 0 && l->sha256 && *l->sha256)
		r = check_sha256(&c, l->sha256, err);
	if (r >= 0 && c.include)
		r = collect_parents(&c, err);
	if (r >= 0)
		r = write_entries(&c, o, out, res, err);
	dispose(&c);
	return r;
}
