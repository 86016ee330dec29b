/* Whole-archive tar I/O for the archive transports (oci-archive,
 * docker-archive): extracting an archive into a private directory with
 * every entry checked, and writing a normalised archive (sorted, pax
 * restricted, uid/gid 0, mtime 0, modes 0644/0755) atomically. In the
 * layer room because it is the only user of libarchive; the transports
 * call it from above. */
#ifndef IMS_LAYER_TARBALL_H
#define IMS_LAYER_TARBALL_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"

/* Caps on what an archive may unpack to: a hostile file must not exhaust
 * inodes or the temp filesystem. */
#define IMS_TARBALL_MAX_ENTRIES 100000
#define IMS_TARBALL_MAX_BYTES ((long long)1 << 40)

/* Extracts the tar (optionally gzip-compressed) at path into dir, which
 * must exist. Names must be relative and must not climb with `..`; only
 * regular files, directories and links are accepted, anything else is
 * refused with the entry named. Links are not created as links: a symlink
 * or hard link whose target is a regular file inside the archive becomes a
 * hard link to that file (docker save and skopeo write legacy
 * <id>/layer.tar symlinks), and any other link is refused, so the tree
 * holds only files and directories and nothing can lead outside dir.
 * shown names the archive in messages. */
int ims_tarball_extract(const char *path, const char *dir, const char *shown, ims_error **err);

typedef struct {
	char *name;       /* path inside the archive; owned */
	bool dir;
	char *src;        /* regular file to copy; owned; NULL when data is used */
	const void *data; /* borrowed bytes for entries made in memory */
	size_t len;
} ims_tarball_entry;

/* Appends the tree under root (regular files and directories only) to *v. */
int ims_tarball_list_dir(const char *root, ims_tarball_entry **v, size_t *n, size_t *cap, ims_error **err);
void ims_tarball_entries_free(ims_tarball_entry *v, size_t n);

/* Removes FILE.tmp-* files next to path that a killed writer left. */
void ims_tarball_sweep(const char *path);
/* Writes the entries, sorted by name, to path.tmp-XXXXXX and renames it
 * over path, so readers see the old archive or the new one, never half. */
int ims_tarball_write(const char *path, ims_tarball_entry *v, size_t n, const char *shown, ims_error **err);

#endif
