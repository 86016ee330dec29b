#include "json/oci.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A config's diff_ids follow the manifest's layers, which we accept up to
 * this many on parse (the executor enforces the runtime limit). */
#define MAX_DIFF_IDS 1000

struct ims_config {
	ims_json *tree;
};

/* The key orders of the canonical encoding. Go's encoder writes the fields
 * of docker's and the OCI structs in about this order; fixing it makes the
 * bytes (and so the digest) depend only on the content. */
static const char *const top_keys[] = {
	"created", "author", "architecture", "os", "os.version", "os.features", "variant",
	"config", "rootfs", "history", NULL,
};
static const char *const config_keys[] = {
	"User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
	"StopSignal", "ArgsEscaped", NULL,
};
static const char *const rootfs_keys[] = { "type", "diff_ids", NULL };
static const char *const history_keys[] = {
	"created", "author", "created_by", "comment", "empty_layer", NULL,
};

/* ---- validation ---- */

static int bad(ims_error **err, const char *field, const char *what)
{
	return ims_error_set(err, IMS_EINVALID, "invalid image config: `%s` must be %s", field, what);
}

static bool is(const ims_json *v, ims_json_type t)
{
	return v && v->type == t;
}

static bool strings_array(const ims_json *v)
{
	if (!is(v, IMS_JSON_ARRAY))
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i]->type != IMS_JSON_STRING)
			return false;
	return true;
}

static int check_strings(const ims_json *obj, const char *const *keys, ims_error **err)
{
	for (; *keys; keys++) {
		const ims_json *v = ims_json_get(obj, *keys);
		if (v && v->type != IMS_JSON_STRING)
			return bad(err, *keys, "a string");
	}
	return 0;
}

/* Go writes nil slices and maps as null, so null stands for "absent". */
static int check_config(const ims_json *cfg, ims_error **err)
{
	static const char *const strs[] = { "User", "WorkingDir", "StopSignal", NULL };
	static const char *const arrays[] = { "Env", "Entrypoint", "Cmd", NULL };
	static const char *const maps[] = { "ExposedPorts", "Volumes", "Labels", NULL };
	int rc = check_strings(cfg, strs, err);
	if (rc)
		return rc;
	for (const char *const *k = arrays; *k; k++) {
		const ims_json *v = ims_json_get(cfg, *k);
		if (v && v->type != IMS_JSON_NULL && !strings_array(v))
			return bad(err, *k, "an array of strings");
	}
	for (const char *const *k = maps; *k; k++) {
		const ims_json *v = ims_json_get(cfg, *k);
		if (v && v->type != IMS_JSON_NULL && v->type != IMS_JSON_OBJECT)
			return bad(err, *k, "an object");
	}
	const ims_json *labels = ims_json_get(cfg, "Labels");
	if (is(labels, IMS_JSON_OBJECT) && !ims_json_is_string_map(labels))
		return bad(err, "Labels", "an object of strings");
	const ims_json *ae = ims_json_get(cfg, "ArgsEscaped");
	if (ae && ae->type != IMS_JSON_BOOL)
		return bad(err, "ArgsEscaped", "a boolean");
	return 0;
}

static int check_rootfs(const ims_json *rootfs, ims_error **err)
{
	if (!is(rootfs, IMS_JSON_OBJECT))
		return bad(err, "rootfs", "an object");
	const char *type = ims_json_get_string(rootfs, "type");
	if (!type || strcmp(type, "layers"))
		return bad(err, "rootfs.type", "\"layers\"");
	const ims_json *ids = ims_json_get(rootfs, "diff_ids");
	if (!strings_array(ids))
		return bad(err, "rootfs.diff_ids", "an array of digests");
	if (ids->n > MAX_DIFF_IDS)
		return ims_error_set(err, IMS_EINVALID, "invalid image config: more than %d diff_ids", MAX_DIFF_IDS);
	for (size_t i = 0; i < ids->n; i++)
		if (!ims_digest_valid(ids->v[i]->s))
			return ims_error_set(err, IMS_EINVALID, "invalid image config: diff_ids[%zu] `%.80s` is not a valid digest",
					     i, ids->v[i]->s);
	return 0;
}

static int check_history(const ims_json *h, ims_error **err)
{
	static const char *const strs[] = { "created", "author", "created_by", "comment", NULL };
	if (!is(h, IMS_JSON_ARRAY))
		return bad(err, "history", "an array");
	for (size_t i = 0; i < h->n; i++) {
		const ims_json *e = h->v[i];
		if (e->type != IMS_JSON_OBJECT)
			return bad(err, "history", "an array of objects");
		int rc = check_strings(e, strs, err);
		if (rc)
			return ims_error_wrap(err, "history[%zu]", i);
		const ims_json *el = ims_json_get(e, "empty_layer");
		if (el && el->type != IMS_JSON_BOOL)
			return bad(err, "history.empty_layer", "a boolean");
	}
	return 0;
}

