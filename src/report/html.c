/* The report as one HTML page: inline CSS and a few lines of inline JS
 * (expand and collapse), nothing fetched. Every name and value from the
 * image is escaped where it is written (text and attributes alike), and
 * the elements carry data-* attributes with the raw numbers, for scripts
 * and tests. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/tree.h"
#include "util/buf.h"
#include "util/cleanup.h"

static const char style[] =
	"<style>\n"
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	"h1{font-size:1.3em;word-break:break-all}code,.mono{font-family:ui-monospace,monospace;font-size:.92em}\n"
	".layer{border:1px solid #ddd;border-radius:6px;padding:.5em .8em;margin:.6em 0}\n"
	".row{display:flex;align-items:center;gap:.6em}.num{width:3em;font-weight:bold}\n"
	".track{flex:1;background:#f1f1f1;height:1.1em;border-radius:3px;overflow:hidden}\n"
	".bar{display:block;height:100%;background:#4a7bd0}.sz{color:#555;white-space:nowrap}\n"
	".tag{border-radius:3px;padding:0 .4em;font-size:.85em;background:#e8e8e8}\n"
	".ch-same,.ch-moved{background:#e3f1e3}.ch-changed{background:#fdf0d0}.ch-added{background:#dbe8ff}\n"
	"ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:1.2em}summary{cursor:pointer}\n"
	".del .entry{text-decoration:line-through;color:#b00}.note{color:#b00;font-size:.85em}\n"
	".added{color:#070}.removed{color:#b00}.changed{color:#a60}\n"
	"table{border-collapse:collapse}th,td{text-align:left;vertical-align:top;padding:.15em .6em;border-bottom:1px solid #eee}\n"
	"td{word-break:break-all}\n"
	"</style>\n";

/* Expand and collapse every <details>; no data of the image in here. */
static const char script[] =
	"<script>\n"
	"function imsToggle(open){document.querySelectorAll('details').forEach("
	"function(d){d.open=open;});}\n"
	"</script>\n";

/* The character references for the five characters that can end text or
 * an attribute value. */
static const char *const entities[256] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

static void esc(ims_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (entities[c])
			ims_buf_puts(b, entities[c]);
		else if (c < 0x20 && c != '\t' && c != '\n')
			ims_buf_puts(b, "&#xFFFD;");
		else
			ims_buf_putc(b, (char)c);
	}
}

/* ` name="value"`, value escaped. */
static void attr(ims_buf *b, const char *name, const char *value)
{
	ims_buf_printf(b, " %s=\"", name);
	esc(b, value);
	ims_buf_putc(b, '"');
}

static int64_t num(const ims_json *o, const char *key)
{
	int64_t v = 0;
	ims_json_int(ims_json_get(o, key), &v);
	return v;
}

static const char *str(const ims_json *o, const char *key)
{
	const char *s = ims_json_get_string(o, key);
	return s ? s : "";
}

static void attr_num(ims_buf *b, const char *name, int64_t v)
{
	ims_buf_printf(b, " %s=\"%" PRId64 "\"", name, v);
}

/* 0 B, 512 B, 1.5 KiB, 12.3 MiB ... */
static void human(ims_buf *b, int64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		ims_buf_printf(b, "%" PRId64 " B", n);
	else
		ims_buf_printf(b, "%.1f %s", v, units[u]);
}

static void entry_span(ims_buf *b, const ims_report_node *n)
{
	const ims_json *e = n->entry;
	if (!e) {
		ims_buf_puts(b, "<span class=\"implied\">");
		esc(b, n->name);
		ims_buf_puts(b, "</span>");
		return;
	}
	const char *type = str(e, "type");
	ims_buf_printf(b, "<span class=\"entry t-%s\"", type);
	attr(b, "data-path", str(e, "path"));
	attr(b, "data-type", type);
	attr_num(b, "data-size", num(e, "size"));
	ims_buf_printf(b, " data-mode=\"%04" PRIo64 "\"", num(e, "mode"));
	if (*str(e, "digest"))
		attr(b, "data-digest", str(e, "digest"));
	attr(b, "title", str(e, "path"));
	ims_buf_putc(b, '>');
	esc(b, n->name);
	ims_buf_puts(b, "</span>");
	if (!strcmp(type, "whiteout"))
		ims_buf_puts(b, " <span class=\"note\">deleted</span>");
	else if (!strcmp(type, "opaque"))
		ims_buf_puts(b, " <span class=\"note\">emptied: lower layers' contents hidden</span>");
	if (*str(e, "link")) {
		ims_buf_puts(b, !strcmp(type, "hardlink") ? " <span class=\"sz\">= " : " <span class=\"sz\">&rarr; ");
		esc(b, str(e, "link"));
		ims_buf_puts(b, "</span>");
	}
}

