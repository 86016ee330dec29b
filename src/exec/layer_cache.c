/* Recipes: what a new layer's bytes depend on, hashed. Two builds with the
 * same recipe write the same bytes, so the second can take the first's.
 * The recipe covers the layer format version (which changes whenever the
 * bytes a given input produces change), the compression, the created time,
 * the step's metadata defaults, and then per kind: every entry of a files
 * layer (path, type, mode, owner, mtime, size, link, content hash, as the
 * layer room describes them), an archive's content hash and how it is
 * re-rooted, a url's sha256 and how it is re-rooted. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest/sha256_stream.h"
#include "exec/layer_cache.h"
#include "layer/compress.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

ims_cache_stats *ims_exec_cache_stats(ims_exec_cache *c)
{
	if (!c)
		return NULL; /* no cache: every lookup misses */
	if (c->stats_loading) {
		pthread_join(c->stats_thread, NULL);
		c->stats_loading = false;
	}
	return c->stats;
}

static void *load_stats(void *ud)
{
	ims_exec_cache *c = ud;
	c->stats = ims_cache_stats_load(c->cache, c->stats_root);
	return NULL;
}

static bool stats_lookup(void *ud, const char *path, const struct stat *st, char digest[IMS_DIGEST_BUFSZ])
{
	return ims_cache_stats_lookup(ims_exec_cache_stats(ud), path, st, digest);
}

static void stats_learn(void *ud, const char *path, const struct stat *st, const char *digest)
{
	ims_cache_stats_learn(ims_exec_cache_stats(ud), path, st, digest);
}

static bool stats_seen(void *ud, const char *path, const struct stat *st)
{
	return ims_cache_stats_seen(ims_exec_cache_stats(ud), path, st);
}

void ims_exec_cache_open(ims_exec_cache *c, const ims_exec_env *env, const ims_plan *p, bool readonly,
			 ims_prewalk *walked)
{
	memset(c, 0, sizeof(*c));
	c->ev = &env->ev;
	c->readonly = readonly;
	c->hashes = (ims_layer_hashes){ stats_lookup, NULL, NULL, NULL }; /* no stat cache: hash everything */
	if (!env->cache_dir)
		return;
	ims_error *e = NULL;
	if (!ims_prewalk_take_cache(walked, p->spec_dir, &c->cache, &c->stats) &&
	    ims_cache_open(&c->cache, env->cache_dir, env->cache_max, &e) < 0) {
		ims_events_warn(&env->ev, "building without the cache: %s", e->message);
		ims_error_free(e);
		return;
	}
	if (c->stats) {
		/* read while the registries answered */
	} else if (p->spec_dir) {
		/* Read beside the walk of the first layer's files (a table of
		 * 5,000 files takes about as long as a tenth of an unchanged
		 * rebuild); c does not move until it is closed. */
		c->stats_root = p->spec_dir;
		c->stats_loading = pthread_create(&c->stats_thread, NULL, load_stats, c) == 0;
		if (!c->stats_loading)
			c->stats = ims_cache_stats_load(c->cache, p->spec_dir);
	}
	c->hashes = (ims_layer_hashes){ stats_lookup, readonly ? NULL : stats_learn, stats_seen, c };
}

struct ims_exec_cache_closer {
	ims_exec_cache c;
	pthread_t thread;
	bool threaded;
	char *warning; /* for the caller's thread to report */
};

static void *close_now(void *ud)
{
	ims_exec_cache_closer *k = ud;
	ims_exec_cache *c = &k->c;
	if (c->readonly) {
		ims_cache_stats_free(c->stats); /* a dry run writes nothing */
		c->stats = NULL;
	}
	ims_cache_stats_save(c->stats);
	if (c->cache && !c->readonly) {
		ims_error *e = NULL;
		if (ims_cache_trim(c->cache, &e) < 0) {
			k->warning = xasprintf("the cache could not be trimmed: %s", e->message);
			ims_error_free(e);
		}
	}
	ims_cache_close(c->cache);
	ims_layer_files_free(c->spare);
	return NULL;
}

