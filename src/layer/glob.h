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
 * (so `node_modules` alone excludes the whole tree, as its `**` form does). */
typedef struct ims_patterns ims_patterns;
ims_patterns *ims_patterns_new(void);
/* base: the directory (relative to src, "" for the top) the pattern is anchored in. */
void ims_patterns_add(ims_patterns *p, const char *pattern, const char *base);
bool ims_patterns_match(const ims_patterns *p, const char *path, bool is_dir);
size_t ims_patterns_count(const ims_patterns *p);
/* For walkers that prune: whether some path strictly below dir could make
 * ims_patterns_match true (descend into a directory an include list does
 * not match), and whether some path below could make it false (descend
 * into an excluded directory that a later `!` rule may re-include).
 * Both are conservative: a false answer is certain, a true one is not. */
bool ims_patterns_may_match_below(const ims_patterns *p, const char *dir);
bool ims_patterns_may_unmatch_below(const ims_patterns *p, const char *dir);
/* A copy of p's rules, in order (NULL p: none). */
ims_patterns *ims_patterns_clone(const ims_patterns *p);
void ims_patterns_free(ims_patterns *p);

/* Reads a .gitignore-style file (comments, blank lines, `!`, trailing `/`
 * for directories only, leading `/` anchors, a pattern without a slash
 * matches at any depth below its directory) and adds its rules, anchored at
 * `dir` (relative to src). The file is opened with O_NOFOLLOW and capped at
 * 1 MiB; a missing file adds nothing and is not an error. Rules are then
 * evaluated like the others: the last match wins, parents included. */
int ims_ignore_load(ims_patterns *p, int dirfd, const char *name, const char *dir, ims_error **err);

#endif
