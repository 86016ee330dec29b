/* A content-addressed blob store laid out as blobs/sha256/<hex> under a
 * root directory: the storage of an OCI layout, and the staging area of the
 * archive writers. Internal to the transport room. */
#ifndef IMS_TRANSPORT_BLOBDIR_H
#define IMS_TRANSPORT_BLOBDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

typedef struct {
	char *root;  /* the directory that holds blobs/ */
	char *shown; /* how messages name the store, e.g. "oci layout `out`" */
} ims_blobdir;

/* Points b at root (nothing is created; see ims_blobdir_create). */
void ims_blobdir_init(ims_blobdir *b, const char *root, const char *shown);
void ims_blobdir_dispose(ims_blobdir *b);
/* mkdir -p root/blobs/sha256. */
int ims_blobdir_create(ims_blobdir *b, ims_error **err);

/* Removes blobs/sha256/.tmp-* files that no writer holds any more (what
 * a killed build left). */
void ims_blobdir_sweep(ims_blobdir *b);

/* The path of a blob; the digest must have been validated. Caller frees. */
char *ims_blobdir_path(const ims_blobdir *b, const char *digest);

/* The ops below validate the digest before it becomes part of a path. */
int ims_blobdir_has(ims_blobdir *b, const char *digest, bool *exists, ims_error **err);
/* IMS_ENOTFOUND when absent; refuses anything but a regular file. */
int ims_blobdir_open(ims_blobdir *b, const char *digest, ims_reader *out, ims_error **err);
/* Reads a blob (at most max bytes) and checks it against its digest. */
int ims_blobdir_read(ims_blobdir *b, const char *digest, size_t max, char **data, size_t *len, ims_error **err);
/* Stores bytes already in memory under digest, after checking they match it. */
int ims_blobdir_put(ims_blobdir *b, const void *data, size_t len, const char *digest, ims_error **err);
/* A writer into a temp file next to the blobs; commit checks what was hashed
 * while writing against the claimed digest and size, then renames it into
 * place. */
int ims_blobdir_new_writer(ims_blobdir *b, ims_blob_writer **out, ims_error **err);

#endif
