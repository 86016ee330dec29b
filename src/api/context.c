/* ims_context: settings every operation shares. */
#include <stdlib.h>

#include "api/context.h"
#include "util/error.h"
#include "util/xalloc.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int ims_context_new(ims_context **out, const ims_context_options *opts, ims_error **err)
{
	if (opts && opts->version != IMS_CONTEXT_OPTIONS_VERSION && opts->version != 1)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_context_options version %d is not supported (this library has %d)",
				     opts->version, IMS_CONTEXT_OPTIONS_VERSION);
	ims_context *c = xcalloc(1, sizeof(*c));
	ims_exec_env *e = &c->env;
	e->jobs = 4;
	if (opts) {
		e->tmp_dir = c->tmp_dir = dup_or_null(opts->tmp_dir);
		e->cache_dir = c->cache_dir = dup_or_null(opts->cache_dir);
		e->ca_cert = c->ca_cert = dup_or_null(opts->ca_cert);
		if (opts->jobs > 0)
			e->jobs = opts->jobs;
		e->verbose = opts->verbose;
		e->ev = (ims_events){ opts->on_event, opts->event_ud };
		if (opts->version >= 2) {
			e->timeout = opts->timeout > 0 ? opts->timeout : 0;
			e->low_speed_time = opts->low_speed_time > 0 ? opts->low_speed_time : 0;
		}
		if (opts->ninsecure_registries) {
			c->insecure = xcalloc(opts->ninsecure_registries, sizeof(char *));
			for (size_t i = 0; i < opts->ninsecure_registries; i++)
				c->insecure[i] = xstrdup(opts->insecure_registries[i]);
			e->insecure = (const char *const *)c->insecure;
			e->ninsecure = opts->ninsecure_registries;
		}
	}
	*out = c;
	return 0;
}

void ims_context_free(ims_context *c)
{
	if (!c)
		return;
	free(c->tmp_dir);
	free(c->ca_cert);
	for (size_t i = 0; i < c->env.ninsecure; i++)
		free(c->insecure[i]);
	free(c->insecure);
	free(c->cache_dir);
	free(c);
}
