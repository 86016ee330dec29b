/* Files, whiteout and decompression layers: trees are made in temp dirs,
 * layers go to memory and are read back with libarchive (and `tar`). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "digest/digest.h"
#include "layer/beneath.h"
#include "layer/layer.h"
#include "layer/tarw.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"
#include "testsink.h"

#define CREATED 1767225600 /* 2026-01-01T00:00:00Z */

/* tap.h's is_str nests two `_c`s; compare strings here instead. */
#define same_str(a, b, ...)                                                                                  \
	do {                                                                                                 \
		const char *_sa = (a), *_sb = (b);                                                           \
		bool _eq = _sa && _sb && !strcmp(_sa, _sb);                                                  \
		ok(_eq, __VA_ARGS__);                                                                        \
		if (!_eq)                                                                                    \
			printf("#   got: '%s' expected: '%s'\n", _sa ? _sa : "(null)", _sb ? _sb : "(null)"); \
	} while (0)

#define has_str(hay, needle, ...)                                                       \
	do {                                                                            \
		const char *_h = (hay);                                                 \
		bool _in = _h && strstr(_h, (needle));                                  \
		ok(_in, __VA_ARGS__);                                                   \
		if (!_in)                                                               \
			printf("#   '%s' not in '%s'\n", (needle), _h ? _h : "(null)"); \
	} while (0)

static char *tmp;

/* ---- fixtures ---------------------------------------------------------- */

static char *tpath(const char *rel)
{
	return ims_path_join(tmp, rel);
}

static void mkd(const char *rel, mode_t mode)
{
	_cleanup_free_ char *p = tpath(rel);
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		perror(p);
	chmod(p, mode);
}

static void put(const char *rel, const char *data, mode_t mode)
{
	_cleanup_free_ char *p = tpath(rel);
	FILE *f = fopen(p, "w");
	if (!f) {
		perror(p);
		return;
	}
	fputs(data, f);
	fclose(f);
	chmod(p, mode);
}

static void lnk(const char *rel, const char *target)
{
	_cleanup_free_ char *p = tpath(rel);
	if (symlink(target, p) < 0)
		perror(p);
}

