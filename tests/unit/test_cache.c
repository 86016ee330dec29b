/* The cache room's stat table (cache/stats.c): what is learned is found
 * again after a save and a load, whatever the path holds; a damaged table
 * is not read at all; a loaded entry learned again is replaced. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "digest/digest.h"
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

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len)
		printf("# cannot write %s\n", path);
	if (f)
		fclose(f);
}

/* Whether the table of root, as it is on disk, knows nothing of the two
 * entries saved. */
static bool knows_nothing(ims_cache *c, const char *root)
{
	ims_cache_stats *s = ims_cache_stats_load(c, root);
	struct stat any = old_stat(5, 10);
	bool none = !ims_cache_stats_seen(s, "a.txt", &any) && !found(s, "a.txt", old_stat(5, 10), D2);
	ims_cache_stats_free(s);
	return none;
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

	/* a damaged table is not read at all: only a hint, its files are
	 * hashed again; learning one and saving writes a whole table again */
	char *file = table_file(tmp);
	ok(file != NULL, "the table is a file under stats/");
	char *good = NULL;
	size_t len = 0;
	if (!file || ims_read_file(file, 1 << 20, &good, &len, &e) < 0) {
		printf("Bail out! the table cannot be read\n");
		return 1;
	}
	ok(len > 32 && !memcmp(good, "ims-stat", 8), "the table is binary, version 2");
	char *bad = xmemdup(good, len);
	bad[40] ^= 1; /* in the first record */
	write_file(file, bad, len);
	ok(knows_nothing(c, root), "a table with one bit flipped is not read");
	write_file(file, good, len - 1);
	ok(knows_nothing(c, root), "... nor one cut short");
	const char *text = "1111111111111111111111111111111111111111111111111111111111111111 10 1600000000000000000 "
			   "1600000001000000007 5 42 100644 a.txt\n";
	write_file(file, text, strlen(text));
	ok(knows_nothing(c, root), "... nor a table in the text of the first layout");
	s = ims_cache_stats_load(c, root);
	ims_cache_stats_learn(s, "a.txt", (struct stat[]){ old_stat(5, 10) }, D2);
	ims_cache_stats_save(s);
	s = ims_cache_stats_load(c, root);
	ok(found(s, "a.txt", old_stat(5, 10), D2) && !found(s, odd, old_stat(2, 20), D2),
	   "... learning after one writes a table again, of what was learned");
	ims_cache_stats_free(s);

	/* slots that all point at the first record, under a trailer that
	 * matches them (a table written by something else): a path not there
	 * is still not found, in a bounded number of probes */
	memcpy(bad, good, len);
	uint32_t n = 0, nslots = 0;
	memcpy(&n, bad + 12, 4);
	memcpy(&nslots, bad + 16, 4);
	for (uint32_t i = 0; i < nslots; i++)
		memcpy(bad + 32 + (size_t)n * 88 + (size_t)i * 4, &(uint32_t){ 1 }, 4);
	char sum[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(bad, len - IMS_DIGEST_LEN, sum);
	memcpy(bad + len - IMS_DIGEST_LEN, sum, IMS_DIGEST_LEN);
	write_file(file, bad, len);
	s = ims_cache_stats_load(c, root);
	ok(!found(s, "not/there", old_stat(1, 1), D1), "a table whose slots are all taken ends its probes");
	ims_cache_stats_free(s);
	free(bad);
	free(good);

	/* many entries: the table grows, and each is found where it went */
	s = ims_cache_stats_load(c, root);
	for (int i = 0; i < 3000; i++) {
		char p[32];
		snprintf(p, sizeof(p), "d%02d/f%04d", i % 50, i);
		ims_cache_stats_learn(s, p, (struct stat[]){ old_stat((ino_t)i + 10, i) }, i % 2 ? D1 : D2);
	}
	ims_cache_stats_save(s);
	s = ims_cache_stats_load(c, root);
	int missing = 0;
	for (int i = 0; i < 3000; i++) {
		char p[32];
		snprintf(p, sizeof(p), "d%02d/f%04d", i % 50, i);
		missing += !found(s, p, old_stat((ino_t)i + 10, i), i % 2 ? D1 : D2);
	}
	ok(missing == 0 && found(s, "a.txt", old_stat(5, 10), D2),
	   "3,000 entries saved over a table: each is found, and the earlier one too");
	if (missing)
		printf("# %d missing\n", missing);
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
