/* The new layers of a build, in the layer writer's terms: layers[] in
 * order, then the `files:` layer, then the whiteout layer. Every value a
 * message may name keeps where it was written. */
#include <stdlib.h>
#include <string.h>

#include "plan/plan_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

const char *ims_plan_at(ims_plan *p, const ims_spec_model *m, ims_pos pos)
{
	if (pos.line <= 0 || !m->path)
		return "";
	return ims_plan_printf(p, "%s:%d:%d: ", m->path, pos.line, pos.col > 0 ? pos.col : 1);
}

const char *const *ims_plan_strv(ims_plan *p, const ims_strlist *l, size_t *n)
{
	const char **v = ims_plan_own(p, xcalloc(l->n + 1, sizeof(char *)));
	for (size_t i = 0; i < l->n; i++)
		v[i] = l->v[i].s;
	*n = l->n;
	return v;
}

/* A string with where it stood; a value without a position of its own is
 * reported where its mapping is. */
static ims_layer_val val(ims_plan *p, const ims_spec_model *m, const ims_str *s, ims_pos fallback)
{
	return (ims_layer_val){ s->s, ims_plan_at(p, m, s->pos.line ? s->pos : fallback) };
}

static const ims_layer_val *vals(ims_plan *p, const ims_spec_model *m, const ims_strlist *l, size_t *n)
{
	ims_layer_val *v = ims_plan_own(p, xcalloc(l->n + 1, sizeof(*v)));
	for (size_t i = 0; i < l->n; i++)
		v[i] = val(p, m, &l->v[i], l->pos);
	*n = l->n;
	return v;
}

/* s with every `$` doubled: a plain value in a per-platform step's
 * templates (ims_plan_platform_expand undoes it). Owned by p. */
static const char *esc(ims_plan *p, const char *s)
{
	if (!s || !strchr(s, '$'))
		return s;
	ims_buf b = IMS_BUF_INIT(0);
	for (; *s; s++)
		ims_buf_add(&b, *s == '$' ? "$$" : s, *s == '$' ? 2 : 1, NULL);
	return ims_plan_own(p, ims_buf_steal(&b, NULL));
}

/* A src, archive or url as a template in a per-platform step. */
static const char *tmpl(ims_plan *p, const ims_str *v, bool per_platform)
{
	return per_platform && !v->platform ? esc(p, v->s) : v->s;
}

static bool names_platform(const ims_file_spec *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].kind == IMS_FILE_COPY && f[i].src.platform)
			return true;
	return false;
}

static void merge_attrs(ims_layer_attrs *dst, const ims_attrs *over)
{
	if (over->has_mode)
		dst->has_mode = true, dst->mode = over->mode;
	if (over->has_dir_mode)
		dst->has_dir_mode = true, dst->dir_mode = over->dir_mode;
	if (over->has_uid)
		dst->has_uid = true, dst->uid = over->uid;
	if (over->has_gid)
		dst->has_gid = true, dst->gid = over->gid;
	if (over->has_mtime)
		dst->has_mtime = true, dst->mtime = over->mtime;
}

static ims_layer_mapping *maps_of(ims_plan *p, const ims_spec_model *m, const ims_file_spec *f, size_t n,
				  bool per_platform)
{
	ims_layer_mapping *v = ims_plan_own(p, xcalloc(n + 1, sizeof(*v)));
	for (size_t i = 0; i < n; i++) {
		ims_layer_mapping *o = &v[i];
		static const ims_map_kind kinds[] = {
			[IMS_FILE_COPY] = IMS_MAP_COPY,
			[IMS_FILE_CONTENT] = IMS_MAP_CONTENT,
			[IMS_FILE_SYMLINK] = IMS_MAP_SYMLINK,
			[IMS_FILE_DIR] = IMS_MAP_DIR,
		};
		o->kind = kinds[f[i].kind];
		o->at = ims_plan_at(p, m, f[i].pos);
		o->src = val(p, m, &f[i].src, f[i].pos);
		o->src.s = tmpl(p, &f[i].src, per_platform);
		o->dest = val(p, m, &f[i].dest, f[i].pos);
		o->symlink = val(p, m, &f[i].symlink, f[i].pos);
		o->include = ims_plan_strv(p, &f[i].include, &o->ninclude);
		o->exclude = ims_plan_strv(p, &f[i].exclude, &o->nexclude);
		o->ignore_files = vals(p, m, &f[i].ignore_files, &o->nignore_files);
		o->follow_symlinks = f[i].symlinks == IMS_SYMLINKS_FOLLOW;
		o->content = f[i].content;
		o->content_len = f[i].content_len;
		merge_attrs(&o->attrs, &f[i].attrs);
	}
	return v;
}

static void compression(const ims_compression *top, const ims_compression *layer, ims_step *s)
{
	const ims_compression *c = (layer && layer->algorithm != IMS_COMPRESS_DEFAULT) ? layer : top;
	s->level = c->level;
	switch (c->algorithm) {
	case IMS_COMPRESS_ZSTD:
		s->alg = IMS_LAYER_ALG_ZSTD;
		break;
	case IMS_COMPRESS_NONE:
		s->alg = IMS_LAYER_ALG_NONE;
		break;
	default:
		s->alg = IMS_LAYER_ALG_GZIP;
		break;
	}
}