static int validate(const ims_json *t, ims_error **err)
{
	static const char *const strs[] = { "created", "author", "architecture", "os", "os.version", "variant", NULL };
	if (t->type != IMS_JSON_OBJECT)
		return ims_error_set(err, IMS_EINVALID, "invalid image config: not a JSON object");
	int rc = check_strings(t, strs, err);
	if (rc)
		return rc;
	const ims_json *feat = ims_json_get(t, "os.features");
	if (feat && feat->type != IMS_JSON_NULL && !strings_array(feat))
		return bad(err, "os.features", "an array of strings");
	const ims_json *cfg = ims_json_get(t, "config");
	if (cfg && cfg->type != IMS_JSON_NULL) {
		if (cfg->type != IMS_JSON_OBJECT)
			return bad(err, "config", "an object");
		if ((rc = check_config(cfg, err)) < 0)
			return rc;
	}
	if ((rc = check_rootfs(ims_json_get(t, "rootfs"), err)) < 0)
		return rc;
	const ims_json *h = ims_json_get(t, "history");
	if (h && h->type != IMS_JSON_NULL && (rc = check_history(h, err)) < 0)
		return rc;
	return 0;
}

/* ---- life cycle ---- */

int ims_config_parse(ims_config **out, const char *data, size_t len, ims_error **err)
{
	ims_json *t = NULL;
	int rc = ims_json_parse_object(&t, data, len, IMS_CONFIG_MAX, "image config", err);
	if (rc)
		return rc;
	if ((rc = validate(t, err)) < 0) {
		ims_json_free(t);
		return rc;
	}
	ims_config *c = xcalloc(1, sizeof(*c));
	c->tree = t;
	*out = c;
	return 0;
}

ims_config *ims_config_new(const ims_platform *p)
{
	ims_config *c = xcalloc(1, sizeof(*c));
	ims_json *t = c->tree = ims_json_new_object();
	ims_json_set(t, "architecture", ims_json_new_string(p->architecture));
	ims_json_set(t, "os", ims_json_new_string(p->os));
	if (p->os_version)
		ims_json_set(t, "os.version", ims_json_new_string(p->os_version));
	if (p->variant && *p->variant)
		ims_json_set(t, "variant", ims_json_new_string(p->variant));
	ims_json_set(t, "config", ims_json_new_object());
	ims_json *rootfs = ims_json_new_object();
	ims_json_set(rootfs, "type", ims_json_new_string("layers"));
	ims_json_set(rootfs, "diff_ids", ims_json_new_array());
	ims_json_set(t, "rootfs", rootfs);
	ims_json_set(t, "history", ims_json_new_array());
	return c;
}

ims_config *ims_config_clone(const ims_config *c)
{
	ims_config *d = xcalloc(1, sizeof(*d));
	d->tree = ims_json_clone(c->tree);
	return d;
}

void ims_config_free(ims_config *c)
{
	if (!c)
		return;
	ims_json_free(c->tree);
	free(c);
}

ims_json *ims_config_tree(ims_config *c)
{
	return c->tree;
}

int ims_config_set_tree(ims_config *c, ims_json *tree, ims_error **err)
{
	int rc = validate(tree, err);
	if (rc) {
		ims_json_free(tree);
		return rc;
	}
	ims_json_free(c->tree);
	c->tree = tree;
	return 0;
}

/* ---- canonical encoding ---- */

/* Known keys first in the given order, then the others as they came. */
static void reorder(ims_json *obj, const char *const *known)
{
	if (!is(obj, IMS_JSON_OBJECT) || obj->n < 2)
		return;
	_cleanup_free_ ims_json **v = xcalloc(obj->n, sizeof(*v));
	_cleanup_free_ char **k = xcalloc(obj->n, sizeof(*k));
	_cleanup_free_ bool *taken = xcalloc(obj->n, sizeof(*taken));
	size_t n = 0;
	for (const char *const *key = known; *key; key++) {
		for (size_t i = 0; i < obj->n; i++) {
			if (!taken[i] && !strcmp(obj->k[i], *key)) {
				taken[i] = true;
				k[n] = obj->k[i];
				v[n++] = obj->v[i];
				break;
			}
		}
	}
	for (size_t i = 0; i < obj->n; i++) {
		if (!taken[i]) {
			k[n] = obj->k[i];
			v[n++] = obj->v[i];
		}
	}
	memcpy(obj->k, k, obj->n * sizeof(*k));
	memcpy(obj->v, v, obj->n * sizeof(*v));
}

