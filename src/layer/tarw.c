#include "layer/tarw.h"

#include <locale.h>
#include <string.h>

#include "digest/sha256_stream.h"
#include "layer/archive_api.h"
#include "layer/compress.h"
#include "layer/lpath.h"
#include "util/async_sink.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Paths of the regular files written so far, so that a hardlink can only
 * ever point at a file of this layer (the CVE-2014-6407 class). */
typedef struct {
	char **slot;
	size_t cap, n;
} pathset;

/* The hop to the digest's thread: 4 buffers of 128 KiB (about a block of
 * compressed output each; a bigger write fills two). */
#define HOP_BUFSZ ((size_t)128 * 1024)
#define HOP_BUFS 4
/* The hop to the diffId's thread: a file's data comes IMS_COMPRESS_BUFSZ at a time
 * (libarchive passes it on as it is: block size 0), one buffer each. */
#define TAR_HOP_BUFSZ IMS_COMPRESS_BUFSZ
#define TAR_HOP_BUFS 4

struct ims_tarw {
	struct archive *a;
	ims_compressor *comp;
	ims_sha256_sink diff; /* of the tar: the diffId; count is the tar's size */
	ims_sha256_sink dig;  /* of the compressed bytes: the digest; count is the size */
	ims_sink to_comp;     /* diff forwards here, to the compressor */
	ims_async_sink *hop;  /* with threads: the compressor's output goes on to dig from a thread of its own */
	ims_async_sink *tar_hop; /* with threads: the tar goes on to diff (and the compressor) from another */
	ims_sink *tar_in;        /* where the tar goes: diff's sink, or tar_hop's */
	int64_t tar_bytes;       /* of tar so far, counted in the caller's thread */
	ims_sink sink;
	int64_t entries;
	ims_error *stage_err; /* failure of a stage below libarchive's callback */
	bool broken;          /* a call failed: the stream is unusable */
	bool done;            /* finished, or being freed: no more output */
	locale_t utf8;
	char *buf;
	pathset files;
	/* Progress: file bytes taken of the total, told every PROGRESS_STEP. */
	const ims_events *pev;
	const char *plabel;
	int64_t ptotal, pdone, pnext;
};

enum { PROGRESS_STEP = 1 << 20 };

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool pathset_has(const pathset *ps, const char *p)
{
	if (!ps->cap)
		return false;
	for (size_t i = fnv1a(p) & (ps->cap - 1); ps->slot[i]; i = (i + 1) & (ps->cap - 1))
		if (!strcmp(ps->slot[i], p))
			return true;
	return false;
}

static void pathset_put(pathset *ps, char *p)
{
	if ((ps->n + 1) * 2 > ps->cap) {
		pathset old = *ps;
		ps->cap = old.cap ? old.cap * 2 : 64;
		ps->slot = xcalloc(ps->cap, sizeof(char *));
		ps->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slot[i])
				pathset_put(ps, old.slot[i]);
		free(old.slot);
	}
	size_t i = fnv1a(p) & (ps->cap - 1);
	while (ps->slot[i]) {
		if (!strcmp(ps->slot[i], p)) {
			free(p);
			return;
		}
		i = (i + 1) & (ps->cap - 1);
	}
	ps->slot[i] = p;
	ps->n++;
}

static void pathset_dispose(pathset *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->slot[i]);
	free(ps->slot);
}

/* Below libarchive: every tar byte is counted against the cap, then
 * hashed for the diffId on its way to the compressor.
 *
 * A failure here is kept in stage_err and reported by the call that made
 * libarchive write (put_header, put_data, finish), never to libarchive,
 * which is told the bytes went out: they go nowhere from then on. A write
 * error inside archive_write_header makes libarchive 3.6 mark the archive
 * fatal, and archive_write_free then never frees its client buffer (a
 * leak that ASan caught once the tar went through a thread of its own and
 * a failing sink could fail any write). After done, the end blocks that
 * archive_write_free writes go nowhere either. */
static la_ssize_t tar_out(struct archive *a, void *ud, const void *p, size_t n)
{
	ims_tarw *w = ud;
	(void)a;
	if (w->done || w->stage_err)
		return (la_ssize_t)n;
	if (w->tar_bytes + (int64_t)n > IMS_LAYER_MAX_TAR_SIZE) {
		ims_error_set(&w->stage_err, IMS_ESOURCE, "the layer exceeds the limit of %lld GiB",
			      (long long)(IMS_LAYER_MAX_TAR_SIZE >> 30));
		return (la_ssize_t)n;
	}
	if (ims_sink_write(w->tar_in, p, n, &w->stage_err) < 0)
		return (la_ssize_t)n;
	w->tar_bytes += (int64_t)n;
	return (la_ssize_t)n;
}

