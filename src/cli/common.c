#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(ims_error *err)
{
	cli_progress_done();
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

/* "90", "90s", "1.5m", "1h30m", "250ms": seconds, or -1. A bare number is
 * seconds; otherwise every number has its unit. */
static double parse_duration(const char *s)
{
	char *end = NULL;
	if (*s < '0' || *s > '9')
		return -1;
	double v = strtod(s, &end);
	if (!*end)
		return v;
	double total = 0;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -1;
		v = strtod(p, &end);
		p = end;
		if (!strncmp(p, "ms", 2))
			v *= 0.001, p += 2;
		else if (*p == 's')
			p++;
		else if (*p == 'm')
			v *= 60, p++;
		else if (*p == 'h')
			v *= 3600, p++;
		else
			return -1;
		total += v;
	}
	return total;
}

int cli_deadline_option(const char *verb, int opt, const char *arg, cli_common *c)
{
	if (opt == OPT_DEADLINE_TIMEOUT) {
		double t = parse_duration(arg);
		if (!(t > 0) || t > 7 * 24 * 3600)
			return cli_usage(verb,
					 "--timeout wants a duration such as 90s, 5m or 1h30m (up to 7 days), not `%s`",
					 arg);
		c->timeout = t;
		return 0;
	}
	char *end = NULL;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 1 || v > 3600)
		return cli_usage(verb, "--low-speed-time wants whole seconds from 1 to 3600, not `%s`", arg);
	c->low_speed_time = v;
	return 0;
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
	bool tty;        /* redraw one status line instead of printing lines */
	bool line_shown; /* a status line is on screen and needs clearing */
} event_state;

static event_state events;

/* Clears the status line before anything else is printed to stderr. */
static void clear_status(event_state *st)
{
	if (st->line_shown) {
		fputs("\r\033[K", stderr);
		st->line_shown = false;
	}
}

static void on_event(const ims_event *ev, void *ud)
{
	event_state *st = ud;
	if (ev->kind == IMS_EVENT_WARNING) {
		clear_status(st);
		fprintf(stderr, "imagespec: warning: %s\n", ev->message);
		return;
	}
	if (st->mode == PROGRESS_QUIET || ev->kind == IMS_EVENT_PROGRESS)
		return;
	if (st->tty) {
		/* one line, redrawn: the latest step, cut to the terminal's width */
		fprintf(stderr, "\r\033[K%.*s", 100, ev->message);
		st->line_shown = true;
		return;
	}
	fprintf(stderr, "%s\n", ev->message);
}

void cli_progress_done(void)
{
	clear_status(&events);
}

int cli_context(ims_context **out, const cli_common *c, ims_error **err)
{
	event_state *st = &events;
	st->mode = c->progress;
	st->tty = false;
	if (st->mode == PROGRESS_AUTO) {
		/* a redrawn status line needs a TTY; in CI and pipes, plain lines */
		const char *ci = getenv("CI");
		bool in_ci = ci && *ci && strcmp(ci, "false") && strcmp(ci, "0");
		st->tty = isatty(STDERR_FILENO) && !in_ci;
		st->mode = PROGRESS_PLAIN;
	}
	ims_context_options o = IMS_CONTEXT_OPTIONS_INIT;
	o.insecure_registries = c->insecure;
	o.ninsecure_registries = c->ninsecure;
	o.ca_cert = c->ca_cert;
	/* the cache is on unless --no-cache: --cache-dir, else the default */
	static char *default_dir;
	if (!c->no_cache && !c->cache_dir && !default_dir)
		default_dir = ims_layer_cache_default_dir();
	o.cache_dir = c->no_cache ? NULL : c->cache_dir ? c->cache_dir : default_dir;
	o.jobs = c->jobs;
	o.verbose = c->verbose;
	o.timeout = c->timeout;
	o.low_speed_time = c->low_speed_time;
	o.on_event = on_event;
	o.event_ud = st;
	return ims_context_new(out, &o, err);
}
