/* For the schema tests: prints the key paths the parser accepts, or
 * parses one spec and reports its errors.
 *   spec_tool                          every accepted key path, one a line
 *   spec_tool --validate FILE [-p N=V]...   exit 0 when FILE parses */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

int main(int argc, char **argv)
{
	if (argc == 1) {
		char *keys = ims_spec_keys_dump();
		fputs(keys, stdout);
		free(keys);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "--validate")) {
		fprintf(stderr, "usage: %s [--validate FILE [-p NAME=VALUE]...]\n", argv[0]);
		return 2;
	}
	const char *names[64], *values[64];
	ims_spec_params params = { names, values, 0 };
	for (int i = 3; i + 1 < argc && params.n < 64; i += 2) {
		char *eq = strchr(argv[i + 1], '=');
		if (strcmp(argv[i], "-p") || !eq) {
			fprintf(stderr, "bad argument `%s`\n", argv[i + 1]);
			return 2;
		}
		*eq = '\0';
		names[params.n] = argv[i + 1];
		values[params.n++] = eq + 1;
	}
	ims_spec_model *m = NULL;
	ims_error *err = NULL;
	if (ims_spec_model_parse(&m, argv[2], NULL, 0, NULL, &params, &err) < 0) {
		fprintf(stderr, "%s\n", err->message);
		ims_error_free(err);
		return 1;
	}
	ims_spec_model_free(m);
	return 0;
}
