/* Credentials from docker's config.json and podman's auth.json, in the
 * order docker/cli uses (getConfiguredCredentialStore): credHelpers[host],
 * then credsStore, then auths[host]. The store is chosen, not cascaded:
 * once a helper is configured for a host, the file's `auths` entry is only
 * docker's empty marker and never supplies a secret.
 *
 * Keys are compared as host[:port] and only exactly (hostile-input item
 * 68): a key that is a prefix or suffix of the registry is another
 * registry, whose credentials must never leave for this one. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/auth_int.h"
#include "auth/credstore_int.h"
#include "digest/base64.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* ---- registry names ---- */

/* ASCII only, whatever the locale says isalnum() is. */
static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(".-_:[]", c);
}

static bool is_hub(const char *h)
{
	return !strcmp(h, "docker.io") || !strcmp(h, "index.docker.io") || !strcmp(h, "registry-1.docker.io");
}

static bool valid_port(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && n <= 5 && strspn(p, "0123456789") == n && atoi(p) >= 1 && atoi(p) <= 65535;
}

/* The port, when there is one, is digits only; "[::1]:5000" keeps its
 * brackets so that the address's colons are not taken for a port. */
static bool port_ok(const char *h)
{
	if (h[0] == '[') {
		const char *rb = strchr(h, ']');
		if (!rb || strchr(h + 1, '[') || strchr(rb + 1, ']') || rb == h + 1)
			return false;
		return !rb[1] || (rb[1] == ':' && valid_port(rb + 2));
	}
	if (strpbrk(h, "[]"))
		return false;
	const char *colon = strchr(h, ':');
	return !colon || (colon != h && valid_port(colon + 1));
}

/* host[:port] lower-cased, or NULL. keep_scheme_less_path: what a key
 * without a scheme but with a path means; docker strips the path (ConvertToHostname),
 * podman's auth.json scopes the credentials to that namespace, which a
 * host-wide lookup cannot honour, so such keys match nothing there. */
static char *normalize(const char *name, bool keep_scheme_less_path)
{
	if (!name)
		return NULL;
	bool scheme = false;
	if (!strncasecmp(name, "https://", 8)) {
		name += 8;
		scheme = true;
	} else if (!strncasecmp(name, "http://", 7)) {
		name += 7;
		scheme = true;
	}
	size_t n = strcspn(name, "/");
	if (name[n] == '/' && !scheme && !keep_scheme_less_path)
		return NULL;
	if (n == 0 || n > 261)
		return NULL;
	char *h = xstrndup(name, n);
	for (char *p = h; *p; p++) {
		if (!host_char(*p)) {
			free(h);
			return NULL;
		}
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	if (!port_ok(h)) {
		free(h);
		return NULL;
	}
	if (is_hub(h)) {
		free(h);
		return xstrdup(IMS_CRED_HUB);
	}
	return h;
}

char *ims_credstore_registry(const char *name)
{
	return normalize(name, true);
}

char *ims_credstore_server_url(const char *registry)
{
	return xstrdup(!strcmp(registry, IMS_CRED_HUB) ? IMS_CRED_HUB_URL : registry);
}

char *ims_cred__display(const char *s)
{
	size_t n = strnlen(s, 65);
	char *d = xstrndup(s, n > 64 ? 64 : n);
	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '`')
			*p = '?';
	if (n > 64) {
		char *t = xasprintf("%s...", d);
		free(d);
		return t;
	}
	return d;
}

/* ---- files ---- */

static char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return xstrdup(h);
	/* docker falls back to the user database too (os/user). */
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_dir && *res->pw_dir)
		return xstrdup(res->pw_dir);
	return NULL;
}

char *ims_cred__config_path(void)
{
	const char *d = getenv("DOCKER_CONFIG");
	if (d && *d)
		return ims_path_join(d, "config.json");
	_cleanup_free_ char *home = home_dir();
	return home ? ims_path_join(home, ".docker/config.json") : NULL;
}

static void wipe_tree(ims_json *v)
{
	if (!v)
		return;
	if (v->s)
		explicit_bzero(v->s, v->type == IMS_JSON_STRING ? v->slen : strlen(v->s));
	for (size_t i = 0; i < v->n; i++) {
		if (v->k && v->k[i])
			explicit_bzero(v->k[i], strlen(v->k[i]));
		if (v->v)
			wipe_tree(v->v[i]);
	}
}

void ims_cred__json_free(ims_json *v)
{
	wipe_tree(v);
	ims_json_free(v);
}