char *ims_config_encode(const ims_config *c, size_t *len)
{
	/* Reorder a copy: the caller's tree and the pointers it holds into it
	 * stay as they are. */
	ims_json *t = ims_json_clone(c->tree);
	reorder(t, top_keys);
	reorder(ims_json_get(t, "config"), config_keys);
	reorder(ims_json_get(t, "rootfs"), rootfs_keys);
	ims_json *h = ims_json_get(t, "history");
	if (is(h, IMS_JSON_ARRAY))
		for (size_t i = 0; i < h->n; i++)
			reorder(h->v[i], history_keys);
	char *s = ims_json_encode(t, len);
	ims_json_free(t);
	return s;
}

/* ---- accessors ---- */

ims_platform *ims_config_platform(const ims_config *c)
{
	const char *os = ims_json_get_string(c->tree, "os");
	const char *arch = ims_json_get_string(c->tree, "architecture");
	if (!os || !arch)
		return NULL;
	ims_platform *p = xcalloc(1, sizeof(*p));
	p->os = xstrdup(os);
	p->architecture = xstrdup(arch);
	const char *v = ims_json_get_string(c->tree, "variant");
	const char *ov = ims_json_get_string(c->tree, "os.version");
	p->variant = v && *v ? xstrdup(v) : NULL;
	p->os_version = ov ? xstrdup(ov) : NULL;
	return p;
}

/* The "config" object, created when absent (or null) if asked to. */
static ims_json *config_obj(const ims_config *c, bool create)
{
	ims_json *cfg = ims_json_get(c->tree, "config");
	if (is(cfg, IMS_JSON_OBJECT) || !create)
		return is(cfg, IMS_JSON_OBJECT) ? cfg : NULL;
	cfg = ims_json_new_object();
	ims_json_set(c->tree, "config", cfg);
	return cfg;
}

const ims_json *ims_config_get(const ims_config *c, const char *config_key)
{
	const ims_json *v = ims_json_get(config_obj(c, false), config_key);
	return is(v, IMS_JSON_NULL) ? NULL : v;
}

void ims_config_set(ims_config *c, const char *config_key, ims_json *val)
{
	if (!val) {
		ims_json_remove(config_obj(c, false), config_key);
		return;
	}
	ims_json_set(config_obj(c, true), config_key, val);
}

char **ims_config_env(const ims_config *c)
{
	const ims_json *env = ims_config_get(c, "Env");
	size_t n = is(env, IMS_JSON_ARRAY) ? env->n : 0;
	char **v = xcalloc(n + 1, sizeof(*v));
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (env->v[i]->type == IMS_JSON_STRING)
			v[j++] = xstrdup(env->v[i]->s);
	return v;
}

/* Index of the last "NAME=..." entry: the runtime lets later ones win. */
static ssize_t env_find(const ims_json *env, const char *name)
{
	size_t nl = strlen(name);
	if (!is(env, IMS_JSON_ARRAY))
		return -1;
	for (size_t i = env->n; i-- > 0;) {
		const ims_json *e = env->v[i];
		if (e->type == IMS_JSON_STRING && !strncmp(e->s, name, nl) && e->s[nl] == '=')
			return (ssize_t)i;
	}
	return -1;
}

const char *ims_config_env_get(const ims_config *c, const char *name)
{
	const ims_json *env = ims_config_get(c, "Env");
	ssize_t i = env_find(env, name);
	return i < 0 ? NULL : env->v[i]->s + strlen(name) + 1;
}

void ims_config_env_set(ims_config *c, const char *name, const char *value)
{
	ims_json *cfg = config_obj(c, true);
	ims_json *env = ims_json_get(cfg, "Env");
	if (!is(env, IMS_JSON_ARRAY)) {
		env = ims_json_new_array();
		ims_json_set(cfg, "Env", env);
	}
	_cleanup_free_ char *kv = xasprintf("%s=%s", name, value);
	ims_json *e = ims_json_new_string(kv);
	ssize_t i = env_find(env, name);
	if (i < 0) {
		ims_json_append(env, e);
		return;
	}
	ims_json_free(env->v[i]);
	env->v[i] = e;
}

/* ---- rootfs ---- */

