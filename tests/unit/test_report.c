/* The layer report: listing a layer blob (layer/listing.c), comparing two
 * report trees (report/compare.c), the tree of names (report/tree.c) and
 * the page's escaping (report/html.c). Tars are written with libarchive
 * into memory at test time. */
#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/digest.h"
#include "json/json.h"
#include "layer/listing.h"
#include "report/report.h"
#include "report/tree.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "tap.h"

/* ---- listing ---------------------------------------------------------- */

typedef struct {
	const char *name;
	char type; /* f d l h */
	const char *arg;
} fx;

static size_t make_tar(char *buf, size_t cap, bool gz, const fx *v, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	size_t used = 0;
	archive_write_open_memory(a, buf, cap, &used);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_perm(e, 0640);
		archive_entry_set_uid(e, 7);
		if (v[i].type == 'f') {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(v[i].arg));
		} else if (v[i].type == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (v[i].type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, v[i].arg);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, v[i].arg);
		}
		archive_write_header(a, e);
		if (v[i].type == 'f')
			archive_write_data(a, v[i].arg, strlen(v[i].arg));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

typedef struct {
	const char *p;
	size_t len, pos;
} mem;

static ssize_t mem_read(void *ud, void *p, size_t n, ims_error **err)
{
	(void)err;
	mem *m = ud;
	size_t k = m->len - m->pos < n ? m->len - m->pos : n;
	memcpy(p, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

typedef struct {
	char lines[16][200];
	size_t n;
} seen;

static const char *const tnames[] = { "file", "dir", "symlink", "hardlink", "whiteout", "opaque", "other" };

static int on_entry(void *ud, const ims_list_entry *e, ims_error **err)
{
	(void)err;
	seen *s = ud;
	if (s->n < 16)
		snprintf(s->lines[s->n++], 200, "%s %s %lld %o %s %.15s", tnames[e->type], e->path, (long long)e->size,
			 e->mode, e->link ? e->link : "-", e->digest ? e->digest : "-");
	return 0;
}

static void test_listing(bool gz)
{
	static const fx v[] = {
		{ "./usr/", 'd', NULL },         { "./usr/hi", 'f', "hello\n" }, { "usr/link", 'l', "hi" },
		{ "usr/hard", 'h', "./usr/hi" }, { "etc/.wh.passwd", 'f', "" },  { "var/cache/.wh..wh..opq", 'f', "" },
		{ ".wh..wh..opq", 'f', "" },
	};
	static char buf[1 << 16];
	size_t len = make_tar(buf, sizeof(buf), gz, v, sizeof(v) / sizeof(*v));
	mem m = { buf, len, 0 };
	ims_reader r = { mem_read, NULL, &m };
	seen s = { .n = 0 };
	ims_error *err = NULL;
	int rc = ims_layer_list(&r, "test", on_entry, &s, &err);
	is_int(rc, 0, "%s: the layer is listed", gz ? "tar.gz" : "tar");
	is_int(s.n, 7, "%s: every entry once", gz ? "tar.gz" : "tar");
	is_str(s.lines[0], "dir usr 0 640 - -", "a directory without ./ and /");
	is_str(s.lines[1], "file usr/hi 6 640 - sha256:5891b5b5", "a file with its size and content digest");
	is_str(s.lines[2], "symlink usr/link 0 640 hi -", "a symlink with its target");
	is_str(s.lines[3], "hardlink usr/hard 0 640 usr/hi -", "a hard link with its target, without ./");
	is_str(s.lines[4], "whiteout etc/passwd 0 640 - -", ".wh.NAME is the deletion of NAME");
	is_str(s.lines[5], "opaque var/cache 0 640 - -", ".wh..wh..opq is its directory, emptied");
	is_str(s.lines[6], "opaque  0 640 - -", "an opaque root is the empty path");
	ims_error_free(err);
}

static void test_listing_garbage(void)
{
	static const char junk[] =
		"this is not a tar archive, not gzip, not zstd; it goes on for a while "
		"so that libarchive has more than a header's worth of bytes to look at. "
		"................................................................................"
		"................................................................................"
		"................................................................................"
		"................................................................................"
		"................................................................................"
		"................................................................................";
	mem m = { junk, sizeof(junk) - 1, 0 };
	ims_reader r = { mem_read, NULL, &m };
	seen s = { .n = 0 };
	ims_error *err = NULL;
	int rc = ims_layer_list(&r, "layer 3 `x`", on_entry, &s, &err);
	is_int(rc, IMS_EINVALID, "bytes that are no tar are refused");
	ok(err && strstr(err->message, "layer 3 `x`: not a tar layer"), "the message names the layer: %s",
	   err ? err->message : "(none)");
	ims_error_free(err);
}

/* ---- compare ---------------------------------------------------------- */

static ims_json *parse(const char *s)
{
	ims_json *j = NULL;
	if (ims_json_parse(&j, s, strlen(s), NULL, NULL) < 0)
		printf("# cannot parse %s\n", s);
	return j;
}

static char *enc(const ims_json *j)
{
	return j ? ims_json_encode(j, NULL) : xstrdup("null");
}

static void test_compare(void)
{
	ims_json *before = parse(
		"{\"reference\":\"old\",\"digest\":\"sha256:0\",\"layers\":["
		"{\"index\":0,\"diffId\":\"sha256:a\",\"files\":[]},"
		"{\"index\":1,\"diffId\":\"sha256:b\",\"files\":["
		"{\"path\":\"x\",\"type\":\"file\",\"size\":1,\"mode\":420,\"digest\":\"sha256:1\"},"
		"{\"path\":\"gone\",\"type\":\"file\",\"size\":1,\"mode\":420,\"digest\":\"sha256:2\"},"
		"{\"path\":\"mode\",\"type\":\"file\",\"size\":1,\"mode\":420,\"digest\":\"sha256:3\"}]},"
		"{\"index\":2,\"diffId\":\"sha256:c\",\"files\":[]},"
		"{\"index\":3,\"diffId\":\"sha256:d\",\"digest\":\"sha256:dd\",\"size\":5,\"entries\":0,\"files\":[]}]}");
	ims_json *now = parse(
		"{\"reference\":\"new\",\"layers\":["
		"{\"index\":0,\"diffId\":\"sha256:a\",\"files\":[]},"
		"{\"index\":1,\"diffId\":\"sha256:B\",\"files\":["
		"{\"path\":\"x\",\"type\":\"file\",\"size\":1,\"mode\":420,\"digest\":\"sha256:9\"},"
		"{\"path\":\"mode\",\"type\":\"file\",\"size\":1,\"mode\":493,\"digest\":\"sha256:3\"},"
		"{\"path\":\"new\",\"type\":\"file\",\"size\":1,\"mode\":420,\"digest\":\"sha256:4\"}]},"
		"{\"index\":2,\"diffId\":\"sha256:c\",\"files\":[]}]}");
	ims_report_compare(now, before);
	const ims_json *l = ims_json_get(now, "layers");
	is_str(ims_json_get_string(ims_json_get(l->v[0], "change"), "status"), "same", "the same diffId: same");
	_cleanup_free_ char *c1 = enc(ims_json_get(l->v[1], "change"));
	is_str(c1, "{\"status\":\"changed\",\"added\":[\"new\"],\"removed\":[\"gone\"],\"changed\":[\"mode\",\"x\"]}",
	       "another diffId: files compared by path, content digest and mode");
	is_str(ims_json_get_string(ims_json_get(l->v[2], "change"), "status"), "same", "the third layer: same");
	_cleanup_free_ char *gone = enc(ims_json_get(now, "removedLayers"));
	is_str(gone, "[{\"index\":3,\"digest\":\"sha256:dd\",\"diffId\":\"sha256:d\",\"size\":5,\"entries\":0}]",
	       "the old image's extra layer is listed as removed");
	_cleanup_free_ char *ag = enc(ims_json_get(now, "against"));
	is_str(ag, "{\"reference\":\"old\",\"digest\":\"sha256:0\"}", "the image compared with is named");
	ims_json_free(now);

	/* moved, and added past the old image's end */
	now = parse(
		"{\"layers\":[{\"diffId\":\"sha256:c\",\"files\":[]},{\"diffId\":\"sha256:e\",\"files\":[]},"
		"{\"diffId\":\"sha256:f\",\"files\":[]},{\"diffId\":\"sha256:g\",\"files\":[]},"
		"{\"diffId\":\"sha256:h\",\"files\":[{\"path\":\"p\"}]}]}");
	ims_report_compare(now, before);
	l = ims_json_get(now, "layers");
	is_str(ims_json_get_string(ims_json_get(l->v[0], "change"), "status"), "moved",
	       "a diffId found elsewhere: moved");
	is_str(ims_json_get_string(ims_json_get(l->v[4], "change"), "status"), "added", "past the old end: added");
	_cleanup_free_ char *added = enc(ims_json_get(ims_json_get(l->v[4], "change"), "added"));
	is_str(added, "[\"p\"]", "an added layer's files are all added");
	ims_json_free(now);
	ims_json_free(before);
}

/* ---- tree and page ---------------------------------------------------- */

static void test_tree(void)
{
	ims_json *files = parse(
		"[{\"path\":\"a-b\",\"size\":1},{\"path\":\"a/b\",\"size\":2},{\"path\":\"a\",\"size\":0},"
		"{\"path\":\"a/c/d\",\"size\":4},{\"path\":\"a\",\"type\":\"opaque\"},{\"path\":\"\"}]");
	ims_report_node *root = ims_report_tree(files);
	is_int(root->n, 4, "root: ., a, a (opaque), a-b");
	is_str(root->kids[0]->name, ".", "the empty path is the layer's root");
	is_str(root->kids[1]->name, "a", "a before a-b: '/' sorts first");
	is_str(root->kids[3]->name, "a-b", "a-b last");
	const ims_report_node *a = root->kids[1]->n ? root->kids[1] : root->kids[2];
	is_int(a->n, 2, "a holds b and the implied directory c");
	ok(a->n == 2 && !a->kids[1]->entry && a->kids[1]->n == 1, "c is implied (no entry of its own), holding d");
	is_int(root->total, 7, "the root's total is every size");
	is_int(a->total, 6, "a's total is what is below it");
	ims_report_tree_free(root);
	ims_json_free(files);
}

static void test_html(void)
{
	ims_json *r = parse(
		"{\"reference\":\"<ref>\",\"digest\":\"sha256:1\",\"config\":{\"Cmd\":[\"</script>\"],"
		"\"Labels\":{\"k\":\"<b>&\"}},\"history\":[{\"created_by\":\"<i>\"}],\"layers\":[{\"index\":0,\"size\":10,"
		"\"files\":[{\"path\":\"d/<img src=x onerror=alert(1)>\",\"type\":\"file\",\"size\":3},"
		"{\"path\":\"q\\\"'&amp;\\u0001\",\"type\":\"file\",\"size\":1},"
		"{\"path\":\"etc/old\",\"type\":\"whiteout\"}]}]}");
	size_t len = 0;
	_cleanup_free_ char *page = ims_report_html(r, &len);
	is_int(strlen(page), len, "the length is the page's");
	ok(!strstr(page, "<img") && !strstr(page, "<ref>") && !strstr(page, "<b>") && !strstr(page, "<i>"),
	   "no name or value from the image is markup");
	ok(strstr(page, "&lt;img src=x onerror=alert(1)&gt;") != NULL, "a file name is escaped text");
	ok(strstr(page, "data-path=\"q&quot;&#39;&amp;amp;&#xFFFD;\"") != NULL,
	   "quotes, & and control characters are escaped in attributes");
	ok(strstr(page, "&lt;/script&gt;") != NULL, "</script> in the config is text");
	int scripts = 0;
	for (const char *p = page; (p = strstr(p, "<script")); p++)
		scripts++;
	is_int(scripts, 1, "one <script>, the page's own");
	ok(!strstr(page, "http:") && !strstr(page, "https:"), "no URL");
	ok(strstr(page, "etc/old") && strstr(page, "class=\"del\"") && strstr(page, "deleted"),
	   "a whiteout is shown as a deletion");
	ok(strstr(page, "width:100.0%") != NULL, "the largest layer's bar is full width");
	ims_json_free(r);
}

int main(void)
{
	test_listing(false);
	test_listing(true);
	test_listing_garbage();
	test_compare();
	test_tree();
	test_html();
	return tap_done();
}
