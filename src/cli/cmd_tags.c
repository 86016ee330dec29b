/* imagespec tags REPO */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_TRANSPORT_JSON },
	CLI_TRANSPORT_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char tags_usage[] =
	"usage: imagespec tags [options] REPO\n"
	"\n"
	"  The tags of a registry repository (HOST/REPO), the ref names of an oci:DIR\n"
	"  or oci-archive:FILE, or the RepoTags of a docker-archive:FILE, one per line.\n"
	"\n"
	"      --json               print {\"repository\": REPO, \"tags\": [...]}\n" CLI_TRANSPORT_HELP
	"\n"
	"Examples:\n"
	"  imagespec tags registry.example.com/team/app\n"
	"  imagespec tags --json --ca-cert ca.pem reg.example:5000/team/app | jq -r '.tags[]'\n"
	"  imagespec tags oci:out\n";

static void print_tags(const char *repo, char **tags, size_t n, bool json)
{
	if (!json) {
		for (size_t i = 0; i < n; i++)
			puts(tags[i]);
		return;
	}
	fputs("{\"repository\": ", stdout);
	cli_json_string(stdout, repo);
	fputs(", \"tags\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", stdout);
		cli_json_string(stdout, tags[i]);
	}
	fputs("]}\n", stdout);
}

int cmd_tags(int argc, char **argv)
{
	cli_common common = { .progress = PROGRESS_QUIET };
	bool json = false;
	int r = cli_transport_getopt("tags", argc, argv, longopts, tags_usage, &common, &json);
	if (r < 0) {
		cli_common_dispose(&common);
		return 0;
	}
	if (r == 0 && argc - optind != 1)
		r = cli_usage("tags", "name exactly one repository");
	if (r != 0) {
		cli_common_dispose(&common);
		return r;
	}
	if (common.verbose)
		common.progress = PROGRESS_PLAIN;
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char **tags = NULL;
	size_t n = 0;
	if (cli_context(&ctx, &common, &err) < 0 || ims_tags(ctx, argv[optind], &tags, &n, &err) < 0) {
		ims_context_free(ctx);
		cli_common_dispose(&common);
		return cli_fail(err);
	}
	cli_progress_done();
	print_tags(argv[optind], tags, n, json);
	ims_strv_dispose(tags, n);
	ims_context_free(ctx);
	cli_common_dispose(&common);
	return 0;
}
