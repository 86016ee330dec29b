/* Typed getters: a tree node → a model value, with substitution applied
 * first and every mismatch reported at the node's position.
 *
 * Typing follows the text as written. A plain (unquoted) scalar keeps
 * YAML's implicit types, so `mode: 0644` is caught as a bare integer
 * instead of silently becoming 420. A value that substitution changed
 * is typed by its result, so `uid: ${uid}` works. Numbers and booleans
 * given where a string is expected keep their text as written (`1.10`
 * stays "1.10", `no` stays "no"). */
#include "spec/spec_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

const ynode *spec_val(const ynode *map, const char *key)
{
	const ypair *p = ynode_find(map, key);
	return p ? p->value : NULL;
}

/* quoted: written in quotes and not changed by substitution. */
static bool scalar(spec_ctx *c, const ynode *n, const char *what, const char *expect, int flags, spec_scalar *out,
		   bool *quoted)
{
	memset(out, 0, sizeof(*out));
	out->pos = n->pos;
	if (n->kind != YN_SCALAR) {
		spec_error(c, n->pos, "%s must be %s, not %s", what, expect, ynode_kind_name(n));
		return false;
	}
	if (ynode_is_null(n)) {
		if (flags & GET_NULL_OK)
			return true;
		spec_error(c, n->pos, "%s must be %s, not null", what, expect);
		return false;
	}
	/* a NUL would cut the C string and change a path */
	if (!(flags & GET_NUL_OK) && memchr(n->s, '\0', n->len)) {
		spec_error(c, n->pos, "%s contains a NUL character", what);
		return false;
	}
	if (memchr(n->s, '$', n->len)) {
		size_t max = (flags & GET_BIG) ? SPEC_MAX_CONTENT : SPEC_MAX_STRING;
		if (!spec_subst(c, n->s, n->len, n->pos, flags, max, &out->s, &out->len, &out->from_host,
				&out->platform))
			return false;
	} else {
		out->s = xmemdup(n->s, n->len + 1);
		out->len = n->len;
	}
	bool same = out->len == n->len && !memcmp(out->s, n->s, n->len);
	out->plain = n->plain && same;
	if (quoted)
		*quoted = !n->plain && same;
	return true;
}

bool spec_get_scalar(spec_ctx *c, const ynode *n, const char *what, int flags, spec_scalar *out)
{
	return scalar(c, n, what, "a string", flags, out, NULL);
}

bool spec_get_str(spec_ctx *c, const ynode *n, const char *what, int flags, ims_str *out)
{
	spec_scalar v;
	if (!scalar(c, n, what, "a string", flags, &v, NULL))
		return false;
	if ((flags & GET_NONEMPTY) && v.s && !*v.s) {
		spec_error(c, n->pos, "%s must not be empty", what);
		free(v.s);
		return false;
	}
	free(out->s);
	out->s = v.s;
	out->pos = v.pos;
	out->platform = v.platform;
	return true;
}

/* Decimal digits only: YAML 1.1 reads `0755` as octal and `1_000` as
 * 1000, so anything but plain decimal is refused rather than guessed. */
static bool parse_decimal(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	if (neg)
		s++;
	size_t n = strlen(s);
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
		return false;
	*out = strtoll(s, NULL, 10) * (neg ? -1 : 1);
	return true;
}

bool spec_get_int(spec_ctx *c, const ynode *n, const char *what, int64_t min, int64_t max, int64_t *out)
{
	spec_scalar v;
	bool quoted;
	if (!scalar(c, n, what, "an integer", 0, &v, &quoted))
		return false;
	_cleanup_free_ char *s = v.s;
	int64_t x;
	if (quoted) {
		spec_error(c, n->pos, "%s must be an integer, not the string `%s`; remove the quotes", what, s);
		return false;
	}
	if (!parse_decimal(s, &x)) {
		spec_error(c, n->pos, "%s must be a decimal integer, not `%s`", what, s);
		return false;
	}
	if (x < min || x > max) {
		spec_error(c, n->pos, "%s must be between %lld and %lld, not %lld", what, (long long)min,
			   (long long)max, (long long)x);
		return false;
	}
	*out = x;
	return true;
}

bool spec_get_bool(spec_ctx *c, const ynode *n, const char *what, bool *out)
{
	spec_scalar v;
	bool quoted;
	if (!scalar(c, n, what, "true or false", 0, &v, &quoted))
		return false;
	_cleanup_free_ char *s = v.s;
	if (!quoted && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))) {
		*out = true;
		return true;
	}
	if (!quoted && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))) {
		*out = false;
		return true;
	}
	spec_error(c, n->pos, "%s must be true or false, not `%s`", what, s);
	return false;
}

int spec_get_enum(spec_ctx *c, const ynode *n, const char *what, const char *const *names)
{
	spec_scalar v;
	if (!scalar(c, n, what, "a string", 0, &v, NULL))
		return -1;
	_cleanup_free_ char *s = v.s;
	size_t count = 0;
	for (; names[count]; count++)
		if (!strcmp(s, names[count]))
			return (int)count;
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < count; i++)
		ims_buf_printf(&b, "%s`%s`", i == 0 ? "" : i + 1 == count ? " or " : ", ", names[i]);
	spec_error(c, n->pos, "%s must be %s, not `%s`", what, b.data, s);
	ims_buf_dispose(&b);
	return -1;
}

