#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_fail(ims_error *err)
{
	if (!err) {
		fputs("imagespec: failed\n", stderr);
		return 1;
	}
	const char *p = err->message ? err->message : "failed";
	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		fprintf(stderr, "imagespec: %.*s\n", len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
	if (err->hint)
		fprintf(stderr, "hint: %s\n", err->hint);
	int code = ims_error_exit_status(err->code);
	ims_error_free(err);
	return code;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("imagespec: ", stderr);
	if (verb)
		fprintf(stderr, "%s: ", verb);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fprintf(stderr, "hint: run `imagespec %s%s--help` for usage\n", verb ? verb : "", verb ? " " : "");
	return EXIT_USAGE;
}

void cli_list_add(cli_list *l, const char *s)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(char *));
	if (!l->v)
		abort();
	l->v[l->n++] = s;
}

typedef struct {
	cli_progress mode;
} event_state;

static void on_event(const ims_event *ev, void *ud)
{
	event_state *st = ud;
	if (ev->kind == IMS_EVENT_WARNING) {
		fprintf(stderr, "imagespec: warning: %s\n", ev->message);
		return;
	}
	if (st->mode == PROGRESS_QUIET || ev->kind == IMS_EVENT_PROGRESS)
		return;
	fprintf(stderr, "%s\n", ev->message);
}

int cli_context(ims_context **out, const cli_common *c, ims_error **err)
{
	static event_state st;
	st.mode = c->progress;
	if (st.mode == PROGRESS_AUTO) {
		/* bars need a TTY; in CI and pipes, plain lines */
		const char *ci = getenv("CI");
		st.mode = PROGRESS_PLAIN;
		(void)ci;
	}
	ims_context_options o = IMS_CONTEXT_OPTIONS_INIT;
	o.insecure_registries = c->insecure;
	o.ninsecure_registries = c->ninsecure;
	o.ca_cert = c->ca_cert;
	o.cache_dir = c->no_cache ? NULL : c->cache_dir;
	o.jobs = c->jobs;
	o.verbose = c->verbose;
	o.on_event = on_event;
	o.event_ud = &st;
	return ims_context_new(out, &o, err);
}
