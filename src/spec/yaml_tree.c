/* libyaml's event API → a small node tree with positions.
 *
 * The event API (not yaml_document_t) lets us refuse anchors and aliases
 * before anything is expanded (alias bombs, CVE-2019-11253) and enforce a
 * depth cap ourselves: Debian's libyaml 0.2.5 has no
 * yaml_set_max_nest_level. Every other cap (string length, list length,
 * mapping size, node count) is enforced here too, so the rest of the room
 * works on a tree of known, bounded size. */
#include "spec/spec_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/xalloc.h"

typedef struct {
	ynode *node;
	size_t cap;
} frame;

typedef struct {
	spec_ctx *c;
	frame stack[SPEC_MAX_DEPTH];
	int depth;
	ynode *root;
	size_t nodes;
	bool fatal;
} builder;

void ynode_free(ynode *n)
{
	if (!n)
		return;
	switch (n->kind) {
	case YN_SCALAR:
		free(n->s);
		break;
	case YN_SEQ:
		for (size_t i = 0; i < n->n; i++)
			ynode_free(n->items[i]);
		free(n->items);
		break;
	case YN_MAP:
		for (size_t i = 0; i < n->n; i++) {
			ynode_free(n->pairs[i].key);
			ynode_free(n->pairs[i].value);
		}
		free(n->pairs);
		break;
	}
	free(n);
}

bool ynode_is_null(const ynode *n)
{
	if (!n || n->kind != YN_SCALAR || !n->plain)
		return false;
	return n->len == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") || !strcmp(n->s, "Null") ||
	       !strcmp(n->s, "NULL");
}

const char *ynode_kind_name(const ynode *n)
{
	if (ynode_is_null(n))
		return "null";
	switch (n->kind) {
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	default:
		return "a scalar";
	}
}

const ypair *ynode_find(const ynode *map, const char *key)
{
	if (!map || map->kind != YN_MAP)
		return NULL;
	size_t kl = strlen(key);
	for (size_t i = 0; i < map->n; i++) {
		const ynode *k = map->pairs[i].key;
		if (k->len == kl && !memcmp(k->s, key, kl))
			return &map->pairs[i];
	}
	return NULL;
}

static ims_pos mark_pos(yaml_mark_t m)
{
	return (ims_pos){ (int)m.line + 1, (int)m.column + 1 };
}

static void fatal(builder *b, ims_pos pos, const char *msg)
{
	spec_error(b->c, pos, "%s", msg);
	b->fatal = true;
}

/* Anchors are refused even when never used: an anchor is only ever
 * written to be aliased, and refusing both keeps the rule simple. */
static void check_props(builder *b, ims_pos pos, const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (anchor)
		spec_error(b->c, pos, "yaml anchors (`&%s`) are not supported; repeat the value instead",
			   (const char *)anchor);
	if (tag) {
		const char *t = (const char *)tag;
		const char *core = "tag:yaml.org,2002:";
		if (!strncmp(t, core, strlen(core)))
			spec_error(b->c, pos, "yaml tags (`!!%s`) are not supported", t + strlen(core));
		else
			spec_error(b->c, pos, "yaml tags (`%s`) are not supported", t);
	}
}

/* The key a new value belongs to, when the innermost open node is a
 * mapping waiting for a value. */
static const ynode *pending_key(builder *b)
{
	if (!b->depth)
		return NULL;
	ynode *top = b->stack[b->depth - 1].node;
	if (top->kind == YN_MAP && top->n && !top->pairs[top->n - 1].value)
		return top->pairs[top->n - 1].key;
	return NULL;
}

static bool attach(builder *b, ynode *n)
{
	if (++b->nodes > SPEC_MAX_NODES) {
		fatal(b, n->pos, "the spec has too many values");
		ynode_free(n);
		return false;
	}
	if (!b->depth) {
		b->root = n;
		return true;
	}
	frame *f = &b->stack[b->depth - 1];
	ynode *top = f->node;
	if (top->kind == YN_SEQ) {
		if (top->n >= SPEC_MAX_ITEMS) {
			fatal(b, n->pos, "list is longer than the limit of 10000 items");
			ynode_free(n);
			return false;
		}
		top->items = xgrow(top->items, &f->cap, top->n + 1, sizeof(*top->items));
		top->items[top->n++] = n;
		return true;
	}
	if (top->n && !top->pairs[top->n - 1].value) {
		top->pairs[top->n - 1].value = n;
		return true;
	}
	if (n->kind != YN_SCALAR) {
		fatal(b, n->pos, "mapping keys must be strings, not lists or mappings");
		ynode_free(n);
		return false;
	}
	if (top->n >= SPEC_MAX_ITEMS) {
		fatal(b, n->pos, "mapping has more than the limit of 10000 keys");
		ynode_free(n);
		return false;
	}
	top->pairs = xgrow(top->pairs, &f->cap, top->n + 1, sizeof(*top->pairs));
	top->pairs[top->n].key = n;
	top->pairs[top->n].value = NULL;
	top->n++;
	return true;
}

