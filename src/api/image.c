/* The seed library's Image class: each call edits an in-memory spec model;
 * save() plans and runs it as `imagespec build` would. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "digest/digest.h"
#include "exec/exec.h"
#include "exec/session.h"
#include "imagespec/image.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

struct ims_image {
	ims_context *ctx;
	ims_spec *spec;
	ims_json *config_override;
};

static ims_str mkstr(const char *s)
{
	ims_str r = { s ? xstrdup(s) : NULL, { 0, 0 } };
	return r;
}

static void strlist_set(ims_strlist *l, const char *const *v, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	l->v = xcalloc(n + 1, sizeof(ims_str));
	for (size_t i = 0; i < n; i++)
		l->v[i] = mkstr(v[i]);
	l->n = n;
	l->set = true;
}

static void strlist_add(ims_strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(ims_str));
	l->v[l->n++] = mkstr(s);
	l->set = true;
}

static void kv_put(ims_kvlist *l, const char *k, const char *v)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i].key.s, k)) {
			free(l->v[i].value.s);
			l->v[i].value = mkstr(v);
			return;
		}
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(ims_kv));
	l->v[l->n].key = mkstr(k);
	l->v[l->n].value = mkstr(v);
	l->n++;
	l->set = true;
}

static ims_layer_spec *new_layer(ims_image *img, ims_layer_kind kind)
{
	ims_spec_model *m = img->spec->m;
	m->layers = xrealloc(m->layers, (m->nlayers + 1) * sizeof(*m->layers));
	ims_layer_spec *l = &m->layers[m->nlayers++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->compression.level = -1;
	return l;
}

static bool has_dotdot(const char *p)
{
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	return false;
}

static int check_abs(const char *what, const char *p, ims_error **err)
{
	if (!p || p[0] != '/')
		return ims_error_set(err, IMS_EINVALID, "%s `%s` must be an absolute path", what, p ? p : "");
	if (has_dotdot(p))
		return ims_error_set(err, IMS_EINVALID, "%s `%s` may not contain `..`", what, p);
	return 0;
}

int ims_image_new(ims_image **out, ims_context *ctx, const char *base, ims_error **err)
{
	ims_ref *ref = NULL;
	int r = ims_ref_parse(&ref, base, err);
	if (r < 0)
		return ims_error_wrap(err, "base");
	ims_ref_free(ref);
	ims_image *img = xcalloc(1, sizeof(*img));
	img->ctx = ctx;
	img->spec = xcalloc(1, sizeof(*img->spec));
	ims_spec_model *m = xcalloc(1, sizeof(*m));
	img->spec->m = m;
	m->path = xstrdup("<api>");
	m->dir = ims_path_absolute(NULL, ".");
	m->base = mkstr(base);
	m->sync_copy_remote_layers = true;
	m->compression.level = -1;
	*out = img;
	return 0;
}

void ims_image_free(ims_image *img)
{
	if (!img)
		return;
	ims_spec_free(img->spec);
	ims_json_free(img->config_override);
	free(img);
}

int ims_image_add_files(ims_image *img, const ims_image_file *files, size_t n, ims_error **err)
{
	for (size_t i = 0; i < n; i++) {
		if (!files[i].src || !*files[i].src)
			return ims_error_set(err, IMS_EINVALID, "file %zu has no src", i);
		int r = check_abs("dest", files[i].dest, err);
		if (r < 0)
			return r;
		if (files[i].src[0] == '/')
			return ims_error_set(err, IMS_EINVALID, "src `%s` must be relative to the working directory",
					     files[i].src);
		if (has_dotdot(files[i].src))
			return ims_error_set(err, IMS_EINVALID, "src `%s` leaves the working directory", files[i].src);
	}
	ims_layer_spec *l = new_layer(img, IMS_LAYER_FILES);
	l->files = xcalloc(n + 1, sizeof(ims_file_spec));
	l->nfiles = n;
	for (size_t i = 0; i < n; i++) {
		const ims_image_file *f = &files[i];
		ims_file_spec *fs = &l->files[i];
		fs->kind = IMS_FILE_COPY;
		fs->src = mkstr(f->src);
		fs->dest = mkstr(f->dest);
		strlist_set(&fs->exclude, f->exclude, f->nexclude);
		fs->exclude.set = f->nexclude > 0;
		strlist_set(&fs->include, f->include, f->ninclude);
		fs->include.set = f->ninclude > 0;
		strlist_set(&fs->ignore_files, f->ignore_files, f->nignore_files);
		fs->ignore_files.set = f->nignore_files > 0;
		fs->symlinks = f->follow_symlinks ? IMS_SYMLINKS_FOLLOW : IMS_SYMLINKS_PRESERVE;
		if (f->mode >= 0)
			fs->attrs.has_mode = true, fs->attrs.mode = (uint32_t)f->mode & 07777;
		if (f->dir_mode >= 0)
			fs->attrs.has_dir_mode = true, fs->attrs.dir_mode = (uint32_t)f->dir_mode & 07777;
		if (f->uid >= 0)
			fs->attrs.has_uid = true, fs->attrs.uid = f->uid;
		if (f->gid >= 0)
			fs->attrs.has_gid = true, fs->attrs.gid = f->gid;
	}
	return 0;
}

int ims_image_add_custom_files(ims_image *img, const ims_image_custom_file *files, size_t n, ims_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = check_abs("dest", files[i].dest, err);
		if (r < 0)
			return r;
		if (files[i].kind == IMS_CUSTOM_SYMLINK && (!files[i].link_path || !*files[i].link_path))
			return ims_error_set(err, IMS_EINVALID, "symlink `%s` has no target", files[i].dest);
	}
	ims_layer_spec *l = new_layer(img, IMS_LAYER_FILES);
	l->files = xcalloc(n + 1, sizeof(ims_file_spec));
	l->nfiles = n;
	for (size_t i = 0; i < n; i++) {
		const ims_image_custom_file *f = &files[i];
		ims_file_spec *fs = &l->files[i];
		fs->dest = mkstr(f->dest);
		switch (f->kind) {
		case IMS_CUSTOM_FILE:
			fs->kind = IMS_FILE_CONTENT;
			fs->content = xmemdup(f->data ? f->data : "", f->size);
			fs->content_len = f->size;
			break;
		case IMS_CUSTOM_DIR:
			fs->kind = IMS_FILE_DIR;
			break;
		case IMS_CUSTOM_SYMLINK:
			fs->kind = IMS_FILE_SYMLINK;
			fs->symlink = mkstr(f->link_path);
			break;
		}
		if (f->mode >= 0) {
			fs->attrs.has_mode = true, fs->attrs.mode = (uint32_t)f->mode & 07777;
			fs->attrs.has_dir_mode = true, fs->attrs.dir_mode = (uint32_t)f->mode & 07777;
		}
		if (f->uid >= 0)
			fs->attrs.has_uid = true, fs->attrs.uid = f->uid;
		if (f->gid >= 0)
			fs->attrs.has_gid = true, fs->attrs.gid = f->gid;
		if (f->mtime >= 0)
			fs->attrs.has_mtime = true, fs->attrs.mtime = f->mtime;
	}
	return 0;
}

int ims_image_add_layer(ims_image *img, const char *digest, const char *diff_id, long long size,
			const char *media_type, const char *const *urls, size_t nurls, ims_error **err)
{
	int r;
	if ((r = ims_digest_check(digest, "layer digest", err)) < 0 ||
	    (r = ims_digest_check(diff_id, "layer diffId", err)) < 0)
		return r;
	if (size <= 0)
		return ims_error_set(err, IMS_EINVALID, "layer size must be positive");
	ims_layer_spec *l = new_layer(img, IMS_LAYER_BLOB);
	l->digest = mkstr(digest);
	l->diff_id = mkstr(diff_id);
	l->size = size;
	l->media_type = mkstr(media_type);
	strlist_set(&l->urls, urls, nurls);
	return 0;
}

int ims_image_remove_layer(ims_image *img, const char *digest, ims_error **err)
{
	int r = ims_digest_check(digest, "layer digest", err);
	if (r < 0)
		return r;
	strlist_add(&img->spec->m->remove_layers, digest);
	return 0;
}

static int set_argv(ims_strlist *l, bool *null_flag, const char *const *argv, size_t argc, ims_error **err)
{
	for (size_t i = 0; i < argc; i++)
		if (!argv[i])
			return ims_error_set(err, IMS_EINVALID, "argument %zu is NULL", i);
	strlist_set(l, argv, argc);
	*null_flag = false;
	return 0;
}

int ims_image_set_cmd(ims_image *img, const char *const *argv, size_t argc, ims_error **err)
{
	return set_argv(&img->spec->m->cmd, &img->spec->m->cmd_null, argv, argc, err);
}

int ims_image_set_entrypoint(ims_image *img, const char *const *argv, size_t argc, ims_error **err)
{
	return set_argv(&img->spec->m->entrypoint, &img->spec->m->entrypoint_null, argv, argc, err);
}

int ims_image_set_env(ims_image *img, const char *name, const char *value, ims_error **err)
{
	if (!name || !*name || strchr(name, '='))
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid environment variable name", name ? name : "");
	kv_put(&img->spec->m->env, name, value);
	return 0;
}

static void set_str(ims_str *s, const char *v)
{
	free(s->s);
	*s = mkstr(v);
}

int ims_image_set_working_dir(ims_image *img, const char *dir, ims_error **err)
{
	int r = check_abs("workingDir", dir, err);
	if (r < 0)
		return r;
	set_str(&img->spec->m->working_dir, dir);
	return 0;
}

int ims_image_set_user(ims_image *img, const char *user, ims_error **err)
{
	if (!user)
		return ims_error_set(err, IMS_EINVALID, "user is NULL");
	set_str(&img->spec->m->user, user);
	return 0;
}

int ims_image_set_label(ims_image *img, const char *key, const char *value, ims_error **err)
{
	if (!key || !*key)
		return ims_error_set(err, IMS_EINVALID, "label key is empty");
	kv_put(&img->spec->m->labels, key, value);
	return 0;
}

int ims_image_set_created(ims_image *img, long long epoch, ims_error **err)
{
	if (epoch < 0)
		return ims_error_set(err, IMS_EINVALID, "created must not be negative");
	img->spec->m->created_set = true;
	img->spec->m->created = epoch;
	return 0;
}

int ims_image_set_config(ims_image *img, const char *json, ims_error **err)
{
	ims_config *c = NULL;
	int r = ims_config_parse(&c, json, strlen(json), err);
	if (r < 0)
		return r;
	ims_json_free(img->config_override);
	img->config_override = ims_json_clone(ims_config_tree(c));
	ims_config_free(c);
	return 0;
}

static int make_plan(ims_image *img, const char *target, const char *const *tags, size_t ntags, ims_plan **out,
		     ims_error **err)
{
	ims_plan_options po = IMS_PLAN_OPTIONS_INIT;
	po.target = target;
	po.tags = tags;
	po.ntags = ntags;
	int r = ims_plan_new(out, img->spec, &po, err);
	if (r < 0)
		return r;
	if (img->config_override)
		(*out)->config_override = ims_json_clone(img->config_override);
	return 0;
}

int ims_image_get_config(ims_image *img, char **json, ims_error **err)
{
	ims_plan *p = NULL;
	int r = make_plan(img, "oci:.", NULL, 0, &p, err);
	if (r < 0)
		return r;
	ims_base b = { 0 };
	ims_session s = { 0 };
	if (p->base->kind == IMS_REF_REGISTRY)
		r = ims_session_open(&s, img->ctx, img->spec->m, err);
	if (r >= 0 && (r = ims_exec_base_load(&b, img->ctx, p, s.pool, err)) >= 0) {
		ims_config *cfg = ims_config_clone(b.images[0].config);
		if (p->config_override)
			r = ims_config_set_tree(cfg, ims_json_clone(p->config_override), err);
		if (r >= 0) {
			char created[32];
			ims_rfc3339(p->created, created);
			ims_config_set_created(cfg, created);
			r = ims_exec_edit_config(cfg, b.images[0].config, p, err);
		}
		if (r >= 0)
			*json = ims_config_encode(cfg, NULL);
		ims_config_free(cfg);
	}
	ims_exec_base_dispose(&b);
	ims_session_close(&s);
	ims_plan_free(p);
	return r < 0 ? r : 0;
}

int ims_image_save(ims_image *img, const char *target, const char *const *tags, size_t ntags,
		   ims_build_result **result, ims_error **err)
{
	ims_plan *p = NULL;
	int r = make_plan(img, target, tags, ntags, &p, err);
	if (r < 0)
		return r;
	ims_build_result *res = NULL;
	r = ims_build(&res, img->ctx, p, NULL, err);
	ims_plan_free(p);
	if (r < 0)
		return r;
	if (result)
		*result = res;
	else
		ims_build_result_free(res);
	return 0;
}
