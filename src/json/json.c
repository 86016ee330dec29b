#include "json/json.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define DEFAULT_MAX_BYTES (4u << 20)
#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_ITEMS 100000

/* yajl allocates through these, so that out of memory aborts the same way
 * everywhere instead of surfacing as a parse error. */
static void *ya_malloc(void *ctx, size_t n)
{
	return xmalloc(n);
}

static void *ya_realloc(void *ctx, void *p, size_t n)
{
	return xrealloc(p, n);
}

static void ya_free(void *ctx, void *p)
{
	free(p);
}

static yajl_alloc_funcs ya_funcs = { ya_malloc, ya_realloc, ya_free, NULL };

/* ---- tree ---- */

static ims_json *node(ims_json_type t)
{
	ims_json *v = xcalloc(1, sizeof(*v));
	v->type = t;
	return v;
}

void ims_json_free(ims_json *v)
{
	if (!v)
		return;
	/* Recursion is bounded: parsed trees are at most max_depth deep and the
	 * trees we build ourselves are shallow. */
	for (size_t i = 0; i < v->n; i++) {
		ims_json_free(v->v[i]);
		if (v->k)
			free(v->k[i]);
	}
	free(v->v);
	free(v->k);
	free(v->s);
	free(v);
}

ims_json *ims_json_clone(const ims_json *v)
{
	if (!v)
		return NULL;
	ims_json *c = node(v->type);
	c->b = v->b;
	if (v->s) {
		c->s = xmemdup(v->s, v->slen + 1);
		c->slen = v->slen;
	}
	if (v->n) {
		c->cap = v->n;
		c->v = xcalloc(v->n, sizeof(*c->v));
		if (v->k)
			c->k = xcalloc(v->n, sizeof(*c->k));
		for (size_t i = 0; i < v->n; i++) {
			c->v[i] = ims_json_clone(v->v[i]);
			if (v->k)
				c->k[i] = xstrdup(v->k[i]);
		}
		c->n = v->n;
	}
	return c;
}

ims_json *ims_json_new_null(void)
{
	return node(IMS_JSON_NULL);
}

ims_json *ims_json_new_bool(bool b)
{
	ims_json *v = node(IMS_JSON_BOOL);
	v->b = b;
	return v;
}

ims_json *ims_json_new_int(int64_t n)
{
	ims_json *v = node(IMS_JSON_NUMBER);
	v->s = xasprintf("%" PRId64, n);
	v->slen = strlen(v->s);
	return v;
}

static ims_json *new_stringn(const char *s, size_t n)
{
	ims_json *v = node(IMS_JSON_STRING);
	v->s = xstrndup(s, n);
	v->slen = n;
	return v;
}

ims_json *ims_json_new_string(const char *s)
{
	return new_stringn(s, strlen(s));
}

ims_json *ims_json_new_array(void)
{
	return node(IMS_JSON_ARRAY);
}

ims_json *ims_json_new_object(void)
{
	return node(IMS_JSON_OBJECT);
}

void ims_json_append(ims_json *arr, ims_json *item)
{
	assert(arr->type == IMS_JSON_ARRAY);
	arr->v = xgrow(arr->v, &arr->cap, arr->n + 1, sizeof(*arr->v));
	arr->v[arr->n++] = item;
}

/* Appends without looking for an existing key: the parser checks duplicates
 * once per object instead of once per member. */
static void object_push(ims_json *obj, char *key, ims_json *val)
{
	size_t cap = obj->cap;
	obj->v = xgrow(obj->v, &cap, obj->n + 1, sizeof(*obj->v));
	obj->k = xgrow(obj->k, &obj->cap, obj->n + 1, sizeof(*obj->k));
	obj->k[obj->n] = key;
	obj->v[obj->n++] = val;
}

static ssize_t object_find(const ims_json *obj, const char *key)
{
	if (!obj || obj->type != IMS_JSON_OBJECT)
		return -1;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->k[i], key))
			return (ssize_t)i;
	return -1;
}

void ims_json_set(ims_json *obj, const char *key, ims_json *val)
{
	assert(obj->type == IMS_JSON_OBJECT);
	ssize_t i = object_find(obj, key);
	if (i >= 0) {
		ims_json_free(obj->v[i]);
		obj->v[i] = val;
		return;
	}
	object_push(obj, xstrdup(key), val);
}

