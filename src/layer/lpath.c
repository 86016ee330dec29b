#include "layer/lpath.h"

#include <string.h>

#include "util/fs.h"
#include "util/text.h"
#include "util/xalloc.h"

bool ims_lpath_name_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		size_t l = ims_utf8_char(p, n);
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

bool ims_lpath_abs_clean(const char *abs)
{
	if (!abs || abs[0] != '/')
		return false;
	for (const char *c = abs + 1; *c;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!e || !e[1])
			return true;
		c = e + 1;
	}
	return true;
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
	return ims_text_quote(s);
}
