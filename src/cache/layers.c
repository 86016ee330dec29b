/* Recipe entries: which layer a recipe made, one small text file each:
 * "DIGEST\nDIFF_ID\nSIZE\n". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cache/cache_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static char *entry_path(const ims_cache *c, const char *recipe)
{
	return ims_cache__path(c, "layers", ims_digest_hex(recipe));
}

static bool parse(const char *s, size_t len, ims_cache_layer *out)
{
	char digest[80], diff_id[80];
	long long size;
	char tail;
	if (len > 300 || memchr(s, '\0', len))
		return false;
	if (sscanf(s, "%79s %79s %lld%c", digest, diff_id, &size, &tail) != 4 || tail != '\n' || size < 0)
		return false;
	if (!ims_digest_valid(digest) || !ims_digest_valid(diff_id))
		return false;
	/* valid digests are IMS_DIGEST_LEN bytes */
	memcpy(out->digest, digest, IMS_DIGEST_BUFSZ);
	memcpy(out->diff_id, diff_id, IMS_DIGEST_BUFSZ);
	out->size = size;
	return true;
}

int ims_cache_layer_get(ims_cache *c, const char *recipe, ims_cache_layer *out, bool *found, ims_error **err)
{
	*found = false;
	int r = ims_digest_check(recipe, "recipe", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = entry_path(c, recipe);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	if (ims_read_file(path, 1024, &data, &len, &e) < 0) {
		ims_error_free(e);
		return 0;
	}
	if (!parse(data, len, out)) {
		unlink(path); /* a hint that cannot be read is no hint */
		return 0;
	}
	*found = true;
	return 0;
}

int ims_cache_layer_put(ims_cache *c, const char *recipe, const ims_cache_layer *l, ims_error **err)
{
	int r = ims_digest_check(recipe, "recipe", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = entry_path(c, recipe);
	_cleanup_free_ char *text = xasprintf("%s\n%s\n%" PRId64 "\n", l->digest, l->diff_id, l->size);
	return ims_write_file_atomic(path, text, strlen(text), 0600, err);
}

void ims_cache_layer_forget(ims_cache *c, const char *recipe)
{
	if (!ims_digest_valid(recipe))
		return;
	_cleanup_free_ char *path = entry_path(c, recipe);
	unlink(path);
}

int ims_cache_lock(ims_cache *c, const char *recipe, ims_error **err)
{
	int r = ims_digest_check(recipe, "recipe", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = ims_cache__path(c, "locks", ims_digest_hex(recipe));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "open the cache lock `%s`", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return ims_error_sys(err, e, IMS_EGENERIC, "lock `%s`", path);
		}
	}
	return fd;
}

void ims_cache_unlock(int handle)
{
	if (handle >= 0)
		close(handle); /* releases the flock; the lock file stays for the next build */
}
