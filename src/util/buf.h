/* A growable byte buffer with a hard cap, like curl's dynbuf. */
#ifndef IMS_UTIL_BUF_H
#define IMS_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"

typedef struct {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max; /* 0: no cap */
} ims_buf;

#define IMS_BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

/* Appends n bytes; fails with IMS_EGENERIC ("... exceeds N bytes") past max. */
int ims_buf_add(ims_buf *b, const void *p, size_t n, ims_error **err);
/* Appends without a cap check (for internally generated text). */
void ims_buf_puts(ims_buf *b, const char *s);
void ims_buf_putc(ims_buf *b, char c);
/* n bytes of s. */
void ims_buf_putn(ims_buf *b, const char *s, size_t n);
/* v in decimal (base 10, with a minus sign when negative) or octal (base
 * 8, as printf's %o of an unsigned value): what printf writes, without
 * printf's cost, for what is written once per file of a tree. */
void ims_buf_put_int(ims_buf *b, long long v, unsigned base);
void ims_buf_printf(ims_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ims_buf_reset(ims_buf *b);
void ims_buf_dispose(ims_buf *b);
/* Returns the data (caller frees) and empties the buffer: never NULL, and
 * NUL-terminated (an empty string when nothing was added). */
char *ims_buf_steal(ims_buf *b, size_t *len);

#endif
