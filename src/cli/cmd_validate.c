/* imagespec validate [-p NAME=VALUE]... SPEC... : every error of every
 * file, offline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char validate_usage[] =
	"usage: imagespec validate [-p NAME=VALUE]... SPEC...\n"
	"\n"
	"Checks each spec against the image.yaml format, offline, and reports every\n"
	"problem as FILE:LINE:COL: message. Exit 0 when every spec is valid, 2 when\n"
	"one is not.\n"
	"\n"
	"  -p, --param NAME=VALUE   a parameter for ${NAME}, as `build -p` sets it\n"
	"                           (repeatable); a NAME the spec neither declares nor\n"
	"                           uses is an error\n"
	"  -h, --help               this text\n"
	"\n"
	"Examples:\n"
	"  imagespec validate image.yaml\n"
	"  imagespec validate -p version=1.4.0 deploy/*.yaml\n";

static const struct option longopts[] = {
	{ "param", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int check(const char *path, const ims_params *params)
{
	ims_error *err = NULL;
	ims_spec *spec = NULL;
	if (ims_spec_load_file(&spec, path, params, &err) < 0)
		return cli_fail(err);
	for (const char *const *w = ims_spec_warnings(spec); *w; w++)
		fprintf(stderr, "imagespec: warning: %s\n", *w);
	printf("%s: valid\n", path);
	ims_spec_free(spec);
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	cli_list names = { 0 }, values = { 0 };
	int c, rc = 0;
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			rc = cli_param(&names, &values, optarg, "validate");
			break;
		case 'h':
			fputs(validate_usage, stdout);
			rc = -1;
			break;
		case ':':
			rc = cli_usage("validate", "option `%s` needs a value", argv[optind - 1]);
			break;
		default:
			rc = cli_bad_option("validate", longopts, argv[optind - 1]);
		}
	}
	if (rc == 0 && optind >= argc)
		rc = cli_usage("validate", "name at least one spec file");
	int worst = 0;
	ims_params params = { names.v, values.v, names.n };
	for (int i = optind; rc == 0 && i < argc; i++) {
		int r = check(argv[i], &params);
		if (r > worst)
			worst = r;
	}
	free(names.v);
	free(values.v);
	return rc < 0 ? 0 : rc ? rc : worst;
}
