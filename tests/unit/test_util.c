/* The util room (capped buffers, files, paths, errors) and the digest room. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "digest/digest.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/event.h"
#include "util/fanout.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/lazylib.h"
#include "util/stream.h"
#include "util/text.h"
#include "util/tmpfile.h"
#include "util/xalloc.h"
#include "tap.h"

static char *tmpdir;

static char *tpath(const char *rel)
{
	return ims_path_join(tmpdir, rel);
}

static void put(const char *rel, const char *content)
{
	char *p = tpath(rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
	free(p);
}

static bool exists(const char *rel)
{
	char *p = tpath(rel);
	bool r = ims_path_exists(p);
	free(p);
	return r;
}

/* Number of entries in a directory, "." and ".." left out. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_buf(void)
{
	ims_buf b = IMS_BUF_INIT(4);
	ims_error *e = NULL;

	is_int(ims_buf_add(&b, "ab", 2, &e), 0, "add under the cap");
	is_int(ims_buf_add(&b, "cd", 2, &e), 0, "add up to exactly the cap");
	ok(!e, "no error at the cap");
	is_int(b.len, 4, "length at the cap");
	is_str(b.data, "abcd", "content at the cap");
	int rc = ims_buf_add(&b, "e", 1, &e);
	ok(rc < 0 && e, "one byte over the cap is refused");
	is_int(rc, IMS_EGENERIC, "over the cap: IMS_EGENERIC as documented in buf.h");
	ok(e && e->code == IMS_EGENERIC, "the error carries the code");
	ok(e && e->message && strstr(e->message, "4"), "the error names the limit: %s", e ? e->message : "");
	is_int(b.len, 4, "a refused add leaves the length");
	is_str(b.data, "abcd", "a refused add leaves the content");
	ims_error_clear(&e);
	ok(ims_buf_add(&b, "x", SIZE_MAX, &e) < 0 && e, "a huge add does not overflow the check");
	ims_error_clear(&e);
	is_int(ims_buf_add(&b, "", 0, &e), 0, "an empty add at the cap is fine");
	ims_buf_dispose(&b);
	ok(b.data == NULL && b.len == 0, "dispose empties");

	ims_buf b2 = IMS_BUF_INIT(4);
	ok(ims_buf_add(&b2, "abcde", 5, &e) < 0, "a single add over the cap is refused");
	ok(b2.len == 0, "and leaves the buffer empty");
	ims_error_clear(&e);
	ims_buf_dispose(&b2);

	ims_buf u = IMS_BUF_INIT(0);
	char big[10000];
	memset(big, 'z', sizeof(big));
	is_int(ims_buf_add(&u, big, sizeof(big), NULL), 0, "max 0 means no cap");
	ims_buf_reset(&u);
	ok(u.len == 0 && u.data && u.data[0] == '\0', "reset empties but keeps the storage");
	ims_buf_puts(&u, "a");
	ims_buf_putc(&u, 'b');
	ims_buf_printf(&u, "%d-%s", 42, "c");
	size_t len = 0;
	char *s = ims_buf_steal(&u, &len);
	is_str(s, "ab42-c", "puts, putc and printf append");
	is_int(len, 6, "steal gives the length");
	ok(u.data == NULL && u.len == 0, "steal empties the buffer");
	free(s);
	s = ims_buf_steal(&u, &len);
	ok(s && s[0] == '\0' && len == 0, "stealing an empty buffer gives \"\"");
	free(s);

	/* put_int writes what printf's %lld and %llo write. */
	static const long long nums[] = { 0, 1, -1, 7, 8, 9, 10, 0644, 0100755, 1234567890123LL, -987654321LL,
					  LLONG_MAX, LLONG_MIN };
	bool same = true;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char want[80];
		snprintf(want, sizeof(want), "%lld|%llo", nums[i], (unsigned long long)nums[i]);
		ims_buf_put_int(&u, nums[i], 10);
		ims_buf_putc(&u, '|');
		ims_buf_put_int(&u, nums[i], 8);
		if (strcmp(u.data, want) != 0) {
			printf("# put_int: got %s, printf gives %s\n", u.data, want);
			same = false;
		}
		ims_buf_reset(&u);
	}
	ims_buf_dispose(&u);
	ok(same, "put_int writes what printf does, in decimal and octal, LLONG_MIN and LLONG_MAX included");
}