void ims_exec_cache_drop_listing(ims_exec_cache *c, ims_layer_files *lf)
{
	ims_layer_files_free(c->spare);
	c->spare = lf;
}

/* Moves c, its stat table read, into a closer. */
static ims_exec_cache_closer *detach(ims_exec_cache *c)
{
	ims_exec_cache_stats(c);
	ims_exec_cache_closer *k = xcalloc(1, sizeof(*k));
	k->c = *c;
	memset(c, 0, sizeof(*c));
	return k;
}

ims_exec_cache_closer *ims_exec_cache_close_async(ims_exec_cache *c)
{
	ims_exec_cache_closer *k = detach(c);
	k->threaded = pthread_create(&k->thread, NULL, close_now, k) == 0;
	if (!k->threaded)
		close_now(k);
	return k;
}

void ims_exec_cache_join(ims_exec_cache_closer *k)
{
	if (!k)
		return;
	if (k->threaded)
		pthread_join(k->thread, NULL);
	if (k->warning)
		ims_events_warn(k->c.ev, "%s", k->warning);
	free(k->warning);
	free(k);
}

void ims_exec_cache_close(ims_exec_cache *c)
{
	ims_exec_cache_closer *k = detach(c);
	close_now(k);
	ims_exec_cache_join(k);
}

/* A string with its length first, so that no value can end a field early. */
static void put_str(ims_buf *b, const char *key, const char *s)
{
	ims_buf_printf(b, "%s %zu:%s\n", key, s ? strlen(s) : 0, s ? s : "");
}

static void put_header(ims_buf *b, const ims_step *s, const ims_layer_opts *o)
{
	const ims_layer_attrs *d = &o->defaults;
	ims_buf_printf(b, "imagespec layer recipe 1\nformat %d\nalg %d level %d\ncreated %lld\n",
		       IMS_LAYER_FORMAT_VERSION, (int)o->alg, o->level, (long long)o->created);
	put_str(b, "compressor", ims_compressor_version(o->alg));
	ims_buf_printf(b, "defaults %d %o %d %o %d %lld %d %lld %d %lld\n", d->has_mode, d->mode, d->has_dir_mode,
		       d->dir_mode, d->has_uid, (long long)d->uid, d->has_gid, (long long)d->gid, d->has_mtime,
		       (long long)d->mtime);
	ims_buf_printf(b, "kind %d\n", (int)s->kind);
}

/* How an archive is re-rooted: dest, include, strip. */
static void put_archive(ims_buf *b, const ims_layer_archive *a)
{
	put_str(b, "dest", a->dest);
	ims_buf_printf(b, "strip %d\n", a->strip_components);
	for (size_t i = 0; i < a->ninclude; i++)
		put_str(b, "include", a->include[i]);
}

/* The sha256 of a local archive, from the stat cache when unchanged. */
static int archive_hash(ims_exec_cache *c, const char *path, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ims_error_sys(err, errno, errno == ENOENT ? IMS_ENOTFOUND : IMS_EGENERIC, "open archive `%s`",
				     path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 1; /* not a regular file: the layer writer says why */
	}
	if (ims_cache_stats_lookup(ims_exec_cache_stats(c), path, &st, digest)) {
		close(fd);
		return 0;
	}
	ims_reader rd = ims_reader_fd(fd);
	ims_sha256_sink h;
	ims_sha256_sink_init(&h, NULL);
	long long n = 0;
	int r = ims_stream_copy(&rd, &h.sink, &n, err);
	ims_reader_close(&rd);
	ims_sha256_sink_final(&h, digest);
	if (r < 0)
		return ims_error_wrap(err, "read archive `%s`", path);
	ims_cache_stats_learn(ims_exec_cache_stats(c), path, &st, digest);
	return 0;
}

bool ims_exec_hash_first(bool remote, bool local, size_t unseen)
{
	return remote || (local && unseen == 0);
}

