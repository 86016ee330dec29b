/* The cache's size: du, and pruning by least recent use (a blob's mtime is
 * touched each time a build uses it). Entries whose blob is gone go with
 * it, and so do temp files that a killed build left more than an hour ago. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define STALE_TMP_SECONDS 3600

typedef struct {
	char *name;
	int64_t size;
	struct timespec used;
} blob_info;

static bool hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static bool stale_tmp(int dfd, const char *name)
{
	struct stat st;
	return strstr(name, ".tmp-") && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       time(NULL) - st.st_mtime > STALE_TMP_SECONDS;
}

/* The blobs of the store (and, with clean, stale temp files removed). */
static int list_blobs(ims_cache *c, bool clean, blob_info **out, size_t *n, ims_error **err)
{
	_cleanup_free_ char *dir = ims_cache__path(c, "blobs/sha256", NULL);
	DIR *d = opendir(dir);
	if (!d)
		return ims_error_sys(err, errno, IMS_EGENERIC, "read the cache `%s`", dir);
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (clean && stale_tmp(dirfd(d), de->d_name)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!hex64(de->d_name) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		*out = xgrow(*out, &cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (blob_info){ xstrdup(de->d_name), st.st_size, st.st_mtim };
	}
	closedir(d);
	return 0;
}

static void blobs_free(blob_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* Visits the recipe entries; fn returns true to remove one. */
static size_t sweep_layers(ims_cache *c, bool (*fn)(ims_cache *c, const char *name), bool clean)
{
	_cleanup_free_ char *dir = ims_cache__path(c, "layers", NULL);
	DIR *d = opendir(dir);
	size_t n = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (clean && stale_tmp(dirfd(d), de->d_name)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!hex64(de->d_name))
			continue;
		if (fn && fn(c, de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
		else
			n++;
	}
	closedir(d);
	return n;
}

int ims_cache_du(ims_cache *c, ims_cache_usage *out, ims_error **err)
{
	blob_info *v = NULL;
	size_t n = 0;
	int r = list_blobs(c, false, &v, &n, err);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out->bytes += v[i].size;
	out->blobs = n;
	out->layers = sweep_layers(c, NULL, false);
	blobs_free(v, n);
	return 0;
}

static int older_first(const void *a, const void *b)
{
	const blob_info *x = a, *y = b;
	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* An entry whose blob is gone (a layer cache entry names its blob on its
 * first line). */
static bool orphan(ims_cache *c, const char *name)
{
	_cleanup_free_ char *path = ims_cache__path(c, "layers", name);
	_cleanup_free_ char *recipe = xasprintf("sha256:%s", name);
	ims_cache_layer l;
	bool found = false;
	ims_error *e = NULL;
	if (ims_cache_layer_get(c, recipe, &l, &found, &e) < 0) {
		ims_error_free(e);
		return false;
	}
	return !found || !ims_cache_blob_has(c, l.digest, NULL);
}

int ims_cache_prune(ims_cache *c, int64_t max_bytes, int64_t *freed, ims_error **err)
{
	blob_info *v = NULL;
	size_t n = 0;
	int r = list_blobs(c, true, &v, &n, err);
	if (r < 0)
		return r;
	int64_t total = 0;
	*freed = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	qsort(v, n, sizeof(*v), older_first);
	_cleanup_free_ char *dir = ims_cache__path(c, "blobs/sha256", NULL);
	for (size_t i = 0; i < n && total > max_bytes; i++) {
		_cleanup_free_ char *path = ims_path_join(dir, v[i].name);
		if (unlink(path) == 0) {
			total -= v[i].size;
			*freed += v[i].size;
		}
	}
	blobs_free(v, n);
	sweep_layers(c, orphan, true);
	return 0;
}

int ims_cache_trim(ims_cache *c, ims_error **err)
{
	ims_cache_usage u;
	int r = ims_cache_du(c, &u, err);
	if (r < 0 || u.bytes <= c->max_bytes)
		return r;
	int64_t freed = 0;
	return ims_cache_prune(c, c->max_bytes, &freed, err);
}