static int comp_in(void *ud, const void *p, size_t n, ims_error **err)
{
	ims_tarw *w = ud;
	return ims_compressor_write(w->comp, p, n, err);
}

/* Reports a libarchive failure, preferring the error of our own stage
 * (the sink's, the compressor's) that caused it. */
static int fail(ims_tarw *w, const char *name, ims_error **err)
{
	w->broken = true;
	if (w->stage_err) {
		int code = w->stage_err->code;
		if (err && !*err)
			*err = steal_pointer(&w->stage_err);
		else
			ims_error_clear(&w->stage_err);
		return code;
	}
	const char *why = archive_error_string(w->a);
	return ims_error_set(err, IMS_EGENERIC, "write `%s` into the layer: %s", name, why ? why : "libarchive failed");
}

int ims_tarw_open(ims_tarw **out, ims_layer_alg alg, int level, int threads, ims_sink *sink, ims_error **err)
{
	int lr = ims_layer__need_archive(err);
	if (lr < 0)
		return lr;
	ims_tarw *w = xcalloc(1, sizeof(*w));
	w->sink = *sink;
	/* Below the compressor: every byte for the sink is hashed for the
	 * digest. w is on the heap, so the stages may point into it. */
	w->to_comp = (ims_sink){ comp_in, w };
	ims_sha256_sink_init(&w->diff, &w->to_comp);
	ims_sha256_sink_init(&w->dig, &w->sink);
	/* With threads, the digest and whatever the sink does (hash again,
	 * write a file) run beside this thread, which reads files, makes the
	 * tar and hashes it for the diffId: each of these is a serial pass
	 * that the compressor's threads cannot share, and on incompressible
	 * bytes they are most of the work. */
	ims_sink *comp_out = &w->dig.sink;
	int r = 0;
	if (threads > 1 && (r = ims_async_sink_new(&w->hop, comp_out, HOP_BUFSZ, HOP_BUFS, err)) < 0) {
		ims_tarw_free(w);
		return r;
	}
	if (w->hop)
		comp_out = ims_async_sink_sink(w->hop);
	r = ims_compressor_new(&w->comp, alg, level, threads, comp_out, err);
	if (r < 0) {
		ims_tarw_free(w);
		return r;
	}
	/* And the diffId's hash (with the compressor's input copying and
	 * handing out blocks) runs beside the thread that reads files and
	 * hashes their content for the layer cache: two serial passes over
	 * every byte, the most this thread did. */
	w->tar_in = &w->diff.sink;
	if (threads > 1 && (r = ims_async_sink_new(&w->tar_hop, w->tar_in, TAR_HOP_BUFSZ, TAR_HOP_BUFS, err)) < 0) {
		ims_tarw_free(w);
		return r;
	}
	if (w->tar_hop)
		w->tar_in = ims_async_sink_sink(w->tar_hop);
	w->buf = xmalloc(IMS_COMPRESS_BUFSZ);
	/* libarchive converts names through the locale's charset; pinning the
	 * thread to UTF-8 while it does keeps non-ASCII names identical
	 * whatever LANG the process runs under. */
	w->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!w->utf8)
		w->utf8 = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);

	w->a = archive_write_new();
	if (!w->a)
		abort();
	/* pax restricted: plain ustar headers unless a name, link or size
	 * needs an extension. Block size 0 hands each write straight to
	 * tar_out and pads nothing after the two end blocks, as Go's
	 * archive/tar (and so docker and ko) does. */
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, tar_out, NULL) != ARCHIVE_OK) {
		r = fail(w, "", err);
		ims_tarw_free(w);
		return r;
	}
	*out = w;
	return 0;
}