static char *files_summary(ims_plan *p, const ims_file_spec *f, size_t n, bool t)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < n; i++) {
		if (i == 3) {
			ims_buf_printf(&b, " and %zu more", n - 3);
			break;
		}
		if (i)
			ims_buf_puts(&b, ", ");
		switch (f[i].kind) {
		case IMS_FILE_COPY:
			ims_buf_printf(&b, "%s → %s", tmpl(p, &f[i].src, t), t ? esc(p, f[i].dest.s) : f[i].dest.s);
			break;
		case IMS_FILE_CONTENT:
			ims_buf_printf(&b, "content → %s", t ? esc(p, f[i].dest.s) : f[i].dest.s);
			break;
		case IMS_FILE_SYMLINK:
			ims_buf_printf(&b, "%s → %s (symlink)", t ? esc(p, f[i].dest.s) : f[i].dest.s,
				       t ? esc(p, f[i].symlink.s) : f[i].symlink.s);
			break;
		case IMS_FILE_DIR:
			ims_buf_printf(&b, "dir %s", t ? esc(p, f[i].dest.s) : f[i].dest.s);
			break;
		}
	}
	return ims_buf_steal(&b, NULL);
}

static ims_step *add_step(ims_plan *p)
{
	p->steps = xrealloc(p->steps, (p->nsteps + 1) * sizeof(*p->steps));
	ims_step *s = &p->steps[p->nsteps++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void files_step(ims_plan *p, const ims_spec_model *m, ims_step *s, const ims_file_spec *f, size_t n)
{
	s->kind = IMS_STEP_FILES;
	s->per_platform = names_platform(f, n);
	s->maps = maps_of(p, m, f, n, s->per_platform);
	s->nmaps = n;
	_cleanup_free_ char *sum = files_summary(p, f, n, s->per_platform);
	s->created_by = xasprintf("imagespec: files %s", sum);
}

static void archive_step(ims_plan *p, const ims_spec_model *m, ims_step *s, const ims_layer_spec *l)
{
	ims_layer_archive *a = &s->archive;
	a->dest = l->dest.s;
	if (l->include.set && l->include.n)
		a->include = ims_plan_strv(p, &l->include, &a->ninclude);
	a->strip_components = l->strip_components;
	a->sha256 = l->sha256.s && *l->sha256.s ? l->sha256.s : NULL;
	bool t = s->per_platform = l->kind == IMS_LAYER_URL ? l->url.platform : l->archive.platform;
	if (l->sha256_by_platform.n) {
		ims_plan_kv *kv = ims_plan_own(p, xcalloc(l->sha256_by_platform.n, sizeof(*kv)));
		for (size_t i = 0; i < l->sha256_by_platform.n; i++)
			kv[i] = (ims_plan_kv){ l->sha256_by_platform.v[i].key.s, l->sha256_by_platform.v[i].value.s };
		s->sha256s = kv;
		s->nsha256s = l->sha256_by_platform.n;
	}
	const char *dest = l->dest.s ? (t ? esc(p, l->dest.s) : l->dest.s) : "/";
	if (l->kind == IMS_LAYER_URL) {
		s->kind = IMS_STEP_URL;
		s->url = l->url.s;
		a->shown = l->url.s;
		s->created_by = xasprintf("imagespec: url %s → %s", l->url.s, dest);
	} else {
		s->kind = IMS_STEP_ARCHIVE;
		a->shown = l->archive.s;
		if (!t)
			s->archive_path = ims_path_absolute(m->dir, l->archive.s);
		s->created_by = xasprintf("imagespec: archive %s → %s", l->archive.s, dest);
	}
}

static void blob_step(ims_step *s, const ims_layer_spec *l)
{
	s->kind = IMS_STEP_BLOB;
	s->blob.digest = xstrdup(l->digest.s);
	s->blob.diff_id = xstrdup(l->diff_id.s);
	s->blob.size = l->size;
	s->blob.media_type = l->media_type.s ? xstrdup(l->media_type.s) : NULL;
	s->blob.urls = xcalloc(l->urls.n + 1, sizeof(char *));
	for (size_t i = 0; i < l->urls.n; i++)
		s->blob.urls[i] = xstrdup(l->urls.v[i].s);
	s->blob.nurls = l->urls.n;
	s->created_by = xasprintf("imagespec: layer %s", l->digest.s);
}

/* Is path at or under dir? Both absolute and clean; trailing '/' ignored. */
static bool at_or_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1)
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static bool files_reach(const ims_file_spec *f, size_t n, const char *dir)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].dest.s && at_or_under(f[i].dest.s, dir))
			return true;
	return false;
}

/* Does a new layer put something at or under dir, so that the directory
 * exists once the layers are unpacked? */
