/* spec → build plan: references, overrides, platforms, the created time,
 * then the layers (steps.c) and everything the executor needs from the
 * spec (config edits, annotations, removals, registries). Pure: reads
 * nothing but the environment's SOURCE_DATE_EPOCH and the clock for
 * `created: now`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan/from_spec.h"
#include "plan/plan_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"
#include "util/xalloc.h"

static int resolve_created(ims_plan *p, const ims_spec_model *m, ims_error **err)
{
	if (m->created_set) {
		p->created = m->created_now ? (int64_t)time(NULL) : m->created;
		return 0;
	}
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (!sde || !*sde) {
		p->created = 0;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long long v = strtoll(sde, &end, 10);
	if (errno || *end || v < 0)
		return ims_error_set(err, IMS_EINVALID,
				     "SOURCE_DATE_EPOCH `%.40s` is not a number of seconds since the epoch", sde);
	p->created = v;
	return 0;
}

static int parse_ref_at(ims_ref **out, const char *s, const char *what, const char *at, ims_error **err)
{
	ims_error *e = NULL;
	if (ims_ref_parse(out, s, &e) < 0) {
		int r = ims_error_set(err, IMS_EINVALID, "%s%s: %s", at, what, e->message);
		ims_error_free(e);
		return r;
	}
	return 0;
}

static int plan_target(ims_plan *p, const ims_spec_model *m, const ims_plan_options *opts, ims_error **err)
{
	const char *target = NULL;
	ims_pos tpos = { 0, 0 };
	if (opts->output) {
		target = opts->output;
		p->to_output = true;
	} else if (opts->target) {
		target = opts->target;
	} else if (m->target.s) {
		target = m->target.s;
		tpos = m->target.pos;
	}
	if (!target)
		return ims_error_set(err, IMS_EINVALID,
				     "%s: the spec has no `target`; set one or pass --target/--output", m->path);
	int r = parse_ref_at(&p->target, target, opts->output ? "--output" : "target", ims_plan_at(p, m, tpos), err);
	if (r < 0)
		return r;
	/* a target written in the spec is relative to it; one given on the
	 * command line, to where the user stands */
	p->target_dir = tpos.line ? xstrdup(m->dir) : ims_path_absolute(NULL, ".");
	if (p->target->kind == IMS_REF_SCRATCH)
		return ims_error_set(err, IMS_EINVALID, "the target cannot be `scratch`");
	if (opts->output && p->target->kind == IMS_REF_REGISTRY)
		return ims_error_set(err, IMS_EINVALID,
				     "--output `%s` must be an oci:, oci-archive: or docker-archive: reference; use "
				     "--target to push",
				     opts->output);
	return 0;
}

/* More names than an OCI layout can list is a runaway script, not a build. */
#define PLAN_MAX_TAGS 1000

static int plan_tags(ims_plan *p, const ims_spec_model *m, const ims_plan_options *opts, ims_error **err)
{
	if (m->tags.n + opts->ntags > PLAN_MAX_TAGS)
		return ims_error_set(err, IMS_EINVALID, "%zu tags is more than the limit of %d",
				     m->tags.n + opts->ntags, PLAN_MAX_TAGS);
	p->tags = xcalloc(m->tags.n + opts->ntags + 1, sizeof(char *));
	for (size_t i = 0; i < m->tags.n; i++)
		p->tags[p->ntags++] = xstrdup(m->tags.v[i].s);
	for (size_t i = 0; i < opts->ntags; i++) {
		if (!ims_ref_tag_valid(opts->tags[i])) {
			_cleanup_free_ char *q = ims_text_quote(opts->tags[i]);
			return ims_error_set(err, IMS_EINVALID, "-t `%s` is not a valid tag", q);
		}
		p->tags[p->ntags++] = xstrdup(opts->tags[i]);
	}
	return 0;
}

int ims_plan_platforms(ims_plan *p, const char *const *plats, size_t n, ims_error **err)
{
	p->platforms = xcalloc(n + 1, sizeof(*p->platforms));
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(plats[i], "all")) {
			p->all_platforms = true;
			continue;
		}
		ims_platform *pl = ims_platform_parse(plats[i]);
		if (!pl)
			return ims_error_set(err, IMS_EINVALID, "platform `%s` is not of the form os/arch[/variant]",
					     plats[i]);
		p->platforms[p->nplatforms++] = pl;
	}
	if (p->all_platforms && p->nplatforms)
		return ims_error_set(err, IMS_EINVALID, "platform `all` cannot be combined with other platforms");
	return 0;
}

