/* "Did you mean ...?": the nearest of some names to a word a user typed
 * (spec keys, verbs, options, parameters). */
#ifndef IMS_UTIL_SUGGEST_H
#define IMS_UTIL_SUGGEST_H

#include <stddef.h>

/* Case-insensitive Levenshtein distance, or a large number when it is
 * clearly more than 2 (or a string is over 64 bytes). */
size_t ims_suggest_distance(const char *a, const char *b);
/* The candidate that equals word ignoring case, else the nearest within 2
 * edits (and fewer edits than word has letters, so that "ab" does not
 * suggest every short name); NULL when none is near. */
const char *ims_suggest(const char *word, const char *const *candidates, size_t n);

#endif
