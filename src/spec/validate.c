/* Semantic checks on values that are already strings: paths, URLs,
 * digests, media types, and the compression mapping. */
#include "spec/spec_int.h"

#include <stdint.h>
#include <string.h>

#include "digest/digest.h"
#include "ref/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/text.h"
#include "util/xalloc.h"

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* "U+001B" for the character at s, which ims_text_ok refused. */
static char *char_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c = p[0];
	if (c >= 0xc2 && c < 0xe0 && (p[1] & 0xc0) == 0x80)
		c = ((c & 0x1f) << 6) | (p[1] & 0x3f);
	else if (c == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		c = 0xfeff;
	else if (c >= 0x80)
		return xasprintf("the byte \\x%02x", c);
	return xasprintf("U+%04X", (unsigned)c);
}

bool spec_check_text(spec_ctx *c, const ims_str *v, const char *what, int allow)
{
	size_t bad = 0;
	if (!v->s || ims_text_ok(v->s, strlen(v->s), allow, &bad))
		return true;
	_cleanup_free_ char *name = char_name(v->s + bad);
	const char *except = (allow & IMS_TEXT_NEWLINE) ? " (tabs and newlines are allowed)"
			     : (allow & IMS_TEXT_TAB)   ? " (tabs are allowed)"
							: "";
	spec_error(c, v->pos,
		   "%s has %s at byte %zu; control characters and byte order marks are refused%s", what, name, bad + 1,
		   except);
	return false;
}

/* Calls fn on each non-empty component of a '/'-separated path; stops
 * at the first true. */
static bool any_component(const char *p, bool (*fn)(const char *s, size_t n))
{
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n && fn(p, n))
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

static bool is_dotdot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

static bool is_dot(const char *s, size_t n)
{
	return n == 1 && s[0] == '.';
}

/* "//" anywhere; one trailing '/' (a directory, or "into") is fine. */
static bool has_empty_component(const char *s)
{
	return strstr(s, "//") != NULL;
}

static bool is_real(const char *s, size_t n)
{
	return !(n == 1 && s[0] == '.');
}

static bool is_whiteout(const char *s, size_t n)
{
	return n >= 4 && !memcmp(s, ".wh.", 4);
}

bool spec_check_abs(spec_ctx *c, const ims_str *p, const char *what, int flags)
{
	const char *s = p->s;
	if (s[0] != '/') {
		spec_error(c, p->pos, "%s must be an absolute path, not `%s`", what, s);
		return false;
	}
	if (!spec_check_text(c, p, what, 0))
		return false;
	/* refused rather than cleaned: `..` in an image path is a mistake or an attack */
	if (any_component(s, is_dotdot)) {
		spec_error(c, p->pos, "%s must not contain `..`, as in `%s`", what, s);
		return false;
	}
	/* refused rather than cleaned too: `/etc/.` would otherwise turn a file
	 * mapping into one that replaces the directory /etc */
	if (any_component(s, is_dot) || has_empty_component(s)) {
		spec_error(c, p->pos, "%s `%s` must be a clean path: no `.` components and no `//`", what, s);
		return false;
	}
	if ((flags & PATH_NO_ROOT) && !any_component(s, is_real)) {
		spec_error(c, p->pos, "%s cannot be `/`", what);
		return false;
	}
	if ((flags & PATH_NO_WHITEOUT) && any_component(s, is_whiteout)) {
		spec_error(c, p->pos, "%s must not name a whiteout (`.wh.`) file; use `delete` or `opaque`", what);
		return false;
	}
	size_t len = strlen(s);
	if ((flags & PATH_FILE) && s[len - 1] == '/') {
		spec_error(c, p->pos, "%s must name the entry itself and cannot end with `/`, as in `%s`", what, s);
		return false;
	}
	return true;
}

bool spec_check_rel(spec_ctx *c, const ims_str *p, const char *what)
{
	if (p->s[0] == '/') {
		spec_error(c, p->pos, "%s must be relative to the spec's directory, not the absolute path `%s`", what,
			   p->s);
		return false;
	}
	/* it shows in the layer's history and in messages */
	if (!spec_check_text(c, p, what, 0))
		return false;
	_cleanup_free_ char *clean = ims_path_clean(p->s);
	if (!clean) {
		spec_error(c, p->pos, "%s `%s` leaves the spec's directory", what, p->s);
		return false;
	}
	return true;
}

