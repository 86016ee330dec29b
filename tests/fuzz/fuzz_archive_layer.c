/* Fuzzes an `archive:` layer end to end: the input is a tar (plain, gzip,
 * zstd or xz, as a user's archive may be) read through
 * ims_layer_write_archive, the way a build reads it: libarchive's reader,
 * stripComponents, dest, include, the whiteout, device, link and name
 * refusals, and the tar writer. The bytes live in a memfd, read through
 * /proc/self/fd. The first byte picks the options. A refusal says why;
 * nothing crashes or leaks (ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layer/layer.h"

/* Small archives find the parser bugs; big ones only cost time. */
#define FUZZ_MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_archive_layer: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	uint8_t pick = data[0];
	data++;
	size--;
	int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
	check(fd >= 0, "memfd_create");
	check(write(fd, data, size) == (ssize_t)size, "write the archive");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	static const char *const include[] = { "bin", "etc/*.conf", "**/*.txt" };
	ims_layer_archive l = {
		.shown = "fuzz.tar",
		.dest = (pick & 1) ? "/opt/app" : NULL,
		.include = include,
		.ninclude = (pick & 2) ? 3 : 0,
		.strip_components = (pick >> 2) & 3,
	};
	ims_layer_opts o = { .created = 0, .alg = IMS_LAYER_ALG_NONE, .level = -1, .threads = 1 };
	if (pick & 16)
		o.defaults.has_mode = true, o.defaults.mode = 0644;
	ims_sink out = ims_sink_null();
	ims_layer_result res;
	memset(&res, 0, sizeof(res));
	ims_error *e = NULL;
	if (ims_layer_write_archive(&l, path, &o, &out, &res, &e) < 0) {
		check(e && e->message, "a refusal says why");
		ims_error_free(e);
	} else {
		check(e == NULL, "no error on success");
		check(res.tar_size >= 1024 && res.tar_size % 512 == 0, "a tar of whole blocks");
	}
	close(fd);
	return 0;
}
