/* A layer's entries as a tree of names, for the page: entries sorted with
 * '/' before every other byte, so that a directory's contents follow it at
 * once and each name needs comparing with its level's last node only. */
#include "report/tree.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = *a == '/' ? 1 : (unsigned char)*a;
		int cb = *b == '/' ? 1 : (unsigned char)*b;
		if (ca != cb || !ca)
			return ca - cb;
	}
}

static const char *path_of(const ims_json *e)
{
	const char *p = ims_json_get_string(e, "path");
	return p ? p : "";
}

static int by_path(const void *a, const void *b)
{
	return path_cmp(path_of(*(ims_json *const *)a), path_of(*(ims_json *const *)b));
}

static ims_report_node *new_child(ims_report_node *parent, const char *name, size_t len)
{
	ims_report_node *n = xcalloc(1, sizeof(*n));
	n->name = xstrndup(name, len);
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->kids = xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
	}
	parent->kids[parent->n++] = n;
	return n;
}

static void insert(ims_report_node *root, const ims_json *e)
{
	const char *p = path_of(e);
	ims_report_node *cur = root;
	if (!*p) { /* the layer's root directory ("./") */
		cur = new_child(root, ".", 1);
		cur->entry = e;
		return;
	}
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		ims_report_node *last = cur->n ? cur->kids[cur->n - 1] : NULL;
		bool final = !p[len + strspn(p + len, "/")];
		/* the same name again: descend, unless both are entries (a
		 * duplicate, or a directory's opaque marker), which are shown
		 * side by side */
		if (last && strlen(last->name) == len && !memcmp(last->name, p, len) && !(final && last->entry))
			cur = last;
		else
			cur = new_child(cur, p, len);
		p += len;
	}
	cur->entry = e;
}

static int64_t total(ims_report_node *n)
{
	int64_t t = 0;
	if (n->entry)
		ims_json_int(ims_json_get(n->entry, "size"), &t);
	for (size_t i = 0; i < n->n; i++)
		t += total(n->kids[i]);
	return n->total = t;
}

ims_report_node *ims_report_tree(const ims_json *files)
{
	size_t n = files && files->type == IMS_JSON_ARRAY ? files->n : 0;
	const ims_json **v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = files->v[i];
	qsort(v, n, sizeof(*v), by_path);
	ims_report_node *root = xcalloc(1, sizeof(*root));
	root->name = xstrdup("");
	for (size_t i = 0; i < n; i++)
		insert(root, v[i]);
	free(v);
	total(root);
	return root;
}

void ims_report_tree_free(ims_report_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ims_report_tree_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n);
}