static int plan_spec_platforms(ims_plan *p, const ims_spec_model *m, const ims_plan_options *opts, ims_error **err)
{
	if (opts->nplatforms)
		return ims_plan_platforms(p, opts->platforms, opts->nplatforms, err);
	_cleanup_free_ const char **v = xcalloc(m->platforms.n + 1, sizeof(char *));
	for (size_t i = 0; i < m->platforms.n; i++)
		v[i] = m->platforms.v[i].s;
	return ims_plan_platforms(p, v, m->platforms.n, err);
}

/* A cache reference: a registry repository. */
static int cache_ref(ims_ref **out, const char *s, const char *what, const char *at, ims_error **err)
{
	int r = parse_ref_at(out, s, what, at, err);
	if (r >= 0 && (*out)->kind != IMS_REF_REGISTRY) {
		ims_ref_free(*out);
		*out = NULL;
		r = ims_error_set(err, IMS_EINVALID, "%s%s `%s` must be a registry reference", at, what, s);
	}
	return r;
}

/* --cache-from first, then the spec's `cache.from`; --cache-to replaces
 * `cache.to`. Version 1 options have no cache fields. */
static int plan_caches(ims_plan *p, const ims_spec_model *m, const ims_plan_options *opts, ims_error **err)
{
	size_t nopt = opts->version >= 2 ? opts->ncache_from : 0;
	const char *to = opts->version >= 2 ? opts->cache_to : NULL;
	p->cache_from = xcalloc(nopt + m->cache_from.n + 1, sizeof(*p->cache_from));
	int r = 0;
	for (size_t i = 0; i < nopt && r >= 0; i++)
		if ((r = cache_ref(&p->cache_from[p->ncache_from], opts->cache_from[i], "--cache-from", "", err)) >= 0)
			p->ncache_from++;
	for (size_t i = 0; i < m->cache_from.n && r >= 0; i++)
		if ((r = cache_ref(&p->cache_from[p->ncache_from], m->cache_from.v[i].s, "cache.from",
				   ims_plan_at(p, m, m->cache_from.v[i].pos), err)) >= 0)
			p->ncache_from++;
	if (r >= 0 && to)
		r = cache_ref(&p->cache_to, to, "--cache-to", "", err);
	else if (r >= 0 && m->cache_to.s)
		r = cache_ref(&p->cache_to, m->cache_to.s, "cache.to", ims_plan_at(p, m, m->cache_to.pos), err);
	return r;
}

/* The spec's `auth` and `registries`, with paths made absolute. */
static void plan_access(ims_plan *p, const ims_spec_model *m)
{
	p->auth = xcalloc(m->nauth + 1, sizeof(*p->auth));
	for (size_t i = 0; i < m->nauth; i++) {
		const ims_auth_entry *a = &m->auth[i];
		ims_plan_auth *o = &p->auth[p->nauth++];
		o->key = a->key.s;
		o->at = ims_plan_at(p, m, a->key.pos);
		o->username = a->username.s;
		o->password = a->password.s;
		o->token = a->token.s;
		o->helper = a->helper.s;
		if (a->google_credentials_file.s)
			o->google_file = ims_path_absolute(m->dir, a->google_credentials_file.s);
	}
	p->registries = xcalloc(m->nregistries + 1, sizeof(*p->registries));
	for (size_t i = 0; i < m->nregistries; i++) {
		const ims_registry_entry *e = &m->registries[i];
		ims_plan_registry *o = &p->registries[p->nregistries++];
		o->host = e->host.s;
		o->insecure = e->insecure;
		o->ca_file = e->ca_file.s ? ims_path_absolute(m->dir, e->ca_file.s) : NULL;
		o->client_cert = e->client_cert.s ? ims_path_absolute(m->dir, e->client_cert.s) : NULL;
		o->client_key = e->client_key.s ? ims_path_absolute(m->dir, e->client_key.s) : NULL;
	}
}

