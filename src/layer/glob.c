/* Glob patterns for include/exclude lists and ignore files.
 *
 * A pattern is split on '/' into components. A component that is exactly
 * `**` matches any number of path components; any other component is a
 * one-name glob (`*`, `?`, classes, `\` escapes) that never matches '/'.
 * `**` inside a longer component (`a**b`) is an ordinary `*`, as in git.
 *
 * Component matching is a set-of-states simulation over the pattern (one
 * pass over the path, no backtracking), and name matching is the classic
 * greedy star algorithm, so no pattern can make matching exponential.
 *
 * Evaluation, for lists and ignore files alike, is .dockerignore's: rules
 * are tried in order and the last one that matches a path decides; a rule
 * matches a path when it matches the path itself or one of its parent
 * directories. So `!node_modules/keep.js` after `node_modules` re-includes
 * keep.js, where git could not revive a file below an excluded directory.
 * One rule for both keeps `exclude`, `include` and ignore files composable
 * in one list, and ignore files stacked per directory still behave as git's
 * do (deeper files are added later, so they win).
 */
#include "layer/glob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Ignore files are small; a larger one is a mistake, not a pattern list. */
#define IGNORE_FILE_MAX (1024 * 1024)

typedef struct {
	const char *s;
	size_t n;
} span;

typedef enum {
	SEG_LIT,  /* no metacharacters: compared with memcmp */
	SEG_GLOB, /* one-name glob */
	SEG_STAR, /* `**` */
} seg_kind;

typedef struct {
	seg_kind kind;
	span text;
} seg;

typedef struct {
	char *text; /* the normalised pattern; segs point into it */
	seg *segs;
	size_t nsegs;
	bool neg;
	bool dir_only;
} rule;

struct ims_patterns {
	rule *v;
	size_t n, cap;
};

/* What one run of a rule over a path found. */
enum {
	HIT_FULL = 1,     /* the rule matches the path itself */
	HIT_PARENT = 2,   /* the rule matches a parent directory of the path */
	HIT_BELOW = 4,    /* the rule could match something below the path */
};

/* ---- names ---------------------------------------------------------- */

/* Decodes one UTF-8 character so that `?` and classes see characters, not
 * bytes; an invalid byte stands for itself. */
static size_t utf8_next(const char *s, const char *e, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t avail = (size_t)(e - s), len;
	uint32_t c;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	} else if ((u[0] & 0xe0) == 0xc0) {
		len = 2, c = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		len = 3, c = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		len = 4, c = u[0] & 0x07;
	} else {
		*cp = u[0];
		return 1;
	}
	if (len > avail)
		goto invalid;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			goto invalid;
		c = (c << 6) | (u[i] & 0x3f);
	}
	*cp = c;
	return len;
invalid:
	*cp = u[0];
	return 1;
}

/* One possibly escaped character of a class. */
static size_t class_char(const char *p, const char *pe, uint32_t *cp)
{
	if (*p == '\\' && p + 1 < pe)
		return 1 + utf8_next(p + 1, pe, cp);
	return utf8_next(p, pe, cp);
}

/* Matches c against the class starting at p ('['). Returns the class's
 * length, or 0 when it is not a class (no closing ']'): then '[' is literal. */
static size_t class_match(const char *p, const char *pe, uint32_t c, bool *matched)
{
	const char *q = p + 1;
	bool neg = false, hit = false;

	if (q < pe && (*q == '!' || *q == '^'))
		neg = true, q++;
	/* A ']' right after the opening (or the negation) is a member. */
	for (bool first = true; q < pe && (first || *q != ']'); first = false) {
		uint32_t lo, hi;
		q += class_char(q, pe, &lo);
		hi = lo;
		if (q + 1 < pe && *q == '-' && q[1] != ']')
			q += 1 + class_char(q + 1, pe, &hi);
		if (lo <= c && c <= hi)
			hit = true;
	}
	if (q >= pe)
		return 0;
	*matched = hit != neg;
	return (size_t)(q + 1 - p);
}

/* Matches one pattern element (not `*`) at p against the character at s.
 * Returns false on mismatch; on a match sets the lengths consumed. */
