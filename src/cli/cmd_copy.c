/* imagespec copy SRC DST, or copy --all-tags SRCREPO DSTREPO */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

enum { OPT_PLATFORM = 256, OPT_JSON, OPT_ALL_TAGS };

static const struct option longopts[] = {
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "all-tags", no_argument, NULL, OPT_ALL_TAGS },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_JOBS_LONGOPT CLI_TRANSPORT_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char copy_usage[] =
	"usage: imagespec copy [options] SRC DST\n"
	"       imagespec copy --all-tags [options] HOST/REPO HOST/REPO\n"
	"\n"
	"  Copies an image with every blob between registries (HOST/REPO:TAG),\n"
	"  oci:DIR[:TAG], oci-archive:FILE[:TAG] and docker-archive:FILE[:REF]; an\n"
	"  index is copied whole unless --platform picks one image. Blobs go first,\n"
	"  then manifests, then the index; prints DST@DIGEST, the digest that\n"
	"  `imagespec inspect DST` reports.\n"
	"\n"
	"      --platform P         copy only the image for os/arch[/variant] of an\n"
	"                           index (`all`, the default, keeps the index whole)\n"
	"      --all-tags           copy every tag of the source repository to the\n"
	"                           destination repository (registry to registry)\n"
	"      --json               print the result as JSON: {\"source\", \"destination\",\n"
	"                           \"digest\"}, or with --all-tags {\"tags\": [...]}\n"
	"  -j, --jobs N             blob transfers that run at once, 1 to 64 (default 4):\n"
	"                           uploads to a registry, and between two registries\n"
	"                           whole copies (download and upload) too, up to 8\n" CLI_TRANSPORT_HELP
	"\n"
	"Examples:\n"
	"  imagespec copy registry.example.com/app:1 oci:out:1\n"
	"  imagespec copy --platform linux/arm64 docker.io/library/busybox:1.36 docker-archive:bb.tar\n"
	"  imagespec copy --all-tags --ca-cert ca.pem reg-a.example:5000/team/app reg-b.example:5000/team/app\n";

static void print_all(const char *src, const char *dst, char **tags, char **digests, size_t n, bool json)
{
	if (!json) {
		for (size_t i = 0; i < n; i++)
			printf("%s:%s@%s\n", dst, tags[i], digests[i]);
		return;
	}
	fputs("{\"source\": ", stdout);
	cli_json_string(stdout, src);
	fputs(", \"destination\": ", stdout);
	cli_json_string(stdout, dst);
	fputs(", \"tags\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", {\"tag\": " : "{\"tag\": ", stdout);
		cli_json_string(stdout, tags[i]);
		fputs(", \"digest\": ", stdout);
		cli_json_string(stdout, digests[i]);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

static void print_one(const char *src, const char *dst, const char *digest, bool json)
{
	if (!json) {
		printf("%s@%s\n", dst, digest);
		return;
	}
	fputs("{\"source\": ", stdout);
	cli_json_string(stdout, src);
	fputs(", \"destination\": ", stdout);
	cli_json_string(stdout, dst);
	fputs(", \"digest\": ", stdout);
	cli_json_string(stdout, digest);
	fputs("}\n", stdout);
}

static int run(const cli_common *common, const char *src, const char *dst, const char *platform, bool all_tags,
	       bool json)
{
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *digest = NULL;
	char **tags = NULL, **digests = NULL;
	size_t n = 0;
	int r = cli_context(&ctx, common, &err);
	if (r >= 0)
		r = all_tags ? ims_copy_all_tags(ctx, src, dst, platform, &tags, &digests, &n, &err)
			     : ims_copy(ctx, src, dst, platform, &digest, &err);
	ims_context_free(ctx);
	if (r < 0)
		return cli_fail(err);
	cli_progress_done();
	if (all_tags)
		print_all(src, dst, tags, digests, n, json);
	else
		print_one(src, dst, digest, json);
	free(digest);
	ims_strv_dispose(tags, n);
	ims_strv_dispose(digests, n);
	return 0;
}

int cmd_copy(int argc, char **argv)
{
	const char *platform = NULL;
	bool json = false, all_tags = false;
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r = 0;
	optind = 1;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, ":hj:" CLI_TRANSPORT_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PLATFORM:
			if ((r = cli_once(&common, "copy", c, "--platform")) == 0)
				platform = optarg;
			break;
		case OPT_ALL_TAGS:
			all_tags = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(copy_usage, stdout);
			cli_common_dispose(&common);
			return 0;
		case ':':
			r = cli_usage("copy", "option `%s` needs a value", argv[optind - 1]);
			break;
		default:
			if ((r = cli_transport_option("copy", c, optarg, &common)) == 1)
				r = cli_bad_option("copy", longopts, argv[optind - 1]);
		}
	}
	if (r == 0 && argc - optind != 2)
		r = cli_usage("copy", all_tags ? "name a source and a destination repository"
					       : "name a source and a destination");
	if (r == 0) {
		if (common.verbose)
			common.progress = PROGRESS_PLAIN;
		r = run(&common, argv[optind], argv[optind + 1], platform, all_tags, json);
	}
	cli_common_dispose(&common);
	return r;
}