static ims_json *diff_ids(const ims_config *c, bool create)
{
	ims_json *rootfs = ims_json_get(c->tree, "rootfs");
	if (!is(rootfs, IMS_JSON_OBJECT)) {
		if (!create)
			return NULL;
		rootfs = ims_json_new_object();
		ims_json_set(rootfs, "type", ims_json_new_string("layers"));
		ims_json_set(c->tree, "rootfs", rootfs);
	}
	ims_json *ids = ims_json_get(rootfs, "diff_ids");
	if (!is(ids, IMS_JSON_ARRAY) && create) {
		ids = ims_json_new_array();
		ims_json_set(rootfs, "diff_ids", ids);
	}
	return is(ids, IMS_JSON_ARRAY) ? ids : NULL;
}

size_t ims_config_ndiff_ids(const ims_config *c)
{
	const ims_json *ids = diff_ids(c, false);
	return ids ? ids->n : 0;
}

const char *ims_config_diff_id(const ims_config *c, size_t i)
{
	const ims_json *ids = diff_ids(c, false);
	if (!ids || i >= ids->n || ids->v[i]->type != IMS_JSON_STRING)
		return NULL;
	return ids->v[i]->s;
}

void ims_config_add_diff_id(ims_config *c, const char *diff_id)
{
	ims_json_append(diff_ids(c, true), ims_json_new_string(diff_id));
}

static void array_remove(ims_json *a, size_t i)
{
	if (!a || i >= a->n)
		return;
	ims_json_free(a->v[i]);
	memmove(a->v + i, a->v + i + 1, (a->n - i - 1) * sizeof(*a->v));
	a->n--;
}

void ims_config_remove_diff_id(ims_config *c, size_t i)
{
	array_remove(diff_ids(c, false), i);
}

/* ---- history ---- */

static ims_json *history(ims_config *c, bool create)
{
	ims_json *h = ims_json_get(c->tree, "history");
	if (!is(h, IMS_JSON_ARRAY) && create) {
		h = ims_json_new_array();
		ims_json_set(c->tree, "history", h);
	}
	return is(h, IMS_JSON_ARRAY) ? h : NULL;
}

void ims_config_add_history(ims_config *c, const char *created_rfc3339, const char *created_by,
			    const char *comment, bool empty_layer)
{
	ims_json *e = ims_json_new_object();
	if (created_rfc3339)
		ims_json_set(e, "created", ims_json_new_string(created_rfc3339));
	if (created_by)
		ims_json_set(e, "created_by", ims_json_new_string(created_by));
	if (comment)
		ims_json_set(e, "comment", ims_json_new_string(comment));
	if (empty_layer)
		ims_json_set(e, "empty_layer", ims_json_new_bool(true));
	ims_json_append(history(c, true), e);
}

static bool empty_layer(const ims_json *e)
{
	const ims_json *el = ims_json_get(e, "empty_layer");
	return is(el, IMS_JSON_BOOL) && el->b;
}

void ims_config_remove_layer_history(ims_config *c, size_t layer_index)
{
	ims_json *h = history(c, false);
	if (!h)
		return;
	size_t layers = 0;
	for (size_t i = 0; i < h->n; i++)
		layers += !empty_layer(h->v[i]);
	/* When the history does not describe the layers one to one we cannot
	 * tell which entry is which; leave it alone rather than guess. One
	 * more entry than diff_ids is the caller having removed the diff_id
	 * first, which is as good. */
	size_t nd = ims_config_ndiff_ids(c);
	if (layers != nd && layers != nd + 1)
		return;
	for (size_t i = 0, l = 0; i < h->n; i++) {
		if (empty_layer(h->v[i]))
			continue;
		if (l++ == layer_index) {
			array_remove(h, i);
			return;
		}
	}
}

bool ims_config_fit_history(ims_config *c, size_t n, size_t *had)
{
	ims_json *h = history(c, false);
	size_t layers = 0;
	for (size_t i = 0; h && i < h->n; i++)
		layers += !empty_layer(h->v[i]);
	*had = layers;
	if (layers == n)
		return false;
	for (size_t i = h ? h->n : 0; i > 0 && layers > n; i--) {
		if (empty_layer(h->v[i - 1]))
			continue;
		ims_json_set(h->v[i - 1], "empty_layer", ims_json_new_bool(true));
		layers--;
	}
	for (; layers < n; layers++)
		ims_config_add_history(c, NULL, NULL, "imagespec: the base's history did not describe this layer",
				       false);
	return true;
}

void ims_config_set_created(ims_config *c, const char *rfc3339)
{
	ims_json_set(c->tree, "created", ims_json_new_string(rfc3339));
}

void ims_rfc3339(int64_t t, char out[32])
{
	/* Clamped to four-digit years so the text always fits and sorts. */
	if (t < 0)
		t = 0;
	if (t > 253402300799)
		t = 253402300799;
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(out, "1970-01-01T00:00:00Z");
}

void ims_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
