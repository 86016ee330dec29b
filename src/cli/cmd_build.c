/* imagespec build / plan */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char build_usage[] =
	"usage: imagespec %s [SPEC|-] [options]\n"
	"\n"
	"  -p, --param NAME=VALUE   set a ${NAME} parameter (repeatable)\n"
	"      --target REF         replace the spec's target\n"
	"  -t, --tag TAG            add a tag (repeatable)\n"
	"      --platform P         build for os/arch[/variant] or `all` (repeatable)\n"
	"      --output REF         write to oci:DIR[:TAG], oci-archive:FILE[:TAG] or\n"
	"                           docker-archive:FILE[:REPO:TAG] instead of the target\n"
	"      --json               print the result as JSON\n"
	"      --metadata-out FILE  also write the JSON result to FILE\n"
	"      --progress MODE      auto, plain or quiet\n"
	"  -j, --jobs N             parallel transfers (default 4)\n"
	"      --insecure-registry HOST  allow plain HTTP / unverified TLS for HOST\n"
	"      --ca-cert FILE       extra CA certificates (PEM)\n"
	"      --cache-dir DIR      cache directory\n"
	"      --no-cache           do not use the cache\n"
	"  -v, --verbose            more output\n";

enum {
	OPT_TARGET = 256,
	OPT_PLATFORM,
	OPT_OUTPUT,
	OPT_JSON,
	OPT_METADATA,
	OPT_PROGRESS,
	OPT_INSECURE,
	OPT_CA,
	OPT_CACHE,
	OPT_NOCACHE,
};

static const struct option longopts[] = {
	{ "param", required_argument, NULL, 'p' },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "tag", required_argument, NULL, 't' },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "metadata-out", required_argument, NULL, OPT_METADATA },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "jobs", required_argument, NULL, 'j' },
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE },
	{ "ca-cert", required_argument, NULL, OPT_CA },
	{ "cache-dir", required_argument, NULL, OPT_CACHE },
	{ "no-cache", no_argument, NULL, OPT_NOCACHE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int write_metadata(const char *path, const char *json)
{
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", json) < 0 || fclose(f) != 0) {
		fprintf(stderr, "imagespec: write --metadata-out `%s`: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int cmd_build(int argc, char **argv, bool plan_only)
{
	const char *verb = plan_only ? "plan" : "build";
	cli_list pnames = { 0 }, pvalues = { 0 }, tags = { 0 }, platforms = { 0 }, insecure = { 0 };
	cli_common common = { 0 };
	ims_plan_options po = IMS_PLAN_OPTIONS_INIT;
	bool json = false;
	const char *metadata = NULL;
	int c, rc = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:j:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return cli_usage(verb, "-p wants NAME=VALUE, not `%s`", optarg);
			*eq = '\0';
			cli_list_add(&pnames, optarg);
			cli_list_add(&pvalues, eq + 1);
			break;
		}
		case OPT_TARGET:
			po.target = optarg;
			break;
		case 't':
			cli_list_add(&tags, optarg);
			break;
		case OPT_PLATFORM:
			cli_list_add(&platforms, optarg);
			break;
		case OPT_OUTPUT:
			po.output = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_METADATA:
			metadata = optarg;
			break;
		case OPT_PROGRESS:
			if (!strcmp(optarg, "auto"))
				common.progress = PROGRESS_AUTO;
			else if (!strcmp(optarg, "plain"))
				common.progress = PROGRESS_PLAIN;
			else if (!strcmp(optarg, "quiet"))
				common.progress = PROGRESS_QUIET;
			else
				return cli_usage(verb, "--progress wants auto, plain or quiet, not `%s`", optarg);
			break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 64)
				return cli_usage(verb, "-j wants a number from 1 to 64, not `%s`", optarg);
			common.jobs = (int)n;
			break;
		}
		case OPT_INSECURE:
			cli_list_add(&insecure, optarg);
			break;
		case OPT_CA:
			common.ca_cert = optarg;
			break;
		case OPT_CACHE:
			common.cache_dir = optarg;
			break;
		case OPT_NOCACHE:
			common.no_cache = true;
			break;
		case 'v':
			common.verbose++;
			break;
		case 'h':
			printf(build_usage, verb);
			return 0;
		case ':':
			return cli_usage(verb, "option `%s` needs a value", argv[optind - 1]);
		default:
			return cli_usage(verb, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage(verb, "one spec at a time (got %d)", argc - optind);
	const char *path = optind < argc ? argv[optind] : "image.yaml";
	/* there is no cache yet: refuse the flag rather than ignore it */
	if (common.cache_dir) {
		fprintf(stderr, "imagespec: %s: --cache-dir is not supported yet\n", verb);
		return 1;
	}
	common.insecure = insecure.v;
	common.ninsecure = insecure.n;
	po.tags = tags.v;
	po.ntags = tags.n;
	po.platforms = platforms.v;
	po.nplatforms = platforms.n;

	ims_error *err = NULL;
	ims_spec *spec = NULL;
	ims_plan *plan = NULL;
	ims_context *ctx = NULL;
	ims_build_result *res = NULL;
	ims_params params = { pnames.v, pvalues.v, pnames.n };
	if (ims_spec_load_file(&spec, path, &params, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	for (const char *const *w = ims_spec_warnings(spec); *w; w++)
		fprintf(stderr, "imagespec: warning: %s\n", *w);
	if (ims_plan_new(&plan, spec, &po, &err) < 0 || cli_context(&ctx, &common, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	if (plan_only && !json) {
		char *d = ims_plan_describe(plan);
		fputs(d, stdout);
		free(d);
	}
	ims_build_options bo = IMS_BUILD_OPTIONS_INIT;
	bo.dry_run = plan_only;
	if (ims_build(&res, ctx, plan, &bo, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	cli_progress_done();
	char *j = ims_build_result_json(res);
	if (json) {
		printf("%s\n", j);
	} else if (plan_only) {
		char *d = ims_build_result_describe(res);
		fputs(d, stdout);
		free(d);
	} else {
		printf("%s@%s\n", ims_build_result_reference(res, 0), ims_build_result_digest(res));
	}
	if (metadata && !plan_only)
		rc = write_metadata(metadata, j);
	free(j);
out:
	ims_build_result_free(res);
	ims_plan_free(plan);
	ims_spec_free(spec);
	ims_context_free(ctx);
	free(pnames.v);
	free(pvalues.v);
	free(tags.v);
	free(platforms.v);
	free(insecure.v);
	return rc;
}
