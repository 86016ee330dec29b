/* Temp files and directories that a killed process does not leave behind
 * for good. Each is locked (flock) by its writer from the moment it exists
 * until it is renamed or removed; a later writer sweeps the ones nobody
 * holds any more. Where the filesystem allows, a file is O_TMPFILE (no
 * name at all until it is complete). */
#ifndef IMS_UTIL_TMPFILE_H
#define IMS_UTIL_TMPFILE_H

#include <stdbool.h>

#include "imagespec/error.h"

typedef struct {
	int fd;    /* -1 when closed */
	char *dir; /* where it lives */
	char *prefix;
	char *path; /* its name, or NULL while it is an O_TMPFILE */
} ims_tmpfile;

/* Creates a temp file in dir named prefix + 6 random characters (once it
 * has a name), opened read-write with mode 0600 and locked. */
int ims_tmpfile_open(ims_tmpfile *t, const char *dir, const char *prefix, ims_error **err);
/* Renames the file into dst (replacing what is there; a link at dst is
 * replaced, not followed), closing it. On failure the file is removed. */
int ims_tmpfile_commit(ims_tmpfile *t, const char *dst, ims_error **err);
/* Closes and removes the file if it was not committed; NULL-safe. */
void ims_tmpfile_dispose(ims_tmpfile *t);

/* Removes regular files in dir whose names start with prefix and that no
 * process holds locked (leftovers of a killed writer). */
void ims_sweep_tmp(const char *dir, const char *prefix);

/* A fresh private temp directory $TMPDIR/<prefix>-XXXXXX (or under
 * dir_hint), locked through *lock until that fd is closed. */
int ims_mkdtemp_locked(const char *dir_hint, const char *prefix, char **out, int *lock, ims_error **err);
/* Removes <prefix>-* directories of this user in $TMPDIR (or dir_hint)
 * that nobody holds locked. */
void ims_sweep_tmpdirs(const char *dir_hint, const char *prefix);

#endif
