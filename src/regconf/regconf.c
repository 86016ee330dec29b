/* Reading registries.conf files: the TOML tree (toml.c) checked key by key
 * into ims_regconf, file after file, the way containers/image merges
 * drop-ins. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "regconf/regconf.h"
#include "regconf/toml.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

typedef struct {
	const char *file;
	const ims_events *ev;
	ims_error **err;
} ctx;

static int bad(const ctx *x, const ims_toml *v, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(const ctx *x, const ims_toml *v, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	va_end(ap);
	ims_error_set(x->err, IMS_EINVALID, "%s:%d:%d: %s", x->file, v->line, v->col, m);
	if (hint)
		ims_error_hint(x->err, "%s", hint);
	return IMS_EINVALID;
}

static int want(const ctx *x, const char *key, const ims_toml *v, ims_toml_kind kind)
{
	if (v->kind == kind)
		return 0;
	_cleanup_free_ char *m = xasprintf("`%s` must be %s, not %s", key, ims_toml_kind_name(kind),
					   ims_toml_kind_name(v->kind));
	ims_error_set(x->err, IMS_EINVALID, "%s:%d:%d: %s", x->file, v->line, v->col, m);
	return IMS_EINVALID;
}

static void unknown(const ctx *x, const char *where, const char *key, const ims_toml *v)
{
	ims_events_warn(x->ev, "%s:%d:%d: unknown key `%s`%s ignored", x->file, v->key_line, v->key_col, key, where);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

static void strv_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static void strv_freep(char ***v)
{
	for (char **p = *v; p && *p; p++)
		free(*p);
	free(*v);
}

/* A location or prefix: host[:port][/path] without a scheme, spaces or a
 * trailing slash (which containers/image drops too). */
static int location(const ctx *x, const char *key, const ims_toml *v, bool wildcard_ok, char **out)
{
	if (want(x, key, v, IMS_TOML_STRING) < 0)
		return IMS_EINVALID;
	size_t l = strlen(v->str);
	while (l > 0 && v->str[l - 1] == '/')
		l--;
	_cleanup_free_ char *s = xstrndup(v->str, l);
	if (strstr(s, "://"))
		return bad(
			x, v,
			"write host[:port][/namespace], e.g. `mirror.example.com:5000`; `insecure = true` allows plain HTTP",
			"`%s` has a scheme", key);
	if (!*s)
		return bad(x, v, NULL, "`%s` is empty", key);
	bool odd = strpbrk(s, "\\\"'?#") || s[0] == '/' || strstr(s, "//");
	for (const char *q = s; *q && !odd; q++)
		odd = (unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f; /* host names are ASCII */
	if (odd)
		return bad(x, v, NULL, "`%s` is not host[:port][/namespace]", key);
	if (s[0] == '*') {
		if (!wildcard_ok || s[1] != '.' || strpbrk(s + 1, "*/:@") || !s[2])
			return bad(x, v, NULL,
				   "`%s` may only be a wildcard as `*.domain` (no port or path), in a prefix", key);
	} else if (strchr(s, '*')) {
		return bad(x, v, NULL, "`%s` may only be a wildcard as `*.domain` (no port or path), in a prefix", key);
	}
	*out = steal_pointer(&s);
	return 0;
}

static int boolean(const ctx *x, const char *key, const ims_toml *v, bool *out)
{
	if (want(x, key, v, IMS_TOML_BOOL) < 0)
		return IMS_EINVALID;
	*out = v->b;
	return 0;
}

static void registry_dispose(ims_regconf_registry *r)
{
	free(r->prefix);
	free(r->location);
	for (size_t i = 0; i < r->nmirrors; i++)
		free(r->mirrors[i].location);
	free(r->mirrors);
	free(r->at);
	memset(r, 0, sizeof(*r));
}

static int mirror(const ctx *x, const ims_toml *t, ims_regconf_mirror *m)
{
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i];
		const ims_toml *v = t->items[i];
		int r = 0;
		if (!strcmp(k, "location")) {
			r = location(x, k, v, false, &m->location);
		} else if (!strcmp(k, "insecure")) {
			r = boolean(x, k, v, &m->insecure);
		} else if (!strcmp(k, "pull-from-mirror")) {
			if ((r = want(x, k, v, IMS_TOML_STRING)) < 0)
				return r;
			if (!strcmp(v->str, "digest-only"))
				m->pull = IMS_REGCONF_PULL_DIGEST_ONLY;
			else if (!strcmp(v->str, "tag-only"))
				m->pull = IMS_REGCONF_PULL_TAG_ONLY;
			else if (strcmp(v->str, "all") && *v->str)
				return bad(x, v, NULL, "`%s` must be `all`, `digest-only` or `tag-only`", k);
		} else {
			unknown(x, " in [[registry.mirror]]", k, v);
		}
		if (r < 0)
			return r;
	}
	if (!m->location) {
		ims_error_set(x->err, IMS_EINVALID, "%s:%d:%d: a [[registry.mirror]] needs a `location`", x->file,
			      t->line, t->col);
		return IMS_EINVALID;
	}
	return 0;
}

