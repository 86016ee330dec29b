#include "layer/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/beneath.h"
#include "layer/glob.h"
#include "layer/lpath.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/event.h"
#include "util/fanout.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* One fd stays open per level; deeper trees are refused, not truncated. */
#define MAX_DEPTH 256

/* Directories down to this depth (src is 1) are split among -j threads
 * when they hold at least two subdirectories: deep enough for a tree whose
 * bulk sits one or two levels down (`src: .` over node_modules/PKG). A
 * split into at least BROAD_PARTS directories per thread is enough: below
 * it, nothing is split again (each part costs a copy of the walker, 4 KiB,
 * and a hand-off between threads). */
#define SPLIT_DEPTH 3
#define BROAD_PARTS 4

/* The threads of one mapping's walk, started at its first split (until
 * then a single thread walks, so making them needs no lock). */
typedef struct {
	int threads; /* -j, at most the CPUs; below 2, no split */
	bool tried;
	ims_fanout *f;
	bool own_f;         /* f was started here (not the caller's pool) */
	pthread_mutex_t mu; /* c->out, while parts run */
} splitter;

typedef struct {
	dev_t dev;
	ino_t ino;
} inode;

typedef struct {
	const ims_copy_ctx *c;
	const ims_events *ev;  /* c->o->ev, or a part's own log (see walk_parts) */
	struct batch_s *batch; /* NULL, or a part's entries not in c->out yet */
	splitter *sp;
	bool may_split;        /* false below a broad split */
	const char *where;     /* "SPEC:LINE:COL: " of src (or of the mapping) */
	char *src_canon;       /* canonical src beneath the spec dir */
	char *src_shown;       /* src as the user wrote it, cleaned ("" for ".") */
	ims_patterns *include; /* NULL: everything */
	ims_patterns *exclude;
	ims_patterns *ignore;
	inode stack[MAX_DEPTH + 1]; /* directories being walked, for loops */
	size_t depth;
} walker;

