/* Text that came from a user or a peer, checked before it goes into an
 * image and escaped before it goes to a terminal. */
#ifndef IMS_UTIL_TEXT_H
#define IMS_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* What ims_text_ok lets through besides printable characters. */
enum {
	IMS_TEXT_TAB = 1 << 0,     /* U+0009 */
	IMS_TEXT_NEWLINE = 1 << 1, /* U+000A */
};

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is
 * malformed (overlong, a surrogate, past U+10FFFF) or encodes a C0, DEL or
 * C1 control character. */
size_t ims_utf8_char(const unsigned char *s, size_t n);

/* True when s[0..n) is well-formed UTF-8 without C0 (but what allow lets
 * through), DEL or C1 control characters, and without U+FEFF (a byte order
 * mark, invisible in the middle of a value). On false, *bad (if non-NULL)
 * is the offset of the first offending byte. */
bool ims_text_ok(const char *s, size_t n, int allow, size_t *bad);

/* A copy for messages: what ims_text_ok refuses (newline too, with
 * keep_newlines false) becomes \xNN per byte, so a value echoed to a
 * terminal cannot move the cursor, change colours or fake a line. Text
 * that needs no escaping comes back unchanged. */
char *ims_text_quote(const char *s);
char *ims_text_quote_lines(const char *s); /* keeps '\n' */

#endif
