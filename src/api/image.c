/* The seed library's Image class. Each call edits an in-memory image.yaml
 * document (spec/doc.h) after checking the new value through the spec
 * loader on its own; save() loads the whole document through that same
 * loader, plans it and runs it as `imagespec build` would. So the API can
 * never save an image the spec would refuse, and says why in the spec's
 * words. */
#include <stdlib.h>
#include <string.h>

#include "api/context.h"
#include "imagespec/image.h"
#include "plan/from_spec.h"
#include "spec/doc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

struct ims_image {
	ims_context *ctx;
	ims_spec_node *doc;         /* the image.yaml, without its target */
	char *dir;                  /* relative paths resolve here */
	char *config;               /* ims_image_set_config's document, checked */
	ims_credential *owned;      /* copies of the caller's credentials */
	ims_exec_credential *creds; /* the same, as the executor takes them */
	size_t ncreds;
};

/* Loads doc (with a placeholder target when it has none) as a file would be. */
static int load(const ims_image *img, const ims_spec_node *doc, ims_spec **out, ims_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = ims_spec_node_emit(doc, &text, &len, err);
	if (r < 0)
		return r;
	return ims_spec_read(out, NULL, text, len, img->dir, NULL, err);
}

/* Checks a key's new value v in a document of its own: the base, a
 * placeholder target and key. Leaves v to the caller. */
static int check(const ims_image *img, const char *key, const ims_spec_node *v, ims_error **err)
{
	ims_spec_node *doc = ims_spec_node_map();
	ims_spec_node *base = ims_spec_node_get(img->doc, "base");
	ims_spec_node_put(doc, "base", base ? ims_spec_node_clone(base) : ims_spec_node_str("scratch"));
	ims_spec_node_put(doc, "target", ims_spec_node_str("oci:."));
	ims_spec_node_put(doc, key, ims_spec_node_clone(v));
	ims_spec *s = NULL;
	int r = load(img, doc, &s, err);
	ims_spec_destroy(s);
	ims_spec_node_free(doc);
	return r;
}

/* Sets key to v (taking it) once it passes. */
static int put(ims_image *img, const char *key, ims_spec_node *v, ims_error **err)
{
	int r = check(img, key, v, err);
	if (r < 0) {
		ims_spec_node_free(v);
		return r;
	}
	ims_spec_node_put(img->doc, key, v);
	return 0;
}

/* Appends item (taking it) to the list of key once it passes on its own,
 * so that its errors are its own. */
static int add(ims_image *img, const char *key, ims_spec_node *item, ims_error **err)
{
	ims_spec_node *one = ims_spec_node_list();
	ims_spec_node_append(one, ims_spec_node_clone(item));
	int r = check(img, key, one, err);
	ims_spec_node_free(one);
	if (r < 0) {
		ims_spec_node_free(item);
		return r;
	}
	ims_spec_node_append(ims_spec_node_list_at(img->doc, key), item);
	return 0;
}

/* Sets name in the map of key to value (taking it) once it passes. */
static int set_entry(ims_image *img, const char *key, const char *name, ims_spec_node *value, ims_error **err)
{
	if (!name) {
		ims_spec_node_free(value);
		return ims_error_set(err, IMS_EINVALID, "the %s name is NULL", key);
	}
	ims_spec_node *one = ims_spec_node_map();
	ims_spec_node_put(one, name, ims_spec_node_clone(value));
	int r = check(img, key, one, err);
	ims_spec_node_free(one);
	if (r < 0) {
		ims_spec_node_free(value);
		return r;
	}
	ims_spec_node_put(ims_spec_node_map_at(img->doc, key), name, value);
	return 0;
}

static ims_spec_node *strv(const char *const *v, size_t n)
{
	ims_spec_node *l = ims_spec_node_list();
	for (size_t i = 0; i < n; i++)
		ims_spec_node_append(l, ims_spec_node_str(v[i]));
	return l;
}

static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static char *mode_text(long long mode)
{
	return xasprintf("0%llo", mode & 07777);
}

