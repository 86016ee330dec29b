/* The layer writer: entries → tar (libarchive, pax) → compressor (zlib gzip
 * with no name/mtime, zstd, or none) → sink. The sha256 of the tar (diffId)
 * and of the compressed bytes (digest) are taken in the same pass. Memory
 * is bounded whatever the layer size: nothing is held but stream buffers.
 *
 * Everything here implements the "Rules" of SPEC-v1.md for files and layers. */
#ifndef IMS_LAYER_H
#define IMS_LAYER_H

#include <stdint.h>

#include "digest/digest.h"
#include "imagespec/error.h"
#include "spec/spec.h"
#include "util/stream.h"

typedef struct {
	const char *spec_dir;   /* src, archive and ignoreFiles are relative to this */
	const char *spec_path;  /* for messages: FILE:LINE:COL */
	int64_t created;        /* default mtime for every entry */
	ims_attrs defaults;     /* top-level defaults, then layer defaults merged over */
	ims_compress_alg alg;   /* GZIP, ZSTD or NONE (never DEFAULT) */
	int level;              /* -1: default for the algorithm */
	void (*warn)(void *ud, const char *msg); /* optional warnings */
	void *warn_ud;
} ims_layer_opts;

typedef struct {
	char digest[IMS_DIGEST_BUFSZ];  /* of the bytes written to the sink */
	char diff_id[IMS_DIGEST_BUFSZ]; /* of the tar */
	int64_t size;                   /* compressed bytes written */
	int64_t tar_size;
	int64_t entries;
} ims_layer_result;

/* A layer from `files:` mappings (the files: layer, or a layers[] files layer). */
int ims_layer_write_files(const ims_file_spec *files, size_t nfiles, const ims_layer_opts *o, ims_sink *out,
			  ims_layer_result *res, ims_error **err);

/* A layer from an existing archive (tar, tar.gz, tar.zst, tar.xz) at
 * archive_path, re-rooted under l->dest with l->include and
 * l->strip_components. When l->sha256 is set, the archive file must match. */
int ims_layer_write_archive(const ims_layer_spec *l, const char *archive_path, const ims_layer_opts *o,
			    ims_sink *out, ims_layer_result *res, ims_error **err);

/* The final whiteout layer: `.wh.NAME` for each delete path and
 * `DIR/.wh..wh..opq` for each opaque path. */
int ims_layer_write_whiteouts(const ims_strlist *del, const ims_strlist *opaque, const ims_layer_opts *o,
			      ims_sink *out, ims_layer_result *res, ims_error **err);

/* Decompresses a base layer (gzip, zstd or plain tar, detected by magic)
 * from r into out, returning the sha256 of the tar in diff_id. Used when a
 * target needs uncompressed layers (docker-archive). */
int ims_layer_decompress(ims_reader *r, ims_sink *out, char diff_id[IMS_DIGEST_BUFSZ], int64_t *tar_size,
			 ims_error **err);

#endif
