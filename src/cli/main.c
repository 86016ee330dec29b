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
	"  tags REPO           list the tags of a registry repository, layout or archive\n"
	"  schema              print the JSON Schema of image.yaml\n"
	"  auth login|logout|get  registry credentials (docker config.json)\n"
	"  cache du|prune      the size of the layer cache, and pruning it\n"
	"  version             print the version\n"
	"\n"
	"Run `imagespec <command> --help` for a command's options.\n";

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

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(verb, "--version"))
		verb = "version";
	if (ims_init() < 0) {
		fputs("imagespec: cannot initialise libcurl\n", stderr);
		return 1;
	}
	int rc;
	argc--, argv++;
	/* the verbs that write or wait on the network; auth login keeps the
	 * terminal's ordinary ^C at its prompt */
	if (strcmp(verb, "auth") && strcmp(verb, "schema") && strcmp(verb, "version") && strcmp(verb, "validate"))
		catch_signals();
	if (!strcmp(verb, "build"))
		rc = cmd_build(argc, argv, false);
	else if (!strcmp(verb, "plan"))
		rc = cmd_build(argc, argv, true);
	else if (!strcmp(verb, "validate"))
		rc = cmd_validate(argc, argv);
	else if (!strcmp(verb, "inspect"))
		rc = cmd_inspect(argc, argv);
	else if (!strcmp(verb, "copy"))
		rc = cmd_copy(argc, argv);
	else if (!strcmp(verb, "tags"))
		rc = cmd_tags(argc, argv);
	else if (!strcmp(verb, "schema"))
		rc = cmd_schema(argc, argv);
	else if (!strcmp(verb, "auth"))
		rc = cmd_auth(argc, argv);
	else if (!strcmp(verb, "cache"))
		rc = cmd_cache(argc, argv);
	else if (!strcmp(verb, "version"))
		rc = cmd_version(argc, argv);
	else
		rc = cli_usage(NULL, "unknown command `%s`", verb);
	ims_shutdown();
	if (caught && rc != 0) {
		fflush(stdout);
		die_of_signal(caught);
		rc = 128 + caught;
	}
	return rc;
}
