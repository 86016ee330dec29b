/* `layers:` entries: each is exactly one of a files layer, a local
 * archive, an archive fetched from a URL, or an existing blob. */
#include "spec/spec_int.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

static const char *const kind_keys[] = { "files", "archive", "url", "blob" };
static const ims_layer_kind kinds[] = { IMS_LAYER_FILES, IMS_LAYER_ARCHIVE, IMS_LAYER_URL, IMS_LAYER_BLOB };

#define K_FILES (1u << IMS_LAYER_FILES)
#define K_ARCHIVE (1u << IMS_LAYER_ARCHIVE)
#define K_URL (1u << IMS_LAYER_URL)

/* Keys that only make sense for some kinds of layer. */
static const struct {
	const char *key;
	unsigned kinds;
	const char *where;
} scoped[] = {
	{ "defaults", K_FILES | K_ARCHIVE | K_URL, "`files`, `archive` and `url` layers" },
	{ "compression", K_FILES | K_ARCHIVE | K_URL, "`files`, `archive` and `url` layers" },
	{ "sha256", K_ARCHIVE | K_URL, "`archive` and `url` layers" },
	{ "dest", K_ARCHIVE | K_URL, "`archive` and `url` layers" },
	{ "include", K_ARCHIVE | K_URL, "`archive` and `url` layers" },
	{ "stripComponents", K_ARCHIVE | K_URL, "`archive` and `url` layers" },
};

static void parse_blob(spec_ctx *c, const ynode *n, ims_layer_spec *l)
{
	if (!spec_check_keys(c, n, &spec_obj_blob, "`blob`"))
		return;
	const ynode *v;
	if (!(v = spec_val(n, "digest")))
		spec_error(c, n->pos, "`blob` needs `digest`");
	else if (spec_get_str(c, v, "`digest`", 0, &l->digest))
		spec_check_digest(c, &l->digest, "`digest`");
	if (!(v = spec_val(n, "diffId")))
		spec_error(c, n->pos, "`blob` needs `diffId`");
	else if (spec_get_str(c, v, "`diffId`", 0, &l->diff_id))
		spec_check_digest(c, &l->diff_id, "`diffId`");
	if (!(v = spec_val(n, "size")))
		spec_error(c, n->pos, "`blob` needs `size`");
	else
		spec_get_int(c, v, "`size`", 1, INT64_MAX / 2, &l->size);
	if ((v = spec_val(n, "mediaType")) && spec_get_str(c, v, "`mediaType`", 0, &l->media_type))
		spec_check_media_type(c, &l->media_type, "`mediaType`");
	if ((v = spec_val(n, "urls")) && spec_get_strlist(c, v, "`urls`", 0, &l->urls))
		for (size_t i = 0; i < l->urls.n; i++)
			spec_check_url(c, &l->urls.v[i], "`urls` entry");
}

/* `sha256: {PLATFORM: digest, ...}`: one per platform, for an archive or
 * url that names ${platform.*}. */
static void parse_sha256_map(spec_ctx *c, const ynode *v, ims_layer_spec *l)
{
	const ims_str *src = l->kind == IMS_LAYER_URL ? &l->url : &l->archive;
	if (src->s && !src->platform) {
		spec_error(c, v->pos,
			   "a `sha256` per platform needs `${platform.os}`, `${platform.arch}` or "
			   "`${platform.variant}` in `%s`; give one `sha256` otherwise",
			   l->kind == IMS_LAYER_URL ? "url" : "archive");
		return;
	}
	ims_kvlist *m = &l->sha256_by_platform;
	if (!spec_get_kvlist(c, v, "`sha256`", 0, m))
		return;
	if (!m->n)
		spec_error(c, v->pos, "`sha256` names no platform");
	for (size_t i = 0; i < m->n; i++) {
		if (!spec_platform_valid(m->v[i].key.s))
			spec_error(c, m->v[i].key.pos, "`sha256` key `%s` must be a platform, `os/arch` or `os/arch/variant`",
				   m->v[i].key.s);
		spec_check_sha256(c, &m->v[i].value, "`sha256` value");
	}
}

