/* The TOML subset of registries.conf: a one-pass reader over a capped
 * buffer. No recursion but the free (whose depth is capped by
 * IMS_TOML_MAX_DEPTH plus two: a header's keys, [[tables]], an array),
 * every table and array capped at IMS_TOML_MAX_ITEMS, and every byte
 * outside strings and comments one of the grammar's. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "regconf/toml.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef struct {
	const char *file;
	const char *p, *end;
	const char *line_start;
	int line;
	ims_toml *root;
	ims_toml *current; /* the table key = value lines go into */
	/* the last column counted, so that a long line is counted once */
	const char *col_line, *col_at;
	int col_n;
} parser;

/* The 1-based column of at, in characters (UTF-8 continuation bytes do
 * not count), on the current line. */
static int col_of(parser *ps, const char *at)
{
	if (ps->col_line != ps->line_start || at < ps->col_at) {
		ps->col_line = ps->col_at = ps->line_start;
		ps->col_n = 1;
	}
	for (; ps->col_at < at; ps->col_at++)
		if (((unsigned char)*ps->col_at & 0xc0) != 0x80)
			ps->col_n++;
	return ps->col_n;
}

static int fail_at(parser *ps, const char *at, ims_error **err, const char *what, const char *hint)
{
	ims_error_set(err, IMS_EINVALID, "%s:%d:%d: %s", ps->file, ps->line, col_of(ps, at), what);
	if (hint)
		ims_error_hint(err, "%s", hint);
	return IMS_EINVALID;
}

static int fail(parser *ps, ims_error **err, const char *what, const char *hint)
{
	return fail_at(ps, ps->p, err, what, hint);
}

const char *ims_toml_kind_name(ims_toml_kind k)
{
	switch (k) {
	case IMS_TOML_STRING:
		return "a string";
	case IMS_TOML_BOOL:
		return "a boolean";
	case IMS_TOML_INT:
		return "an integer";
	case IMS_TOML_ARRAY:
		return "an array";
	case IMS_TOML_TABLE:
		return "a table";
	default:
		return "an array of tables";
	}
}

void ims_toml_free(ims_toml *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		ims_toml_free(t->items[i]);
		if (t->keys)
			free(t->keys[i]);
	}
	free(t->items);
	free(t->keys);
	free(t->str);
	free(t);
}

const ims_toml *ims_toml_get(const ims_toml *t, const char *key)
{
	if (!t || t->kind != IMS_TOML_TABLE)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->keys[i], key))
			return t->items[i];
	return NULL;
}

static ims_toml *node(parser *ps, ims_toml_kind kind, const char *at)
{
	ims_toml *v = xcalloc(1, sizeof(*v));
	v->kind = kind;
	v->line = v->key_line = ps->line;
	v->col = v->key_col = col_of(ps, at);
	return v;
}

static bool append(ims_toml *parent, char *key, ims_toml *child)
{
	if (parent->n >= IMS_TOML_MAX_ITEMS)
		return false;
	size_t cap = parent->cap;
	parent->items = xgrow(parent->items, &cap, parent->n + 1, sizeof(*parent->items));
	if (parent->kind == IMS_TOML_TABLE) {
		size_t kcap = parent->cap;
		parent->keys = xgrow(parent->keys, &kcap, parent->n + 1, sizeof(*parent->keys));
		parent->keys[parent->n] = key;
	}
	parent->cap = cap;
	parent->items[parent->n++] = child;
	return true;
}

/* ---- lexing ---- */

static void skip_blank(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* At "\n" or "\r\n": steps over it onto the next line. */
static bool newline(parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\n') {
		ps->p++;
	} else if (ps->end - ps->p >= 2 && ps->p[0] == '\r' && ps->p[1] == '\n') {
		ps->p += 2;
	} else {
		return false;
	}
	ps->line++;
	ps->line_start = ps->p;
	return true;
}

