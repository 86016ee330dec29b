/* The entries of a layer blob (tar, tar.gz or tar.zst), streamed: each
 * header is handed to a callback with the sha256 of its content, and
 * nothing but libarchive's stream buffers is held, whatever the layer's
 * size. For reports (exec/report.c); building never reads layers back. */
#ifndef IMS_LAYER_LISTING_H
#define IMS_LAYER_LISTING_H

#include <stdint.h>

#include "digest/digest.h"
#include "imagespec/error.h"
#include "util/stream.h"

typedef enum {
	IMS_LIST_FILE,
	IMS_LIST_DIR,
	IMS_LIST_SYMLINK,
	IMS_LIST_HARDLINK,
	IMS_LIST_WHITEOUT, /* `.wh.NAME`: path is NAME, deleted from the layers below */
	IMS_LIST_OPAQUE,   /* `DIR/.wh..wh..opq`: path is DIR, emptied of the layers below */
	IMS_LIST_OTHER,    /* device, FIFO, socket */
} ims_list_type;

typedef struct {
	const char *path; /* as stored, without a leading "./" or "/"; for whiteouts the deleted path */
	const char *name; /* as stored in the tar */
	ims_list_type type;
	int64_t size;  /* content bytes (regular files), else 0 */
	unsigned mode; /* permission bits */
	int64_t uid, gid;
	const char *link;   /* symlink or hard link target, else NULL */
	const char *digest; /* "sha256:…" of a regular file's content, else NULL */
} ims_list_entry;

typedef int (*ims_list_fn)(void *ud, const ims_list_entry *e, ims_error **err);

/* Reads the layer from r to its end, calling fn for every entry in tar
 * order. shown names the layer in messages. A tar that is not one fails
 * with IMS_EINVALID; fn's negative return stops the listing. */
int ims_layer_list(ims_reader *r, const char *shown, ims_list_fn fn, void *ud, ims_error **err);

#endif