static void test_read_file(void)
{
	ims_error *e = NULL;
	char *data = NULL;
	size_t len = 0;
	char *p = tpath("missing");
	is_int(ims_read_file(p, 100, &data, &len, &e), IMS_ENOTFOUND, "a missing file is IMS_ENOTFOUND");
	ok(e && e->code == IMS_ENOTFOUND && e->sys_errno == ENOENT, "with ENOENT recorded");
	ok(e && strstr(e->message, p), "and the path named: %s", e ? e->message : "");
	ok(data == NULL, "out untouched on failure");
	ims_error_clear(&e);
	free(p);

	int rc = ims_read_file(tmpdir, 100, &data, &len, &e);
	ok(rc < 0 && e && data == NULL, "a directory is refused");
	is_int(rc, IMS_EINVALID, "a directory is IMS_EINVALID");
	ims_error_clear(&e);

	ok(ims_read_file("/dev/null", 100, &data, &len, &e) < 0 && data == NULL, "a device is refused");
	ims_error_clear(&e);

	put("ten", "0123456789");
	p = tpath("ten");
	is_int(ims_read_file(p, 10, &data, &len, &e), 0, "a file of exactly the cap is read");
	ok(data && len == 10 && !memcmp(data, "0123456789", 10) && data[10] == '\0', "content, length, NUL");
	free(data);
	data = NULL;
	is_int(ims_read_file(p, 1000, &data, NULL, &e), 0, "len may be NULL");
	is_str(data, "0123456789", "content with a larger cap");
	free(data);
	data = NULL;
	rc = ims_read_file(p, 9, &data, &len, &e);
	ok(rc < 0 && data == NULL, "one byte over the cap is refused");
	is_int(rc, IMS_EINVALID, "over the cap is IMS_EINVALID");
	ims_error_clear(&e);
	free(p);

	put("empty", "");
	p = tpath("empty");
	is_int(ims_read_file(p, 0, &data, &len, &e), 0, "an empty file with cap 0");
	ok(data && len == 0 && data[0] == '\0', "gives an empty string");
	free(data);
	data = NULL;
	free(p);

	/* A FIFO with no writer: a blocking open() would hang here forever;
	 * the alarm turns a hang into a failure. */
	p = tpath("fifo");
	ok(mkfifo(p, 0600) == 0, "mkfifo");
	alarm(10);
	rc = ims_read_file(p, 100, &data, &len, &e);
	alarm(0);
	ok(rc < 0 && e && data == NULL, "a FIFO is refused without blocking");
	ims_error_clear(&e);
	free(p);
}

static void test_write_file(void)
{
	ims_error *e = NULL;
	char *dir = tpath("w");
	char *p = tpath("w/out.json");
	mkdir(dir, 0755);
	is_int(ims_write_file_atomic(p, "hello", 5, 0640, &e), 0, "write a new file");
	char *data = NULL;
	size_t len = 0;
	ok(ims_read_file(p, 100, &data, &len, NULL) == 0 && len == 5 && !memcmp(data, "hello", 5), "content");
	free(data);
	data = NULL;
	struct stat st;
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640, "mode 0640 (umask does not apply)");
	is_int(ims_write_file_atomic(p, "bye", 3, 0600, &e), 0, "replace it");
	ok(ims_read_file(p, 100, &data, &len, NULL) == 0 && len == 3 && !memcmp(data, "bye", 3), "new content");
	free(data);
	data = NULL;
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "new mode 0600");
	is_int(ims_write_file_atomic(p, "", 0, 0644, &e), 0, "write an empty file");
	ok(stat(p, &st) == 0 && st.st_size == 0, "empty");
	is_int(count_entries(dir), 1, "no temp files are left behind");

	char *bad = tpath("w/nodir/out.json");
	ok(ims_write_file_atomic(bad, "x", 1, 0644, &e) < 0 && e, "a missing directory fails");
	ok(e && e->sys_errno == ENOENT, "with ENOENT");
	ims_error_clear(&e);
	is_int(count_entries(dir), 1, "a failure leaves nothing behind");
	free(bad);

	/* A directory in the way: rename() fails after the temp file exists. */
	char *sub = tpath("w/sub");
	mkdir(sub, 0755);
	char *inner = tpath("w/sub/x");
	mkdir(inner, 0755);
	ok(ims_write_file_atomic(inner, "x", 1, 0644, &e) < 0 && e, "a directory in the way fails");
	ims_error_clear(&e);
	is_int(count_entries(sub), 1, "and its temp file is removed");
	free(sub);
	free(inner);
	free(dir);
	free(p);

	int fds[2];
	if (pipe(fds) == 0) {
		char buf[8] = { 0 };
		ok(ims_write_all(fds[1], "pipe", 4) == 0 && read(fds[0], buf, sizeof(buf)) == 4 && !strcmp(buf, "pipe"),
		   "ims_write_all");
		close(fds[0]);
		close(fds[1]);
	}
}

