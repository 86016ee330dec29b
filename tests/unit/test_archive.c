/* Archive layers: fixtures are written with libarchive at test time, the
 * layer goes to a temp file and is read back with libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digest/digest.h"
#include "layer/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"

#define CREATED 1767225600 /* 2026-01-01T00:00:00Z */

/* A fixture entry: type f(ile) d(ir) l(symlink) h(ardlink) c(har device) p(fifo). */
typedef struct {
	const char *name;
	char type;
	const char *arg; /* file content or link target */
	unsigned mode;
	int uid;
} fx;

typedef struct {
	char *path;
	char type;
	char *link;
	unsigned mode;
	long long uid, gid, mtime;
	char *data;
} got;

static char *tmp;

/* tap.h's is_str nests two `_c`s; compare strings here instead. */
#define same_str(a, b, ...)                                                                   \
	do {                                                                                  \
		const char *_sa = (a), *_sb = (b);                                            \
		bool _eq = _sa && _sb && !strcmp(_sa, _sb);                                   \
		ok(_eq, __VA_ARGS__);                                                         \
		if (!_eq)                                                                     \
			printf("#   got: '%s' expected: '%s'\n", _sa ? _sa : "(null)", _sb ? _sb : "(null)"); \
	} while (0)

static char *tpath(const char *name)
{
	return ims_path_join(tmp, name);
}

static char *make_tar(const char *name, const char *filter, const fx *v, size_t n)
{
	char *path = tpath(name);
	struct archive *a = archive_write_new();
	if (!strcmp(filter, "gnu"))
		archive_write_set_format_gnutar(a);
	else
		archive_write_set_format_pax_restricted(a);
	if (!strcmp(filter, "gz"))
		archive_write_add_filter_gzip(a);
	else if (!strcmp(filter, "zst"))
		archive_write_add_filter_zstd(a);
	else if (!strcmp(filter, "xz"))
		archive_write_add_filter_xz(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		printf("# open %s: %s\n", path, archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_perm(e, v[i].mode ? v[i].mode : 0644);
		archive_entry_set_uid(e, v[i].uid);
		archive_entry_set_gid(e, v[i].uid);
		archive_entry_set_uname(e, "someone");
		archive_entry_set_mtime(e, 12345, 0);
		size_t len = 0;
		switch (v[i].type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			len = strlen(v[i].arg);
			archive_entry_set_size(e, (la_int64_t)len);
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, v[i].arg);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, v[i].arg);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdev(e, 0x0103);
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			break;
		}
		archive_write_header(a, e);
		if (len)
			archive_write_data(a, v[i].arg, len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return path;
}

static int file_write(void *ud, const void *p, size_t n, ims_error **err)
{
	return fwrite(p, 1, n, ud) == n ? 0 : IMS_EGENERIC;
}

typedef struct {
	const char *dest;
	const char *include[4];
	int strip;
	const char *sha256;
	ims_layer_attrs defaults;
	bool gzip; /* else uncompressed */
	int64_t created;
} params;

/* Runs the layer into out.tar; returns the code and fills res and err. */
static int run(char *archive, const params *p, ims_layer_result *res, ims_error **err)
{
	size_t ninc = 0;
	while (ninc < 4 && p->include[ninc])
		ninc++;
	ims_layer_archive l = {
		.shown = archive,
		.dest = p->dest,
		.include = p->include,
		.ninclude = ninc,
		.strip_components = p->strip,
		.sha256 = p->sha256,
	};
	ims_layer_opts o = {
		.created = p->created ? p->created : CREATED,
		.defaults = p->defaults,
		.alg = p->gzip ? IMS_LAYER_ALG_GZIP : IMS_LAYER_ALG_NONE,
		.level = -1,
	};
	char *out = tpath("out.tar");
	FILE *f = fopen(out, "wb");
	ims_sink sink = { file_write, f };
	memset(res, 0, sizeof(*res));
	int r = ims_layer_write_archive(&l, archive, &o, &sink, res, err);
	fclose(f);
	free(out);
	return r;
}

static size_t read_layer(got *v, size_t max)
{
	char *out = tpath("out.tar");
	/* Only the reader is pinned to UTF-8: the code under test runs in the
	 * C locale and must produce UTF-8 names by itself. */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	size_t n = 0;
	if (archive_read_open_filename(a, out, 10240) == ARCHIVE_OK) {
		struct archive_entry *e;
		while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
			got *g = &v[n++];
			memset(g, 0, sizeof(*g));
			g->path = xstrdup(archive_entry_pathname(e));
			size_t len = strlen(g->path);
			if (len > 1 && g->path[len - 1] == '/')
				g->path[len - 1] = '\0';
			g->mode = archive_entry_perm(e);
			g->uid = archive_entry_uid(e);
			g->gid = archive_entry_gid(e);
			g->mtime = archive_entry_mtime(e);
			if (archive_entry_hardlink(e)) {
				g->type = 'h';
				g->link = xstrdup(archive_entry_hardlink(e));
			} else if (archive_entry_filetype(e) == AE_IFDIR) {
				g->type = 'd';
			} else if (archive_entry_filetype(e) == AE_IFLNK) {
				g->type = 'l';
				g->link = xstrdup(archive_entry_symlink(e));
			} else {
				g->type = 'f';
				size_t size = (size_t)archive_entry_size(e);
				g->data = xcalloc(1, size + 1);
				archive_read_data(a, g->data, size);
			}
			if (archive_entry_uname(e) && *archive_entry_uname(e))
				g->type = '!'; /* names must be dropped */
		}
	}
	archive_read_free(a);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	free(out);
	return n;
}