static int copy_creds(ims_image *img, const ims_image_options *o, ims_error **err)
{
	img->owned = xcalloc(o->nauth + 1, sizeof(*img->owned));
	img->creds = xcalloc(o->nauth + 1, sizeof(*img->creds));
	for (size_t i = 0; i < o->nauth; i++) {
		const ims_credential *c = &o->auth[i];
		if (!c->registry || !*c->registry)
			return ims_error_set(err, IMS_EINVALID, "credentials %zu name no registry", i);
		char *key = xstrdup(c->registry), *user = c->username ? xstrdup(c->username) : NULL;
		char *pass = c->password ? xstrdup(c->password) : NULL, *token = c->token ? xstrdup(c->token) : NULL;
		img->owned[img->ncreds] = (ims_credential){ key, user, pass, token };
		img->creds[img->ncreds++] = (ims_exec_credential){ key, user, pass, token };
	}
	return 0;
}

int ims_image_open(ims_image **out, ims_context *ctx, const char *base, const ims_image_options *opts, ims_error **err)
{
	static const ims_image_options defaults = IMS_IMAGE_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != IMS_IMAGE_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_image_options version %d is not supported (this library has %d)",
				     opts->version, IMS_IMAGE_OPTIONS_VERSION);
	if (!base)
		return ims_error_set(err, IMS_EINVALID, "the base is NULL; use \"scratch\" to start empty");
	ims_image *img = xcalloc(1, sizeof(*img));
	img->ctx = ctx;
	img->dir = ims_path_absolute(NULL, opts->base_dir ? opts->base_dir : ".");
	img->doc = ims_spec_node_map();
	ims_spec_node_put(img->doc, "base", ims_spec_node_str("scratch"));
	int r = copy_creds(img, opts, err);
	if (r >= 0)
		r = put(img, "base", ims_spec_node_str(base), err);
	if (r < 0) {
		ims_image_free(img);
		return r;
	}
	*out = img;
	return 0;
}

int ims_image_new(ims_image **out, ims_context *ctx, const char *base, ims_error **err)
{
	return ims_image_open(out, ctx, base, NULL, err);
}

void ims_image_free(ims_image *img)
{
	if (!img)
		return;
	ims_spec_node_free(img->doc);
	free(img->dir);
	free(img->config);
	for (size_t i = 0; i < img->ncreds; i++) {
		/* the copies were made here: their const is the public struct's */
		char *v[] = { NULL, NULL, NULL, NULL };
		memcpy(v, &img->owned[i], sizeof(v));
		free(v[0]);
		free(v[1]);
		free_secret(v[2]);
		free_secret(v[3]);
	}
	free(img->owned);
	free(img->creds);
	free(img);
}

/* ---- layers ---- */

static void put_mode(ims_spec_node *m, const char *key, long long mode)
{
	_cleanup_free_ char *t = mode_text(mode);
	ims_spec_node_put(m, key, ims_spec_node_str(t));
}

/* uid, gid and mtime when given (-1: not given). */
static void put_owner(ims_spec_node *m, long long uid, long long gid, long long mtime)
{
	if (uid >= 0)
		ims_spec_node_put(m, "uid", ims_spec_node_int(uid));
	if (gid >= 0)
		ims_spec_node_put(m, "gid", ims_spec_node_int(gid));
	if (mtime >= 0)
		ims_spec_node_put(m, "mtime", ims_spec_node_int(mtime));
}

static ims_spec_node *file_mapping(const ims_image_file *f)
{
	ims_spec_node *m = ims_spec_node_map();
	ims_spec_node_put(m, "src", f->src ? ims_spec_node_str(f->src) : ims_spec_node_null());
	ims_spec_node_put(m, "dest", f->dest ? ims_spec_node_str(f->dest) : ims_spec_node_null());
	if (f->nexclude)
		ims_spec_node_put(m, "exclude", strv(f->exclude, f->nexclude));
	if (f->ninclude)
		ims_spec_node_put(m, "include", strv(f->include, f->ninclude));
	if (f->nignore_files)
		ims_spec_node_put(m, "ignoreFiles", strv(f->ignore_files, f->nignore_files));
	if (f->follow_symlinks)
		ims_spec_node_put(m, "symlinks", ims_spec_node_str("follow"));
	if (f->mode >= 0)
		put_mode(m, "mode", f->mode);
	if (f->dir_mode >= 0)
		put_mode(m, "dirMode", f->dir_mode);
	put_owner(m, f->uid, f->gid, -1);
	return m;
}

