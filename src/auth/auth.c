/* The auth room's entry points: answering a registry's challenge with an
 * Authorization value. The realm rules are in realm.c, the token exchange
 * in token.c, the cache in cache.c.
 *
 * Credentials are looked up per call (they may differ per repository:
 * `gcr.io/project-a` and `gcr.io/project-b`), and their identity is part
 * of every cache key, so one repository's credentials never answer for
 * another's. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int ims_auth_new(ims_auth **out, ims_http *http, ims_credentials_fn creds, void *creds_ud)
{
	ims_auth *a = xcalloc(1, sizeof(*a));
	a->http = http;
	a->creds = creds;
	a->creds_ud = creds_ud;
	ims_auth__cache_init(&a->cache);
	*out = a;
	return 0;
}

void ims_auth_free(ims_auth *a)
{
	if (!a)
		return;
	ims_auth__cache_dispose(&a->cache);
	free(a);
}

typedef struct {
	ims_auth *a;
	const char *origin, *registry, *repository;
	const ims_challenge *ch;
	const char *const *scopes;
	size_t nscopes;
	char *scope_set;
	ims_credentials creds;
	char identity[65];
	bool renew;
	bool stale; /* renew, of a cached value that worked before */
} call;

static void call_dispose(call *k)
{
	free(k->scope_set);
	ims_credentials_dispose(&k->creds);
}

/* A token given as it is ("token:" in the spec). It answers any scheme:
 * there is nothing to exchange, so a refusal is final. */
static int direct(call *k, char **out, ims_error **err)
{
	const char *src = ims_auth__source(&k->creds);
	_cleanup_free_ char *key = xasprintf("direct\n%s\n%s\n%s", k->origin, k->scope_set, k->identity);
	if (k->renew && !k->stale) {
		ims_auth__cache_drop(&k->a->cache, key);
		return ims_error_set(err, IMS_EAUTH, "registry `%s` refused the credentials from %s", k->registry, src);
	}
	if (!ims_auth__token_valid(k->creds.token))
		return ims_error_set(err, IMS_EINVALID,
				     "the token from %s cannot be used in a header (spaces, control characters, "
				     "or longer than %d bytes)",
				     src, IMS_AUTH_TOKEN_MAX);
	*out = xasprintf("Bearer %s", k->creds.token);
	ims_auth__cache_put(&k->a->cache, key, k->origin, k->scope_set, *out, 0, 0);
	return 0;
}

/* What Basic credentials are also kept under: they answer for their
 * repository whatever the scopes, as docker sends them to every request
 * once a registry asked for them. Not a scope set (those are empty or
 * start with "repository:"), so the two never meet. */
static char *any_scope(const char *repository)
{
	return xasprintf("@%s", repository ? repository : "");
}

static int basic(call *k, char **out, ims_error **err)
{
	_cleanup_free_ char *key = xasprintf("basic\n%s\n%s\n%s", k->origin, k->scope_set, k->identity);
	_cleanup_free_ char *any = any_scope(k->repository);
	_cleanup_free_ char *any_key = xasprintf("basic\n%s\n%s\n%s", k->origin, any, k->identity);
	if (k->renew) {
		ims_auth__cache_drop(&k->a->cache, key);
		ims_auth__cache_drop(&k->a->cache, any_key);
	}
	/* Credentials that worked before are presented again once: the 401
	 * was a server's lost session, not a refusal (the caller gives up
	 * when the next answer is a 401 too). */
	int rc = ims_auth__basic(&k->creds, k->registry, k->renew && !k->stale, out, err);
	if (rc == 0) {
		ims_auth__cache_put(&k->a->cache, key, k->origin, k->scope_set, *out, 0, 0);
		ims_auth__cache_put(&k->a->cache, any_key, k->origin, any, *out, 0, 0);
	}
	return rc;
}