static void free_got(got *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].link);
		free(v[i].data);
	}
}

static const got *find(const got *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].path, path))
			return &v[i];
	return NULL;
}

static const fx go_tree[] = {
	{ "go/", 'd', NULL, 0755, 1000 },
	{ "go/bin/", 'd', NULL, 0750, 1000 },
	{ "go/bin/go", 'f', "gobinary", 04755, 1000 },
	{ "go/bin/gofmt", 'h', "go/bin/go", 0755, 1000 },
	{ "go/README", 'f', "readme\n", 0644, 0 },
	{ "go/lib/", 'd', NULL, 0755, 0 },
	{ "go/lib/readme", 'l', "../README", 0777, 0 },
	{ "go/lib/abs", 'l', "/usr/local/go/bin/go", 0777, 0 },
	{ "other/", 'd', NULL, 0755, 0 },
	{ "other/x.txt", 'f', "x", 0644, 0 },
	{ "top.txt", 'f', "top", 0600, 0 },
};

static void test_formats(void)
{
	got v[32];
	ims_layer_result res, res_plain;
	ims_error *err = NULL;
	params p = { .dest = "/usr/local" };

	char *plain = make_tar("go.tar", "", go_tree, IMS_ARRAY_SIZE(go_tree));
	is_int(run(plain, &p, &res_plain, &err), 0, "plain tar re-rooted under /usr/local");
	if (err)
		printf("# %s\n", err->message), ims_error_clear(&err);
	size_t n = read_layer(v, 32);
	is_int(n, IMS_ARRAY_SIZE(go_tree), "every entry is written");
	is_int(res_plain.entries, IMS_ARRAY_SIZE(go_tree), "result counts the entries");
	same_str(v[0].path, "usr/local/go", "archive order kept, first entry re-rooted");
	ok(!find(v, n, "usr") && !find(v, n, "usr/local"), "parents of dest get no entries");
	const got *g = find(v, n, "usr/local/go/bin/go");
	ok(g && g->type == 'f' && !strcmp(g->data, "gobinary"), "file content streamed");
	ok(g && g->mode == 04755, "mode kept with setuid");
	ok(g && g->uid == 1000 && g->gid == 1000, "uid and gid kept");
	ok(g && g->mtime == CREATED, "mtime becomes created");
	g = find(v, n, "usr/local/go/bin");
	ok(g && g->type == 'd' && g->mode == 0750, "directory mode kept");
	g = find(v, n, "usr/local/go/bin/gofmt");
	ok(g && g->type == 'h' && !strcmp(g->link, "usr/local/go/bin/go"), "hard link kept, target re-rooted");
	g = find(v, n, "usr/local/go/lib/readme");
	ok(g && g->type == 'l' && !strcmp(g->link, "../README"), "relative symlink inside dest kept");
	g = find(v, n, "usr/local/go/lib/abs");
	ok(g && g->type == 'l' && !strcmp(g->link, "/usr/local/go/bin/go"), "absolute symlink into dest kept");
	bool names = false;
	for (size_t i = 0; i < n; i++)
		names |= v[i].type == '!';
	ok(!names, "user and group names dropped");
	free_got(v, n);

	/* The same entries compressed three ways give the same layer. */
	const char *filters[] = { "gz", "zst", "xz" };
	for (size_t i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "go.tar.%s", filters[i]);
		char *path = make_tar(name, filters[i], go_tree, IMS_ARRAY_SIZE(go_tree));
		is_int(run(path, &p, &res, &err), 0, "%s input", name);
		if (err)
			printf("# %s\n", err->message), ims_error_clear(&err);
		same_str(res.diff_id, res_plain.diff_id, "%s gives the same tar as plain", name);
		free(path);
	}

	/* Reproducible: the same input twice, gzip output. */
	ims_layer_result a, b;
	p.gzip = true;
	is_int(run(plain, &p, &a, &err), 0, "gzip output");
	n = read_layer(v, 32);
	is_int(n, IMS_ARRAY_SIZE(go_tree), "gzip output reads back");
	free_got(v, n);
	is_int(run(plain, &p, &b, &err), 0, "gzip output again");
	same_str(a.digest, b.digest, "same input, same digest");
	same_str(a.diff_id, res_plain.diff_id, "diffId does not depend on the compression");
	ok(strcmp(a.digest, a.diff_id) != 0, "digest is of the compressed bytes");
	p.created = CREATED + 1;
	is_int(run(plain, &p, &b, &err), 0, "another created");
	ok(strcmp(a.digest, b.digest) != 0, "created changes the digest");
	free(plain);
}