static char *join(const char *a, const char *b)
{
	if (!*a)
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	/* four times for every entry walked: no printf */
	size_t la = strlen(a), lb = strlen(b);
	char *s = xmalloc(la + lb + 2);
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

static char *shown(const walker *w, const char *rel)
{
	char *s = join(w->src_shown, rel);
	if (!*s) {
		free(s);
		return xstrdup(".");
	}
	return s;
}

static uint32_t file_perm(const walker *w, mode_t m)
{
	if (w->c->attrs.has_mode)
		return w->c->attrs.mode;
	/* As git does: only "executable or not" survives from the source. */
	return (m & 0111) ? 0755 : 0644;
}

static uint32_t dir_perm(const walker *w)
{
	return w->c->attrs.has_dir_mode ? w->c->attrs.dir_mode : 0755;
}

/* The entries a part of a split walk has not added to the mapping's list
 * yet (see push). */
#define PART_BATCH 32
typedef struct batch_s {
	ims_fent v[PART_BATCH];
	size_t n;
} batch;

/* Adds the batched entries to the mapping's list, in one go under the
 * lock: the list may grow (and move) meanwhile, so no thread fills an
 * entry of it in place. */
static void flush(const walker *w, batch *b)
{
	if (!b->n)
		return;
	pthread_mutex_lock(&w->sp->mu);
	for (size_t i = 0; i < b->n; i++)
		ims_fents_push(w->c->out, w->c->mapping, &b->v[i]);
	pthread_mutex_unlock(&w->sp->mu);
	b->n = 0;
}

/* Adds e to the mapping's list; in a part of a split walk, through the
 * part's batch. Entries are in the list in the threads' order, but only
 * within the mapping's place: the list is sorted by path (then by
 * mapping) before use, and a mapping's paths differ. */
static void push(const walker *w, const ims_fent *e)
{
	if (!w->batch) {
		ims_fents_push(w->c->out, w->c->mapping, e);
		return;
	}
	w->batch->v[w->batch->n++] = *e;
	if (w->batch->n == PART_BATCH)
		flush(w, w->batch);
}

/* An entry for rel with the mapping's owner and times, not yet pushed. */
static ims_fent entry(const walker *w, const char *rel, ims_tar_type type, const char *shown_path)
{
	ims_fent e = { 0 };
	e.path = join(w->c->dest, rel);
	e.type = type;
	e.uid = w->c->attrs.uid;
	e.gid = w->c->attrs.gid;
	e.mtime = w->c->attrs.mtime;
	e.shown = xstrdup(shown_path);
	if (type == IMS_TAR_DIR)
		e.perm = dir_perm(w);
	else if (type == IMS_TAR_SYMLINK)
		e.perm = 0777;
	return e;
}

static void add(const walker *w, const char *rel, ims_tar_type type, const char *shown_path)
{
	ims_fent e = entry(w, rel, type, shown_path);
	push(w, &e);
}

static void warn(const walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const walker *w, const char *fmt, ...)
{
	if (!w->ev || !w->ev->cb)
		return;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	va_end(ap);
	ims_events_warn(w->ev, "%s", m);
}

/* Names that usually hold secrets, swept in by a broad `src` (anchors item
 * 31). Only a warning: some images mean to carry them. */
static void warn_secret(const walker *w, const char *name, const char *sh, bool is_dir)
{
	static const char *const names[] = { ".env", ".netrc", ".npmrc", ".pypirc", "id_rsa", "id_dsa", "id_ecdsa",
					     "id_ed25519", ".git-credentials" };
	static const char *const exts[] = { ".pem", ".key", ".p12", ".pfx" };
	bool hit = is_dir && !strcmp(name, ".git");
	for (size_t i = 0; !is_dir && !hit && i < IMS_ARRAY_SIZE(names); i++)
		hit = !strcmp(name, names[i]);
	size_t nl = strlen(name);
	for (size_t i = 0; !is_dir && !hit && i < IMS_ARRAY_SIZE(exts); i++) {
		size_t el = strlen(exts[i]);
		hit = nl > el && !strcmp(name + nl - el, exts[i]);
	}
	if (hit)
		warn(w, "%s`%s` may hold secrets and goes into the image; `exclude` it if it should not", w->where, sh);
}

static const ims_layer_skip *skipped(const walker *w, const struct stat *st)
{
	const ims_layer_opts *o = w->c->o;
	for (size_t i = 0; i < o->nskip; i++)
		if (o->skip[i].dev == st->st_dev && o->skip[i].ino == st->st_ino)
			return &o->skip[i];
	return NULL;
}

/* path (as shown) is base or ends with "/" base. */
static bool ends_with(const char *path, const char *base)
{
	size_t pl = strlen(path), bl = strlen(base);
	return pl >= bl && !strcmp(path + pl - bl, base) && (pl == bl || path[pl - bl - 1] == '/');
}

/* What kind of registry credentials a regular file holds, going by its
 * path or its identity; NULL when none. These authenticate pushes: an
 * image must never carry them by accident (issue 9, item 1). */
static const char *credentials(const walker *w, const char *sh, const struct stat *st)
{
	const ims_layer_skip *sk = skipped(w, st);
	if (sk && sk->secret)
		return sk->what;
	if (ends_with(sh, ".docker/config.json"))
		return "a docker config.json";
	if (ends_with(sh, "containers/auth.json"))
		return "a podman auth.json";
	return NULL;
}

static void add_file(const walker *w, const char *rel, const char *canon, const struct stat *st, const char *shown_path)
{
	/* Special bits come only from an explicit mode (SPEC "Modes"). */
	if (!w->c->attrs.has_mode && (st->st_mode & 07000))
		warn(w, "%s`%s`: setuid, setgid and sticky bits are dropped; set `mode` to keep them", w->where,
		     shown_path);
	ims_fent e = entry(w, rel, IMS_TAR_FILE, shown_path);
	e.perm = file_perm(w, st->st_mode);
	e.size = st->st_size;
	e.canon = xstrdup(canon);
	e.dev = st->st_dev;
	e.ino = st->st_ino;
	e.st = *st;
	e.multi_link = st->st_nlink > 1;
	push(w, &e);
}

/* A name in a directory, and whether it may be a directory to descend
 * into (from getdents' type, a symlink when links are followed, or a
 * filesystem that does not say; only a hint, for splitting the walk). */
typedef struct {
	char *name;
	bool dirish;
} dent;

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const dent *)a)->name, ((const dent *)b)->name);
}

