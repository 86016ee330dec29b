/* imagespec tags REPO [--timeout DURATION] [--low-speed-time S] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct option longopts[] = {
	CLI_DEADLINE_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_tags(int argc, char **argv)
{
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DEADLINE_TIMEOUT:
		case OPT_DEADLINE_LOW_SPEED:
			if ((r = cli_deadline_option("tags", c, optarg, &common)) != 0)
				return r;
			break;
		case 'h':
			fputs("usage: imagespec tags REPO [--timeout DURATION] [--low-speed-time S]\n"
			      "  the tags of a registry repository (HOST/REPO), the ref names of an oci:DIR or\n"
			      "  oci-archive:FILE, or the RepoTags of a docker-archive:FILE, one per line\n"
			      "\n" CLI_DEADLINE_HELP,
			      stdout);
			return 0;
		case ':':
			return cli_usage("tags", "option `%s` needs a value", argv[optind - 1]);
		default:
			return cli_bad_option("tags", longopts, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage("tags", "name exactly one repository");
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char **tags = NULL;
	size_t n = 0;
	if (cli_context(&ctx, &common, &err) < 0 || ims_tags(ctx, argv[optind], &tags, &n, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	for (size_t i = 0; i < n; i++)
		puts(tags[i]);
	ims_strv_dispose(tags, n);
	ims_context_free(ctx);
	return 0;
}