static int bearer(call *k, char **out, ims_error **err)
{
	const ims_challenge *ch = k->ch;
	int rc = ims_auth__realm_check(k->a->http, k->origin, k->registry, ch->realm, err);
	if (rc < 0)
		return rc;
	/* The origin too: a token fetched for one registry is never handed
	 * to another that names the same realm. */
	_cleanup_free_ char *key = xasprintf("bearer\n%s\n%s\n%s\n%s\n%s", k->origin, ch->realm,
					     ch->service ? ch->service : "", k->scope_set, k->identity);
	if (k->renew)
		ims_auth__cache_drop(&k->a->cache, key);
	else if ((*out = ims_auth__cache_get(&k->a->cache, key)))
		return 0;

	ims_token_request r = {
		.registry = k->registry,
		.origin = k->origin,
		.realm = ch->realm,
		.service = ch->service,
		.scopes = k->scopes,
		.nscopes = k->nscopes,
	};
	ims_token t;
	if ((rc = ims_auth__token_fetch(k->a->http, &r, &k->creds, &t, err)) < 0)
		return rc;
	*out = xasprintf("Bearer %s", t.token);
	ims_auth__free_secret(t.token);
	ims_auth__cache_put(&k->a->cache, key, k->origin, k->scope_set, *out, t.lifetime, t.remaining);
	return 0;
}

/* Without scopes from the caller (a ping of /v2/), the challenge's own
 * scope (a space-separated list, RFC 6750) is what the registry wants. */
static char **challenge_scopes(const ims_challenge *ch, size_t *n)
{
	char **v = NULL, *save = NULL;
	size_t cap = 0;
	*n = 0;
	if (!ch->scope)
		return NULL;
	_cleanup_free_ char *s = xstrdup(ch->scope);
	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		v = xgrow(v, &cap, *n + 1, sizeof(*v));
		v[(*n)++] = xstrdup(t);
	}
	return v;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ims_auth_header(ims_auth *a, const char *origin, const char *registry, const char *repository,
		    const ims_challenge *ch, const char *const *scopes, size_t nscopes, int renew, char **out,
		    ims_error **err)
{
	assert(a && origin && registry && ch && out);
	*out = NULL;
	size_t nown = 0;
	char **own = nscopes ? NULL : challenge_scopes(ch, &nown);
	call k = {
		.a = a,
		.origin = origin,
		.registry = registry,
		.repository = repository,
		.ch = ch,
		.scopes = own ? (const char *const *)own : scopes,
		.nscopes = own ? nown : nscopes,
		.renew = renew != 0,
		.stale = renew == IMS_AUTH_STALE,
	};
	k.scope_set = ims_auth__scope_set(k.scopes, k.nscopes);

	int rc = 0;
	if (a->creds && (rc = a->creds(a->creds_ud, registry, repository, &k.creds, err)) < 0)
		goto done;
	ims_auth__identity(&k.creds, k.identity);

	if (k.creds.token && *k.creds.token)
		rc = direct(&k, out, err);
	else if (ch->scheme && !strcmp(ch->scheme, "bearer"))
		rc = bearer(&k, out, err);
	else if (ch->scheme && !strcmp(ch->scheme, "basic"))
		rc = basic(&k, out, err);
	else
		rc = ims_error_set(err, IMS_EUNSUPPORTED,
				   "registry `%s` asks for `%s` authentication, which is not "
				   "supported",
				   registry, ch->scheme ? ch->scheme : "");
done:
	call_dispose(&k);
	free_strv(own, nown);
	return rc;
}

/* The repository of a scope "repository:NAME:ACTIONS", or NULL. */
static char *scope_repository(const char *scope)
{
	const char *p = scope && !strncmp(scope, "repository:", 11) ? scope + 11 : NULL;
	const char *end = p ? strrchr(p, ':') : NULL;
	return end && end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

char *ims_auth_cached(ims_auth *a, const char *origin, const char *const *scopes, size_t nscopes)
{
	if (!a || !origin)
		return NULL;
	_cleanup_free_ char *set = ims_auth__scope_set(scopes, nscopes);
	char *v = ims_auth__cache_find(&a->cache, origin, set);
	if (v || !nscopes)
		return v;
	/* Basic credentials given for the first scope's repository (whose
	 * credentials the request would be answered with) */
	_cleanup_free_ char *repo = scope_repository(scopes[0]);
	if (!repo)
		return NULL;
	_cleanup_free_ char *any = any_scope(repo);
	return ims_auth__cache_find(&a->cache, origin, any);
}
