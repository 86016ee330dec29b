/* imagespec version */
#include <stdio.h>

#include "cli.h"

int cmd_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("imagespec %s\n", ims_version());
	return 0;
}
