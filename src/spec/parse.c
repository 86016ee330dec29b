/* ims_spec_model_parse: reads the document, builds the tree, and fills
 * the model section by section. The top-level keys that are about the
 * image's identity (apiVersion, base, target, tags, platforms, format,
 * created), params, defaults, whiteouts and output settings live here;
 * the other sections have files of their own. */
#include "spec/spec_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ref/ref.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/suggest.h"
#include "util/xalloc.h"

/* params: first, since every other value may refer to them. Values may
 * use ${host:NAME} but not other parameters (no order, no cycles). -p
 * values then replace the file's, so m->params holds the values in
 * effect. */
static void parse_params(spec_ctx *c, const ynode *root, ims_spec_model *m)
{
	const ynode *v = spec_val(root, "params");
	if (v && spec_get_kvlist(c, v, "`params`", SUBST_NO_PARAMS, &m->params)) {
		for (size_t i = 0; i < m->params.n; i++)
			if (!spec_name_valid(m->params.v[i].key.s))
				spec_error(c, m->params.v[i].key.pos,
					   "parameter name `%s` must match [A-Za-z_][A-Za-z0-9_]*",
					   m->params.v[i].key.s);
	}
	const ims_spec_params *cli = c->cli;
	for (size_t i = 0; cli && i < cli->n; i++) {
		if (!cli->names[i])
			continue;
		const char *val = cli->values[i] ? cli->values[i] : "";
		size_t j = 0;
		while (j < m->params.n && strcmp(m->params.v[j].key.s, cli->names[i]))
			j++;
		if (j == m->params.n) {
			m->params.v = xrealloc(m->params.v, (m->params.n + 1) * sizeof(*m->params.v));
			m->params.v[m->params.n++] = (ims_kv){ .key = { xstrdup(cli->names[i]), { 0, 0 } } };
		}
		free(m->params.v[j].value.s);
		m->params.v[j].value.s = xstrdup(val);
		m->params.v[j].value.pos = (ims_pos){ 0, 0 };
	}
}

static void parse_ref(spec_ctx *c, const ynode *v, const char *what, bool target, ims_str *out)
{
	if (!spec_get_str(c, v, what, GET_NONEMPTY, out))
		return;
	ims_ref *r = NULL;
	ims_error *e = NULL;
	if (ims_ref_parse(&r, out->s, &e) < 0) {
		spec_error(c, out->pos, "%s: %s", what, e->message);
		ims_error_free(e);
		return;
	}
	if (target && r->kind == IMS_REF_SCRATCH)
		spec_error(c, out->pos, "%s cannot be `scratch`", what);
	else if (target && r->digest)
		spec_error(c, out->pos, "%s cannot be pinned by digest; give a tag", what);
	ims_ref_free(r);
}

static void parse_tags(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_strlist(c, v, "`tags`", 0, &m->tags))
		return;
	for (size_t i = 0; i < m->tags.n; i++) {
		const ims_str *t = &m->tags.v[i];
		if (ims_ref_tag_valid(t->s))
			continue;
		if (strchr(t->s, ':') || strchr(t->s, '/'))
			spec_error(c, t->pos, "tag `%s` must be a tag only; the target's repository is used", t->s);
		else
			spec_error(c, t->pos,
				   "tag `%s` is not valid (up to 128 letters, digits, `_`, `.` and `-`, not starting "
				   "with `.` or `-`)",
				   t->s);
	}
}

bool spec_platform_valid(const char *s)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
	int parts = 0;
	for (const char *p = s;; parts++) {
		size_t n = strcspn(p, "/");
		if (!n || strspn(p, chars) < n)
			return false;
		p += n;
		if (!*p)
			return parts + 1 >= 2 && parts + 1 <= 3;
		p++;
	}
}

static void parse_platforms(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_strlist(c, v, "`platforms`", 0, &m->platforms))
		return;
	for (size_t i = 0; i < m->platforms.n; i++) {
		const ims_str *p = &m->platforms.v[i];
		if (!strcmp(p->s, "all")) {
			if (m->platforms.n > 1)
				spec_error(c, p->pos, "platform `all` cannot be combined with other platforms");
			continue;
		}
		if (!spec_platform_valid(p->s)) {
			spec_error(c, p->pos, "platform `%s` must be `os/arch`, `os/arch/variant` or `all`", p->s);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->platforms.v[j].s, p->s))
				spec_error(c, p->pos, "platform `%s` is listed twice", p->s);
	}
}

static void parse_format(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	/* in the order of ims_format */
	static const char *const names[] = { "inherit", "oci", "docker", NULL };
	int i = spec_get_enum(c, v, "`format`", names);
	m->format_pos = v->pos;
	if (i >= 0)
		m->format = (ims_format)i;
}

