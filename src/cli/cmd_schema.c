/* imagespec schema: the JSON Schema of image.yaml v1. */
#include <stdio.h>

#include "cli.h"

int cmd_schema(int argc, char **argv)
{
	int r = cli_no_args("schema", argc, argv,
			    "usage: imagespec schema\n"
			    "  prints the JSON Schema (draft 2020-12) of image.yaml, for editors and for tools\n"
			    "  that generate specs\n"
			    "\n"
			    "Examples:\n"
			    "  imagespec schema > imagespec.schema.json\n"
			    "  # yaml-language-server: $schema=./imagespec.schema.json   (first line of image.yaml)\n"
			    "  imagespec schema | jq '.properties | keys'\n");
	if (r >= 0)
		return r;
	fputs(ims_schema(), stdout);
	return 0;
}