static void parse_source(spec_ctx *c, const ynode *n, ims_layer_spec *l)
{
	const ynode *v;
	if ((v = spec_val(n, "archive")) && spec_get_str(c, v, "`archive`", GET_NONEMPTY | SUBST_PLATFORM, &l->archive))
		spec_check_rel(c, &l->archive, "`archive`");
	if ((v = spec_val(n, "url")) && spec_get_str(c, v, "`url`", SUBST_PLATFORM, &l->url))
		spec_check_url(c, &l->url, "`url`");
	if ((v = spec_val(n, "sha256")) && v->kind == YN_MAP)
		parse_sha256_map(c, v, l);
	else if (v && spec_get_str(c, v, "`sha256`", 0, &l->sha256))
		spec_check_sha256(c, &l->sha256, "`sha256`");
	else if (!v && l->kind == IMS_LAYER_URL)
		spec_error(c, n->pos, "a `url` layer needs `sha256`, so that what is fetched can be checked");
	if ((v = spec_val(n, "dest")) && spec_get_str(c, v, "`dest`", GET_NONEMPTY, &l->dest))
		spec_check_abs(c, &l->dest, "`dest`", PATH_NO_WHITEOUT);
	else if (!v)
		l->dest.s = xstrdup("/");
	if ((v = spec_val(n, "include")))
		spec_get_strlist(c, v, "`include`", GET_NONEMPTY, &l->include);
	int64_t strip;
	if ((v = spec_val(n, "stripComponents")) && spec_get_int(c, v, "`stripComponents`", 0, 1000, &strip))
		l->strip_components = (int)strip;
}

static void parse_layer(spec_ctx *c, const ynode *n, ims_compress_alg top, ims_layer_spec *l)
{
	l->pos = n->pos;
	l->compression.level = -1;
	if (!spec_check_keys(c, n, &spec_obj_layer, "a `layers` entry"))
		return;
	int k = spec_one_of(c, n, kind_keys, IMS_ARRAY_SIZE(kind_keys), "a `layers` entry",
			    "one of `files`, `archive`, `url` or `blob`");
	if (k < 0)
		return;
	l->kind = kinds[k];
	bool ok = true;
	for (size_t i = 0; i < IMS_ARRAY_SIZE(scoped); i++) {
		const ypair *p = ynode_find(n, scoped[i].key);
		if (p && !(scoped[i].kinds & (1u << l->kind))) {
			spec_error(c, p->key->pos, "`%s` only applies to %s", scoped[i].key, scoped[i].where);
			ok = false;
		}
	}
	if (!ok)
		return;
	const ynode *v;
	if ((v = spec_val(n, "name")))
		if (spec_get_str(c, v, "`name`", GET_NONEMPTY, &l->name))
			spec_check_text(c, &l->name, "`name`", 0); /* it goes into the history */
	if ((v = spec_val(n, "defaults")) && spec_check_keys(c, v, &spec_obj_attrs, "`defaults`"))
		spec_get_attrs(c, v, &l->defaults);
	if ((v = spec_val(n, "compression")))
		spec_compression(c, v, top, &l->compression);
	switch (l->kind) {
	case IMS_LAYER_FILES:
		v = spec_val(n, "files");
		spec_parse_files(c, v, "`files`", &l->files, &l->nfiles);
		if (v->kind == YN_SEQ && !v->n)
			spec_error(c, v->pos, "a layer's `files` must not be empty");
		break;
	case IMS_LAYER_BLOB:
		parse_blob(c, spec_val(n, "blob"), l);
		break;
	default:
		parse_source(c, n, l);
		break;
	}
}

void spec_parse_layers(spec_ctx *c, const ynode *n, ims_spec_model *m)
{
	if (n->kind != YN_SEQ) {
		spec_error(c, n->pos, "`layers` must be a list of mappings, not %s", ynode_kind_name(n));
		return;
	}
	ims_compress_alg top = m->compression.algorithm != IMS_COMPRESS_DEFAULT ? m->compression.algorithm
										: IMS_COMPRESS_GZIP;
	m->layers = xcalloc(n->n ? n->n : 1, sizeof(*m->layers));
	m->nlayers = n->n;
	for (size_t i = 0; i < n->n; i++)
		parse_layer(c, n->items[i], top, &m->layers[i]);
}