static void parse_whiteouts(spec_ctx *c, const ynode *root, ims_spec_model *m)
{
	const ynode *v;
	if ((v = spec_val(root, "delete")) && spec_get_strlist(c, v, "`delete`", GET_NONEMPTY, &m->delete_paths))
		for (size_t i = 0; i < m->delete_paths.n; i++)
			spec_check_abs(c, &m->delete_paths.v[i], "`delete` path", PATH_NO_ROOT | PATH_NO_WHITEOUT);
	if ((v = spec_val(root, "opaque")) && spec_get_strlist(c, v, "`opaque`", GET_NONEMPTY, &m->opaque))
		for (size_t i = 0; i < m->opaque.n; i++)
			spec_check_abs(c, &m->opaque.v[i], "`opaque` path", PATH_NO_ROOT | PATH_NO_WHITEOUT);
	if ((v = spec_val(root, "removeLayers")) && spec_get_strlist(c, v, "`removeLayers`", 0, &m->remove_layers))
		for (size_t i = 0; i < m->remove_layers.n; i++)
			spec_check_digest(c, &m->remove_layers.v[i], "`removeLayers` entry");
}

static void parse_sync(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_check_keys(c, v, &spec_obj_sync, "`sync`"))
		return;
	const ynode *x;
	if ((x = spec_val(v, "copyRemoteLayers")))
		spec_get_bool(c, x, "`copyRemoteLayers`", &m->sync_copy_remote_layers);
	if ((x = spec_val(v, "ignoreExists")))
		spec_get_bool(c, x, "`ignoreExists`", &m->sync_ignore_exists);
}

static void check_cache_ref(spec_ctx *c, const ims_str *s, const char *what)
{
	ims_ref *r = NULL;
	ims_error *e = NULL;
	if (ims_ref_parse(&r, s->s, &e) < 0) {
		spec_error(c, s->pos, "%s: %s", what, e->message);
		ims_error_free(e);
		return;
	}
	if (r->kind != IMS_REF_REGISTRY)
		spec_error(c, s->pos, "%s `%s` must be a registry reference, like `registry.example.com/cache/app:cache`",
			   what, s->s);
	ims_ref_free(r);
}

/* cache: {from: [REF...], to: REF}: registry repositories that hold a
 * layer cache artifact. */
static void parse_cache(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_check_keys(c, v, &spec_obj_cache, "`cache`"))
		return;
	const ynode *x;
	if ((x = spec_val(v, "from")) && spec_get_strlist(c, x, "`cache.from`", GET_NONEMPTY, &m->cache_from))
		for (size_t i = 0; i < m->cache_from.n; i++)
			check_cache_ref(c, &m->cache_from.v[i], "`cache.from`");
	if ((x = spec_val(v, "to")) && spec_get_str(c, x, "`cache.to`", GET_NONEMPTY, &m->cache_to))
		check_cache_ref(c, &m->cache_to, "`cache.to`");
}

void spec_parse_top(spec_ctx *c, const ynode *root, ims_spec_model *m)
{
	spec_check_keys(c, root, &spec_obj_top, "the spec");
	parse_params(c, root, m);
	const ynode *v;
	if ((v = spec_val(root, "apiVersion")) && spec_get_str(c, v, "`apiVersion`", 0, &m->api_version) &&
	    strcmp(m->api_version.s, "imagespec/v1"))
		spec_error(c, v->pos, "unsupported `apiVersion` `%s`; the only version is `imagespec/v1`",
			   m->api_version.s);
	if ((v = spec_val(root, "base")))
		parse_ref(c, v, "`base`", false, &m->base);
	else
		spec_error(c, root->pos, "`base` is required (use `base: scratch` for an empty image)");
	if ((v = spec_val(root, "target")))
		parse_ref(c, v, "`target`", true, &m->target);
	if ((v = spec_val(root, "tags")))
		parse_tags(c, v, m);
	if ((v = spec_val(root, "platforms")))
		parse_platforms(c, v, m);
	if ((v = spec_val(root, "format")))
		parse_format(c, v, m);
	if ((v = spec_val(root, "created"))) {
		m->created_pos = v->pos;
		m->created_set = spec_get_time(c, v, "`created`", &m->created_now, &m->created);
	}
	if ((v = spec_val(root, "defaults")) && spec_check_keys(c, v, &spec_obj_attrs, "`defaults`"))
		spec_get_attrs(c, v, &m->defaults);
	/* before layers: a layer's compression level is checked against the
	 * algorithm it inherits */
	if ((v = spec_val(root, "compression")))
		spec_compression(c, v, IMS_COMPRESS_GZIP, &m->compression);
	if ((v = spec_val(root, "files"))) {
		m->files_set = true;
		m->files_pos = v->pos;
		spec_parse_files(c, v, "`files`", &m->files, &m->nfiles);
	}
	if ((v = spec_val(root, "layers")))
		spec_parse_layers(c, v, m);
	parse_whiteouts(c, root, m);
	spec_parse_config(c, root, m);
	spec_parse_access(c, root, m);
	if ((v = spec_val(root, "sync")))
		parse_sync(c, v, m);
	if ((v = spec_val(root, "cache")))
		parse_cache(c, v, m);
}