bool spec_get_mode(spec_ctx *c, const ynode *n, const char *what, uint32_t *out)
{
	spec_scalar v;
	if (!scalar(c, n, what, "a quoted octal string", 0, &v, NULL))
		return false;
	_cleanup_free_ char *s = v.s;
	if (v.plain && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+')) {
		spec_error(c, n->pos,
			   "%s must be a quoted octal string: write `\"%s\"`, not `%s` (yaml reads a bare "
			   "number as decimal or octal depending on the version)",
			   what, s, s);
		return false;
	}
	const char *d = s[0] == '0' && s[1] ? s + 1 : s;
	size_t len = strlen(d);
	if (len < 1 || len > 4 || strspn(d, "01234567") != len) {
		spec_error(c, n->pos, "%s must be an octal mode like `\"0644\"` or `\"4755\"`, not `%s`", what, s);
		return false;
	}
	*out = (uint32_t)strtoul(d, NULL, 8);
	return true;
}

bool spec_get_time(spec_ctx *c, const ynode *n, const char *what, bool *now, int64_t *out)
{
	spec_scalar v;
	if (!scalar(c, n, what, "a time", 0, &v, NULL))
		return false;
	_cleanup_free_ char *s = v.s;
	if (now && !strcmp(s, "now")) {
		*now = true;
		return true;
	}
	int64_t t;
	size_t len = strlen(s);
	if (len && strspn(s, "0123456789") == len) {
		if (len > 18) {
			spec_error(c, n->pos, "%s: `%s` is out of range", what, s);
			return false;
		}
		t = strtoll(s, NULL, 10);
	} else if (s[0] == '-' && s[1] && strspn(s + 1, "0123456789") == len - 1) {
		spec_error(c, n->pos, "%s must not be before 1970, not `%s`", what, s);
		return false;
	} else if (!spec_parse_rfc3339(s, &t)) {
		spec_error(c, n->pos,
			   "%s must be an RFC 3339 time like `2026-01-01T00:00:00Z`, epoch seconds%s, not `%s`", what,
			   now ? " or `now`" : "", s);
		return false;
	} else if (t < 0) {
		spec_error(c, n->pos, "%s must not be before 1970, not `%s`", what, s);
		return false;
	}
	if (now)
		*now = false;
	*out = t;
	return true;
}

bool spec_get_strlist(spec_ctx *c, const ynode *n, const char *what, int flags, ims_strlist *out)
{
	if (n->kind != YN_SEQ) {
		spec_error(c, n->pos, "%s must be a list, not %s", what, ynode_kind_name(n));
		return false;
	}
	_cleanup_free_ char *item = xasprintf("an entry of %s", what);
	out->set = true;
	out->pos = n->pos;
	out->v = xcalloc(n->n ? n->n : 1, sizeof(*out->v));
	bool ok = true;
	for (size_t i = 0; i < n->n; i++) {
		ims_str s = { 0 };
		if (spec_get_str(c, n->items[i], item, flags, &s))
			out->v[out->n++] = s;
		else
			ok = false;
	}
	return ok;
}

bool spec_get_kvlist(spec_ctx *c, const ynode *n, const char *what, int flags, ims_kvlist *out)
{
	if (n->kind != YN_MAP) {
		spec_error(c, n->pos, "%s must be a mapping, not %s", what, ynode_kind_name(n));
		return false;
	}
	out->set = true;
	out->pos = n->pos;
	out->v = xcalloc(n->n ? n->n : 1, sizeof(*out->v));
	bool ok = true;
	for (size_t i = 0; i < n->n; i++) {
		const ynode *k = n->pairs[i].key;
		if (!k->len || memchr(k->s, '\0', k->len)) {
			spec_error(c, k->pos, "%s has an empty key", what);
			ok = false;
			continue;
		}
		_cleanup_free_ char *vwhat = xasprintf("the value of `%s` in %s", k->s, what);
		ims_kv kv = { .key = { xstrdup(k->s), k->pos } };
		if (!spec_get_str(c, n->pairs[i].value, vwhat, flags, &kv.value)) {
			free(kv.key.s);
			ok = false;
			continue;
		}
		out->v[out->n++] = kv;
	}
	return ok;
}

void spec_get_attrs(spec_ctx *c, const ynode *map, ims_attrs *a)
{
	const ynode *v;
	a->pos = map->pos;
	if ((v = spec_val(map, "mode")))
		a->has_mode = spec_get_mode(c, v, "`mode`", &a->mode);
	if ((v = spec_val(map, "dirMode")))
		a->has_dir_mode = spec_get_mode(c, v, "`dirMode`", &a->dir_mode);
	if ((v = spec_val(map, "uid")))
		a->has_uid = spec_get_int(c, v, "`uid`", 0, INT32_MAX, &a->uid);
	if ((v = spec_val(map, "gid")))
		a->has_gid = spec_get_int(c, v, "`gid`", 0, INT32_MAX, &a->gid);
	if ((v = spec_val(map, "mtime")))
		a->has_mtime = spec_get_time(c, v, "`mtime`", NULL, &a->mtime);
}
