/* Path resolution that never leaves a root directory, for reading source
 * trees whose symlinks may point anywhere (anchors-reliability.md items
 * 18-21). Paths called "canonical" here are relative to the root, clean,
 * and made of components that were not symlinks when they were resolved;
 * "" is the root itself. Everything is opened with O_NOFOLLOW, component by
 * component (in one openat2 call with RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS where Linux has it), so a symlink swapped in later
 * makes the open fail instead of escaping. */
#ifndef IMS_LAYER_BENEATH_H
#define IMS_LAYER_BENEATH_H

#include <stdbool.h>
#include <sys/stat.h>

/* Opens canonical path p beneath rootfd with flags (O_NOFOLLOW and
 * O_CLOEXEC are added). Returns an fd, or -1 with errno set. */
int ims_beneath_open(int rootfd, const char *p, int flags);
/* For tests: false makes ims_beneath_open walk component by component, as
 * it does where openat2 is refused. */
void ims_beneath__use_openat2(bool on);

/* Resolves `path`, relative to the canonical directory `start`, following
 * symlinks (at most 40) but never above rootfd. An absolute path, or link
 * text, is accepted only when it lies under root_abs (the root's absolute
 * real path, or NULL to refuse every absolute one). On success returns 0,
 * the canonical result in *out (caller frees) and its lstat in *st (never
 * a symlink). Otherwise returns -errno: -EXDEV when the path leaves the
 * root, -ENOENT, -ELOOP, -ENOTDIR, -EACCES... */
int ims_beneath_resolve(int rootfd, const char *root_abs, const char *start, const char *path, char **out,
			struct stat *st);
/* The same for the text of a symlink found in start: the link itself is
 * the first of the 40 hops, as for the kernel. */
int ims_beneath_resolve_link(int rootfd, const char *root_abs, const char *start, const char *text, char **out,
			     struct stat *st);

/* True when canonical path p is dir or inside it. */
int ims_beneath_within(const char *p, const char *dir);

#endif
