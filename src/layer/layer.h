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
#include "layer/input.h"
#include "util/event.h"
#include "util/stream.h"

typedef struct {
	const char *source_dir; /* COPY `src` and ignore files resolve beneath this */
	int64_t created;        /* default mtime for every entry */
	ims_layer_attrs defaults; /* the layer's defaults (top-level ones merged under) */
	ims_layer_alg alg;
	int level;              /* -1: default for the algorithm */
	const ims_events *ev;   /* warnings (secrets swept in, dropped bits); may be NULL */
} ims_layer_opts;

typedef struct {
	char digest[IMS_DIGEST_BUFSZ];  /* of the bytes written to the sink */
	char diff_id[IMS_DIGEST_BUFSZ]; /* of the tar */
	int64_t size;                   /* compressed bytes written */
	int64_t tar_size;
	int64_t entries;
} ims_layer_result;

/* A layer from file mappings (a files layer). */
int ims_layer_write_files(const ims_layer_mapping *maps, size_t n, const ims_layer_opts *o, ims_sink *out,
			  ims_layer_result *res, ims_error **err);

/* A layer from the existing archive (tar, tar.gz, tar.zst, tar.xz) at path,
 * re-rooted under a->dest with a->include and a->strip_components. When
 * a->sha256 is set, the archive file must match it. */
int ims_layer_write_archive(const ims_layer_archive *a, const char *path, const ims_layer_opts *o, ims_sink *out,
			    ims_layer_result *res, ims_error **err);

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
