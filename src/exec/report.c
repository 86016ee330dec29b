/* Running a report plan (an inspect plan read further): the image's
 * config and, for every layer, its entries, streamed from the blob through
 * a hash that proves the blob matched its digest. The tree is the report's
 * JSON form (docs/cli.md, "report"); report/ compares and renders it. */
#include <stdlib.h>
#include <string.h>

#include "digest/sha256_stream.h"
#include "exec/exec_int.h"
#include "layer/listing.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef struct {
	ims_json *files; /* the layer's "files" */
	int64_t entries, bytes;
	int64_t *kept; /* shared by every layer of the image: entries kept so far */
	bool truncated;
} layer_acc;

static const char *const type_names[] = {
	[IMS_LIST_FILE] = "file",         [IMS_LIST_DIR] = "dir",           [IMS_LIST_SYMLINK] = "symlink",
	[IMS_LIST_HARDLINK] = "hardlink", [IMS_LIST_WHITEOUT] = "whiteout", [IMS_LIST_OPAQUE] = "opaque",
	[IMS_LIST_OTHER] = "other",
};

static int on_entry(void *ud, const ims_list_entry *e, ims_error **err)
{
	(void)err;
	layer_acc *a = ud;
	a->entries++;
	a->bytes += e->size;
	if (*a->kept >= IMS_REPORT_MAX_ENTRIES) {
		a->truncated = true;
		return 0;
	}
	(*a->kept)++;
	/* names that are not UTF-8, or hold control characters, get \xNN
	 * escapes: the JSON stays valid and no name moves a terminal's cursor */
	_cleanup_free_ char *path = ims_text_quote(e->path);
	ims_json *f = ims_json_new_object();
	ims_json_set(f, "path", ims_json_new_string(path));
	ims_json_set(f, "type", ims_json_new_string(type_names[e->type]));
	ims_json_set(f, "size", ims_json_new_int(e->size));
	ims_json_set(f, "mode", ims_json_new_int(e->mode));
	ims_json_set(f, "uid", ims_json_new_int(e->uid));
	ims_json_set(f, "gid", ims_json_new_int(e->gid));
	if (e->link) {
		_cleanup_free_ char *link = ims_text_quote(e->link);
		ims_json_set(f, "link", ims_json_new_string(link));
	}
	if (e->digest)
		ims_json_set(f, "digest", ims_json_new_string(e->digest));
	ims_json_append(a->files, f);
	return 0;
}

/* Reads what is left of the blob, so that the hash covers all of it. */
static int drain(ims_reader *r, ims_error **err)
{
	_cleanup_free_ char *buf = xmalloc(1 << 16);
	for (;;) {
		ssize_t got = r->read(r->ud, buf, 1 << 16, err);
		if (got <= 0)
			return (int)got;
	}
}