bool ims_json_remove(ims_json *obj, const char *key)
{
	ssize_t i = object_find(obj, key);
	if (i < 0)
		return false;
	ims_json_free(obj->v[i]);
	free(obj->k[i]);
	memmove(obj->v + i, obj->v + i + 1, (obj->n - i - 1) * sizeof(*obj->v));
	memmove(obj->k + i, obj->k + i + 1, (obj->n - i - 1) * sizeof(*obj->k));
	obj->n--;
	return true;
}

ims_json *ims_json_get(const ims_json *obj, const char *key)
{
	ssize_t i = object_find(obj, key);
	return i < 0 ? NULL : obj->v[i];
}

const char *ims_json_get_string(const ims_json *obj, const char *key)
{
	ims_json *v = ims_json_get(obj, key);
	return v && v->type == IMS_JSON_STRING ? v->s : NULL;
}

bool ims_json_int(const ims_json *v, int64_t *out)
{
	if (!v || v->type != IMS_JSON_NUMBER || !v->s)
		return false;
	/* Only plain integers: "1e3" or "1.0" are not sizes. */
	const char *p = v->s;
	if (*p == '-')
		p++;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	char *end;
	long long n = strtoll(v->s, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}

bool ims_json_is_string_map(const ims_json *v)
{
	if (!v || v->type != IMS_JSON_OBJECT)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i]->type != IMS_JSON_STRING)
			return false;
	return true;
}

/* Reads an optional string member; refuses other types. */
int ims_json_opt_string(char **out, const ims_json *obj, const char *key, const char *what, ims_error **err)
{
	const ims_json *v = ims_json_get(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != IMS_JSON_STRING)
		return ims_error_set(err, IMS_EINVALID, "%s: `%s` must be a string", what, key);
	*out = xstrdup(v->s);
	return 0;
}

/* ---- parser ---- */

typedef struct {
	ims_json_limits lim;
	ims_json *root;
	ims_json **stack; /* open containers, max_depth of them */
	int depth;
	char *key; /* pending object key */
	size_t items;
	char *msg; /* why a callback stopped the parse */
} pctx;

