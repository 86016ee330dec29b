/* imagespec copy SRC DST [--platform P|all] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const struct option longopts[] = {
	{ "platform", required_argument, NULL, 'P' },
	CLI_DEADLINE_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_copy(int argc, char **argv)
{
	const char *platform = NULL;
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			platform = optarg;
			break;
		case OPT_DEADLINE_TIMEOUT:
		case OPT_DEADLINE_LOW_SPEED:
			if ((r = cli_deadline_option("copy", c, optarg, &common)) != 0)
				return r;
			break;
		case 'h':
			fputs("usage: imagespec copy SRC DST [--platform os/arch[/variant]|all] [--timeout DURATION]\n"
			      "                      [--low-speed-time S]\n"
			      "  copies an image with every blob between registries (HOST/REPO:TAG),\n"
			      "  oci:DIR[:TAG], oci-archive:FILE[:TAG] and docker-archive:FILE[:REF];\n"
			      "  an index is copied whole unless --platform picks one image\n"
			      "\n" CLI_DEADLINE_HELP,
			      stdout);
			return 0;
		case ':':
			return cli_usage("copy", "option `%s` needs a value", argv[optind - 1]);
		default:
			return cli_bad_option("copy", longopts, argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cli_usage("copy", "name a source and a destination");
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *digest = NULL;
	if (cli_context(&ctx, &common, &err) < 0 ||
	    ims_copy(ctx, argv[optind], argv[optind + 1], platform, &digest, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	printf("%s@%s\n", argv[optind + 1], digest);
	free(digest);
	ims_context_free(ctx);
	return 0;
}