static ims_spec_node *custom_mapping(const ims_image_custom_file *f)
{
	ims_spec_node *m = ims_spec_node_map();
	ims_spec_node_put(m, "dest", f->dest ? ims_spec_node_str(f->dest) : ims_spec_node_null());
	switch (f->kind) {
	case IMS_CUSTOM_FILE:
		ims_spec_node_put_content(m, f->data ? f->data : "", f->data ? f->size : 0);
		break;
	case IMS_CUSTOM_DIR:
		ims_spec_node_put(m, "type", ims_spec_node_str("dir"));
		break;
	case IMS_CUSTOM_SYMLINK:
		ims_spec_node_put(m, "symlink", f->link_path ? ims_spec_node_str(f->link_path) : ims_spec_node_null());
		break;
	}
	if (f->mode >= 0)
		put_mode(m, "mode", f->mode);
	put_owner(m, f->uid, f->gid, f->mtime);
	return m;
}

/* One layer made of mappings: {files: [...]}. */
static int add_files_layer(ims_image *img, ims_spec_node *files, ims_error **err)
{
	ims_spec_node *layer = ims_spec_node_map();
	ims_spec_node_put(layer, "files", files);
	return add(img, "layers", layer, err);
}

int ims_image_add_files(ims_image *img, const ims_image_file *files, size_t n, ims_error **err)
{
	ims_spec_node *l = ims_spec_node_list();
	for (size_t i = 0; i < n; i++)
		ims_spec_node_append(l, file_mapping(&files[i]));
	return add_files_layer(img, l, err);
}

int ims_image_add_custom_files(ims_image *img, const ims_image_custom_file *files, size_t n, ims_error **err)
{
	ims_spec_node *l = ims_spec_node_list();
	for (size_t i = 0; i < n; i++)
		ims_spec_node_append(l, custom_mapping(&files[i]));
	return add_files_layer(img, l, err);
}

int ims_image_add_layer(ims_image *img, const char *digest, const char *diff_id, long long size, const char *media_type,
			const char *const *urls, size_t nurls, ims_error **err)
{
	ims_spec_node *b = ims_spec_node_map();
	ims_spec_node_put(b, "digest", digest ? ims_spec_node_str(digest) : ims_spec_node_null());
	ims_spec_node_put(b, "diffId", diff_id ? ims_spec_node_str(diff_id) : ims_spec_node_null());
	ims_spec_node_put(b, "size", ims_spec_node_int(size));
	if (media_type)
		ims_spec_node_put(b, "mediaType", ims_spec_node_str(media_type));
	if (nurls)
		ims_spec_node_put(b, "urls", strv(urls, nurls));
	ims_spec_node *layer = ims_spec_node_map();
	ims_spec_node_put(layer, "blob", b);
	return add(img, "layers", layer, err);
}

int ims_image_remove_layer(ims_image *img, const char *digest, ims_error **err)
{
	return add(img, "removeLayers", digest ? ims_spec_node_str(digest) : ims_spec_node_null(), err);
}

/* ---- the config ---- */

static int set_argv(ims_image *img, const char *key, const char *const *argv, size_t argc, ims_error **err)
{
	for (size_t i = 0; i < argc; i++)
		if (!argv[i])
			return ims_error_set(err, IMS_EINVALID, "argument %zu of `%s` is NULL", i, key);
	return put(img, key, strv(argv, argc), err);
}

int ims_image_set_cmd(ims_image *img, const char *const *argv, size_t argc, ims_error **err)
{
	return set_argv(img, "cmd", argv, argc, err);
}

int ims_image_set_entrypoint(ims_image *img, const char *const *argv, size_t argc, ims_error **err)
{
	return set_argv(img, "entrypoint", argv, argc, err);
}

int ims_image_set_env(ims_image *img, const char *name, const char *value, ims_error **err)
{
	return set_entry(img, "env", name, value ? ims_spec_node_env(value) : ims_spec_node_null(), err);
}

static int set_str(ims_image *img, const char *key, const char *v, ims_error **err)
{
	return put(img, key, v ? ims_spec_node_str(v) : ims_spec_node_null(), err);
}

int ims_image_set_working_dir(ims_image *img, const char *dir, ims_error **err)
{
	return set_str(img, "workingDir", dir, err);
}

int ims_image_set_user(ims_image *img, const char *user, ims_error **err)
{
	return set_str(img, "user", user, err);
}

int ims_image_set_label(ims_image *img, const char *key, const char *value, ims_error **err)
{
	return set_entry(img, "labels", key, value ? ims_spec_node_str(value) : ims_spec_node_null(), err);
}

int ims_image_set_annotation(ims_image *img, const char *key, const char *value, ims_error **err)
{
	return set_entry(img, "annotations", key, value ? ims_spec_node_str(value) : ims_spec_node_null(), err);
}

