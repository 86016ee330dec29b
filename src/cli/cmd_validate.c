/* imagespec validate SPEC... : every error of every file, offline. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_validate(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("validate", "name at least one spec file");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		puts("usage: imagespec validate SPEC...\n\nChecks each spec against the image.yaml v1 format "
		     "and reports every problem as FILE:LINE:COL: message.");
		return 0;
	}
	int worst = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage("validate", "unknown option `%s`", argv[i]);
		ims_error *err = NULL;
		ims_spec *spec = NULL;
		if (ims_spec_load_file(&spec, argv[i], NULL, &err) < 0) {
			int rc = cli_fail(err);
			if (rc > worst)
				worst = rc;
			continue;
		}
		for (const char *const *w = ims_spec_warnings(spec); *w; w++)
			fprintf(stderr, "imagespec: warning: %s\n", *w);
		printf("%s: valid\n", argv[i]);
		ims_spec_free(spec);
	}
	return worst;
}