static int check_entry(ims_tarw *w, const ims_tar_entry *e, const char *shown, ims_error **err)
{
	if (!ims_lpath_valid(e->path)) {
		_cleanup_free_ char *q = ims_lpath_quote(e->path ? e->path : "");
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid path inside a layer", q);
	}
	if (e->uid < 0 || e->gid < 0 || e->uid > UINT32_MAX || e->gid > UINT32_MAX)
		return ims_error_set(err, IMS_EINVALID, "`%s`: uid and gid must be between 0 and %u", shown,
				     UINT32_MAX);
	if (e->perm & ~07777u)
		return ims_error_set(err, IMS_EINVALID, "`%s`: mode %o has bits outside 07777", shown, e->perm);
	switch (e->type) {
	case IMS_TAR_FILE:
		if (e->size < 0)
			return ims_error_set(err, IMS_EINVALID, "`%s`: negative size", shown);
		break;
	case IMS_TAR_DIR:
		break;
	case IMS_TAR_SYMLINK:
		if (!e->linkname || !*e->linkname || !ims_lpath_name_ok(e->linkname, strlen(e->linkname)))
			return ims_error_set(err, IMS_EINVALID, "`%s`: invalid symlink target", shown);
		break;
	case IMS_TAR_HARDLINK:
		if (!e->linkname || !pathset_has(&w->files, e->linkname))
			return ims_error_set(err, IMS_EINVALID,
					     "`%s`: hard link target `%s` is not an earlier file of this layer",
					     shown, e->linkname ? e->linkname : "");
		break;
	default:
		return ims_error_set(err, IMS_EINVALID, "`%s`: unknown entry type", shown);
	}
	/* Header blocks plus padded data: refuse before writing anything. */
	int64_t need = 3 * 512 + (e->type == IMS_TAR_FILE ? (e->size + 511) / 512 * 512 : 0);
	if (e->size > IMS_LAYER_MAX_TAR_SIZE || w->tar_bytes + need > IMS_LAYER_MAX_TAR_SIZE)
		return ims_error_set(err, IMS_ESOURCE, "`%s`: the layer would exceed the limit of %lld GiB", shown,
				     (long long)(IMS_LAYER_MAX_TAR_SIZE >> 30));
	return 0;
}

static int write_header(ims_tarw *w, const ims_tar_entry *e, const char *shown, ims_error **err)
{
	struct archive_entry *ae = archive_entry_new();
	if (!ae)
		abort();
	_cleanup_free_ char *dir = NULL;
	if (e->type == IMS_TAR_DIR) {
		dir = xasprintf("%s/", e->path);
		archive_entry_copy_pathname(ae, dir);
	} else {
		archive_entry_copy_pathname(ae, e->path);
	}
	/* Only what is set here reaches the header: no uname/gname, atime,
	 * ctime, birthtime, xattrs or ACLs (SPEC: reproducibility). */
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	archive_entry_set_mtime(ae, e->mtime, 0);
	switch (e->type) {
	case IMS_TAR_FILE:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, e->size);
		break;
	case IMS_TAR_DIR:
		archive_entry_set_filetype(ae, AE_IFDIR);
		break;
	case IMS_TAR_SYMLINK:
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_copy_symlink(ae, e->linkname);
		break;
	case IMS_TAR_HARDLINK:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_copy_hardlink(ae, e->linkname);
		break;
	}
	archive_entry_set_perm(ae, e->perm);

	locale_t old = w->utf8 ? uselocale(w->utf8) : (locale_t)0;
	int r = archive_write_header(w->a, ae);
	if (w->utf8)
		uselocale(old);
	archive_entry_free(ae);
	/* A warning means a name went out in some other charset: not the
	 * bytes we promise, so it fails like any other error. */
	if (r != ARCHIVE_OK || w->stage_err)
		return fail(w, shown, err);
	return 0;
}

static int changed(ims_tarw *w, const char *shown, ims_error **err)
{
	w->broken = true;
	return ims_error_set(err, IMS_ESOURCE, "`%s` changed as we read it", shown);
}

static int put_data(ims_tarw *w, const void *p, size_t n, const char *shown, ims_error **err)
{
	la_ssize_t wr = archive_write_data(w->a, p, n);
	if (wr < 0 || (size_t)wr != n || w->stage_err)
		return fail(w, shown, err);
	w->pdone += (int64_t)n;
	if (w->pev && w->pdone >= w->pnext && w->pdone < w->ptotal) {
		ims_events_progress(w->pev, w->plabel, w->pdone, w->ptotal);
		w->pnext = w->pdone + PROGRESS_STEP;
	}
	return 0;
}

void ims_tarw_progress(ims_tarw *w, const ims_events *ev, const char *label, int64_t total)
{
	w->pev = ev && ev->cb && label ? ev : NULL;
	w->plabel = label;
	w->ptotal = total;
	w->pnext = PROGRESS_STEP;
}

