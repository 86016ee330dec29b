#include "layer/entries.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/sha256_stream.h"
#include "layer/beneath.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fanout.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* Entries made present ahead, at a time: 256 KiB, one system call where a
 * page fault per 4 KiB would be. */
#define WARM_AHEAD ((size_t)(256 * 1024) / sizeof(ims_fent))

/* Files from this size on are read with POSIX_FADV_SEQUENTIAL. */
#define IMS_FADVISE_MIN ((off_t)128 * 1024)

ims_fent *ims_fents_add(ims_fents *l, size_t mapping)
{
	size_t cap = l->cap;
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	if (l->cap != cap && l->warm > l->n)
		l->warm = l->n; /* moved: what is past n is new */
	if (l->n >= l->warm) {
		size_t to = l->n + WARM_AHEAD < l->cap ? l->n + WARM_AHEAD : l->cap;
		ims_prefault(&l->v[l->n], (to - l->n) * sizeof(*l->v));
		l->warm = to;
	}
	ims_fent *e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->mapping = mapping;
	e->seq = l->n++;
	return e;
}

void ims_fents_push(ims_fents *l, size_t mapping, const ims_fent *e)
{
	ims_fent *d = ims_fents_add(l, mapping);
	size_t seq = d->seq;
	*d = *e;
	d->mapping = mapping;
	d->seq = seq;
}

static void fent_dispose(ims_fent *e)
{
	free(e->path);
	free(e->linkname);
	free(e->canon);
	free(e->shown);
	memset(e, 0, sizeof(*e));
}

void ims_fents_dispose(ims_fents *l)
{
	for (size_t i = 0; i < l->n; i++)
		fent_dispose(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_path_seq(const void *a, const void *b)
{
	const ims_fent *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "a directory from `vendor/x` (image.yaml:12:5)" or, for entries the
 * spec itself spells out, "a file from image.yaml:14:5". */
static char *describe(const ims_fent *e, const ims_layer_mapping *maps)
{
	const char *kind = e->type == IMS_TAR_DIR ? "a directory" : e->type == IMS_TAR_SYMLINK ? "a symlink" : "a file";
	_cleanup_free_ char *w = xstrdup(maps[e->mapping].at);
	size_t wl = strlen(w);
	if (wl >= 2)
		w[wl - 2] = '\0'; /* drop the ": " */
	if (e->shown)
		return *w ? xasprintf("%s from `%s` (%s)", kind, e->shown, w) : xasprintf("%s from `%s`", kind, e->shown);
	return *w ? xasprintf("%s from %s", kind, w) : xasprintf("%s from mapping %zu", kind, e->mapping + 1);
}

static int clash(const ims_fent *earlier, const ims_fent *later, const char *what, const ims_layer_mapping *maps,
		 ims_error **err)
{
	_cleanup_free_ char *a = describe(earlier, maps);
	_cleanup_free_ char *b = describe(later, maps);
	return ims_error_set(err, IMS_EINVALID, "%s`/%s` is %s, but %s %s", maps[later->mapping].at, earlier->path, a,
			     b, what);
}

static bool same_dir(const ims_fent *a, const ims_fent *b)
{
	return a->type == IMS_TAR_DIR && b->type == IMS_TAR_DIR && a->perm == b->perm && a->uid == b->uid &&
	       a->gid == b->gid && a->mtime == b->mtime;
}

/* One entry per path. SPEC-v1 is silent on two mappings of a layer that
 * give one path, so nothing is overridden silently (anchors-reliability.md
 * item 12, issue 9 item 8): directories that agree on their metadata merge
 * (two trees copied into one `/app/`); any other pair is refused, naming
 * both mappings. Layers still override each other, as they do in docker. */
static int merge(ims_fents *l, const ims_layer_mapping *maps, ims_error **err)
{
	size_t out = 0;
	for (size_t i = 0; i < l->n;) {
		size_t j = i + 1;
		while (j < l->n && !strcmp(l->v[j].path, l->v[i].path))
			j++;
		ims_fent *keep = &l->v[j - 1];
		for (size_t k = i; k + 1 < j; k++) {
			const ims_fent *a = &l->v[k], *b = &l->v[k + 1];
			if (same_dir(a, b))
				continue;
			int r;
			if (a->type == IMS_TAR_DIR && b->type == IMS_TAR_DIR)
				r = clash(a, b, "gives it another mode, owner or time", maps, err);
			else
				r = clash(a, b, "has the same path", maps, err);
			ims_error_hint(err, "a path takes one entry per layer: `exclude` it from one mapping, make the "
					    "two agree, or move one to a layer of its own");
			return r;
		}
		for (size_t k = i; k + 1 < j; k++)
			fent_dispose(&l->v[k]);
		if (out != j - 1)
			l->v[out] = *keep;
		out++;
		i = j;
	}
	l->n = out;
	return 0;
}

static ims_fent *find(const ims_fents *l, const char *path)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].path, path);
		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Nothing may sit below a file or a symlink of the same layer: extraction
 * would fail, or write through the link (anchors item 13). */
static int check_parents(const ims_fents *l, const ims_layer_mapping *maps, ims_error **err)
{
	for (size_t i = 0; i < l->n; i++) {
		_cleanup_free_ char *p = xstrdup(l->v[i].path);
		char *s;
		while ((s = strrchr(p, '/'))) {
			*s = '\0';
			const ims_fent *parent = find(l, p);
			if (!parent)
				continue;
			if (parent->type != IMS_TAR_DIR)
				return clash(parent, &l->v[i], "needs it to be a directory", maps, err);
			break; /* that directory's own parents were checked with it */
		}
	}
	return 0;
}

static int cmp_inode(const void *a, const void *b)
{
	const ims_fent *x = *(ims_fent *const *)a, *y = *(ims_fent *const *)b;
#define CMP(f)                      \
	if (x->f != y->f)           \
		return x->f < y->f ? -1 : 1
	CMP(dev);
	CMP(ino);
	CMP(perm);
	CMP(uid);
	CMP(gid);
	CMP(mtime);
	CMP(size);
#undef CMP
	return x < y ? -1 : x > y; /* then in path order: the list is sorted */
}

/* Links to one file (same device and inode) become a regular entry at the
 * first path and hard links to it after, so the target is always an
 * earlier entry of this layer. Only entries with the same header metadata
 * are joined: a hard link cannot carry a mode or owner of its own. */
static void settle_hardlinks(ims_fents *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == IMS_TAR_FILE && l->v[i].canon && l->v[i].multi_link)
			n++;
	if (n < 2)
		return;
	ims_fent **v = xcalloc(n, sizeof(*v));
	n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == IMS_TAR_FILE && l->v[i].canon && l->v[i].multi_link)
			v[n++] = &l->v[i];
	qsort(v, n, sizeof(*v), cmp_inode);
	size_t head = 0;
	for (size_t i = 1; i <= n; i++) {
		bool same = i < n && v[i]->dev == v[head]->dev && v[i]->ino == v[head]->ino &&
			    v[i]->perm == v[head]->perm && v[i]->uid == v[head]->uid && v[i]->gid == v[head]->gid &&
			    v[i]->mtime == v[head]->mtime && v[i]->size == v[head]->size;
		if (same) {
			v[i]->type = IMS_TAR_HARDLINK;
			v[i]->linkname = xstrdup(v[head]->path);
			v[i]->size = 0;
			continue;
		}
		head = i;
	}
	free(v);
}