/* A comment runs to the end of the line: tabs and printable UTF-8 only. */
static int comment(parser *ps, ims_error **err)
{
	ps->p++;
	while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\r') {
		size_t l = *ps->p == '\t' ? 1 : ims_utf8_char((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
		if (!l)
			return fail(ps, err, "a control character or malformed UTF-8 in a comment", NULL);
		ps->p += l;
	}
	return 0;
}

/* After a header or a value: blanks, perhaps a comment, then the end of
 * the line or of the file. */
static int end_of_line(parser *ps, ims_error **err)
{
	skip_blank(ps);
	if (ps->p < ps->end && *ps->p == '#' && comment(ps, err) < 0)
		return IMS_EINVALID;
	if (ps->p == ps->end || newline(ps))
		return 0;
	return fail(ps, err, "expected the end of the line", "one key = value or [table] per line");
}

/* Blanks, comments and newlines, inside an array. */
static int skip_space(parser *ps, ims_error **err)
{
	for (;;) {
		skip_blank(ps);
		if (ps->p < ps->end && *ps->p == '#') {
			if (comment(ps, err) < 0)
				return IMS_EINVALID;
			continue;
		}
		if (!newline(ps))
			return 0;
	}
}

static void put_utf8(ims_buf *b, unsigned long c)
{
	if (c < 0x80) {
		ims_buf_putc(b, (char)c);
	} else if (c < 0x800) {
		ims_buf_putc(b, (char)(0xc0 | (c >> 6)));
		ims_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		ims_buf_putc(b, (char)(0xe0 | (c >> 12)));
		ims_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		ims_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		ims_buf_putc(b, (char)(0xf0 | (c >> 18)));
		ims_buf_putc(b, (char)(0x80 | ((c >> 12) & 0x3f)));
		ims_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		ims_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	}
}

static int hex_escape(parser *ps, ims_buf *b, int digits, ims_error **err)
{
	const char *at = ps->p - 2;
	unsigned long c = 0;
	for (int i = 0; i < digits; i++, ps->p++) {
		if (ps->p >= ps->end)
			return fail_at(ps, at, err, "a short \\u or \\U escape", NULL);
		char h = *ps->p;
		int d = h >= '0' && h <= '9'   ? h - '0'
			: h >= 'a' && h <= 'f' ? h - 'a' + 10
			: h >= 'A' && h <= 'F' ? h - 'A' + 10
					       : -1;
		if (d < 0)
			return fail_at(ps, at, err, "a \\u or \\U escape needs hexadecimal digits", NULL);
		c = c * 16 + (unsigned long)d;
	}
	/* NUL would end the C string early; controls are refused as text is */
	if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return fail_at(ps, at, err, "the escape is not an allowed Unicode character", NULL);
	put_utf8(b, c);
	return 0;
}

/* A one-line basic ("...") or literal ('...') string; *out is NUL-free. */
static int string(parser *ps, char **out, ims_error **err)
{
	const char *start = ps->p;
	char q = *ps->p++;
	if (ps->end - ps->p >= 2 && ps->p[0] == q && ps->p[1] == q)
		return fail_at(ps, start, err, "multi-line strings are not supported", "write the string on one line");
	ims_buf b = IMS_BUF_INIT(0);
	while (ps->p < ps->end && *ps->p != q) {
		char c = *ps->p;
		if (c == '\\' && q == '"') {
			ps->p++;
			char e = ps->p < ps->end ? *ps->p++ : '\0';
			const char *simple = strchr("btnfr\"\\", e);
			if (e && simple) {
				ims_buf_putc(&b, "\b\t\n\f\r\"\\"[simple - "btnfr\"\\"]);
			} else if (e == 'u' || e == 'U') {
				if (hex_escape(ps, &b, e == 'u' ? 4 : 8, err) < 0) {
					ims_buf_dispose(&b);
					return IMS_EINVALID;
				}
			} else {
				ims_buf_dispose(&b);
				return fail_at(ps, ps->p - 2, err, "an unknown escape in a string",
					       "the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; "
					       "or use a 'literal string'");
			}
			continue;
		}
		size_t l = c == '\t' ? 1 : ims_utf8_char((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
		if (!l) {
			ims_buf_dispose(&b);
			if (c == '\n' || c == '\r')
				return fail_at(ps, start, err, "an unterminated string", "close it on the same line");
			return fail(ps, err, "a control character or malformed UTF-8 in a string", NULL);
		}
		for (size_t i = 0; i < l; i++)
			ims_buf_putc(&b, ps->p[i]);
		ps->p += l;
	}
	if (ps->p == ps->end) {
		ims_buf_dispose(&b);
		return fail_at(ps, start, err, "an unterminated string", "close it on the same line");
	}
	ps->p++;
	*out = ims_buf_steal(&b, NULL);
	if (!*out)
		*out = xstrdup("");
	return 0;
}

static bool bare_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int key(parser *ps, char **out, ims_error **err)
{
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
		return string(ps, out, err);
	const char *s = ps->p;
	while (ps->p < ps->end && bare_char(*ps->p))
		ps->p++;
	if (ps->p == s)
		return fail(ps, err, "expected a key", "keys are letters, digits, `_` and `-`, or quoted");
	*out = xstrndup(s, (size_t)(ps->p - s));
	return 0;
}

/* True when the byte at q may follow a scalar. */
static bool delimiter_at(const parser *ps, const char *q)
{
	return q == ps->end || strchr(" \t\r\n,]#", *q);
}

static bool delimiter(const parser *ps)
{
	return delimiter_at(ps, ps->p);
}

static int integer(parser *ps, ims_toml *v, ims_error **err)
{
	const char *start = ps->p;
	bool neg = *ps->p == '-';
	if (*ps->p == '+' || *ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0' && !delimiter_at(ps, ps->p + 1))
		return fail_at(ps, start, err, "only decimal integers without leading zeros are supported", NULL);
	unsigned long long n = 0;
	bool digit = false;
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c >= '0' && c <= '9') {
			if (n > (ULLONG_MAX - 9) / 10)
				return fail_at(ps, start, err, "the integer is too large", NULL);
			n = n * 10 + (unsigned)(c - '0');
			digit = true;
		} else if (c == '_' && digit && ps->end - ps->p > 1 && ps->p[1] >= '0' && ps->p[1] <= '9') {
			/* 1_000: an underscore between digits */
		} else {
			break;
		}
		ps->p++;
	}
	if (!digit || !delimiter(ps))
		return fail_at(ps, start, err, "expected a value: a string, true, false, a decimal integer or an array",
			       "floats, dates and times are not supported in registries.conf");
	if (n > (unsigned long long)LLONG_MAX + (neg ? 1ULL : 0ULL))
		return fail_at(ps, start, err, "the integer is too large", NULL);
	v->i = neg ? (long long)(0ULL - n) : (long long)n;
	return 0;
}

static bool word(parser *ps, const char *w)
{
	size_t l = strlen(w);
	if ((size_t)(ps->end - ps->p) < l || memcmp(ps->p, w, l) != 0)
		return false;
	const char *save = ps->p;
	ps->p += l;
	if (delimiter(ps))
		return true;
	ps->p = save;
	return false;
}

static int value(parser *ps, ims_toml **out, ims_error **err);

static int array(parser *ps, ims_toml *a, ims_error **err)
{
	ps->p++;
	for (;;) {
		if (skip_space(ps, err) < 0)
			return IMS_EINVALID;
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (ps->p == ps->end)
			return fail_at(ps, ps->p, err, "an unterminated array", "close it with `]`");
		if (*ps->p != '"' && *ps->p != '\'')
			return fail(ps, err, "only arrays of strings are supported", NULL);
		ims_toml *item = NULL;
		if (value(ps, &item, err) < 0)
			return IMS_EINVALID;
		if (!append(a, NULL, item)) {
			ims_toml_free(item);
			return fail(ps, err, "too many items in one array", NULL);
		}
		if (skip_space(ps, err) < 0)
			return IMS_EINVALID;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
			continue;
		return fail(ps, err, "expected `,` or `]` in an array", NULL);
	}
}

static int value(parser *ps, ims_toml **out, ims_error **err)
{
	*out = NULL;
	if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
		return fail(ps, err, "expected a value after `=`", NULL);
	char c = *ps->p;
	const char *at = ps->p;
	ims_toml *v = NULL;
	int r = 0;
	if (c == '"' || c == '\'') {
		v = node(ps, IMS_TOML_STRING, ps->p);
		r = string(ps, &v->str, err);
	} else if (c == '[') {
		v = node(ps, IMS_TOML_ARRAY, ps->p);
		r = array(ps, v, err);
	} else if (c == '{') {
		return fail(ps, err, "inline tables are not supported", "write a [table] or [[table]] header instead");
	} else if (word(ps, "true") || word(ps, "false")) {
		v = node(ps, IMS_TOML_BOOL, at);
		v->b = c == 't';
	} else if ((c >= '0' && c <= '9') || c == '+' || c == '-') {
		v = node(ps, IMS_TOML_INT, ps->p);
		r = integer(ps, v, err);
	} else {
		return fail(ps, err, "expected a value: a string, true, false, a decimal integer or an array", NULL);
	}
	if (r < 0) {
		ims_toml_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ---- tables ---- */

static ims_toml *child(ims_toml *t, const char *k, size_t *idx)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->keys[i], k)) {
			*idx = i;
			return t->items[i];
		}
	return NULL;
}

/* [a.b.c] or [[a.b.c]]: makes the parents as needed (an array of tables
 * stands for its last table) and then the table or a new array item. */
static int header(parser *ps, ims_error **err)
{
	const char *start = ps->p;
	bool array_of = ps->end - ps->p >= 2 && ps->p[1] == '[';
	ps->p += array_of ? 2 : 1;
	char *keys[IMS_TOML_MAX_DEPTH];
	size_t nk = 0;
	int r = 0;
	for (;;) {
		skip_blank(ps);
		if (nk == IMS_TOML_MAX_DEPTH) {
			r = fail(ps, err, "the table name has too many parts", NULL);
			goto out;
		}
		if ((r = key(ps, &keys[nk], err)) < 0)
			goto out;
		nk++;
		skip_blank(ps);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			continue;
		}
		break;
	}
	if (ps->p >= ps->end || *ps->p != ']' || (array_of && (ps->end - ps->p < 2 || ps->p[1] != ']'))) {
		r = fail(ps, err, array_of ? "expected `]]` after the table name" : "expected `]` after the table name",
			 NULL);
		goto out;
	}
	ps->p += array_of ? 2 : 1;
	ims_toml *t = ps->root;
	for (size_t i = 0; i < nk; i++) {
		size_t idx = 0;
		ims_toml *c = child(t, keys[i], &idx);
		bool last = i + 1 == nk;
		if (!c) {
			c = node(ps, last && array_of ? IMS_TOML_TABLES : IMS_TOML_TABLE, start);
			if (!append(t, xstrdup(keys[i]), c)) {
				ims_toml_free(c);
				r = fail_at(ps, start, err, "too many keys in one table", NULL);
				goto out;
			}
		} else if (last && array_of ? c->kind != IMS_TOML_TABLES
					    : c->kind != IMS_TOML_TABLE && (last || c->kind != IMS_TOML_TABLES)) {
			_cleanup_free_ char *m = xasprintf("`%s` is already %s (at %d:%d)", keys[i],
							   ims_toml_kind_name(c->kind), c->key_line, c->key_col);
			r = fail_at(ps, start, err, m, NULL);
			goto out;
		} else if (last && !array_of && c->header) {
			_cleanup_free_ char *m = xasprintf("table `%s` is defined twice (first at %d:%d)", keys[i],
							   c->line, c->col);
			r = fail_at(ps, start, err, m, "merge the two tables into one");
			goto out;
		}
		if (last && array_of) {
			ims_toml *item = node(ps, IMS_TOML_TABLE, start);
			item->header = true;
			if (!append(c, NULL, item)) {
				ims_toml_free(item);
				r = fail_at(ps, start, err, "too many tables in one array", NULL);
				goto out;
			}
			c = item;
		} else if (last) {
			c->header = true;
			c->line = ps->line;
			c->col = col_of(ps, start);
		} else if (c->kind == IMS_TOML_TABLES) {
			c = c->items[c->n - 1];
		}
		t = c;
	}
	ps->current = t;
out:
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	return r;
}