static void test_mkdir_rm(void)
{
	ims_error *e = NULL;
	struct stat st;
	char *p = tpath("m/a/b/c");
	is_int(ims_mkdir_p(p, 0700, &e), 0, "mkdir -p of three new levels");
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "the leaf is a directory");
	ok((st.st_mode & 0777) == 0700, "with the mode asked for");
	is_int(ims_mkdir_p(p, 0700, &e), 0, "again: existing is fine");
	char *q = tpath("m/a/b/c/d/");
	is_int(ims_mkdir_p(q, 0755, &e), 0, "a trailing slash is fine");
	ok(exists("m/a/b/c/d"), "created");
	free(q);
	put("m/file", "x");
	q = tpath("m/file");
	ok(ims_mkdir_p(q, 0755, &e) < 0 && e, "a file in the way fails");
	ims_error_clear(&e);
	free(q);
	q = tpath("m/file/sub");
	ok(ims_mkdir_p(q, 0755, &e) < 0 && e, "a file as a parent fails");
	ims_error_clear(&e);
	free(q);
	free(p);

	/* rm -rf never follows a symlink out of the tree. */
	char *a = tpath("A");
	mkdir(a, 0755);
	put("A/keep", "precious");
	char *adir = tpath("A/dir");
	mkdir(adir, 0755);
	put("A/dir/keep2", "precious");
	char *b = tpath("B");
	q = tpath("B/x/y");
	ims_mkdir_p(q, 0755, NULL);
	free(q);
	put("B/x/y/f", "junk");
	put("B/f", "junk");
	char *link = tpath("B/x/link");
	ok(symlink(a, link) == 0, "symlink B/x/link -> A");
	char *link2 = tpath("B/dirlink");
	ok(symlink(adir, link2) == 0, "symlink B/dirlink -> A/dir");
	is_int(ims_rm_rf(b, &e), 0, "rm -rf B");
	ok(!exists("B"), "B is gone");
	ok(exists("A/keep") && exists("A/dir/keep2"), "A's files survive");
	free(link);
	free(link2);

	/* The path itself is a symlink to a directory: the link goes, not the target. */
	link = tpath("toA");
	ok(symlink(a, link) == 0, "symlink toA -> A");
	is_int(ims_rm_rf(link, &e), 0, "rm -rf on a symlink");
	ok(!exists("toA") && exists("A/keep"), "removes the link, not the target");
	free(link);

	/* Read-only directories inside the tree are removed too (we own them). */
	q = tpath("R/ro");
	ims_mkdir_p(q, 0755, NULL);
	put("R/ro/f", "x");
	chmod(q, 0555);
	char *r = tpath("R");
	if (geteuid() != 0) {
		int rc = ims_rm_rf(r, &e);
		ok(rc < 0 && e, "a read-only subdirectory fails cleanly as non-root");
		ims_error_clear(&e);
		chmod(q, 0755);
	}
	is_int(ims_rm_rf(r, &e), 0, "rm -rf R");
	ok(!exists("R"), "R is gone");
	free(r);
	free(q);

	char *missing = tpath("does-not-exist");
	is_int(ims_rm_rf(missing, &e), 0, "a missing path is fine");
	free(missing);
	is_int(ims_rm_rf(NULL, &e), 0, "NULL is fine");
	is_int(ims_rm_rf("", &e), 0, "\"\" is fine");
	ok(!e, "no error set");
	free(a);
	free(adir);
	free(b);

	char *t = NULL;
	is_int(ims_mkdtemp(tmpdir, "unit", &t, &e), 0, "ims_mkdtemp");
	ok(t && !strncmp(t, tmpdir, strlen(tmpdir)) && stat(t, &st) == 0 && S_ISDIR(st.st_mode) &&
		   (st.st_mode & 0777) == 0700,
	   "a private directory under the hint");
	free(t);
}

static void test_paths(void)
{
	static const struct {
		const char *in, *want;
	} clean[] = {
		{ "/a/./b//c/", "/a/b/c" },
		{ "a/../..", NULL },
		{ "/", "/" },
		{ ".", "." },
		{ "", "." },
		{ "a/..", "." },
		{ "/a/..", "/" },
		{ "/..", NULL },
		{ "..", NULL },
		{ "a/b/../c", "a/c" },
		{ "./a/", "a" },
		{ "//a//b", "/a/b" },
		{ "a/./b/./", "a/b" },
		{ "/a/b/c/../../d", "/a/d" },
	};
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		char *c = ims_path_clean(clean[i].in);
		is_str(c, clean[i].want, "clean `%s`", clean[i].in);
		free(c);
	}

	static const struct {
		const char *a, *b, *want;
	} join[] = {
		{ "a", "b", "a/b" }, { "a/", "/b", "a/b" }, { "a//", "//b/c", "a/b/c" },
		{ "/", "x", "/x" },  { "//", "/x", "/x" },  { "/a/b", "c.json", "/a/b/c.json" },
	};
	for (size_t i = 0; i < sizeof(join) / sizeof(join[0]); i++) {
		char *j = ims_path_join(join[i].a, join[i].b);
		is_str(j, join[i].want, "join `%s` `%s`", join[i].a, join[i].b);
		free(j);
	}

	static const struct {
		const char *in, *want;
	} dirs[] = {
		{ "/a/b", "/a" }, { "a/b", "a" }, { "a", "." }, { "/a", "/" }, { "/", "/" }, { "a/b/c.txt", "a/b" },
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *d = ims_path_dirname(dirs[i].in);
		is_str(d, dirs[i].want, "dirname `%s`", dirs[i].in);
		free(d);
	}

	char *s = ims_path_absolute("/base/dir", "x/../y");
	is_str(s, "/base/dir/y", "absolute against a base, cleaned");
	free(s);
	s = ims_path_absolute("/base/dir", "/abs/./p");
	is_str(s, "/abs/p", "an absolute path ignores the base");
	free(s);
	s = ims_path_absolute("/base", "../..");
	is_str(s, "/", "climbing above / stops at /");
	free(s);
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd))) {
		s = ims_path_absolute(NULL, "rel");
		char *want = ims_path_join(cwd, "rel");
		is_str(s, want, "NULL base is the cwd");
		free(want);
		free(s);
		s = ims_path_absolute(NULL, ".");
		is_str(s, cwd, "`.` is the cwd");
		free(s);
	}
	ok(ims_path_exists("/") && !ims_path_exists("/nonexistent-imagespec-path"), "ims_path_exists");
}

