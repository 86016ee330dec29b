#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

static void grow(ims_buf *b, size_t n)
{
	b->data = xgrow(b->data, &b->cap, b->len + n + 1, 1);
}

int ims_buf_add(ims_buf *b, const void *p, size_t n, ims_error **err)
{
	if (b->max && (n > b->max || b->len > b->max - n))
		return ims_error_set(err, IMS_EGENERIC, "document exceeds the limit of %zu bytes", b->max);
	grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void ims_buf_puts(ims_buf *b, const char *s)
{
	ims_buf_putn(b, s, strlen(s));
}

void ims_buf_putn(ims_buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ims_buf_put_int(ims_buf *b, long long v, unsigned base)
{
	char t[32];
	size_t i = sizeof(t);
	bool neg = base == 10 && v < 0;
	unsigned long long u = neg ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do {
		t[--i] = (char)('0' + u % base);
		u /= base;
	} while (u);
	if (neg)
		t[--i] = '-';
	ims_buf_putn(b, t + i, sizeof(t) - i);
}

void ims_buf_putc(ims_buf *b, char c)
{
	grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void ims_buf_printf(ims_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	ims_buf_puts(b, s);
	free(s);
}

void ims_buf_reset(ims_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void ims_buf_dispose(ims_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *ims_buf_steal(ims_buf *b, size_t *len)
{
	if (!b->data)
		grow(b, 0), b->data[0] = '\0';
	char *d = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
