/* `auth` and `registries`: how to reach registries. Secret values are
 * read with SUBST_SECRET and never quoted in an error. */
#include "spec/spec_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static bool host_key_valid(spec_ctx *c, const ynode *k, const char *what, bool path_ok)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]";
	const char *s = k->s;
	if (strstr(s, "://")) {
		spec_error(c, k->pos, "%s key `%s` must be a registry host, without a scheme", what, s);
		return false;
	}
	size_t hl = strcspn(s, "/");
	bool ok = hl && strspn(s, chars) >= hl && (path_ok || !s[hl]);
	for (const char *p = s + hl; ok && *p; p++)
		ok = (*p == '/' && p[1] && p[1] != '/') || strchr(chars, *p) != NULL;
	if (!ok)
		spec_error(c, k->pos, "%s key `%s` must be %s", what, s,
			   path_ok ? "a registry host, or a host/namespace prefix" : "a registry host[:port]");
	return ok;
}

static void get_secret(spec_ctx *c, const ynode *v, const char *what, ims_str *out, bool *literal)
{
	spec_scalar s;
	if (!spec_get_scalar(c, v, what, SUBST_SECRET, &s))
		return;
	out->s = s.s;
	out->pos = s.pos;
	if (*s.s && !s.from_host)
		*literal = true;
}

static void parse_auth_entry(spec_ctx *c, const ypair *p, void *entry)
{
	ims_auth_entry *a = entry;
	const ynode *n = p->value;
	a->key = (ims_str){ xstrdup(p->key->s), p->key->pos };
	host_key_valid(c, p->key, "`auth`", true);
	if (!spec_check_keys(c, n, &spec_obj_auth, "an `auth` entry"))
		return;
	const ynode *v;
	if ((v = spec_val(n, "username")))
		spec_get_str(c, v, "`username`", GET_NONEMPTY, &a->username);
	if ((v = spec_val(n, "password")))
		get_secret(c, v, "`password`", &a->password, &a->literal_secret);
	if ((v = spec_val(n, "token")))
		get_secret(c, v, "`token`", &a->token, &a->literal_secret);
	if ((v = spec_val(n, "googleCredentialsFile")))
		spec_get_str(c, v, "`googleCredentialsFile`", GET_NONEMPTY, &a->google_credentials_file);
	if ((v = spec_val(n, "helper")) && spec_get_str(c, v, "`helper`", GET_NONEMPTY, &a->helper) &&
	    strspn(a->helper.s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		    strlen(a->helper.s))
		spec_error(c, v->pos, "`helper` `%s` must be the name after `docker-credential-`, like `ecr-login`",
			   a->helper.s);

	bool user = ynode_find(n, "username"), pass = ynode_find(n, "password");
	int methods = (user || pass) + !!ynode_find(n, "token") + !!ynode_find(n, "googleCredentialsFile") +
		      !!ynode_find(n, "helper");
	if (methods > 1)
		spec_error(c, n->pos,
			   "an `auth` entry takes only one of `username` with `password`, `token`, "
			   "`googleCredentialsFile` or `helper`");
	else if (!methods)
		spec_error(c, n->pos,
			   "an `auth` entry needs `username` with `password`, `token`, "
			   "`googleCredentialsFile` or `helper`");
	else if (user && !pass)
		spec_error(c, n->pos, "`username` needs `password`");
	else if (pass && !user)
		spec_error(c, n->pos, "`password` needs `username`");
}

static void parse_registry_entry(spec_ctx *c, const ypair *p, void *entry)
{
	ims_registry_entry *r = entry;
	const ynode *n = p->value;
	r->host = (ims_str){ xstrdup(p->key->s), p->key->pos };
	host_key_valid(c, p->key, "`registries`", false);
	if (!spec_check_keys(c, n, &spec_obj_registry, "a `registries` entry"))
		return;
	const ynode *v;
	if ((v = spec_val(n, "insecure")))
		spec_get_bool(c, v, "`insecure`", &r->insecure);
	if ((v = spec_val(n, "caFile")))
		spec_get_str(c, v, "`caFile`", GET_NONEMPTY, &r->ca_file);
	if ((v = spec_val(n, "clientCert")))
		spec_get_str(c, v, "`clientCert`", GET_NONEMPTY, &r->client_cert);
	if ((v = spec_val(n, "clientKey")))
		spec_get_str(c, v, "`clientKey`", GET_NONEMPTY, &r->client_key);
	if (!ynode_find(n, "clientCert") != !ynode_find(n, "clientKey"))
		spec_error(c, n->pos, "`clientCert` and `clientKey` must be given together");
}

typedef void (*host_entry_fn)(spec_ctx *c, const ypair *p, void *entry);

/* auth and registries: a mapping of hosts to mappings with fixed keys. */
static void parse_hosts(spec_ctx *c, const ynode *v, const char *what, size_t size, host_entry_fn fn, void **out,
			size_t *n)
{
	if (v->kind != YN_MAP) {
		spec_error(c, v->pos, "%s must be a mapping of registry hosts, not %s", what, ynode_kind_name(v));
		return;
	}
	*out = xcalloc(v->n ? v->n : 1, size);
	*n = v->n;
	for (size_t i = 0; i < v->n; i++)
		fn(c, &v->pairs[i], (char *)*out + i * size);
}

void spec_parse_access(spec_ctx *c, const ynode *root, ims_spec_model *m)
{
	const ynode *v;
	if ((v = spec_val(root, "auth")))
		parse_hosts(c, v, "`auth`", sizeof(*m->auth), parse_auth_entry, (void **)&m->auth, &m->nauth);
	if ((v = spec_val(root, "registries")))
		parse_hosts(c, v, "`registries`", sizeof(*m->registries), parse_registry_entry, (void **)&m->registries,
			    &m->nregistries);
}