static void test_strip_include(void)
{
	got v[32];
	ims_layer_result res;
	ims_error *err = NULL;
	char *plain = make_tar("go2.tar", "", go_tree, IMS_ARRAY_SIZE(go_tree));

	params p = { .dest = "/usr/local/go", .strip = 1 };
	is_int(run(plain, &p, &res, &err), 0, "stripComponents 1");
	if (err)
		printf("# %s\n", err->message), ims_error_clear(&err);
	size_t n = read_layer(v, 32);
	ok(find(v, n, "usr/local/go/bin/go") && find(v, n, "usr/local/go/README"), "one component stripped");
	ok(!find(v, n, "usr/local/go") && !find(v, n, "usr/local/go/go"), "entries stripped to nothing are skipped");
	ok(!find(v, n, "usr/local/go/top.txt"), "a top-level file is stripped away");
	const got *g = find(v, n, "usr/local/go/bin/gofmt");
	ok(g && !strcmp(g->link, "usr/local/go/bin/go"), "hard link target stripped too");
	ok(find(v, n, "usr/local/go/x.txt") != NULL, "other/x.txt stripped to x.txt");
	free_got(v, n);

	params q = { .dest = "/usr/local", .include = { "go/**" } };
	is_int(run(plain, &q, &res, &err), 0, "include go/**");
	n = read_layer(v, 32);
	ok(find(v, n, "usr/local/go/bin/go") != NULL, "included file kept");
	ok(find(v, n, "usr/local/go") != NULL, "directory above included entries kept");
	ok(!find(v, n, "usr/local/other") && !find(v, n, "usr/local/other/x.txt"), "other tree left out");
	ok(!find(v, n, "usr/local/top.txt"), "top-level file left out");
	free_got(v, n);

	params k = { .dest = "/usr/local/bin", .include = { "bin/go" }, .strip = 1 };
	is_int(run(plain, &k, &res, &err), 0, "strip then include");
	n = read_layer(v, 32);
	is_int(n, 2, "just the file and its directory");
	ok(find(v, n, "usr/local/bin/bin/go") && find(v, n, "usr/local/bin/bin"), "include matched the stripped path");
	free_got(v, n);

	/* The archive root and "./" names. */
	static const fx dotted[] = {
		{ "./", 'd', NULL, 0700, 7 },
		{ "./app/", 'd', NULL, 0755, 0 },
		{ "./app/run", 'f', "#!/bin/sh\n", 0755, 0 },
	};
	char *dot = make_tar("dot.tar", "", dotted, IMS_ARRAY_SIZE(dotted));
	params r1 = { .dest = "/srv" };
	is_int(run(dot, &r1, &res, &err), 0, "archive with a root entry");
	n = read_layer(v, 32);
	g = find(v, n, "srv");
	ok(g && g->type == 'd' && g->mode == 0700 && g->uid == 7, "dest takes the archive root's metadata");
	ok(find(v, n, "srv/app/run") != NULL, "./ prefix dropped");
	free_got(v, n);
	params r2 = { .dest = "/" };
	is_int(run(dot, &r2, &res, &err), 0, "dest /");
	n = read_layer(v, 32);
	is_int(n, 2, "no entry for the image root");
	ok(find(v, n, "app/run") != NULL, "entries at the root");
	free_got(v, n);
	params r3 = { .strip = 1 };
	is_int(run(dot, &r3, &res, &err), 0, "strip counts `.` as tar does");
	n = read_layer(v, 32);
	ok(find(v, n, "app/run") && n == 2, "./app/run stripped by 1 is app/run");
	free_got(v, n);
	free(dot);
	free(plain);
}