static bool elem_match(const char *p, const char *pe, const char *s, const char *se, size_t *plen, size_t *slen)
{
	uint32_t c;
	*slen = utf8_next(s, se, &c);
	if (*p == '?') {
		*plen = 1;
		return true;
	}
	if (*p == '[') {
		bool m = false;
		size_t n = class_match(p, pe, c, &m);
		if (n) {
			*plen = n;
			return m;
		}
	}
	/* A literal, possibly escaped; a trailing lone `\` is itself. */
	if (*p == '\\' && p + 1 < pe)
		p++, *plen = 2;
	else
		*plen = 1;
	*slen = 1;
	return *p == *s;
}

static bool name_match(span pat, span name)
{
	const char *p = pat.s, *pe = pat.s + pat.n;
	const char *s = name.s, *se = name.s + name.n;
	const char *star_p = NULL, *star_s = NULL;

	while (s < se) {
		size_t plen, slen;
		if (p < pe && *p == '*') {
			while (p < pe && *p == '*')
				p++;
			star_p = p, star_s = s;
			continue;
		}
		if (p < pe && elem_match(p, pe, s, se, &plen, &slen)) {
			p += plen, s += slen;
			continue;
		}
		if (!star_p)
			return false;
		/* Let the last `*` swallow one more character and retry. */
		uint32_t c;
		star_s += utf8_next(star_s, se, &c);
		p = star_p, s = star_s;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

static bool seg_match(const seg *g, span name)
{
	if (g->kind == SEG_LIT)
		return g->text.n == name.n && !memcmp(g->text.s, name.s, name.n);
	return name_match(g->text, name);
}

/* ---- components ----------------------------------------------------- */

/* Splits s on '/', dropping empty and "." components, so "./a//b/" is a/b. */
static size_t split(const char *s, span *out, size_t max)
{
	size_t n = 0;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len && !(len == 1 && *s == '.')) {
			if (out && n < max)
				out[n] = (span){ s, len };
			n++;
		}
		s += len;
		if (*s == '/')
			s++;
	}
	return n;
}

static size_t count_components(const char *s)
{
	return split(s, NULL, 0);
}

static span *components(const char *s, size_t *n)
{
	*n = count_components(s);
	span *v = xcalloc(*n ? *n : 1, sizeof(*v));
	split(s, v, *n);
	return v;
}

static void compile(rule *r, char *text)
{
	size_t n;
	span *parts = components(text, &n);

	r->text = text;
	r->segs = xcalloc(n ? n : 1, sizeof(*r->segs));
	r->nsegs = n;
	for (size_t i = 0; i < n; i++) {
		seg *g = &r->segs[i];
		g->text = parts[i];
		if (parts[i].n == 2 && !memcmp(parts[i].s, "**", 2))
			g->kind = SEG_STAR;
		else if (memchr(parts[i].s, '*', parts[i].n) || memchr(parts[i].s, '?', parts[i].n) ||
			 memchr(parts[i].s, '[', parts[i].n) || memchr(parts[i].s, '\\', parts[i].n))
			g->kind = SEG_GLOB;
		else
			g->kind = SEG_LIT;
	}
	free(parts);
}

/* Adds state i and, through `**` matching nothing, the states after it. A
 * final `**` must match at least one component: `a/` + `**` is what is
 * inside a, not a itself (as in git and docker). */
static void add_state(const rule *r, bool *set, size_t i)
{
	for (;;) {
		set[i] = true;
		if (i >= r->nsegs || r->segs[i].kind != SEG_STAR || i + 1 == r->nsegs)
			return;
		i++;
	}
}

/* Runs the rule over the path's components; see the HIT_* flags. */
static int run(const rule *r, const span *path, size_t npath)
{
	size_t ns = r->nsegs + 1;
	bool small[2][32];
	bool *cur = ns <= 32 ? small[0] : xcalloc(ns, sizeof(bool));
	bool *next = ns <= 32 ? small[1] : xcalloc(ns, sizeof(bool));
	int hits = 0;
	bool any = true;

	memset(cur, 0, ns * sizeof(bool));
	add_state(r, cur, 0);
	for (size_t j = 0; j < npath && any; j++) {
		/* After j components, a complete match means a parent matched. */
		if (j > 0 && cur[r->nsegs])
			hits |= HIT_PARENT;
		memset(next, 0, ns * sizeof(bool));
		any = false;
		for (size_t i = 0; i < r->nsegs; i++) {
			if (!cur[i])
				continue;
			const seg *g = &r->segs[i];
			if (g->kind == SEG_STAR) {
				add_state(r, next, i);
				if (i + 1 == r->nsegs)
					add_state(r, next, i + 1);
				any = true;
			} else if (seg_match(g, path[j])) {
				add_state(r, next, i + 1);
				any = true;
			}
		}
		bool *t = cur;
		cur = next, next = t;
	}
	if (any) {
		if (cur[r->nsegs])
			hits |= HIT_FULL;
		for (size_t i = 0; i < r->nsegs; i++)
			if (cur[i])
				hits |= HIT_BELOW;
	}
	if (ns > 32) {
		free(cur);
		free(next);
	}
	return hits;
}