static void test_errors(void)
{
	ims_error *e = NULL;
	is_int(ims_error_set(&e, IMS_ENOTFOUND, "blob `%s` not found", "x"), IMS_ENOTFOUND, "set returns the code");
	ok(e && e->code == IMS_ENOTFOUND && e->sys_errno == 0 && e->http_status == 0 && !e->hint, "set fields");
	is_str(e ? e->message : NULL, "blob `x` not found", "set message");
	is_int(ims_error_set(&e, IMS_EAUTH, "second"), IMS_EAUTH, "set on a set error returns its own code");
	ok(e && e->code == IMS_ENOTFOUND, "but keeps the first code");
	is_str(e ? e->message : NULL, "blob `x` not found", "and the first message");
	is_int(ims_error_wrap(&e, "pull `%s`", "img"), IMS_ENOTFOUND, "wrap returns the root code");
	is_str(e ? e->message : NULL, "pull `img`: blob `x` not found", "wrap prefixes");
	ok(e && e->code == IMS_ENOTFOUND, "wrap keeps the code");
	ims_error_hint(&e, "try %s", "again");
	is_str(e ? e->hint : NULL, "try again", "hint");
	ims_error_hint(&e, "other");
	is_str(e ? e->hint : NULL, "other", "hint replaces");
	is_int(ims_error_append(&e, IMS_EINVALID, "line %d", 2), IMS_ENOTFOUND, "append returns the first code");
	is_str(e ? e->message : NULL, "pull `img`: blob `x` not found\nline 2", "append adds a line");
	ims_error_clear(&e);
	ok(e == NULL, "clear sets NULL");
	ims_error_clear(&e);
	ims_error_clear(NULL);
	ims_error_free(NULL);

	is_int(ims_error_append(&e, IMS_EINVALID, "first %s", "line"), IMS_EINVALID, "append creates");
	ok(e && e->code == IMS_EINVALID, "with the code given");
	is_str(e ? e->message : NULL, "first line", "and the line");
	ims_error_clear(&e);

	is_int(ims_error_wrap(&e, "nothing"), IMS_EGENERIC, "wrap without an error");
	ok(e == NULL, "creates nothing");
	ims_error_hint(&e, "nothing");
	ok(e == NULL, "hint without an error creates nothing");
	is_int(ims_error_set(NULL, IMS_ENET, "x"), IMS_ENET, "set with NULL err returns the code");
	is_int(ims_error_wrap(NULL, "x"), IMS_EGENERIC, "wrap with NULL err");
	is_int(ims_error_append(NULL, IMS_EDIGEST, "x"), IMS_EDIGEST, "append with NULL err");

	is_int(ims_error_sys(&e, ENOENT, IMS_ENOTFOUND, "open `%s`", "f"), IMS_ENOTFOUND, "sys returns the code");
	ok(e && e->sys_errno == ENOENT, "sys records errno");
	char *want = xasprintf("open `f`: %s", strerror(ENOENT));
	is_str(e ? e->message : NULL, want, "sys appends strerror");
	free(want);
	ims_error_clear(&e);

	is_int(ims_error_exit_status(IMS_OK), 0, "IMS_OK -> 0");
	is_int(ims_error_exit_status(IMS_EINVALID), 2, "IMS_EINVALID -> 2");
	is_int(ims_error_exit_status(IMS_EAUTH), 3, "IMS_EAUTH -> 3");
	is_int(ims_error_exit_status(IMS_ESOURCE), 1, "IMS_ESOURCE -> 1");
	is_int(ims_error_exit_status(IMS_EGENERIC), 1, "IMS_EGENERIC -> 1");
	is_int(ims_error_exit_status(IMS_ENOTFOUND), 1, "IMS_ENOTFOUND -> 1");
	is_int(ims_error_exit_status(IMS_EDIGEST), 1, "IMS_EDIGEST -> 1");
	is_int(ims_error_exit_status(IMS_ENET), 1, "IMS_ENET -> 1");
	is_int(ims_error_exit_status(IMS_EUNSUPPORTED), 1, "IMS_EUNSUPPORTED -> 1");
	is_int(ims_error_exit_status(-42), 1, "an unknown code -> 1");
}

#define EMPTY_SHA "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define ABC448_SHA "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MILLION_A_SHA "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