/* Runs an archive made of v and expects a refusal naming archive and entry. */
static void refused(const char *label, const fx *v, size_t nv, const params *p, const char *entry)
{
	ims_layer_result res;
	ims_error *err = NULL;
	char *path = make_tar("bad.tar", "", v, nv);
	int r = run(path, p, &res, &err);
	is_int(r, IMS_ESOURCE, "%s: refused", label);
	ok(err && strstr(err->message, "bad.tar") && strstr(err->message, entry), "%s: names archive and `%s`", label,
	   entry);
	if (err)
		printf("# %s\n", err->message);
	ims_error_clear(&err);
	free(path);
}

static void test_refusals(void)
{
	params p = { .dest = "/usr/local" };
	static const fx abs[] = { { "/etc/passwd", 'f', "x", 0644, 0 } };
	refused("absolute name", abs, 1, &p, "/etc/passwd");
	static const fx dotdot[] = { { "../x", 'f', "x", 0644, 0 } };
	refused("`..` name", dotdot, 1, &p, "../x");
	static const fx dotdot2[] = { { "a/../../x", 'f', "x", 0644, 0 } };
	params strip = { .dest = "/usr/local", .strip = 2 };
	refused("`..` that strip would remove", dotdot2, 1, &strip, "a/../../x");
	static const fx esc[] = { { "go/", 'd', NULL, 0755, 0 }, { "go/evil", 'l', "../../../etc/passwd", 0777, 0 } };
	refused("symlink leaving dest", esc, 2, &p, "go/evil");
	static const fx esc2[] = { { "evil", 'l', "/etc/passwd", 0777, 0 } };
	refused("absolute symlink outside dest", esc2, 1, &p, "evil");
	static const fx esc3[] = { { "go/x", 'l', "../../local/go", 0777, 0 } };
	refused("symlink stepping out of dest and back", esc3, 1, &p, "go/x");
	static const fx hl[] = { { "a", 'h', "b", 0644, 0 }, { "b", 'f', "b", 0644, 0 } };
	refused("hard link to a later entry", hl, 2, &p, "a");
	static const fx hl2[] = { { "a", 'h', "/etc/shadow", 0644, 0 } };
	refused("hard link to an absolute path", hl2, 1, &p, "a");
	static const fx dev[] = { { "dev/null", 'c', NULL, 0666, 0 } };
	refused("device node", dev, 1, &p, "dev/null");
	static const fx fifo[] = { { "pipe", 'p', NULL, 0644, 0 } };
	refused("fifo", fifo, 1, &p, "pipe");
	static const fx ctl[] = { { "bad\nname", 'f', "x", 0644, 0 } };
	refused("control character in a name", ctl, 1, &p, "bad\\x0aname");
	/* issue 9, item 5: a tarball of files cannot delete files of the base */
	static const fx wh[] = { { "etc/", 'd', NULL, 0755, 0 }, { "etc/.wh.passwd", 'f', "", 0644, 0 } };
	refused("whiteout", wh, 2, &p, "etc/.wh.passwd");
	static const fx opq[] = { { "var/x/", 'd', NULL, 0755, 0 }, { "var/x/.wh..wh..opq", 'f', "", 0644, 0 } };
	refused("opaque whiteout", opq, 2, &p, "var/x/.wh..wh..opq");
	static const fx whdir[] = { { ".wh.etc/", 'd', NULL, 0755, 0 } };
	refused("whiteout directory", whdir, 1, &p, ".wh.etc");
	{
		static const fx wh3[] = { { "etc/", 'd', NULL, 0755, 0 },
					  { "etc/ok", 'f', "ok", 0644, 0 },
					  { "etc/.wh.passwd", 'f', "", 0644, 0 } };
		char *wp = make_tar("wh-left.tar", "", wh3, 3);
		ims_layer_result wr;
		ims_error *we = NULL;
		params only = { .dest = "/", .include = { "etc/ok" } };
		is_int(run(wp, &only, &wr, &we), 0, "a whiteout left out by include is fine");
		ims_error_clear(&we);
		is_int(run(wp, &p, &wr, &we), IMS_ESOURCE, "a whiteout is a source problem (exit 1)");
		ok(we && we->hint && strstr(we->hint, "`delete:`"), "the hint points to `delete:`");
		ims_error_clear(&we);
		free(wp);
	}

	/* What include leaves out is not refused. */
	static const fx mixed[] = { { "dev/null", 'c', NULL, 0666, 0 }, { "bin/ko", 'f', "ko", 0755, 0 } };
	char *path = make_tar("mixed.tar", "", mixed, 2);
	ims_layer_result res;
	ims_error *err = NULL;
	params q = { .dest = "/usr/local/bin", .include = { "bin/ko" } };
	is_int(run(path, &q, &res, &err), 0, "a device left out by include is fine");
	ims_error_clear(&err);
	params root = { .dest = "/" };
	static const fx upup[] = { { "a/l", 'l', "../../../etc", 0777, 0 } };
	char *up = make_tar("upup.tar", "", upup, 1);
	is_int(run(up, &root, &res, &err), 0, "with dest /, `..` above the root stays at the root");
	ims_error_clear(&err);
	free(up);
	free(path);

	char *missing = tpath("missing.tar");
	is_int(run(missing, &p, &res, &err), IMS_ENOTFOUND, "missing archive");
	ims_error_clear(&err);
	free(missing);
	char *junk = tpath("junk.tar");
	FILE *f = fopen(junk, "w");
	fputs("this is not a tar archive, not even close to one", f);
	fclose(f);
	ok(run(junk, &p, &res, &err) < 0, "a file that is not a tar is refused");
	ok(err && strstr(err->message, "junk.tar"), "the error names the archive");
	ims_error_clear(&err);
	free(junk);
}

