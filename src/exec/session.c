/* What a run needs to reach registries: one HTTP client with the TLS
 * settings of the command line and the spec, and one pool of registry
 * clients whose credentials come from the spec's `auth:` (longest host or
 * host/namespace prefix wins). Made only when a reference needs it. */
#include <stdlib.h>
#include <string.h>

#include "auth/credstore.h"
#include "auth/google.h"
#include "exec/session.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static void trace(void *ud, const char *line)
{
	ims_ctx_info(ud, "%s", line);
}

/* Does key ("host" or "host/namespace") cover registry/repository? */
static size_t prefix_match(const char *key, const char *registry, const char *repository)
{
	size_t rl = strlen(registry), kl = strlen(key);
	if (strncmp(key, registry, rl) != 0)
		return 0;
	if (key[rl] == '\0')
		return kl;
	if (key[rl] != '/' || !repository)
		return 0;
	const char *ns = key + rl + 1;
	size_t nl = strlen(ns);
	if (strncmp(repository, ns, nl) != 0 || (repository[nl] != '\0' && repository[nl] != '/'))
		return 0;
	return kl;
}

/* host[:port] as the credential store keys it (Docker Hub's aliases are
 * one name); the name itself when it is not a registry name. */
static char *store_host(const char *host)
{
	char *h = ims_credstore_registry(host);
	return h ? h : xstrdup(host);
}

static const ims_auth_entry *spec_entry(ims_session *s, const char *registry, const char *repository);

static void warn_cb(void *ud, const char *msg)
{
	ims_ctx_warn(ud, "%s", msg);
}

/* The spec's entry: username/password or token as they are, a credential
 * helper, or a Google service-account key file. */
static int from_spec_entry(ims_session *s, const ims_auth_entry *a, const char *registry, ims_credentials *out,
			   ims_error **err)
{
	const ims_spec_model *m = s->spec;
	if (a->helper.s) {
		_cleanup_free_ char *host = store_host(registry);
		_cleanup_free_ char *url = ims_credstore_server_url(host);
		bool found = false;
		int r = ims_cred_helper_get(a->helper.s, url, out, &found, err);
		if (r < 0)
			return ims_error_wrap(err, "%s:%d:%d: auth for `%s`", m->path, a->key.pos.line, a->key.pos.col,
					      a->key.s);
		if (!found)
			ims_ctx_warn(s->ctx, "credential helper `docker-credential-%s` has no credentials for `%s`",
				     a->helper.s, registry);
		return 0;
	}
	if (a->google_credentials_file.s) {
		_cleanup_free_ char *path = ims_path_absolute(m->dir, a->google_credentials_file.s);
		return ims_google_credentials(s->google, path, out, err);
	}
	out->username = a->username.s ? xstrdup(a->username.s) : NULL;
	out->password = a->password.s ? xstrdup(a->password.s) : NULL;
	out->token = a->token.s ? xstrdup(a->token.s) : NULL;
	out->source = xasprintf("the spec's auth `%s`", a->key.s);
	return 0;
}

static bool empty(const ims_credentials *c)
{
	return !c->username && !c->password && !c->token && !c->identity_token;
}

/* SPEC-v1.md's order: the spec's `auth`, then docker's config.json, then
 * $REGISTRY_AUTH_FILE, then (for Google's registries)
 * GOOGLE_APPLICATION_CREDENTIALS, then anonymous. Called from upload
 * threads too: everything here is read-only or locked below. */
static int session_credentials(void *ud, const char *registry, const char *repository, ims_credentials *out,
			       ims_error **err)
{
	ims_session *s = ud;
	memset(out, 0, sizeof(*out));
	const ims_auth_entry *a = spec_entry(s, registry, repository);
	if (a)
		return from_spec_entry(s, a, registry, out, err);
	int r = ims_credstore_lookup(registry, out, warn_cb, s->ctx, err);
	if (r < 0 || !empty(out))
		return r;
	ims_credentials_dispose(out);
	memset(out, 0, sizeof(*out));
	const char *gac = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	if (gac && *gac && ims_google_host(registry))
		return ims_google_credentials(s->google, gac, out, err);
	return 0;
}

static const ims_auth_entry *spec_entry(ims_session *s, const char *registry, const char *repository)
{
	if (!s->spec)
		return NULL;
	const ims_auth_entry *best = NULL;
	size_t best_len = 0;
	_cleanup_free_ char *reg = store_host(registry);
	for (size_t i = 0; i < s->spec->nauth; i++) {
		const ims_auth_entry *a = &s->spec->auth[i];
		_cleanup_free_ char *key = xstrdup(a->key.s);
		char *slash = strchr(key, '/');
		if (slash)
			*slash = '\0';
		_cleanup_free_ char *host = store_host(key);
		_cleanup_free_ char *norm = slash ? xasprintf("%s/%s", host, slash + 1) : xstrdup(host);
		size_t l = prefix_match(norm, reg, repository);
		if (l > best_len)
			best = a, best_len = l;
	}
	return best;
}

int ims_session_open(ims_session *s, ims_context *ctx, const ims_spec_model *spec, ims_error **err)
{
	memset(s, 0, sizeof(*s));
	s->spec = spec;
	s->ctx = ctx;
	size_t n = (spec ? spec->nregistries : 0) + ctx->ninsecure;
	s->hosts = xcalloc(n + 1, sizeof(*s->hosts));
	s->paths = xcalloc(3 * n + 2, sizeof(char *));
	for (size_t i = 0; spec && i < spec->nregistries; i++) {
		const ims_registry_entry *e = &spec->registries[i];
		ims_http_host *h = &s->hosts[s->nhosts++];
		h->host = e->host.s;
		h->insecure = e->insecure;
		if (e->ca_file.s)
			h->ca_file = s->paths[s->npaths++] = ims_path_absolute(spec->dir, e->ca_file.s);
		if (e->client_cert.s)
			h->client_cert = s->paths[s->npaths++] = ims_path_absolute(spec->dir, e->client_cert.s);
		if (e->client_key.s)
			h->client_key = s->paths[s->npaths++] = ims_path_absolute(spec->dir, e->client_key.s);
	}
	for (size_t i = 0; i < ctx->ninsecure; i++) {
		ims_http_host *h = &s->hosts[s->nhosts++];
		h->host = ctx->insecure[i];
		h->insecure = true;
	}
	ims_http_options o = { 0 };
	if (ctx->ca_cert)
		o.ca_file = s->paths[s->npaths++] = ims_path_absolute(NULL, ctx->ca_cert);
	o.hosts = s->hosts;
	o.nhosts = s->nhosts;
	if (ctx->verbose) {
		o.trace = trace;
		o.trace_ud = ctx;
	}
	/* on failure nothing is left for the caller to close */
	int r = ims_http_new(&s->http, &o, err);
	if (r >= 0 && (r = ims_google_new(&s->google, s->http)) < 0)
		ims_error_set(err, r, "cannot set up Google credentials");
	if (r >= 0)
		r = ims_registry_pool_new(&s->pool, s->http, session_credentials, s, err);
	if (r < 0)
		ims_session_close(s);
	return r;
}

void ims_session_close(ims_session *s)
{
	ims_registry_pool_free(s->pool);
	ims_google_free(s->google);
	ims_http_free(s->http);
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->hosts);
	memset(s, 0, sizeof(*s));
}
