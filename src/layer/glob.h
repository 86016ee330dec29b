/* Glob matching for include/exclude (anchored at src, like .dockerignore)
 * and .gitignore-style ignore files. Pure: no I/O except reading ignore
 * files in ims_ignore_load. */
#ifndef IMS_LAYER_GLOB_H
#define IMS_LAYER_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"

/* Matches a slash-separated relative path against a pattern with `*` (no
 * '/'), `**` (any number of components), `?`, `[...]` / `[!...]` classes and
 * `\` escapes. The pattern is anchored at the start and end of the path. */
bool ims_glob_match(const char *pattern, const char *path);

/* A list of patterns evaluated in order; a pattern starting with `!`
 * re-includes. Returns true when the last matching pattern is a positive one.
 * A path also matches when one of its parent directories matched
 * (so `node_modules/**` and `node_modules` both exclude the tree). */
typedef struct ims_patterns ims_patterns;
ims_patterns *ims_patterns_new(void);
/* base: the directory (relative to src, "" for the top) the pattern is anchored in. */
void ims_patterns_add(ims_patterns *p, const char *pattern, const char *base);
bool ims_patterns_match(const ims_patterns *p, const char *path, bool is_dir);
size_t ims_patterns_count(const ims_patterns *p);
void ims_patterns_free(ims_patterns *p);

/* Reads a .gitignore-style file (comments, blank lines, `!`, trailing `/`
 * for directories only, leading `/` anchors, a pattern without a slash
 * matches at any depth below its directory) and adds its rules, anchored at
 * `dir` (relative to src). */
int ims_ignore_load(ims_patterns *p, int dirfd, const char *name, const char *dir, ims_error **err);

#endif
