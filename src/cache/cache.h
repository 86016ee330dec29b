/* The local layer cache: a directory that remembers what layers were built
 * from what inputs, so that an unchanged layer is neither re-tarred nor
 * recompressed, and keeps their compressed bytes, so that an oci: or
 * archive output is written without recompressing either.
 *
 *   DIR/version                 "imagespec-cache 1"
 *   DIR/blobs/sha256/HEX        compressed layers, content-addressed
 *   DIR/layers/HEX              recipe hash → the layer it made (text)
 *   DIR/stats/HEX               per source tree: path + stat → content hash
 *   DIR/locks/HEX               one lock file per recipe being built
 *
 * Everything is written to an anonymous or temp file and renamed (or
 * linked) into place: a killed build leaves no torn entry, and concurrent
 * builds see either the old state or the new. An entry is only a hint: a
 * layer whose blob is gone, or whose bytes do not match, is built again.
 * The cache never changes a digest: a hit gives the bytes a miss would have
 * written. */
#ifndef IMS_CACHE_CACHE_H
#define IMS_CACHE_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "digest/digest.h"
#include "imagespec/error.h"
#include "util/stream.h"

typedef struct ims_cache ims_cache;

/* The default directory: $XDG_CACHE_HOME/imagespec, else ~/.cache/imagespec
 * (caller frees; NULL when neither is set). */
char *ims_cache_default_dir(void);
/* Opens (and creates, 0700) the cache in dir. max_bytes: the size cap that
 * ims_cache_trim keeps (0: the default, 10 GiB). */
int ims_cache_open(ims_cache **out, const char *dir, int64_t max_bytes, ims_error **err);
void ims_cache_close(ims_cache *c);
const char *ims_cache_dir(const ims_cache *c);

/* ---- layers (layers.c) ---- */

/* What a recipe made. */
typedef struct {
	char digest[IMS_DIGEST_BUFSZ];  /* of the compressed blob */
	char diff_id[IMS_DIGEST_BUFSZ]; /* of the tar */
	int64_t size;                   /* of the compressed blob */
} ims_cache_layer;

/* The layer a recipe (a sha256 digest) made, when the cache remembers one;
 * *found false otherwise. A malformed entry is removed and not found. */
int ims_cache_layer_get(ims_cache *c, const char *recipe, ims_cache_layer *out, bool *found, ims_error **err);
int ims_cache_layer_put(ims_cache *c, const char *recipe, const ims_cache_layer *l, ims_error **err);
/* Forgets a recipe (its blob was gone or wrong). */
void ims_cache_layer_forget(ims_cache *c, const char *recipe);

/* Holds the lock of a recipe while it is built, so that two builds of the
 * same inputs at once compress it once: the second waits, then finds it.
 * Returns a handle for ims_cache_unlock, or a negative code. */
int ims_cache_lock(ims_cache *c, const char *recipe, ims_error **err);
void ims_cache_unlock(int handle);

/* ---- blobs (blobs.c) ---- */

/* Whether the store has the blob (and its size). */
bool ims_cache_blob_has(ims_cache *c, const char *digest, int64_t *size);
/* Removes a blob whose bytes turned out wrong. */
void ims_cache_blob_remove(ims_cache *c, const char *digest);
/* Opens a blob for reading (the caller verifies what it reads), and marks
 * it used for the LRU. */
int ims_cache_blob_open(ims_cache *c, const char *digest, ims_reader *out, ims_error **err);
/* A small blob (at most max bytes) read whole and checked against its
 * digest: true with *data and *len set, false when the store does not
 * hold it (a blob with other bytes is removed). Marks it used. */
bool ims_cache_blob_read(ims_cache *c, const char *digest, size_t max, char **data, size_t *len);
/* Stores data under digest, which must be its sha256 (checked). */
int ims_cache_blob_put(ims_cache *c, const char *digest, const void *data, size_t len, ims_error **err);
/* Stores the bytes of fd, a file that holds exactly size bytes whose sha256
 * is digest (the caller hashed them as they were written) and that no one
 * writes any more: linked into the store when it can be (an unnamed file
 * on the store's filesystem: no copy), else copied. The caller keeps fd. */
int ims_cache_blob_adopt(ims_cache *c, int fd, const char *digest, int64_t size, ims_error **err);

/* A blob being stored: write through sink, then commit (which checks the
 * digest and size of what was written and links it into place) or abort.
 * Either frees the writer. */
typedef struct ims_cache_writer ims_cache_writer;
int ims_cache_writer_new(ims_cache *c, ims_cache_writer **out, ims_error **err);
ims_sink *ims_cache_writer_sink(ims_cache_writer *w);
/* Before the first write: the caller hashes what it writes and commits that
 * digest, so the writer only counts (it checks the size at commit). */
void ims_cache_writer_count_only(ims_cache_writer *w);
int ims_cache_writer_commit(ims_cache_writer *w, const char *digest, int64_t size, ims_error **err);
void ims_cache_writer_abort(ims_cache_writer *w);

/* ---- source stats (stats.c) ---- */

/* The content hashes of the files of one source tree, keyed by path and
 * stat (size, mtime and ctime in ns, inode, device, mode), like git's
 * index: an unchanged file is not read again. */
typedef struct ims_cache_stats ims_cache_stats;
ims_cache_stats *ims_cache_stats_load(ims_cache *c, const char *root);
bool ims_cache_stats_lookup(ims_cache_stats *s, const char *path, const struct stat *st, char digest[IMS_DIGEST_BUFSZ]);
/* path is in the table with st's size and mode, whatever its times and
 * inode: touched or checked out again, and probably unchanged. */
bool ims_cache_stats_seen(ims_cache_stats *s, const char *path, const struct stat *st);
void ims_cache_stats_learn(ims_cache_stats *s, const char *path, const struct stat *st, const char *digest);
/* Writes the table back when it changed, then frees it. */
void ims_cache_stats_save(ims_cache_stats *s);
/* Frees it without writing. */
void ims_cache_stats_free(ims_cache_stats *s);

/* ---- size (prune.c) ---- */

typedef struct {
	int64_t bytes; /* of blobs */
	size_t blobs;
	size_t layers; /* recipe entries */
} ims_cache_usage;

int ims_cache_du(ims_cache *c, ims_cache_usage *out, ims_error **err);
/* Removes the least recently used blobs until the store holds at most
 * max_bytes, then the entries whose blob is gone. *freed gets the bytes. */
int ims_cache_prune(ims_cache *c, int64_t max_bytes, int64_t *freed, ims_error **err);
/* ims_cache_prune to the cap given at open, when the store is over it. */
int ims_cache_trim(ims_cache *c, ims_error **err);

#endif
