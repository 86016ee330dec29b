/* Shared pieces of the command line. The CLI uses the public API only. */
#ifndef IMS_CLI_H
#define IMS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "imagespec/imagespec.h"
#include "progress.h"

enum { EXIT_USAGE = 2 };

/* Prints "imagespec: LINE" for each line of the error, then its hint, and
 * returns the exit status for its code. */
int cli_fail(ims_error *err);
/* Prints a usage error and returns 2. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct option;
/* The usage error for an unknown option arg ("--tag" or "--tag=x"), with
 * the nearest long option of longopts as a did-you-mean. Returns 2. */
int cli_bad_option(const char *verb, const struct option *longopts, const char *arg);

typedef enum { PROGRESS_AUTO, PROGRESS_PLAIN, PROGRESS_QUIET } cli_progress;

/* A growable list of strings (for repeated flags). */
typedef struct {
	const char **v;
	size_t n;
} cli_list;

/* Options shared by every verb that touches images. */
typedef struct {
	cli_progress progress;
	cli_list insecure; /* --insecure-registry, repeatable */
	const char *ca_cert;
	const char *cache_dir;
	bool no_cache;
	int jobs;
	int verbose;
	double timeout;      /* --timeout, seconds; 0: none */
	long low_speed_time; /* --low-speed-time, seconds; 0: the default */
	int seen[32];        /* the single-value options given so far (cli_once) */
	size_t nseen;
} cli_common;

/* Writes s as a JSON string (quoted, escaped) to f. */
void cli_json_string(FILE *f, const char *s);

/* Frees what the parsing of c allocated. */
void cli_common_dispose(cli_common *c);

/* A single-value option (code, as getopt_long returns it) given a second
 * time is a usage error naming flag, not a silent "the last one wins".
 * Returns 0 the first time, else prints the error and returns 2. */
int cli_once(cli_common *c, const char *verb, int code, const char *flag);

/* The options of every verb that reaches a registry (build, plan, copy,
 * inspect, tags): their getopt entries, their help lines and their parser,
 * in one place, so that every verb takes them the same way. */
enum {
	OPT_DEADLINE_TIMEOUT = 900,
	OPT_DEADLINE_LOW_SPEED,
	OPT_TRANSPORT_CA,
	OPT_TRANSPORT_INSECURE,
	OPT_TRANSPORT_JOBS = 'j',
	OPT_TRANSPORT_VERBOSE = 'v',
};
#define CLI_DEADLINE_LONGOPTS                                                  \
	{ "timeout", required_argument, NULL, OPT_DEADLINE_TIMEOUT },          \
	{ "low-speed-time", required_argument, NULL, OPT_DEADLINE_LOW_SPEED },
#define CLI_DEADLINE_HELP                                                                          \
	"      --timeout DURATION   every network request must end within DURATION of the\n"       \
	"                           start (90s, 5m, 1h30m; a bare number is seconds);\n"          \
	"                           default: no deadline\n"                                         \
	"      --low-speed-time S   a transfer slower than 1 KiB/s for S seconds has stalled\n"    \
	"                           and fails (default 30)\n"
#define CLI_TRANSPORT_LONGOPTS                                                          \
	{ "ca-cert", required_argument, NULL, OPT_TRANSPORT_CA },                       \
	{ "insecure-registry", required_argument, NULL, OPT_TRANSPORT_INSECURE },       \
	{ "verbose", no_argument, NULL, OPT_TRANSPORT_VERBOSE }, CLI_DEADLINE_LONGOPTS
/* getopt's short options for the above (after ":") */
#define CLI_TRANSPORT_SHORTOPTS "v"
#define CLI_TRANSPORT_HELP                                                                          \
	"      --ca-cert FILE       extra CA certificates (PEM) for every registry\n"              \
	"      --insecure-registry HOST[:PORT]\n"                                                   \
	"                           allow plain HTTP and unverified TLS for HOST (repeatable);\n"  \
	"                           a warning names each such host that is used\n"                 \
	"  -v, --verbose            trace every HTTP request (redacted) on stderr\n"               \
	CLI_DEADLINE_HELP
/* -j N (build): taken by cli_transport_option too. */
#define CLI_JOBS_LONGOPT { "jobs", required_argument, NULL, OPT_TRANSPORT_JOBS },
/* 0 when opt is a transport option (or -j) and was taken, 1 when it is not one,
 * else the exit status of a usage error. */
int cli_transport_option(const char *verb, int opt, const char *arg, cli_common *c);
/* --json (OPT_TRANSPORT_JSON), the transport options and --help of a verb that takes
 * no others (tags, index): 0 when parsed (operands from optind on), -1 when
 * --help was printed, else the exit status of a usage error. */
enum { OPT_TRANSPORT_JSON = 800 };
int cli_transport_getopt(const char *verb, int argc, char **argv, const struct option *longopts, const char *usage,
			 cli_common *c, bool *json);

/* Makes a context from the common options; events go to stderr. */
int cli_context(ims_context **out, const cli_common *c, ims_error **err);

void cli_list_add(cli_list *l, const char *s);
/* Adds s unless the list already holds max entries; then prints a usage
 * error naming flag and returns 2. Repeated flags are capped so that a
 * runaway script fails at once instead of building for minutes. */
int cli_list_add_capped(cli_list *l, const char *s, size_t max, const char *verb, const char *flag);
/* -p NAME=VALUE: splits arg (in place) into the two lists. Returns 0 or
 * the usage error's status. */
int cli_param(cli_list *names, cli_list *values, char *arg, const char *verb);

/* Caps on repeated flags (docs/cli.md, "Limits"). */
enum {
	CLI_MAX_TAGS = 1000, /* an OCI layout lists at most 1024 images */
	CLI_MAX_PARAMS = 1000,
	CLI_MAX_PLATFORMS = 64,
	CLI_MAX_INSECURE = 256,
	CLI_MAX_CACHE_FROM = 32,
};

/* A verb without options or arguments (schema, version): -1 to go on;
 * else it printed help (-h, --help: 0) or a usage error (2). */
int cli_no_args(const char *verb, int argc, char **argv, const char *help);

int cmd_build(int argc, char **argv, bool plan_only);
int cmd_validate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_report(int argc, char **argv);
/* Writes data to path ("-": standard output) through a temporary file
 * beside it and a rename, so that a failed write leaves no half file and
 * an old one stays whole (cmd_report.c). -1 with errno on failure. */
int cli_write_file(const char *path, const char *data, size_t len);
int cmd_tags(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_auth(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