int ims_cred__file_load(const char *path, ims_json **out, ims_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	*out = NULL;
	int r = ims_read_file(path, IMS_CRED_FILE_MAX, &buf, &len, &e);
	if (r == IMS_ENOTFOUND) {
		ims_error_free(e);
		return 0;
	}
	if (r < 0) {
		if (err && !*err)
			*err = e;
		else
			ims_error_free(e);
		return r;
	}
	_cleanup_free_ char *what = xasprintf("`%s`", path);
	r = ims_json_parse_object(out, buf, len, IMS_CRED_FILE_MAX, what, err);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

/* The value of the member of obj whose key names registry. A key that is
 * spelled exactly as docker writes it wins over an alias; among aliases
 * the first in the file wins, so the choice never depends on hashing. */
static const ims_json *member_for(const ims_json *obj, const char *registry, bool podman, const char **key)
{
	_cleanup_free_ char *canonical = ims_credstore_server_url(registry);
	const ims_json *alias = NULL;
	for (size_t i = 0; i < obj->n; i++) {
		if (!strcmp(obj->k[i], canonical)) {
			*key = obj->k[i];
			return obj->v[i];
		}
		if (alias)
			continue;
		_cleanup_free_ char *h = normalize(obj->k[i], !podman);
		if (h && !strcmp(h, registry)) {
			*key = obj->k[i];
			alias = obj->v[i];
		}
	}
	return alias;
}

static int want_object(const ims_json *v, const char *path, const char *field, ims_error **err)
{
	if (!v || v->type == IMS_JSON_OBJECT)
		return 0;
	return ims_error_set(err, IMS_EINVALID, "`%s`: `%s` must be an object", path, field);
}

int ims_cred__helper_for(const ims_json *cfg, const char *path, const char *registry, const char **name,
			 bool *explicit_, ims_error **err)
{
	*name = NULL;
	*explicit_ = false;
	const ims_json *helpers = ims_json_get(cfg, "credHelpers"), *v = NULL;
	const char *key = NULL, *field = NULL;
	int r = want_object(helpers, path, "credHelpers", err);
	if (r < 0)
		return r;
	if (helpers && (v = member_for(helpers, registry, false, &key))) {
		field = "credHelpers";
		*explicit_ = true;
	} else if ((v = ims_json_get(cfg, "credsStore"))) {
		field = "credsStore";
	} else {
		return 0;
	}
	if (v->type != IMS_JSON_STRING)
		return ims_error_set(err, IMS_EINVALID, "`%s`: `%s` must name a credential helper", path, field);
	if (!*v->s && !*explicit_)
		return 0; /* docker: an empty credsStore means the file itself */
	if (!ims_cred__helper_name_valid(v->s)) {
		_cleanup_free_ char *shown = ims_cred__display(v->s);
		r = ims_error_set(err, IMS_EINVALID, "`%s`: `%s` names a credential helper that is not allowed: `%s`",
				  path, field, shown);
		ims_error_hint(err,
			       "a helper name is letters, digits, `.`, `_` and `-`, and does not start with "
			       "`.`, `_` or `-`");
		return r;
	}
	*name = v->s;
	return 0;
}

/* ---- auths entries ---- */

/* base64(user:password), as docker's decodeAuth: NULs around the
 * password are padding some writers leave; the user may not be empty. */
static int decode_auth(const char *b64, ims_credentials *out, const char *where, ims_error **err)
{
	size_t n = strlen(b64);
	if (n > IMS_CRED_AUTH_MAX)
		return ims_error_set(err, IMS_EINVALID, "%s: `auth` is larger than %d bytes", where, IMS_CRED_AUTH_MAX);
	/* As this reader always did: any run of `=` at the end is taken for
	 * padding, padding is optional, and unused bits are not checked. */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	char *raw = NULL;
	size_t dn = 0;
	if (ims_base64_decode(&raw, &dn, b64, n, IMS_BASE64_STD, IMS_BASE64_PAD_OPTIONAL | IMS_BASE64_LOOSE_BITS,
			      NULL) < 0)
		return ims_error_set(err, IMS_EINVALID, "%s: `auth` is not valid base64", where);
	unsigned char *d = (unsigned char *)raw;
	size_t len = dn;
	int r = 0;
	while (len > 0 && d[len - 1] == '\0')
		len--;
	unsigned char *colon = memchr(d, ':', len);
	if (!colon || colon == d || memchr(d, '\0', (size_t)(colon - d))) {
		r = ims_error_set(err, IMS_EINVALID, "%s: `auth` does not hold `user:password`", where);
		goto out;
	}
	unsigned char *p = colon + 1, *end = d + len;
	while (p < end && *p == '\0')
		p++;
	if (memchr(p, '\0', (size_t)(end - p))) {
		r = ims_error_set(err, IMS_EINVALID, "%s: `auth` holds a NUL byte inside the password", where);
		goto out;
	}
	ims_auth__free_secret(out->username);
	ims_auth__free_secret(out->password);
	out->username = xstrndup((char *)d, (size_t)(colon - d));
	out->password = xstrndup((char *)p, (size_t)(end - p));
out:
	explicit_bzero(d, dn);
	free(d);
	return r;
}

static void drop_empty(char **s)
{
	if (*s && !**s) {
		free(*s);
		*s = NULL;
	}
}

/* Fills out from one auths entry; 1 when it holds credentials. */
static int entry_read(const ims_json *e, const char *path, const char *key, ims_credentials *out, ims_error **err)
{
	_cleanup_free_ char *shown = ims_cred__display(key);
	_cleanup_free_ char *where = xasprintf("`%s`: `auths` entry `%s`", path, shown);
	if (e->type != IMS_JSON_OBJECT)
		return ims_error_set(err, IMS_EINVALID, "%s must be an object", where);
	static const char *const fields[] = { "auth", "username", "password", "identitytoken" };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(fields); i++) {
		const ims_json *v = ims_json_get(e, fields[i]);
		if (v && v->type != IMS_JSON_STRING)
			return ims_error_set(err, IMS_EINVALID, "%s: `%s` must be a string", where, fields[i]);
	}
	const char *u = ims_json_get_string(e, "username"), *p = ims_json_get_string(e, "password");
	const char *a = ims_json_get_string(e, "auth"), *t = ims_json_get_string(e, "identitytoken");
	out->username = u ? xstrdup(u) : NULL;
	out->password = p ? xstrdup(p) : NULL;
	out->identity_token = t ? xstrdup(t) : NULL;
	/* docker: `auth`, when present, replaces username and password. */
	int r = a && *a ? decode_auth(a, out, where, err) : 0;
	drop_empty(&out->username);
	drop_empty(&out->password);
	drop_empty(&out->identity_token);
	if (r < 0 || ims_auth__anonymous(out)) {
		ims_credentials_dispose(out);
		return r;
	}
	out->source = xasprintf("`%s`", path);
	return 1;
}

