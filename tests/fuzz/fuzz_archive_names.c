/* Fuzzes how an `archive:` layer takes an entry's name
 * (ims_layer__archive_entry_path): stripComponents, `.` and `..`
 * components, absolute names, whiteouts (`.wh.NAME`, `.wh..wh..opq`, a
 * `.wh.` component anywhere), UTF-8 and control characters, and where a
 * symlink's target lands. The input is "NAME\nTARGET" (no newline: no
 * symlink); the first byte picks dest and the strip count.
 *
 * Invariants on a name that is taken: it is a clean relative path below
 * dest, with no `.wh.` component; a symlink's target, resolved from the
 * link's directory, stays below dest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"

#define FUZZ_MAX_INPUT 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what, const char *path)
{
	if (!cond) {
		fprintf(stderr, "fuzz_archive_names: %s: `%s`\n", what, path);
		abort();
	}
}

/* No empty, `.` or `..` component and no whiteout, not absolute. */
static void check_clean(const char *p)
{
	check(*p && *p != '/', "a relative non-empty path", p);
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		check(n > 0, "no empty component", p);
		check(!(n == 1 && s[0] == '.') && !(n == 2 && !memcmp(s, "..", 2)), "no . or ..", p);
		check(strncmp(s, ".wh.", 4) != 0, "no whiteout component", p);
		for (size_t i = 0; i < n; i++)
			check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "no control character", p);
		s += n;
		s += *s == '/';
	}
}

/* Where target, seen from the symlink at path, lands: resolved lexically
 * from the link's directory (or the root), `..` at the root staying. */
static char *resolve(const char *path, const char *target)
{
	size_t cap = strlen(path) + strlen(target) + 2, len = 0;
	char *cur = malloc(cap);
	if (!cur)
		abort();
	if (*target != '/') {
		const char *slash = strrchr(path, '/');
		len = slash ? (size_t)(slash - path) : 0;
		memcpy(cur, path, len);
	}
	for (const char *s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && !memcmp(s, "..", 2)) {
			while (len && cur[len - 1] != '/')
				len--;
			len -= len > 0;
		} else if (n && !(n == 1 && *s == '.')) {
			if (len)
				cur[len++] = '/';
			memcpy(cur + len, s, n);
			len += n;
		}
		s += n;
		s += *s == '/';
	}
	cur[len] = '\0';
	return cur;
}

static void check_below(const char *dest, const char *p, const char *what)
{
	if (!dest)
		return;
	size_t n = strlen(dest + 1);
	check(!strncmp(p, dest + 1, n) && (p[n] == '/' || !p[n]), what, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	uint8_t pick = data[0];
	char *in = malloc(size);
	if (!in)
		abort();
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	char *target = strchr(in, '\n');
	if (target)
		*target++ = '\0';
	static const char *const dests[] = { NULL, "/opt/app", "/a", "/usr/local/share" };
	const char *dest = dests[pick & 3];
	int strip = (pick >> 2) & 3;
	char *path = NULL;
	ims_error *e = NULL;
	if (ims_layer__archive_entry_path(dest, strip, in, target, &path, &e) < 0) {
		check(e && e->message && !path, "a refusal says why", in);
		ims_error_free(e);
	} else if (path) {
		check_clean(path);
		check_below(dest, path, "the entry is below dest");
		if (target) {
			char *lands = resolve(path, target);
			check_below(dest, lands, "the symlink's target is below dest");
			free(lands);
		}
	}
	free(path);
	free(in);
	return 0;
}
