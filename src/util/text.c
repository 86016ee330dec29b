#include "util/text.h"

#include <stdint.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

size_t ims_utf8_char(const unsigned char *s, size_t n)
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

static bool is_bom(const unsigned char *p, size_t l)
{
	return l == 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf;
}

static bool allowed_c0(unsigned char c, int allow)
{
	return (c == '\t' && (allow & IMS_TEXT_TAB)) || (c == '\n' && (allow & IMS_TEXT_NEWLINE));
}

bool ims_text_ok(const char *s, size_t n, int allow, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0;
	while (off < n) {
		size_t l = ims_utf8_char(p + off, n - off);
		if (!l && allowed_c0(p[off], allow))
			l = 1;
		else if (!l || is_bom(p + off, l)) {
			if (bad)
				*bad = off;
			return false;
		}
		off += l;
	}
	return true;
}

static char *quote(const char *s, int allow)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	if (ims_text_ok(s, n, allow | IMS_TEXT_TAB, NULL) && !memchr(s, '\t', n))
		return xstrdup(s);
	ims_buf b = IMS_BUF_INIT(0);
	while (n > 0) {
		size_t l = ims_utf8_char(p, n);
		if (l && !is_bom(p, l)) {
			for (size_t i = 0; i < l; i++)
				ims_buf_putc(&b, (char)p[i]);
		} else if (*p == '\n' && (allow & IMS_TEXT_NEWLINE)) {
			ims_buf_putc(&b, '\n');
			l = 1;
		} else {
			l = l ? l : 1;
			for (size_t i = 0; i < l; i++)
				ims_buf_printf(&b, "\\x%02x", p[i]);
		}
		p += l;
		n -= l;
	}
	return ims_buf_steal(&b, NULL);
}

char *ims_text_quote(const char *s)
{
	return quote(s ? s : "", 0);
}

char *ims_text_quote_lines(const char *s)
{
	return quote(s ? s : "", IMS_TEXT_NEWLINE);
}