static ims_plan_kv *kvs(const ims_kvlist *l, size_t *n)
{
	ims_plan_kv *v = xcalloc(l->n + 1, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = (ims_plan_kv){ l->v[i].key.s, l->v[i].value.s };
	*n = l->n;
	return v;
}

static ims_plan_argv argv_edit(ims_plan *p, const ims_strlist *l, bool null)
{
	ims_plan_argv a = { 0 };
	a.clear = null;
	a.set = !null && l->set;
	a.argv = ims_plan_strv(p, l, &a.argc);
	return a;
}

/* SPEC-v1.md section 1: the config edits, as the executor applies them. */
static void plan_config(ims_plan *p, const ims_spec_model *m)
{
	ims_plan_config *c = &p->config;
	c->entrypoint = argv_edit(p, &m->entrypoint, m->entrypoint_null);
	c->cmd = argv_edit(p, &m->cmd, m->cmd_null);
	c->env = ims_plan_own(p, kvs(&m->env, &c->nenv));
	c->working_dir = m->working_dir.s;
	c->user = m->user.s;
	c->stop_signal = m->stop_signal.s;
	c->labels = ims_plan_own(p, kvs(&m->labels, &c->nlabels));
	c->exposed_ports = ims_plan_strv(p, &m->exposed_ports, &c->nexposed_ports);
	c->volumes = ims_plan_strv(p, &m->volumes, &c->nvolumes);
	if (m->healthcheck.set) {
		const ims_healthcheck_spec *h = &m->healthcheck;
		c->healthcheck.set = true;
		c->healthcheck.test = ims_plan_strv(p, &h->test, &c->healthcheck.ntest);
		c->healthcheck.interval = h->interval;
		c->healthcheck.timeout = h->timeout;
		c->healthcheck.start_period = h->start_period;
		c->healthcheck.start_interval = h->start_interval;
		c->healthcheck.retries = h->retries;
	}
	p->annotations = kvs(&m->annotations, &p->nannotations);
	p->removals = xcalloc(m->remove_layers.n + 1, sizeof(*p->removals));
	for (size_t i = 0; i < m->remove_layers.n; i++)
		p->removals[p->nremovals++] = (ims_plan_removal){ m->remove_layers.v[i].s,
								  ims_plan_at(p, m, m->remove_layers.v[i].pos) };
	p->copy_remote_layers = m->sync_copy_remote_layers;
	p->ignore_exists = m->sync_ignore_exists;
	p->format = m->format == IMS_FORMAT_OCI      ? IMS_PLAN_FORMAT_OCI
		    : m->format == IMS_FORMAT_DOCKER ? IMS_PLAN_FORMAT_DOCKER
						     : IMS_PLAN_FORMAT_INHERIT;
}

int ims_plan_from_spec(ims_plan **out, const ims_spec_model *m, const ims_plan_options *opts, ims_error **err)
{
	static const ims_plan_options defaults = IMS_PLAN_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != 1 && opts->version != IMS_PLAN_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_plan_options version %d is not supported (this library has %d)",
				     opts->version, IMS_PLAN_OPTIONS_VERSION);
	ims_plan *p = xcalloc(1, sizeof(*p));
	p->kind = IMS_PLAN_BUILD;
	p->spec_path = m->path;
	p->spec_dir = xstrdup(m->dir);
	p->source_dir = xstrdup(m->dir);
	int r;
	if (!m->base.s) {
		r = ims_error_set(err, IMS_EINVALID, "%s: the spec has no `base`; write `base: scratch` to start empty",
				  m->path);
		goto fail;
	}
	if ((r = parse_ref_at(&p->source, m->base.s, "base", ims_plan_at(p, m, m->base.pos), err)) < 0 ||
	    (r = plan_target(p, m, opts, err)) < 0 || (r = plan_tags(p, m, opts, err)) < 0 ||
	    (r = plan_spec_platforms(p, m, opts, err)) < 0 || (r = resolve_created(p, m, err)) < 0 ||
	    (r = plan_caches(p, m, opts, err)) < 0)
		goto fail;
	plan_access(p, m);
	plan_config(p, m);
	ims_plan_steps(p, m);
	*out = p;
	return 0;
fail:
	ims_plan_destroy(p);
	return r;
}
