/* Spec documents built in memory, written out with libyaml's emitter. */
#include "spec/doc.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "digest/base64.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef enum {
	DN_MAP,
	DN_LIST,
	DN_STR,   /* a quoted string */
	DN_PLAIN, /* an unquoted scalar: numbers, booleans, null */
} dn_kind;

struct ims_spec_node {
	dn_kind kind;
	char *s; /* DN_STR, DN_PLAIN */
	size_t len;
	char **keys;           /* DN_MAP */
	ims_spec_node **items; /* DN_MAP values, DN_LIST items */
	size_t n;
};

static ims_spec_node *node(dn_kind kind)
{
	ims_spec_node *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	return n;
}

ims_spec_node *ims_spec_node_map(void)
{
	return node(DN_MAP);
}

ims_spec_node *ims_spec_node_list(void)
{
	return node(DN_LIST);
}

/* Doubles every `$` except those that start one of keep's prefixes. */
static ims_spec_node *escaped(const char *s, const char *keep)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '$' && !(keep && !strncmp(p, keep, strlen(keep))))
			ims_buf_putc(&b, '$');
		ims_buf_putc(&b, *p);
	}
	ims_spec_node *n = node(DN_STR);
	n->s = ims_buf_steal(&b, &n->len);
	if (!n->s)
		n->s = xstrdup("");
	return n;
}

ims_spec_node *ims_spec_node_str(const char *s)
{
	return escaped(s, NULL);
}

ims_spec_node *ims_spec_node_env(const char *s)
{
	return escaped(s, "${base:");
}

ims_spec_node *ims_spec_node_int(long long v)
{
	ims_spec_node *n = node(DN_PLAIN);
	n->s = xasprintf("%lld", v);
	n->len = strlen(n->s);
	return n;
}

ims_spec_node *ims_spec_node_bool(bool v)
{
	ims_spec_node *n = node(DN_PLAIN);
	n->s = xstrdup(v ? "true" : "false");
	n->len = strlen(n->s);
	return n;
}

ims_spec_node *ims_spec_node_null(void)
{
	ims_spec_node *n = node(DN_PLAIN);
	n->s = xstrdup("null");
	n->len = 4;
	return n;
}

void ims_spec_node_free(ims_spec_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		ims_spec_node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->s);
	free(n);
}

ims_spec_node *ims_spec_node_clone(const ims_spec_node *n)
{
	ims_spec_node *c = node(n->kind);
	c->s = n->s ? xmemdup(n->s, n->len + 1) : NULL;
	c->len = n->len;
	c->n = n->n;
	c->items = xcalloc(n->n + 1, sizeof(*c->items));
	if (n->kind == DN_MAP)
		c->keys = xcalloc(n->n + 1, sizeof(*c->keys));
	for (size_t i = 0; i < n->n; i++) {
		c->items[i] = ims_spec_node_clone(n->items[i]);
		if (n->kind == DN_MAP)
			c->keys[i] = xstrdup(n->keys[i]);
	}
	return c;
}

static ssize_t find(const ims_spec_node *map, const char *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i], key))
			return (ssize_t)i;
	return -1;
}

void ims_spec_node_put(ims_spec_node *map, const char *key, ims_spec_node *v)
{
	ssize_t i = find(map, key);
	if (i >= 0) {
		ims_spec_node_free(map->items[i]);
		map->items[i] = v;
		return;
	}
	map->keys = xrealloc(map->keys, (map->n + 1) * sizeof(*map->keys));
	map->items = xrealloc(map->items, (map->n + 1) * sizeof(*map->items));
	map->keys[map->n] = xstrdup(key);
	map->items[map->n++] = v;
}

ims_spec_node *ims_spec_node_get(ims_spec_node *map, const char *key)
{
	ssize_t i = find(map, key);
	return i >= 0 ? map->items[i] : NULL;
}

static ims_spec_node *at(ims_spec_node *map, const char *key, dn_kind kind)
{
	ims_spec_node *v = ims_spec_node_get(map, key);
	if (!v || v->kind != kind) {
		v = node(kind);
		ims_spec_node_put(map, key, v);
	}
	return v;
}

ims_spec_node *ims_spec_node_map_at(ims_spec_node *map, const char *key)
{
	return at(map, key, DN_MAP);
}

ims_spec_node *ims_spec_node_list_at(ims_spec_node *map, const char *key)
{
	return at(map, key, DN_LIST);
}

void ims_spec_node_append(ims_spec_node *list, ims_spec_node *v)
{
	list->items = xrealloc(list->items, (list->n + 1) * sizeof(*list->items));
	list->items[list->n++] = v;
}

/* RFC 3629 UTF-8, without NUL (libyaml writes text, and content goes
 * through substitution, so `$` is left to base64 too). */
static bool plain_text(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!len || i + len > n || c == 0 || c == '$')
			return false;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

void ims_spec_node_put_content(ims_spec_node *map, const void *data, size_t len)
{
	if (plain_text(data, len)) {
		ims_spec_node *n = node(DN_STR);
		n->s = xmalloc(len + 1);
		memcpy(n->s, data, len);
		n->s[len] = '\0';
		n->len = len;
		ims_spec_node_put(map, "content", n);
		return;
	}
	ims_spec_node *n = node(DN_STR);
	n->s = ims_base64_encode(IMS_BASE64_STD, data, len);
	n->len = strlen(n->s);
	ims_spec_node_put(map, "contentBase64", n);
}

/* ---- writing ---- */

static int write_cb(void *ud, unsigned char *buf, size_t size)
{
	ims_buf_add(ud, buf, size, NULL);
	return 1;
}

static bool emit_node(yaml_emitter_t *e, const ims_spec_node *n);

static bool emit_scalar(yaml_emitter_t *e, char *s, size_t len, bool quoted)
{
	yaml_event_t ev;
	return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, !quoted, quoted,
					    quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE) &&
	       yaml_emitter_emit(e, &ev);
}

static bool emit_node(yaml_emitter_t *e, const ims_spec_node *n)
{
	yaml_event_t ev;
	switch (n->kind) {
	case DN_STR:
		return emit_scalar(e, n->s, n->len, true);
	case DN_PLAIN:
		return emit_scalar(e, n->s, n->len, false);
	case DN_LIST:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return false;
		for (size_t i = 0; i < n->n; i++)
			if (!emit_node(e, n->items[i]))
				return false;
		return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	case DN_MAP:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return false;
		for (size_t i = 0; i < n->n; i++)
			if (!emit_scalar(e, n->keys[i], strlen(n->keys[i]), true) || !emit_node(e, n->items[i]))
				return false;
		return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	}
	return false;
}

int ims_spec_node_emit(const ims_spec_node *root, char **out, size_t *len, ims_error **err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	ims_buf b = IMS_BUF_INIT(0);
	if (!yaml_emitter_initialize(&e))
		abort();
	yaml_emitter_set_output(&e, write_cb, &b);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
		  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
		  emit_node(&e, root) && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
		  yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
	yaml_emitter_delete(&e);
	/* libyaml refuses only text that is not UTF-8 */
	if (!ok) {
		ims_buf_dispose(&b);
		return ims_error_set(err, IMS_EINVALID, "a value is not valid UTF-8 text");
	}
	*out = ims_buf_steal(&b, len);
	return 0;
}
