/* imagespec: the command line. One verb per file (cmd_<verb>.c). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: imagespec <command> [options]\n"
	"\n"
	"commands:\n"
	"  build [SPEC|-]      build the image a spec describes and write or push it\n"
	"  plan [SPEC|-]       show what build would do; writes nothing\n"
	"  validate SPEC...    check specs against the format, offline\n"
	"  inspect REF         show an image's manifest, config or platforms\n"
	"  copy SRC DST        copy an image between registries, layouts and archives\n"
	"  index create|append DEST SRC...  join single-platform images into an index\n"
	"  report REF          an image's layers, files and config as HTML or JSON\n"
	"  tags REPO           list the tags of a registry repository, layout or archive\n"
	"  schema              print the JSON Schema of image.yaml\n"
	"  auth login|logout|get  registry credentials (docker config.json)\n"
	"  cache du|prune      the size of the layer cache, and pruning it\n"
	"  version             print the version\n"
	"\n"
	"Run `imagespec help <command>` (or `imagespec <command> --help`) for a\n"
	"command's options and examples.\n";

/* SIGINT, SIGTERM and SIGHUP only raise the library's interrupt flag:
 * the operation unwinds through its ordinary error paths, which remove
 * what it wrote (docs/cli.md, "Interrupting a build"). A second signal
 * has the default action at once (SA_RESETHAND). */
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	if (!caught)
		caught = sig;
	ims_interrupt();
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: a blocked call returns */
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* a signal ignored by the parent (nohup, `cmd &` in a script) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* After the cleanup: dies of the signal that stopped the operation, so
 * that the shell sees it (and reports 128+N: 130 for SIGINT, 143 for
 * SIGTERM) and a script around it stops too. */
static void die_of_signal(int sig)
{
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

typedef struct {
	const char *name;
	int (*run)(int argc, char **argv);
} verb;

static int run_build(int argc, char **argv)
{
	return cmd_build(argc, argv, false);
}

static int run_plan(int argc, char **argv)
{
	return cmd_build(argc, argv, true);
}

static const verb verbs[] = {
	{ "build", run_build },	      { "plan", run_plan },	    { "validate", cmd_validate },
	{ "inspect", cmd_inspect },   { "copy", cmd_copy },	    { "tags", cmd_tags },
	{ "schema", cmd_schema },     { "auth", cmd_auth },	    { "cache", cmd_cache },
	{ "version", cmd_version },   { "report", cmd_report },
	{ "index", cmd_index },
};
#define NVERBS (sizeof(verbs) / sizeof(*verbs))

static const verb *find_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static int unknown_verb(const char *name)
{
	const char *names[NVERBS];
	for (size_t i = 0; i < NVERBS; i++)
		names[i] = verbs[i].name;
	const char *hint = ims_did_you_mean(name, names, NVERBS);
	if (hint)
		return cli_usage(NULL, "unknown command `%s`; did you mean `%s`?", name, hint);
	return cli_usage(NULL, "unknown command `%s`", name);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	/* `help VERB` is `VERB --help` */
	static char help_flag[] = "--help";
	char *help_argv[] = { argv[0], NULL, help_flag, NULL };
	if (!strcmp(name, "help") && argc >= 3) {
		if (!find_verb(argv[2]))
			return unknown_verb(argv[2]);
		name = help_argv[1] = argv[2];
		argc = 3;
		argv = help_argv;
	} else if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(name, "--version"))
		name = "version";
	const verb *v = find_verb(name);
	if (!v)
		return unknown_verb(name);
	if (ims_init() < 0) {
		fputs("imagespec: cannot initialise the library\n", stderr);
		return 1;
	}
	/* the verbs that write or wait on the network; auth login keeps the
	 * terminal's ordinary ^C at its prompt */
	if (strcmp(name, "auth") && strcmp(name, "schema") && strcmp(name, "version") && strcmp(name, "validate"))
		catch_signals();
	int rc = v->run(argc - 1, argv + 1);
	ims_shutdown();
	if (caught && rc != 0) {
		fflush(stdout);
		die_of_signal(caught);
		rc = 128 + caught;
	}
	return rc;
}