static bool layers_reach(const ims_spec_model *m, const char *dir)
{
	if (files_reach(m->files, m->nfiles, dir))
		return true;
	for (size_t i = 0; i < m->nlayers; i++) {
		const ims_layer_spec *l = &m->layers[i];
		if (l->kind == IMS_LAYER_FILES && files_reach(l->files, l->nfiles, dir))
			return true;
		if ((l->kind == IMS_LAYER_ARCHIVE || l->kind == IMS_LAYER_URL) && l->dest.s &&
		    at_or_under(l->dest.s, dir) && strcmp(l->dest.s, "/"))
			return true;
	}
	return false;
}

/* `user` as "UID" or "UID:GID" in numbers; a UID alone is the GID too, as
 * docker's --chown takes it. False for names, which need the image's
 * /etc/passwd. */
static bool numeric_user(const char *u, int64_t *uid, int64_t *gid)
{
	size_t nu = strspn(u, "0123456789");
	if (!nu || nu > 9 || (u[nu] && u[nu] != ':'))
		return false;
	*uid = *gid = strtoll(u, NULL, 10);
	if (!u[nu])
		return true;
	const char *g = u + nu + 1;
	size_t ng = strspn(g, "0123456789");
	if (!ng || ng > 9 || g[ng])
		return false;
	*gid = strtoll(g, NULL, 10);
	return true;
}

/* `workingDir` exists in the image, as a Dockerfile WORKDIR makes it: a
 * layer of its own with the directory (0755, owned by a numeric `user`,
 * as BuildKit does), first among the new layers so that an entry the spec
 * declares for it wins. Not needed when a new layer writes at or under it. */
static void workdir_step(ims_plan *p, const ims_spec_model *m)
{
	const char *wd = m->working_dir.s;
	if (!wd || at_or_under("/", wd) || layers_reach(m, wd))
		return;
	ims_step *s = add_step(p);
	s->kind = IMS_STEP_FILES;
	s->at = ims_plan_at(p, m, m->working_dir.pos);
	compression(&m->compression, NULL, s);
	if (m->defaults.has_mtime)
		s->defaults.has_mtime = true, s->defaults.mtime = m->defaults.mtime;
	ims_layer_mapping *o = ims_plan_own(p, xcalloc(2, sizeof(*o)));
	o->kind = IMS_MAP_DIR;
	o->at = s->at;
	o->dest = (ims_layer_val){ wd, s->at };
	o->attrs.has_dir_mode = true;
	o->attrs.dir_mode = 0755;
	int64_t uid = 0, gid = 0;
	if (m->user.s)
		numeric_user(m->user.s, &uid, &gid);
	o->attrs.has_uid = o->attrs.has_gid = true;
	o->attrs.uid = uid;
	o->attrs.gid = gid;
	s->maps = o;
	s->nmaps = 1;
	s->created_by = xasprintf("imagespec: workingDir %s", wd);
}

void ims_plan_steps(ims_plan *p, const ims_spec_model *m)
{
	workdir_step(p, m);
	for (size_t i = 0; i < m->nlayers; i++) {
		const ims_layer_spec *l = &m->layers[i];
		ims_step *s = add_step(p);
		s->at = ims_plan_at(p, m, l->pos);
		/* archives keep their entries' owners and modes: only the layer's
		 * own defaults override them, never the top-level file defaults */
		if (l->kind != IMS_LAYER_ARCHIVE && l->kind != IMS_LAYER_URL)
			merge_attrs(&s->defaults, &m->defaults);
		merge_attrs(&s->defaults, &l->defaults);
		compression(&m->compression, &l->compression, s);
		s->comment = l->name.s ? xstrdup(l->name.s) : NULL;
		switch (l->kind) {
		case IMS_LAYER_FILES:
			files_step(p, m, s, l->files, l->nfiles);
			break;
		case IMS_LAYER_ARCHIVE:
		case IMS_LAYER_URL:
			archive_step(p, m, s, l);
			break;
		case IMS_LAYER_BLOB:
			blob_step(s, l);
			break;
		}
	}
	if (m->nfiles) {
		ims_step *s = add_step(p);
		s->at = ims_plan_at(p, m, m->files_pos);
		merge_attrs(&s->defaults, &m->defaults);
		compression(&m->compression, NULL, s);
		files_step(p, m, s, m->files, m->nfiles);
	}
	if (m->delete_paths.n || m->opaque.n) {
		ims_step *s = add_step(p);
		s->kind = IMS_STEP_WHITEOUT;
		s->at = ims_plan_at(p, m, m->delete_paths.n ? m->delete_paths.pos : m->opaque.pos);
		merge_attrs(&s->defaults, &m->defaults);
		compression(&m->compression, NULL, s);
		s->whiteouts.del = vals(p, m, &m->delete_paths, &s->whiteouts.ndel);
		s->whiteouts.opaque = vals(p, m, &m->opaque, &s->whiteouts.nopaque);
		s->created_by = xasprintf("imagespec: delete %zu path(s), %zu opaque dir(s)", m->delete_paths.n,
					  m->opaque.n);
	}
}
