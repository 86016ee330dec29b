/* imagespec: the command line. One verb per file (cmd_<verb>.c). */
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
	return rc;
}
