/* ims_layer_write_files: the `files:` layer and `layers[].files`.
 *
 * Two passes. The first gathers every entry's metadata from the mappings,
 * in order (layer/walk.c for `src`); the list is then sorted by tar path,
 * merged and checked (layer/entries.c). The second streams the entries
 * through the tar writer, opening each source file again beneath the source
 * directory and checking it is the one that was seen. */
#include "layer/layer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/entries.h"
#include "layer/lpath.h"
#include "layer/walk.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fanout.h"
#include "util/xalloc.h"

static ims_fattrs cascade(const ims_layer_attrs *d, const ims_layer_attrs *m, int64_t created)
{
	ims_fattrs a = { .mtime = created };
	const ims_layer_attrs *layers[] = { d, m };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(layers); i++) {
		const ims_layer_attrs *x = layers[i];
		if (x->has_mode)
			a.has_mode = true, a.mode = x->mode;
		if (x->has_dir_mode)
			a.has_dir_mode = true, a.dir_mode = x->dir_mode;
		if (x->has_uid)
			a.uid = x->uid;
		if (x->has_gid)
			a.gid = x->gid;
		if (x->has_mtime)
			a.mtime = x->mtime;
	}
	return a;
}

/* dest as a tar path, refusing what could escape `/` or plant a whiteout
 * (anchors-reliability.md items 10 and 11). */
static int dest_path(const ims_layer_mapping *m, char **out, ims_error **err)
{
	const char *where = m->dest.at;
	const char *d = m->dest.s;
	if (!d || !*d)
		return ims_error_set(err, IMS_EINVALID, "%sthe mapping has no `dest`", where);
	_cleanup_free_ char *q = ims_lpath_quote(d);
	_cleanup_free_ char *p = ims_lpath_abs_clean(d) ? ims_lpath_from_abs(d) : NULL;
	if (!p)
		return ims_error_set(err, IMS_EINVALID,
				     "%s`dest` `%s` must be a clean absolute path (no `.`, `..` or empty components)",
				     where, q);
	if (*p && !ims_lpath_valid(p))
		return ims_error_set(err, IMS_EINVALID, "%s`dest` `%s` must be UTF-8 without control characters", where,
				     q);
	for (const char *c = p; *c;) {
		if (!strncmp(c, ".wh.", 4))
			return ims_error_set(err, IMS_EINVALID, "%s`dest` `%s` has a whiteout name (`.wh.*`)", where, q);
		const char *s = strchr(c, '/');
		c = s ? s + 1 : c + strlen(c);
	}
	size_t l = strlen(d);
	if (m->kind != IMS_MAP_COPY && (!*p || d[l - 1] == '/'))
		return ims_error_set(err, IMS_EINVALID, "%s`dest` `%s` must name a %s, not a directory", where, q,
				     m->kind == IMS_MAP_DIR ? "directory below `/`" : m->kind == IMS_MAP_SYMLINK ? "symlink" : "file");
	*out = steal_pointer(&p);
	return 0;
}

static void add_inline(ims_fents *l, size_t idx, const ims_layer_mapping *m, const ims_fattrs *a, char *path)
{
	ims_fent *e = ims_fents_add(l, idx);
	e->path = path;
	e->uid = a->uid;
	e->gid = a->gid;
	e->mtime = a->mtime;
	switch (m->kind) {
	case IMS_MAP_CONTENT:
		e->type = IMS_TAR_FILE;
		e->perm = a->has_mode ? a->mode : 0644;
		e->mem = m->content ? m->content : "";
		e->size = m->content ? (int64_t)m->content_len : 0;
		break;
	case IMS_MAP_SYMLINK:
		e->type = IMS_TAR_SYMLINK;
		e->perm = 0777;
		e->linkname = xstrdup(m->symlink.s);
		break;
	default:
		e->type = IMS_TAR_DIR;
		/* `mode` on a `type: dir` mapping means the directory's mode. */
		e->perm = m->attrs.has_dir_mode ? m->attrs.dir_mode
			: m->attrs.has_mode   ? m->attrs.mode
			: a->has_dir_mode     ? a->dir_mode
					      : 0755;
		break;
	}
}

typedef struct {
	int rootfd;
	char *root_abs;
} specdir;