static int registry(const ctx *x, const ims_toml *t, ims_regconf_registry *reg)
{
	const ims_toml *mirrors = NULL;
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i];
		const ims_toml *v = t->items[i];
		int r = 0;
		if (!strcmp(k, "prefix"))
			r = location(x, k, v, true, &reg->prefix);
		else if (!strcmp(k, "location"))
			r = location(x, k, v, false, &reg->location);
		else if (!strcmp(k, "insecure"))
			r = boolean(x, k, v, &reg->insecure);
		else if (!strcmp(k, "blocked"))
			r = boolean(x, k, v, &reg->blocked);
		else if (!strcmp(k, "mirror-by-digest-only"))
			r = boolean(x, k, v, &reg->mirror_by_digest_only);
		else if (!strcmp(k, "mirror") && (r = want(x, k, v, IMS_TOML_TABLES)) == 0)
			mirrors = v;
		else if (strcmp(k, "mirror"))
			unknown(x, " in [[registry]]", k, v);
		if (r < 0)
			return r;
	}
	reg->at = xasprintf("%s:%d:%d", x->file, t->line, t->col);
	if (!reg->prefix && !reg->location) {
		ims_error_set(x->err, IMS_EINVALID, "%s: a [[registry]] needs a `location` or a `prefix`", reg->at);
		return IMS_EINVALID;
	}
	if (!reg->prefix)
		reg->prefix = xstrdup(reg->location);
	if (!reg->location)
		reg->location = xstrdup(reg->prefix[0] == '*' ? "" : reg->prefix);
	for (size_t i = 0; mirrors && i < mirrors->n; i++) {
		reg->mirrors = xrealloc(reg->mirrors, (reg->nmirrors + 1) * sizeof(*reg->mirrors));
		ims_regconf_mirror *m = &reg->mirrors[reg->nmirrors++];
		memset(m, 0, sizeof(*m));
		if (mirror(x, mirrors->items[i], m) < 0)
			return IMS_EINVALID;
		if (m->pull != IMS_REGCONF_PULL_ALL && reg->mirror_by_digest_only) {
			const ims_toml *pf = ims_toml_get(mirrors->items[i], "pull-from-mirror");
			return bad(x, pf, "keep one of the two",
				   "`pull-from-mirror` cannot be set when the [[registry]] has mirror-by-digest-only");
		}
	}
	return 0;
}

/* Adds reg to c, replacing an entry with the same prefix (a drop-in's). */
static void put_registry(ims_regconf *c, ims_regconf_registry *reg)
{
	for (size_t i = 0; i < c->nregs; i++) {
		if (!strcmp(c->regs[i].prefix, reg->prefix)) {
			registry_dispose(&c->regs[i]);
			c->regs[i] = *reg;
			return;
		}
	}
	c->regs = xrealloc(c->regs, (c->nregs + 1) * sizeof(*c->regs));
	c->regs[c->nregs++] = *reg;
}

static int strings(const ctx *x, const char *key, const ims_toml *v, char ***out, size_t *n)
{
	if (want(x, key, v, IMS_TOML_ARRAY) < 0)
		return IMS_EINVALID;
	for (size_t i = 0; i < v->n; i++) {
		_cleanup_free_ char *h = NULL;
		if (location(x, key, v->items[i], false, &h) < 0) {
			strv_clear(out, n);
			return IMS_EINVALID;
		}
		strv_push(out, n, h);
	}
	return 0;
}

/* Version 1: [registries.search], [registries.insecure] and
 * [registries.block], each with `registries = [...]`. */