static int from_auths(const ims_json *cfg, const char *path, const char *registry, bool podman, ims_credentials *out,
		      ims_error **err)
{
	const ims_json *auths = ims_json_get(cfg, "auths");
	int r = want_object(auths, path, "auths", err);
	if (r < 0 || !auths)
		return r;
	const char *key = NULL;
	const ims_json *e = member_for(auths, registry, podman, &key);
	return e ? entry_read(e, path, key, out, err) : 0;
}

/* ---- helpers named by the file ---- */

static int from_helper(const char *name, bool explicit_, const char *path, const char *registry, ims_credentials *out,
		       char **pending, ims_error **err)
{
	_cleanup_free_ char *exe = ims_cred__helper_find(name);
	if (!exe) {
		/* credsStore is often left behind by Docker Desktop on a machine
		 * that no longer has it: warn and go on anonymously. A
		 * credHelpers entry is the user's explicit wish for this host. */
		if (explicit_) {
			int r = ims_error_set(err, IMS_EGENERIC,
					      "credential helper `docker-credential-%s` for `%s` (credHelpers in `%s`) "
					      "is not installed",
					      name, registry, path);
			ims_error_hint(err, "install it, or remove the entry from `credHelpers`");
			return r;
		}
		free(*pending);
		*pending = xasprintf(
			"credential helper `docker-credential-%s` is not installed; continuing without "
			"credentials for `%s`",
			name, registry);
		return 0;
	}
	_cleanup_free_ char *url = ims_credstore_server_url(registry);
	bool found = false;
	int r = ims_cred_helper_get(name, url, out, &found, err);
	if (r < 0)
		return ims_error_wrap(err, "credentials for `%s`", registry);
	if (!found || ims_auth__anonymous(out)) {
		ims_credentials_dispose(out);
		return 0;
	}
	free(out->source);
	out->source = xasprintf("credential helper `docker-credential-%s`", name);
	return 1;
}

/* 1: found, 0: nothing for this registry, < 0: error. */
static int from_file(const char *path, bool podman, const char *registry, ims_credentials *out, char **pending,
		     ims_error **err)
{
	ims_json *cfg = NULL;
	int r = ims_cred__file_load(path, &cfg, err);
	if (r < 0 || !cfg)
		return r;
	const char *helper = NULL;
	bool explicit_ = false;
	/* podman's auth.json may name helpers too, but the spec reads only
	 * its `auths`: REGISTRY_AUTH_FILE is a file of secrets. */
	if (!podman)
		r = ims_cred__helper_for(cfg, path, registry, &helper, &explicit_, err);
	if (r >= 0)
		r = helper ? from_helper(helper, explicit_, path, registry, out, pending, err)
			   : from_auths(cfg, path, registry, podman, out, err);
	ims_cred__json_free(cfg);
	return r;
}

int ims_credstore_lookup(const char *registry, ims_credentials *out, ims_warn_fn warn, void *warn_ud, ims_error **err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *reg = normalize(registry, true);
	if (!reg) {
		_cleanup_free_ char *shown = ims_cred__display(registry ? registry : "");
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a registry name", shown);
	}
	_cleanup_free_ char *config = ims_cred__config_path(), *pending = NULL;
	const char *authfile = getenv("REGISTRY_AUTH_FILE");
	int r = config ? from_file(config, false, reg, out, &pending, err) : 0;
	if (r == 0 && authfile && *authfile)
		r = from_file(authfile, true, reg, out, &pending, err);
	/* podman's own default, where `podman login` writes. */
	const char *run = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *podman = run && *run == '/' ? xasprintf("%s/containers/auth.json", run) : NULL;
	if (r == 0 && podman && (!authfile || strcmp(authfile, podman) != 0))
		r = from_file(podman, true, reg, out, &pending, err);
	if (r < 0) {
		ims_credentials_dispose(out);
		return r;
	}
	/* Said only when nothing else answered, so that it is true. */
	if (r == 0 && pending && warn)
		warn(warn_ud, pending);
	return 0;
}
