/* imagespec index create|append DEST SRC... */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_TRANSPORT_JSON },
	CLI_TRANSPORT_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char index_usage[] =
	"usage: imagespec index create|append [options] DEST SRC...\n"
	"\n"
	"  create: joins single-platform images into an index at DEST (a registry\n"
	"  reference or oci:DIR[:TAG]); a SRC that is an index gives each of its images.\n"
	"  append: adds to the index already at DEST; an entry of the same platform as\n"
	"  a new one is replaced, with a warning.\n"
	"  SRC is a registry reference, oci:DIR[:TAG] or oci-archive:FILE[:TAG]. The\n"
	"  platform of each image is read from its config; two of one platform are an\n"
	"  error. Blobs DEST lacks are copied (or mounted), manifests before the index.\n"
	"\n"
	"      --json               print the result as JSON (the shape of build --json)\n" CLI_TRANSPORT_HELP
	"\n"
	"Examples:\n"
	"  imagespec index create registry.example.com/app:1.0 \\\n"
	"      registry.example.com/app:1.0-amd64 registry.example.com/app:1.0-arm64\n"
	"  imagespec index append oci:out:1.0 registry.example.com/app:1.0-s390x\n";

int cmd_index(int argc, char **argv)
{
	cli_common common = { .progress = PROGRESS_QUIET };
	bool json = false;
	int r = cli_transport_getopt("index", argc, argv, longopts, index_usage, &common, &json);
	if (r < 0) {
		cli_common_dispose(&common);
		return 0;
	}
	const char *sub = optind < argc ? argv[optind] : NULL;
	if (r == 0 && (!sub || (strcmp(sub, "create") && strcmp(sub, "append"))))
		r = cli_usage("index", "say `create` or `append`, then DEST and one or more SRC");
	else if (r == 0 && argc - optind < 3)
		r = cli_usage("index", "name a destination and at least one source image");
	if (r != 0) {
		cli_common_dispose(&common);
		return r;
	}
	if (common.verbose)
		common.progress = PROGRESS_PLAIN;
	const char *dst = argv[optind + 1];
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *digest = NULL, *out = NULL;
	if (cli_context(&ctx, &common, &err) < 0 ||
	    ims_index_join(ctx, dst, (const char *const *)&argv[optind + 2], (size_t)(argc - optind - 2),
			   !strcmp(sub, "append"), &digest, json ? &out : NULL, &err) < 0) {
		ims_context_free(ctx);
		cli_common_dispose(&common);
		return cli_fail(err);
	}
	cli_progress_done();
	if (json)
		puts(out);
	else
		printf("%s@%s\n", dst, digest);
	free(out);
	free(digest);
	ims_context_free(ctx);
	cli_common_dispose(&common);
	return 0;
}