/* Tar bytes of an entry, counting a pax header for long names. */
static int64_t tar_bytes(const ims_fent *e)
{
	int64_t n = 512 + (strlen(e->path) > 99 ? 1024 : 0);
	if (e->type == IMS_TAR_FILE)
		n += (e->size + 511) / 512 * 512;
	return n;
}

int ims_fents_finalize(ims_fents *l, const ims_layer_mapping *maps, ims_error **err)
{
	qsort(l->v, l->n, sizeof(*l->v), cmp_path_seq);
	int r = merge(l, maps, err);
	if (r < 0)
		return r;
	if ((r = check_parents(l, maps, err)) < 0)
		return r;
	settle_hardlinks(l);
	int64_t total = 1024;
	for (size_t i = 0; i < l->n; i++) {
		total += tar_bytes(&l->v[i]);
		if (total > IMS_LAYER_MAX_TAR_SIZE)
			return ims_error_set(err, IMS_ESOURCE,
					     "the layer would exceed the limit of %lld GiB (at `%s`)",
					     (long long)(IMS_LAYER_MAX_TAR_SIZE >> 30),
					     l->v[i].shown ? l->v[i].shown : l->v[i].path);
	}
	return 0;
}

/* The directory of the last file opened: entries are sorted, so files of
 * one directory mostly come together. */
typedef struct {
	char *dir;
	int fd;
} dircache;

static int changed_error(const ims_fent *e, ims_error **err)
{
	return ims_error_set(err, IMS_ESOURCE, "`%s` changed as we read it", e->shown);
}

/* Whether st is the file e was walked as, whole: a regular file with its
 * identity and size. */