static void test_sha256_and_overrides(void)
{
	got v[32];
	ims_layer_result res;
	ims_error *err = NULL;
	char *path = make_tar("sum.tar.gz", "gz", go_tree, IMS_ARRAY_SIZE(go_tree));
	char *data;
	size_t len;
	ims_read_file(path, 1 << 20, &data, &len, NULL);
	char sum[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len, sum);
	free(data);

	params p = { .dest = "/usr/local", .sha256 = sum + 7 };
	is_int(run(path, &p, &res, &err), 0, "sha256 as hex matches");
	p.sha256 = sum;
	is_int(run(path, &p, &res, &err), 0, "sha256 with the sha256: prefix matches");
	p.sha256 = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	is_int(run(path, &p, &res, &err), IMS_EDIGEST, "sha256 mismatch refused");
	ok(err && strstr(err->message, ims_digest_hex(sum)) && strstr(err->message, "00000000"),
	   "mismatch shows actual and expected");
	ims_error_clear(&err);
	p.sha256 = "abc";
	is_int(run(path, &p, &res, &err), IMS_EINVALID, "malformed sha256 refused");
	ims_error_clear(&err);

	params o = { .dest = "/usr/local",
		     .defaults = { .has_uid = true, .uid = 0, .has_gid = true, .gid = 42, .has_mode = true,
				   .mode = 0640, .has_dir_mode = true, .dir_mode = 0711 } };
	is_int(run(path, &o, &res, &err), 0, "defaults override");
	size_t n = read_layer(v, 32);
	const got *g = find(v, n, "usr/local/go/bin/go");
	ok(g && g->uid == 0 && g->gid == 42, "uid and gid overridden");
	ok(g && g->mode == 0640, "file mode overridden");
	g = find(v, n, "usr/local/go/bin");
	ok(g && g->mode == 0711, "directory mode overridden");
	g = find(v, n, "usr/local/go/lib/readme");
	ok(g && g->type == 'l', "symlinks untouched by mode");
	free_got(v, n);
	free(path);
}

