/* The cache room's stat table (cache/stats.c): what is learned is found
 * again after a save and a load, whatever the path holds; a damaged table
 * loses its bad lines only; a loaded entry learned again is replaced. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache.h"
#include "util/error.h"
#include "util/fs.h"
#include "tap.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* A stat old enough not to be racily clean (cache/stats.c). */
static struct stat old_stat(ino_t ino, off_t size)
{
	struct stat st = { 0 };
	st.st_ino = ino;
	st.st_dev = 42;
	st.st_mode = S_IFREG | 0644;
	st.st_size = size;
	st.st_mtim.tv_sec = 1600000000;
	st.st_ctim.tv_sec = 1600000001;
	st.st_ctim.tv_nsec = 7;
	return st;
}

static bool found(ims_cache_stats *s, const char *path, struct stat st, const char *want)
{
	char d[IMS_DIGEST_BUFSZ] = "";
	return ims_cache_stats_lookup(s, path, &st, d) && !strcmp(d, want);
}

/* The one file under the cache's stats/ directory. */
static char *table_file(const char *cache_dir)
{
	char *dir = ims_path_join(cache_dir, "stats");
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
	FILE *f = popen(cmd, "r");
	char name[256] = "";
	if (f) {
		if (!fgets(name, sizeof(name), f))
			name[0] = '\0';
		pclose(f);
	}
	name[strcspn(name, "\n")] = '\0';
	char *p = *name ? ims_path_join(dir, name) : NULL;
	free(dir);
	return p;
}

int main(void)
{
	char *tmp = NULL;
	ims_error *e = NULL;
	ims_cache *c = NULL;
	if (ims_mkdtemp(NULL, "test-cache", &tmp, &e) < 0 || ims_cache_open(&c, tmp, 0, &e) < 0) {
		printf("Bail out! %s\n", e ? e->message : "set-up");
		return 1;
	}
	const char *root = "/src/app";
	const char *odd = "dir with space/new\nline\\and back\\slash";

	ims_cache_stats *s = ims_cache_stats_load(c, root);
	ok(s && !found(s, "a.txt", old_stat(1, 10), D1), "an empty table knows nothing");
	ims_cache_stats_learn(s, "a.txt", &(struct stat){ 0 }, "not a digest");
	ims_cache_stats_learn(s, "a.txt", (struct stat[]){ old_stat(1, 10) }, D1);
	ims_cache_stats_learn(s, odd, (struct stat[]){ old_stat(2, 20) }, D2);
	ims_cache_stats_save(s);

	s = ims_cache_stats_load(c, root);
	ok(found(s, "a.txt", old_stat(1, 10), D1), "after a save and a load: a plain path is found");
	ok(found(s, odd, old_stat(2, 20), D2), "... a path with a space, a newline and backslashes too");
	ok(!found(s, "a.txt", old_stat(1, 11), D1), "... not with another size");
	ok(!found(s, "a.txt", old_stat(3, 10), D1), "... nor with another inode");
	ok(ims_cache_stats_seen(s, "a.txt", (struct stat[]){ old_stat(3, 10) }), "... but it was seen");
	/* learning a loaded entry again replaces its path, which lives in the
	 * text read (ASan: freed once, and only what was allocated) */
	ims_cache_stats_learn(s, "a.txt", (struct stat[]){ old_stat(5, 10) }, D2);
	ok(found(s, "a.txt", old_stat(5, 10), D2) && !found(s, "a.txt", old_stat(1, 10), D1),
	   "an entry learned again replaces the loaded one");
	ims_cache_stats_save(s);
	s = ims_cache_stats_load(c, root);
	ok(found(s, "a.txt", old_stat(5, 10), D2) && found(s, odd, old_stat(2, 20), D2),
	   "... and is saved as it was learned");
	ims_cache_stats_free(s);

	/* a damaged table: lines cut, a digest that is not hex, a number that
	 * is not one; the good line still counts */
	char *file = table_file(tmp);
	ok(file != NULL, "the table is a file under stats/");
	char *text = NULL;
	size_t len = 0;
	if (file && ims_read_file(file, 1 << 20, &text, &len, &e) == 0) {
		char *bad = NULL;
		if (asprintf(
			    &bad,
			    "%s"
			    "zz11111111111111111111111111111111111111111111111111111111111111 1 2 3 4 5 100644 bad-hex\n"
			    "1111111111111111111111111111111111111111111111111111111111111111 x 2 3 4 5 100644 bad-num\n"
			    "1111111111111111111111111111111111111111111111111111111111111111 1 2\n"
			    "short\n"
			    "\n"
			    "1111111111111111111111111111111111111111111111111111111111111111 1 2 3 4 5 100644 no-newline",
			    text) > 0) {
			FILE *f = fopen(file, "w");
			if (f) {
				fputs(bad, f);
				fclose(f);
			}
		}
		free(bad);
	}
	free(text);
	s = ims_cache_stats_load(c, root);
	ok(found(s, "a.txt", old_stat(5, 10), D2) && found(s, odd, old_stat(2, 20), D2),
	   "a damaged table: the good lines still count");
	struct stat any = old_stat(4, 1);
	ok(!ims_cache_stats_seen(s, "bad-hex", &any) && !ims_cache_stats_seen(s, "bad-num", &any),
	   "... a line with a bad digest or number is skipped");
	struct stat last = { .st_ino = 4, .st_dev = 5, .st_mode = 0100644, .st_size = 1 };
	last.st_mtim.tv_nsec = 2;
	last.st_ctim.tv_nsec = 3;
	ok(found(s, "no-newline", last, "sha256:1111111111111111111111111111111111111111111111111111111111111111"),
	   "... and a last line without its newline is read");
	ims_cache_stats_free(s);

	s = ims_cache_stats_load(c, "/another/root");
	ok(!found(s, "a.txt", old_stat(5, 10), D2), "another root has a table of its own");
	ims_cache_stats_free(s);

	free(file);
	ims_cache_close(c);
	ok(ims_rm_rf(tmp, NULL) == 0, "the temp dir is removed");
	free(tmp);
	return tap_done();
}