int ims_image_add_port(ims_image *img, const char *port, ims_error **err)
{
	return add(img, "exposedPorts", port ? ims_spec_node_str(port) : ims_spec_node_null(), err);
}

int ims_image_add_volume(ims_image *img, const char *path, ims_error **err)
{
	return add(img, "volumes", path ? ims_spec_node_str(path) : ims_spec_node_null(), err);
}

int ims_image_set_platforms(ims_image *img, const char *const *platforms, size_t n, ims_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (!platforms[i])
			return ims_error_set(err, IMS_EINVALID, "platform %zu is NULL", i);
	return put(img, "platforms", strv(platforms, n), err);
}

int ims_image_set_created(ims_image *img, long long epoch, ims_error **err)
{
	return put(img, "created", ims_spec_node_int(epoch), err);
}

int ims_image_set_config(ims_image *img, const char *json, ims_error **err)
{
	int r = ims_plan_check_config(json, err);
	if (r < 0)
		return r;
	free(img->config);
	img->config = xstrdup(json);
	return 0;
}

/* ---- planning and saving ---- */

/* The whole document, loaded and planned for target; doc may add keys. */
static int make_plan(ims_image *img, ims_spec_node *doc, const ims_plan_options *po, ims_spec **spec, ims_plan **out,
		     ims_error **err)
{
	int r = load(img, doc, spec, err);
	if (r < 0)
		return r;
	if ((r = ims_plan_from_spec(out, (*spec)->m, po, err)) < 0)
		return r;
	return img->config ? ims_plan_set_config(*out, img->config, err) : 0;
}

/* The context's settings, with the image's credentials first. */
static ims_exec_env env_of(const ims_image *img)
{
	ims_exec_env env = img->ctx->env;
	env.creds = img->creds;
	env.ncreds = img->ncreds;
	return env;
}

int ims_image_get_config(ims_image *img, char **json, ims_error **err)
{
	ims_plan_options po = IMS_PLAN_OPTIONS_INIT;
	po.target = "oci:.";
	ims_spec *spec = NULL;
	ims_plan *p = NULL;
	ims_exec_env env = env_of(img);
	int r = make_plan(img, img->doc, &po, &spec, &p, err);
	if (r >= 0)
		r = ims_exec_preview_config(&env, p, json, err);
	ims_plan_destroy(p);
	ims_spec_destroy(spec);
	return r < 0 ? r : 0;
}

int ims_image_save_with(ims_image *img, const char *target, const ims_save_options *opts, ims_build_result **result,
			ims_error **err)
{
	static const ims_save_options defaults = IMS_SAVE_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != IMS_SAVE_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_save_options version %d is not supported (this library has %d)",
				     opts->version, IMS_SAVE_OPTIONS_VERSION);
	if (!target)
		return ims_error_set(err, IMS_EINVALID, "the target is NULL");
	ims_spec_node *doc = ims_spec_node_clone(img->doc);
	ims_spec_node *sync = ims_spec_node_map_at(doc, "sync");
	ims_spec_node_put(sync, "copyRemoteLayers", ims_spec_node_bool(opts->copy_remote_layers != 0));
	ims_spec_node_put(sync, "ignoreExists", ims_spec_node_bool(opts->ignore_exists != 0));
	ims_plan_options po = IMS_PLAN_OPTIONS_INIT;
	po.target = target;
	po.tags = opts->tags;
	po.ntags = opts->ntags;
	ims_spec *spec = NULL;
	ims_plan *p = NULL;
	ims_build_result *res = NULL;
	ims_exec_env env = env_of(img);
	int r = make_plan(img, doc, &po, &spec, &p, err);
	if (r >= 0)
		r = ims_exec_build(&res, &env, p, opts->dry_run ? IMS_EXEC_DRY : IMS_EXEC_RUN, err);
	ims_plan_destroy(p);
	ims_spec_destroy(spec);
	ims_spec_node_free(doc);
	if (r < 0)
		return r;
	if (result)
		*result = res;
	else
		ims_result_free(res);
	return 0;
}

int ims_image_save(ims_image *img, const char *target, const char *const *tags, size_t ntags, ims_build_result **result,
		   ims_error **err)
{
	ims_save_options o = IMS_SAVE_OPTIONS_INIT;
	o.tags = tags;
	o.ntags = ntags;
	return ims_image_save_with(img, target, &o, result, err);
}
