/* imagespec schema: the JSON Schema of image.yaml v1. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_schema(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: imagespec schema\n"
		     "  prints the JSON Schema (draft 2020-12) of image.yaml, for editors and for tools\n"
		     "  that generate specs\n"
		     "\n"
		     "Examples:\n"
		     "  imagespec schema > imagespec.schema.json\n"
		     "  # yaml-language-server: $schema=./imagespec.schema.json   (first line of image.yaml)\n"
		     "  imagespec schema | jq '.properties | keys'");
		return 0;
	}
	if (argc > 1)
		return cli_usage("schema", "takes no arguments (got `%s`)", argv[1]);
	fputs(ims_schema(), stdout);
	return 0;
}
