/* imagespec inspect REF [--platform P] [--config|--manifest|--raw] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option longopts[] = {
	{ "platform", required_argument, NULL, 'P' },
	{ "config", no_argument, NULL, 'c' },
	{ "manifest", no_argument, NULL, 'm' },
	{ "raw", no_argument, NULL, 'r' },
	CLI_DEADLINE_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_inspect(int argc, char **argv)
{
	const char *platform = NULL;
	ims_inspect_what what = IMS_INSPECT_SUMMARY;
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			platform = optarg;
			break;
		case 'c':
			what = IMS_INSPECT_CONFIG;
			break;
		case 'm':
			what = IMS_INSPECT_MANIFEST;
			break;
		case 'r':
			what = IMS_INSPECT_RAW;
			break;
		case OPT_DEADLINE_TIMEOUT:
		case OPT_DEADLINE_LOW_SPEED:
			if ((r = cli_deadline_option("inspect", c, optarg, &common)) != 0)
				return r;
			break;
		case 'h':
			fputs("usage: imagespec inspect REF [--platform P] [--config|--manifest|--raw] [--timeout DURATION]\n"
			      "                         [--low-speed-time S]\n"
			      "\n" CLI_DEADLINE_HELP,
			      stdout);
			return 0;
		case ':':
			return cli_usage("inspect", "option `%s` needs a value", argv[optind - 1]);
		default:
			return cli_bad_option("inspect", longopts, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage("inspect", "name exactly one image reference");
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *out = NULL;
	size_t len = 0;
	if (cli_context(&ctx, &common, &err) < 0 ||
	    ims_inspect(ctx, argv[optind], platform, what, &out, &len, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	fwrite(out, 1, len, stdout);
	if (what != IMS_INSPECT_RAW) /* raw: the bytes as stored, nothing added */
		putchar('\n');
	free(out);
	ims_context_free(ctx);
	return 0;
}
