#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "imagespec/imagespec.h"
#include "util/xalloc.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int ims_context_new(ims_context **out, const ims_context_options *opts, ims_error **err)
{
	(void)err;
	ims_context *c = xcalloc(1, sizeof(*c));
	c->jobs = 4;
	if (opts) {
		c->tmp_dir = dup_or_null(opts->tmp_dir);
		c->cache_dir = dup_or_null(opts->cache_dir);
		c->ca_cert = dup_or_null(opts->ca_cert);
		if (opts->jobs > 0)
			c->jobs = opts->jobs;
		c->verbose = opts->verbose;
		c->on_event = opts->on_event;
		c->event_ud = opts->event_ud;
		if (opts->ninsecure_registries) {
			c->insecure = xcalloc(opts->ninsecure_registries, sizeof(char *));
			for (size_t i = 0; i < opts->ninsecure_registries; i++)
				c->insecure[i] = xstrdup(opts->insecure_registries[i]);
			c->ninsecure = opts->ninsecure_registries;
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
	free(c->cache_dir);
	free(c->ca_cert);
	for (size_t i = 0; i < c->ninsecure; i++)
		free(c->insecure[i]);
	free(c->insecure);
	free(c);
}

static void emit(ims_context *ctx, ims_event_kind kind, const char *fmt, va_list ap)
{
	if (!ctx || !ctx->on_event)
		return;
	char *msg = xvasprintf(fmt, ap);
	ims_event ev = { kind, msg, 0, -1 };
	ctx->on_event(&ev, ctx->event_ud);
	free(msg);
}

void ims_ctx_info(ims_context *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(ctx, IMS_EVENT_INFO, fmt, ap);
	va_end(ap);
}

void ims_ctx_warn(ims_context *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(ctx, IMS_EVENT_WARNING, fmt, ap);
	va_end(ap);
}