static int version1(const ctx *x, ims_regconf *c, const ims_toml *t, ims_regconf_registry **regs, size_t *nregs)
{
	if (want(x, "registries", t, IMS_TOML_TABLE) < 0)
		return IMS_EINVALID;
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i];
		const ims_toml *v = t->items[i];
		bool search = !strcmp(k, "search"), insecure = !strcmp(k, "insecure"), block = !strcmp(k, "block");
		if (!search && !insecure && !block) {
			unknown(x, " in [registries]", k, v);
			continue;
		}
		if (want(x, k, v, IMS_TOML_TABLE) < 0)
			return IMS_EINVALID;
		const ims_toml *list = ims_toml_get(v, "registries");
		_cleanup_(strv_freep) char **hosts = NULL;
		size_t n = 0;
		if (list && strings(x, "registries", list, &hosts, &n) < 0)
			return IMS_EINVALID;
		if (search) {
			strv_clear(&c->search, &c->nsearch);
			for (size_t j = 0; j < n; j++)
				strv_push(&c->search, &c->nsearch, hosts[j]);
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			ims_regconf_registry *reg = NULL;
			for (size_t q = 0; q < *nregs && !reg; q++)
				if (!strcmp((*regs)[q].prefix, hosts[j]))
					reg = &(*regs)[q];
			if (!reg) {
				*regs = xrealloc(*regs, (*nregs + 1) * sizeof(**regs));
				reg = &(*regs)[(*nregs)++];
				memset(reg, 0, sizeof(*reg));
				reg->prefix = xstrdup(hosts[j]);
				reg->location = xstrdup(hosts[j]);
				reg->at = xasprintf("%s:%d:%d", x->file, list->line, list->col);
			}
			if (insecure)
				reg->insecure = true;
			else
				reg->blocked = true;
		}
	}
	return 0;
}