static void on_scalar(builder *b, const yaml_event_t *e)
{
	ims_pos pos = mark_pos(e->start_mark);
	check_props(b, pos, e->data.scalar.anchor, e->data.scalar.tag);
	const ynode *key = pending_key(b);
	size_t max = SPEC_MAX_STRING;
	/* inline file content may be larger than any other string */
	if (key && (!strcmp(key->s, "content") || !strcmp(key->s, "contentBase64")))
		max = SPEC_MAX_CONTENT;
	if (e->data.scalar.length > max) {
		fatal(b, pos,
		      max == SPEC_MAX_STRING ? "string is longer than the limit of 64 KiB"
					     : "inline content is longer than the limit of 1 MiB");
		return;
	}
	ynode *n = xcalloc(1, sizeof(*n));
	n->kind = YN_SCALAR;
	n->pos = pos;
	n->len = e->data.scalar.length;
	n->s = xmalloc(n->len + 1);
	memcpy(n->s, e->data.scalar.value, n->len);
	n->s[n->len] = '\0';
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	attach(b, n);
}

static void on_start(builder *b, const yaml_event_t *e, yn_kind kind)
{
	ims_pos pos = mark_pos(e->start_mark);
	if (kind == YN_SEQ)
		check_props(b, pos, e->data.sequence_start.anchor, e->data.sequence_start.tag);
	else
		check_props(b, pos, e->data.mapping_start.anchor, e->data.mapping_start.tag);
	if (b->depth >= SPEC_MAX_DEPTH) {
		fatal(b, pos, "nesting is deeper than the limit of 32 levels");
		return;
	}
	ynode *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->pos = pos;
	if (!attach(b, n))
		return;
	b->stack[b->depth].node = n;
	b->stack[b->depth].cap = 0;
	b->depth++;
}

typedef struct {
	const ynode *key;
	size_t idx;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
	const keyref *x = a, *y = b;
	size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
	int r = memcmp(x->key->s, y->key->s, n);
	if (r)
		return r;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* libyaml does not detect duplicate keys. Each later duplicate is
 * reported (naming the first) and dropped, so the parse that follows sees
 * one value per key. Sorting keeps a 10000-key mapping cheap. */
static void drop_duplicates(builder *b, ynode *map)
{
	if (map->n < 2)
		return;
	keyref *refs = xmalloc(map->n * sizeof(*refs));
	for (size_t i = 0; i < map->n; i++)
		refs[i] = (keyref){ map->pairs[i].key, i };
	qsort(refs, map->n, sizeof(*refs), keyref_cmp);
	bool *drop = xcalloc(map->n, sizeof(*drop));
	bool any = false;
	for (size_t i = 1, first = 0; i < map->n; i++) {
		const ynode *k = refs[i].key, *f = refs[first].key;
		if (k->len == f->len && !memcmp(k->s, f->s, k->len)) {
			spec_error(b->c, k->pos, "duplicate key `%s` (first given at line %d)", k->s, f->pos.line);
			drop[refs[i].idx] = any = true;
		} else {
			first = i;
		}
	}
	if (any) {
		size_t w = 0;
		for (size_t i = 0; i < map->n; i++) {
			if (drop[i]) {
				ynode_free(map->pairs[i].key);
				ynode_free(map->pairs[i].value);
			} else {
				map->pairs[w++] = map->pairs[i];
			}
		}
		map->n = w;
	}
	free(drop);
	free(refs);
}

static void on_end(builder *b)
{
	if (!b->depth)
		return;
	ynode *n = b->stack[--b->depth].node;
	if (n->kind == YN_MAP)
		drop_duplicates(b, n);
}

/* libyaml gives reader errors (bad UTF-8, control characters) as a byte
 * offset only; columns count characters, as libyaml's marks do. */
static ims_pos offset_pos(const char *data, size_t len, size_t off)
{
	ims_pos pos = { 1, 1 };
	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n')
			pos.line++, pos.col = 1;
		else if (((unsigned char)data[i] & 0xc0) != 0x80)
			pos.col++;
	}
	return pos;
}

static void syntax_error(builder *b, const yaml_parser_t *p, const char *data, size_t len)
{
	if (p->error == YAML_MEMORY_ERROR)
		abort(); /* out of memory aborts, as everywhere (xalloc.h) */
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_READER_ERROR) {
		spec_error(b->c, offset_pos(data, len, p->problem_offset), "invalid character: %s", problem);
		b->fatal = true;
		return;
	}
	ims_pos pos = mark_pos(p->problem_mark);
	if (p->context)
		spec_error(b->c, pos, "yaml syntax error: %s (%s started at line %d, column %d)", problem, p->context,
			   (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		spec_error(b->c, pos, "yaml syntax error: %s", problem);
	b->fatal = true;
}

ynode *ynode_parse(spec_ctx *c, const char *data, size_t len)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	builder b = { .c = c };
	int docs = 0;
	bool done = false;
	while (!done && !b.fatal) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e)) {
			syntax_error(&b, &p, data, len);
			break;
		}
		ims_pos pos = mark_pos(e.start_mark);
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				fatal(&b, pos, "only one yaml document is allowed (found a second `---`)");
			break;
		case YAML_ALIAS_EVENT: {
			spec_error(c, pos, "yaml aliases (`*%s`) are not supported; repeat the value instead",
				   (const char *)e.data.alias.anchor);
			/* a null stands in, so the rest of the file is still checked */
			ynode *n = xcalloc(1, sizeof(*n));
			n->kind = YN_SCALAR;
			n->pos = pos;
			n->s = xstrdup("");
			n->plain = true;
			attach(&b, n);
			break;
		}
		case YAML_SCALAR_EVENT:
			on_scalar(&b, &e);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(&b, &e, YN_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(&b, &e, YN_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&b);
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	if (b.fatal) {
		ynode_free(b.root);
		return NULL;
	}
	return b.root;
}
