/* Unit tests for src/exec pieces that need no plan: the uncompressed copy
 * of a base layer into a docker-archive (catalogue item 41: a
 * decompression bomb is refused at a cap, and nothing is left behind). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "digest/digest.h"
#include "exec/exec_int.h"
#include "json/mediatype.h"
#include "json/oci.h"
#include "ref/ref.h"
#include "util/buf.h"
#include "transport/transport.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"
#include "testref.h"

static char *root;

#define BOMB_PLAIN (4u << 20) /* 4 MiB of zeros: a few KiB of gzip */

/* gzip of n zero bytes. */
static unsigned char *gzip_zeros(size_t n, size_t *len)
{
	unsigned char *zeros = xcalloc(1, n);
	uLong cap = compressBound((uLong)n) + 64;
	unsigned char *out = xmalloc(cap);
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = zeros;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*len = z.total_out;
	deflateEnd(&z);
	free(zeros);
	return out;
}

static int open_ref(ims_transport **t, const char *s, int mode, ims_error **err)
{
	return test_open_ref(t, root, s, mode, err);
}

/* The names in root other than `src`, space-separated ("" when none). */
static char *leftovers(void)
{
	ims_buf b = IMS_BUF_INIT(0);
	DIR *d = opendir(root);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "src"))
			ims_buf_puts(&b, e->d_name), ims_buf_putc(&b, ' ');
	if (d)
		closedir(d);
	ims_buf_puts(&b, "");
	size_t n;
	return ims_buf_steal(&b, &n);
}

static void test_uncompressed_cap(void)
{
	size_t len;
	unsigned char *bomb = gzip_zeros(BOMB_PLAIN, &len);
	ims_descriptor d = { .media_type = IMS_MT_OCI_LAYER_GZIP, .size = (int64_t)len };
	ims_sha256_buf(bomb, len, d.digest);
	char diff_id[IMS_DIGEST_BUFSZ];
	unsigned char *zeros = xcalloc(1, BOMB_PLAIN);
	ims_sha256_buf(zeros, BOMB_PLAIN, diff_id);
	free(zeros);

	ims_transport *src = NULL, *dst = NULL;
	ims_error *err = NULL;
	ims_blob_writer *w = NULL;
	int r = open_ref(&src, "oci:src", IMS_TRANSPORT_WRITE, &err);
	if (r >= 0 && (r = ims_transport_new_blob(src, &w, &err)) >= 0) {
		if ((r = ims_sink_write(&w->sink, bomb, len, &err)) < 0)
			w->abort(w);
		else
			r = w->commit(w, d.digest, d.size, &err);
	}
	ok(r == 0, "a layout holding a %zu-byte gzip of 4 MiB of zeros", len);
	if (err)
		printf("# %s\n", err->message), ims_error_clear(&err);

	ims_exec__set_uncompressed_max(1 << 20);
	ok(open_ref(&dst, "docker-archive:bomb.tar", IMS_TRANSPORT_WRITE, &err) == 0, "a docker-archive to write");
	ims_descriptor out = { 0 };
	ims_layer_action action = 0;
	r = ims_exec_copy_uncompressed(src, dst, &d, diff_id, &out, &action, &err);
	is_int(r, IMS_EGENERIC, "a layer decompressing past the cap: a build failure (exit 1)");
	char *want = xasprintf("base layer %s decompresses to more than 1048576 bytes; refusing it", d.digest);
	ok(err && strstr(err->message, want), "... saying so: %s", err ? err->message : "(none)");
	free(want);
	ims_error_clear(&err);
	ims_descriptor_dispose(&out);
	ims_transport_close(dst);
	char *left = leftovers();
	is_str(left, "", "... and nothing is left behind: no archive, no temp file");
	free(left);

	/* The same layer under the default cap goes through, both digests checked. */
	ims_exec__set_uncompressed_max(0);
	ok(open_ref(&dst, "docker-archive:ok.tar", IMS_TRANSPORT_WRITE, &err) == 0, "another docker-archive");
	memset(&out, 0, sizeof(out));
	r = ims_exec_copy_uncompressed(src, dst, &d, diff_id, &out, &action, &err);
	ok(r == 0 && out.size == BOMB_PLAIN && !strcmp(out.digest, diff_id),
	   "under the default cap (64 GiB) the layer is copied as its 4 MiB tar");
	if (err)
		printf("# %s\n", err->message), ims_error_clear(&err);
	ims_descriptor_dispose(&out);
	ims_transport_close(dst);
	ims_transport_close(src);
	free(bomb);
}

int main(void)
{
	ims_error *err = NULL;
	if (ims_mkdtemp(NULL, "test-exec", &root, &err) < 0) {
		printf("Bail out! %s\n", err->message);
		return 1;
	}
	test_uncompressed_cap();
	ims_rm_rf(root, NULL);
	free(root);
	return tap_done();
}
