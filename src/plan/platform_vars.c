/* ${platform.os}, ${platform.arch} and ${platform.variant}: the spec keeps
 * them in src, archive and url values as templates (every other `$`
 * doubled); the executor fills them here for each platform it builds. */
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A value that goes into a path unchanged in shape: no `/`, not `.` or
 * `..`, no control character or space. */
static bool path_safe(const char *v, bool may_be_empty)
{
	if (!*v)
		return may_be_empty;
	if (!strcmp(v, ".") || !strcmp(v, ".."))
		return false;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c == '/' || *c <= ' ' || *c == 0x7f || *c == '$' || *c == '\\')
			return false;
	return true;
}

int ims_plan_platform_expand(const char *tmpl, const ims_platform *pl, char **out, ims_error **err)
{
	const char *arch = NULL, *variant = NULL;
	ims_platform_normalize(pl ? pl->architecture : NULL, pl ? pl->variant : NULL, &arch, &variant);
	const char *os = pl && pl->os ? pl->os : "";
	if (!path_safe(os, false) || !path_safe(arch, false) || !path_safe(variant, true)) {
		char *ps = pl ? ims_platform_string(pl) : xstrdup("(none)");
		int r = ims_error_set(err, IMS_EINVALID,
				      "the platform `%s` has a name that cannot go into a path for ${platform.*}", ps);
		free(ps);
		return r;
	}
	ims_buf b = IMS_BUF_INIT(0);
	for (const char *s = tmpl; *s;) {
		if (s[0] != '$') {
			ims_buf_add(&b, s, 1, NULL);
			s++;
		} else if (s[1] == '$') {
			ims_buf_add(&b, "$", 1, NULL);
			s += 2;
		} else if (!strncmp(s, "${platform.os}", 14)) {
			ims_buf_puts(&b, os);
			s += 14;
		} else if (!strncmp(s, "${platform.arch}", 16)) {
			ims_buf_puts(&b, arch);
			s += 16;
		} else if (!strncmp(s, "${platform.variant}", 19)) {
			ims_buf_puts(&b, variant);
			s += 19;
		} else {
			/* the spec room writes no other single `$` */
			ims_buf_dispose(&b);
			return ims_error_set(err, IMS_EINVALID, "bad platform template `%s`", tmpl);
		}
	}
	*out = ims_buf_steal(&b, NULL);
	if (!*out)
		*out = xstrdup("");
	return 0;
}
