/* Listing a layer blob: libarchive pulls from the caller's reader (gzip
 * and zstd detected by magic, or plain tar), and every entry's content is
 * hashed in 64 KiB pieces on its way past. */
#include "layer/listing.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "layer/archive_api.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

enum { LIST_BUFSZ = 1 << 16 };

typedef struct {
	ims_reader *r;
	ims_error *err; /* the reader's own error, kept for the caller */
	char *buf;
} src;

static la_ssize_t src_read(struct archive *a, void *ud, const void **out)
{
	src *s = ud;
	(void)a;
	ssize_t got = s->r->read(s->r->ud, s->buf, LIST_BUFSZ, &s->err);
	if (got < 0)
		return -1;
	*out = s->buf;
	return got;
}

/* The reader's own error when it failed (a digest, the network), else
 * libarchive's word on the bytes. */
static int reader_error(struct archive *a, const char *shown, src *s, ims_error **err)
{
	if (s->err) {
		int code = s->err->code;
		*err = s->err;
		s->err = NULL;
		return code;
	}
	return ims_error_set(err, IMS_EINVALID, "%s: not a tar layer: %s", shown, archive_error_string(a));
}

/* The path without "./" or "/" in front. */
static const char *trimmed(const char *p)
{
	for (;;) {
		if (p[0] == '/')
			p++;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		else
			return p;
	}
}

/* Splits the whiteout marks off: `DIR/.wh..wh..opq` and `DIR/.wh.NAME`. */
static ims_list_type whiteout(const char *path, char **out)
{
	const char *base = strrchr(path, '/');
	size_t dirlen = base ? (size_t)(base - path) + 1 : 0;
	base = base ? base + 1 : path;
	if (strncmp(base, ".wh.", 4))
		return IMS_LIST_FILE;
	if (!strcmp(base, ".wh..wh..opq")) {
		*out = xstrndup(path, dirlen ? dirlen - 1 : 0);
		return IMS_LIST_OPAQUE;
	}
	*out = xasprintf("%.*s%s", (int)dirlen, path, base + 4);
	return IMS_LIST_WHITEOUT;
}

static ims_list_type kind_of(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return IMS_LIST_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return IMS_LIST_FILE;
	case AE_IFDIR:
		return IMS_LIST_DIR;
	case AE_IFLNK:
		return IMS_LIST_SYMLINK;
	default:
		return IMS_LIST_OTHER;
	}
}

static int content_digest(struct archive *a, const char *shown, src *s, char *buf, char out[IMS_DIGEST_BUFSZ],
			  int64_t *size, ims_error **err)
{
	ims_sha256 *h = ims_sha256_new();
	*size = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, LIST_BUFSZ);
		if (n < 0) {
			ims_sha256_free(h);
			return reader_error(a, shown, s, err);
		}
		if (n == 0)
			break;
		int r = ims_check_interrupt(err); /* a big file is many reads: stop between them */
		if (r < 0) {
			ims_sha256_free(h);
			return r;
		}
		ims_sha256_update(h, buf, (size_t)n);
		*size += n;
	}
	ims_sha256_final(h, out);
	ims_sha256_free(h);
	return 0;
}

static int list_all(struct archive *a, const char *shown, src *s, ims_list_fn fn, void *ud, ims_error **err)
{
	_cleanup_free_ char *buf = xmalloc(LIST_BUFSZ);
	for (;;) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return reader_error(a, shown, s, err);
		if ((r = ims_check_interrupt(err)) < 0)
			return r;
		const char *name = archive_entry_pathname(ae);
		if (!name)
			name = "";
		/* "usr/" is the directory usr */
		_cleanup_free_ char *path = xstrdup(trimmed(name));
		for (size_t len = strlen(path); len && path[len - 1] == '/'; len--)
			path[len - 1] = '\0';
		ims_list_entry e = {
			.name = name,
			.path = path,
			.type = kind_of(ae),
			.mode = archive_entry_perm(ae) & 07777,
			.uid = archive_entry_uid(ae),
			.gid = archive_entry_gid(ae),
		};
		_cleanup_free_ char *wpath = NULL;
		if (e.type == IMS_LIST_FILE) {
			ims_list_type w = whiteout(e.path, &wpath);
			if (w != IMS_LIST_FILE) {
				e.type = w;
				e.path = wpath;
			}
		}
		if (e.type == IMS_LIST_SYMLINK)
			e.link = archive_entry_symlink(ae);
		else if (e.type == IMS_LIST_HARDLINK)
			e.link = trimmed(archive_entry_hardlink(ae));
		char dg[IMS_DIGEST_BUFSZ];
		if (e.type == IMS_LIST_FILE) {
			if ((r = content_digest(a, shown, s, buf, dg, &e.size, err)) < 0)
				return r;
			e.digest = dg;
		}
		if ((r = fn(ud, &e, err)) < 0)
			return r;
	}
}

int ims_layer_list(ims_reader *r, const char *shown, ims_list_fn fn, void *ud, ims_error **err)
{
	int lr = ims_layer__need_archive(err);
	if (lr < 0)
		return lr;
	struct archive *a = archive_read_new();
	if (!a)
		abort();
	/* The tar formats and the compressions a layer may have; nothing else
	 * is attack surface worth having here. */
	if (archive_read_support_format_tar(a) < ARCHIVE_WARN || archive_read_support_format_gnutar(a) < ARCHIVE_WARN ||
	    archive_read_support_filter_gzip(a) < ARCHIVE_WARN || archive_read_support_filter_zstd(a) < ARCHIVE_WARN) {
		int rc = ims_error_set(err, IMS_EUNSUPPORTED, "%s: %s", shown, archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	src s = { .r = r, .buf = xmalloc(LIST_BUFSZ) };
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	int r2;
	if (archive_read_open(a, &s, NULL, src_read, NULL) < ARCHIVE_WARN)
		r2 = reader_error(a, shown, &s, err);
	else
		r2 = list_all(a, shown, &s, fn, ud, err);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	archive_read_free(a);
	ims_error_free(s.err);
	free(s.buf);
	return r2;
}