static void render_node(ims_buf *b, const ims_report_node *n, int depth)
{
	const char *type = n->entry ? str(n->entry, "type") : "dir";
	bool del = !strcmp(type, "whiteout") || !strcmp(type, "opaque");
	ims_buf_puts(b, del ? "<li class=\"del\">" : "<li>");
	if (n->n) {
		ims_buf_puts(b, depth < 1 ? "<details open><summary>" : "<details><summary>");
		entry_span(b, n);
		ims_buf_puts(b, "/ <span class=\"sz\">");
		human(b, n->total);
		ims_buf_puts(b, "</span></summary><ul>\n");
		for (size_t i = 0; i < n->n; i++)
			render_node(b, n->kids[i], depth + 1);
		ims_buf_puts(b, "</ul></details>");
	} else {
		entry_span(b, n);
		if (!strcmp(type, "file")) {
			ims_buf_puts(b, " <span class=\"sz\">");
			human(b, n->total);
			ims_buf_puts(b, "</span>");
		} else if (!strcmp(type, "dir")) {
			ims_buf_puts(b, "/");
		}
	}
	ims_buf_puts(b, "</li>\n");
}

static void path_list(ims_buf *b, const ims_json *paths, const char *cls, const char *sign)
{
	for (size_t i = 0; paths && paths->type == IMS_JSON_ARRAY && i < paths->n; i++) {
		ims_buf_printf(b, "<li class=\"%s\"", cls);
		attr(b, "data-path", paths->v[i]->s ? paths->v[i]->s : "");
		ims_buf_printf(b, ">%s ", sign);
		esc(b, paths->v[i]->s);
		ims_buf_puts(b, "</li>\n");
	}
}

static size_t count(const ims_json *arr)
{
	return arr && arr->type == IMS_JSON_ARRAY ? arr->n : 0;
}

static void render_change(ims_buf *b, const ims_json *ch)
{
	const ims_json *a = ims_json_get(ch, "added"), *r = ims_json_get(ch, "removed"),
		       *c = ims_json_get(ch, "changed");
	size_t total = count(a) + count(r) + count(c);
	/* a short list of changes is open at once */
	ims_buf_puts(b, total && total <= 100 ? "<details class=\"changes\" open" : "<details class=\"changes\"");
	attr(b, "data-status", str(ch, "status"));
	attr_num(b, "data-added", (int64_t)count(a));
	attr_num(b, "data-removed", (int64_t)count(r));
	attr_num(b, "data-changed", (int64_t)count(c));
	ims_buf_printf(b, "><summary>Changes: %zu added, %zu removed, %zu changed</summary><ul>\n", count(a), count(r),
		       count(c));
	path_list(b, a, "added", "+");
	path_list(b, r, "removed", "&minus;");
	path_list(b, c, "changed", "~");
	ims_buf_puts(b, "</ul></details>\n");
}

