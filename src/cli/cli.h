/* Shared pieces of the command line. The CLI uses the public API only. */
#ifndef IMS_CLI_H
#define IMS_CLI_H

#include <stdbool.h>

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

/* Options shared by every verb that touches images. */
typedef struct {
	cli_progress progress;
	const char **insecure;
	size_t ninsecure;
	const char *ca_cert;
	const char *cache_dir;
	bool no_cache;
	int jobs;
	int verbose;
	double timeout;      /* --timeout, seconds; 0: none */
	long low_speed_time; /* --low-speed-time, seconds; 0: the default */
} cli_common;

/* --timeout DURATION and --low-speed-time SECONDS, on every verb that
 * touches the network: their getopt entries, their help lines, and the
 * parser (0 when taken, else the exit status of a usage error). */
enum { OPT_DEADLINE_TIMEOUT = 900, OPT_DEADLINE_LOW_SPEED };
#define CLI_DEADLINE_LONGOPTS                                                  \
	{ "timeout", required_argument, NULL, OPT_DEADLINE_TIMEOUT },          \
	{ "low-speed-time", required_argument, NULL, OPT_DEADLINE_LOW_SPEED },
#define CLI_DEADLINE_HELP                                                                          \
	"      --timeout DURATION   every network request must end within DURATION of the\n"       \
	"                           start (90s, 5m, 1h30m; a bare number is seconds);\n"          \
	"                           default: no deadline\n"                                         \
	"      --low-speed-time S   a transfer slower than 1 KiB/s for S seconds has stalled\n"    \
	"                           and fails (default 30)\n"
int cli_deadline_option(const char *verb, int opt, const char *arg, cli_common *c);

/* Makes a context from the common options; events go to stderr. */
int cli_context(ims_context **out, const cli_common *c, ims_error **err);

/* A growable list of strings (for repeated flags). */
typedef struct {
	const char **v;
	size_t n;
} cli_list;
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

int cmd_build(int argc, char **argv, bool plan_only);
int cmd_validate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_tags(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_auth(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
