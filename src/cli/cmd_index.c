/* imagespec index create|append DEST SRC... */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_INSECURE = 1000, OPT_CA };

static const struct option longopts[] = {
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE },
	{ "ca-cert", required_argument, NULL, OPT_CA },
	{ "verbose", no_argument, NULL, 'v' },
	{ "json", no_argument, NULL, 'J' },
	CLI_DEADLINE_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char help[] =
	"usage: imagespec index create|append DEST SRC... [--json] [--insecure-registry HOST]...\n"
	"                       [--ca-cert FILE] [-v] [--timeout DURATION] [--low-speed-time S]\n"
	"  create: joins single-platform images into an index at DEST (a registry\n"
	"  reference or oci:DIR[:TAG]); a SRC that is an index gives each of its images.\n"
	"  append: adds to the index already at DEST; an entry of the same platform as\n"
	"  a new one is replaced, with a warning.\n"
	"  SRC is a registry reference, oci:DIR[:TAG] or oci-archive:FILE[:TAG]. The\n"
	"  platform of each image is read from its config; two of one platform are an\n"
	"  error. Blobs DEST lacks are copied (or mounted), manifests before the index.\n"
	"\n"
	"      --json               print the result as JSON (the shape of build --json)\n"
	"      --insecure-registry HOST  allow plain HTTP / unverified TLS for HOST\n"
	"      --ca-cert FILE       extra CA certificates (PEM)\n"
	"  -v, --verbose            more output\n" CLI_DEADLINE_HELP
	"\n"
	"example:\n"
	"  imagespec index create registry.example.com/app:1.0 \\\n"
	"      registry.example.com/app:1.0-amd64 registry.example.com/app:1.0-arm64\n";

int cmd_index(int argc, char **argv)
{
	cli_common common = { .progress = PROGRESS_QUIET };
	cli_list insecure = { 0 };
	bool json = false;
	int c, r = 0;
	optind = 1;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_INSECURE:
			r = cli_list_add_capped(&insecure, optarg, CLI_MAX_INSECURE, "index", "--insecure-registry");
			break;
		case OPT_CA:
			common.ca_cert = optarg;
			break;
		case 'v':
			common.verbose++;
			break;
		case 'J':
			json = true;
			break;
		case OPT_DEADLINE_TIMEOUT:
		case OPT_DEADLINE_LOW_SPEED:
			r = cli_deadline_option("index", c, optarg, &common);
			break;
		case 'h':
			fputs(help, stdout);
			free(insecure.v);
			return 0;
		case ':':
			r = cli_usage("index", "option `%s` needs a value", argv[optind - 1]);
			break;
		default:
			r = cli_bad_option("index", longopts, argv[optind - 1]);
			break;
		}
	}
	if (r != 0) {
		free(insecure.v);
		return r;
	}
	const char *sub = optind < argc ? argv[optind] : NULL;
	if (!sub || (strcmp(sub, "create") && strcmp(sub, "append"))) {
		free(insecure.v);
		return cli_usage("index", "say `create` or `append`, then DEST and one or more SRC");
	}
	if (argc - optind < 3) {
		free(insecure.v);
		return cli_usage("index", "name a destination and at least one source image");
	}
	common.insecure = insecure.v;
	common.ninsecure = insecure.n;
	const char *dst = argv[optind + 1];
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *digest = NULL, *out = NULL;
	if (cli_context(&ctx, &common, &err) < 0 ||
	    ims_index_join(ctx, dst, (const char *const *)&argv[optind + 2], (size_t)(argc - optind - 2),
			   !strcmp(sub, "append"), &digest, json ? &out : NULL, &err) < 0) {
		ims_context_free(ctx);
		free(insecure.v);
		return cli_fail(err);
	}
	if (json)
		puts(out);
	else
		printf("%s@%s\n", dst, digest);
	free(out);
	free(digest);
	ims_context_free(ctx);
	free(insecure.v);
	return 0;
}