static void test_names_and_times(void)
{
	got v[8];
	ims_layer_result res;
	ims_error *err = NULL;
	char longname[300];
	memset(longname, 'n', 250);
	strcpy(longname + 250, "/file");

	/* Non-ASCII names survive whatever the locale (tests run under C). */
	const fx names[] = {
		{ "caf\xc3\xa9/", 'd', NULL, 0755, 0 },
		{ "caf\xc3\xa9/na\xc3\xafve.txt", 'f', "x", 0644, 0 },
		{ longname, 'f', "long", 0644, 0 },
	};
	char *pax = make_tar("utf8.tar", "", names, IMS_ARRAY_SIZE(names));
	char *gnu = make_tar("gnu.tar", "gnu", names + 2, 1);
	params p = { .dest = "/d", .defaults = { .has_mtime = true, .mtime = 42 } };
	is_int(run(pax, &p, &res, &err), 0, "UTF-8 names");
	if (err)
		printf("# %s\n", err->message), ims_error_clear(&err);
	size_t n = read_layer(v, 8);
	ok(find(v, n, "d/caf\xc3\xa9/na\xc3\xafve.txt") != NULL, "UTF-8 name kept byte for byte");
	char *want = xasprintf("d/%s", longname);
	ok(find(v, n, want) != NULL, "long pax name kept");
	ok(n && v[0].mtime == 42, "an mtime in defaults wins over created");
	free_got(v, n);
	is_int(run(gnu, &p, &res, &err), 0, "GNU tar input");
	n = read_layer(v, 8);
	ok(n == 1 && find(v, n, want), "GNU long name read");
	free_got(v, n);
	free(want);
	free(pax);
	free(gnu);

	/* A hard link whose target include leaves out cannot be kept. */
	static const fx hl[] = { { "lib/real", 'f', "r", 0644, 0 }, { "bin/link", 'h', "lib/real", 0644, 0 } };
	char *path = make_tar("hl.tar", "", hl, 2);
	params q = { .include = { "bin/**" } };
	is_int(run(path, &q, &res, &err), IMS_ESOURCE, "hard link to a file left out by include");
	ims_error_clear(&err);
	params all = { .include = { "bin/**", "lib/**" } };
	is_int(run(path, &all, &res, &err), 0, "with both included it is kept");
	n = read_layer(v, 8);
	is_int(n, 2, "both files, and no directories the archive lacks");
	free_got(v, n);
	free(path);
}

