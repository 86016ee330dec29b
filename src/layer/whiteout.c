/* The delete/opaque layer (OCI image-spec layer.md, "Whiteouts").
 *
 * Each whiteout is an empty regular file with mode 0, uid and gid 0 and
 * mtime `created`: the metadata of a whiteout is never extracted, so it is
 * fixed rather than taken from `defaults`, and mode 0 is what docker writes.
 * As with files, parents of a whiteout get no entry of their own. */
#include "layer/layer.h"

#include <stdlib.h>
#include <string.h>

#include "layer/lpath.h"
#include "layer/tarw.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

typedef struct {
	char *target; /* the deleted or opaque path, as a tar path */
	char *entry;  /* the whiteout file */
	const ims_layer_val *from;
	bool opaque;
} wh;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const wh *)a)->entry, ((const wh *)b)->entry);
}

/* Deletes sort before an opaque of the same path, so check_nesting sees
 * the clash from the delete. */
static int cmp_target(const void *a, const void *b)
{
	const wh *x = a, *y = b;
	int c = strcmp(x->target, y->target);
	return c ? c : (int)x->opaque - (int)y->opaque;
}

static int make(wh *w, const ims_layer_val *s, bool opaque, ims_error **err)
{
	const char *key = opaque ? "opaque" : "delete";
	const char *where = s->at;
	_cleanup_free_ char *q = ims_lpath_quote(s->s ? s->s : "");
	_cleanup_free_ char *t = ims_lpath_abs_clean(s->s) ? ims_lpath_from_abs(s->s) : NULL;
	if (!t)
		return ims_error_set(err, IMS_EINVALID,
				     "%s`%s` path `%s` must be a clean absolute path (no `.`, `..` or empty components)",
				     where, key, q);
	if (!*t)
		return ims_error_set(err, IMS_EINVALID, "%s`%s` cannot name `/`", where, key);
	if (!ims_lpath_valid(t))
		return ims_error_set(err, IMS_EINVALID, "%s`%s` path `%s` is not valid UTF-8 or has control characters",
				     where, key, q);
	const char *slash = strrchr(t, '/');
	const char *base = slash ? slash + 1 : t;
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		return ims_error_set(err, IMS_EINVALID, "%s`%s` path `%s` is itself a whiteout name", where, key, q);
	if (opaque)
		w->entry = xasprintf("%s/" WH_OPAQUE, t);
	else if (slash)
		w->entry = xasprintf("%.*s/" WH_PREFIX "%s", (int)(slash - t), t, base);
	else
		w->entry = xasprintf(WH_PREFIX "%s", t);
	w->target = steal_pointer(&t);
	w->from = s;
	w->opaque = opaque;
	return 0;
}

/* A deleted path cannot also hold whiteouts below it: the same layer would
 * both remove the directory and write into it. */
static int check_nesting(wh *v, size_t n, ims_error **err)
{
	qsort(v, n, sizeof(*v), cmp_target);
	for (size_t i = 0; i < n; i++) {
		if (v[i].opaque)
			continue;
		size_t l = strlen(v[i].target);
		for (size_t j = i + 1; j < n; j++) {
			if (strncmp(v[j].target, v[i].target, l))
				break; /* paths with this prefix are contiguous */
			if (v[j].target[l] != '/' && (v[j].target[l] || !v[j].opaque))
				continue; /* a sibling like `a-b`, or `a` listed twice */
			return ims_error_set(err, IMS_EINVALID, "%s`/%s` is inside `/%s`, which is deleted",
					     v[j].from->at, v[j].target, v[i].target);
		}
	}
	return 0;
}

int ims_layer_write_whiteouts(const ims_layer_whiteouts *wo, const ims_layer_opts *o, ims_sink *out,
			      ims_layer_result *res, ims_error **err)
{
	size_t ndel = wo->ndel, nop = wo->nopaque, n = 0;
	wh *v = xcalloc(ndel + nop + 1, sizeof(*v));
	ims_tarw *w = NULL;
	int r = 0;

	for (size_t i = 0; i < ndel && r == 0; i++)
		if ((r = make(&v[n], &wo->del[i], false, err)) == 0)
			n++;
	for (size_t i = 0; i < nop && r == 0; i++)
		if ((r = make(&v[n], &wo->opaque[i], true, err)) == 0)
			n++;
	if (r == 0)
		r = check_nesting(v, n, err);
	if (r == 0) {
		qsort(v, n, sizeof(*v), cmp_entry);
		r = ims_tarw_open(&w, o->alg, o->level, o->threads, out, err);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (i > 0 && !strcmp(v[i].entry, v[i - 1].entry))
			continue; /* the same path listed twice */
		ims_tar_entry e = {
			.path = v[i].entry,
			.type = IMS_TAR_FILE,
			.perm = 0,
			.mtime = o->created,
		};
		r = ims_tarw_add(w, &e, NULL, err);
	}
	if (r == 0)
		r = ims_tarw_finish(w, res, err);
	ims_tarw_free(w);
	for (size_t i = 0; i < n; i++) {
		free(v[i].target);
		free(v[i].entry);
	}
	free(v);
	return r;
}
