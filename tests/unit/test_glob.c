/* Glob matching, include/exclude lists and .gitignore-style files. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/glob.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"

#define MATCH(pat, path) ok(ims_glob_match(pat, path), "`%s` matches `%s`", pat, path)
#define NOMATCH(pat, path) ok(!ims_glob_match(pat, path), "`%s` does not match `%s`", pat, path)

static void test_glob(void)
{
	/* `*` and `?` stay within one component. */
	MATCH("*.log", "a.log");
	NOMATCH("*.log", "x/a.log");
	MATCH("*", "a");
	NOMATCH("*", "a/b");
	MATCH("a?c", "abc");
	NOMATCH("a?c", "a/c");
	NOMATCH("a?c", "ac");
	MATCH("?", "\xc3\xa9");
	MATCH("a*", "a");
	MATCH("*b*", "abc");
	MATCH("a*b*c", "axxbyybzc");
	NOMATCH("a*b*c", "axxbyybz");

	/* `**` */
	MATCH("**/*.log", "a.log");
	MATCH("**/*.log", "x/y/a.log");
	NOMATCH("**/*.log", "x/y/a.txt");
	MATCH("a/**", "a/b");
	MATCH("a/**", "a/b/c");
	NOMATCH("a/**", "a");
	NOMATCH("a/**", "ab/c");
	MATCH("**", "a");
	MATCH("**", "a/b/c");
	MATCH("a/**/b", "a/b");
	MATCH("a/**/b", "a/x/y/b");
	NOMATCH("a/**/b", "a/x/y/c");
	MATCH("a**b", "axyb");
	NOMATCH("a**b", "ax/yb");
	MATCH("**/**/x", "x");

	/* Classes and escapes. */
	MATCH("[abc].txt", "b.txt");
	NOMATCH("[abc].txt", "d.txt");
	MATCH("[a-c]x", "bx");
	NOMATCH("[a-c]x", "dx");
	MATCH("[!a-c]x", "dx");
	NOMATCH("[!a-c]x", "ax");
	MATCH("[^a-c]x", "zx");
	MATCH("[]]", "]");
	MATCH("[!]]", "a");
	MATCH("[[]", "[");
	MATCH("[", "[");
	MATCH("\\*", "*");
	NOMATCH("\\*", "a");
	MATCH("\\[a]", "[a]");
	MATCH("a\\?", "a?");
	NOMATCH("a\\?", "ab");
	MATCH("[\\]]", "]");
	MATCH("[\xc3\xa0-\xc3\xbf]", "\xc3\xa9");

	/* Paths and patterns are cleaned of "." and empty components. */
	MATCH("a/b", "./a//b/");
	MATCH("./a/b", "a/b");
	/* Anchored at both ends. */
	NOMATCH("a", "ab");
	NOMATCH("b", "a/b");
}

