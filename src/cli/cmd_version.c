/* imagespec version */
#include <stdio.h>

#include "cli.h"

int cmd_version(int argc, char **argv)
{
	int r = cli_no_args("version", argc, argv,
			    "usage: imagespec version\n"
			    "  prints the version of imagespec (also: imagespec --version)\n"
			    "\n"
			    "Examples:\n"
			    "  imagespec version\n"
			    "  imagespec --version\n");
	if (r >= 0)
		return r;
	printf("imagespec %s\n", ims_version());
	return 0;
}