static int begin(ims_tarw *w, const ims_tar_entry *e, const char **shown, ims_error **err)
{
	if (w->done || w->broken)
		return ims_error_set(err, IMS_EGENERIC, "the layer writer is no longer usable");
	*shown = e->source ? e->source : e->path ? e->path : "";
	int r = check_entry(w, e, *shown, err);
	if (r < 0) {
		w->broken = true;
		return r;
	}
	return write_header(w, e, *shown, err);
}

static void added(ims_tarw *w, const ims_tar_entry *e)
{
	if (e->type == IMS_TAR_FILE)
		pathset_put(&w->files, xstrdup(e->path));
	w->entries++;
}

int ims_tarw_add(ims_tarw *w, const ims_tar_entry *e, ims_reader *data, ims_error **err)
{
	const char *shown;
	int r = begin(w, e, &shown, err);
	if (r < 0)
		return r;
	if (e->type == IMS_TAR_FILE) {
		int64_t left = e->size;
		while (left > 0) {
			if (!data)
				return changed(w, shown, err);
			size_t want = left < (int64_t)IMS_COMPRESS_BUFSZ ? (size_t)left : IMS_COMPRESS_BUFSZ;
			ssize_t got = data->read(data->ud, w->buf, want, err);
			if (got < 0) {
				w->broken = true;
				return ims_error_wrap(err, "read `%s`", shown);
			}
			if (got == 0)
				return changed(w, shown, err);
			if ((r = put_data(w, w->buf, (size_t)got, shown, err)) < 0)
				return r;
			left -= got;
		}
		/* The header holds the size: a file that grew is refused too,
		 * never truncated silently. */
		if (data) {
			char probe;
			ssize_t got = data->read(data->ud, &probe, 1, err);
			if (got < 0) {
				w->broken = true;
				return ims_error_wrap(err, "read `%s`", shown);
			}
			if (got > 0)
				return changed(w, shown, err);
		}
	}
	added(w, e);
	return 0;
}

int ims_tarw_add_buf(ims_tarw *w, const ims_tar_entry *e, const void *buf, size_t len, ims_error **err)
{
	ims_tar_entry f = *e;
	f.type = IMS_TAR_FILE;
	f.size = (int64_t)len;
	const char *shown;
	int r = begin(w, &f, &shown, err);
	if (r < 0)
		return r;
	if (len && (r = put_data(w, buf, len, shown, err)) < 0)
		return r;
	added(w, &f);
	return 0;
}

int ims_tarw_finish(ims_tarw *w, ims_layer_result *res, ims_error **err)
{
	if (w->done || w->broken)
		return ims_error_set(err, IMS_EGENERIC, "the layer writer is no longer usable");
	if (archive_write_close(w->a) != ARCHIVE_OK || w->stage_err)
		return fail(w, "end of archive", err);
	w->done = true;
	int r = w->tar_hop ? ims_async_sink_finish(w->tar_hop, err) : 0;
	if (r >= 0)
		r = ims_compressor_finish(w->comp, err);
	if (r >= 0 && w->hop)
		r = ims_async_sink_finish(w->hop, err);
	if (r >= 0 && w->pev)
		ims_events_progress(w->pev, w->plabel, w->ptotal, w->ptotal);
	if (r < 0) {
		w->broken = true;
		return r;
	}
	memset(res, 0, sizeof(*res));
	ims_sha256_sink_final(&w->diff, res->diff_id);
	ims_sha256_sink_final(&w->dig, res->digest);
	res->size = w->dig.count;
	res->tar_size = w->diff.count;
	res->entries = w->entries;
	return 0;
}

void ims_tarw_free(ims_tarw *w)
{
	if (!w)
		return;
	/* archive_write_free closes an open archive, which would write the
	 * end blocks: done makes tar_out refuse them, so an abandoned layer
	 * sends nothing more to the sink. */
	w->done = true;
	if (w->a)
		archive_write_free(w->a);
	/* Joins the diffId's thread first: it may be writing into the
	 * compressor. */
	ims_async_sink_free(w->tar_hop);
	ims_compressor_free(w->comp);
	/* Joins its thread, dropping what it holds: nothing reaches the sink
	 * after this. */
	ims_async_sink_free(w->hop);
	ims_sha256_sink_dispose(&w->diff);
	ims_sha256_sink_dispose(&w->dig);
	ims_error_free(w->stage_err);
	if (w->utf8)
		freelocale(w->utf8);
	pathset_dispose(&w->files);
	free(w->buf);
	free(w);
}
