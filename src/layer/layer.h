/* The layer writer: entries → tar (libarchive, pax) → compressor (zlib gzip
 * with no name/mtime, zstd, or none) → sink. The sha256 of the tar (diffId)
 * and of the compressed bytes (digest) are taken in the same pass. Memory
 * is bounded whatever the layer size: nothing is held but stream buffers.
 *
 * Everything here implements the "Rules" of SPEC-v1.md for files and layers. */
#ifndef IMS_LAYER_H
#define IMS_LAYER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "digest/digest.h"
#include "imagespec/error.h"
#include "layer/input.h"
#include "util/event.h"
#include "util/fanout.h"
#include "util/stream.h"

/* The version of the layer bytes: it changes whenever the bytes a given
 * input produces change (tar details, compression, default levels). Layer
 * caches key on it; tests/e2e/golden.txt catches a change made without it.
 * 1: one zlib stream, single-threaded zstd. 2: gzip in parallel 128 KiB
 * blocks with incompressible 1 KiB chunks stored; zstd with worker threads
 * and 1 MiB jobs overlapping by 1 MiB. 3: gzip blocks compressed by
 * libdeflate, without a dictionary, level 1 by default. 4: gzip level 2
 * by default (the same bytes as 3 for a level given). The compressing
 * library's version is part of a layer's cache recipe as well
 * (ims_compressor_version). */
#define IMS_LAYER_FORMAT_VERSION 4

/* A file or directory a files layer leaves out, known by device and inode
 * whatever its name (SPEC-v1 is silent; docs/choices.md, "Local
 * files"). */
typedef struct {
	dev_t dev;
	ino_t ino;
	const char *what; /* for messages: "the output layout `out`" */
	bool secret;      /* credentials: left out with a warning, unless a mapping's src names the file itself;
			   * else the build's own output, cache or temp space: always left out */
} ims_layer_skip;

typedef struct {
	const char *source_dir; /* COPY `src` and ignore files resolve beneath this */
	int64_t created;        /* default mtime for every entry */
	ims_layer_attrs defaults; /* the layer's defaults (top-level ones merged under) */
	ims_layer_alg alg;
	int level;              /* -1: default for the algorithm */
	int threads;            /* compressing threads; 0 or 1: one. Never changes the bytes */
	const ims_events *ev;   /* warnings (secrets swept in, dropped bits); may be NULL */
	const char *progress;   /* label of the progress events sent to ev ("layer 1/3"); NULL: none */
	const ims_layer_skip *skip; /* left out of files layers */
	size_t nskip;
	const atomic_bool *stop; /* once true, a walk or a hash in progress gives up (IMS_EINTERRUPTED); may be NULL */
	/* Threads for the walk's splits and the content hashes, started by
	 * the caller (NULL: each starts its own, and only if it splits). A
	 * thread started while another thread of the process runs dlopen
	 * waits for the dlopen to end: the prewalk starts its pool before
	 * the registry's library is loaded. Borrowed. */
	ims_fanout *pool;
} ims_layer_opts;

typedef struct {
	char digest[IMS_DIGEST_BUFSZ];  /* of the bytes written to the sink */
	char diff_id[IMS_DIGEST_BUFSZ]; /* of the tar */
	int64_t size;                   /* compressed bytes written */
	int64_t tar_size;
	int64_t entries;
} ims_layer_result;

/* A layer from file mappings (a files layer): ims_layer_files_prepare then
 * ims_layer_files_write. */
int ims_layer_write_files(const ims_layer_mapping *maps, size_t n, const ims_layer_opts *o, ims_sink *out,
			  ims_layer_result *res, ims_error **err);

/* Content hashes of source files known from elsewhere (a stat cache), and
 * where to report the ones read. path is relative to the source dir; st is
 * the file's stat when it was walked. */
typedef struct {
	bool (*lookup)(void *ud, const char *path, const struct stat *st, char digest[IMS_DIGEST_BUFSZ]);
	void (*learn)(void *ud, const char *path, const struct stat *st, const char *digest);
	/* Known before with this size and mode, whatever the times and inode
	 * say now (touched, or checked out again): probably unchanged. May be
	 * NULL. */
	bool (*seen)(void *ud, const char *path, const struct stat *st);
	void *ud;
} ims_layer_hashes;