/* One layer: its descriptor, and the entries of its blob. */
static int report_layer(ims_transport *t, const ims_descriptor *desc, size_t i, const ims_base_image *im, int64_t *kept,
			ims_json **out, ims_error **err)
{
	ims_json *l = ims_json_new_object();
	ims_json_set(l, "index", ims_json_new_int((int64_t)i));
	ims_json_set(l, "digest", ims_json_new_string(desc->digest));
	const char *diff_id = i < ims_config_ndiff_ids(im->config) ? ims_config_diff_id(im->config, i) : NULL;
	ims_json_set(l, "diffId", diff_id ? ims_json_new_string(diff_id) : ims_json_new_null());
	ims_json_set(l, "mediaType", ims_json_new_string(desc->media_type ? desc->media_type : ""));
	ims_json_set(l, "size", ims_json_new_int(desc->size));
	/* an existing image: every layer is what the image has */
	ims_json_set(l, "source", ims_json_new_string("image"));
	layer_acc a = { .files = ims_json_new_array(), .kept = kept };
	ims_reader blob = { 0 };
	int r = ims_transport_open_blob(t, desc->digest, &blob, err);
	if (r >= 0) {
		ims_sha256_reader hr;
		ims_sha256_reader_init(&hr, &blob);
		_cleanup_free_ char *shown = xasprintf("layer %zu `%s`", i + 1, desc->digest);
		r = ims_layer_list(&hr.reader, shown, on_entry, &a, err);
		/* the digest first: bytes that are not a tar are first of all
		 * bytes that are not the layer's (unless reading them failed) */
		ims_error *list_err = NULL;
		if (r < 0 && r != IMS_EINTERRUPTED && r != IMS_ENET) {
			list_err = *err;
			*err = NULL;
		}
		int rd = r < 0 && !list_err ? r : drain(&hr.reader, err);
		if (rd >= 0) {
			char got[IMS_DIGEST_BUFSZ];
			ims_sha256_reader_final(&hr, got);
			if (strcmp(got, desc->digest) || hr.count != desc->size)
				rd = ims_error_set(err, IMS_EDIGEST,
						   "%s: the blob has %lld bytes with digest `%s`; the manifest says %lld",
						   shown, (long long)hr.count, got, (long long)desc->size);
		}
		if (rd < 0) {
			ims_error_free(list_err);
			r = rd;
		} else if (list_err) {
			*err = list_err;
			r = ims_exec_not_spec(err, r);
		}
		ims_sha256_reader_dispose(&hr);
		ims_reader_close(&blob);
	}
	ims_json_set(l, "entries", ims_json_new_int(a.entries));
	ims_json_set(l, "bytes", ims_json_new_int(a.bytes));
	ims_json_set(l, "truncated", ims_json_new_bool(a.truncated));
	ims_json_set(l, "files", a.files);
	if (r < 0) {
		ims_json_free(l);
		return r;
	}
	*out = l;
	return 0;
}

/* config, history and the layers of the selected image. */
static int report_image(ims_transport *t, const ims_base_image *im, ims_json *o, ims_error **err)
{
	ims_platform *p = ims_config_platform(im->config);
	if (p) {
		_cleanup_free_ char *s = ims_platform_string(p);
		ims_json_set(o, "platform", ims_json_new_string(s));
		ims_platform_free(p);
	}
	ims_json *tree = ims_config_tree(im->config);
	const ims_json *cfg = ims_json_get(tree, "config");
	ims_json_set(o, "config", cfg ? ims_json_clone(cfg) : ims_json_new_object());
	const ims_json *hist = ims_json_get(tree, "history");
	ims_json_set(o, "history", hist ? ims_json_clone(hist) : ims_json_new_array());
	ims_json *ls = ims_json_new_array();
	ims_json_set(o, "layers", ls);
	int64_t total = 0, kept = 0;
	for (size_t i = 0; im->manifest && i < im->manifest->nlayers; i++) {
		ims_json *l = NULL;
		int r = report_layer(t, &im->manifest->layers[i], i, im, &kept, &l, err);
		if (r < 0)
			return r;
		ims_json_append(ls, l);
		total += im->manifest->layers[i].size;
	}
	ims_json_set(o, "size", ims_json_new_int(total));
	return 0;
}

int ims_exec_report(const ims_exec_env *env, const ims_plan *p, ims_json **out, ims_error **err)
{
	ims_transport *t = NULL;
	ims_session session = { 0 };
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	ims_base_image im = { 0 };
	int r = ims_exec_open_source(env, p, &session, &t, err);
	if (r >= 0 && (r = ims_transport_get_manifest(t, p->source->digest, &data, &len, &mt, err)) >= 0)
		r = ims_exec_select_image(p, t, data, len, mt, &im, err);
	if (r >= 0) {
		ims_json *o = ims_json_new_object();
		char dg[IMS_DIGEST_BUFSZ];
		ims_sha256_buf(data, len, dg);
		ims_json_set(o, "reference", ims_json_new_string(p->source_shown));
		ims_json_set(o, "digest", ims_json_new_string(dg));
		ims_json_set(o, "mediaType", ims_json_new_string(im.manifest->media_type));
		if ((r = report_image(t, &im, o, err)) < 0)
			ims_json_free(o);
		else
			*out = o;
	}
	ims_manifest_free(im.manifest);
	ims_config_free(im.config);
	ims_platform_free(im.platform);
	free(data);
	free(mt);
	ims_transport_close(t);
	ims_session_close(&session);
	return r < 0 ? r : 0;
}