static void render_layer(ims_buf *b, const ims_json *l, int64_t max)
{
	int64_t size = num(l, "size"), index = num(l, "index");
	const ims_json *ch = ims_json_get(l, "change");
	ims_buf_printf(b, "<section class=\"layer\" id=\"layer-%" PRId64 "\"", index);
	attr_num(b, "data-index", index);
	attr(b, "data-digest", str(l, "digest"));
	attr(b, "data-diff-id", str(l, "diffId"));
	attr(b, "data-media-type", str(l, "mediaType"));
	attr_num(b, "data-size", size);
	attr_num(b, "data-entries", num(l, "entries"));
	attr_num(b, "data-bytes", num(l, "bytes"));
	attr(b, "data-source", str(l, "source"));
	if (*str(l, "action"))
		attr(b, "data-action", str(l, "action"));
	if (ch)
		attr(b, "data-change", str(ch, "status"));
	const ims_json *tr = ims_json_get(l, "truncated");
	attr(b, "data-truncated", tr && tr->type == IMS_JSON_BOOL && tr->b ? "true" : "false");
	double pct = max > 0 ? 100.0 * (double)size / (double)max : 0;
	ims_buf_printf(b,
		       ">\n<div class=\"row\"><span class=\"num\">#%" PRId64
		       "</span>"
		       "<span class=\"track\"><span class=\"bar\" style=\"width:%.1f%%\"></span></span>"
		       "<span class=\"sz\">",
		       index + 1, pct < 0.5 && size > 0 ? 0.5 : pct);
	human(b, size);
	ims_buf_puts(b, "</span><span class=\"tag\">");
	esc(b, str(l, "source"));
	ims_buf_puts(b, "</span>");
	if (*str(l, "action")) {
		ims_buf_puts(b, "<span class=\"tag\">");
		esc(b, str(l, "action"));
		ims_buf_puts(b, "</span>");
	}
	if (ch) {
		ims_buf_printf(b, "<span class=\"tag ch-%s\">", str(ch, "status"));
		esc(b, str(ch, "status"));
		ims_buf_puts(b, "</span>");
	}
	ims_buf_puts(b, "</div>\n<div class=\"mono\">");
	esc(b, str(l, "digest"));
	ims_buf_printf(b, "</div>\n<div>%" PRId64 " entries, ", num(l, "entries"));
	human(b, num(l, "bytes"));
	ims_buf_puts(b, " of files");
	if (tr && tr->b)
		ims_buf_puts(b, "; the list is cut short (the report's entry limit)");
	/* a short list is open at once; a long one waits for a click */
	ims_buf_puts(b, num(l, "entries") <= 100 ? "</div>\n<details class=\"files\" open>"
						 : "</div>\n<details class=\"files\">");
	ims_buf_puts(b, "<summary>Files</summary><ul class=\"tree\">\n");
	ims_report_node *root = ims_report_tree(ims_json_get(l, "files"));
	for (size_t i = 0; i < root->n; i++)
		render_node(b, root->kids[i], 0);
	ims_report_tree_free(root);
	ims_buf_puts(b, "</ul></details>\n");
	if (ch)
		render_change(b, ch);
	ims_buf_puts(b, "</section>\n");
}

/* One row of the config table: the value as compact JSON, or as text for strings. */
static void config_row(ims_buf *b, const ims_json *cfg, const char *key)
{
	const ims_json *v = ims_json_get(cfg, key);
	ims_buf_puts(b, "<tr");
	attr(b, "data-key", key);
	ims_buf_puts(b, "><th>");
	esc(b, key);
	ims_buf_puts(b, "</th><td class=\"mono\">");
	if (v && v->type == IMS_JSON_STRING) {
		esc(b, v->s);
	} else if (v && !strcmp(key, "Env") && v->type == IMS_JSON_ARRAY) {
		for (size_t i = 0; i < v->n; i++) {
			ims_buf_puts(b, "<div class=\"env\">");
			esc(b, v->v[i]->s);
			ims_buf_puts(b, "</div>");
		}
	} else if (v && !strcmp(key, "Labels") && v->type == IMS_JSON_OBJECT) {
		for (size_t i = 0; i < v->n; i++) {
			ims_buf_puts(b, "<div class=\"label\"");
			attr(b, "data-name", v->k[i]);
			ims_buf_puts(b, ">");
			esc(b, v->k[i]);
			ims_buf_puts(b, " = ");
			esc(b, v->v[i]->s);
			ims_buf_puts(b, "</div>");
		}
	} else if (v) {
		_cleanup_free_ char *j = ims_json_encode(v, NULL);
		esc(b, j);
	}
	ims_buf_puts(b, "</td></tr>\n");
}

