/* What changed between two images, per layer. Layers are matched by
 * position; a layer whose diffId is the one at the same position is
 * "same", one whose diffId sits elsewhere in the other image is "moved",
 * and otherwise its files are compared by path with the layer at the same
 * position ("changed"), or all added when there is none ("added"). Two
 * entries with one path differ when their type, size, mode, owner, link
 * target or content digest differ. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/xalloc.h"

static const char *str(const ims_json *o, const char *key)
{
	const char *s = ims_json_get_string(o, key);
	return s ? s : "";
}

static int by_path(const void *a, const void *b)
{
	return strcmp(str(*(ims_json *const *)a, "path"), str(*(ims_json *const *)b, "path"));
}

/* The layer's entries sorted by path (borrowed pointers); caller frees the array. */
static const ims_json **sorted(const ims_json *layer, size_t *n)
{
	const ims_json *files = layer ? ims_json_get(layer, "files") : NULL;
	*n = files && files->type == IMS_JSON_ARRAY ? files->n : 0;
	const ims_json **v = xcalloc(*n ? *n : 1, sizeof(*v));
	for (size_t i = 0; i < *n; i++)
		v[i] = files->v[i];
	qsort(v, *n, sizeof(*v), by_path);
	return v;
}

static bool same_entry(const ims_json *a, const ims_json *b)
{
	static const char *const strs[] = { "type", "link", "digest" };
	static const char *const ints[] = { "size", "mode", "uid", "gid" };
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		if (strcmp(str(a, strs[i]), str(b, strs[i])))
			return false;
	for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++) {
		int64_t x = -1, y = -1;
		ims_json_int(ims_json_get(a, ints[i]), &x);
		ims_json_int(ims_json_get(b, ints[i]), &y);
		if (x != y)
			return false;
	}
	return true;
}

static void add_path(ims_json *arr, const ims_json *entry)
{
	ims_json_append(arr, ims_json_new_string(str(entry, "path")));
}

/* Merges the two sorted lists into added, removed and changed. */
static void compare_files(ims_json *change, const ims_json *now, const ims_json *before)
{
	size_t na, nb;
	const ims_json **a = sorted(now, &na), **b = sorted(before, &nb);
	ims_json *added = ims_json_new_array(), *removed = ims_json_new_array(), *changed = ims_json_new_array();
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(str(a[i], "path"), str(b[j], "path"));
		if (c < 0) {
			add_path(added, a[i++]);
		} else if (c > 0) {
			add_path(removed, b[j++]);
		} else {
			if (!same_entry(a[i], b[j]))
				add_path(changed, a[i]);
			i++;
			j++;
		}
	}
	ims_json_set(change, "added", added);
	ims_json_set(change, "removed", removed);
	ims_json_set(change, "changed", changed);
	free(a);
	free(b);
}

static const ims_json *layer_at(const ims_json *layers, size_t i)
{
	return layers && layers->type == IMS_JSON_ARRAY && i < layers->n ? layers->v[i] : NULL;
}

static bool has_diff_id(const ims_json *layers, const char *diff_id)
{
	for (size_t i = 0; layers && layers->type == IMS_JSON_ARRAY && i < layers->n; i++)
		if (*diff_id && !strcmp(str(layers->v[i], "diffId"), diff_id))
			return true;
	return false;
}

void ims_report_compare(ims_json *now, const ims_json *before)
{
	ims_json *against = ims_json_new_object();
	ims_json_set(against, "reference", ims_json_new_string(str(before, "reference")));
	ims_json_set(against, "digest", ims_json_new_string(str(before, "digest")));
	ims_json_set(now, "against", against);
	ims_json *layers = ims_json_get(now, "layers");
	const ims_json *old = ims_json_get(before, "layers");
	size_t n = layers && layers->type == IMS_JSON_ARRAY ? layers->n : 0;
	for (size_t i = 0; i < n; i++) {
		ims_json *l = layers->v[i];
		const ims_json *o = layer_at(old, i);
		const char *diff_id = str(l, "diffId");
		const char *status = "changed";
		if (o && *diff_id && !strcmp(diff_id, str(o, "diffId")))
			status = "same";
		else if (has_diff_id(old, diff_id))
			status = "moved";
		else if (!o)
			status = "added";
		ims_json *change = ims_json_new_object();
		ims_json_set(change, "status", ims_json_new_string(status));
		if (!strcmp(status, "same") || !strcmp(status, "moved"))
			compare_files(change, NULL, NULL);
		else
			compare_files(change, l, o);
		ims_json_set(l, "change", change);
	}
	ims_json *gone = ims_json_new_array();
	for (size_t i = n; layer_at(old, i); i++) {
		const ims_json *o = layer_at(old, i);
		ims_json *g = ims_json_new_object();
		static const char *const keys[] = { "index", "digest", "diffId", "size", "entries" };
		for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
			const ims_json *v = ims_json_get(o, keys[k]);
			ims_json_set(g, keys[k], v ? ims_json_clone(v) : ims_json_new_null());
		}
		ims_json_append(gone, g);
	}
	ims_json_set(now, "removedLayers", gone);
}