static void free_dents(dent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* The names in a directory, sorted, so that walks (and the first error
 * reported) do not depend on the filesystem's order. Read with getdents64
 * on dfd itself: a DIR stream would cost a dup, an fcntl, a seek and a
 * close per directory (2,200 system calls of an unchanged rebuild of the
 * benchmark's 550 directories). dfd is freshly opened, so at its start
 * (a seek back cost another 550, at about a microsecond each on the
 * benchmark's VM); its offset is left at the end, which nothing else
 * reading dfd depends on (the walk only opens and stats names relative to
 * it). */
static int list_dir(int dfd, const char *sh, bool follow, dent **out, size_t *n, ims_error **err)
{
	dent *v = NULL;
	size_t cap = 0, len = 0;
	/* aligned for the records' 8-byte fields */
	union {
		char b[32768];
		uint64_t align;
	} buf;
	ssize_t got;
	while ((got = getdents64(dfd, buf.b, sizeof(buf.b))) > 0) {
		for (ssize_t off = 0; off < got;) {
			const struct dirent64 *de = (const struct dirent64 *)(const void *)(buf.b + off);
			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			v = xgrow(v, &cap, len + 1, sizeof(*v));
			bool dirish = de->d_type == DT_DIR || de->d_type == DT_UNKNOWN ||
				      (follow && de->d_type == DT_LNK);
			v[len++] = (dent){ xstrdup(de->d_name), dirish };
		}
	}
	if (got < 0) {
		int e = errno;
		free_dents(v, len);
		return ims_error_sys(err, e, IMS_ESOURCE, "read directory `%s`", sh);
	}
	if (len)
		qsort(v, len, sizeof(*v), cmp_dent);
	*out = v;
	*n = len;
	return 0;
}

static const char *special_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file, directory or symlink";
}

static int refuse_special(const walker *w, const char *sh, mode_t m, ims_error **err)
{
	int r = ims_error_set(err, IMS_ESOURCE, "%s`%s` is %s", w->where, sh, special_kind(m));
	ims_error_hint(err, "`exclude` it to go on");
	return r;
}

static int check_name(const walker *w, const char *name, const char *sh, ims_error **err)
{
	if (!ims_lpath_name_ok(name, strlen(name))) {
		_cleanup_free_ char *q = ims_lpath_quote(sh);
		return ims_error_set(err, IMS_ESOURCE, "%s`%s`: file names must be UTF-8 without control characters",
				     w->where, q);
	}
	/* A source whiteout would delete files of the base image. */
	if (!strncmp(name, ".wh.", 4))
		return ims_error_set(err, IMS_ESOURCE, "%s`%s`: files named `.wh.*` are refused (they are whiteouts)",
				     w->where, sh);
	return 0;
}

static int link_error(const walker *w, const char *sh, const char *text, int r, ims_error **err)
{
	if (r == -EXDEV)
		return ims_error_set(err, IMS_ESOURCE, "%s`%s` is a symlink to `%s`, outside `%s`", w->where, sh, text,
				     *w->src_shown ? w->src_shown : ".");
	if (r == -ELOOP)
		return ims_error_set(err, IMS_ESOURCE, "%s`%s`: a symlink loop, or a chain of more than 40 symlinks",
				     w->where, sh);
	if (r == -ENOENT || r == -ENOTDIR)
		return ims_error_set(err, IMS_ESOURCE, "%s`%s` is a symlink to `%s`, which does not exist", w->where,
				     sh, text);
	return ims_error_sys(err, -r, IMS_ESOURCE, "%sfollow `%s`", w->where, sh);
}

static int read_link(int dfd, const char *name, const char *sh, char **out, ims_error **err)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return ims_error_sys(err, errno, IMS_ESOURCE, "read symlink `%s`", sh);
	if ((size_t)n >= sizeof(buf) - 1)
		return ims_error_set(err, IMS_ESOURCE, "symlink `%s` is too long", sh);
	*out = xstrndup(buf, (size_t)n);
	return 0;
}

static int walk_dir(walker *w, int dfd, const char *rel, const char *canon, ims_error **err);

/* Opens a directory about to be walked, checking that it is still the one
 * that was stat'ed (a swap to a symlink fails O_NOFOLLOW; any other swap
 * changes the inode) and that it is not one of its own ancestors. */
static int enter(walker *w, int fd, const struct stat *st, const char *rel, const char *canon, const char *sh,
		 ims_error **err)
{
	struct stat now;
	if (fstat(fd, &now) < 0)
		return ims_error_sys(err, errno, IMS_ESOURCE, "stat `%s`", sh);
	if (!S_ISDIR(now.st_mode) || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return ims_error_set(err, IMS_ESOURCE, "%s`%s` changed as we read it", w->where, sh);
	for (size_t i = 0; i < w->depth; i++)
		if (w->stack[i].dev == now.st_dev && w->stack[i].ino == now.st_ino)
			return ims_error_set(err, IMS_ESOURCE, "%s`%s`: symlink loop (it leads back to a parent)",
					     w->where, sh);
	if (w->depth >= MAX_DEPTH)
		return ims_error_set(err, IMS_ESOURCE, "%s`%s` is more than %d directories deep", w->where, sh,
				     MAX_DEPTH);
	w->stack[w->depth++] = (inode){ now.st_dev, now.st_ino };
	int r = walk_dir(w, fd, rel, canon, err);
	w->depth--;
	return r;
}

static bool matches(const ims_patterns *p, const char *rel, bool is_dir)
{
	return p && ims_patterns_match(p, rel, is_dir);
}

/* Adds one directory entry (and what is below it). Returns the number of
 * entries added, or a negative code. */
static int visit(walker *w, int dfd, const char *rel, const char *canon, const char *name, ims_error **err)
{
	const ims_copy_ctx *c = w->c;
	_cleanup_free_ char *crel = join(rel, name);
	_cleanup_free_ char *ccanon = join(canon, name);
	_cleanup_free_ char *sh = shown(w, crel);
	_cleanup_free_ char *text = NULL, *target = NULL;
	struct stat st, eff;
	int rerr = 0, r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return ims_error_set(err, IMS_ESOURCE, "%s`%s` changed as we read it", w->where, sh);
		return ims_error_sys(err, errno, IMS_ESOURCE, "stat `%s`", sh);
	}
	eff = st;
	bool is_link = S_ISLNK(st.st_mode);
	bool follow = is_link && c->m->follow_symlinks;
	if (follow) {
		if ((r = read_link(dfd, name, sh, &text, err)) < 0)
			return r;
		/* Errors wait until we know the link is not excluded. */
		rerr = ims_beneath_resolve_link(c->rootfd, c->root_abs, canon, text, &target, &eff);
		if (rerr == 0 && !ims_beneath_within(target, w->src_canon))
			rerr = -EXDEV;
		if (rerr < 0)
			eff = st;
	}
	/* The build's own output, cache and temp space, found by identity
	 * (SPEC-v1 "Reproducibility": a second build must not take in the
	 * first one's layout). */
	const ims_layer_skip *own = rerr == 0 ? skipped(w, &eff) : NULL;
	bool is_dir = S_ISDIR(eff.st_mode);
	bool excluded = matches(w->exclude, crel, is_dir);
	bool ignored = matches(w->ignore, crel, is_dir);
	bool wanted = !w->include || ims_patterns_match(w->include, crel, is_dir);
	bool visible = wanted && !excluded && !ignored;
	if (own && !own->secret) {
		if (visible) /* else the user's own rules left it out already */
			ims_events_info(w->ev, "`%s` is left out of the layer: it is %s", sh, own->what);
		return 0;
	}
	if (!visible) {
		/* Descend only where a rule below may bring something back. */
		bool descend = is_dir && (!excluded || ims_patterns_may_unmatch_below(w->exclude, crel)) &&
			       (!ignored || ims_patterns_may_unmatch_below(w->ignore, crel)) &&
			       (wanted || ims_patterns_may_match_below(w->include, crel));
		if (!descend)
			return 0;
	}
	if (rerr < 0)
		return link_error(w, sh, text, rerr, err);
	if ((r = check_name(w, name, sh, err)) < 0)
		return r;
	if (visible)
		warn_secret(w, name, sh, is_dir);

	if (is_dir) {
		int fd = follow ? ims_beneath_open(c->rootfd, target, O_RDONLY | O_DIRECTORY)
				: ims_openat_noatime(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ELOOP || errno == ENOTDIR || errno == ENOENT)
				return ims_error_set(err, IMS_ESOURCE, "%s`%s` changed as we read it", w->where, sh);
			return ims_error_sys(err, errno, IMS_ESOURCE, "open `%s`", sh);
		}
		int n = enter(w, fd, &eff, crel, follow ? target : ccanon, sh, err);
		close(fd);
		if (n < 0)
			return n;
		if (visible || n > 0) {
			add(w, crel, IMS_TAR_DIR, sh);
			n++;
		}
		return n;
	}
	if (S_ISREG(eff.st_mode)) {
		const char *cred = visible ? credentials(w, sh, &eff) : NULL;
		if (cred) {
			warn(w,
			     "%s`%s` holds registry credentials (%s) and is left out of the layer; to pack it anyway, "
			     "map it on its own with `src: %s`",
			     w->where, sh, cred, sh);
			return 0;
		}
		add_file(w, crel, follow ? target : ccanon, &eff, sh);
		return 1;
	}
	if (is_link) {
		if ((r = read_link(dfd, name, sh, &text, err)) < 0)
			return r;
		if (!*text || !ims_lpath_name_ok(text, strlen(text))) {
			_cleanup_free_ char *q = ims_lpath_quote(text);
			return ims_error_set(err, IMS_ESOURCE,
					     "%s`%s`: symlink target `%s` is not UTF-8 without control characters",
					     w->where, sh, q);
		}
		ims_fent e = entry(w, crel, IMS_TAR_SYMLINK, sh);
		e.linkname = steal_pointer(&text);
		push(w, &e);
		return 1;
	}
	return refuse_special(w, sh, eff.st_mode, err);
}