bool ims_glob_match(const char *pattern, const char *path)
{
	rule r = { 0 };
	size_t n;
	compile(&r, xstrdup(pattern));
	_cleanup_free_ span *v = components(path, &n);
	bool m = (run(&r, v, n) & HIT_FULL) != 0;
	free(r.segs);
	free(r.text);
	return m;
}

/* ---- lists ---------------------------------------------------------- */

ims_patterns *ims_patterns_new(void)
{
	return xcalloc(1, sizeof(ims_patterns));
}

ims_patterns *ims_patterns_clone(const ims_patterns *p)
{
	ims_patterns *c = ims_patterns_new();
	if (!p || !p->n)
		return c;
	c->v = xcalloc(p->n, sizeof(*c->v));
	c->cap = p->n;
	for (size_t i = 0; i < p->n; i++) {
		rule r = { .neg = p->v[i].neg, .dir_only = p->v[i].dir_only };
		compile(&r, xstrdup(p->v[i].text));
		c->v[c->n++] = r;
	}
	return c;
}

void ims_patterns_free(ims_patterns *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].text);
		free(p->v[i].segs);
	}
	free(p->v);
	free(p);
}

size_t ims_patterns_count(const ims_patterns *p)
{
	return p ? p->n : 0;
}

/* Appends base with its glob metacharacters escaped: a directory named
 * `[x]` is a literal, not a class. */
static void put_escaped(char **out, size_t *len, size_t *cap, const char *s)
{
	for (; *s; s++) {
		*out = xgrow(*out, cap, *len + 3, 1);
		if (strchr("*?[]\\", *s))
			(*out)[(*len)++] = '\\';
		(*out)[(*len)++] = *s;
	}
}

/* The common tail of both syntaxes: body is the pattern without `!` and
 * with the trailing '/' already noted. */
