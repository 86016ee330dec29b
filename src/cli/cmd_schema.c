/* imagespec schema: the JSON Schema of image.yaml v1. */
#include <stdio.h>

#include "cli.h"

int cmd_schema(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage("schema", "takes no arguments (got `%s`)", argv[1]);
	fputs(ims_schema(), stdout);
	return 0;
}