static int key_value(parser *ps, ims_error **err)
{
	const char *kat = ps->p;
	_cleanup_free_ char *k = NULL;
	if (key(ps, &k, err) < 0)
		return IMS_EINVALID;
	skip_blank(ps);
	if (ps->p < ps->end && *ps->p == '.')
		return fail(ps, err, "dotted keys are not supported", "write a [table] header instead");
	if (ps->p >= ps->end || *ps->p != '=')
		return fail(ps, err, "expected `=` after the key", NULL);
	ps->p++;
	skip_blank(ps);
	size_t idx = 0;
	const ims_toml *old = child(ps->current, k, &idx);
	if (old) {
		_cleanup_free_ char *m = xasprintf("`%s` is set twice (first at %d:%d)", k, old->key_line,
						   old->key_col);
		return fail_at(ps, kat, err, m, NULL);
	}
	int kcol = col_of(ps, kat);
	ims_toml *v = NULL;
	if (value(ps, &v, err) < 0)
		return IMS_EINVALID;
	v->key_line = v->line; /* a value starts on its key's line */
	v->key_col = kcol;
	if (!append(ps->current, steal_pointer(&k), v)) {
		ims_toml_free(v);
		return fail_at(ps, kat, err, "too many keys in one table", NULL);
	}
	return 0;
}

int ims_toml_parse(ims_toml **out, const char *file, const char *data, size_t len, ims_error **err)
{
	parser ps = { .file = file, .p = data, .end = data + len, .line_start = data, .line = 1 };
	ps.root = node(&ps, IMS_TOML_TABLE, data);
	ps.current = ps.root;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) /* a UTF-8 byte order mark */
		ps.p = ps.line_start = data + 3;
	int r = 0;
	while (r == 0 && ps.p < ps.end) {
		skip_blank(&ps);
		if (ps.p == ps.end)
			break;
		char c = *ps.p;
		if (c == '#')
			r = end_of_line(&ps, err);
		else if (newline(&ps))
			continue;
		else if (c == '[')
			r = header(&ps, err) < 0 ? IMS_EINVALID : end_of_line(&ps, err);
		else
			r = key_value(&ps, err) < 0 ? IMS_EINVALID : end_of_line(&ps, err);
	}
	if (r < 0) {
		ims_toml_free(ps.root);
		return r;
	}
	*out = ps.root;
	return 0;
}