bool spec_check_url(spec_ctx *c, const ims_str *u, const char *what)
{
	const char *s = u->s;
	const char *rest;
	bool https = !strncmp(s, "https://", 8);
	if (https)
		rest = s + 8;
	else if (!strncmp(s, "http://", 7))
		rest = s + 7;
	else {
		spec_error(c, u->pos, "%s must be an https:// URL, not `%s`", what, s);
		return false;
	}
	size_t hl = strcspn(rest, "/?#");
	_cleanup_free_ char *host = xstrndup(rest, hl);
	if (!hl || has_control(s) || strchr(s, ' ')) {
		spec_error(c, u->pos, "%s `%s` is not a valid URL", what, s);
		return false;
	}
	/* credentials in a URL would end up in logs and the plan */
	if (strchr(host, '@')) {
		spec_error(c, u->pos, "%s must not carry credentials; use `auth`", what);
		return false;
	}
	if (!https && !ims_ref_host_is_loopback(host)) {
		spec_error(c, u->pos,
			   "%s must use https://; plain http:// is only allowed for loopback hosts, not `%s`", what,
			   host);
		return false;
	}
	return true;
}

bool spec_check_digest(spec_ctx *c, const ims_str *d, const char *what)
{
	if (ims_digest_valid(d->s))
		return true;
	spec_error(c, d->pos, "%s `%s` is not a valid digest (want `sha256:` and 64 lowercase hex digits)", what, d->s);
	return false;
}

bool spec_check_sha256(spec_ctx *c, const ims_str *d, const char *what)
{
	const char *hex = !strncmp(d->s, "sha256:", 7) ? d->s + 7 : d->s;
	if (strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64)
		return true;
	spec_error(c, d->pos, "%s `%s` must be 64 lowercase hex digits, optionally after `sha256:`", what, d->s);
	return false;
}

/* RFC 6838 type/subtype names. */
bool spec_check_media_type(spec_ctx *c, const ims_str *s, const char *what)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-";
	const char *slash = strchr(s->s, '/');
	size_t tl = slash ? (size_t)(slash - s->s) : 0;
	if (slash && tl && strspn(s->s, chars) == tl && slash[1] && strspn(slash + 1, chars) == strlen(slash + 1))
		return true;
	spec_error(c, s->pos, "%s `%s` is not a media type (`type/subtype`)", what, s->s);
	return false;
}

int spec_one_of(spec_ctx *c, const ynode *map, const char *const *keys, size_t n, const char *what, const char *need)
{
	const ypair *first = NULL;
	int found = -1;
	bool several = false;
	for (size_t i = 0; i < n; i++) {
		const ypair *p = ynode_find(map, keys[i]);
		if (!p)
			continue;
		if (first) {
			/* reported at whichever of the two comes later in the file */
			const ypair *later = p->key->pos.line > first->key->pos.line ||
							     (p->key->pos.line == first->key->pos.line &&
							      p->key->pos.col > first->key->pos.col)
						     ? p
						     : first;
			spec_error(c, later->key->pos, "`%s` and `%s` cannot be used together in %s", first->key->s,
				   p->key->s, what);
			several = true;
			continue;
		}
		first = p;
		found = (int)i;
	}
	if (!first)
		spec_error(c, map->pos, "%s needs %s", what, need);
	return several ? -1 : found;
}

void spec_compression(spec_ctx *c, const ynode *n, ims_compress_alg fallback, ims_compression *out)
{
	out->algorithm = IMS_COMPRESS_DEFAULT;
	out->level = -1;
	out->pos = n->pos;
	if (!spec_check_keys(c, n, &spec_obj_compression, "`compression`"))
		return;
	const ynode *v;
	/* in the order of ims_compress_alg, after DEFAULT */
	static const char *const names[] = { "gzip", "zstd", "none", NULL };
	int i;
	if ((v = spec_val(n, "algorithm")) && (i = spec_get_enum(c, v, "`algorithm`", names)) >= 0)
		out->algorithm = (ims_compress_alg)(IMS_COMPRESS_GZIP + i);
	if (!(v = spec_val(n, "level")))
		return;
	ims_compress_alg alg = out->algorithm != IMS_COMPRESS_DEFAULT ? out->algorithm : fallback;
	int64_t level;
	switch (alg) {
	case IMS_COMPRESS_NONE:
		spec_error(c, v->pos, "`level` does not apply when the algorithm is `none`");
		break;
	case IMS_COMPRESS_ZSTD:
		if (spec_get_int(c, v, "`level` (zstd)", 1, 19, &level))
			out->level = (int)level;
		break;
	default:
		if (spec_get_int(c, v, "`level` (gzip)", -1, 9, &level))
			out->level = (int)level;
		break;
	}
}
