/* imagespec auth: arrives with registry credentials (docker config.json,
 * credential helpers). Until then it says so instead of pretending. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_auth(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "login") && strcmp(argv[1], "logout") && strcmp(argv[1], "get")))
		return cli_usage("auth", "want login, logout or get");
	fprintf(stderr, "imagespec: auth %s: not supported yet; registry credentials arrive with registry support\n",
		argv[1]);
	return 1;
}