static int stop(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stop(pctx *c, const char *fmt, ...)
{
	if (!c->msg) {
		va_list ap;
		va_start(ap, fmt);
		c->msg = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Attaches a new value to the open container (or makes it the root). */
static int add(pctx *c, ims_json *v)
{
	if (++c->items > c->lim.max_items) {
		ims_json_free(v);
		return stop(c, "more than %zu values", c->lim.max_items);
	}
	if (c->depth == 0) {
		c->root = v;
		return 1;
	}
	ims_json *top = c->stack[c->depth - 1];
	if (top->type == IMS_JSON_ARRAY)
		ims_json_append(top, v);
	else
		object_push(top, steal_pointer(&c->key), v);
	return 1;
}

static int cb_null(void *ctx)
{
	return add(ctx, node(IMS_JSON_NULL));
}

static int cb_bool(void *ctx, int b)
{
	return add(ctx, ims_json_new_bool(b));
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	ims_json *v = node(IMS_JSON_NUMBER);
	v->s = xstrndup(s, n);
	v->slen = n;
	return add(ctx, v);
}

/* yajl checks the raw bytes, but decodes a lone "\udc00" escape into a
 * surrogate, which is not UTF-8; check what we keep, as the strict UTF-8
 * decoders of other readers would. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
		if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* A NUL cut short by a C consumer is how two readers end up disagreeing
 * about a document. */
static int check_text(pctx *c, const unsigned char *s, size_t n, const char *what)
{
	if (memchr(s, '\0', n))
		return stop(c, "NUL character in %s", what);
	if (!utf8_valid(s, n))
		return stop(c, "invalid UTF-8 in %s", what);
	return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
	if (!check_text(ctx, s, n, "a string"))
		return 0;
	return add(ctx, new_stringn((const char *)s, n));
}

static int cb_key(void *ctx, const unsigned char *s, size_t n)
{
	pctx *c = ctx;
	if (!check_text(c, s, n, "an object key"))
		return 0;
	free(c->key);
	c->key = xstrndup((const char *)s, n);
	return 1;
}

static int open_container(pctx *c, ims_json_type t)
{
	if (c->depth >= c->lim.max_depth)
		return stop(c, "nesting deeper than %d", c->lim.max_depth);
	ims_json *v = node(t);
	if (!add(c, v))
		return 0;
	c->stack[c->depth++] = v;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, IMS_JSON_OBJECT);
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, IMS_JSON_ARRAY);
}

static int cmp_keyp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Different readers keep the first or the last of two equal keys, which is
 * exactly the ambiguity behind CVE-2021-41190; refuse them outright. */
static const char *duplicate_key(const ims_json *obj)
{
	if (obj->n < 2)
		return NULL;
	if (obj->n <= 8) {
		for (size_t i = 1; i < obj->n; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(obj->k[i], obj->k[j]))
					return obj->k[i];
		return NULL;
	}
	/* Sorting a copy keeps a 100000-member object at n log n. */
	_cleanup_free_ char **keys = xmemdup(obj->k, obj->n * sizeof(*obj->k));
	qsort(keys, obj->n, sizeof(*keys), cmp_keyp);
	for (size_t i = 1; i < obj->n; i++)
		if (!strcmp(keys[i], keys[i - 1]))
			return keys[i];
	return NULL;
}

static int cb_end_map(void *ctx)
{
	pctx *c = ctx;
	const char *dup = duplicate_key(c->stack[c->depth - 1]);
	if (dup)
		return stop(c, "duplicate key `%.64s`", dup);
	c->depth--;
	return 1;
}

static int cb_end_array(void *ctx)
{
	pctx *c = ctx;
	c->depth--;
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end_array,
};

static void limits(ims_json_limits *out, const ims_json_limits *in)
{
	out->max_bytes = in && in->max_bytes ? in->max_bytes : DEFAULT_MAX_BYTES;
	out->max_depth = in && in->max_depth > 0 ? in->max_depth : DEFAULT_MAX_DEPTH;
	out->max_items = in && in->max_items ? in->max_items : DEFAULT_MAX_ITEMS;
}

/* yajl's messages end in newlines and may carry a context dump; keep the
 * first line only. */
static char *yajl_message(yajl_handle h, const char *data, size_t len)
{
	unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)data, len);
	const char *s = (const char *)e;
	if (s && !strncmp(s, "parse error: ", 13))
		s += 13;
	char *m = xstrndup(s ? s : "parse error", s ? strcspn(s, "\r\n") : 11);
	yajl_free_error(h, e);
	return m;
}

