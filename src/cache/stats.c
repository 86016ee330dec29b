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
 * after the next clone, is hashed and found in the cache, not rebuilt. *
 * The table is one file, written whole and renamed into place, and read
 * whole at the start of every build, so it is kept in binary, looked up
 * where it was read (no line is parsed, no entry copied), and checked by a
 * sha256 of all of it:
 *
 *   header   "ims-stat", u32 version (2), u32 n, u32 nslots, u32 0,
 *            u64 paths_len (32 bytes)
 *   records  n x 88 bytes: i64 size, mtime_ns, ctime_ns; u64 ino, dev,
 *            path_off; u32 path_len, mode; the 32 bytes of the sha256 of
 *            the file's content
 *   slots    nslots x u32: the index + 1 of the record whose path's
 *            FNV-1a hash, or a later free slot, lands there; 0 is none
 *            (nslots is a power of two, at least twice n)
 *   paths    paths_len bytes: each record's path, then a NUL
 *   trailer  "sha256:" and the hex of every byte before it (71 bytes)
 *
 * all little-endian. A table damaged anywhere (its trailer tells), of
 * another version or in the text of imagespec before it is not read at
 * all: the table is only a hint, so its files are read again, and the
 * table is written anew. What a build learns is kept beside the table
 * read, and the two are merged when it is saved. */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache_int.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define RACY_NS ((int64_t)2000000000)
#define MAX_ENTRIES 1000000
#define MAX_FILE ((size_t)256 << 20)

#define MAGIC "ims-stat"
#define VERSION 2
#define HEADER 32
#define RECORD 88
#define TRAILER IMS_DIGEST_LEN

/* One entry, learned in this build or read from the table. */
typedef struct {
	char *path; /* owned; NULL for an entry of the table read (rec_path) */
	int64_t size, mtime_ns, ctime_ns;
	uint64_t ino, dev;
	uint32_t mode;
	const unsigned char *raw; /* the table's 32 bytes of the digest; NULL: digest has it */
	char digest[IMS_DIGEST_BUFSZ];
} stat_entry;

/* The table as read: everything points into data. */
typedef struct {
	char *data;
	const unsigned char *recs;
	const unsigned char *slots;
	const char *paths;
	uint32_t n, nslots;
	uint64_t paths_len;
} table;