static void add_rule(ims_patterns *p, const char *body, size_t bodylen, const char *base, bool neg, bool dir_only,
		     bool any_depth)
{
	char *text = NULL;
	size_t len = 0, cap = 0;

	if (base && *base) {
		put_escaped(&text, &len, &cap, base);
		text = xgrow(text, &cap, len + 2, 1);
		text[len++] = '/';
	}
	if (any_depth) {
		text = xgrow(text, &cap, len + 4, 1);
		memcpy(text + len, "**/", 3);
		len += 3;
	}
	text = xgrow(text, &cap, len + bodylen + 1, 1);
	memcpy(text + len, body, bodylen);
	len += bodylen;
	text[len] = '\0';

	rule r = { .neg = neg, .dir_only = dir_only };
	compile(&r, text);
	/* A pattern that names nothing ("", "/", ".") would match every
	 * path through its parents; .dockerignore drops it, so do we. */
	if (r.nsegs <= count_components(base ? base : "") + (any_depth ? 1 : 0)) {
		free(r.segs);
		free(r.text);
		return;
	}
	p->v = xgrow(p->v, &p->cap, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = r;
}

/* Strips trailing slashes; true when there was one (directories only). */
static bool strip_trailing_slash(const char *s, size_t *len)
{
	bool dir = false;
	while (*len > 0 && s[*len - 1] == '/')
		(*len)--, dir = true;
	return dir;
}

void ims_patterns_add(ims_patterns *p, const char *pattern, const char *base)
{
	bool neg = false;
	if (*pattern == '!')
		neg = true, pattern++;
	while (*pattern == '/')
		pattern++;
	size_t len = strlen(pattern);
	bool dir_only = strip_trailing_slash(pattern, &len);
	add_rule(p, pattern, len, base, neg, dir_only, false);
}

bool ims_patterns_match(const ims_patterns *p, const char *path, bool is_dir)
{
	if (!p || !p->n)
		return false;

	size_t n;
	_cleanup_free_ span *v = components(path, &n);

	/* The last rule that matches decides, so look from the end. */
	for (size_t i = p->n; i-- > 0;) {
		const rule *r = &p->v[i];
		int h = run(r, v, n);
		if ((h & HIT_PARENT) || ((h & HIT_FULL) && (is_dir || !r->dir_only)))
			return !r->neg;
	}
	return false;
}

/* True when some rule with the given sign could decide a path strictly
 * below dir: it matches dir or a parent (and so everything below), or
 * matching could go on past dir. Conservative: "could" may be a false yes. */
static bool may_apply_below(const ims_patterns *p, const char *dir, bool neg)
{
	size_t n;
	_cleanup_free_ span *v = components(dir, &n);

	for (size_t i = 0; p && i < p->n; i++) {
		if (p->v[i].neg != neg)
			continue;
		if (run(&p->v[i], v, n) & (HIT_FULL | HIT_PARENT | HIT_BELOW))
			return true;
	}
	return false;
}

bool ims_patterns_may_match_below(const ims_patterns *p, const char *dir)
{
	return may_apply_below(p, dir, false);
}

bool ims_patterns_may_unmatch_below(const ims_patterns *p, const char *dir)
{
	return !ims_patterns_match(p, dir, true) || may_apply_below(p, dir, true);
}

/* ---- ignore files --------------------------------------------------- */

static int read_ignore(int dirfd, const char *name, const char *shown, char **out, size_t *len, ims_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		if (errno == ELOOP)
			return ims_error_set(err, IMS_ESOURCE, "ignore file `%s` is a symlink", shown);
		return ims_error_sys(err, errno, IMS_EGENERIC, "open ignore file `%s`", shown);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "stat ignore file `%s`", shown);
	if (!S_ISREG(st.st_mode))
		return ims_error_set(err, IMS_ESOURCE, "ignore file `%s` is not a regular file", shown);

	ims_buf b = IMS_BUF_INIT(IGNORE_FILE_MAX);
	char chunk[16384];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			ims_buf_dispose(&b);
			return ims_error_sys(err, e, IMS_EGENERIC, "read ignore file `%s`", shown);
		}
		if (r == 0)
			break;
		if (ims_buf_add(&b, chunk, (size_t)r, NULL) < 0) {
			ims_buf_dispose(&b);
			return ims_error_set(err, IMS_ESOURCE, "ignore file `%s` is larger than %d bytes", shown,
					     IGNORE_FILE_MAX);
		}
	}
	*out = ims_buf_steal(&b, len);
	return 0;
}

/* One line of an ignore file, as git reads it. */
static void add_ignore_line(ims_patterns *p, const char *s, size_t len, const char *dir)
{
	bool neg = false;

	/* CRLF files from Windows checkouts: the CR is not part of the pattern. */
	if (len && s[len - 1] == '\r')
		len--;
	/* Trailing spaces go, unless escaped (an odd run of backslashes). */
	while (len && s[len - 1] == ' ') {
		size_t bs = 0;
		while (bs + 1 < len && s[len - 2 - bs] == '\\')
			bs++;
		if (bs % 2)
			break;
		len--;
	}
	if (!len || *s == '#')
		return;
	if (*s == '!')
		neg = true, s++, len--;
	bool dir_only = strip_trailing_slash(s, &len);
	/* A slash at the start or in the middle anchors the pattern at dir;
	 * without one it matches at any depth below dir. */
	bool anchored = memchr(s, '/', len) != NULL;
	while (len && *s == '/')
		s++, len--;
	add_rule(p, s, len, dir, neg, dir_only, !anchored);
}

int ims_ignore_load(ims_patterns *p, int dirfd, const char *name, const char *dir, ims_error **err)
{
	_cleanup_free_ char *shown = dir && *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	int r = read_ignore(dirfd, name, shown, &buf, &len, err);
	if (r != 0)
		return r > 0 ? 0 : r;

	const char *s = buf, *end = buf + len;
	/* A UTF-8 byte-order mark is not part of the first pattern (git skips it too). */
	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (memchr(s, '\0', n))
			return ims_error_set(err, IMS_ESOURCE, "ignore file `%s` contains a NUL byte", shown);
		add_ignore_line(p, s, n, dir);
		s += n + (nl ? 1 : 0);
	}
	return 0;
}