static int add_count(int total, int r)
{
	return total > INT_MAX - r ? INT_MAX : total + r;
}

/* Visits names[from..to) of the directory dfd in order, stopping at the
 * first error; the entries added, or the error's code. */
static int visit_names(walker *w, int dfd, const char *rel, const char *canon, const dent *names, size_t from,
		       size_t to, ims_error **err)
{
	int total = 0;
	for (size_t i = from; i < to; i++) {
		int r = visit(w, dfd, rel, canon, names[i].name, err);
		if (r < 0)
			return r;
		total = add_count(total, r);
	}
	return total;
}

/* Whether the walk of a directory with these names is split among
 * threads. */
static bool splits(walker *w, const dent *names, size_t n)
{
	if (!w->may_split || w->sp->threads < 2 || w->depth > SPLIT_DEPTH)
		return false;
	size_t dirs = 0;
	for (size_t i = 0; i < n && dirs < 2; i++)
		dirs += names[i].dirish;
	if (dirs < 2)
		return false;
	if (!w->sp->tried) {
		w->sp->tried = true;
		w->sp->f = w->c->o->pool;
		w->sp->own_f = !w->sp->f;
		if (w->sp->own_f)
			w->sp->f = ims_fanout_new(w->sp->threads);
	}
	return w->sp->f != NULL;
}