/* What fuzz_archive_layer found: an include that keeps only top-level
 * entries collects no parent directory, and the empty list was handed to
 * qsort as NULL (undefined behaviour, caught by UBSan). */
static void test_include_top_level(void)
{
	static const fx top[] = { { "bin", 'f', "x\n", 0644, 0 }, { "lib/", 'd', NULL, 0755, 0 } };
	char *path = make_tar("top-level.tar", "", top, 2);
	params q = { .include = { "bin" } };
	ims_layer_result res;
	ims_error *err = NULL;
	is_int(run(path, &q, &res, &err), 0, "include matching only a top-level file");
	if (err)
		printf("# %s\n", err->message), ims_error_clear(&err);
	got v[4];
	size_t n = read_layer(v, 4);
	ok(n == 1 && find(v, n, "bin"), "... keeps just that file");
	free_got(v, n);
	free(path);
}

/* The name checks on their own (ims_layer__archive_entry_path, the
 * function fuzz_archive_names drives). */
static void test_entry_path(void)
{
	char *p = NULL;
	ims_error *err = NULL;
	is_int(ims_layer__archive_entry_path("/opt/app", 2, "./pkg/bin/tool", NULL, &p, &err), 0, "entry path: taken");
	is_str(p, "opt/app/bin/tool", "entry path: below dest, with `.` counted as tar counts it");
	free(p);
	is_int(ims_layer__archive_entry_path(NULL, 0, "top", NULL, &p, &err), 0, "entry path: a top-level name");
	is_str(p, "top", "entry path: ... is taken as it is");
	free(p);
	is_int(ims_layer__archive_entry_path(NULL, 1, "top", NULL, &p, &err), 0, "entry path: stripped away is fine");
	ok(p == NULL, "entry path: nothing left");
	is_int(ims_layer__archive_entry_path(NULL, 0, "a/.wh..wh..opq", NULL, &p, &err), IMS_ESOURCE,
	       "entry path: an opaque whiteout is refused");
	ok(err && strstr(err->message, "whiteouts (`.wh.*`) are refused") && !p, "entry path: ... saying why");
	ims_error_clear(&err);
	is_int(ims_layer__archive_entry_path("/opt", 0, "x/.wh.y/z", NULL, &p, &err), IMS_ESOURCE,
	       "entry path: a whiteout directory component is refused");
	ims_error_clear(&err);
	is_int(ims_layer__archive_entry_path("/opt", 0, "s", "../etc", &p, &err), IMS_ESOURCE,
	       "entry path: a symlink leaving dest is refused");
	ok(err && strstr(err->message, "leaves `/opt`") && !p, "entry path: ... naming dest");
	ims_error_clear(&err);
	is_int(ims_layer__archive_entry_path("/opt", 0, "a/s", "../b", &p, &err), 0, "entry path: a symlink inside");
	free(p);
	is_int(ims_layer__archive_entry_path(NULL, 0, "a/../../x", NULL, &p, &err), IMS_ESOURCE,
	       "entry path: `..` is refused");
	ims_error_clear(&err);
}

int main(void)
{
	ims_error *err = NULL;
	if (ims_mkdtemp(NULL, "test-archive", &tmp, &err) < 0) {
		printf("Bail out! %s\n", err->message);
		return 1;
	}
	test_formats();
	test_strip_include();
	test_refusals();
	test_sha256_and_overrides();
	test_names_and_times();
	test_include_top_level();
	test_entry_path();
	/* IMS_TEST_KEEP=1 leaves the fixtures and the last layer for a look. */
	if (!getenv("IMS_TEST_KEEP"))
		ims_rm_rf(tmp, NULL);
	free(tmp);
	return tap_done();
}
