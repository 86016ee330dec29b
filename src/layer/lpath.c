#include "layer/lpath.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is
 * malformed or encodes a control character. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	uint32_t c = s[0];
	size_t len;
	uint32_t min;

	if (c < 0x80)
		return (c < 0x20 || c == 0x7f) ? 0 : 1;
	if ((c & 0xe0) == 0xc0) {
		len = 2, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f))
		return 0;
	return len;
}

bool ims_lpath_name_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		size_t l = utf8_char(p, n);
		if (!l)
			return false;
		p += l;
		n -= l;
	}
	return true;
}

bool ims_lpath_valid(const char *p)
{
	if (!p || !*p || *p == '/')
		return false;
	if (!ims_lpath_name_ok(p, strlen(p)))
		return false;
	for (const char *c = p;;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!e)
			return true;
		c = e + 1;
	}
}

char *ims_lpath_from_abs(const char *abs)
{
	if (!abs || abs[0] != '/')
		return NULL;
	char *c = ims_path_clean(abs);
	if (!c)
		return NULL;
	/* ims_path_clean keeps the leading '/'; a tar path has none. */
	size_t skip = strspn(c, "/");
	memmove(c, c + skip, strlen(c + skip) + 1);
	return c;
}

char *ims_lpath_quote(const char *s)
{
	ims_buf b = IMS_BUF_INIT(0);
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n > 0) {
		size_t l = utf8_char(p, n);
		if (l) {
			for (size_t i = 0; i < l; i++)
				ims_buf_putc(&b, (char)p[i]);
			p += l;
			n -= l;
		} else {
			ims_buf_printf(&b, "\\x%02x", *p);
			p++;
			n--;
		}
	}
	return ims_buf_steal(&b, NULL);
}
