/* The stat cache of one source tree (like git's index): path and stat →
 * the sha256 of the file's content, so an unchanged tree is not read to
 * find out it is unchanged. A file is trusted unchanged when its size,
 * mtime and ctime (in ns), inode, device and mode are those recorded. A
 * file whose mtime is less than RACY_NS before it was hashed is not
 * recorded unchanged ("racily clean", as git calls it): a write right
 * after the hash could fall in the same tick of the filesystem's clock and
 * leave every field as it was. Any later write sets mtime to its own time,
 * so a file with an older mtime (written long ago, or given one with
 * touch -d) is safe to record. A racily clean file is still recorded as
 * seen, with its size and mode and a ctime of 0, which no file has (the
 * kernel sets ctime, to the time of the change), so that it is never
 * trusted unchanged but a fresh clone built at once, and built again
 * after the next clone, is hashed and found in the cache, not rebuilt. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define RACY_NS ((int64_t)2000000000)
#define MAX_ENTRIES 1000000
#define MAX_FILE ((size_t)256 << 20)

typedef struct {
	char *path; /* relative to the root: in text when read from the file, else owned */
	int64_t size, mtime_ns, ctime_ns;
	uint64_t ino, dev;
	uint32_t mode;
	char digest[IMS_DIGEST_BUFSZ];
} stat_entry;

