/* imagespec version */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_version(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: imagespec version\n"
		     "  prints the version of imagespec (also: imagespec --version)\n"
		     "\n"
		     "Examples:\n"
		     "  imagespec version\n"
		     "  imagespec --version");
		return 0;
	}
	if (argc > 1)
		return cli_usage("version", "takes no arguments (got `%s`)", argv[1]);
	printf("imagespec %s\n", ims_version());
	return 0;
}
