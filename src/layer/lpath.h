/* Names inside a layer. Every tar path passes ims_lpath_name_ok, so that the
 * archive bytes never depend on the locale (libarchive converts names
 * through it) and no name can smuggle a newline or an escape sequence into
 * a tool's output (anchors-reliability.md item 27). */
#ifndef IMS_LAYER_LPATH_H
#define IMS_LAYER_LPATH_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF) with no C0, DEL or C1 control characters. */
bool ims_lpath_name_ok(const char *s, size_t n);

/* True when p is a clean tar path: non-empty, relative, no empty, "." or
 * ".." component, no trailing '/', and every byte passes ims_lpath_name_ok. */
bool ims_lpath_valid(const char *p);

/* True when abs is an absolute in-image path written cleanly: no `.`,
 * `..` or empty component, so "/etc/." or "/a//b" are refused rather than
 * normalised (issue 9, item 6). One trailing '/' is allowed ("into"). */
bool ims_lpath_abs_clean(const char *abs);

/* Turns an absolute in-image path ("/app//x/") into a tar path ("app/x");
 * "/" gives "". NULL when the path is not absolute or ".." climbs above "/". */
char *ims_lpath_from_abs(const char *abs);

/* A copy for messages (ims_text_quote): bytes that are not printable UTF-8 become \xNN. */
char *ims_lpath_quote(const char *s);

#endif
