/* imagespec inspect REF [--platform P] [--config|--manifest|--raw] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_PLATFORM = 256, OPT_JSON };

static const struct option longopts[] = {
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "config", no_argument, NULL, 'c' },
	{ "manifest", no_argument, NULL, 'm' },
	{ "raw", no_argument, NULL, 'r' },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_TRANSPORT_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char inspect_usage[] =
	"usage: imagespec inspect [options] REF\n"
	"\n"
	"  Shows an image in a registry (HOST/REPO:TAG or @DIGEST), oci:DIR[:TAG],\n"
	"  oci-archive:FILE[:TAG] or docker-archive:FILE[:REF]: by default a JSON\n"
	"  summary (reference, digest, media type, platforms, config and layers).\n"
	"\n"
	"      --platform P         the image of an index for os/arch[/variant]\n"
	"                           (default: the host's)\n"
	"      --config             the image's config, as JSON\n"
	"      --manifest           the image's manifest, as JSON\n"
	"      --raw                the top-level manifest or index, bytes as stored\n"
	"      --json               the summary as JSON (the default output; it cannot be\n"
	"                           combined with --raw)\n" CLI_TRANSPORT_HELP
	"\n"
	"Examples:\n"
	"  imagespec inspect registry.example.com/app:1\n"
	"  imagespec inspect --platform linux/arm64 --config docker.io/library/busybox:1.36\n"
	"  imagespec inspect --raw --ca-cert ca.pem reg.example:5000/team/app:1 | sha256sum\n";

static int run(const cli_common *common, const char *ref, const char *platform, ims_inspect_what what)
{
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *out = NULL;
	size_t len = 0;
	if (cli_context(&ctx, common, &err) < 0 || ims_inspect(ctx, ref, platform, what, &out, &len, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	cli_progress_done();
	fwrite(out, 1, len, stdout);
	if (what != IMS_INSPECT_RAW) /* raw: the bytes as stored, nothing added */
		putchar('\n');
	free(out);
	ims_context_free(ctx);
	return 0;
}

/* --config, --manifest and --raw pick one output: a second is an error. */
static int pick(cli_common *common, ims_inspect_what *what, ims_inspect_what want, int c)
{
	static const char *const names[] = { "", "--manifest", "--config", "--raw" };
	if (*what != IMS_INSPECT_SUMMARY && *what != want)
		return cli_usage("inspect", "%s and %s exclude each other; pick one", names[*what], names[want]);
	*what = want;
	return cli_once(common, "inspect", c, names[want]);
}

int cmd_inspect(int argc, char **argv)
{
	const char *platform = NULL;
	ims_inspect_what what = IMS_INSPECT_SUMMARY;
	bool json = false;
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r = 0;
	optind = 1;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, ":h" CLI_TRANSPORT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PLATFORM:
			if ((r = cli_once(&common, "inspect", c, "--platform")) == 0)
				platform = optarg;
			break;
		case 'c':
			r = pick(&common, &what, IMS_INSPECT_CONFIG, c);
			break;
		case 'm':
			r = pick(&common, &what, IMS_INSPECT_MANIFEST, c);
			break;
		case 'r':
			r = pick(&common, &what, IMS_INSPECT_RAW, c);
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(inspect_usage, stdout);
			cli_common_dispose(&common);
			return 0;
		case ':':
			r = cli_usage("inspect", "option `%s` needs a value", argv[optind - 1]);
			break;
		default:
			if ((r = cli_transport_option("inspect", c, optarg, &common)) == 1)
				r = cli_bad_option("inspect", longopts, argv[optind - 1]);
		}
	}
	if (r == 0 && json && what == IMS_INSPECT_RAW)
		r = cli_usage("inspect", "--raw prints the stored bytes; it cannot be combined with --json");
	if (r == 0 && argc - optind != 1)
		r = cli_usage("inspect", "name exactly one image reference");
	if (r == 0) {
		if (common.verbose)
			common.progress = PROGRESS_PLAIN;
		r = run(&common, argv[optind], platform, what);
	}
	cli_common_dispose(&common);
	return r;
}
