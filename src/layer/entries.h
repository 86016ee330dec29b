/* The entries of a files layer, gathered before any data is read: every
 * mapping adds its entries here, then they are sorted by tar path, merged
 * (directories that agree; any other two entries of one path are refused),
 * checked (no directory/non-directory clash, no entry below a
 * non-directory, the size cap) and their hard links settled, and only then
 * written. Internal to the layer room. */
#ifndef IMS_LAYER_ENTRIES_H
#define IMS_LAYER_ENTRIES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "layer/tarw.h"

/* The metadata a mapping gives its entries: its own attrs over the layer's
 * defaults over the built-in ones (SPEC "Modes"). */
typedef struct {
	bool has_mode; /* else files get 0755 or 0644 from their x bits */
	uint32_t mode;
	bool has_dir_mode; /* else directories get 0755 */
	uint32_t dir_mode;
	int64_t uid, gid, mtime;
} ims_fattrs;

typedef struct {
	char *path;        /* tar path */
	ims_tar_type type; /* FILE, DIR or SYMLINK; some FILEs become HARDLINKs */
	uint32_t perm;
	int64_t uid, gid, mtime, size;
	char *linkname;    /* symlink text; for a hard link, its file's path */
	char *canon;       /* data on disk: canonical path beneath the spec dir */
	char *shown;       /* the source for messages, relative to the spec dir */
	const char *mem;   /* data from the spec (content:), borrowed */
	dev_t dev;         /* with canon: identity, checked again at open */
	ino_t ino;
	struct stat st;    /* with canon: the source's stat when it was walked */
	char digest[IMS_DIGEST_BUFSZ]; /* sha256 of a FILE's content; "" while unknown */
	bool changed;      /* its stat when its last read ended was not st */
	bool multi_link;   /* st_nlink > 1: may be stored as a hard link */
	size_t mapping;    /* index of the mapping that made it */
	size_t seq;        /* order of insertion */
} ims_fent;

typedef struct {
	ims_fent *v;
	size_t n, cap;
	size_t warm; /* v[0..warm) is known to be in memory (ims_prefault) */
} ims_fents;

/* A zeroed entry at the end of the list (owned by it), with seq set. */
ims_fent *ims_fents_add(ims_fents *l, size_t mapping);
/* e, whole, at the end of the list (which owns its strings from now on),
 * with mapping and seq set. */
void ims_fents_push(ims_fents *l, size_t mapping, const ims_fent *e);
void ims_fents_dispose(ims_fents *l);

/* Sorts, merges and checks the list, and turns later links to the same
 * file into hard links to the first in path order. */
int ims_fents_finalize(ims_fents *l, const ims_layer_mapping *maps, ims_error **err);

/* Fills in the content hashes h already knows; returns how many are still
 * unknown (h may be NULL), and in *unseen (may be NULL) how many of those
 * h->seen does not recognise. */
size_t ims_fents_known(ims_fents *l, const ims_layer_hashes *h, size_t *unseen);
/* Reads and hashes the files whose hash is unknown, on o->pool, or on
 * up to o->threads threads of its own, telling h (in the list's order,
 * from the caller's thread). Once *o->stop is true (stop may be NULL), no
 * more files are read and the error is IMS_EINTERRUPTED. */
int ims_fents_hash(ims_fents *l, int rootfd, const ims_layer_opts *o, const ims_layer_hashes *h, ims_error **err);
/* The canonical description of the finalized entries (every hash known). */
int ims_fents_describe(const ims_fents *l, ims_sink *out, ims_error **err);
/* Streams the finalized entries into a new layer, hashing each file it
 * reads and telling h (which may be NULL). rootfd: the source dir. */
int ims_fents_write(ims_fents *l, int rootfd, const ims_layer_opts *o, const ims_layer_hashes *h, ims_sink *out,
		    ims_layer_result *res, ims_error **err);

#endif
