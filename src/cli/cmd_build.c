/* imagespec build / plan */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	"      --report FILE        build: also write the HTML layer report of the image to\n"
	"                           FILE, compared with the image the target held before\n"
	"      --progress MODE      auto, plain or quiet\n"
	"  -j, --jobs N             parallel transfers and threads (walk, hash, compress),\n"
	"                           1 to 64 (default 4); never changes the bytes\n"
	"      --cache-dir DIR      the layer cache (default $XDG_CACHE_HOME/imagespec,\n"
	"                           else ~/.cache/imagespec)\n"
	"      --no-cache           build every layer; read and write no cache\n"
	"      --cache-from REF     read the layer cache artifact REF from a registry\n"
	"                           (repeatable): unchanged layers are mounted or skipped\n"
	"      --cache-to REF       write this build's layer cache artifact to REF\n"
	"      --offline            plan: do not ask the target which blobs it has\n"
	CLI_TRANSPORT_HELP
	"\n"
	"A single-value option (--target, --output, --progress, ...) may be given once.\n"
	"plan computes every digest and writes nothing; it asks a registry target which\n"
	"blobs it has and says, per blob, whether build would upload, mount or skip it.\n"
	"\n"
	"Examples:\n"
	"  imagespec %s image.yaml -t 1.2 -t latest\n"
	"  imagespec %s --platform linux/amd64 --platform linux/arm64 --output oci-archive:app.tar\n"
	"  imagespec %s -p version=1.2 --ca-cert ca.pem --metadata-out meta.json -\n";

enum {
	OPT_TARGET = 256,
	OPT_PLATFORM,
	OPT_OUTPUT,
	OPT_JSON,
	OPT_METADATA,
	OPT_PROGRESS,
	OPT_CACHE,
	OPT_NOCACHE,
	OPT_CACHE_FROM,
	OPT_CACHE_TO,
	OPT_OFFLINE,
	OPT_REPORT,
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
	CLI_JOBS_LONGOPT
	{ "cache-dir", required_argument, NULL, OPT_CACHE },
	{ "no-cache", no_argument, NULL, OPT_NOCACHE },
	{ "cache-from", required_argument, NULL, OPT_CACHE_FROM },
	{ "cache-to", required_argument, NULL, OPT_CACHE_TO },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "report", required_argument, NULL, OPT_REPORT },
	CLI_TRANSPORT_LONGOPTS
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --metadata-out is checked before the build, so that a bad path costs
 * nothing: a symbolic link is refused (writing would follow it to a file
 * the user did not name), and so is anything but a regular file. */
static int check_metadata_path(const char *verb, const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : cli_usage(verb, "--metadata-out `%s`: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		fprintf(stderr, "imagespec: %s: --metadata-out `%s` is a symbolic link; refusing to write through it\n",
			verb, path);
		fputs("hint: name the file it points to (`readlink -f`), or remove the link\n", stderr);
		return EXIT_USAGE;
	}
	if (!S_ISREG(st.st_mode))
		return cli_usage(verb, "--metadata-out `%s` is not a regular file", path);
	return 0;
}

/* Written to a temp file next to FILE and renamed over it: a reader never
 * sees half a document, and a link put at FILE in the meantime is replaced,
 * not followed. */
