/* What the layer writer is asked to write, in the layer's own terms: file
 * mappings, an archive to re-root, whiteouts, attributes and compression.
 * The planner fills these from the spec (plan/), so a change to
 * image.yaml's shape stops at the planner and never reaches the tar
 * writer. Values that came from a file carry `at`, the "FILE:LINE:COL: "
 * that messages about them start with ("" when there is none, as for the C
 * API). Everything here is borrowed from whoever built it. */
#ifndef IMS_LAYER_INPUT_H
#define IMS_LAYER_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	IMS_LAYER_ALG_GZIP,
	IMS_LAYER_ALG_ZSTD,
	IMS_LAYER_ALG_NONE,
} ims_layer_alg;

/* A string and where it was written. */
typedef struct {
	const char *s;
	const char *at; /* "FILE:LINE:COL: " or "" */
} ims_layer_val;

/* Overrides of an entry's metadata (SPEC "Modes"). */
typedef struct {
	bool has_mode;
	uint32_t mode; /* 07777 bits */
	bool has_dir_mode;
	uint32_t dir_mode;
	bool has_uid;
	int64_t uid;
	bool has_gid;
	int64_t gid;
	bool has_mtime;
	int64_t mtime; /* seconds since the epoch */
} ims_layer_attrs;

typedef enum {
	IMS_MAP_COPY,    /* src → dest */
	IMS_MAP_CONTENT, /* bytes → dest */
	IMS_MAP_SYMLINK, /* dest is a symlink to `symlink` */
	IMS_MAP_DIR,     /* dest is a directory */
} ims_map_kind;

/* One mapping of a files layer. */
typedef struct {
	ims_map_kind kind;
	const char *at;     /* the mapping itself */
	ims_layer_val src;  /* COPY: relative to the source directory */
	ims_layer_val dest; /* absolute; a trailing '/' means "into" (COPY) */
	ims_layer_val symlink;
	const char *const *include; /* globs anchored at src; none: everything */
	size_t ninclude;
	const char *const *exclude;
	size_t nexclude;
	const ims_layer_val *ignore_files; /* file names, e.g. ".dockerignore" */
	size_t nignore_files;
	bool follow_symlinks;
	const void *content; /* CONTENT */
	size_t content_len;
	ims_layer_attrs attrs; /* the mapping's own, over the layer's defaults */
} ims_layer_mapping;

/* An existing archive, re-rooted under dest. */
typedef struct {
	const char *shown;          /* how messages name it (its path as written, or its URL) */
	const char *dest;           /* absolute; NULL: "/" */
	const char *const *include; /* paths or globs to keep; none: everything */
	size_t ninclude;
	int strip_components;
	const char *sha256; /* hex or sha256:hex the file must match; NULL: unchecked */
} ims_layer_archive;

/* The whiteout layer: `delete` and `opaque` paths. */
typedef struct {
	const ims_layer_val *del;
	size_t ndel;
	const ims_layer_val *opaque;
	size_t nopaque;
} ims_layer_whiteouts;

#endif
