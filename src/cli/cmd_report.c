/* imagespec report REF (--html FILE | --json) [--against REF2] [--platform P] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { OPT_HTML = 256, OPT_JSON, OPT_AGAINST, OPT_PLATFORM };

static const struct option longopts[] = {
	{ "html", required_argument, NULL, OPT_HTML },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "against", required_argument, NULL, OPT_AGAINST },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	CLI_TRANSPORT_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char help[] =
	"usage: imagespec report [options] REF (--html FILE | --json)\n"
	"\n"
	"  Describes an image's layers (sizes, file trees with whiteouts), config and\n"
	"  history; REF is HOST/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG] or\n"
	"  docker-archive:FILE[:REF].\n"
	"\n"
	"      --html FILE          write one self-contained HTML page to FILE (- for\n"
	"                           standard output); it fetches nothing\n"
	"      --json               print the same data as JSON on standard output\n"
	"      --against REF2       mark what changed since REF2 (say, the previous build):\n"
	"                           layers matched by position and diffId, files added,\n"
	"                           removed or changed per layer\n"
	"      --platform P         of an index, the image for os/arch[/variant] (default:\n"
	"                           the host's)\n" CLI_TRANSPORT_HELP
	"\n"
	"Examples:\n"
	"  imagespec report oci:out/app:1 --html report.html\n"
	"  imagespec report registry.example.com/app:2 --against registry.example.com/app:1 --html r.html\n"
	"  imagespec report oci:out/app:1 --json | jq '.layers[] | {digest, entries}'\n";

int cli_write_file(const char *path, const char *data, size_t len)
{
	if (!strcmp(path, "-"))
		return fwrite(data, 1, len, stdout) == len ? 0 : -1;
	size_t n = strlen(path) + sizeof(".XXXXXX");
	char *tmp = malloc(n);
	if (!tmp)
		abort();
	snprintf(tmp, n, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	int r = fd < 0 ? -1 : 0;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (fd >= 0 && !f)
		close(fd);
	if (f) {
		if (fchmod(fd, 0644) < 0 || fwrite(data, 1, len, f) != len)
			r = -1;
		if (fclose(f) != 0)
			r = -1;
		if (r == 0 && rename(tmp, path) < 0)
			r = -1;
	} else {
		r = -1;
	}
	int saved = errno;
	if (r < 0 && fd >= 0)
		unlink(tmp);
	errno = saved;
	free(tmp);
	return r;
}

/* One option: 0 when taken, else the exit status of a usage error. */
static int option(cli_common *common, int c, char **argv, const char **html, bool *json, const char **against,
		  const char **platform)
{
	int r;
	switch (c) {
	case OPT_HTML:
		if ((r = cli_once(common, "report", c, "--html")) == 0)
			*html = optarg;
		return r;
	case OPT_JSON:
		*json = true;
		return 0;
	case OPT_AGAINST:
		if ((r = cli_once(common, "report", c, "--against")) == 0)
			*against = optarg;
		return r;
	case OPT_PLATFORM:
		if ((r = cli_once(common, "report", c, "--platform")) == 0)
			*platform = optarg;
		return r;
	case ':':
		return cli_usage("report", "option `%s` needs a value", argv[optind - 1]);
	default:
		if ((r = cli_transport_option("report", c, optarg, common)) == 1)
			r = cli_bad_option("report", longopts, argv[optind - 1]);
		return r;
	}
}

static int run(const cli_common *common, const char *ref, const char *html, const char *against, const char *platform)
{
	ims_report_options o = IMS_REPORT_OPTIONS_INIT;
	o.format = html ? IMS_REPORT_HTML : IMS_REPORT_JSON;
	o.platform = platform;
	o.against = against;
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *out = NULL;
	size_t len = 0;
	if (cli_context(&ctx, common, &err) < 0 || ims_report(ctx, ref, &o, &out, &len, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	ims_context_free(ctx);
	cli_progress_done();
	int rc = 0;
	if (!html) {
		fwrite(out, 1, len, stdout);
		putchar('\n');
	} else if (cli_write_file(html, out, len) < 0) {
		fprintf(stderr, "imagespec: report: cannot write `%s`: %s\n", html, strerror(errno));
		rc = 1;
	}
	free(out);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	const char *html = NULL, *against = NULL, *platform = NULL;
	bool json = false;
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r = 0;
	optind = 1;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, ":h" CLI_TRANSPORT_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			cli_common_dispose(&common);
			return 0;
		}
		r = option(&common, c, argv, &html, &json, &against, &platform);
	}
	if (r == 0 && argc - optind != 1)
		r = cli_usage("report", "name exactly one image reference");
	if (r == 0 && !html == !json)
		r = cli_usage("report", "name one form: `--html FILE` or `--json`");
	if (r == 0 && html && !*html)
		r = cli_usage("report", "--html wants a file name (or - for standard output)");
	if (r == 0) {
		if (common.verbose)
			common.progress = PROGRESS_PLAIN;
		r = run(&common, argv[optind], html, against, platform);
	}
	cli_common_dispose(&common);
	return r;
}
