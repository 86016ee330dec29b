/* imagespec tags REPO */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum { OPT_JSON = 256 };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
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
	int c, r = 0;
	optind = 1;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, ":h" CLI_TRANSPORT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(tags_usage, stdout);
			cli_common_dispose(&common);
			return 0;
		case ':':
			r = cli_usage("tags", "option `%s` needs a value", argv[optind - 1]);
			break;
		default:
			if ((r = cli_transport_option("tags", c, optarg, &common)) == 1)
				r = cli_bad_option("tags", longopts, argv[optind - 1]);
		}
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
