/* The streaming pipeline under every layer: tar entries (libarchive, pax
 * restricted) → tee(sha256 = diffId) → compressor (gzip via zlib with no
 * name/mtime in the header, zstd, or none) → tee(sha256 = digest, count)
 * → sink. Internal to the layer room. */
#ifndef IMS_LAYER_TARW_H
#define IMS_LAYER_TARW_H

#include <stdint.h>
#include <sys/types.h>

#include "layer/layer.h"

typedef enum {
	IMS_TAR_FILE,
	IMS_TAR_DIR,
	IMS_TAR_SYMLINK,
	IMS_TAR_HARDLINK,
} ims_tar_type;

typedef struct {
	const char *path;     /* relative to the layer root, no leading '/', cleaned;
			       * a directory has no trailing '/' (the writer adds one) */
	ims_tar_type type;
	uint32_t perm;        /* 07777 bits */
	int64_t uid, gid;
	int64_t mtime;
	int64_t size;         /* IMS_TAR_FILE only */
	const char *linkname; /* symlink target, or hardlink target path (relative, in this layer) */
	const char *source;   /* for messages: where the data comes from (a file relative
			       * to the spec dir, an archive member); NULL: path */
} ims_tar_entry;

/* No layer may hold more than this many bytes of tar (sparse files and
 * endless sources stop here; anchors-reliability.md item 26). */
#define IMS_LAYER_MAX_TAR_SIZE ((int64_t)64 << 30)

typedef struct ims_tarw ims_tarw;

/* threads: how many may compress at once (0 or 1: one); the bytes are the
 * same for any number. */
int ims_tarw_open(ims_tarw **out, ims_layer_alg alg, int level, int threads, ims_sink *sink, ims_error **err);
/* Adds one entry. For IMS_TAR_FILE, exactly e->size bytes are read from data
 * (fewer or more is an error: "file changed as we read it"); data may be
 * NULL when e->size is 0. The path must pass ims_lpath_valid (layer/lpath.h);
 * a hardlink must name a regular file already added to this layer. After
 * any failure the writer is broken: later calls fail too, and nothing more
 * reaches the sink. */
int ims_tarw_add(ims_tarw *w, const ims_tar_entry *e, ims_reader *data, ims_error **err);
/* Adds a regular file from an in-memory buffer. */
int ims_tarw_add_buf(ims_tarw *w, const ims_tar_entry *e, const void *buf, size_t len, ims_error **err);
/* Writes the end-of-archive, flushes the compressor, fills res. */
int ims_tarw_finish(ims_tarw *w, ims_layer_result *res, ims_error **err);
/* Tells ev "label: bytes of total" as file data goes in (total: the sum of
 * the file sizes), and total of total when the layer is finished. */
void ims_tarw_progress(ims_tarw *w, const ims_events *ev, const char *label, int64_t total);
void ims_tarw_free(ims_tarw *w);

#endif