/* issue 9, item 9: text checks, and escaping of what is echoed. */
static void test_text(void)
{
	ok(ims_text_ok("héllo wörld", strlen("héllo wörld"), 0, NULL), "text: printable UTF-8 is fine");
	size_t bad = 99;
	ok(!ims_text_ok("a\x1b[31m", 6, 0, &bad) && bad == 1, "text: ESC refused, at its offset");
	ok(!ims_text_ok("a\xc2\x85", 3, 0, &bad) && bad == 1, "text: C1 (NEL) refused");
	ok(!ims_text_ok("a\x7f", 2, 0, NULL), "text: DEL refused");
	ok(!ims_text_ok("ab\xef\xbb\xbf" "c", 6, 0, &bad) && bad == 2, "text: a BOM in the middle refused");
	ok(!ims_text_ok("a\tb", 3, 0, NULL) && ims_text_ok("a\tb", 3, IMS_TEXT_TAB, NULL), "text: tab only when allowed");
	ok(!ims_text_ok("a\nb", 3, IMS_TEXT_TAB, NULL) && ims_text_ok("a\nb", 3, IMS_TEXT_NEWLINE, NULL),
	   "text: newline only when allowed");
	ok(!ims_text_ok("\xff", 1, 0, NULL), "text: invalid UTF-8 refused");

	char *q = ims_text_quote("bad\x1b[31mtag\n\xc2\x9b");
	is_str(q, "bad\\x1b[31mtag\\x0a\\xc2\\x9b", "quote: ESC, newline and CSI escaped");
	free(q);
	q = ims_text_quote_lines("a\nb\x07");
	is_str(q, "a\nb\\x07", "quote_lines: newlines kept, BEL escaped");
	free(q);
	q = ims_text_quote("plain `text` é");
	is_str(q, "plain `text` é", "quote: plain text unchanged");
	free(q);

	ims_error *e = NULL;
	ims_error_set(&e, IMS_EINVALID, "tag `%s` is bad", "x\x1b]0;pwned\x07");
	is_str(e ? e->message : NULL, "tag `x\\x1b]0;pwned\\x07` is bad", "errors: control characters escaped");
	ims_error_wrap(&e, "from `%s`", "\x1b[2J");
	ims_error_hint(&e, "try `%s`", "\x9b");
	ok(e && !strchr(e->message, 0x1b) && e->hint && !strstr(e->hint, "\x9b"), "errors: wrap and hint escaped too");
	ims_error_clear(&e);
}

