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
	const ims_session *s = ud;
	ims_events_info(&s->env->ev, "%s", line);
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

static void warn_cb(void *ud, const char *msg)
{
	const ims_session *s = ud;
	ims_events_warn(&s->env->ev, "%s", msg);
}

/* The spec's entry: username/password or token as they are, a credential
 * helper, or a Google service-account key file. */
static int from_spec_entry(ims_session *s, const ims_plan_auth *a, const char *registry, ims_credentials *out,
			   ims_error **err)
{
	if (a->helper) {
		_cleanup_free_ char *host = store_host(registry);
		_cleanup_free_ char *url = ims_credstore_server_url(host);
		bool found = false;
		int r = ims_cred_helper_get(a->helper, url, out, &found, err);
		if (r < 0)
			return ims_error_wrap(err, "%sauth for `%s`", a->at, a->key);
		if (!found)
			ims_events_warn(&s->env->ev,
					"credential helper `docker-credential-%s` has no credentials for `%s`",
					a->helper, registry);
		return 0;
	}
	if (a->google_file)
		return ims_google_credentials(s->google, a->google_file, out, err);
	out->username = a->username ? xstrdup(a->username) : NULL;
	out->password = a->password ? xstrdup(a->password) : NULL;
	out->token = a->token ? xstrdup(a->token) : NULL;
	out->source = xasprintf("the spec's auth `%s`", a->key);
	return 0;
}

static bool empty(const ims_credentials *c)
{
	return !c->username && !c->password && !c->token && !c->identity_token;
}

/* The longest key (host or host/namespace) that covers registry/repository,
 * among n keys read by key_of; -1 when none does. */
static ssize_t best_key(const char *registry, const char *repository, const void *v, size_t size, size_t n,
			const char *(*key_of)(const void *))
{
	ssize_t best = -1;
	size_t best_len = 0;
	_cleanup_free_ char *reg = store_host(registry);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *key = xstrdup(key_of((const char *)v + i * size));
		char *slash = strchr(key, '/');
		if (slash)
			*slash = '\0';
		_cleanup_free_ char *host = store_host(key);
		_cleanup_free_ char *norm = slash ? xasprintf("%s/%s", host, slash + 1) : xstrdup(host);
		size_t l = prefix_match(norm, reg, repository);
		if (l > best_len)
			best = (ssize_t)i, best_len = l;
	}
	return best;
}

static const char *plan_auth_key(const void *a)
{
	return ((const ims_plan_auth *)a)->key;
}

static const char *env_cred_key(const void *c)
{
	return ((const ims_exec_credential *)c)->key;
}

/* SPEC-v1.md's order, after what the caller holds in memory: the spec's
 * `auth`, then docker's config.json, then $REGISTRY_AUTH_FILE, then (for
 * Google's registries) GOOGLE_APPLICATION_CREDENTIALS, then anonymous.
 * Called from upload threads too: everything here is read-only or locked
 * below. */
static int session_credentials(void *ud, const char *registry, const char *repository, ims_credentials *out,
			       ims_error **err)
{
	ims_session *s = ud;
	memset(out, 0, sizeof(*out));
	const ims_exec_env *env = s->env;
	ssize_t i = best_key(registry, repository, env->creds, sizeof(*env->creds), env->ncreds, env_cred_key);
	if (i >= 0) {
		const ims_exec_credential *c = &env->creds[i];
		out->username = c->username ? xstrdup(c->username) : NULL;
		out->password = c->password ? xstrdup(c->password) : NULL;
		out->token = c->token ? xstrdup(c->token) : NULL;
		out->source = xasprintf("the credentials given for `%s`", c->key);
		return 0;
	}
	if (s->plan && (i = best_key(registry, repository, s->plan->auth, sizeof(*s->plan->auth), s->plan->nauth,
				     plan_auth_key)) >= 0)
		return from_spec_entry(s, &s->plan->auth[i], registry, out, err);
	int r = ims_credstore_lookup(registry, out, warn_cb, s, err);
	if (r < 0 || !empty(out))
		return r;
	ims_credentials_dispose(out);
	memset(out, 0, sizeof(*out));
	const char *gac = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	if (gac && *gac && ims_google_host(registry))
		return ims_google_credentials(s->google, gac, out, err);
	return 0;
}

bool ims_session_needed(const ims_plan *p)
{
	if (p->source->kind == IMS_REF_REGISTRY || (p->target && p->target->kind == IMS_REF_REGISTRY) ||
	    p->ncache_from || p->cache_to)
		return true;
	for (size_t i = 0; i < p->nsources; i++)
		if (p->sources[i]->kind == IMS_REF_REGISTRY)
			return true;
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].kind == IMS_STEP_URL ||
		    (p->steps[i].kind == IMS_STEP_BLOB && p->steps[i].blob.nurls && p->copy_remote_layers))
			return true;
	return false;
}

int ims_session_open(ims_session *s, const ims_exec_env *env, const ims_plan *plan, ims_error **err)
{
	memset(s, 0, sizeof(*s));
	s->plan = plan;
	s->env = env;
	size_t nreg = plan ? plan->nregistries : 0;
	s->hosts = xcalloc(nreg + env->ninsecure + 1, sizeof(*s->hosts));
	for (size_t i = 0; i < nreg; i++) {
		const ims_plan_registry *e = &plan->registries[i];
		ims_http_host *h = &s->hosts[s->nhosts++];
		h->host = e->host;
		h->insecure = e->insecure;
		h->ca_file = e->ca_file;
		h->client_cert = e->client_cert;
		h->client_key = e->client_key;
	}
	for (size_t i = 0; i < env->ninsecure; i++) {
		ims_http_host *h = &s->hosts[s->nhosts++];
		h->host = env->insecure[i];
		h->insecure = true;
	}
	ims_http_options o = { 0 };
	if (env->ca_cert)
		o.ca_file = s->ca_cert = ims_path_absolute(NULL, env->ca_cert);
	o.hosts = s->hosts;
	o.nhosts = s->nhosts;
	o.timeout = env->timeout;
	o.low_speed_time = env->low_speed_time;
	if (env->verbose) {
		o.trace = trace;
		o.trace_ud = s;
	}
	o.notice = trace;
	o.notice_ud = s;
	o.warn = warn_cb;
	o.warn_ud = s;
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
	free(s->ca_cert);
	free(s->hosts);
	memset(s, 0, sizeof(*s));
}