/* A run of a directory's names walked by one thread, saying what it says
 * into its own log, by a copy of the walker that split the directory (its
 * stack of parents included). */
typedef struct {
	walker w;
	int dfd;
	const char *rel, *canon;
	const dent *names;
	size_t from, to;
	ims_events_log log;
	int r; /* entries added, or the error's code */
	ims_error *err;
} part;

static void walk_part(void *ud)
{
	part *p = ud;
	batch b; /* on this thread's stack: its pages serve every part it walks */
	b.n = 0;
	p->w.batch = &b;
	p->r = visit_names(&p->w, p->dfd, p->rel, p->canon, p->names, p->from, p->to, &p->err);
	flush(&p->w, &b);
	p->w.batch = NULL;
}

/* The names of a directory walked on the splitter's threads: each name
 * that may be a directory is a part, and so is each run of the others.
 * The parts add their entries as they end (see walk_part). What they said is
 * then said in order, up to the first part that failed, whose error is
 * the walk's: what a walk on one thread says and fails with. */
static int walk_parts(walker *w, int dfd, const char *rel, const char *canon, const dent *names, size_t n,
		      ims_error **err)
{
	part **parts = xcalloc(n, sizeof(*parts));
	size_t np = 0, dirs = 0;
	for (size_t i = 0; i < n; i++)
		dirs += names[i].dirish;
	bool broad = dirs >= (size_t)BROAD_PARTS * (size_t)w->sp->threads;
	for (size_t i = 0; i < n;) {
		size_t to = i + 1;
		while (!names[i].dirish && to < n && !names[to].dirish)
			to++;
		part *p = xmalloc(sizeof(*p));
		*p = (part){ .w = *w, .dfd = dfd, .rel = rel, .canon = canon, .names = names, .from = i, .to = to };
		ims_events_log_init(&p->log);
		p->w.ev = &p->log.ev;
		p->w.may_split = !broad;
		/* The ignore files' rules so far, and those of the part's own
		 * directories as it reads them: a rule applies from its own
		 * directory down, so a part needs no other part's. */
		p->w.ignore = w->ignore ? ims_patterns_clone(w->ignore) : NULL;
		parts[np++] = p;
		i = to;
	}
	ims_fanout_run(w->sp->f, walk_part, (void *const *)parts, np);
	int r = 0, total = 0;
	for (size_t i = 0; i < np; i++) {
		part *p = parts[i];
		if (r >= 0) {
			ims_events_log_replay(&p->log, w->ev);
			if (p->r < 0) {
				r = p->r;
				ims_error_pass(err, &p->err);
			} else {
				total = add_count(total, p->r);
			}
		}
		ims_events_log_dispose(&p->log);
		ims_patterns_free(p->w.ignore);
		ims_error_free(p->err);
		free(p);
	}
	free(parts);
	return r < 0 ? r : total;
}