static void test_lists(void)
{
	ims_patterns *p = ims_patterns_new();

	ims_patterns_add(p, "node_modules", "");
	ims_patterns_add(p, "*.log", "");
	ims_patterns_add(p, "/build/", "");
	is_int(ims_patterns_count(p), 3, "three rules");
	ok(ims_patterns_match(p, "node_modules", true), "node_modules matches");
	ok(ims_patterns_match(p, "node_modules/x/y.js", false), "below an excluded directory matches");
	ok(ims_patterns_match(p, "a.log", false), "top-level *.log matches");
	ok(!ims_patterns_match(p, "sub/a.log", false), "*.log is anchored at the top");
	ok(ims_patterns_match(p, "build", true), "build/ matches the directory");
	ok(!ims_patterns_match(p, "build", false), "build/ does not match a file");
	ok(ims_patterns_match(p, "build/out.o", false), "a file below build/ matches through its parent");
	ok(!ims_patterns_match(p, "src/main.c", false), "unrelated path does not match");

	/* Last matching rule wins, per path. */
	ims_patterns_add(p, "!node_modules/keep.js", "");
	ims_patterns_add(p, "!important.log", "");
	ok(!ims_patterns_match(p, "node_modules/keep.js", false), "re-include below an excluded dir");
	ok(ims_patterns_match(p, "node_modules/other.js", false), "siblings stay excluded");
	ok(!ims_patterns_match(p, "important.log", false), "!important.log re-includes");
	ims_patterns_add(p, "*.log", "");
	ok(ims_patterns_match(p, "important.log", false), "a later rule excludes again");

	ok(ims_patterns_may_unmatch_below(p, "node_modules"), "must descend: keep.js may be re-included");
	ok(!ims_patterns_may_unmatch_below(p, "build"), "build/ can be pruned");
	ok(ims_patterns_may_unmatch_below(p, "src"), "an unmatched directory is not pruned");
	ims_patterns_free(p);

	/* Include lists and descending. */
	p = ims_patterns_new();
	ims_patterns_add(p, "go/**", "");
	ims_patterns_add(p, "**/*.md", "");
	ok(ims_patterns_match(p, "go/bin/go", false), "go/** includes go/bin/go");
	ok(!ims_patterns_match(p, "go", true), "go/** does not match go itself");
	ok(ims_patterns_may_match_below(p, "go"), "something below go may match");
	ok(ims_patterns_may_match_below(p, "docs"), "**/*.md may match below any directory");
	ims_patterns_free(p);

	p = ims_patterns_new();
	ims_patterns_add(p, "bin/ko", "");
	ok(ims_patterns_may_match_below(p, "bin"), "bin/ko may match below bin");
	ok(!ims_patterns_may_match_below(p, "lib"), "nothing below lib can match bin/ko");
	ok(ims_patterns_may_match_below(p, "bin/ko/x"), "below a matched path everything may match");
	ims_patterns_free(p);

	/* Empty patterns are ignored; base anchors and is literal. */
	p = ims_patterns_new();
	ims_patterns_add(p, "", "");
	ims_patterns_add(p, "/", "");
	ims_patterns_add(p, "!", "");
	is_int(ims_patterns_count(p), 0, "empty patterns are dropped");
	ims_patterns_add(p, "*.o", "d[1]");
	ok(ims_patterns_match(p, "d[1]/x.o", false), "base with metacharacters is literal");
	ok(!ims_patterns_match(p, "d1/x.o", false), "base is not a class");
	ok(!ims_patterns_match(p, "x.o", false), "pattern anchored at its base");
	ims_patterns_free(p);

	ok(!ims_patterns_match(NULL, "a", false), "NULL list matches nothing");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = ims_path_join(dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	free(path);
}

static void test_ignore_files(void)
{
	char *tmp = NULL;
	ims_error *err = NULL;
	if (ims_mkdtemp(NULL, "test-glob", &tmp, &err) < 0) {
		ok(0, "mkdtemp: %s", err->message);
		return;
	}
	char *sub = ims_path_join(tmp, "sub");
	char *deep = ims_path_join(tmp, "sub/deep");
	mkdir(sub, 0755);
	mkdir(deep, 0755);
	write_file(tmp, ".gitignore",
		   "\xef\xbb\xbf# comment\n"
		   "\n"
		   "*.log\n"
		   "/top-only\n"
		   "cache/\n"
		   "docs/*.tmp\n"
		   "\\#hash\n"
		   "\\!bang\n"
		   "trail   \n"
		   "space\\ \n"
		   "crlf\r\n"
		   "!keep.log");
	write_file(sub, ".gitignore", "!*.log\nlocal\n/anchored\n");
	write_file(deep, ".gitignore", "*.log\n");

	ims_patterns *p = ims_patterns_new();
	int fd = open(tmp, O_RDONLY | O_DIRECTORY);
	is_int(ims_ignore_load(p, fd, ".gitignore", "", &err), 0, "load top .gitignore");
	close(fd);
	fd = open(sub, O_RDONLY | O_DIRECTORY);
	is_int(ims_ignore_load(p, fd, ".gitignore", "sub", &err), 0, "load sub/.gitignore");
	close(fd);
	fd = open(deep, O_RDONLY | O_DIRECTORY);
	is_int(ims_ignore_load(p, fd, ".gitignore", "sub/deep", &err), 0, "load sub/deep/.gitignore");
	is_int(ims_ignore_load(p, fd, ".missing", "sub/deep", &err), 0, "a missing ignore file is fine");
	ok(err == NULL, "no error for a missing file");
	close(fd);

	ok(ims_patterns_match(p, "a.log", false), "*.log at the top");
	ok(ims_patterns_match(p, "x/y/a.log", false), "*.log at any depth (no slash)");
	ok(!ims_patterns_match(p, "keep.log", false), "!keep.log re-includes");
	ok(!ims_patterns_match(p, "sub/a.log", false), "sub/.gitignore re-includes its logs");
	ok(ims_patterns_match(p, "sub/deep/a.log", false), "deeper file excludes again");
	ok(ims_patterns_match(p, "top-only", false), "/top-only at the top");
	ok(!ims_patterns_match(p, "x/top-only", false), "/top-only is anchored");
	ok(ims_patterns_match(p, "x/cache", true), "cache/ matches a directory at any depth");
	ok(ims_patterns_match(p, "x/cache/f", false), "and what is below it");
	ok(!ims_patterns_match(p, "x/cache", false), "cache/ does not match a file");
	ok(ims_patterns_match(p, "docs/a.tmp", false), "docs/*.tmp anchored at the top");
	ok(!ims_patterns_match(p, "x/docs/a.tmp", false), "a middle slash anchors");
	ok(ims_patterns_match(p, "#hash", false), "\\# is a literal #");
	ok(!ims_patterns_match(p, "comment", false), "comments are skipped");
	ok(ims_patterns_match(p, "!bang", false), "\\! is a literal !");
	ok(ims_patterns_match(p, "trail", false), "trailing spaces trimmed");
	ok(ims_patterns_match(p, "space ", false), "escaped trailing space kept");
	ok(!ims_patterns_match(p, "space", false), "escaped space is part of the name");
	ok(ims_patterns_match(p, "crlf", false), "CR stripped");
	ok(ims_patterns_match(p, "sub/local", false), "sub/.gitignore pattern below sub");
	ok(ims_patterns_match(p, "sub/x/local", false), "at any depth below sub");
	ok(!ims_patterns_match(p, "local", false), "but not above sub");
	ok(ims_patterns_match(p, "sub/anchored", false), "/anchored at sub");
	ok(!ims_patterns_match(p, "sub/x/anchored", false), "/anchored not deeper");
	ims_patterns_free(p);

	/* Refusals: symlinks, oversized files, non-regular files. */
	char *link = ims_path_join(tmp, "link");
	ok(symlink(".gitignore", link) == 0, "make a symlink");
	p = ims_patterns_new();
	fd = open(tmp, O_RDONLY | O_DIRECTORY);
	ok(ims_ignore_load(p, fd, "link", "", &err) == IMS_ESOURCE, "a symlinked ignore file is refused");
	ok(err && strstr(err->message, "`link`"), "the error names the file");
	ims_error_clear(&err);
	ok(ims_ignore_load(p, fd, "sub", "", &err) < 0, "a directory is refused");
	ims_error_clear(&err);
	char *big = ims_path_join(tmp, "big");
	int bfd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(ftruncate(bfd, 1024 * 1024 + 1) == 0, "make a big file");
	close(bfd);
	ok(ims_ignore_load(p, fd, "big", "sub", &err) < 0, "an ignore file over 1 MiB is refused");
	ok(err && strstr(err->message, "`sub/big`"), "the error names the file with its directory");
	ims_error_clear(&err);
	close(fd);
	ims_patterns_free(p);

	ims_rm_rf(tmp, NULL);
	free(link);
	free(big);
	free(sub);
	free(deep);
	free(tmp);
}

static void test_pathological(void)
{
	/* Greedy matching: no exponential blow-up. */
	char path[4096], pat[256];
	memset(path, 'a', 3000);
	path[3000] = '\0';
	strcpy(pat, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
	NOMATCH(pat, path);
	char *deep = xstrdup("");
	for (int i = 0; i < 200; i++) {
		char *n = xasprintf("%s%sd", deep, *deep ? "/" : "");
		free(deep);
		deep = n;
	}
	ok(!ims_glob_match("**/**/**/**/**/**/**/**/x", deep), "many ** over a deep path");
	ok(ims_glob_match("**/**/**/**/**/**/**/**/d", deep), "many ** over a deep path, matching");
	free(deep);
}

int main(void)
{
	test_glob();
	test_lists();
	test_ignore_files();
	test_pathological();
	return tap_done();
}