static void test_digest(void)
{
	char out[IMS_DIGEST_BUFSZ];
	ims_sha256_buf("", 0, out);
	is_str(out, EMPTY_SHA, "sha256 of \"\"");
	ims_sha256_buf(NULL, 0, out);
	is_str(out, EMPTY_SHA, "sha256 of NULL, 0");
	ims_sha256_buf("abc", 3, out);
	is_str(out, ABC_SHA, "sha256 of \"abc\"");
	ims_sha256_buf(ABC448, strlen(ABC448), out);
	is_str(out, ABC448_SHA, "sha256 of the 448-bit vector");
	is_int(strlen(out), IMS_DIGEST_LEN, "a digest is IMS_DIGEST_LEN long");
	unsigned char raw[32];
	char back[IMS_DIGEST_BUFSZ];
	ims_digest_to_raw(ABC448_SHA, raw);
	ims_digest_from_raw(raw, back);
	ok(raw[0] == 0x24 && raw[31] == 0xc1, "a digest's 32 bytes");
	is_str(back, ABC448_SHA, "... spelled out again, the same digest");

	/* Streaming in uneven chunks gives the one-shot digest. */
	char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	char one[IMS_DIGEST_BUFSZ], two[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, sizeof(data), one);
	ims_sha256 *h = ims_sha256_new();
	size_t off = 0, step = 1;
	while (off < sizeof(data)) {
		size_t n = step < sizeof(data) - off ? step : sizeof(data) - off;
		ims_sha256_update(h, data + off, n);
		ims_sha256_update(h, data, 0);
		off += n;
		step = step * 3 + 1;
	}
	ims_sha256_final(h, two);
	ims_sha256_free(h);
	is_str(two, one, "streaming equals one-shot");

	h = ims_sha256_new();
	char a[1000];
	memset(a, 'a', sizeof(a));
	for (int i = 0; i < 1000; i++)
		ims_sha256_update(h, a, sizeof(a));
	ims_sha256_final(h, two);
	ims_sha256_free(h);
	is_str(two, MILLION_A_SHA, "a million 'a' streamed");
	ims_sha256_free(NULL);

	ok(ims_digest_valid(EMPTY_SHA), "a digest is valid");
	ok(!ims_digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
	   "upper case is invalid");
	ok(!ims_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"),
	   "63 hex digits is invalid");
	ok(!ims_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550"),
	   "65 hex digits is invalid");
	ok(!ims_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "sha512: is invalid");
	ok(!ims_digest_valid("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "a missing prefix is invalid");
	ok(!ims_digest_valid("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "an upper-case prefix is invalid");
	ok(!ims_digest_valid("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "a non-hex digit is invalid");
	ok(!ims_digest_valid("sha256:../../../../etc/passwd"), "a path is invalid");
	ok(!ims_digest_valid("sha256:"), "no hex is invalid");
	ok(!ims_digest_valid(""), "\"\" is invalid");
	ok(!ims_digest_valid(NULL), "NULL is invalid");

	ims_error *e = NULL;
	is_int(ims_digest_check(EMPTY_SHA, "layer", &e), 0, "check accepts a digest");
	ok(e == NULL, "without an error");
	is_int(ims_digest_check("sha256:xyz", "layer 2", &e), IMS_EINVALID, "check refuses");
	ok(e && strstr(e->message, "layer 2") && strstr(e->message, "sha256:xyz"), "naming what: %s",
	   e ? e->message : "");
	ims_error_clear(&e);
	is_int(ims_digest_check(NULL, "config", &e), IMS_EINVALID, "check refuses NULL");
	ims_error_clear(&e);
	is_str(ims_digest_hex(ABC_SHA), ABC_SHA + 7, "the hex part");

	unsigned char r1[32] = { 0 }, r2[32] = { 0 };
	ok(ims_random_bytes(r1, sizeof(r1), NULL) == 0 && ims_random_bytes(r2, sizeof(r2), NULL) == 0 &&
		   memcmp(r1, r2, sizeof(r1)) != 0,
	   "random bytes differ");
}

/* A child that holds path locked until it is killed; returns its pid once
 * the lock is taken. */
static pid_t hold_lock(const char *path)
{
	int ready[2];
	if (pipe(ready) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0 && flock(fd, LOCK_EX) == 0 && write(ready[1], "x", 1) == 1)
			pause();
		_exit(1);
	}
	char c;
	close(ready[1]);
	bool got = read(ready[0], &c, 1) == 1;
	close(ready[0]);
	return got ? pid : -1;
}

static void test_tmpfile(void)
{
	ims_error *e = NULL;
	char *dir = tpath("t");
	mkdir(dir, 0755);
	char *dst = tpath("t/final");

	ims_tmpfile t;
	is_int(ims_tmpfile_open(&t, dir, ".tmp-", &e), 0, "open a temp file");
	ok(ims_write_all(t.fd, "abc", 3) == 0, "write to it");
	ims_tmpfile sib;
	is_int(ims_tmpfile_open(&sib, dir, ".tmp-", &e), 0, "and another");
	/* an open temp file is not swept, named or not */
	ims_sweep_tmp(dir, ".tmp-");
	is_int(ims_tmpfile_commit(&t, dst, &e), 0, "commit renames it into place");
	char *data = NULL;
	size_t len = 0;
	ok(ims_read_file(dst, 10, &data, &len, NULL) == 0 && len == 3 && !memcmp(data, "abc", 3), "its content");
	free(data);
	ims_tmpfile_dispose(&sib);
	is_int(count_entries(dir), 1, "dispose removes an uncommitted one");

	/* a named leftover nobody holds goes; one a live process holds stays */
	put("t/.tmp-stale1", "x");
	put("t/.tmp-held01", "x");
	put("t/other", "x");
	char *held = tpath("t/.tmp-held01");
	pid_t pid = hold_lock(held);
	ok(pid > 0, "a child holds .tmp-held01");
	char *link = tpath("t/.tmp-link");
	symlink("final", link);
	ims_sweep_tmp(dir, ".tmp-");
	ok(!exists("t/.tmp-stale1"), "the abandoned temp file is swept");
	ok(exists("t/.tmp-held01"), "the held one stays");
	ok(exists("t/other") && exists("t/final"), "other names stay");
	ok(exists("t/.tmp-link"), "a symlink is never swept");
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ims_sweep_tmp(dir, ".tmp-");
	ok(!exists("t/.tmp-held01"), "once its holder died, it is swept too");
	free(link);
	free(held);

	/* staging dirs */
	char *sd = NULL;
	int lock = -1;
	is_int(ims_mkdtemp_locked(dir, "imagespec-x", &sd, &lock, &e), 0, "a locked temp dir");
	put("t/imagespec-x-AAAAAA", "not a dir");
	char *stale = tpath("t/imagespec-x-BBBBBB");
	mkdir(stale, 0700);
	put("t/imagespec-x-BBBBBB/f", "x");
	char *other = tpath("t/imagespec-xy-CCCCCC");
	mkdir(other, 0700);
	ims_sweep_tmpdirs(dir, "imagespec-x");
	ok(ims_path_exists(sd), "the locked dir stays");
	ok(!ims_path_exists(stale), "an abandoned one is removed");
	ok(exists("t/imagespec-x-AAAAAA"), "a file of that name stays");
	ok(ims_path_exists(other), "another prefix stays");
	close(lock);
	ims_sweep_tmpdirs(dir, "imagespec-x");
	ok(!ims_path_exists(sd), "once unlocked, it is removed");
	free(sd);
	free(stale);
	free(other);
	free(dst);
	free(dir);
}

static int count_write(void *ud, const void *p, size_t n, ims_error **err)
{
	(*(size_t *)ud) += n;
	return 0;
}

static void test_interrupt(void)
{
	size_t n = 0;
	ims_sink s = { count_write, &n };
	ims_error *e = NULL;
	is_int(ims_sink_write(&s, "ab", 2, &e), 0, "a sink writes");
	ims__interrupt_set(true);
	is_int(ims_sink_write(&s, "cd", 2, &e), IMS_EINTERRUPTED, "an interrupted sink write fails");
	ok(e && !strcmp(e->message, "interrupted"), "saying \"interrupted\"");
	is_int(ims_error_exit_status(IMS_EINTERRUPTED), 130, "exit status 130");
	ims_error_clear(&e);
	ims_reader r = ims_reader_fd(open("/dev/zero", O_RDONLY));
	char buf[4];
	ok(r.read(r.ud, buf, sizeof(buf), &e) == IMS_EINTERRUPTED, "an interrupted fd read fails");
	ims_error_clear(&e);
	ims_reader_close(&r);
	ims__interrupt_set(false);
	is_int(ims_sink_write(&s, "cd", 2, &e), 0, "cleared, it writes again");
	is_int((int)n, 4, "every byte once");
}

/* util/fanout.c: every job of nested batches runs once, each batch's
 * results are all there when ims_fanout_run returns, and a NULL pool runs
 * the jobs in order on the caller's thread. */
typedef struct fjob fjob;
struct fjob {
	ims_fanout *f;
	int depth;
	int runs;
	int order; /* in a NULL pool: when it ran */
	int *clock;
	fjob *kids; /* 5, below depth 2 */
};

static void fan_job(void *ud)
{
	fjob *j = ud;
	j->runs++;
	if (j->clock) /* the NULL pool's jobs only: one thread */
		j->order = (*j->clock)++;
	if (j->depth >= 2)
		return;
	j->kids = xcalloc(5, sizeof(*j->kids));
	void *v[5];
	for (int i = 0; i < 5; i++) {
		j->kids[i] = (fjob){ j->f, j->depth + 1, 0, 0, j->clock, NULL };
		v[i] = &j->kids[i];
	}
	ims_fanout_run(j->f, fan_job, v, 5);
}

/* Jobs that ran exactly once in j's tree (j included); frees the kids. */
static int fan_count(fjob *j, bool *twice)
{
	int n = j->runs == 1;
	*twice |= j->runs > 1;
	for (int i = 0; j->kids && i < 5; i++)
		n += fan_count(&j->kids[i], twice);
	free(j->kids);
	return n;
}

static void test_fanout(void)
{
	ok(ims_fanout_new(1) == NULL, "fanout: one thread is no pool");
	for (int threads = 2; threads <= 8; threads *= 2) {
		ims_fanout *f = ims_fanout_new(threads);
		ok(f != NULL, "fanout: a pool of %d threads", threads);
		for (int round = 0; round < 20; round++) {
			fjob top[7];
			void *v[7];
			for (int i = 0; i < 7; i++) {
				top[i] = (fjob){ f, 0, 0, 0, NULL, NULL };
				v[i] = &top[i];
			}
			ims_fanout_run(f, fan_job, v, 7);
			int n = 0;
			bool twice = false;
			for (int i = 0; i < 7; i++)
				n += fan_count(&top[i], &twice);
			if (n != 7 * 31 || twice) {
				ok(false, "fanout: %d threads, round %d: %d of %d jobs ran once", threads, round, n, 7 * 31);
				break;
			}
			if (round == 19)
				ok(true, "fanout: %d threads: 20 rounds of 217 nested jobs, each ran once", threads);
		}
		ims_fanout_free(f);
	}
	int clock = 0;
	fjob top[3];
	void *v[3];
	for (int i = 0; i < 3; i++) {
		top[i] = (fjob){ NULL, 2, 0, 0, &clock, NULL };
		v[i] = &top[i];
	}
	ims_fanout_run(NULL, fan_job, v, 3);
	ok(top[0].order == 0 && top[1].order == 1 && top[2].order == 2, "fanout: without a pool, jobs run in order");
	ims_fanout_free(NULL);
	ok(ims_usable_cpus() >= 1, "fanout: at least one usable CPU (%d)", ims_usable_cpus());
}

/* util/event.h: a log says what it kept, in order, and nothing to nobody. */
static void log_cb(const ims_event *ev, void *ud)
{
	ims_buf_printf(ud, "%d:%s;", (int)ev->kind, ev->message);
}

static void test_events_log(void)
{
	ims_events_log log;
	ims_events_log_init(&log);
	ims_events_warn(&log.ev, "one %d", 1);
	ims_events_info(&log.ev, "two");
	ims_events_progress(&log.ev, "three", 5, 10);
	ims_buf b = IMS_BUF_INIT(0);
	ims_events to = { log_cb, &b };
	ims_events_log_replay(&log, &to);
	ok(b.data && !strcmp(b.data, "1:one 1;0:two;2:three;"), "events log: replayed in order (%s)",
	   b.data ? b.data : "");
	ims_events_log_replay(&log, NULL);
	ims_events_log_dispose(&log);
	ims_buf_dispose(&b);
}

/* util/lazylib: a library loaded on first need. libz.so.1 stands for
 * libcurl (the test links it: loading it again binds the same copy). */
static const char *(*zversion)(void);
static atomic_int setups;

static const char *bind_z(void *h)
{
	zversion = (const char *(*)(void))dlsym(h, "zlibVersion");
	return zversion ? NULL : "zlibVersion";
}

static const char *bind_missing_symbol(void *h)
{
	return dlsym(h, "ims_no_such_function") ? NULL : "ims_no_such_function";
}

static const char *count_setup(void)
{
	atomic_fetch_add(&setups, 1);
	return NULL;
}

static const char *failing_setup(void)
{
	return "the set-up said no";
}

static void *need_z(void *ud)
{
	ims_error *e = NULL;
	if (ims_lazylib_need(ud, &e) < 0)
		ims_error_free(e);
	return NULL;
}

static void test_lazylib(void)
{
	static ims_lazylib missing = IMS_LAZYLIB_INIT("libims-test-missing.so.9", "ims-test-pkg", bind_z, NULL);
	ims_error *e = NULL;
	ok(ims_lazylib_need(&missing, &e) == IMS_EGENERIC && e && strstr(e->message, "cannot load libims-test-missing.so.9") &&
		   e->hint && strstr(e->hint, "apt-get install ims-test-pkg"),
	   "lazylib: a missing library is an error naming it and the package (%s; %s)", e ? e->message : "",
	   e && e->hint ? e->hint : "");
	ims_error_free(e);
	e = NULL;
	ok(ims_lazylib_need(&missing, &e) == IMS_EGENERIC && !ims_lazylib_ready(&missing), "lazylib: and stays one");
	ims_error_free(e);
	e = NULL;

	static ims_lazylib nosym = IMS_LAZYLIB_INIT("libz.so.1", "zlib1g", bind_missing_symbol, count_setup);
	ok(ims_lazylib_need(&nosym, &e) < 0 && e && strstr(e->message, "no symbol `ims_no_such_function`") &&
		   atomic_load(&setups) == 0,
	   "lazylib: a missing symbol is named, and the set-up is not run (%s)", e ? e->message : "");
	ims_error_free(e);
	e = NULL;

	static ims_lazylib refused = IMS_LAZYLIB_INIT("libz.so.1", "zlib1g", bind_z, failing_setup);
	ok(ims_lazylib_need(&refused, &e) < 0 && e && strstr(e->message, "the set-up said no"),
	   "lazylib: a failed set-up is the error (%s)", e ? e->message : "");
	ims_error_free(e);
	e = NULL;

	/* Eight threads ask at once: one loads and sets up, the others wait. */
	static ims_lazylib z = IMS_LAZYLIB_INIT("libz.so.1", "zlib1g", bind_z, count_setup);
	zversion = NULL;
	ok(!ims_lazylib_ready(&z), "lazylib: not loaded before the first need");
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, need_z, &z);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ok(ims_lazylib_ready(&z) && atomic_load(&setups) == 1 && zversion && !strcmp(zversion(), zlibVersion()),
	   "lazylib: eight threads at once: loaded and set up once (%d), its functions bound",
	   atomic_load(&setups));
	ims_lazylib_must(&z);
	ok(ims_lazylib_need(&z, NULL) == 0 && atomic_load(&setups) == 1, "lazylib: later needs do nothing");
}

/* ims_openat_noatime (util/fs.c): the owner opens with O_NOATIME; where
 * Linux refuses it (a file of another owner, no CAP_FOWNER: /etc/passwd,
 * opened as nobody when the test runs as root), the open is made without
 * it and later opens do not ask again; a missing file is ENOENT and
 * changes nothing. */
static int refused_as_nobody(void)
{
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
		return 0x80;
	ims_noatime__reset();
	int fd = ims_openat_noatime(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	int r = (fd >= 0) | (!ims_noatime__on()) << 1;
	if (fd >= 0)
		close(fd);
	fd = ims_openat_noatime(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	r |= (fd >= 0) << 2;
	if (fd >= 0)
		close(fd);
	return r;
}

static void test_noatime(void)
{
	put("na", "x");
	char *p = tpath("na"), *q = tpath("na-missing");
	ims_noatime__reset();
	int fd = ims_openat_noatime(AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NOATIME) && ims_noatime__on(),
	   "noatime: the owner's open has O_NOATIME");
	if (fd >= 0)
		close(fd);
	errno = 0;
	fd = ims_openat_noatime(AT_FDCWD, q, O_RDONLY | O_CLOEXEC);
	ok(fd < 0 && errno == ENOENT && ims_noatime__on(), "noatime: a missing file is ENOENT, and changes nothing");
	int r;
	if (geteuid() == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(refused_as_nobody());
		int status = 0;
		r = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 0x80;
	} else {
		r = refused_as_nobody();
		ims_noatime__reset();
	}
	is_int(r, 7, "noatime: refused to another owner's file, the open is made without it, and not asked again");
	free(p);
	free(q);
}

int main(void)
{
	umask(022);
	ims_error *e = NULL;
	if (ims_mkdtemp(NULL, "test-util", &tmpdir, &e) < 0) {
		printf("Bail out! %s\n", e->message);
		ims_error_free(e);
		return 1;
	}
	test_buf();
	test_read_file();
	test_write_file();
	test_mkdir_rm();
	test_paths();
	test_errors();
	test_text();
	test_digest();
	test_tmpfile();
	test_interrupt();
	test_fanout();
	test_events_log();
	test_lazylib();
	test_noatime();
	ok(ims_rm_rf(tmpdir, NULL) == 0 && !ims_path_exists(tmpdir), "the temp dir is removed");
	free(tmpdir);
	return tap_done();
}