static int walk_dir(walker *w, int dfd, const char *rel, const char *canon, ims_error **err)
{
	const ims_layer_mapping *m = w->c->m;
	_cleanup_free_ char *sh = shown(w, rel);
	int r = 0;
	const atomic_bool *stop = w->c->o->stop;
	if (stop && atomic_load(stop))
		return ims_error_set(err, IMS_EINTERRUPTED, "the walk of the source files was stopped");

	/* Rules of an ignore file apply from its own directory down. */
	for (size_t i = 0; w->ignore && i < m->nignore_files; i++) {
		if ((r = ims_ignore_load(w->ignore, dfd, m->ignore_files[i].s, rel, err)) < 0)
			return ims_error_wrap(err, "%sread `%s` in `%s`", w->where, m->ignore_files[i].s, sh);
	}
	dent *names = NULL;
	size_t n = 0;
	if ((r = list_dir(dfd, sh, m->follow_symlinks, &names, &n, err)) < 0)
		return r;
	if (splits(w, names, n))
		r = walk_parts(w, dfd, rel, canon, names, n, err);
	else
		r = visit_names(w, dfd, rel, canon, names, 0, n, err);
	free_dents(names, n);
	return r;
}

static ims_patterns *patterns(const char *const *v, size_t n)
{
	if (!n)
		return NULL;
	ims_patterns *p = ims_patterns_new();
	for (size_t i = 0; i < n; i++)
		if (v[i])
			ims_patterns_add(p, v[i], "");
	return p;
}

static int check_ignore_names(const walker *w, ims_error **err)
{
	const ims_layer_mapping *m = w->c->m;
	for (size_t i = 0; i < m->nignore_files; i++) {
		const char *s = m->ignore_files[i].s;
		if (!s || !*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))
			return ims_error_set(err, IMS_EINVALID, "%s`ignoreFiles` entries are file names, not paths: `%s`",
					     m->ignore_files[i].at, s ? s : "");
	}
	return 0;
}

/* Resolves src, following symlinks in it (as docker's COPY does) but never
 * out of the spec directory. */