int ims_exec_recipe(ims_exec_cache *c, const ims_step *s, const ims_layer_opts *o, ims_layer_files *lf,
		    char recipe[IMS_DIGEST_BUFSZ], bool *known, ims_error **err)
{
	*known = false;
	if (!c->cache && !c->remote && !c->exported)
		return 0;
	/* Hashed as it is written: a files layer's description is a line
	 * per entry (700 KB for the benchmark's 5,000 files, 175 page faults
	 * when it was kept whole). */
	ims_sha256_sink h;
	ims_sha256_sink_init(&h, NULL);
	ims_buf b = IMS_BUF_INIT(0);
	put_header(&b, s, o);
	int r = 0;
	char digest[IMS_DIGEST_BUFSZ];
	switch (s->kind) {
	case IMS_STEP_FILES: {
		/* Files the stat cache does not know are read and hashed
		 * first when a cache could answer: with a remote cache always
		 * (a fresh runner knows nothing), with the local one when every
		 * such file is in the stat table with its size and mode, only its
		 * times or inode changed (a fresh clone in the same place, a
		 * checkout, `touch`): probably unchanged, and hashing costs about
		 * a tenth of compressing, so the layer is then a hit, not a
		 * rebuild. A new or resized file means an edit: the layer is
		 * built, hashing as it goes, and no file is read twice. */
		size_t unseen = 0;
		if (ims_layer_files_known(lf, &c->hashes, &unseen) > 0 &&
		    (!ims_exec_hash_first(c->remote, c->cache != NULL, unseen) ||
		     (r = ims_layer_files_hash(lf, &c->hashes, err)) < 0))
			goto out;
		if ((r = ims_sink_write(&h.sink, b.data, b.len, err)) < 0 ||
		    (r = ims_layer_files_describe(lf, &h.sink, err)) < 0)
			goto out;
		ims_buf_reset(&b);
		break;
	}
	case IMS_STEP_ARCHIVE:
		/* A hit writes nothing, so the archive's required sha256 is
		 * checked here, against the digest the recipe is made of. */
		if ((r = archive_hash(c, s->archive_path, digest, err)) != 0 ||
		    (r = ims_layer_archive_check_digest(&s->archive, s->archive_path, digest, err)) < 0)
			goto out;
		put_str(&b, "archive", digest);
		put_archive(&b, &s->archive);
		break;
	case IMS_STEP_URL:
		/* the sha256 a url layer requires is what it downloads */
		if (!s->archive.sha256)
			goto out;
		put_str(&b, "url", s->archive.sha256);
		put_archive(&b, &s->archive);
		break;
	default:
		goto out; /* whiteouts cost nothing to build; blobs are not built */
	}
	if ((r = ims_sink_write(&h.sink, b.data, b.len, err)) < 0)
		goto out;
	ims_sha256_sink_final(&h, recipe);
	*known = true;
out:
	ims_sha256_sink_dispose(&h);
	ims_buf_dispose(&b);
	return r < 0 ? r : 0;
}

char *ims_exec_cache_default_dir(void)
{
	return ims_cache_default_dir();
}

static int open_env(const ims_exec_env *env, ims_cache **out, ims_error **err)
{
	if (!env->cache_dir)
		return ims_error_set(err, IMS_EINVALID, "no cache directory is set");
	return ims_cache_open(out, env->cache_dir, env->cache_max, err);
}

int ims_exec_cache_du(const ims_exec_env *env, int64_t *bytes, size_t *blobs, size_t *layers, ims_error **err)
{
	ims_cache *c = NULL;
	ims_cache_usage u;
	int r = open_env(env, &c, err);
	if (r >= 0 && (r = ims_cache_du(c, &u, err)) >= 0) {
		*bytes = u.bytes;
		*blobs = u.blobs;
		*layers = u.layers;
	}
	ims_cache_close(c);
	return r;
}

int ims_exec_cache_prune(const ims_exec_env *env, int64_t max_bytes, int64_t *freed, ims_error **err)
{
	ims_cache *c = NULL;
	int r = open_env(env, &c, err);
	if (r >= 0)
		r = ims_cache_prune(c, max_bytes, freed, err);
	ims_cache_close(c);
	return r;
}