static void set_mtime(const char *rel, time_t t)
{
	_cleanup_free_ char *p = tpath(rel);
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

/* Values as if written in image.yaml at line 3, column 7. */
static ims_layer_val S(const char *s)
{
	return (ims_layer_val){ s, "image.yaml:3:7: " };
}

/* A mapping written at `at`; values it does not set are placed there too. */
static ims_layer_mapping mapping(ims_map_kind kind, const char *at)
{
	ims_layer_mapping m = { .kind = kind, .at = at };
	m.src = m.dest = m.symlink = (ims_layer_val){ NULL, at };
	return m;
}

static ims_layer_mapping copy_m(const char *src, const char *dest)
{
	ims_layer_mapping m = mapping(IMS_MAP_COPY, "image.yaml:3:5: ");
	m.src = S(src);
	m.dest = S(dest);
	return m;
}

/* One-element include/exclude and ignoreFiles lists. */
static const char *const *list1(const char *s)
{
	static const char *pool[16];
	static size_t used;
	const char **v = &pool[used++ % IMS_ARRAY_SIZE(pool)];
	*v = s;
	return v;
}

static const ims_layer_val *vals1(const char *s)
{
	static ims_layer_val pool[16];
	static size_t used;
	ims_layer_val *v = &pool[used++ % IMS_ARRAY_SIZE(pool)];
	*v = S(s);
	return v;
}

static ims_layer_opts opts(ims_layer_alg alg)
{
	ims_layer_opts o = { .source_dir = tmp, .created = CREATED, .alg = alg, .level = -1 };
	return o;
}

/* ---- memory sink and reader ------------------------------------------- */

static int buf_write(void *ud, const void *p, size_t n, ims_error **err)
{
	return ims_buf_add(ud, p, n, err);
}

typedef struct {
	const char *p;
	size_t n, off;
} memrd;

static ssize_t mem_read(void *ud, void *p, size_t n, ims_error **err)
{
	(void)err;
	memrd *m = ud;
	size_t k = m->n - m->off < n ? m->n - m->off : n;
	memcpy(p, m->p + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

typedef struct {
	ims_buf out;
	ims_layer_result res;
	ims_error *err;
	int rc;
} layer;

static void layer_dispose(layer *l)
{
	ims_buf_dispose(&l->out);
	ims_error_free(l->err);
}

static layer build(const ims_layer_mapping *m, size_t n, const ims_layer_opts *o)
{
	layer l = { .out = IMS_BUF_INIT(0) };
	ims_sink s = { buf_write, &l.out };
	l.rc = ims_layer_write_files(m, n, o, &s, &l.res, &l.err);
	return l;
}

static const char *msg(const layer *l)
{
	return l->err ? l->err->message : "(no error)";
}

/* ---- reading layers back ---------------------------------------------- */

typedef struct {
	char *path;
	char type; /* f d l h */
	char *link;
	unsigned mode;
	long long uid, gid, mtime, size;
	bool uname, gname, atime, ctime;
	char *data;
} got;

typedef struct {
	got v[64];
	size_t n;
	bool ok;
} listing;

static listing read_layer(const void *p, size_t n)
{
	listing L = { .ok = true };
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		L.ok = false;
		archive_read_free(a);
		return L;
	}
	struct archive_entry *ae;
	int r;
	while (((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) && L.n < 64) {
		got *g = &L.v[L.n++];
		g->path = xstrdup(archive_entry_pathname(ae));
		const char *hl = archive_entry_hardlink(ae);
		mode_t t = archive_entry_filetype(ae);
		g->type = hl ? 'h' : t == AE_IFDIR ? 'd' : t == AE_IFLNK ? 'l' : t == AE_IFREG ? 'f' : '?';
		if (hl)
			g->link = xstrdup(hl);
		else if (archive_entry_symlink(ae))
			g->link = xstrdup(archive_entry_symlink(ae));
		g->mode = archive_entry_perm(ae);
		g->uid = archive_entry_uid(ae);
		g->gid = archive_entry_gid(ae);
		g->mtime = archive_entry_mtime(ae);
		g->size = archive_entry_size(ae);
		g->uname = archive_entry_uname(ae) && *archive_entry_uname(ae);
		g->gname = archive_entry_gname(ae) && *archive_entry_gname(ae);
		g->atime = archive_entry_atime_is_set(ae);
		g->ctime = archive_entry_ctime_is_set(ae);
		ims_buf d = IMS_BUF_INIT(0);
		char chunk[4096];
		la_ssize_t k;
		while ((k = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			ims_buf_add(&d, chunk, (size_t)k, NULL);
		g->data = ims_buf_steal(&d, NULL);
	}
	if (r != ARCHIVE_EOF)
		L.ok = false;
	archive_read_free(a);
	return L;
}

static void listing_dispose(listing *L)
{
	for (size_t i = 0; i < L->n; i++) {
		free(L->v[i].path);
		free(L->v[i].link);
		free(L->v[i].data);
	}
}

static const got *entry(const listing *L, const char *path)
{
	for (size_t i = 0; i < L->n; i++)
		if (!strcmp(L->v[i].path, path))
			return &L->v[i];
	return NULL;
}

static bool sorted(const listing *L)
{
	for (size_t i = 1; i < L->n; i++) {
		/* Directories carry a trailing '/'; compare without it. */
		char a[512], b[512];
		snprintf(a, sizeof(a), "%s", L->v[i - 1].path);
		snprintf(b, sizeof(b), "%s", L->v[i].path);
		size_t la = strlen(a), lb = strlen(b);
		if (la && a[la - 1] == '/')
			a[la - 1] = '\0';
		if (lb && b[lb - 1] == '/')
			b[lb - 1] = '\0';
		if (strcmp(a, b) >= 0)
			return false;
	}
	return true;
}

static bool normalised(const listing *L)
{
	for (size_t i = 0; i < L->n; i++) {
		const got *g = &L->v[i];
		if (g->uname || g->gname || g->atime || g->ctime || g->mtime != CREATED)
			return false;
	}
	return true;
}

static void decompress(const void *p, size_t n, ims_buf *tar, char diff[IMS_DIGEST_BUFSZ], int *rc)
{
	memrd m = { p, n, 0 };
	ims_reader r = { mem_read, NULL, &m };
	ims_sink s = { buf_write, tar };
	ims_error *err = NULL;
	int64_t size = 0;
	*rc = ims_layer_decompress(&r, &s, diff, &size, &err);
	if (err)
		printf("# decompress: %s\n", err->message);
	ims_error_free(err);
}

/* ---- tests ------------------------------------------------------------- */

static void make_tree(const char *root, mode_t um, time_t mt)
{
	mode_t old = umask(um);
	_cleanup_free_ char *r = xstrdup(root);
	mkd(r, 0777 & ~um);
	char p[256];
	snprintf(p, sizeof(p), "%s/b.txt", root), put(p, "bee\n", 0666 & ~um), set_mtime(p, mt);
	snprintf(p, sizeof(p), "%s/a.sh", root), put(p, "#!/bin/sh\n", 0777 & ~um), set_mtime(p, mt + 5);
	snprintf(p, sizeof(p), "%s/sub", root), mkd(p, 0777 & ~um);
	snprintf(p, sizeof(p), "%s/sub/c", root), put(p, "sea\n", 0666 & ~um), set_mtime(p, mt + 9);
	snprintf(p, sizeof(p), "%s/sub/link", root), lnk(p, "../b.txt");
	snprintf(p, sizeof(p), "%s/sub", root), set_mtime(p, mt + 1);
	umask(old);
}

static void test_basic(void)
{
	make_tree("t1", 022, 1000000);
	ims_layer_mapping m = copy_m("t1", "/app/");
	ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
	layer l = build(&m, 1, &o);
	is_int(l.rc, 0, "basic: files layer builds (%s)", msg(&l));
	const unsigned char *g = (const unsigned char *)l.out.data;
	ok(l.out.len > 10 && g[0] == 0x1f && g[1] == 0x8b, "basic: output is gzip");
	ok(l.out.len > 10 && !g[4] && !g[5] && !g[6] && !g[7], "basic: gzip header mtime is zero");
	ok(l.out.len > 10 && (g[3] & 0x08) == 0 && g[3] == 0, "basic: gzip FLG has no FNAME (or anything else)");
	is_int(l.res.size, l.out.len, "basic: size is the number of bytes written");
	char dig[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(l.out.data, l.out.len, dig);
	same_str(l.res.digest, dig, "basic: digest is the sha256 of the bytes written");

	ims_buf tar = IMS_BUF_INIT(0);
	char diff[IMS_DIGEST_BUFSZ] = "", tdig[IMS_DIGEST_BUFSZ];
	int rc;
	decompress(l.out.data, l.out.len, &tar, diff, &rc);
	is_int(rc, 0, "basic: layer decompresses");
	ims_sha256_buf(tar.data, tar.len, tdig);
	same_str(l.res.diff_id, tdig, "basic: diff_id is the sha256 of the tar");
	same_str(diff, tdig, "basic: ims_layer_decompress gives the same diff_id");
	is_int(l.res.tar_size, tar.len, "basic: tar_size is the tar's length");
	is_int(tar.len % 512, 0, "basic: tar is a whole number of blocks");
	ok(tar.len >= 1024 && !memcmp(tar.data + tar.len - 1024, (char[1024]){ 0 }, 1024),
	   "basic: tar ends with two zero blocks");
	ims_buf_dispose(&tar);

	listing L = read_layer(l.out.data, l.out.len);
	ok(L.ok, "basic: libarchive reads the layer back");
	is_int(L.n, 6, "basic: 6 entries (app, a.sh, b.txt, sub, sub/c, sub/link)");
	is_int(l.res.entries, 6, "basic: result counts 6 entries");
	ok(sorted(&L), "basic: entries are sorted by path");
	ok(normalised(&L), "basic: no uname/gname/atime/ctime, mtime is created");
	same_str(L.n ? L.v[0].path : NULL, "app/", "basic: dest gets its own entry, first");
	const got *e = entry(&L, "app/a.sh");
	ok(e && e->mode == 0755 && e->type == 'f', "basic: executable file is 0755");
	e = entry(&L, "app/b.txt");
	ok(e && e->mode == 0644 && e->data && !strcmp(e->data, "bee\n"), "basic: plain file is 0644 with its data");
	e = entry(&L, "app/sub/");
	ok(e && e->mode == 0755 && e->type == 'd', "basic: directory is 0755");
	e = entry(&L, "app/sub/link");
	ok(e && e->type == 'l' && e->link && !strcmp(e->link, "../b.txt"), "basic: symlink kept with its text");
	ok(e && e->uid == 0 && e->gid == 0, "basic: uid/gid default to 0");
	listing_dispose(&L);

	/* tar(1) agrees. */
	_cleanup_free_ char *f = tpath("basic.tgz");
	ims_write_file_atomic(f, l.out.data, l.out.len, 0644, NULL);
	_cleanup_free_ char *cmd = xasprintf("tar -tvzf '%s' > '%s.txt' 2>&1", f, f);
	int st = system(cmd);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "basic: tar -tvzf lists the layer");
	_cleanup_free_ char *txtp = xasprintf("%s.txt", f);
	char *txt = NULL;
	ims_read_file(txtp, 1 << 20, &txt, NULL, NULL);
	has_str(txt, "-rwxr-xr-x 0/0", "basic: tar sees 0755 root:root");
	has_str(txt, "2026-01-01", "basic: tar sees the created date");
	has_str(txt, "app/sub/link -> ../b.txt", "basic: tar sees the symlink");
	free(txt);

	layer again = build(&m, 1, &o);
	same_str(again.res.digest, l.res.digest, "basic: same input, same digest");
	same_str(again.res.diff_id, l.res.diff_id, "basic: same input, same diff_id");
	layer_dispose(&again);
	layer_dispose(&l);
}

static void test_umask(void)
{
	make_tree("u1", 022, 1000000);
	make_tree("u2", 077, 1700000000);
	ims_layer_mapping m1 = copy_m("u1", "/app"), m2 = copy_m("u2", "/app");
	ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
	layer a = build(&m1, 1, &o), b = build(&m2, 1, &o);
	ok(a.rc == 0 && b.rc == 0, "umask: both build");
	same_str(a.res.digest, b.res.digest, "umask: umask 022 and 077, different mtimes: same digest");
	same_str(a.res.diff_id, b.res.diff_id, "umask: same diff_id");
	is_int(a.res.size, b.res.size, "umask: same size");
	layer_dispose(&a);
	layer_dispose(&b);
}

static void collect_warning(const ims_event *ev, void *ud)
{
	if (ev->kind != IMS_EVENT_WARNING)
		return;
	ims_buf_puts(ud, ev->message);
	ims_buf_putc(ud, '\n');
}

static void test_modes(void)
{
	mkd("md", 0700);
	put("md/suid", "x", 04755);
	put("md/private", "x", 0600);
	mkd("md/closed", 0700);
	put("md/.env", "SECRET=1", 0644);
	ims_layer_mapping m = copy_m("md", "/m");
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	ims_buf warnings = IMS_BUF_INIT(0);
	ims_events ev = { collect_warning, &warnings };
	o.ev = &ev;
	layer l = build(&m, 1, &o);
	has_str(warnings.data, "`md/suid`: setuid, setgid and sticky bits are dropped", "modes: dropping setuid warns");
	has_str(warnings.data, "`md/.env` may hold secrets", "modes: a secret-looking name warns");
	ims_buf_dispose(&warnings);
	o.ev = NULL;
	listing L = read_layer(l.out.data, l.out.len);
	const got *e = entry(&L, "m/suid");
	ok(e && e->mode == 0755, "modes: setuid in the source is dropped (got %o)", e ? e->mode : 0);
	e = entry(&L, "m/private");
	ok(e && e->mode == 0644, "modes: 0600 file becomes 0644");
	e = entry(&L, "m/closed/");
	ok(e && e->mode == 0755, "modes: 0700 dir becomes 0755");
	e = entry(&L, "m/");
	ok(e && e->mode == 0755, "modes: dest entry is 0755");
	listing_dispose(&L);
	layer_dispose(&l);

	m.attrs.has_mode = true, m.attrs.mode = 04750;
	m.attrs.has_dir_mode = true, m.attrs.dir_mode = 0710;
	m.attrs.has_uid = true, m.attrs.uid = 1000;
	l = build(&m, 1, &o);
	L = read_layer(l.out.data, l.out.len);
	e = entry(&L, "m/private");
	ok(e && e->mode == 04750, "modes: setuid from an explicit mode");
	e = entry(&L, "m/closed/");
	ok(e && e->mode == 0710, "modes: dirMode for directories");
	e = entry(&L, "m/");
	ok(e && e->mode == 0710 && e->uid == 1000, "modes: dest entry takes the mapping's dirMode and uid");
	listing_dispose(&L);
	layer_dispose(&l);

	/* defaults < mapping */
	ims_layer_mapping m2 = copy_m("md/private", "/x");
	o.defaults.has_uid = true, o.defaults.uid = 5;
	o.defaults.has_gid = true, o.defaults.gid = 6;
	o.defaults.has_mode = true, o.defaults.mode = 0640;
	m2.attrs.has_gid = true, m2.attrs.gid = 7;
	l = build(&m2, 1, &o);
	L = read_layer(l.out.data, l.out.len);
	e = entry(&L, "x");
	ok(e && e->uid == 5 && e->gid == 7 && e->mode == 0640, "modes: defaults cascade under mapping attrs");
	listing_dispose(&L);
	layer_dispose(&l);
}

static void test_dest(void)
{
	mkd("dd", 0755);
	put("dd/f.conf", "conf", 0644);
	ims_layer_mapping m[] = { copy_m("dd/f.conf", "/etc/"), copy_m("./dd/f.conf", "/etc/other.conf"),
				  copy_m("dd", "/") };
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	layer l = build(m, 3, &o);
	is_int(l.rc, 0, "dest: builds (%s)", msg(&l));
	listing L = read_layer(l.out.data, l.out.len);
	ok(entry(&L, "etc/f.conf") != NULL, "dest: file into `dest/` keeps its name");
	ok(entry(&L, "etc/other.conf") != NULL, "dest: file to `dest` is written as dest");
	ok(entry(&L, "f.conf") != NULL, "dest: directory into `/`: contents at the top");
	ok(!entry(&L, "etc/") && !entry(&L, "/") && !entry(&L, "./"), "dest: parents of dest get no entry");
	const got *e = entry(&L, "etc/f.conf");
	ok(e && e->type == 'f' && e->data && !strcmp(e->data, "conf"), "dest: the same file twice is two files");
	listing_dispose(&L);
	layer_dispose(&l);
}

static void test_inline(void)
{
	ims_layer_mapping m[4] = { mapping(IMS_MAP_CONTENT, ""), mapping(IMS_MAP_SYMLINK, ""), mapping(IMS_MAP_DIR, ""),
				   mapping(IMS_MAP_CONTENT, "") };
	m[0].dest = S("/etc/app/motd"), m[0].content = "hello\n", m[0].content_len = 6;
	m[0].attrs = (ims_layer_attrs){ .has_mode = true, .mode = 0600, .has_uid = true, .uid = 1000, .has_gid = true,
				  .gid = 1001, .has_mtime = true, .mtime = 42 };
	m[1].dest = S("/usr/local/bin/app"), m[1].symlink = S("/app/bin/app");
	m[2].dest = S("/data"), m[2].attrs = (ims_layer_attrs){ .has_uid = true, .uid = 1000 };
	m[3].dest = S("/empty");
	ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
	layer l = build(m, 4, &o);
	is_int(l.rc, 0, "inline: builds (%s)", msg(&l));
	listing L = read_layer(l.out.data, l.out.len);
	is_int(L.n, 4, "inline: 4 entries, no parents");
	ok(sorted(&L), "inline: sorted");
	const got *e = entry(&L, "etc/app/motd");
	ok(e && e->type == 'f' && e->mode == 0600 && e->uid == 1000 && e->gid == 1001 && e->mtime == 42 && e->data &&
		   !strcmp(e->data, "hello\n"),
	   "inline: content with mode/uid/gid/mtime");
	e = entry(&L, "usr/local/bin/app");
	ok(e && e->type == 'l' && !strcmp(e->link, "/app/bin/app") && e->mode == 0777 && e->mtime == CREATED,
	   "inline: symlink");
	e = entry(&L, "data/");
	ok(e && e->type == 'd' && e->mode == 0755 && e->uid == 1000, "inline: type dir with uid");
	e = entry(&L, "empty");
	ok(e && e->type == 'f' && e->size == 0 && e->mode == 0644, "inline: empty content, 0644");
	listing_dispose(&L);
	layer_dispose(&l);
}

static void test_symlinks(void)
{
	mkd("sl", 0755);
	mkd("sl/real", 0755);
	put("sl/real/f", "data", 0755);
	lnk("sl/tofile", "real/f");
	lnk("sl/todir", "real");
	lnk("sl/abs", "/etc/passwd");
	ims_layer_mapping m = copy_m("sl", "/s");
	m.exclude = list1("abs"), m.nexclude = 1;
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	layer l = build(&m, 1, &o);
	listing L = read_layer(l.out.data, l.out.len);
	const got *e = entry(&L, "s/tofile");
	ok(e && e->type == 'l' && !strcmp(e->link, "real/f"), "symlinks: preserve stores the link");
	layer_dispose(&l);
	listing_dispose(&L);

	m.follow_symlinks = true;
	l = build(&m, 1, &o);
	is_int(l.rc, 0, "symlinks: follow builds (%s)", msg(&l));
	L = read_layer(l.out.data, l.out.len);
	e = entry(&L, "s/tofile");
	ok(e && e->type == 'f' && e->data && !strcmp(e->data, "data") && e->mode == 0755,
	   "symlinks: follow stores the target file");
	e = entry(&L, "s/todir/");
	ok(e && e->type == 'd', "symlinks: follow makes a link to a dir a dir");
	e = entry(&L, "s/todir/f");
	ok(e && e->type == 'f' && e->data && !strcmp(e->data, "data"), "symlinks: and walks it");
	ok(!entry(&L, "s/abs"), "symlinks: excluded escaping link is fine");
	listing_dispose(&L);
	layer_dispose(&l);

	m.exclude = NULL, m.nexclude = 0;
	l = build(&m, 1, &o);
	ok(l.rc == IMS_ESOURCE, "symlinks: follow with an escaping link fails (%d)", l.rc);
	has_str(msg(&l), "`sl/abs`", "symlinks: the error names the link");
	has_str(msg(&l), "image.yaml:3:7: ", "symlinks: the error has the spec position");
	is_int(l.out.len, 0, "symlinks: nothing was written");
	layer_dispose(&l);

	mkd("sl2", 0755);
	lnk("sl2/up", "../sl/real/f");
	ims_layer_mapping m2 = copy_m("sl2", "/s");
	m2.follow_symlinks = true;
	l = build(&m2, 1, &o);
	ok(l.rc == IMS_ESOURCE, "symlinks: a link into the spec dir but outside src fails");
	has_str(msg(&l), "outside `sl2`", "symlinks: ...saying it is outside src");
	layer_dispose(&l);

	mkd("sl3", 0755);
	lnk("sl3/loop", "loop");
	ims_layer_mapping m3 = copy_m("sl3", "/s");
	m3.follow_symlinks = true;
	l = build(&m3, 1, &o);
	ok(l.rc == IMS_ESOURCE && strstr(msg(&l), "loop"), "symlinks: a self link is a loop (%s)", msg(&l));
	layer_dispose(&l);

	mkd("sl4", 0755);
	mkd("sl4/d", 0755);
	lnk("sl4/d/back", "..");
	ims_layer_mapping m4 = copy_m("sl4", "/s");
	m4.follow_symlinks = true;
	l = build(&m4, 1, &o);
	ok(l.rc == IMS_ESOURCE && strstr(msg(&l), "loop"), "symlinks: a link to a parent dir is a loop (%s)",
	   msg(&l));
	layer_dispose(&l);

	/* A chain: l0 -> l1 -> ... -> l40 -> f. From l1, 40 links to follow
	 * (Linux's limit) pass; from l0, 41 are refused. */
	mkd("chain", 0755);
	mkd("chain40", 0755);
	put("chain/f", "end of the chain\n", 0644);
	put("chain40/f", "end of the chain\n", 0644);
	for (int i = 0; i <= 40; i++) {
		char name[32], target[32];
		snprintf(name, sizeof(name), "chain/l%d", i);
		snprintf(target, sizeof(target), i == 40 ? "f" : "l%d", i + 1);
		lnk(name, target);
		if (i > 0) { /* chain40: l1 .. l40, 40 hops at most */
			snprintf(name, sizeof(name), "chain40/l%d", i);
			lnk(name, target);
		}
	}
	ims_layer_mapping mc40 = copy_m("chain40", "/s");
	mc40.follow_symlinks = true;
	l = build(&mc40, 1, &o);
	is_int(l.rc, 0, "symlinks: a chain of 40 links is followed");
	layer_dispose(&l);
	ims_layer_mapping mc41 = copy_m("chain", "/s");
	mc41.follow_symlinks = true;
	l = build(&mc41, 1, &o);
	ok(l.rc == IMS_ESOURCE && strstr(msg(&l), "`chain/l0`"), "symlinks: a chain of 41 links is refused, naming it (%s)",
	   msg(&l));
	layer_dispose(&l);

	mkd("sl6", 0755);
	lnk("sl6/dangling", "nowhere");
	ims_layer_mapping m6 = copy_m("sl6", "/s");
	m6.follow_symlinks = true;
	l = build(&m6, 1, &o);
	ok(l.rc == IMS_ESOURCE && strstr(msg(&l), "`sl6/dangling` is a symlink to `nowhere`, which does not exist"),
	   "symlinks: follow with a dangling link fails (%s)", msg(&l));
	layer_dispose(&l);
	m6.follow_symlinks = false;
	l = build(&m6, 1, &o);
	is_int(l.rc, 0, "symlinks: preserve stores a dangling link as is");
	layer_dispose(&l);

	/* src itself may go through a symlink that stays in the spec dir. */
	lnk("srclink", "sl/real");
	ims_layer_mapping m7 = copy_m("srclink", "/r");
	l = build(&m7, 1, &o);
	L = read_layer(l.out.data, l.out.len);
	ok(l.rc == 0 && entry(&L, "r/f") != NULL, "symlinks: a symlinked src is followed");
	listing_dispose(&L);
	layer_dispose(&l);
	lnk("srcout", "/etc");
	ims_layer_mapping m8 = copy_m("srcout", "/r");
	l = build(&m8, 1, &o);
	is_int(l.rc, IMS_ESOURCE, "symlinks: a src symlinked out of the spec dir is refused");
	layer_dispose(&l);

	/* The absolute path of the spec dir itself is inside. */
	mkd("sl5", 0755);
	put("sl5/t", "t", 0644);
	_cleanup_free_ char *abs = tpath("sl5/t");
	lnk("sl5/abs", abs);
	ims_layer_mapping m5 = copy_m("sl5", "/s");
	m5.follow_symlinks = true;
	l = build(&m5, 1, &o);
	is_int(l.rc, 0, "symlinks: an absolute link into src is followed (%s)", msg(&l));
	layer_dispose(&l);
}

static void test_refused(void)
{
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	mkd("ff", 0755);
	put("ff/ok", "ok", 0644);
	_cleanup_free_ char *fifo = tpath("ff/pipe");
	ok(mkfifo(fifo, 0644) == 0, "refused: made a FIFO");
	ims_layer_mapping m = copy_m("ff", "/f");
	layer l = build(&m, 1, &o);
	is_int(l.rc, IMS_ESOURCE, "refused: FIFO is an IMS_ESOURCE error");
	has_str(msg(&l), "`ff/pipe` is a FIFO", "refused: the error names the FIFO");
	ok(l.err && l.err->hint && strstr(l.err->hint, "exclude"), "refused: the hint says to exclude it");
	layer_dispose(&l);
	m.exclude = list1("pipe"), m.nexclude = 1;
	l = build(&m, 1, &o);
	is_int(l.rc, 0, "refused: an excluded FIFO is skipped (%s)", msg(&l));
	layer_dispose(&l);

	mkd("wh", 0755);
	put("wh/.wh.x", "", 0644);
	ims_layer_mapping w = copy_m("wh", "/w");
	l = build(&w, 1, &o);
	is_int(l.rc, IMS_ESOURCE, "refused: a `.wh.*` source is an IMS_ESOURCE error");
	has_str(msg(&l), "`wh/.wh.x`", "refused: the error names it");
	layer_dispose(&l);

	w.exclude = list1(".wh.*"), w.nexclude = 1;
	l = build(&w, 1, &o);
	is_int(l.rc, 0, "refused: an excluded `.wh.*` source is skipped");
	layer_dispose(&l);
	ims_layer_mapping ig = copy_m("wh", "/w");
	ig.exclude = list1(".wh.*"), ig.nexclude = 1;
	ig.ignore_files = vals1("../x"), ig.nignore_files = 1;
	l = build(&ig, 1, &o);
	is_int(l.rc, IMS_EINVALID, "refused: ignoreFiles must be file names");
	layer_dispose(&l);

	ims_layer_mapping miss = copy_m("nope", "/n");
	l = build(&miss, 1, &o);
	is_int(l.rc, IMS_ENOTFOUND, "refused: a missing src is IMS_ENOTFOUND");
	has_str(msg(&l), "image.yaml:3:7: `src` `nope` does not exist", "refused: with the position");
	layer_dispose(&l);

	ims_layer_mapping esc = copy_m("../etc", "/n");
	l = build(&esc, 1, &o);
	is_int(l.rc, IMS_EINVALID, "refused: src with .. above the spec dir");
	layer_dispose(&l);
	ims_layer_mapping absm = copy_m("/etc", "/n");
	l = build(&absm, 1, &o);
	is_int(l.rc, IMS_EINVALID, "refused: absolute src");
	layer_dispose(&l);

	ims_layer_mapping whd = mapping(IMS_MAP_CONTENT, "");
	whd.dest = S("/etc/.wh.passwd");
	l = build(&whd, 1, &o);
	is_int(l.rc, IMS_EINVALID, "refused: a whiteout name as dest");
	layer_dispose(&l);

	ims_layer_mapping dotdot = mapping(IMS_MAP_CONTENT, "");
	dotdot.dest = S("/../../x");
	l = build(&dotdot, 1, &o);
	is_int(l.rc, IMS_EINVALID, "refused: a dest above `/`");
	layer_dispose(&l);

	mkd("bad", 0755);
	put("bad/a\nb", "", 0644);
	ims_layer_mapping bad = copy_m("bad", "/b");
	l = build(&bad, 1, &o);
	is_int(l.rc, IMS_ESOURCE, "refused: a file name with a newline");
	layer_dispose(&l);
}

static void test_hardlinks(void)
{
	mkd("hl", 0755);
	put("hl/one", "same inode", 0644);
	_cleanup_free_ char *a = tpath("hl/one"), *b = tpath("hl/two"), *c = tpath("hl/0zero");
	ok(link(a, b) == 0 && link(a, c) == 0, "hardlinks: made two links");
	ims_layer_mapping m = copy_m("hl", "/h");
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	layer l = build(&m, 1, &o);
	listing L = read_layer(l.out.data, l.out.len);
	const got *e0 = entry(&L, "h/0zero"), *e1 = entry(&L, "h/one"), *e2 = entry(&L, "h/two");
	ok(e0 && e0->type == 'f' && e0->data && !strcmp(e0->data, "same inode"), "hardlinks: first in order is a file");
	ok(e1 && e1->type == 'h' && !strcmp(e1->link, "h/0zero"), "hardlinks: later ones link to it");
	ok(e2 && e2->type == 'h' && !strcmp(e2->link, "h/0zero"), "hardlinks: all of them");
	listing_dispose(&L);
	layer_dispose(&l);
}

static void test_merge(void)
{
	mkd("mg", 0755);
	put("mg/config.json", "{old}", 0644);
	put("mg/keep", "k", 0644);
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);

	/* issue 9, item 8: no silent override within a layer */
	ims_layer_mapping m[2] = { copy_m("mg", "/app"), mapping(IMS_MAP_CONTENT, "image.yaml:9:3: ") };
	m[1].dest = S("/app/config.json"), m[1].content = "{new}", m[1].content_len = 5;
	layer l = build(m, 2, &o);
	is_int(l.rc, IMS_EINVALID, "merge: a copied file and an inline one at one path are refused");
	has_str(msg(&l), "`/app/config.json`", "merge: the error names the path");
	has_str(msg(&l), "image.yaml:3:5", "merge: ...the first mapping");
	has_str(msg(&l), "image.yaml:9:3", "merge: ...and the second");
	ok(l.out.len == 0, "merge: nothing written");
	layer_dispose(&l);

	ims_layer_mapping two[2] = { mapping(IMS_MAP_CONTENT, "image.yaml:4:3: "),
				     mapping(IMS_MAP_CONTENT, "image.yaml:6:3: ") };
	two[0].dest = two[1].dest = S("/etc/motd");
	two[0].content = two[1].content = "x", two[0].content_len = two[1].content_len = 1;
	l = build(two, 2, &o);
	is_int(l.rc, IMS_EINVALID, "merge: two entries for one destination are refused, even when equal");
	has_str(msg(&l), "image.yaml:4:3", "merge: two entries: the first position");
	has_str(msg(&l), "image.yaml:6:3", "merge: two entries: the second position");
	layer_dispose(&l);

	ims_layer_mapping sl[2] = { mapping(IMS_MAP_SYMLINK, "image.yaml:4:3: "),
				    mapping(IMS_MAP_CONTENT, "image.yaml:6:3: ") };
	sl[0].dest = sl[1].dest = S("/bin/sh");
	sl[0].symlink = S("busybox");
	l = build(sl, 2, &o);
	is_int(l.rc, IMS_EINVALID, "merge: a symlink and a file at one path are refused");
	has_str(msg(&l), "a symlink from image.yaml:4:3", "merge: symlink and file: both named");
	layer_dispose(&l);

	mkd("mg2", 0755);
	put("mg2/other", "o", 0644);
	ims_layer_mapping dirs[3] = { copy_m("mg", "/app"), copy_m("mg2", "/app/"), mapping(IMS_MAP_DIR, "") };
	dirs[2].dest = S("/app");
	l = build(dirs, 3, &o);
	is_int(l.rc, 0, "merge: directories that agree merge (%s)", msg(&l));
	listing L = read_layer(l.out.data, l.out.len);
	ok(entry(&L, "app/other") && entry(&L, "app/keep") && entry(&L, "app/"), "merge: both trees under one dir");
	is_int(L.n, 4, "merge: one entry per path");
	listing_dispose(&L);
	layer_dispose(&l);

	dirs[2].attrs = (ims_layer_attrs){ .has_uid = true, .uid = 1000 };
	dirs[2].at = "image.yaml:12:3: ";
	l = build(dirs, 3, &o);
	is_int(l.rc, IMS_EINVALID, "merge: directories that disagree on the owner are refused");
	has_str(msg(&l), "image.yaml:12:3", "merge: disagreeing dirs: the position");
	layer_dispose(&l);

	ims_layer_mapping c[2] = { copy_m("mg", "/app"), mapping(IMS_MAP_CONTENT, "image.yaml:9:3: ") };
	c[1].dest = S("/app");
	l = build(c, 2, &o);
	is_int(l.rc, IMS_EINVALID, "merge: a dir and a file at one path clash");
	has_str(msg(&l), "`mg`", "merge: the error names the first source");
	has_str(msg(&l), "image.yaml:9:3", "merge: ...and the second");
	layer_dispose(&l);

	ims_layer_mapping below[2] = { mapping(IMS_MAP_CONTENT, "image.yaml:2:3: "),
				       mapping(IMS_MAP_CONTENT, "image.yaml:5:3: ") };
	below[0].dest = S("/a"), below[1].dest = S("/a/b");
	l = build(below, 2, &o);
	is_int(l.rc, IMS_EINVALID, "merge: an entry below a file is refused");
	layer_dispose(&l);
}

/* issue 9, item 6: dest values are refused, not normalised. */
static void test_dest_clean(void)
{
	const char *bad[] = { "/etc/.", "/etc/./x", "/a//b", "//a", "/a/../b", "/a/.." };
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
		ims_layer_mapping m = mapping(IMS_MAP_CONTENT, "image.yaml:2:3: ");
		m.dest = S(bad[i]);
		m.content = "x", m.content_len = 1;
		layer l = build(&m, 1, &o);
		is_int(l.rc, IMS_EINVALID, "dest `%s` refused", bad[i]);
		has_str(msg(&l), "image.yaml:3:7", "dest `%s`: the position", bad[i]);
		layer_dispose(&l);
	}
	ims_layer_val d[1] = { S("/etc/.") };
	ims_layer_whiteouts wo = { d, 1, NULL, 0 };
	ims_buf out = IMS_BUF_INIT(0);
	ims_sink s = { buf_write, &out };
	ims_layer_result res;
	ims_error *err = NULL;
	ok(ims_layer_write_whiteouts(&wo, &o, &s, &res, &err) == IMS_EINVALID && out.len == 0,
	   "delete `/etc/.` refused");
	ims_error_clear(&err);
	ims_buf_dispose(&out);
}

static void warn_cb(const ims_event *ev, void *ud)
{
	ims_buf *b = ud;
	ims_buf_printf(b, "%s %s\n", ev->kind == IMS_EVENT_WARNING ? "W" : "I", ev->message);
}

/* issue 9, items 1 and 4: credentials and the build's own output. */
static void test_skips(void)
{
	mkd("sk", 0755);
	mkd("sk/.docker", 0755);
	put("sk/.docker/config.json", "{\"auths\":{}}", 0600);
	mkd("sk/.config", 0755);
	mkd("sk/.config/containers", 0755);
	put("sk/.config/containers/auth.json", "{}", 0600);
	mkd("sk/ci", 0755);
	put("sk/ci/creds", "{}", 0600); /* any name: known by its inode */
	mkd("sk/out", 0755);
	put("sk/out/index.json", "{}", 0644);
	put("sk/app", "app", 0644);
	_cleanup_free_ char *creds = tpath("sk/ci/creds"), *outdir = tpath("sk/out");
	struct stat sc, so;
	stat(creds, &sc);
	stat(outdir, &so);
	ims_layer_skip skip[2] = { { sc.st_dev, sc.st_ino, "$REGISTRY_AUTH_FILE", true },
				   { so.st_dev, so.st_ino, "the output `out`", false } };
	ims_buf ev = IMS_BUF_INIT(0);
	ims_events events = { warn_cb, &ev };
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	o.skip = skip, o.nskip = 2, o.ev = &events;
	ims_layer_mapping m = copy_m("sk", "/app");
	layer l = build(&m, 1, &o);
	is_int(l.rc, 0, "skips: builds (%s)", msg(&l));
	listing L = read_layer(l.out.data, l.out.len);
	ok(entry(&L, "app/app") != NULL, "skips: ordinary files kept");
	ok(!entry(&L, "app/.docker/config.json"), "skips: .docker/config.json left out");
	ok(!entry(&L, "app/.config/containers/auth.json"), "skips: containers/auth.json left out");
	ok(!entry(&L, "app/ci/creds"), "skips: a credential file known by inode left out");
	ok(!entry(&L, "app/out/") && !entry(&L, "app/out/index.json"), "skips: the output left out, and below it");
	listing_dispose(&L);
	const char *w = ev.data ? ev.data : "";
	has_str(w, "W image.yaml:3:7: `sk/.docker/config.json` holds registry credentials", "skips: warns, naming the file");
	has_str(w, "`src: sk/.docker/config.json`", "skips: ...and how to include it");
	has_str(w, "`sk/ci/creds` holds registry credentials ($REGISTRY_AUTH_FILE)", "skips: names why");
	has_str(w, "I `sk/out` is left out of the layer", "skips: the output: an info line");
	layer_dispose(&l);
	ims_buf_reset(&ev);

	/* naming the file itself packs it, with a warning */
	ims_layer_mapping ex[2] = { copy_m("sk/.docker/config.json", "/root/.docker/config.json"),
				    copy_m("sk/ci/creds", "/etc/creds") };
	l = build(ex, 2, &o);
	is_int(l.rc, 0, "skips: explicit mappings build (%s)", msg(&l));
	L = read_layer(l.out.data, l.out.len);
	ok(entry(&L, "root/.docker/config.json") && entry(&L, "etc/creds"), "skips: explicit mappings pack the files");
	listing_dispose(&L);
	has_str(ev.data ? ev.data : "", "goes into the image, as this mapping names it", "skips: explicit: a warning");
	layer_dispose(&l);
	ims_buf_dispose(&ev);
}

static void test_patterns(void)
{
	mkd("pt", 0755);
	put("pt/top.log", "", 0644);
	mkd("pt/sub", 0755);
	put("pt/sub/deep.log", "", 0644);
	put("pt/sub/keep.txt", "", 0644);
	mkd("pt/node_modules", 0755);
	put("pt/node_modules/x", "", 0644);
	mkd("pt/ign", 0755);
	put("pt/ign/.dockerignore", "*.tmp\n", 0644);
	put("pt/ign/a.tmp", "", 0644);
	put("pt/ign/b", "", 0644);
	put("pt/c.tmp", "", 0644);
	ims_layer_mapping m = copy_m("pt", "/p");
	static const char *const ex[2] = { "*.log", "node_modules" };
	m.exclude = ex, m.nexclude = 2;
	m.ignore_files = vals1(".dockerignore"), m.nignore_files = 1;
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	layer l = build(&m, 1, &o);
	is_int(l.rc, 0, "patterns: builds (%s)", msg(&l));
	listing L = read_layer(l.out.data, l.out.len);
	ok(!entry(&L, "p/top.log"), "patterns: `*.log` excludes at the top");
	ok(entry(&L, "p/sub/deep.log") != NULL, "patterns: ...but not below (anchored)");
	ok(!entry(&L, "p/node_modules/") && !entry(&L, "p/node_modules/x"), "patterns: a directory name excludes its tree");
	ok(!entry(&L, "p/ign/a.tmp") && entry(&L, "p/ign/b"), "patterns: ignore file rules apply in its directory");
	ok(entry(&L, "p/c.tmp") != NULL, "patterns: ...and not above it");
	ok(entry(&L, "p/ign/.dockerignore") != NULL, "patterns: the ignore file itself is copied");
	listing_dispose(&L);
	layer_dispose(&l);

	ims_layer_mapping inc = copy_m("pt", "/p");
	inc.include = list1("**/*.txt"), inc.ninclude = 1;
	l = build(&inc, 1, &o);
	L = read_layer(l.out.data, l.out.len);
	ok(entry(&L, "p/sub/keep.txt") && entry(&L, "p/sub/") && !entry(&L, "p/c.tmp") && !entry(&L, "p/ign/"),
	   "patterns: include keeps matches and the directories holding them");
	listing_dispose(&L);
	layer_dispose(&l);
}

static void test_algorithms(void)
{
	ims_layer_mapping m = copy_m("t1", "/app/");
	ims_layer_opts o = opts(IMS_LAYER_ALG_ZSTD);
	layer z = build(&m, 1, &o);
	const unsigned char *p = (const unsigned char *)z.out.data;
	ok(z.rc == 0 && z.out.len > 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd,
	   "algorithms: zstd output has the zstd magic");
	ims_buf tar = IMS_BUF_INIT(0);
	char diff[IMS_DIGEST_BUFSZ] = "";
	int rc;
	decompress(z.out.data, z.out.len, &tar, diff, &rc);
	same_str(diff, z.res.diff_id, "algorithms: zstd decompresses to the diff_id");
	ims_buf_dispose(&tar);

	o.alg = IMS_LAYER_ALG_NONE;
	layer n = build(&m, 1, &o);
	same_str(n.res.digest, n.res.diff_id, "algorithms: none: digest equals diff_id");
	is_int(n.res.size, n.res.tar_size, "algorithms: none: size equals tar size");
	same_str(n.res.diff_id, z.res.diff_id, "algorithms: the tar does not depend on the compression");

	o.alg = IMS_LAYER_ALG_GZIP;
	o.level = 9;
	layer g9 = build(&m, 1, &o);
	same_str(g9.res.diff_id, n.res.diff_id, "algorithms: gzip -9 has the same tar");
	o.level = 42;
	layer bad = build(&m, 1, &o);
	is_int(bad.rc, IMS_EINVALID, "algorithms: gzip level 42 is refused");
	layer_dispose(&bad);
	layer_dispose(&g9);
	layer_dispose(&n);
	layer_dispose(&z);
}

/* The executor passes -j as threads: a layer of several compression blocks
 * must have the same digest for any of them. */
static void test_threads(void)
{
	mkd("thr", 0755);
	/* Text and bytes that do not compress, over many 128 KiB gzip blocks
	 * and three 1 MiB zstd jobs. */
	uint64_t x = 88172645463325252ull;
	bool wrote = true;
	for (int f = 0; f < 24; f++) {
		size_t n = 20000 + (size_t)f * 9000;
		char *d = xmalloc(n + 1);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			d[i] = f % 2 ? (char)(x >> 40) : "abc de\n"[x % 7];
		}
		d[n] = 0;
		_cleanup_free_ char *rel = xasprintf("thr/f%02d", f);
		_cleanup_free_ char *p = tpath(rel);
		FILE *fp = fopen(p, "wb"); /* put() writes C strings */
		wrote = wrote && fp && fwrite(d, 1, n, fp) == n;
		if (fp)
			wrote = fclose(fp) == 0 && wrote;
		free(d);
	}
	ok(wrote, "threads: the files are written");
	ims_layer_mapping m = copy_m("thr", "/t/");
	static const ims_layer_alg algs[] = { IMS_LAYER_ALG_GZIP, IMS_LAYER_ALG_ZSTD };
	for (size_t a = 0; a < IMS_ARRAY_SIZE(algs); a++) {
		ims_layer_opts o = opts(algs[a]);
		layer one = build(&m, 1, &o);
		ok(one.rc == 0 && one.res.tar_size > 2 * 1024 * 1024, "threads: %s layer of %lld tar bytes",
		   a ? "zstd" : "gzip", (long long)one.res.tar_size);
		static const int threads[] = { 0, 2, 3, 8 };
		for (size_t t = 0; t < IMS_ARRAY_SIZE(threads); t++) {
			o.threads = threads[t];
			layer l = build(&m, 1, &o);
			same_str(l.res.digest, one.res.digest, "threads: %s, %d threads: the digest of 1 thread",
				 a ? "zstd" : "gzip", threads[t]);
			layer_dispose(&l);
		}
		layer_dispose(&one);
	}
	/* A sink that fails halfway: its error comes back through the hops
	 * and the compressor's threads, whatever their number. */
	for (size_t a = 0; a < IMS_ARRAY_SIZE(algs); a++) {
		static const int threads[] = { 1, 2, 8 };
		for (size_t t = 0; t < IMS_ARRAY_SIZE(threads); t++) {
			ims_layer_opts o = opts(algs[a]);
			o.threads = threads[t];
			size_t left = 300000;
			ims_sink s = { test_fail_after, &left };
			ims_layer_result res;
			ims_error *err = NULL;
			int rc = ims_layer_write_files(&m, 1, &o, &s, &res, &err);
			ok(rc < 0 && err && strstr(err->message, "disk full"),
			   "threads: %s, %d threads: a sink failing halfway fails the layer with its error (%s)",
			   a ? "zstd" : "gzip", threads[t], err ? err->message : "no error");
			ims_error_free(err);
		}
	}
}

static void test_whiteouts(void)
{
	ims_layer_val d[3] = { S("/etc/motd"), S("/top"), S("/etc/motd") };
	ims_layer_val op[1] = { S("/var/cache/app/") };
	ims_layer_whiteouts wo = { d, 3, op, 1 };
	ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
	ims_buf out = IMS_BUF_INIT(0);
	ims_sink s = { buf_write, &out };
	ims_layer_result res;
	ims_error *err = NULL;
	int rc = ims_layer_write_whiteouts(&wo, &o, &s, &res, &err);
	is_int(rc, 0, "whiteouts: layer builds (%s)", err ? err->message : "");
	listing L = read_layer(out.data, out.len);
	is_int(L.n, 3, "whiteouts: three entries (duplicate dropped, no parents)");
	ok(sorted(&L), "whiteouts: sorted");
	const got *e = entry(&L, "etc/.wh.motd");
	ok(e && e->type == 'f' && e->size == 0 && e->mode == 0 && e->uid == 0 && e->mtime == CREATED,
	   "whiteouts: `.wh.NAME` in the parent, empty, mode 0, created");
	ok(entry(&L, ".wh.top") != NULL, "whiteouts: at the top level");
	ok(entry(&L, "var/cache/app/.wh..wh..opq") != NULL, "whiteouts: opaque marker");
	listing_dispose(&L);
	ims_buf_dispose(&out);

	ims_layer_val nested[2] = { S("/a"), S("/a/b") };
	ims_layer_whiteouts bad = { nested, 2, NULL, 0 };
	out = (ims_buf)IMS_BUF_INIT(0);
	rc = ims_layer_write_whiteouts(&bad, &o, &s, &res, &err);
	ok(rc == IMS_EINVALID && out.len == 0, "whiteouts: a delete inside a deleted path is refused");
	ims_error_clear(&err);
	ims_layer_val root[1] = { S("/") };
	ims_layer_whiteouts r1 = { root, 1, NULL, 0 };
	rc = ims_layer_write_whiteouts(&r1, &o, &s, &res, &err);
	ok(rc == IMS_EINVALID && err && strstr(err->message, "image.yaml:3:7"), "whiteouts: deleting `/` is refused");
	ims_error_clear(&err);
	ims_buf_dispose(&out);
}

static void test_tarw(void)
{
	ims_buf out = IMS_BUF_INIT(0);
	ims_sink s = { buf_write, &out };
	ims_tarw *w = NULL;
	ims_error *err = NULL;
	ok(ims_tarw_open(&w, IMS_LAYER_ALG_NONE, -1, 1, &s, &err) == 0, "tarw: opens");
	ims_tar_entry e = { .path = "f", .type = IMS_TAR_FILE, .perm = 0644, .size = 10, .source = "src/f" };
	memrd m = { "short", 5, 0 };
	ims_reader r = { mem_read, NULL, &m };
	int rc = ims_tarw_add(w, &e, &r, &err);
	ok(rc == IMS_ESOURCE && err && !strcmp(err->message, "`src/f` changed as we read it"),
	   "tarw: a file that shrank is refused (%s)", err ? err->message : "");
	ims_error_clear(&err);
	ok(ims_tarw_finish(w, &(ims_layer_result){ 0 }, &err) < 0, "tarw: a broken writer cannot finish");
	ims_error_clear(&err);
	ims_tarw_free(w);

	ims_buf_reset(&out);
	ims_tarw_open(&w, IMS_LAYER_ALG_NONE, -1, 1, &s, &err);
	e.size = 3;
	m = (memrd){ "grown", 5, 0 };
	rc = ims_tarw_add(w, &e, &r, &err);
	ok(rc == IMS_ESOURCE && err && strstr(err->message, "changed as we read it"), "tarw: a file that grew is refused");
	ims_error_clear(&err);
	ims_tarw_free(w);

	ims_buf_reset(&out);
	ims_tarw_open(&w, IMS_LAYER_ALG_NONE, -1, 1, &s, &err);
	ims_tar_entry h = { .path = "x", .type = IMS_TAR_HARDLINK, .perm = 0644, .linkname = "etc/passwd" };
	ok(ims_tarw_add(w, &h, NULL, &err) == IMS_EINVALID, "tarw: a hardlink to a path not in the layer is refused");
	ims_error_clear(&err);
	ims_tarw_free(w);

	ims_buf_reset(&out);
	ims_tarw_open(&w, IMS_LAYER_ALG_NONE, -1, 1, &s, &err);
	ims_tar_entry bad = { .path = "a/../b", .type = IMS_TAR_DIR, .perm = 0755 };
	ok(ims_tarw_add(w, &bad, NULL, &err) == IMS_EINVALID, "tarw: a path with .. is refused");
	ims_error_clear(&err);
	size_t before = out.len;
	ims_tarw_free(w);
	is_int(out.len, before, "tarw: freeing an unfinished writer sends nothing more");
	ims_buf_dispose(&out);
}

/* The same change, seen by the content hash alone (ims_layer_files_hash,
 * which checks the file once it has read it). */
static void toctou_hash_case(const char *name, const char *root, void (*swap)(const char *root))
{
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	ims_layer_mapping m = copy_m(root, "/app/");
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	ok(ims_layer_files_prepare(&lf, &m, 1, &o, &err) == 0, "toctou hash %s: the walk succeeds", name);
	ims_error_clear(&err);
	if (!lf)
		return;
	swap(root);
	int rc = ims_layer_files_hash(lf, NULL, &err);
	ok(rc == IMS_ESOURCE && err && strstr(err->message, "dir/f.txt` changed as we read it"),
	   "toctou hash %s: refused, naming the file (%s)", name, err ? err->message : "no error");
	ims_error_clear(&err);
	ims_layer_files_free(lf);
}

/* Catalogue item 21: the tree changes between the walk (prepare) and the
 * read (write): a file swapped for another of the same size, and a
 * directory swapped for a symlink to a look-alike elsewhere. */
static void toctou_case(const char *name, const char *root, void (*swap)(const char *root))
{
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	ims_layer_mapping m = copy_m(root, "/app/");
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	int rc = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	ok(rc == 0, "toctou %s: the walk succeeds", name);
	if (err)
		printf("# %s\n", err->message);
	ims_error_clear(&err);
	if (rc < 0)
		return;
	swap(root);
	ims_buf out = IMS_BUF_INIT(0);
	ims_sink s = { buf_write, &out };
	ims_layer_result res;
	rc = ims_layer_files_write(lf, NULL, &s, &res, &err);
	ok(rc == IMS_ESOURCE && err && strstr(err->message, "dir/f.txt` changed as we read it"),
	   "toctou %s: refused, naming the file (%s)", name, err ? err->message : "no error");
	ok(!out.data || !memmem(out.data, out.len, "EVIL!\n", 6), "toctou %s: the other file's bytes are not in the layer",
	   name);
	ims_error_clear(&err);
	ims_buf_dispose(&out);
	ims_layer_files_free(lf);
}

static void swap_file(const char *root)
{
	char *from = xasprintf("%s/decoy/f.txt", tmp), *to = xasprintf("%s/%s/dir/f.txt", tmp, root);
	if (rename(from, to) < 0)
		printf("# rename: %s\n", strerror(errno));
	free(from);
	free(to);
}

static void swap_dir(const char *root)
{
	char *dir = xasprintf("%s/%s/dir", tmp, root), *old = xasprintf("%s/%s/dir.old", tmp, root);
	if (rename(dir, old) < 0 || symlink("../decoy", dir) < 0)
		printf("# swap: %s\n", strerror(errno));
	free(dir);
	free(old);
}

/* A file that grew after the walk: its first bytes are read as they were
 * sized, and the fstat after the read tells the rest. */
static void grow_file(const char *root)
{
	char *f = xasprintf("%s/%s/dir/f.txt", tmp, root);
	FILE *fp = fopen(f, "a");
	if (!fp || fputs("more\n", fp) < 0)
		printf("# grow: %s\n", strerror(errno));
	if (fp)
		fclose(fp);
	free(f);
}

/* n copies of line (6 bytes), as one string. */
static char *lines(const char *line, size_t n)
{
	char *v = xmalloc(6 * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(v + 6 * i, line, 6);
	v[6 * n] = '\0';
	return v;
}

/* ROOT/dir/f.txt holding text, and, when decoy is not NULL, decoy/f.txt
 * (the same size) for a swap to bring in. */
static void toc_tree(const char *root, const char *text, const char *decoy)
{
	char *dir = xasprintf("%s/dir", root), *f = xasprintf("%s/dir/f.txt", root);
	mkd(root, 0755);
	mkd(dir, 0755);
	put(f, text, 0644);
	if (decoy) {
		mkd("decoy", 0755);
		put("decoy/f.txt", decoy, 0644);
	}
	free(dir);
	free(f);
}

static void test_toctou(void)
{
	/* 192 KiB, more than the tar writer holds back: a swapped file's
	 * bytes would reach the sink if the file were not checked at open */
	char *hello = lines("hello\n", 32768), *evil = lines("EVIL!\n", 32768);
	toc_tree("toc1", hello, evil);
	toctou_case("file swapped", "toc1", swap_file);
	free(hello);
	free(evil);
	toc_tree("toc2", "hello\n", "EVIL!\n");
	toctou_case("directory swapped for a symlink", "toc2", swap_dir);
	toc_tree("toc3", "hello\n", NULL);
	toctou_case("file grown", "toc3", grow_file);
	toc_tree("toc4", "hello\n", "EVIL!\n");
	toctou_hash_case("file swapped", "toc4", swap_file);
	toc_tree("toc5", "hello\n", "EVIL!\n");
	toctou_hash_case("directory swapped for a symlink", "toc5", swap_dir);
	toc_tree("toc6", "hello\n", NULL);
	toctou_hash_case("file grown", "toc6", grow_file);
}

/* ims_beneath_open(rootfd, p, flags) fails with errno e1 or e2 (the fd
 * is closed if it does not). */
static bool beneath_refused(int rootfd, const char *p, int flags, int e1, int e2)
{
	errno = 0;
	int fd = ims_beneath_open(rootfd, p, flags);
	int e = errno;
	if (fd >= 0)
		close(fd);
	return fd < 0 && (e == e1 || e == e2);
}

/* ims_beneath_open with openat2 and, as where the kernel or a seccomp
 * filter refuses it, component by component: the same answers. */
static void beneath_case(const char *how, int rootfd)
{
	char text[16] = "";
	int fd = ims_beneath_open(rootfd, "a/b/c.txt", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (n > 0)
		text[n] = '\0';
	same_str(text, "deep\n", "beneath (%s): a file three levels down is opened", how);
	if (fd >= 0)
		close(fd);
	fd = ims_beneath_open(rootfd, "a/b", O_PATH | O_DIRECTORY);
	ok(fd >= 0, "beneath (%s): ... and a directory, with O_PATH", how);
	if (fd >= 0)
		close(fd);
	ok(beneath_refused(rootfd, "a/link/c.txt", O_RDONLY, ELOOP, ENOTDIR),
	   "beneath (%s): a symlinked directory on the way is refused", how);
	ok(beneath_refused(rootfd, "out/passwd", O_RDONLY, ELOOP, ENOTDIR),
	   "beneath (%s): ... and one that leaves the root", how);
	ok(beneath_refused(rootfd, "a/flink", O_RDONLY, ELOOP, ELOOP),
	   "beneath (%s): a symlink at the end is not followed", how);
	fd = ims_beneath_open(rootfd, "a/flink", O_PATH);
	struct stat st;
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "beneath (%s): ... with O_PATH, the link itself is",
	   how);
	if (fd >= 0)
		close(fd);
	ok(beneath_refused(rootfd, "a/none/c.txt", O_RDONLY, ENOENT, ENOENT),
	   "beneath (%s): a missing directory is ENOENT", how);
}

static void test_beneath(void)
{
	mkd("bn", 0755);
	mkd("bn/a", 0755);
	mkd("bn/a/b", 0755);
	put("bn/a/b/c.txt", "deep\n", 0644);
	lnk("bn/a/link", "b");
	lnk("bn/a/flink", "b/c.txt");
	lnk("bn/out", "/etc");
	_cleanup_free_ char *root = tpath("bn");
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	beneath_case("openat2", rootfd);
	ims_beneath__use_openat2(false);
	beneath_case("component by component", rootfd);
	ims_beneath__use_openat2(true);
	close(rootfd);
}

/* ims_layer_opts.stop: a walk that is no longer wanted (the build failed
 * at the registry while the first layer's tree was listed ahead) gives up
 * at the next directory, with IMS_EINTERRUPTED; unset, the same walk
 * succeeds. */
static void test_stop(void)
{
	mkd("stop", 0755);
	mkd("stop/a", 0755);
	put("stop/a/f.txt", "f", 0644);
	ims_layer_mapping m = copy_m("stop", "/app/");
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	atomic_bool stop;
	atomic_init(&stop, false);
	o.stop = &stop;
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	int rc = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	ok(rc == 0 && lf, "stop: with the flag down, the walk succeeds");
	ims_error_clear(&err);
	ims_layer_files_free(lf);
	lf = NULL;
	atomic_store(&stop, true);
	rc = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	ok(rc == IMS_EINTERRUPTED && !lf && err && strstr(err->message, "stopped"),
	   "stop: with the flag up, the walk gives up (%s)", err ? err->message : "no error");
	ims_error_clear(&err);
	ims_layer_files_free(lf);
}

/* The walk split among threads (walk.c, walk_parts): the same recipe and
 * the same warnings, in the same order, for any -j; and the error of the
 * first failing name in walk order, whichever thread meets its own first.
 * The tree is made for both kinds of split: "pw" has two directories (a
 * narrow split, whose parts split again) and "pw/wide" sixteen (a broad
 * one, whose parts do not). */
typedef struct {
	ims_buf recipe;
	ims_buf said;
	int rc;
	char *error;
} walked;

static walked walk_full(const char *root, int threads, const char *ignore_file, ims_fanout *pool)
{
	walked r = { IMS_BUF_INIT(0), IMS_BUF_INIT(0), 0, NULL };
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	ims_events ev = { warn_cb, &r.said };
	o.ev = &ev;
	o.threads = threads;
	o.pool = pool;
	ims_layer_mapping m = copy_m(root, "/app/");
	if (ignore_file)
		m.ignore_files = vals1(ignore_file), m.nignore_files = 1;
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	r.rc = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	if (r.rc == 0) {
		ims_sink s = { buf_write, &r.recipe };
		ims_layer_files_hash(lf, NULL, &err);
		ims_layer_files_describe(lf, &s, &err);
	}
	r.error = err ? xstrdup(err->message) : NULL;
	ims_error_clear(&err);
	ims_layer_files_free(lf);
	return r;
}

static walked walk_ignoring(const char *root, int threads, const char *ignore_file)
{
	return walk_full(root, threads, ignore_file, NULL);
}

static walked walk_with(const char *root, int threads)
{
	return walk_ignoring(root, threads, NULL);
}

static void walked_dispose(walked *r)
{
	ims_buf_dispose(&r->recipe);
	ims_buf_dispose(&r->said);
	free(r->error);
}

static bool same_buf(const ims_buf *a, const ims_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

/* Content hashes read on several threads (entries.c, ims_fents_hash): two
 * files gone between the walk and the read; the error names the first in
 * order, and the hashes told are those one thread tells, in its order. */
static void learn_path(void *ud, const char *path, const struct stat *st, const char *digest)
{
	ims_buf_printf(ud, "%s %s\n", path, digest);
}

static void hash_gone(int threads, ims_buf *learned, char **error)
{
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	o.threads = threads;
	ims_layer_mapping m = copy_m("pw", "/app/");
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	put("pw/wide/d07/f1", "back", 0644);
	put("pw/wide/d12/f3", "back", 0644);
	if (ims_layer_files_prepare(&lf, &m, 1, &o, &err) == 0) {
		_cleanup_free_ char *a = tpath("pw/wide/d07/f1"), *b = tpath("pw/wide/d12/f3");
		unlink(b);
		unlink(a);
		ims_layer_hashes h = { .learn = learn_path, .ud = learned };
		ims_layer_files_hash(lf, &h, &err);
	}
	*error = err ? xstrdup(err->message) : NULL;
	ims_error_clear(&err);
	ims_layer_files_free(lf);
}

static void split_hash_errors(void)
{
	ims_buf one = IMS_BUF_INIT(0);
	char *e1 = NULL;
	hash_gone(1, &one, &e1);
	ok(e1 && strstr(e1, "d07/f1"), "split hash: one thread fails at the first file gone (%s)", e1 ? e1 : "no error");
	ok(one.len > 0 && memmem(one.data, one.len, "d06/", 4) &&
		   !memmem(one.data, one.len, "d08/", 4), "split hash: one thread told the hashes before it only");
	for (int round = 0; round < 5; round++) {
		ims_buf many = IMS_BUF_INIT(0);
		char *e4 = NULL;
		hash_gone(4, &many, &e4);
		ok(e4 && e1 && !strcmp(e4, e1) && same_buf(&one, &many),
		   "split hash: -j 4, round %d: the same error (%s) and the same hashes told, in order", round + 1,
		   e4 ? e4 : "no error");
		free(e4);
		ims_buf_dispose(&many);
	}
	free(e1);
	ims_buf_dispose(&one);
	put("pw/wide/d07/f1", "pw/wide/d07", 0644);
	put("pw/wide/d12/f3", "pw/wide/d12", 0644);
}

/* A hash stopped (ims_layer_opts.stop, which a build sets when it fails
 * while its first layer's files are hashed ahead, exec/prewalk.c): no
 * file is read, no hash is told, and the error says it was stopped. With
 * the flag down, the same listing hashes every file. */
static void hash_stopped(int threads)
{
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	atomic_bool stop;
	atomic_init(&stop, false);
	o.stop = &stop;
	o.threads = threads;
	ims_layer_mapping m = copy_m("pw", "/app/");
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	ims_buf learned = IMS_BUF_INIT(0);
	ims_layer_hashes h = { .learn = learn_path, .ud = &learned };
	int r = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	ok(r == 0, "stopped hash, -j %d: the walk is made", threads);
	atomic_store(&stop, true);
	r = lf ? ims_layer_files_hash(lf, &h, &err) : -1;
	ok(r < 0 && err && err->code == IMS_EINTERRUPTED && strstr(err->message, "stopped"),
	   "stopped hash, -j %d: it fails as stopped (%s)", threads, err ? err->message : "no error");
	ok(learned.len == 0, "stopped hash, -j %d: no hash is told", threads);
	ims_error_clear(&err);
	atomic_store(&stop, false);
	r = lf ? ims_layer_files_hash(lf, &h, &err) : -1;
	ok(r == 0 && learned.len > 0 && ims_layer_files_known(lf, NULL, NULL) == 0,
	   "stopped hash, -j %d: with the flag down, every file is hashed", threads);
	ims_error_clear(&err);
	ims_buf_dispose(&learned);
	ims_layer_files_free(lf);
}

/* Ignore files under a split walk: each part takes a copy of the rules
 * read so far and adds its own directories' rules to it. A rule that
 * prunes a directory, one that applies at any depth, a `!` below that
 * brings a file back, and one deep in a part. */
static bool has_path(const walked *r, const char *path)
{
	return r->recipe.len && memmem(r->recipe.data, r->recipe.len, path, strlen(path));
}

static void split_walk_ignore_files(void)
{
	put("pw/.myignore", "wide/d05/\ng1*\n", 0644);
	put("pw/wide/d03/.myignore", "!g12\n", 0644);
	put("pw/a/s1/.myignore", "suid\n", 0644);
	walked one = walk_ignoring("pw", 1, ".myignore");
	ok(one.rc == 0 && !has_path(&one, "app/wide/d05/") && !has_path(&one, "app/wide/d04/g12") &&
		   has_path(&one, "app/wide/d03/g12") && has_path(&one, "app/wide/d03/g20") &&
		   !has_path(&one, "app/a/s1/suid") && has_path(&one, "app/a/s2/suid"),
	   "split walk, ignore files: one thread applies the rules (%s)", one.error ? one.error : "");
	for (int threads = 2; threads <= 8; threads *= 2) {
		for (int round = 0; round < 3; round++) {
			walked many = walk_ignoring("pw", threads, ".myignore");
			ok(many.rc == 0 && same_buf(&one.recipe, &many.recipe) && same_buf(&one.said, &many.said),
			   "split walk, ignore files: -j %d, round %d: one thread's recipe and warnings", threads,
			   round + 1);
			walked_dispose(&many);
		}
	}
	walked_dispose(&one);
	_cleanup_free_ char *a = tpath("pw/.myignore"), *b = tpath("pw/wide/d03/.myignore"),
			    *c = tpath("pw/a/s1/.myignore");
	unlink(a);
	unlink(b);
	unlink(c);
}

static void test_split_walk(void)
{
	mkd("pw", 0755);
	mkd("pw/a", 0755);
	mkd("pw/wide", 0755);
	for (int i = 0; i < 16; i++) {
		char d[64], f[80];
		snprintf(d, sizeof(d), "pw/wide/d%02d", i);
		mkd(d, 0755);
		for (int k = 0; k < 5; k++) {
			snprintf(f, sizeof(f), "%s/f%d", d, k);
			put(f, d, 0644);
		}
		snprintf(f, sizeof(f), "%s/.env", d); /* a warning per part */
		put(f, "X=1", 0644);
		for (int k = 0; k < 40; k++) { /* 736 files: hashed in 12 parts */
			snprintf(f, sizeof(f), "%s/g%02d", d, k);
			put(f, f, 0644);
		}
	}
	for (int i = 0; i < 6; i++) {
		char d[64], f[80];
		snprintf(d, sizeof(d), "pw/a/s%d", i);
		mkd(d, 0755);
		snprintf(f, sizeof(f), "%s/suid", d);
		put(f, "x", 04755);
	}
	put("pw/top.txt", "top", 0644);
	put("pw/wide/between", "b", 0644);
	walked one = walk_with("pw", 1);
	ok(one.rc == 0 && one.recipe.len > 0, "split walk: one thread walks the tree (%s)", one.error ? one.error : "");
	size_t nsaid = 0;
	for (size_t i = 0; i < one.said.len; i++)
		nsaid += one.said.data[i] == '\n';
	is_int(nsaid, 22, "split walk: one thread says 22 warnings (16 secrets, 6 dropped setuid bits)");
	for (int threads = 2; threads <= 8; threads *= 2) {
		for (int round = 0; round < 5; round++) {
			walked many = walk_with("pw", threads);
			bool same = many.rc == 0 && same_buf(&one.recipe, &many.recipe) && same_buf(&one.said, &many.said);
			ok(same, "split walk: -j %d, round %d: the recipe and the warnings, in order, of one thread",
			   threads, round + 1);
			walked_dispose(&many);
		}
	}
	/* On a pool the caller started (ims_layer_opts.pool, as the prewalk
	 * starts one before libcurl is loaded): the splits and the hashing
	 * run on it with one thread's results, and it stays the caller's,
	 * to use again and to free. */
	ims_fanout *pool = ims_fanout_new(4);
	for (int round = 0; round < 3; round++) {
		walked pooled = walk_full("pw", 4, NULL, pool);
		ok(pooled.rc == 0 && same_buf(&one.recipe, &pooled.recipe) && same_buf(&one.said, &pooled.said),
		   "split walk: on the caller's pool, round %d: the recipe and the warnings of one thread", round + 1);
		walked_dispose(&pooled);
	}
	ims_fanout_free(pool);
	walked_dispose(&one);

	/* Two FIFOs: the one first in walk order is the error, whatever the
	 * threads (the later one sits in a smaller subtree, so that its
	 * part often fails first). */
	mkd("pw/wide/d03/deep", 0755);
	_cleanup_free_ char *f1 = tpath("pw/wide/d03/deep/fifo"), *f2 = tpath("pw/wide/d09/fifo");
	if (mkfifo(f1, 0644) < 0 || mkfifo(f2, 0644) < 0)
		perror("mkfifo");
	walked e1 = walk_with("pw", 1);
	ok(e1.rc == IMS_ESOURCE && e1.error && strstr(e1.error, "`pw/wide/d03/deep/fifo` is a FIFO"),
	   "split walk: one thread fails at the first FIFO (%s)", e1.error ? e1.error : "no error");
	for (int round = 0; round < 10; round++) {
		walked e4 = walk_with("pw", 4);
		ok(e4.rc == e1.rc && e4.error && e1.error && !strcmp(e4.error, e1.error) && same_buf(&e1.said, &e4.said),
		   "split walk: -j 4, round %d: the same error (%s) after the same warnings", round + 1,
		   e4.error ? e4.error : "no error");
		walked_dispose(&e4);
	}
	walked_dispose(&e1);
	unlink(f1);
	unlink(f2);
	split_hash_errors();
	hash_stopped(1);
	hash_stopped(4);
	split_walk_ignore_files();
}

static void test_long_and_unicode(void)
{
	mkd("uni", 0755);
	put("uni/h\xc3\xa9llo-\xe2\x9c\x93.txt", "u", 0644);
	char lp[200] = "uni/";
	memset(lp + 4, 'x', 150);
	lp[154] = '\0';
	put(lp, "long", 0644);
	ims_layer_mapping m = copy_m("uni", "/u");
	ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
	setlocale(LC_ALL, "C");
	layer a = build(&m, 1, &o);
	setlocale(LC_ALL, "C.UTF-8");
	layer b = build(&m, 1, &o);
	ok(a.rc == 0 && b.rc == 0, "unicode: builds (%s)", msg(&a));
	same_str(a.res.digest, b.res.digest, "unicode: C and C.UTF-8 locales give the same digest");
	listing L = read_layer(a.out.data, a.out.len); /* read in UTF-8, as the names are */
	setlocale(LC_ALL, "C");
	ok(entry(&L, "u/h\xc3\xa9llo-\xe2\x9c\x93.txt") != NULL, "unicode: the UTF-8 name round-trips");
	char want[200];
	snprintf(want, sizeof(want), "u/%s", lp + 4);
	const got *e = entry(&L, want);
	ok(e && e->data && !strcmp(e->data, "long"), "unicode: a 152-byte path round-trips (pax)");
	listing_dispose(&L);
	layer_dispose(&a);
	layer_dispose(&b);
}

static void test_decompress(void)
{
	/* Two gzip members back to back, as pigz or `cat a.gz b.gz` make. */
	const char *parts[2] = { "first part|", "second part" };
	ims_buf gz = IMS_BUF_INIT(0);
	for (int i = 0; i < 2; i++) {
		z_stream z = { 0 };
		unsigned char o[256];
		deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		z.next_in = (unsigned char *)(uintptr_t)parts[i];
		z.avail_in = (uInt)strlen(parts[i]);
		z.next_out = o;
		z.avail_out = sizeof(o);
		deflate(&z, Z_FINISH);
		ims_buf_add(&gz, o, sizeof(o) - z.avail_out, NULL);
		deflateEnd(&z);
	}
	ims_buf outb = IMS_BUF_INIT(0);
	char diff[IMS_DIGEST_BUFSZ] = "", want[IMS_DIGEST_BUFSZ];
	int rc;
	decompress(gz.data, gz.len, &outb, diff, &rc);
	is_int(rc, 0, "decompress: concatenated gzip members");
	same_str(outb.data, "first part|second part", "decompress: both members come out");
	ims_sha256_buf("first part|second part", 22, want);
	same_str(diff, want, "decompress: diff_id covers both");
	ims_buf_reset(&outb);
	decompress(gz.data, gz.len - 3, &outb, diff, &rc);
	is_int(rc, IMS_EINVALID, "decompress: a truncated stream is an error");
	ims_buf_reset(&outb);
	decompress("plain tar bytes", 15, &outb, diff, &rc);
	ok(rc == 0 && outb.len == 15, "decompress: plain input passes through");
	ims_buf_dispose(&outb);
	ims_buf_dispose(&gz);
}

/* A 200 MB sparse file streams through with a small, fixed footprint. */
static void test_big_sparse(void)
{
	mkd("big", 0755);
	_cleanup_free_ char *p = tpath("big/sparse");
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ok(fd >= 0 && ftruncate(fd, 200 << 20) == 0, "big: made a 200 MB sparse file");
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		ims_layer_mapping m = copy_m("big", "/big");
		ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
		ims_sink s = ims_sink_null();
		ims_layer_result res;
		ims_error *err = NULL;
		int rc = ims_layer_write_files(&m, 1, &o, &s, &res, &err);
		_exit(rc == 0 && res.tar_size > (200 << 20) ? 0 : 1);
	}
	int st = 0;
	struct rusage ru;
	wait4(pid, &st, 0, &ru);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "big: the layer builds");
	ok(ru.ru_maxrss < 64 * 1024, "big: peak RSS %ld KiB is under 64 MiB", ru.ru_maxrss);

	/* Past the cap, refused before a byte is read. */
	mkd("huge", 0755);
	_cleanup_free_ char *hf = tpath("huge/f");
	fd = open(hf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd >= 0 && ftruncate(fd, (off_t)65 << 30) == 0) {
		close(fd);
		ims_layer_mapping m = copy_m("huge", "/h");
		ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
		layer l = build(&m, 1, &o);
		ok(l.rc == IMS_ESOURCE && l.out.len == 0 && strstr(msg(&l), "64 GiB"),
		   "big: a 65 GiB layer is refused before writing (%s)", msg(&l));
		layer_dispose(&l);
	} else {
		if (fd >= 0)
			close(fd);
		ok(1, "# SKIP the filesystem cannot hold a 65 GiB sparse file");
	}
	unlink(hf);
	unlink(p);
}

/* A file written while the layer reads it: the layer is built from what
 * was read, but it is not remembered (ims_layer_files_unchanged) and the
 * stat cache is not told that file's hash (its walk stat would stand for
 * other bytes). The sink touches big.bin when the first bytes of the tar
 * reach it, which is while big.bin (1 MiB, first in order) is read. */
typedef struct {
	ims_buf out;
	bool touch, touched;
} touching_sink;

static int touch_write(void *ud, const void *p, size_t n, ims_error **err)
{
	touching_sink *t = ud;
	if (t->touch && !t->touched) {
		_cleanup_free_ char *f = tpath("chg/big.bin");
		struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
		t->touched = utimensat(AT_FDCWD, f, ts, 0) == 0;
	}
	return buf_write(&t->out, p, n, err);
}

static void changed_case(bool touch)
{
	const char *name = touch ? "touched while read" : "left alone";
	_cleanup_free_ char *big = xmalloc(1 << 20);
	memset(big, 'x', 1 << 20);
	big[(1 << 20) - 1] = '\0';
	put("chg/big.bin", big, 0644);
	put("chg/small.txt", "small\n", 0644);
	ims_layer_opts o = opts(IMS_LAYER_ALG_NONE);
	ims_layer_mapping m = copy_m("chg", "/app/");
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	ims_buf learned = IMS_BUF_INIT(0);
	touching_sink t = { IMS_BUF_INIT(0), touch, false };
	int rc = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	if (rc == 0) {
		ims_layer_hashes h = { .learn = learn_path, .ud = &learned };
		ims_sink s = { touch_write, &t };
		ims_layer_result res;
		rc = ims_layer_files_write(lf, &h, &s, &res, &err);
	}
	ok(rc == 0 && t.touched == touch, "changed while read, %s: the layer is written (%s)", name,
	   err ? err->message : "no error");
	ok(lf && ims_layer_files_unchanged(lf) == !touch, "changed while read, %s: %s", name,
	   touch ? "the layer is not remembered" : "the layer is remembered");
	bool big_learned = learned.data && memmem(learned.data, learned.len, "big.bin ", 8);
	bool small_learned = learned.data && memmem(learned.data, learned.len, "small.txt ", 10);
	ok(big_learned == !touch && small_learned, "changed while read, %s: the stat cache learns %s", name,
	   touch ? "the other file only" : "both files");
	ims_error_clear(&err);
	ims_layer_files_free(lf);
	ims_buf_dispose(&learned);
	ims_buf_dispose(&t.out);
}

/* Reading sources leaves their access times alone (util/fs.c,
 * ims_openat_noatime): a file and the directory it is in, with access
 * times older than their mtimes (which relatime would update on a read),
 * hashed for a recipe, then written into a layer. A plain read of a twin
 * first tells whether this filesystem keeps access times at all. */
static time_t atime_of(const char *rel)
{
	_cleanup_free_ char *p = tpath(rel);
	struct stat st;
	return stat(p, &st) == 0 ? st.st_atim.tv_sec : -1;
}

static void set_old_times(const char *rel)
{
	_cleanup_free_ char *p = tpath(rel);
	struct timespec ts[2] = { { 946684800, 0 }, { 1262304000, 0 } }; /* 2000, 2010 */
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static void test_atime(void)
{
	mkd("at", 0755);
	mkd("at/d", 0755);
	put("at/d/f", "read for a layer\n", 0644);
	put("at-twin", "read plainly\n", 0644);
	set_old_times("at/d/f");
	set_old_times("at/d");
	set_old_times("at-twin");
	_cleanup_free_ char *twin = tpath("at-twin");
	char c;
	int fd = open(twin, O_RDONLY | O_CLOEXEC);
	bool kept = fd >= 0 && read(fd, &c, 1) == 1 && atime_of("at-twin") != 946684800;
	if (fd >= 0)
		close(fd);
	if (!kept)
		printf("# this filesystem keeps no access times: the checks below cannot fail\n");
	ims_layer_opts o = opts(IMS_LAYER_ALG_GZIP);
	ims_layer_mapping m = copy_m("at", "/app/");
	ims_layer_files *lf = NULL;
	ims_error *err = NULL;
	ims_layer_result res;
	ims_sink null = ims_sink_null();
	int r = ims_layer_files_prepare(&lf, &m, 1, &o, &err);
	if (r == 0)
		r = ims_layer_files_hash(lf, NULL, &err);
	ok(r == 0 && atime_of("at/d/f") == 946684800, "atime: hashing a file leaves its access time (%s)",
	   err ? err->message : "read");
	if (r == 0)
		r = ims_layer_files_write(lf, NULL, &null, &res, &err);
	ok(r == 0 && atime_of("at/d/f") == 946684800, "atime: writing it into a layer too");
	ok(r == 0 && atime_of("at/d") == 946684800, "atime: listing its directory too");
	ims_error_clear(&err);
	ims_layer_files_free(lf);
}

static void test_changed_while_read(void)
{
	mkd("chg", 0755);
	changed_case(false);
	changed_case(true);
}

int main(void)
{
	ims_error *err = NULL;
	if (ims_mkdtemp(NULL, "test-layer", &tmp, &err) < 0) {
		printf("Bail out! %s\n", err->message);
		return 1;
	}
	test_basic();
	test_umask();
	test_modes();
	test_dest();
	test_inline();
	test_symlinks();
	test_refused();
	test_hardlinks();
	test_merge();
	test_dest_clean();
	test_skips();
	test_patterns();
	test_algorithms();
	test_whiteouts();
	test_tarw();
	test_toctou();
	test_beneath();
	test_long_and_unicode();
	test_decompress();
	test_big_sparse();
	/* After test_big_sparse: their walks' memory, once freed, would sit
	 * in ASan's quarantine and count in the RSS of its fork. */
	test_stop();
	test_split_walk();
	test_changed_while_read();
	test_atime();
	/* Last: its zstd workers' buffers, once freed, would sit in ASan's
	 * quarantine and count in the RSS of test_big_sparse's fork. */
	test_threads();
	ims_rm_rf(tmp, NULL);
	free(tmp);
	return tap_done();
}
