/* Filesystem helpers. All failures are ims_errors naming the path. */
#ifndef IMS_UTIL_FS_H
#define IMS_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "imagespec/error.h"

/* Reads a whole regular file, refusing files larger than max bytes. */
int ims_read_file(const char *path, size_t max, char **out, size_t *len, ims_error **err);
/* Writes data to path atomically: a temp file in the same directory, fsync, rename. */
int ims_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, ims_error **err);
/* Writes all of buf to fd, retrying on EINTR and short writes. */
int ims_write_all(int fd, const void *buf, size_t len);
/* mkdir -p with mode for created directories. */
int ims_mkdir_p(const char *path, mode_t mode, ims_error **err);
/* Removes a tree (never follows symlinks). Missing paths are fine. */
int ims_rm_rf(const char *path, ims_error **err);
/* Creates a fresh private temp directory under $TMPDIR (or dir_hint if non-NULL). */
int ims_mkdtemp(const char *dir_hint, const char *prefix, char **out, ims_error **err);
/* Joins two path parts with exactly one '/'. */
char *ims_path_join(const char *a, const char *b);
/* Directory part of a path ("." when none); caller frees. */
char *ims_path_dirname(const char *path);
/* Makes a path absolute against base (or the cwd when base is NULL), lexically cleaned. */
char *ims_path_absolute(const char *base, const char *path);
/* Lexically cleans an absolute or relative path: removes "//", "/./", trailing "/".
 * Returns NULL when ".." would climb above the start. */
char *ims_path_clean(const char *path);
bool ims_path_exists(const char *path);
/* Checks a path an output is about to be written at: a missing path is
 * fine; a symbolic link as its last component is refused (writing would
 * follow it to wherever it points), and so is anything but a directory
 * (want_dir) or a regular file. shown names it in the message. */
int ims_check_output_path(const char *path, const char *shown, bool want_dir, ims_error **err);
/* Copies a file from src fd to dst fd (copy_file_range/sendfile fallback to read/write). */
int ims_copy_fd(int src, int dst, ims_error **err);

/* openat(dirfd, name, flags) for reading a source (a file's bytes, a
 * directory's names) without touching its access time: O_NOATIME, so that
 * the read dirties no inode (under relatime, the first read after a
 * checkout writes every file's). Linux allows that flag to the file's
 * owner (or CAP_FOWNER) only; once it is refused, this process opens
 * without it. errno as openat's. */
int ims_openat_noatime(int dirfd, const char *name, int flags);
/* Test hook: whether O_NOATIME is still asked for (false once refused),
 * and setting it back. */
bool ims_noatime__on(void);
void ims_noatime__reset(void);

#endif