static int write_metadata(const char *path, const char *json)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + sizeof(".tmp-XXXXXX"));
	if (!tmp)
		abort();
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp-XXXXXX", sizeof(".tmp-XXXXXX"));
	int fd = mkostemp(tmp, O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int rc = 0;
	if (!f || fprintf(f, "%s\n", json) < 0 || fflush(f) != 0 || fchmod(fd, 0644) < 0) {
		fprintf(stderr, "imagespec: write --metadata-out `%s`: %s\n", path, strerror(errno));
		rc = 1;
	}
	if (f && fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "imagespec: write --metadata-out `%s`: %s\n", path, strerror(errno));
		rc = 1;
	} else if (!f && fd >= 0) {
		close(fd);
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		fprintf(stderr, "imagespec: write --metadata-out `%s`: %s\n", path, strerror(errno));
		rc = 1;
	}
	if (rc != 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* What the command line asked for. */
typedef struct {
	const char *verb;
	bool plan_only;
	cli_list pnames, pvalues, tags, platforms, cache_from;
	cli_common common;
	ims_plan_options po;
	bool json;
	bool offline; /* plan: do not ask the target */
	const char *metadata;
	const char *report; /* build --report FILE */
	const char *path;
} build_args;

static void args_dispose(build_args *a)
{
	free(a->pnames.v);
	free(a->pvalues.v);
	free(a->tags.v);
	free(a->platforms.v);
	free(a->cache_from.v);
	cli_common_dispose(&a->common);
}

static int parse_progress(build_args *a, const char *v)
{
	int r = cli_once(&a->common, a->verb, OPT_PROGRESS, "--progress");
	if (r != 0)
		return r;
	if (!strcmp(v, "auto"))
		a->common.progress = PROGRESS_AUTO;
	else if (!strcmp(v, "plain"))
		a->common.progress = PROGRESS_PLAIN;
	else if (!strcmp(v, "quiet"))
		a->common.progress = PROGRESS_QUIET;
	else
		return cli_usage(a->verb, "--progress wants auto, plain or quiet, not `%s`", v);
	return 0;
}

/* A single-value option: 0 and *slot set the first time, else the usage error. */
static int once(build_args *a, int c, const char *flag, const char **slot)
{
	int r = cli_once(&a->common, a->verb, c, flag);
	if (r == 0)
		*slot = optarg;
	return r;
}

/* One option: 0 when taken, -1 for --help (printed), else an exit status. */
static int parse_option(build_args *a, int c, char **argv)
{
	int r;
	switch (c) {
	case 'p':
		return cli_param(&a->pnames, &a->pvalues, optarg, a->verb);
	case OPT_TARGET:
		return once(a, c, "--target", &a->po.target);
	case 't':
		return cli_list_add_capped(&a->tags, optarg, CLI_MAX_TAGS, a->verb, "-t");
	case OPT_PLATFORM:
		return cli_list_add_capped(&a->platforms, optarg, CLI_MAX_PLATFORMS, a->verb, "--platform");
	case OPT_OUTPUT:
		return once(a, c, "--output", &a->po.output);
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_METADATA:
		return once(a, c, "--metadata-out", &a->metadata);
	case OPT_PROGRESS:
		return parse_progress(a, optarg);
	case OPT_CACHE:
		return once(a, c, "--cache-dir", &a->common.cache_dir);
	case OPT_NOCACHE:
		a->common.no_cache = true;
		return 0;
	case OPT_CACHE_FROM:
		return cli_list_add_capped(&a->cache_from, optarg, CLI_MAX_CACHE_FROM, a->verb, "--cache-from");
	case OPT_CACHE_TO:
		return once(a, c, "--cache-to", &a->po.cache_to);
	case OPT_OFFLINE:
		if (!a->plan_only)
			return cli_usage(a->verb, "--offline is for `imagespec plan`");
		a->offline = true;
		return 0;
	case OPT_REPORT:
		if (a->plan_only)
			return cli_usage(a->verb, "--report is for `imagespec build` (a plan writes no layers to read)");
		a->report = optarg;
		return 0;
	case 'h':
		printf(build_usage, a->verb, a->verb, a->verb, a->verb);
		return -1;
	case ':':
		return cli_usage(a->verb, "option `%s` needs a value", argv[optind - 1]);
	default:
		if ((r = cli_transport_option(a->verb, c, optarg, &a->common)) == 1)
			return cli_bad_option(a->verb, longopts, argv[optind - 1]);
		return r;
	}
}

/* 0 when the arguments make sense, -1 after --help, else an exit status. */
static int parse(build_args *a, int argc, char **argv)
{
	int c, rc;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:j:h" CLI_TRANSPORT_SHORTOPTS, longopts, NULL)) != -1)
		if ((rc = parse_option(a, c, argv)) != 0)
			return rc;
	if (argc - optind > 1)
		return cli_usage(a->verb, "one spec at a time (got %d)", argc - optind);
	a->path = optind < argc ? argv[optind] : "image.yaml";
	if (a->common.cache_dir && a->common.no_cache)
		return cli_usage(a->verb, "--cache-dir and --no-cache exclude each other");
	if (a->metadata && !a->plan_only && (rc = check_metadata_path(a->verb, a->metadata)) != 0)
		return rc;
	a->po.tags = a->tags.v;
	a->po.ntags = a->tags.n;
	a->po.platforms = a->platforms.v;
	a->po.nplatforms = a->platforms.n;
	a->po.cache_from = a->cache_from.v;
	a->po.ncache_from = a->cache_from.n;
	return 0;
}

/* The result: JSON, the plan's description, or REF@DIGEST. */
static int report(const build_args *a, const ims_build_result *res)
{
	int rc = 0;
	char *j = ims_build_result_json(res);
	if (a->json) {
		printf("%s\n", j);
	} else if (a->plan_only) {
		char *d = ims_build_result_describe(res);
		fputs(d, stdout);
		free(d);
	} else {
		printf("%s@%s\n", ims_build_result_reference(res, 0), ims_build_result_digest(res));
	}
	if (a->metadata && !a->plan_only)
		rc = write_metadata(a->metadata, j);
	free(j);
	return rc;
}

/* "N, " for a count that is not zero. */
static void count(char *buf, size_t cap, bool *first, int n, const char *what, long long bytes)
{
	if (n == 0)
		return;
	size_t o = strlen(buf);
	char b[32] = "";
	if (bytes > 0) {
		char h[16];
		cli_human_bytes(h, sizeof(h), bytes);
		snprintf(b, sizeof(b), " (%s)", h);
	}
	snprintf(buf + o, cap - o, "%s%d %s%s", *first ? "" : ", ", n, what, b);
	*first = false;
}

/* The last line on stderr: what came from where and what the target got. */
static void summarize(const ims_build_result *res)
{
	ims_build_counts c;
	ims_build_result_counts(res, &c);
	char line[256];
	snprintf(line, sizeof(line), "%d layer%s", c.layers, c.layers == 1 ? "" : "s");
	bool first = true;
	strcat(line, ": ");
	count(line, sizeof(line), &first, c.built, "built", 0);
	count(line, sizeof(line), &first, c.cached, "cached", 0);
	count(line, sizeof(line), &first, c.base, "from the base", 0);
	count(line, sizeof(line), &first, c.blobs, "existing blobs", 0);
	if (first)
		line[strlen(line) - 2] = '\0';
	strcat(line, "; ");
	first = true;
	count(line, sizeof(line), &first, c.uploaded, "uploaded", c.uploaded_bytes);
	count(line, sizeof(line), &first, c.mounted, "mounted", 0);
	count(line, sizeof(line), &first, c.skipped, "skipped", 0);
	count(line, sizeof(line), &first, c.written, "written", c.written_bytes);
	if (first)
		line[strlen(line) - 2] = '\0';
	cli_progress_summary(line);
}

/* --report: the image the target holds before the build, or NULL (none,
 * or unreadable: then the report compares with nothing, and says why). */
static ims_report_image *previous_image(ims_context *ctx, const ims_plan *plan)
{
	ims_report_image *prev = NULL;
	ims_error *err = NULL;
	if (ims_report_read_target(&prev, ctx, plan, &err) < 0) {
		fprintf(stderr, "imagespec: warning: --report: the target's previous image cannot be read (%s); the "
				"report compares with nothing\n",
			err->message);
		ims_error_free(err);
	}
	return prev;
}

/* --report FILE, after the build. */
static int write_report(const char *path, ims_context *ctx, const ims_plan *plan, const ims_build_result *res,
			const ims_report_image *prev)
{
	ims_report_options o = IMS_REPORT_OPTIONS_INIT;
	o.format = IMS_REPORT_HTML;
	ims_error *err = NULL;
	char *page = NULL;
	size_t len = 0;
	if (ims_report_build(ctx, plan, res, prev, &o, &page, &len, &err) < 0) {
		fputs("imagespec: --report: the image is built, but its report is not:\n", stderr);
		return cli_fail(err);
	}
	int rc = cli_write_file(path, page, len);
	if (rc != 0)
		fprintf(stderr, "imagespec: --report: cannot write `%s`: %s\n", path, strerror(errno));
	free(page);
	return rc ? 1 : 0;
}

static int run(const build_args *a)
{
	ims_error *err = NULL;
	ims_spec *spec = NULL;
	ims_plan *plan = NULL;
	ims_context *ctx = NULL;
	ims_build_result *res = NULL;
	ims_report_image *prev = NULL;
	ims_params params = { a->pnames.v, a->pvalues.v, a->pnames.n };
	ims_build_options bo = IMS_BUILD_OPTIONS_INIT;
	bo.dry_run = a->plan_only;
	bo.offline = a->offline;
	int rc = 0;
	if (ims_spec_load_file(&spec, a->path, &params, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	for (const char *const *w = ims_spec_warnings(spec); *w; w++)
		fprintf(stderr, "imagespec: warning: %s\n", *w);
	if (ims_plan_new(&plan, spec, &a->po, &err) < 0 || cli_context(&ctx, &a->common, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	if (a->plan_only && !a->json) {
		char *d = ims_plan_describe(plan);
		fputs(d, stdout);
		free(d);
	}
	if (a->report)
		prev = previous_image(ctx, plan);
	if (ims_build(&res, ctx, plan, &bo, &err) < 0) {
		rc = cli_fail(err);
		goto out;
	}
	cli_progress_done();
	rc = report(a, res);
	if (!a->plan_only)
		summarize(res);
	if (rc == 0 && a->report)
		rc = write_report(a->report, ctx, plan, res, prev);
out:
	ims_report_image_free(prev);
	ims_build_result_free(res);
	ims_plan_free(plan);
	ims_spec_free(spec);
	ims_context_free(ctx);
	return rc;
}

int cmd_build(int argc, char **argv, bool plan_only)
{
	build_args a = { .verb = plan_only ? "plan" : "build", .plan_only = plan_only };
	a.po = (ims_plan_options)IMS_PLAN_OPTIONS_INIT;
	int rc = parse(&a, argc, argv);
	if (rc == 0)
		rc = run(&a);
	else if (rc < 0)
		rc = 0;
	args_dispose(&a);
	return rc;
}
