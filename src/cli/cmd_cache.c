/* imagespec cache du|prune */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char cache_usage[] =
	"usage: imagespec cache du [--cache-dir DIR] [--json]\n"
	"       imagespec cache prune [--max-size SIZE] [--cache-dir DIR]\n"
	"\n"
	"  du      how much the layer cache holds\n"
	"  prune   remove the least recently used layers until the cache holds at\n"
	"          most SIZE (bytes, or with K, M, G or T: 500M, 10G; default 0:\n"
	"          everything)\n"
	"\n"
	"      --cache-dir DIR   the cache (default $XDG_CACHE_HOME/imagespec, else\n"
	"                        ~/.cache/imagespec)\n"
	"      --max-size SIZE   prune: what the cache may keep (default 0)\n"
	"      --json            du, prune: print {\"bytes\", \"blobs\", \"layers\"[, \"freed\"]}\n"
	"\n"
	"Examples:\n"
	"  imagespec cache du --json\n"
	"  imagespec cache prune --max-size 10G\n"
	"  imagespec cache prune --cache-dir /var/cache/imagespec\n";

/* "500M", "10G", "123": bytes, or -1. */
static long long parse_size(const char *s)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	static const char units[] = "KMGT";
	const char *u = *end ? strchr(units, *end) : NULL;
	if (*end && (!u || (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))))
		return -1;
	for (const char *p = units; u && p <= u; p++)
		v *= 1024;
	return v > 9e18 ? -1 : (long long)v;
}

int cmd_cache(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cache-dir", required_argument, NULL, 'd' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_common common = { .progress = PROGRESS_QUIET };
	long long max = 0;
	bool json = false;
	int c, r;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if ((r = cli_once(&common, "cache", c, "--cache-dir")) != 0)
				return r;
			common.cache_dir = optarg;
			break;
		case 'm':
			if ((r = cli_once(&common, "cache", c, "--max-size")) != 0)
				return r;
			if ((max = parse_size(optarg)) < 0)
				return cli_usage("cache", "--max-size wants a size like 500M or 10G, not `%s`", optarg);
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			fputs(cache_usage, stdout);
			return 0;
		case ':':
			return cli_usage("cache", "option `%s` needs a value", argv[optind - 1]);
		default:
			return cli_bad_option("cache", longopts, argv[optind - 1]);
		}
	}
	if (argc - optind != 1 || (strcmp(argv[optind], "du") && strcmp(argv[optind], "prune")))
		return cli_usage("cache", "say `du` or `prune`");
	bool prune = !strcmp(argv[optind], "prune");
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	int rc = 0;
	if (cli_context(&ctx, &common, &err) < 0)
		return cli_fail(err);
	ims_layer_cache_usage u;
	long long freed = 0;
	if (prune && ims_layer_cache_prune(ctx, max, &freed, &err) < 0)
		rc = cli_fail(err);
	else if (ims_layer_cache_du(ctx, &u, &err) < 0)
		rc = cli_fail(err);
	else if (json)
		printf("{\"bytes\":%lld,\"blobs\":%zu,\"layers\":%zu%s%lld}\n", u.bytes, u.blobs, u.layers,
		       prune ? ",\"freed\":" : "", prune ? freed : 0LL);
	else if (prune)
		printf("freed %lld bytes; %lld bytes in %zu layer blobs remain\n", freed, u.bytes, u.blobs);
	else
		printf("%lld bytes in %zu layer blobs, %zu recipes\n", u.bytes, u.blobs, u.layers);
	ims_context_free(ctx);
	return rc;
}