struct ims_cache_stats {
	char *file;
	table t;
	stat_entry *v; /* learned in this build, in the order they came */
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

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static void put64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

/* ---- the table read ---- */

/* Whether every count and offset of the table in data[0..len) holds, and
 * its trailer is the sha256 of the rest. */
static bool table_valid(table *t, char *data, size_t len)
{
	const unsigned char *d = (const unsigned char *)data;
	if (len < HEADER + TRAILER || memcmp(d, MAGIC, 8) || get32(d + 8) != VERSION || get32(d + 20) != 0)
		return false;
	uint64_t n = get32(d + 12), nslots = get32(d + 16), paths_len = get64(d + 24);
	if (n > MAX_ENTRIES || nslots < 2 * n || nslots < 1 || nslots > ((uint64_t)4 << 20) ||
	    (nslots & (nslots - 1)) || paths_len > len ||
	    (uint64_t)HEADER + n * RECORD + nslots * 4 + paths_len + TRAILER != len)
		return false;
	char sum[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len - TRAILER, sum);
	if (memcmp(sum, data + len - TRAILER, TRAILER))
		return false;
	t->data = data;
	t->recs = d + HEADER;
	t->slots = t->recs + n * RECORD;
	t->paths = (const char *)(t->slots + nslots * 4);
	t->n = (uint32_t)n;
	t->nslots = (uint32_t)nslots;
	t->paths_len = paths_len;
	/* each record's path within the paths, and ended there */
	for (uint32_t i = 0; i < t->n; i++) {
		const unsigned char *r = t->recs + (size_t)i * RECORD;
		uint64_t off = get64(r + 40), plen = get32(r + 48);
		if (off > paths_len || plen >= paths_len - off || t->paths[off + plen] != '\0')
			return false;
	}
	return true;
}

static const char *rec_path(const table *t, const unsigned char *r)
{
	return t->paths + get64(r + 40);
}

/* r's fields, but its path (rec_path gives it); its digest stays in raw,
 * spelled out only for a lookup that needs it. */
static void rec_entry(const unsigned char *r, stat_entry *e)
{
	e->path = NULL;
	e->size = (int64_t)get64(r);
	e->mtime_ns = (int64_t)get64(r + 8);
	e->ctime_ns = (int64_t)get64(r + 16);
	e->ino = get64(r + 24);
	e->dev = get64(r + 32);
	e->mode = get32(r + 52);
	e->raw = r + 56;
}

/* The record of path in the table read, or NULL. At most nslots probes:
 * a table whose slots were all taken still ends. */
static const unsigned char *table_find(const table *t, const char *path)
{
	if (!t->data)
		return NULL;
	uint32_t mask = t->nslots - 1, i = (uint32_t)hash(path) & mask;
	for (uint32_t probes = 0; probes < t->nslots; probes++, i = (i + 1) & mask) {
		uint32_t k = get32(t->slots + (size_t)i * 4);
		if (!k)
			return NULL;
		if (k > t->n)
			return NULL; /* cannot be: the trailer was checked */
		const unsigned char *r = t->recs + (size_t)(k - 1) * RECORD;
		if (!strcmp(rec_path(t, r), path))
			return r;
	}
	return NULL;
}

/* ---- what this build learned ---- */

/* The slot of path: where its index is, or where it would go. */
static uint32_t *slot(const ims_cache_stats *s, const char *path)
{
	size_t i = hash(path) & (s->cap - 1);
	while (s->slots[i] && strcmp(s->v[s->slots[i] - 1].path, path))
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static stat_entry *learned(const ims_cache_stats *s, const char *path)
{
	if (!s->n)
		return NULL;
	uint32_t k = *slot(s, path);
	return k ? &s->v[k - 1] : NULL;
}

/* The table of slots holds 4 bytes an entry and stays at most half full;
 * the entries themselves are one array, so growing copies no entry. */
static void grow(ims_cache_stats *s)
{
	free(s->slots);
	s->cap = s->cap ? s->cap * 2 : 1024;
	s->slots = xcalloc(s->cap, sizeof(*s->slots));
	for (size_t i = 0; i < s->n; i++)
		*slot(s, s->v[i].path) = (uint32_t)(i + 1);
}

static void put(ims_cache_stats *s, const stat_entry *e)
{
	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	uint32_t *k = slot(s, e->path);
	if (*k) {
		stat_entry *d = &s->v[*k - 1];
		free(d->path);
		*d = *e;
		return;
	}
	s->v = xgrow(s->v, &s->vcap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = *e;
	*k = (uint32_t)s->n;
}

/* path's entry, learned in this build or else read: false when neither
 * has it. */
static bool get(const ims_cache_stats *s, const char *path, stat_entry *out)
{
	const stat_entry *e = learned(s, path);
	if (e) {
		*out = *e;
		return true;
	}
	const unsigned char *r = table_find(&s->t, path);
	if (!r)
		return false;
	rec_entry(r, out);
	return true;
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
	if (!table_valid(&s->t, data, len)) {
		free(data);
		memset(&s->t, 0, sizeof(s->t));
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
	stat_entry e;
	if (!s || !get(s, path, &e) || !same(&e, st))
		return false;
	if (e.raw)
		ims_digest_from_raw(e.raw, digest);
	else
		memcpy(digest, e.digest, IMS_DIGEST_BUFSZ);
	return true;
}

bool ims_cache_stats_seen(ims_cache_stats *s, const char *path, const struct stat *st)
{
	stat_entry e;
	return s && get(s, path, &e) && e.size == st->st_size && e.mode == st->st_mode;
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
		free(s->v[i].path);
	free(s->t.data);
	free(s->v);
	free(s->slots);
	free(s->file);
	free(s);
}

/* ---- the table written ---- */

typedef struct {
	unsigned char *recs, *slots;
	char *paths;
	uint32_t n, mask;
	uint64_t paths_len;
} writer;

static void write_entry(writer *w, const stat_entry *e, const char *path)
{
	unsigned char *r = w->recs + (size_t)w->n * RECORD;
	size_t plen = strlen(path);
	put64(r, (uint64_t)e->size);
	put64(r + 8, (uint64_t)e->mtime_ns);
	put64(r + 16, (uint64_t)e->ctime_ns);
	put64(r + 24, e->ino);
	put64(r + 32, e->dev);
	put64(r + 40, w->paths_len);
	put32(r + 48, (uint32_t)plen);
	put32(r + 52, e->mode);
	if (e->raw)
		memcpy(r + 56, e->raw, 32);
	else
		ims_digest_to_raw(e->digest, r + 56);
	memcpy(w->paths + w->paths_len, path, plen + 1);
	w->paths_len += plen + 1;
	uint32_t i = (uint32_t)hash(path) & w->mask;
	while (get32(w->slots + (size_t)i * 4))
		i = (i + 1) & w->mask;
	put32(w->slots + (size_t)i * 4, ++w->n);
}

/* The records of the table read that were not learned again, then what
 * was learned: one file, at most MAX_ENTRIES records. */
static char *encode(const ims_cache_stats *s, size_t *len)
{
	const table *t = &s->t;
	size_t n = s->n, plen = 0;
	for (size_t i = 0; i < s->n; i++)
		plen += strlen(s->v[i].path) + 1;
	for (uint32_t i = 0; i < t->n && n < MAX_ENTRIES; i++) {
		const char *p = rec_path(t, t->recs + (size_t)i * RECORD);
		if (!learned(s, p)) {
			n++;
			plen += strlen(p) + 1;
		}
	}
	uint32_t nslots = 16;
	while (nslots < 2 * n)
		nslots *= 2;
	*len = HEADER + n * RECORD + (size_t)nslots * 4 + plen + TRAILER;
	unsigned char *d = xcalloc(1, *len);
	writer w = { .recs = d + HEADER, .slots = d + HEADER + n * RECORD, .mask = nslots - 1 };
	w.paths = (char *)w.slots + (size_t)nslots * 4;
	for (uint32_t i = 0; i < t->n && w.n < n - s->n; i++) {
		const unsigned char *r = t->recs + (size_t)i * RECORD;
		const char *p = rec_path(t, r);
		if (learned(s, p))
			continue;
		stat_entry e;
		rec_entry(r, &e);
		write_entry(&w, &e, p);
	}
	for (size_t i = 0; i < s->n; i++)
		write_entry(&w, &s->v[i], s->v[i].path);
	memcpy(d, MAGIC, 8);
	put32(d + 8, VERSION);
	put32(d + 12, w.n);
	put32(d + 16, nslots);
	put64(d + 24, w.paths_len);
	char sum[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(d, *len - TRAILER, sum);
	memcpy(d + *len - TRAILER, sum, TRAILER);
	return (char *)d;
}

void ims_cache_stats_save(ims_cache_stats *s)
{
	if (!s)
		return;
	if (s->dirty) {
		size_t len = 0;
		_cleanup_free_ char *data = encode(s, &len);
		ims_error *e = NULL;
		/* a table that cannot be written costs a re-read next time, no more */
		if (ims_write_file_atomic(s->file, data, len, 0600, &e) < 0)
			ims_error_free(e);
	}
	ims_cache_stats_free(s);
}
