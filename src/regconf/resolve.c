/* What the registries.conf entries mean for one reference: the longest
 * matching prefix, the location rewrite and the mirrors of pulls, blocked
 * registries, and insecure hosts (containers-registries.conf(5)). */
#include <stdlib.h>
#include <string.h>

#include "regconf/regconf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* "host/repo[:tag][@digest]": what prefixes are matched against. */
static char *key_of(const ims_ref *ref)
{
	return xasprintf("%s/%s%s%s%s%s", ref->registry, ref->repository, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
			 ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

/* *.example.com covers a.example.com and a.b.example.com (with any port
 * or path after), never example.com itself. */
static bool wildcard_match(const char *key, const char *prefix)
{
	const char *dom = prefix + 1; /* ".example.com" */
	size_t hostl = strcspn(key, ":/");
	size_t dl = strlen(dom);
	return hostl > dl && !strncmp(key + hostl - dl, dom, dl);
}

/* The length of key that prefix matches (the host part for a wildcard),
 * or 0. */
static size_t match(const char *key, const char *prefix)
{
	if (prefix[0] == '*')
		return wildcard_match(key, prefix) ? strcspn(key, "/") : 0;
	size_t l = strlen(prefix);
	if (strncmp(key, prefix, l) != 0)
		return 0;
	return key[l] == '\0' || key[l] == '/' || key[l] == ':' || key[l] == '@' ? l : 0;
}

static const ims_regconf_registry *find(const ims_regconf *c, const char *key, size_t *matched)
{
	const ims_regconf_registry *best = NULL;
	size_t best_len = 0, best_plen = 0;
	for (size_t i = 0; c && i < c->nregs; i++) {
		size_t m = match(key, c->regs[i].prefix), pl = strlen(c->regs[i].prefix);
		if (m && pl > best_plen) {
			best = &c->regs[i];
			best_len = m;
			best_plen = pl;
		}
	}
	*matched = best_len;
	return best;
}

const ims_regconf_registry *ims_regconf_find(const ims_regconf *c, const ims_ref *ref)
{
	if (!c || ref->kind != IMS_REF_REGISTRY)
		return NULL;
	_cleanup_free_ char *key = key_of(ref);
	size_t m = 0;
	return find(c, key, &m);
}

char *ims_regconf_short_name_warning(const ims_regconf *c, const ims_ref *ref)
{
	if (!c || !c->nsearch || ref->kind != IMS_REF_REGISTRY || !ref->short_name || !strcmp(c->search[0], "docker.io"))
		return NULL;
	_cleanup_free_ char *key = key_of(ref);
	return xasprintf("`%s` is a short name: it means `%s`, as SPEC-v1 says; unqualified-search-registries (%s, "
			 "first `%s`) is not used for it; write the registry to silence this",
			 ref->repository + (strncmp(ref->repository, "library/", 8) ? 0 : 8), key,
			 c->search_at ? c->search_at : "registries.conf", c->search[0]);
}

int ims_regconf_check_blocked(const ims_regconf *c, const ims_ref *ref, const char *what, ims_error **err)
{
	const ims_regconf_registry *reg = ims_regconf_find(c, ref);
	if (!reg || !reg->blocked)
		return 0;
	_cleanup_free_ char *key = key_of(ref);
	ims_error_set(err, IMS_EGENERIC, "%s `%s`: registries configuration blocks `%s` (%s)", what, key, reg->prefix,
		      reg->at);
	ims_error_hint(err, "remove `blocked = true` there, or use another registry");
	return IMS_EGENERIC;
}

/* location + what follows the matched part of key, as a reference. */
static int rewrite(const ims_regconf_registry *reg, const char *location, const char *key, size_t matched,
		   ims_ref **out, ims_error **err)
{
	_cleanup_free_ char *s = xasprintf("%s%s", location, key + matched);
	ims_error *e = NULL;
	if (ims_ref_parse(out, s, &e) < 0 || (*out)->kind != IMS_REF_REGISTRY) {
		if (!e)
			ims_ref_free(*out);
		*out = NULL;
		ims_error_set(err, IMS_EINVALID, "%s: location `%s` makes `%s` of `%s`, not a registry reference%s%s",
			      reg->at, location, s, key, e ? ": " : "", e ? e->message : "");
		ims_error_free(e);
		return IMS_EINVALID;
	}
	return 0;
}

static bool mirror_applies(const ims_regconf_registry *reg, const ims_regconf_mirror *m, const ims_ref *ref)
{
	switch (m->pull) {
	case IMS_REGCONF_PULL_DIGEST_ONLY:
		return ref->digest != NULL;
	case IMS_REGCONF_PULL_TAG_ONLY:
		return ref->digest == NULL;
	default:
		return ref->digest != NULL || !reg->mirror_by_digest_only;
	}
}

static void add_source(ims_regconf_sources *s, ims_ref *r, bool mirror)
{
	s->refs = xrealloc(s->refs, (s->n + 1) * sizeof(*s->refs));
	s->is_mirror = xrealloc(s->is_mirror, (s->n + 1) * sizeof(*s->is_mirror));
	s->refs[s->n] = r;
	s->is_mirror[s->n++] = mirror;
}

int ims_regconf_pull_sources(const ims_regconf *c, const ims_ref *ref, ims_regconf_sources *out, ims_error **err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *key = ref->kind == IMS_REF_REGISTRY ? key_of(ref) : NULL;
	size_t matched = 0;
	const ims_regconf_registry *reg = key ? find(c, key, &matched) : NULL;
	if (!reg) {
		add_source(out, ims_ref_dup(ref), false);
		return 0;
	}
	for (size_t i = 0; i < reg->nmirrors; i++) {
		ims_ref *r = NULL;
		if (!mirror_applies(reg, &reg->mirrors[i], ref))
			continue;
		if (rewrite(reg, reg->mirrors[i].location, key, matched, &r, err) < 0) {
			ims_regconf_sources_dispose(out);
			return IMS_EINVALID;
		}
		add_source(out, r, true);
	}
	ims_ref *primary = NULL;
	if (!*reg->location)
		primary = ims_ref_dup(ref);
	else if (rewrite(reg, reg->location, key, matched, &primary, err) < 0) {
		ims_regconf_sources_dispose(out);
		return IMS_EINVALID;
	}
	add_source(out, primary, false);
	return 0;
}

void ims_regconf_sources_dispose(ims_regconf_sources *s)
{
	for (size_t i = 0; i < s->n; i++)
		ims_ref_free(s->refs[i]);
	free(s->refs);
	free(s->is_mirror);
	memset(s, 0, sizeof(*s));
}

static void add_host(char ***hosts, size_t *n, const char *location)
{
	_cleanup_free_ char *h = xstrndup(location, strcspn(location, "/"));
	if (!*h)
		return;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*hosts)[i], h))
			return;
	*hosts = xrealloc(*hosts, (*n + 2) * sizeof(**hosts));
	(*hosts)[(*n)++] = steal_pointer(&h);
	(*hosts)[*n] = NULL;
}

void ims_regconf_insecure_hosts(const ims_regconf *c, const ims_ref *const *refs, size_t nrefs, char ***hosts,
				size_t *n)
{
	for (size_t i = 0; c && i < c->nregs; i++) {
		const ims_regconf_registry *reg = &c->regs[i];
		for (size_t j = 0; j < reg->nmirrors; j++)
			if (reg->mirrors[j].insecure)
				add_host(hosts, n, reg->mirrors[j].location);
		if (!reg->insecure)
			continue;
		/* pulls go to the location, pushes to the prefix's own host */
		if (*reg->location)
			add_host(hosts, n, reg->location);
		if (reg->prefix[0] != '*') {
			add_host(hosts, n, reg->prefix);
			continue;
		}
		for (size_t j = 0; j < nrefs; j++) {
			if (!refs[j] || refs[j]->kind != IMS_REF_REGISTRY)
				continue;
			_cleanup_free_ char *key = key_of(refs[j]);
			size_t m = 0;
			if (find(c, key, &m) == reg)
				add_host(hosts, n, key);
		}
	}
}
