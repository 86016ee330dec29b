/* Opening the cache directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define CACHE_VERSION "imagespec-cache 1\n"
#define DEFAULT_MAX_BYTES ((int64_t)10 << 30)

char *ims_cache_default_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && *x == '/')
		return ims_path_join(x, "imagespec");
	const char *home = getenv("HOME");
	if (home && *home == '/')
		return xasprintf("%s/.cache/imagespec", home);
	return NULL;
}

char *ims_cache__path(const ims_cache *c, const char *sub, const char *name)
{
	return name ? xasprintf("%s/%s/%s", c->dir, sub, name) : xasprintf("%s/%s", c->dir, sub);
}

/* The layout's version: a directory written by another layout is refused
 * rather than misread. */
static int check_version(const char *dir, ims_error **err)
{
	_cleanup_free_ char *path = ims_path_join(dir, "version");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	if (ims_read_file(path, 256, &data, &len, &e) < 0) {
		ims_error_free(e);
		if (ims_path_exists(path))
			return ims_error_set(err, IMS_EGENERIC, "cannot read the cache version `%s`", path);
		return ims_write_file_atomic(path, CACHE_VERSION, strlen(CACHE_VERSION), 0600, err);
	}
	if (len != strlen(CACHE_VERSION) || memcmp(data, CACHE_VERSION, len))
		return ims_error_set(
			err, IMS_EINVALID,
			"`%s` is not an imagespec cache of this version; use another --cache-dir or remove it", dir);
	return 0;
}

int ims_cache_open(ims_cache **out, const char *dir, int64_t max_bytes, ims_error **err)
{
	static const char *const subs[] = { "blobs/sha256", "layers", "stats", "locks" };
	_cleanup_free_ char *abs = ims_path_absolute(NULL, dir);
	int r = ims_mkdir_p(abs, 0700, err);
	for (size_t i = 0; r >= 0 && i < sizeof(subs) / sizeof(subs[0]); i++) {
		_cleanup_free_ char *p = ims_path_join(abs, subs[i]);
		r = ims_mkdir_p(p, 0700, err);
	}
	if (r >= 0)
		r = check_version(abs, err);
	if (r < 0)
		return ims_error_wrap(err, "cache `%s`", abs);
	ims_cache *c = xcalloc(1, sizeof(*c));
	c->dir = steal_pointer(&abs);
	c->max_bytes = max_bytes > 0 ? max_bytes : DEFAULT_MAX_BYTES;
	*out = c;
	return 0;
}

void ims_cache_close(ims_cache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

const char *ims_cache_dir(const ims_cache *c)
{
	return c->dir;
}