static int parse_root(const ctx *x, ims_regconf *c, const ims_toml *root, ims_regconf_registry **regs, size_t *nregs)
{
	const ims_toml *v1 = ims_toml_get(root, "registries"), *v2 = NULL;
	const char *v2key = NULL;
	for (size_t i = 0; i < root->n && !v2; i++) {
		const char *k = root->keys[i];
		if (!strcmp(k, "registry") || !strcmp(k, "unqualified-search-registries"))
			v2 = root->items[i], v2key = k;
	}
	if (v1 && v2) {
		ims_error_set(x->err, IMS_EINVALID,
			      "%s:%d:%d: the version 1 table [registries] and the version 2 key "
			      "`%s` (at %d:%d) are mixed in one file",
			      x->file, v1->key_line, v1->key_col, v2key, v2->key_line, v2->key_col);
		ims_error_hint(x->err, "use the version 2 format of containers-registries.conf(5) only");
		return IMS_EINVALID;
	}
	for (size_t i = 0; i < root->n; i++) {
		const char *k = root->keys[i];
		const ims_toml *v = root->items[i];
		int r = 0;
		if (!strcmp(k, "registries")) {
			r = version1(x, c, v, regs, nregs);
		} else if (!strcmp(k, "unqualified-search-registries")) {
			strv_clear(&c->search, &c->nsearch);
			r = strings(x, k, v, &c->search, &c->nsearch);
		} else if (!strcmp(k, "registry")) {
			if ((r = want(x, k, v, IMS_TOML_TABLES)) < 0)
				return r;
			for (size_t j = 0; j < v->n; j++) {
				*regs = xrealloc(*regs, (*nregs + 1) * sizeof(**regs));
				ims_regconf_registry *reg = &(*regs)[(*nregs)++];
				memset(reg, 0, sizeof(*reg));
				if ((r = registry(x, v->items[j], reg)) < 0)
					return r;
				for (size_t q = 0; q + 1 < *nregs; q++)
					if (!strcmp((*regs)[q].prefix, reg->prefix)) {
						ims_error_set(x->err, IMS_EINVALID,
							      "%s: a [[registry]] with prefix `%s` is already at %s",
							      reg->at, reg->prefix, (*regs)[q].at);
						return IMS_EINVALID;
					}
			}
		} else if (!strcmp(k, "aliases")) {
			/* short-name aliases: read, not used (docs/choices.md) */
			r = want(x, k, v, IMS_TOML_TABLE);
			for (size_t j = 0; r == 0 && j < v->n; j++)
				r = want(x, v->keys[j], v->items[j], IMS_TOML_STRING);
		} else if (!strcmp(k, "short-name-mode")) {
			r = want(x, k, v, IMS_TOML_STRING);
		} else if (!strcmp(k, "credential-helpers")) {
			r = want(x, k, v, IMS_TOML_ARRAY);
		} else {
			unknown(x, "", k, v);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int ims_regconf_parse(ims_regconf *c, const char *file, const char *data, size_t len, const ims_events *ev,
		      ims_error **err)
{
	ims_toml *root = NULL;
	int r = ims_toml_parse(&root, file, data, len, err);
	if (r < 0)
		return r;
	ctx x = { file, ev, err };
	ims_regconf_registry *regs = NULL;
	size_t nregs = 0;
	_cleanup_(strv_freep) char **old_search = c->search;
	size_t old_nsearch = c->nsearch;
	c->search = NULL;
	c->nsearch = 0;
	r = parse_root(&x, c, root, &regs, &nregs);
	const ims_toml *sv = ims_toml_get(root, "unqualified-search-registries");
	if (!sv)
		sv = ims_toml_get(ims_toml_get(root, "registries"), "search");
	if (r >= 0 && sv) {
		free(c->search_at);
		c->search_at = xasprintf("%s:%d:%d", file, sv->line, sv->col);
	}
	bool search_set = sv != NULL;
	ims_toml_free(root);
	if (r < 0 || !search_set) {
		/* a failed or silent file leaves the earlier list */
		strv_clear(&c->search, &c->nsearch);
		c->search = steal_pointer(&old_search);
		c->nsearch = old_nsearch;
	}
	for (size_t i = 0; i < nregs; i++) {
		if (r < 0)
			registry_dispose(&regs[i]);
		else
			put_registry(c, &regs[i]);
	}
	free(regs);
	if (r >= 0)
		strv_push(&c->files, &c->nfiles, file);
	return r;
}

ims_regconf *ims_regconf_new(void)
{
	return xcalloc(1, sizeof(ims_regconf));
}

void ims_regconf_free(ims_regconf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nregs; i++)
		registry_dispose(&c->regs[i]);
	free(c->regs);
	strv_clear(&c->search, &c->nsearch);
	strv_clear(&c->files, &c->nfiles);
	free(c->search_at);
	free(c);
}

/* Reads path into c; a missing file is nothing when optional. */
static int read_one(ims_regconf *c, const char *path, bool optional, const ims_events *ev, ims_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	int r = ims_read_file(path, IMS_REGCONF_MAX_FILE, &data, &len, &e);
	if (r == IMS_ENOTFOUND && optional) {
		ims_error_free(e);
		return 0;
	}
	if (r < 0) {
		/* the host's configuration cannot be read: like a bad spec, exit 2 */
		e->code = IMS_EINVALID;
		if (!err) {
			ims_error_free(e);
			return IMS_EINVALID;
		}
		*err = e;
		return ims_error_wrap(err, "read registries configuration");
	}
	return ims_regconf_parse(c, path, data, len, ev, err);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.conf files of dir in lexical order; a missing dir has none. */
static int read_dir(ims_regconf *c, const char *dir, const ims_events *ev, ims_error **err)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : ims_error_sys(err, errno, IMS_EINVALID, "read registries configuration `%s`", dir);
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".conf") && de->d_name[0] != '.' && n < 4096)
			strv_push(&names, &n, de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			continue; /* subdirectories are ignored, as containers/image does */
		int r = read_one(c, p, true, ev, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void regconf_freep(ims_regconf **c)
{
	ims_regconf_free(*c);
}

int ims_regconf_load(ims_regconf **out, const ims_events *ev, ims_error **err)
{
	_cleanup_(regconf_freep) ims_regconf *c = ims_regconf_new();
	const char *only = getenv("IMAGESPEC_REGISTRIES_CONF");
	int r = 0;
	if (only && *only) {
		if ((r = read_one(c, only, false, ev, err)) < 0)
			return r;
		*out = steal_pointer(&c);
		return 0;
	}
	const char *home = getenv("HOME");
	_cleanup_free_ char *user = home && *home ? xasprintf("%s/.config/containers/registries.conf", home) : NULL;
	_cleanup_free_ char *user_d = home && *home ? xasprintf("%s/.config/containers/registries.conf.d", home) : NULL;
	const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
	struct stat st;
	bool user_file = !(env && *env) && user && stat(user, &st) == 0;
	const char *main_file = env && *env ? env : user_file ? user : "/etc/containers/registries.conf";
	if ((r = read_one(c, main_file, true, ev, err)) < 0)
		return r;
	if (!user_file && (r = read_dir(c, "/etc/containers/registries.conf.d", ev, err)) < 0)
		return r;
	if (user_d && (r = read_dir(c, user_d, ev, err)) < 0)
		return r;
	*out = steal_pointer(&c);
	return 0;
}