static int open_source_dir(specdir *sd, const ims_layer_opts *o, ims_error **err)
{
	if (sd->rootfd >= 0)
		return 0;
	const char *dir = o->source_dir && *o->source_dir ? o->source_dir : ".";
	sd->rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sd->rootfd < 0)
		return ims_error_sys(err, errno, IMS_ENOTFOUND, "open the spec directory `%s`", dir);
	sd->root_abs = realpath(dir, NULL);
	return 0;
}

static int add_mapping(ims_fents *l, size_t idx, const ims_layer_mapping *m, const ims_layer_opts *o, specdir *sd,
		       ims_error **err)
{
	ims_fattrs a = cascade(&o->defaults, &m->attrs, o->created);
	char *path = NULL;
	int r = dest_path(m, &path, err);
	if (r < 0)
		return r;
	if (m->kind == IMS_MAP_SYMLINK && (!m->symlink.s || !*m->symlink.s ||
					   !ims_lpath_name_ok(m->symlink.s, strlen(m->symlink.s)))) {
		free(path);
		return ims_error_set(err, IMS_EINVALID,
				     "%s`symlink` must be a non-empty UTF-8 text without control characters", m->symlink.at);
	}
	if (m->kind != IMS_MAP_COPY) {
		add_inline(l, idx, m, &a, path);
		return 0;
	}
	if ((r = open_source_dir(sd, o, err)) < 0) {
		free(path);
		return r;
	}
	ims_copy_ctx c = {
		.rootfd = sd->rootfd,
		.root_abs = sd->root_abs,
		.o = o,
		.m = m,
		.mapping = idx,
		.dest = path,
		.attrs = a,
		.out = l,
	};
	r = ims_layer_copy(&c, err);
	free(path);
	return r;
}

struct ims_layer_files {
	ims_fents l;
	specdir sd;
	const ims_layer_opts *o;
};

void ims_layer_files_free(ims_layer_files *lf)
{
	if (!lf)
		return;
	ims_fents_dispose(&lf->l);
	if (lf->sd.rootfd >= 0)
		close(lf->sd.rootfd);
	free(lf->sd.root_abs);
	free(lf);
}

int ims_layer_files_prepare(ims_layer_files **out, const ims_layer_mapping *maps, size_t n, const ims_layer_opts *o,
			    ims_error **err)
{
	ims_layer_files *lf = xcalloc(1, sizeof(*lf));
	lf->sd.rootfd = -1;
	lf->o = o;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_mapping(&lf->l, i, &maps[i], o, &lf->sd, err);
	if (r == 0)
		r = ims_fents_finalize(&lf->l, maps, err);
	if (r < 0) {
		ims_layer_files_free(lf);
		return r;
	}
	*out = lf;
	return 0;
}

void ims_layer_files_rebind(ims_layer_files *lf, const ims_layer_opts *o)
{
	lf->o = o;
}

size_t ims_layer_files_known(ims_layer_files *lf, const ims_layer_hashes *h, size_t *unseen)
{
	return ims_fents_known(&lf->l, h, unseen);
}

int ims_layer_files_hash(ims_layer_files *lf, const ims_layer_hashes *h, ims_error **err)
{
	return ims_fents_hash(&lf->l, lf->sd.rootfd, lf->o, h, err);
}

int ims_layer_files_describe(const ims_layer_files *lf, ims_sink *out, ims_error **err)
{
	return ims_fents_describe(&lf->l, out, err);
}

int ims_layer_files_write(ims_layer_files *lf, const ims_layer_hashes *h, ims_sink *out, ims_layer_result *res,
			  ims_error **err)
{
	ims_fents_known(&lf->l, NULL, NULL); /* inline content */
	return ims_fents_write(&lf->l, lf->sd.rootfd, lf->o, h, out, res, err);
}

bool ims_layer_files_unchanged(const ims_layer_files *lf)
{
	for (size_t i = 0; i < lf->l.n; i++) {
		const ims_fent *e = &lf->l.v[i];
		if (e->type == IMS_TAR_FILE && e->canon && e->changed)
			return false;
	}
	return true;
}

int ims_layer_write_files(const ims_layer_mapping *maps, size_t n, const ims_layer_opts *o, ims_sink *out,
			  ims_layer_result *res, ims_error **err)
{
	ims_layer_files *lf = NULL;
	int r = ims_layer_files_prepare(&lf, maps, n, o, err);
	if (r == 0)
		r = ims_layer_files_write(lf, NULL, out, res, err);
	ims_layer_files_free(lf);
	return r;
}