static bool same_file(const struct stat *st, const ims_fent *e)
{
	return S_ISREG(st->st_mode) && st->st_dev == e->dev && st->st_ino == e->ino && st->st_size == e->size;
}

/* Opens e's source. check: make sure before the first byte is read that it
 * is the file walked (bytes that go into a layer may be on their way to a
 * registry before the file is done); else the caller checks once it has
 * read, with the fstat it makes anyway (read_hashed). */
static int open_source(int rootfd, dircache *dc, const ims_fent *e, bool check, int *out, ims_error **err)
{
	const char *slash = strrchr(e->canon, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(e->canon, (size_t)(slash - e->canon)) : xstrdup("");
	const char *base = slash ? slash + 1 : e->canon;

	if (!dc->dir || strcmp(dc->dir, dir)) {
		if (dc->fd >= 0)
			close(dc->fd);
		free(dc->dir);
		dc->dir = NULL;
		dc->fd = ims_beneath_open(rootfd, dir, O_PATH | O_DIRECTORY);
		if (dc->fd < 0)
			goto failed;
		dc->dir = steal_pointer(&dir);
	}
	/* O_NONBLOCK: should a FIFO have been swapped in, open must not hang. */
	int fd = ims_openat_noatime(dc->fd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		goto failed;
	struct stat st;
	if (check && fstat(fd, &st) < 0) {
		int e2 = errno;
		close(fd);
		return ims_error_sys(err, e2, IMS_ESOURCE, "stat `%s`", e->shown);
	}
	if (check && !same_file(&st, e)) {
		close(fd);
		return changed_error(e, err);
	}
	/* A bigger read-ahead matters only beyond the kernel's default window
	 * (128 KiB); a call for every small file cost more than it gained. */
	if (e->size >= IMS_FADVISE_MIN)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*out = fd;
	return 0;
failed:
	if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
		return changed_error(e, err);
	return ims_error_sys(err, errno, IMS_ESOURCE, "open `%s`", e->shown);
}

size_t ims_fents_known(ims_fents *l, const ims_layer_hashes *h, size_t *unseen)
{
	size_t unknown = 0, fresh = 0;
	for (size_t i = 0; i < l->n; i++) {
		ims_fent *e = &l->v[i];
		if (e->type != IMS_TAR_FILE || *e->digest)
			continue;
		if (e->mem) {
			ims_sha256_buf(e->mem, (size_t)e->size, e->digest);
		} else if (!h || !h->lookup || !h->lookup(h->ud, e->canon, &e->st, e->digest)) {
			unknown++;
			fresh += !h || !h->seen || !h->seen(h->ud, e->canon, &e->st);
		}
	}
	if (unseen)
		*unseen = fresh;
	return unknown;
}

/* Whether st, of the file just read, has the times e was walked with: a
 * file written meanwhile gets a new mtime and ctime. */
static bool same_times(const struct stat *st, const ims_fent *e)
{
	return st->st_mtim.tv_sec == e->st.st_mtim.tv_sec && st->st_mtim.tv_nsec == e->st.st_mtim.tv_nsec &&
	       st->st_ctim.tv_sec == e->st.st_ctim.tv_sec && st->st_ctim.tv_nsec == e->st.st_ctim.tv_nsec;
}

/* A file's bytes up to the size it was walked with, and then an end
 * without asking the system: that the file did not grow is told by the
 * fstat after the read, which the changed check makes anyway (one read
 * call fewer per file). */
typedef struct {
	ims_reader fd;
	int64_t left;
	const atomic_bool *stop; /* a hash only: ends it at the next read (may be NULL) */
} sized_reader;

static ssize_t sized_read(void *ud, void *p, size_t n, ims_error **err)
{
	sized_reader *s = ud;
	if (s->stop && atomic_load(s->stop))
		return ims_error_set(err, IMS_EINTERRUPTED, "the hashing of the source files was stopped");
	if (s->left <= 0)
		return 0;
	ssize_t got = s->fd.read(s->fd.ud, p, (int64_t)n < s->left ? n : (size_t)s->left, err);
	if (got > 0)
		s->left -= got;
	return got;
}

/* Tells the stat cache e's content hash, unless e changed as it was read
 * (its walk stat would then stand for other bytes). */
static void learn(const ims_layer_hashes *h, const ims_fent *e)
{
	if (h && h->learn && !e->changed)
		h->learn(h->ud, e->canon, &e->st, e->digest);
}

/* Reads e's source through a hash into a tar writer w, or nowhere (its
 * content hash only). Either way one fstat after the read says that the
 * bytes read were the walked file's, whole; for a hash only, that is the
 * check (nothing read has left the process), for a tar writer, the file
 * was checked at open too. Four system calls a file for a hash (open,
 * read, fstat, close), five for a layer. */
static int read_hashed(int rootfd, dircache *dc, ims_fent *e, ims_tarw *w, const ims_tar_entry *te,
		       const atomic_bool *stop, ims_error **err)
{
	int fd = -1;
	int r = open_source(rootfd, dc, e, w != NULL, &fd, err);
	if (r < 0)
		return r;
	sized_reader sized = { ims_reader_fd(fd), e->size, stop };
	ims_reader src = { sized_read, NULL, &sized };
	ims_sha256_reader hr;
	ims_sha256_reader_init(&hr, &src);
	if (w) {
		r = ims_tarw_add(w, te, &hr.reader, err);
	} else {
		ims_sink null = ims_sink_null();
		long long n = 0;
		r = ims_stream_copy(&hr.reader, &null, &n, err);
		if (r >= 0 && n != e->size)
			r = changed_error(e, err);
	}
	struct stat st;
	bool whole = fstat(fd, &st) == 0 && same_file(&st, e);
	if (!whole && (r >= 0 || !w)) {
		/* another file, or one that grew: what was read is not the
		 * walked file (a read error of a hash too: a FIFO swapped in) */
		ims_error_clear(err);
		r = changed_error(e, err);
	}
	if (r >= 0) {
		ims_sha256_reader_final(&hr, e->digest);
		e->changed = !same_times(&st, e);
	} else {
		ims_sha256_reader_dispose(&hr);
	}
	close(fd);
	return r;
}

/* A run of the files to hash, read by one thread (see ims_fents_hash). */
typedef struct {
	ims_fents *l;
	int rootfd;
	const atomic_bool *stop; /* may be NULL */
	const size_t *todo;    /* indexes into l->v */
	size_t from, to;       /* of todo */
	size_t done;           /* todo[from..done) are hashed */
	atomic_size_t *failed; /* the first part that failed, so far */
	size_t index;          /* of this part */
	int r;
	ims_error *err;
} hash_part;

static void hash_run(void *ud)
{
	hash_part *p = ud;
	dircache dc = { NULL, -1 };
	p->done = p->from;
	/* Parts after one that failed are not read: with one thread, the
	 * hashing stops at the first error, as it always did. */
	for (; p->done < p->to && atomic_load(p->failed) > p->index; p->done++) {
		if ((p->r = read_hashed(p->rootfd, &dc, &p->l->v[p->todo[p->done]], NULL, NULL, p->stop, &p->err)) < 0) {
			size_t was = atomic_load(p->failed);
			while (was > p->index && !atomic_compare_exchange_weak(p->failed, &was, p->index))
				;
			break;
		}
	}
	if (dc.fd >= 0)
		close(dc.fd);
	free(dc.dir);
}

/* Reading for a content hash is a read and a sha256 per file, on `threads`
 * threads at once (a fresh clone, a fresh CI runner with --cache-from,
 * read every file before the recipe is known): the files are cut into
 * runs of HASH_PART_BYTES or HASH_PART_FILES, whichever comes first:
 * small enough that the threads end together (a run takes about 1 ms; at
 * 4 MiB, one thread went on alone for up to 6 ms of a fresh runner's
 * 120), and large enough that handing runs out costs nothing. The
 * hashes are told to h in the list's order, and the error is that of the
 * first file in that order that failed: what one thread would give. */
#define HASH_PART_BYTES ((int64_t)1 << 20)
#define HASH_PART_FILES 64

int ims_fents_hash(ims_fents *l, int rootfd, const ims_layer_opts *o, const ims_layer_hashes *h, ims_error **err)
{
	const atomic_bool *stop = o->stop;
	size_t *todo = xcalloc(l->n ? l->n : 1, sizeof(*todo));
	size_t ntodo = 0;
	for (size_t i = 0; i < l->n; i++) {
		const ims_fent *e = &l->v[i];
		if (e->type == IMS_TAR_FILE && !*e->digest && e->canon)
			todo[ntodo++] = i;
	}
	hash_part **parts = xcalloc(ntodo ? ntodo : 1, sizeof(*parts));
	size_t np = 0;
	atomic_size_t failed;
	atomic_init(&failed, SIZE_MAX);
	for (size_t i = 0; i < ntodo;) {
		size_t to = i;
		int64_t bytes = 0;
		while (to < ntodo && to - i < HASH_PART_FILES && bytes < HASH_PART_BYTES)
			bytes += l->v[todo[to++]].size;
		hash_part *p = xcalloc(1, sizeof(*p));
		*p = (hash_part){
			.l = l, .rootfd = rootfd, .stop = stop, .todo = todo, .from = i, .to = to, .failed = &failed,
			.index = np
		};
		parts[np++] = p;
		i = to;
	}
	ims_fanout *own = np > 1 && !o->pool ? ims_fanout_new(ims_fanout_threads(o->threads)) : NULL;
	ims_fanout_run(o->pool ? o->pool : own, hash_run, (void *const *)parts, np);
	ims_fanout_free(own);
	int r = 0;
	for (size_t k = 0; k < np; k++) {
		hash_part *p = parts[k];
		for (size_t i = p->from; r >= 0 && i < p->done; i++)
			learn(h, &l->v[todo[i]]);
		if (r >= 0 && p->r < 0) {
			r = p->r;
			ims_error_pass(err, &p->err);
		}
		ims_error_free(p->err);
		free(p);
	}
	free(parts);
	free(todo);
	return r < 0 ? r : 0;
}

/* A string with its length first: no text can end one field early. */
static void put_str(ims_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	ims_buf_putc(b, ' ');
	ims_buf_put_int(b, (long long)n, 10);
	ims_buf_putc(b, ':');
	ims_buf_putn(b, s ? s : "", n);
}

int ims_fents_describe(const ims_fents *l, ims_sink *out, ims_error **err)
{
	ims_buf b = IMS_BUF_INIT(0);
	int r = 0;
	for (size_t i = 0; i < l->n && r >= 0; i++) {
		const ims_fent *e = &l->v[i];
		if (e->type == IMS_TAR_FILE && !*e->digest) {
			r = ims_error_set(err, IMS_EGENERIC, "`%s`: its content hash is not known", e->path);
			break;
		}
		/* "entry %d %o %lld %lld %lld %lld", without printf's cost. */
		const long long f[] = { (int)e->type, e->perm, e->uid, e->gid, e->mtime, e->size };
		ims_buf_puts(&b, "entry");
		for (size_t k = 0; k < IMS_ARRAY_SIZE(f); k++) {
			ims_buf_putc(&b, ' ');
			ims_buf_put_int(&b, f[k], k == 1 ? 8 : 10);
		}
		put_str(&b, e->path);
		put_str(&b, e->linkname);
		put_str(&b, e->type == IMS_TAR_FILE ? e->digest : "");
		ims_buf_putc(&b, '\n');
		if (b.len > 65536 || i + 1 == l->n) {
			r = ims_sink_write(out, b.data, b.len, err);
			ims_buf_reset(&b);
		}
	}
	ims_buf_dispose(&b);
	return r < 0 ? r : 0;
}

int ims_fents_write(ims_fents *l, int rootfd, const ims_layer_opts *o, const ims_layer_hashes *h, ims_sink *out,
		    ims_layer_result *res, ims_error **err)
{
	ims_tarw *w = NULL;
	dircache dc = { NULL, -1 };
	int r = ims_tarw_open(&w, o->alg, o->level, o->threads, out, err);
	if (r == 0 && o->progress) {
		int64_t total = 0;
		for (size_t i = 0; i < l->n; i++)
			total += l->v[i].type == IMS_TAR_FILE ? l->v[i].size : 0;
		ims_tarw_progress(w, o->ev, o->progress, total);
	}
	for (size_t i = 0; i < l->n && r == 0; i++) {
		ims_fent *e = &l->v[i];
		ims_tar_entry te = {
			.path = e->path,
			.type = e->type,
			.perm = e->perm,
			.uid = e->uid,
			.gid = e->gid,
			.mtime = e->mtime,
			.size = e->size,
			.linkname = e->linkname,
			.source = e->shown,
		};
		if (e->type == IMS_TAR_FILE && e->mem) {
			r = ims_tarw_add_buf(w, &te, e->mem, (size_t)e->size, err);
		} else if (e->type == IMS_TAR_FILE && e->canon) {
			bool known = *e->digest;
			if ((r = read_hashed(rootfd, &dc, e, w, &te, NULL, err)) < 0)
				break;
			if (!known)
				learn(h, e);
		} else {
			r = ims_tarw_add(w, &te, NULL, err);
		}
	}
	if (r == 0)
		r = ims_tarw_finish(w, res, err);
	ims_tarw_free(w);
	if (dc.fd >= 0)
		close(dc.fd);
	free(dc.dir);
	return r;
}
