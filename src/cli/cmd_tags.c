/* imagespec tags REPO */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_tags(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: imagespec tags REPO\n"
		     "  the tags of a registry repository (HOST/REPO), the ref names of an oci:DIR or\n"
		     "  oci-archive:FILE, or the RepoTags of a docker-archive:FILE, one per line");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("tags", "name exactly one repository");
	cli_common common = { .progress = PROGRESS_QUIET };
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char **tags = NULL;
	size_t n = 0;
	if (cli_context(&ctx, &common, &err) < 0 || ims_tags(ctx, argv[1], &tags, &n, &err) < 0) {
		ims_context_free(ctx);
		return cli_fail(err);
	}
	for (size_t i = 0; i < n; i++)
		puts(tags[i]);
	ims_strv_dispose(tags, n);
	ims_context_free(ctx);
	return 0;
}