/* A files layer in steps, so that a cache can tell whether the layer is
 * already built without reading unchanged files:
 *   prepare    walks the sources and settles every entry (no data read);
 *   known      fills in the content hashes h knows, returns how many are not,
 *              and (unseen, may be NULL) how many of those h has not seen;
 *   hash       reads the rest;
 *   describe   writes the recipe of the layer (every entry's path, type,
 *              mode, owner, mtime, size, link and content hash) to out;
 *   write      streams the layer, learning the hashes of what it reads.
 * The bytes write produces depend on exactly what describe writes (and on
 * the options: compression, created). */
typedef struct ims_layer_files ims_layer_files;
int ims_layer_files_prepare(ims_layer_files **out, const ims_layer_mapping *maps, size_t n, const ims_layer_opts *o,
			    ims_error **err);
/* Points lf at o from now on: a walk prepared ahead with options that
 * differ from o in ev, progress, compression and stop only (the walk uses
 * source_dir, created, defaults and skip, which must be the same). */
void ims_layer_files_rebind(ims_layer_files *lf, const ims_layer_opts *o);
size_t ims_layer_files_known(ims_layer_files *lf, const ims_layer_hashes *h, size_t *unseen);
int ims_layer_files_hash(ims_layer_files *lf, const ims_layer_hashes *h, ims_error **err);
int ims_layer_files_describe(const ims_layer_files *lf, ims_sink *out, ims_error **err);
int ims_layer_files_write(ims_layer_files *lf, const ims_layer_hashes *h, ims_sink *out, ims_layer_result *res,
			  ims_error **err);
/* Whether every source file, when its reading for the layer ended, still
 * had the stat it was walked with (a layer built from files that changed
 * meanwhile is not remembered). */
bool ims_layer_files_unchanged(const ims_layer_files *lf);
void ims_layer_files_free(ims_layer_files *lf);

/* A layer from the existing archive (tar, tar.gz, tar.zst, tar.xz) at path,
 * re-rooted under a->dest with a->include and a->strip_components. When
 * a->sha256 is set, the archive file must match it. */
int ims_layer_write_archive(const ims_layer_archive *a, const char *path, const ims_layer_opts *o, ims_sink *out,
			    ims_layer_result *res, ims_error **err);
/* The same check of a->sha256 (if set) against got, the archive file's
 * digest known already (a layer cache hashed it): IMS_EDIGEST on a
 * mismatch, with the message ims_layer_write_archive gives. */
int ims_layer_archive_check_digest(const ims_layer_archive *a, const char *path, const char *got, ims_error **err);

/* How an archive layer takes one entry's name (fuzzers and tests): the
 * path in the layer under dest (absolute; NULL: "/") after stripping
 * strip components, with symlink (may be NULL) its target; *path is NULL
 * for an entry stripped away. Refusals are those of
 * ims_layer_write_archive: `..`, absolute names, whiteouts, names that
 * are not clean UTF-8, symlinks leaving dest. */
int ims_layer__archive_entry_path(const char *dest, int strip, const char *name, const char *symlink, char **path,
				  ims_error **err);

/* The whiteout layer: `.wh.NAME` for each delete path and
 * `DIR/.wh..wh..opq` for each opaque path. */
int ims_layer_write_whiteouts(const ims_layer_whiteouts *w, const ims_layer_opts *o, ims_sink *out,
			      ims_layer_result *res, ims_error **err);

/* Decompresses a base layer (gzip, zstd or plain tar, detected by magic)
 * from r into out, returning the sha256 of the tar in diff_id. Used when a
 * target needs uncompressed layers (docker-archive). */
int ims_layer_decompress(ims_reader *r, ims_sink *out, char diff_id[IMS_DIGEST_BUFSZ], int64_t *tar_size,
			 ims_error **err);

#endif
