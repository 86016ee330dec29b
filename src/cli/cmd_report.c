/* imagespec report REF (--html FILE | --json) [--against REF2] [--platform P] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const struct option longopts[] = {
	{ "html", required_argument, NULL, 'H' },
	{ "json", no_argument, NULL, 'j' },
	{ "against", required_argument, NULL, 'a' },
	{ "platform", required_argument, NULL, 'P' },
	CLI_DEADLINE_LONGOPTS{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char help[] =
	"usage: imagespec report REF (--html FILE | --json) [--against REF2] [--platform P]\n"
	"                        [--timeout DURATION] [--low-speed-time S]\n"
	"  describes an image's layers (sizes, file trees with whiteouts), config and\n"
	"  history; REF is HOST/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG] or\n"
	"  docker-archive:FILE[:REF]\n"
	"\n"
	"      --html FILE          write one self-contained HTML page to FILE (- for\n"
	"                           standard output); it fetches nothing\n"
	"      --json               print the same data as JSON on standard output\n"
	"      --against REF2       mark what changed since REF2 (say, the previous build):\n"
	"                           layers matched by position and diffId, files added,\n"
	"                           removed or changed per layer\n"
	"      --platform P         of an index, the image for os/arch[/variant] (default:\n"
	"                           the host's)\n" CLI_DEADLINE_HELP;

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

int cmd_report(int argc, char **argv)
{
	const char *html = NULL, *against = NULL, *platform = NULL;
	bool json = false;
	cli_common common = { .progress = PROGRESS_QUIET };
	int c, r;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			html = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'a':
			against = optarg;
			break;
		case 'P':
			platform = optarg;
			break;
		case OPT_DEADLINE_TIMEOUT:
		case OPT_DEADLINE_LOW_SPEED:
			if ((r = cli_deadline_option("report", c, optarg, &common)) != 0)
				return r;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case ':':
			return cli_usage("report", "option `%s` needs a value", argv[optind - 1]);
		default:
			return cli_bad_option("report", longopts, argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage("report", "name exactly one image reference");
	if (!html == !json)
		return cli_usage("report", "name one form: `--html FILE` or `--json`");
	if (html && !*html)
		return cli_usage("report", "--html wants a file name (or - for standard output)");
	ims_report_options o = IMS_REPORT_OPTIONS_INIT;
	o.format = html ? IMS_REPORT_HTML : IMS_REPORT_JSON;
	o.platform = platform;
	o.against = against;
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *out = NULL;
	size_t len = 0;
	if (cli_context(&ctx, &common, &err) < 0 || ims_report(ctx, argv[optind], &o, &out, &len, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	ims_context_free(ctx);
	if (json) {
		fwrite(out, 1, len, stdout);
		putchar('\n');
	} else if (cli_write_file(html, out, len) < 0) {
		fprintf(stderr, "imagespec: report: cannot write `%s`: %s\n", html, strerror(errno));
		free(out);
		return 1;
	}
	free(out);
	return 0;
}
