#include <assert.h>
#include <getopt.h>
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

int cli_param(cli_list *names, cli_list *values, char *arg, const char *verb)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return cli_usage(verb, "-p wants NAME=VALUE, not `%s`", arg);
	*eq = '\0';
	int rc = cli_list_add_capped(names, arg, CLI_MAX_PARAMS, verb, "-p");
	if (rc == 0)
		cli_list_add(values, eq + 1);
	return rc;
}

int cli_bad_option(const char *verb, const struct option *longopts, const char *arg)
{
	const char *names[64];
	size_t n = 0;
	for (const struct option *o = longopts; o && o->name && n < 64; o++)
		names[n++] = o->name;
	char word[64];
	const char *w = arg;
	while (*w == '-')
		w++;
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(w, "="), w);
	const char *hint = *word && arg[0] == '-' && arg[1] == '-' ? ims_did_you_mean(word, names, n) : NULL;
	if (hint)
		return cli_usage(verb, "unknown option `%s`; did you mean `--%s`?", arg, hint);
	return cli_usage(verb, "unknown option `%s`", arg);
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

static int cli_deadline_option(const char *verb, int opt, const char *arg, cli_common *c)
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

int cli_transport_option(const char *verb, int opt, const char *arg, cli_common *c)
{
	int r;
	switch (opt) {
	case OPT_DEADLINE_TIMEOUT:
	case OPT_DEADLINE_LOW_SPEED:
		if ((r = cli_once(c, verb, opt, opt == OPT_DEADLINE_TIMEOUT ? "--timeout" : "--low-speed-time")) != 0)
			return r;
		return cli_deadline_option(verb, opt, arg, c);
	case OPT_TRANSPORT_CA:
		if ((r = cli_once(c, verb, opt, "--ca-cert")) != 0)
			return r;
		if (!*arg)
			return cli_usage(verb, "--ca-cert wants a PEM file, not an empty name");
		c->ca_cert = arg;
		return 0;
	case OPT_TRANSPORT_INSECURE:
		if (!*arg)
			return cli_usage(verb, "--insecure-registry wants HOST or HOST:PORT, not an empty name");
		return cli_list_add_capped(&c->insecure, arg, CLI_MAX_INSECURE, verb, "--insecure-registry");
	case OPT_TRANSPORT_JOBS: {
		if ((r = cli_once(c, verb, opt, "-j")) != 0)
			return r;
		char *end;
		long n = strtol(arg, &end, 10);
		if (!*arg || *end || n < 1 || n > 64)
			return cli_usage(verb, "-j wants a number from 1 to 64, not `%s`", arg);
		c->jobs = (int)n;
		return 0;
	}
	case OPT_TRANSPORT_VERBOSE:
		c->verbose++;
		return 0;
	default:
		return 1;
	}
}

int cli_once(cli_common *c, const char *verb, int code, const char *flag)
{
	for (size_t i = 0; i < c->nseen; i++) {
		if (c->seen[i] != code)
			continue;
		fprintf(stderr, "imagespec: %s: %s given twice; it takes one value\n", verb, flag);
		fprintf(stderr,
			"hint: keep the %s you mean and drop the other (a later one does not override an earlier one)\n",
			flag);
		return EXIT_USAGE;
	}
	assert(c->nseen < sizeof(c->seen) / sizeof(c->seen[0]));
	c->seen[c->nseen++] = code;
	return 0;
}

int cli_no_args(const char *verb, int argc, char **argv, const char *help)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(help, stdout);
		return 0;
	}
	if (argc > 1)
		return cli_usage(verb, "takes no arguments (got `%s`)", argv[1]);
	return -1;
}

void cli_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void cli_common_dispose(cli_common *c)
{
	free(c->insecure.v);
	c->insecure.v = NULL;
	c->insecure.n = 0;
}

void cli_list_add(cli_list *l, const char *s)
{
	/* doubling, so that adding n entries costs O(n) */
	if ((l->n & (l->n - 1)) == 0) {
		l->v = realloc(l->v, (l->n ? 2 * l->n : 1) * sizeof(char *));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = s;
}

int cli_list_add_capped(cli_list *l, const char *s, size_t max, const char *verb, const char *flag)
{
	if (l->n >= max)
		return cli_usage(verb, "%s given more than %zu times", flag, max);
	cli_list_add(l, s);
	return 0;
}

int cli_context(ims_context **out, const cli_common *c, ims_error **err)
{
	cli_show show = c->progress == PROGRESS_QUIET ? CLI_SHOW_QUIET : CLI_SHOW_PLAIN;
	if (c->progress == PROGRESS_AUTO) {
		/* live bars need a terminal; in CI, pipes and dumb terminals, plain lines */
		const char *ci = getenv("CI"), *term = getenv("TERM");
		bool in_ci = ci && *ci && strcmp(ci, "false") && strcmp(ci, "0");
		bool dumb = !term || !*term || !strcmp(term, "dumb");
		if (isatty(STDERR_FILENO) && !in_ci && !dumb)
			show = CLI_SHOW_LIVE;
	}
	const char *nc = getenv("NO_COLOR"); /* no-color.org: set and not empty */
	cli_progress_start(show, !(nc && *nc));
	ims_context_options o = IMS_CONTEXT_OPTIONS_INIT;
	o.insecure_registries = c->insecure.v;
	o.ninsecure_registries = c->insecure.n;
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
	o.on_event = cli_progress_event;
	o.event_ud = NULL;
	return ims_context_new(out, &o, err);
}

int cli_transport_getopt(const char *verb, int argc, char **argv, const struct option *longopts, const char *usage,
			 cli_common *c, bool *json)
{
	int opt, r = 0;
	optind = 1;
	opterr = 0;
	while (r == 0 && (opt = getopt_long(argc, argv, ":h" CLI_TRANSPORT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_TRANSPORT_JSON:
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		case ':':
			r = cli_usage(verb, "option `%s` needs a value", argv[optind - 1]);
			break;
		default:
			if ((r = cli_transport_option(verb, opt, optarg, c)) == 1)
				r = cli_bad_option(verb, longopts, argv[optind - 1]);
		}
	}
	return r;
}