/* Standard input is not a regular file, so ims_read_file cannot take it. */
static int read_stdin(char **out, size_t *len, ims_error **err)
{
	ims_buf b = IMS_BUF_INIT(SPEC_MAX_FILE);
	char chunk[65536];
	for (;;) {
		ssize_t r = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ims_buf_dispose(&b);
			return ims_error_sys(err, errno, IMS_EINVALID, "read the spec from standard input");
		}
		if (r == 0)
			break;
		if (ims_buf_add(&b, chunk, (size_t)r, NULL) < 0) {
			ims_buf_dispose(&b);
			return ims_error_set(err, IMS_EINVALID,
					     "<stdin>:1:1: the spec is larger than the limit of 1 MiB");
		}
	}
	*out = ims_buf_steal(&b, len);
	return 0;
}

static char *spec_dir(const char *path, bool given, const char *dir_hint)
{
	if (given || !path || !strcmp(path, "-"))
		return ims_path_absolute(NULL, dir_hint ? dir_hint : ".");
	_cleanup_free_ char *abs = ims_path_absolute(NULL, path);
	return ims_path_dirname(abs);
}

/* A spec file that cannot be read is a usage problem (exit 2), whatever
 * the reason. */
static int read_file(const char *path, char **out, size_t *len, ims_error **err)
{
	ims_error *e = NULL;
	if (ims_read_file(path, SPEC_MAX_FILE, out, len, &e) == 0)
		return 0;
	int r = ims_error_set(err, IMS_EINVALID, "%s", e->message);
	ims_error_hint(err, "pass the path of an image.yaml (default ./image.yaml), or - for standard input");
	ims_error_free(e);
	return r;
}

/* A -p NAME that no ${NAME} asked for and params: does not declare is a
 * typo or a leftover: said, rather than ignored (SPEC v1.1). */
static void unused_params(spec_ctx *c)
{
	if (!c->cli || !c->cli_used)
		return;
	const char *declared[64];
	size_t nd = 0;
	/* the file's own params: (the -p ones were merged in at line 0) */
	for (size_t i = 0; i < c->params->n && nd < 64; i++)
		if (c->params->v[i].key.s && c->params->v[i].key.pos.line > 0)
			declared[nd++] = c->params->v[i].key.s;
	for (size_t i = 0; i < c->cli->n; i++) {
		const char *name = c->cli->names[i];
		if (!name || c->cli_used[i])
			continue;
		bool known = false, again = false;
		for (size_t k = 0; k < nd && !known; k++)
			known = !strcmp(declared[k], name);
		for (size_t k = 0; k < i && !again; k++)
			again = c->cli->names[k] && !strcmp(c->cli->names[k], name);
		if (known || again)
			continue;
		const char *hint = ims_suggest(name, declared, nd);
		if (hint)
			spec_error(c, (ims_pos){ 1, 1 }, "`-p %s`: the spec has no parameter `%s`; did you mean `%s`?", name,
				   name, hint);
		else
			spec_error(c, (ims_pos){ 1, 1 },
				   "`-p %s`: the spec has no parameter `%s`; declare it under `params:` or use `${%s}` in "
				   "a value",
				   name, name, name);
	}
}

int ims_spec_model_parse(ims_spec_model **out, const char *path, const char *data, size_t len, const char *dir_hint,
			 const ims_spec_params *params, ims_error **err)
{
	assert(out && (path || data));
	/* no path: a document made in memory (spec/doc.h), with no positions to show */
	const char *shown = !path ? NULL : strcmp(path, "-") ? path : "<stdin>";
	_cleanup_free_ char *owned = NULL;
	bool given = data != NULL;
	if (!given) {
		int r = strcmp(path, "-") ? read_file(path, &owned, &len, err) : read_stdin(&owned, &len, err);
		if (r < 0)
			return r;
		data = owned;
	}
	if (len > SPEC_MAX_FILE)
		return ims_error_set(err, IMS_EINVALID, "%s%sthe spec is larger than the limit of 1 MiB",
				     shown ? shown : "", shown ? ":1:1: " : "");

	ims_spec_model *m = xcalloc(1, sizeof(*m));
	m->path = path ? xstrdup(path) : NULL;
	m->dir = spec_dir(path, given, dir_hint);
	m->sync_copy_remote_layers = true;
	m->compression.level = -1;
	spec_ctx c = { .file = shown, .cli = params, .params = &m->params };
	if (params && params->n)
		c.cli_used = xcalloc(params->n, sizeof(bool));
	ynode *root = ynode_parse(&c, data, len);
	if (root && root->kind == YN_MAP) {
		spec_parse_top(&c, root, m);
		unused_params(&c);
	}
	else if (root)
		spec_error(&c, root->pos, "the spec must be a mapping of keys, not %s", ynode_kind_name(root));
	else if (!c.nerrs)
		spec_error(&c, (ims_pos){ 1, 1 }, "the spec is empty");
	ynode_free(root);
	free(c.cli_used);
	if (c.nerrs) {
		int r = spec_errors_flush(&c, err);
		spec_errors_dispose(&c);
		ims_spec_model_free(m);
		return r;
	}
	ims_spec__mark_env_secrets(m, data, len);
	*out = m;
	return 0;
}