struct ims_cache_stats {
	char *file;
	char *text; /* the file as read, each path unescaped in place */
	size_t text_len;
	stat_entry *v;   /* the entries, in the order they came */
	size_t n, vcap;
	uint32_t *slots; /* open addressing keyed by path: index in v + 1, 0 for none */
	size_t cap;
	bool dirty;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Whether e's path is its own allocation, not a piece of the file read. */
static bool owns_path(const ims_cache_stats *s, const char *path)
{
	return !s->text || path < s->text || path >= s->text + s->text_len;
}

static void free_path(const ims_cache_stats *s, char *path)
{
	if (owns_path(s, path))
		free(path);
}

/* The slot of path: where its index is, or where it would go. */
static uint32_t *slot(const ims_cache_stats *s, const char *path)
{
	size_t i = hash(path) & (s->cap - 1);
	while (s->slots[i] && strcmp(s->v[s->slots[i] - 1].path, path))
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static stat_entry *find(const ims_cache_stats *s, const char *path)
{
	if (!s->n)
		return NULL;
	uint32_t k = *slot(s, path);
	return k ? &s->v[k - 1] : NULL;
}

/* The table of slots holds 4 bytes an entry and stays at most half full;
 * the entries themselves are one array, so growing copies no entry. */
static void grow_to(ims_cache_stats *s, size_t cap)
{
	free(s->slots);
	s->cap = cap;
	s->slots = xcalloc(s->cap, sizeof(*s->slots));
	for (size_t i = 0; i < s->n; i++)
		*slot(s, s->v[i].path) = (uint32_t)(i + 1);
}

static void grow(ims_cache_stats *s)
{
	grow_to(s, s->cap ? s->cap * 2 : 1024);
}

/* Room for n entries, made present at once (ims_prefault): the table is
 * read at the start of every build, and its 5,000 entries of the
 * benchmark took 300 page faults as they came. */
static void reserve(ims_cache_stats *s, size_t n)
{
	size_t cap = 1024;
	while (cap < 2 * n && cap < ((size_t)1 << 40))
		cap *= 2;
	if (cap > s->cap)
		grow_to(s, cap);
	ims_prefault(s->slots, s->cap * sizeof(*s->slots));
	s->v = xgrow(s->v, &s->vcap, n, sizeof(*s->v));
	ims_prefault(s->v, s->vcap * sizeof(*s->v));
}

static void put(ims_cache_stats *s, const stat_entry *e)
{
	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	uint32_t *k = slot(s, e->path);
	if (*k) {
		stat_entry *d = &s->v[*k - 1];
		free_path(s, d->path);
		*d = *e;
		return;
	}
	s->v = xgrow(s->v, &s->vcap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = *e;
	*k = (uint32_t)s->n;
}

/* Paths are written with `\\` and newline escaped. */
static void put_path(ims_buf *b, const char *p)
{
	for (; *p; p++) {
		if (*p == '\\')
			ims_buf_puts(b, "\\\\");
		else if (*p == '\n')
			ims_buf_puts(b, "\\n");
		else
			ims_buf_putc(b, *p);
	}
}

/* Unescapes the n bytes at p where they are (the result is never longer),
 * and ends them with a NUL: a path of the table read points into it, one
 * allocation for the whole table instead of one for each of its paths. */
static char *get_path(char *p, size_t n)
{
	char *out = p, *o = out;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n) {
			*o++ = p[i + 1] == 'n' ? '\n' : p[i + 1];
			i++;
		} else {
			*o++ = p[i];
		}
	}
	*o = '\0';
	return out;
}

/* One number of a line, then its single space; false on anything else. The
 * table is read at the start of every build, so this is strtoll, not
 * sscanf, which took about a tenth of the CPU time of an unchanged build of
 * 5,000 files (perf stat: 63-68 ms with it, 57-59 ms without). */
static bool num(const char **p, bool sign, int base, unsigned long long *v)
{
	char *end;
	errno = 0;
	if (sign)
		*v = (unsigned long long)strtoll(*p, &end, base);
	else if (**p >= '0' && **p <= '9')
		*v = strtoull(*p, &end, base);
	else
		return false;
	if (errno || end == *p || *end != ' ')
		return false;
	*p = end + 1;
	return true;
}

/* 64 lowercase hex digits, as the table is written (ims_digest_valid, for
 * the 5,000 lines of a table, was a tenth of the time it takes to read). */
static bool hex64(const char *p)
{
	for (int i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static void parse_line(ims_cache_stats *s, char *line, size_t len)
{
	unsigned long long size, mt, ct, ino, dev, mode;
	if (len <= 65 || line[64] != ' ' || !hex64(line))
		return;
	const char *p = line + 65;
	if (!num(&p, true, 10, &size) || !num(&p, true, 10, &mt) ||
	    !num(&p, true, 10, &ct) || !num(&p, false, 10, &ino) || !num(&p, false, 10, &dev) ||
	    !num(&p, false, 8, &mode) || mode > UINT32_MAX || (size_t)(p - line) >= len)
		return; /* a line that cannot be read is skipped: it is only a hint */
	stat_entry e = { .size = (int64_t)size,
			 .mtime_ns = (int64_t)mt,
			 .ctime_ns = (int64_t)ct,
			 .ino = ino,
			 .dev = dev,
			 .mode = (uint32_t)mode };
	memcpy(e.digest, "sha256:", 7);
	memcpy(e.digest + 7, line, 64);
	e.digest[71] = '\0';
	size_t at = (size_t)(p - line); /* p reads line; the path is unescaped in line */
	e.path = get_path(line + at, len - at);
	put(s, &e);
}

ims_cache_stats *ims_cache_stats_load(ims_cache *c, const char *root)
{
	char key[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(root, strlen(root), key);
	ims_cache_stats *s = xcalloc(1, sizeof(*s));
	s->file = ims_cache__path(c, "stats", ims_digest_hex(key));
	char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	if (ims_read_file(s->file, MAX_FILE, &data, &len, &e) < 0) {
		ims_error_free(e);
		return s;
	}
	s->text = data;
	s->text_len = len + 1; /* and its NUL */
	/* Lines long enough to be read (see parse_line): a damaged table of
	 * empty lines reserves nothing. */
	size_t lines = 0;
	for (const char *p = data, *nl; (nl = memchr(p, '\n', len - (size_t)(p - data))); p = nl + 1)
		lines += nl - p > 65;
	reserve(s, lines < MAX_ENTRIES ? lines : MAX_ENTRIES);
	for (size_t i = 0; i < len && s->n < MAX_ENTRIES;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
		data[i + n] = '\0';
		parse_line(s, data + i, n);
		i += n + 1;
	}
	return s;
}

static bool same(const stat_entry *e, const struct stat *st)
{
	return e->size == st->st_size && e->ino == st->st_ino && e->dev == st->st_dev && e->mode == st->st_mode &&
	       e->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec &&
	       e->ctime_ns == (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

bool ims_cache_stats_lookup(ims_cache_stats *s, const char *path, const struct stat *st, char digest[IMS_DIGEST_BUFSZ])
{
	if (!s)
		return false;
	const stat_entry *e = find(s, path);
	if (!e || !same(e, st))
		return false;
	memcpy(digest, e->digest, IMS_DIGEST_BUFSZ);
	return true;
}

bool ims_cache_stats_seen(ims_cache_stats *s, const char *path, const struct stat *st)
{
	if (!s)
		return false;
	const stat_entry *e = find(s, path);
	return e && e->size == st->st_size && e->mode == st->st_mode;
}

void ims_cache_stats_learn(ims_cache_stats *s, const char *path, const struct stat *st, const char *digest)
{
	if (!s || !ims_digest_valid(digest) || s->n >= MAX_ENTRIES)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	int64_t ct = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	if (now_ns - mt < RACY_NS)
		ct = 0; /* racily clean: seen, hashed again next time */
	stat_entry e = { .path = xstrdup(path),
			 .size = st->st_size,
			 .mtime_ns = mt,
			 .ctime_ns = ct,
			 .ino = st->st_ino,
			 .dev = st->st_dev,
			 .mode = st->st_mode };
	memcpy(e.digest, digest, IMS_DIGEST_BUFSZ);
	put(s, &e);
	s->dirty = true;
}

void ims_cache_stats_free(ims_cache_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free_path(s, s->v[i].path);
	free(s->text);
	free(s->v);
	free(s->slots);
	free(s->file);
	free(s);
}

void ims_cache_stats_save(ims_cache_stats *s)
{
	if (!s)
		return;
	if (s->dirty) {
		ims_buf b = IMS_BUF_INIT(0);
		for (size_t i = 0; i < s->n; i++) {
			const stat_entry *e = &s->v[i];
			ims_buf_printf(&b, "%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRIu64 " %" PRIu64 " %o ",
				       ims_digest_hex(e->digest), e->size, e->mtime_ns, e->ctime_ns, e->ino, e->dev,
				       e->mode);
			put_path(&b, e->path);
			ims_buf_putc(&b, '\n');
		}
		size_t len = 0;
		_cleanup_free_ char *text = ims_buf_steal(&b, &len);
		ims_error *e = NULL;
		/* a table that cannot be written costs a re-read next time, no more */
		if (ims_write_file_atomic(s->file, text ? text : "", len, 0600, &e) < 0)
			ims_error_free(e);
	}
	ims_cache_stats_free(s);
}