int ims_json_parse(ims_json **out, const char *data, size_t len, const ims_json_limits *lim, ims_error **err)
{
	pctx c = { 0 };
	limits(&c.lim, lim);
	if (len > c.lim.max_bytes)
		return ims_error_set(err, IMS_EGENERIC, "invalid JSON: document of %zu bytes exceeds the limit of %zu",
				     len, c.lim.max_bytes);
	c.stack = xcalloc((size_t)c.lim.max_depth, sizeof(*c.stack));

	yajl_handle h = yajl_alloc(&callbacks, &ya_funcs, &c);
	/* Defaults already refuse comments, trailing garbage, several values
	 * and invalid UTF-8; say so rather than rely on it silently. */
	yajl_config(h, yajl_allow_comments, 0);
	yajl_config(h, yajl_dont_validate_strings, 0);
	yajl_config(h, yajl_allow_trailing_garbage, 0);
	yajl_config(h, yajl_allow_multiple_values, 0);
	yajl_config(h, yajl_allow_partial_values, 0);

	yajl_status st = yajl_parse(h, (const unsigned char *)data, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	int rc = 0;
	if (st != yajl_status_ok || !c.root) {
		size_t at = yajl_get_bytes_consumed(h);
		if (at > len)
			at = len;
		_cleanup_free_ char *m = c.msg ? steal_pointer(&c.msg) : yajl_message(h, data, len);
		rc = ims_error_set(err, IMS_EGENERIC, "invalid JSON: %s at byte %zu", m, at);
		ims_json_free(c.root);
	} else {
		*out = c.root;
	}
	yajl_free(h);
	free(c.stack);
	free(c.key);
	free(c.msg);
	return rc;
}

int ims_json_parse_object(ims_json **out, const char *data, size_t len, size_t max_bytes, const char *what,
			  ims_error **err)
{
	ims_json_limits lim = { .max_bytes = max_bytes };
	ims_json *t = NULL;
	int rc = ims_json_parse(&t, data, len, &lim, err);
	if (rc) {
		/* A document that is not JSON is an invalid document. */
		if (err && *err)
			(*err)->code = IMS_EINVALID;
		ims_error_wrap(err, "%s", what);
		return IMS_EINVALID;
	}
	if (t->type != IMS_JSON_OBJECT) {
		ims_json_free(t);
		return ims_error_set(err, IMS_EINVALID, "%s: not a JSON object", what);
	}
	*out = t;
	return 0;
}

/* ---- encoder ---- */

static void gen_print(void *ctx, const char *s, size_t n)
{
	ims_buf_add(ctx, s, n, NULL);
}

static yajl_gen_status gen(yajl_gen g, const ims_json *v)
{
	yajl_gen_status st = yajl_gen_status_ok;
	switch (v->type) {
	case IMS_JSON_NULL:
		return yajl_gen_null(g);
	case IMS_JSON_BOOL:
		return yajl_gen_bool(g, v->b);
	case IMS_JSON_NUMBER:
		return yajl_gen_number(g, v->s, v->slen);
	case IMS_JSON_STRING:
		return yajl_gen_string(g, (const unsigned char *)v->s, v->slen);
	case IMS_JSON_ARRAY:
		st = yajl_gen_array_open(g);
		for (size_t i = 0; st == yajl_gen_status_ok && i < v->n; i++)
			st = gen(g, v->v[i]);
		return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
	case IMS_JSON_OBJECT:
		st = yajl_gen_map_open(g);
		for (size_t i = 0; st == yajl_gen_status_ok && i < v->n; i++) {
			st = yajl_gen_string(g, (const unsigned char *)v->k[i], strlen(v->k[i]));
			if (st == yajl_gen_status_ok)
				st = gen(g, v->v[i]);
		}
		return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
	}
	return yajl_gen_invalid_string;
}

static char *encode(const ims_json *v, size_t *len)
{
	ims_buf b = IMS_BUF_INIT(0);
	yajl_gen g = yajl_gen_alloc(&ya_funcs);
	yajl_gen_config(g, yajl_gen_print_callback, gen_print, &b);
	/* Only a tree nested past yajl's own limit (128) can fail here; a
	 * parsed tree never is. */
	yajl_gen_status st = gen(g, v);
	yajl_gen_free(g);
	if (st != yajl_gen_status_ok) {
		ims_buf_dispose(&b);
		if (len)
			*len = 0;
		return NULL;
	}
	return ims_buf_steal(&b, len);
}

char *ims_json_encode(const ims_json *v, size_t *len)
{
	return encode(v, len);
}

static void indent(ims_buf *b, int depth)
{
	ims_buf_putc(b, '\n');
	for (int i = 0; i < depth; i++)
		ims_buf_puts(b, "  ");
}

/* Re-indents the compact encoding rather than using yajl's beautifier,
 * which prints empty containers as "{\n\n}". Only string contents need
 * care, and the compact form has no other whitespace. */
char *ims_json_encode_pretty(const ims_json *v, size_t *len)
{
	size_t n;
	_cleanup_free_ char *c = encode(v, &n);
	if (!c)
		return NULL;
	ims_buf b = IMS_BUF_INIT(0);
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = c[i];
		if (ch == '"') {
			size_t j = i + 1;
			while (c[j] != '"')
				j += c[j] == '\\' ? 2 : 1;
			ims_buf_add(&b, c + i, j - i + 1, NULL);
			i = j;
		} else if (ch == '{' || ch == '[') {
			ims_buf_putc(&b, ch);
			if (c[i + 1] == '}' || c[i + 1] == ']') {
				ims_buf_putc(&b, c[++i]);
			} else {
				indent(&b, ++depth);
			}
		} else if (ch == '}' || ch == ']') {
			indent(&b, --depth);
			ims_buf_putc(&b, ch);
		} else if (ch == ',') {
			ims_buf_putc(&b, ch);
			indent(&b, depth);
		} else if (ch == ':') {
			ims_buf_puts(&b, ": ");
		} else {
			ims_buf_putc(&b, ch);
		}
	}
	return ims_buf_steal(&b, len);
}