static int resolve_src(walker *w, struct stat *st, ims_error **err)
{
	const ims_copy_ctx *c = w->c;
	const char *src = c->m->src.s;
	if (!src || !*src)
		return ims_error_set(err, IMS_EINVALID, "%sthe mapping has no `src`", w->where);
	if (src[0] == '/')
		return ims_error_set(err, IMS_EINVALID, "%s`src` `%s` must be relative to the spec directory", w->where,
				     src);
	_cleanup_free_ char *clean = ims_path_clean(src);
	if (!clean)
		return ims_error_set(err, IMS_EINVALID, "%s`src` `%s` leaves the spec directory", w->where, src);
	w->src_shown = strcmp(clean, ".") ? steal_pointer(&clean) : xstrdup("");
	int r = ims_beneath_resolve(c->rootfd, c->root_abs, "", w->src_shown, &w->src_canon, st);
	if (r == -ENOENT || r == -ENOTDIR)
		return ims_error_set(err, IMS_ENOTFOUND, "%s`src` `%s` does not exist", w->where, src);
	if (r == -EXDEV)
		return ims_error_set(err, IMS_ESOURCE, "%s`src` `%s` leads out of the spec directory through a symlink",
				     w->where, src);
	if (r == -ELOOP)
		return ims_error_set(err, IMS_ESOURCE,
				     "%s`src` `%s`: a symlink loop, or a chain of more than 40 symlinks", w->where, src);
	if (r < 0)
		return ims_error_sys(err, -r, IMS_ESOURCE, "%sresolve `src` `%s`", w->where, src);
	return 0;
}

static int copy_dir(walker *w, const struct stat *st, ims_error **err)
{
	const ims_copy_ctx *c = w->c;
	int r = check_ignore_names(w, err);
	if (r < 0)
		return r;
	w->include = patterns(c->m->include, c->m->ninclude);
	w->exclude = patterns(c->m->exclude, c->m->nexclude);
	if (c->m->nignore_files)
		w->ignore = ims_patterns_new();
	/* dest gets the directory's own entry (SPEC "The dest directory"). */
	if (*c->dest)
		add(w, "", IMS_TAR_DIR, *w->src_shown ? w->src_shown : ".");
	int fd = ims_beneath_open(c->rootfd, w->src_canon, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return ims_error_sys(err, errno, IMS_ESOURCE, "%sopen `%s`", w->where, *w->src_shown ? w->src_shown : ".");
	r = enter(w, fd, st, "", w->src_canon, *w->src_shown ? w->src_shown : ".", err);
	close(fd);
	return r < 0 ? r : 0;
}

static int copy_file(walker *w, const struct stat *st, ims_error **err)
{
	const ims_copy_ctx *c = w->c;
	const char *slash = strrchr(w->src_shown, '/');
	const char *base = slash ? slash + 1 : w->src_shown;
	int r = check_name(w, base, w->src_shown, err);
	if (r < 0)
		return r;
	size_t dl = strlen(c->m->dest.s);
	bool into = dl > 0 && c->m->dest.s[dl - 1] == '/';
	if (!into && !*c->dest)
		return ims_error_set(err, IMS_EINVALID, "%s`dest` `/` cannot be a file", c->m->dest.at);
	/* dest/ takes the file by its name; a dest without '/' is the file. */
	const char *cred = credentials(w, w->src_shown, st);
	if (cred)
		warn(w, "%s`%s` holds registry credentials (%s) and goes into the image, as this mapping names it",
		     w->where, w->src_shown, cred);
	else
		warn_secret(w, base, w->src_shown, false);
	add_file(w, into ? base : "", w->src_canon, st, w->src_shown);
	return 0;
}

int ims_layer_copy(const ims_copy_ctx *c, ims_error **err)
{
	walker *w = xcalloc(1, sizeof(*w));
	splitter sp = { ims_fanout_threads(c->o->threads), false, NULL, false, PTHREAD_MUTEX_INITIALIZER };
	w->c = c;
	w->ev = c->o->ev;
	w->sp = &sp;
	w->may_split = true;
	w->where = c->m->src.at;
	struct stat st;
	int r = resolve_src(w, &st, err);
	if (r == 0) {
		if (S_ISDIR(st.st_mode))
			r = copy_dir(w, &st, err);
		else if (S_ISREG(st.st_mode))
			r = copy_file(w, &st, err);
		else
			r = refuse_special(w, w->src_shown, st.st_mode, err);
	}
	if (sp.own_f)
		ims_fanout_free(sp.f);
	ims_patterns_free(w->include);
	ims_patterns_free(w->exclude);
	ims_patterns_free(w->ignore);
	free(w->src_canon);
	free(w->src_shown);
	free(w);
	return r;
}