static void render_config(ims_buf *b, const ims_json *r)
{
	const ims_json *cfg = ims_json_get(r, "config");
	ims_buf_puts(b, "<section id=\"config\"><h2>Config</h2>\n<table>\n");
	static const char *const keys[] = { "Entrypoint", "Cmd",          "User",    "WorkingDir", "Env",
					    "Labels",     "ExposedPorts", "Volumes", "StopSignal" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (i < 6 || ims_json_get(cfg, keys[i]))
			config_row(b, cfg, keys[i]);
	ims_buf_puts(b, "</table>\n<h3>History</h3>\n<ol id=\"history\">\n");
	const ims_json *h = ims_json_get(r, "history");
	for (size_t i = 0; i < count(h); i++) {
		const ims_json *e = h->v[i], *empty = ims_json_get(e, "empty_layer");
		ims_buf_puts(b, "<li");
		attr(b, "data-empty-layer", empty && empty->type == IMS_JSON_BOOL && empty->b ? "true" : "false");
		ims_buf_puts(b, "><span class=\"sz\">");
		esc(b, str(e, "created"));
		ims_buf_puts(b, "</span> <code>");
		esc(b, str(e, "created_by"));
		ims_buf_puts(b, "</code> ");
		esc(b, str(e, "comment"));
		ims_buf_puts(b, "</li>\n");
	}
	ims_buf_puts(b, "</ol></section>\n");
}

static void render_removed(ims_buf *b, const ims_json *r)
{
	const ims_json *gone = ims_json_get(r, "removedLayers");
	if (!count(gone))
		return;
	ims_buf_puts(b, "<h3>Layers removed</h3>\n<ul id=\"removed-layers\">\n");
	for (size_t i = 0; i < count(gone); i++) {
		ims_buf_puts(b, "<li class=\"removed\"");
		attr(b, "data-digest", str(gone->v[i], "digest"));
		ims_buf_printf(b, ">#%" PRId64 " ", num(gone->v[i], "index") + 1);
		esc(b, str(gone->v[i], "digest"));
		ims_buf_puts(b, "</li>\n");
	}
	ims_buf_puts(b, "</ul>\n");
}

char *ims_report_html(const ims_json *r, size_t *len)
{
	ims_buf b = IMS_BUF_INIT(0);
	ims_buf_puts(&b,
		     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width\">\n<title>imagespec report: ");
	esc(&b, str(r, "reference"));
	ims_buf_puts(&b, "</title>\n");
	ims_buf_puts(&b, style);
	ims_buf_puts(&b, script);
	const ims_json *layers = ims_json_get(r, "layers");
	int64_t max = 0;
	for (size_t i = 0; i < count(layers); i++)
		if (num(layers->v[i], "size") > max)
			max = num(layers->v[i], "size");
	ims_buf_puts(&b, "</head><body>\n<header id=\"summary\"");
	attr(&b, "data-reference", str(r, "reference"));
	attr(&b, "data-digest", str(r, "digest"));
	attr(&b, "data-media-type", str(r, "mediaType"));
	attr(&b, "data-platform", str(r, "platform"));
	attr_num(&b, "data-layers", (int64_t)count(layers));
	attr_num(&b, "data-size", num(r, "size"));
	ims_buf_puts(&b, "><h1>");
	esc(&b, str(r, "reference"));
	ims_buf_puts(&b, "</h1>\n<div class=\"mono\">");
	esc(&b, str(r, "digest"));
	ims_buf_puts(&b, "</div>\n<div>");
	esc(&b, str(r, "platform"));
	ims_buf_printf(&b, ", %zu layers, ", count(layers));
	human(&b, num(r, "size"));
	ims_buf_puts(&b, " compressed</div>\n");
	const ims_json *against = ims_json_get(r, "against");
	if (against) {
		ims_buf_puts(&b, "<div id=\"against\"");
		attr(&b, "data-reference", str(against, "reference"));
		attr(&b, "data-digest", str(against, "digest"));
		ims_buf_puts(&b, ">Changes against <b>");
		esc(&b, str(against, "reference"));
		ims_buf_puts(&b, "</b> <span class=\"mono\">");
		esc(&b, str(against, "digest"));
		ims_buf_puts(&b, "</span></div>\n");
	}
	ims_buf_puts(&b,
		     "<p><button type=\"button\" onclick=\"imsToggle(true)\">Expand all</button> "
		     "<button type=\"button\" onclick=\"imsToggle(false)\">Collapse all</button></p>\n"
		     "</header>\n<section id=\"layers\"><h2>Layers</h2>\n");
	for (size_t i = 0; i < count(layers); i++)
		render_layer(&b, layers->v[i], max);
	render_removed(&b, r);
	ims_buf_puts(&b, "</section>\n");
	render_config(&b, r);
	ims_buf_puts(&b, "</body></html>\n");
	return ims_buf_steal(&b, len);
}
