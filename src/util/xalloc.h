/* Allocation that never returns NULL: out of memory aborts, as in crun. */
#ifndef IMS_UTIL_XALLOC_H
#define IMS_UTIL_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array to hold at least `need` elements of `size` bytes. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
/* Makes the whole pages of [p, p + n) present and writable in one system
 * call (MADV_POPULATE_WRITE), for memory about to be written: a first
 * touch costs a page fault per page, about 10 µs each on a VM like CI's,
 * and an array of 5,000 file entries is 450 pages. Does nothing for less
 * than a page, or on a kernel before 5.14. */
void ims_prefault(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
