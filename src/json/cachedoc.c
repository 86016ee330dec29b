/* The layer cache artifact's config document. */
#include "json/cachedoc.h"

#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json/oci.h"
#include "util/error.h"
#include "util/xalloc.h"

void ims_cachedoc_dispose(ims_cachedoc *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].media_type);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void ims_cachedoc_add(ims_cachedoc *d, const ims_cachedoc_entry *e)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	d->v[d->n] = *e;
	d->v[d->n].media_type = xstrdup(e->media_type);
	d->n++;
}

static int digest_field(char out[IMS_DIGEST_BUFSZ], const ims_json *o, const char *key, size_t i, ims_error **err)
{
	const char *s = ims_json_get_string(o, key);
	if (!s || !ims_digest_valid(s))
		return ims_error_set(err, IMS_EINVALID, "layer cache: layers[%zu].%s is not a digest", i, key);
	memcpy(out, s, IMS_DIGEST_BUFSZ);
	return 0;
}

static int entry(ims_cachedoc_entry *e, const ims_json *o, size_t i, ims_error **err)
{
	int64_t size;
	const char *mt = ims_json_get_string(o, "mediaType");
	int r;
	if (!o || o->type != IMS_JSON_OBJECT)
		return ims_error_set(err, IMS_EINVALID, "layer cache: layers[%zu] is not an object", i);
	if ((r = digest_field(e->recipe, o, "recipe", i, err)) < 0 ||
	    (r = digest_field(e->digest, o, "digest", i, err)) < 0 ||
	    (r = digest_field(e->diff_id, o, "diffId", i, err)) < 0)
		return r;
	if (!ims_json_get(o, "size") || !ims_json_int(ims_json_get(o, "size"), &size) || size < 0 ||
	    size > ((int64_t)1 << 53))
		return ims_error_set(err, IMS_EINVALID, "layer cache: layers[%zu].size is not a size", i);
	if (!mt || !ims_media_type_valid(mt))
		return ims_error_set(err, IMS_EINVALID, "layer cache: layers[%zu].mediaType is not a media type", i);
	e->size = size;
	e->media_type = xstrdup(mt);
	return 0;
}

int ims_cachedoc_parse(ims_cachedoc *out, const char *data, size_t len, ims_error **err)
{
	memset(out, 0, sizeof(*out));
	ims_json *t = NULL;
	int r = ims_json_parse_object(&t, data, len, IMS_CONFIG_MAX, "layer cache", err);
	if (r < 0)
		return r;
	int64_t version = 0;
	const ims_json *layers = ims_json_get(t, "layers");
	if (!ims_json_get(t, "version") || !ims_json_int(ims_json_get(t, "version"), &version) || version != 1)
		r = ims_error_set(err, IMS_EINVALID, "layer cache: unknown version (this imagespec reads version 1)");
	else if (!layers || layers->type != IMS_JSON_ARRAY || layers->n > IMS_CACHEDOC_MAX_ENTRIES)
		r = ims_error_set(err, IMS_EINVALID, "layer cache: `layers` must be a list of at most %d entries",
				  IMS_CACHEDOC_MAX_ENTRIES);
	for (size_t i = 0; r >= 0 && i < layers->n; i++) {
		ims_cachedoc_entry e = { 0 };
		if ((r = entry(&e, layers->v[i], i, err)) >= 0) {
			ims_cachedoc_add(out, &e);
			free(e.media_type);
		}
	}
	ims_json_free(t);
	if (r < 0)
		ims_cachedoc_dispose(out);
	return r < 0 ? r : 0;
}

char *ims_cachedoc_encode(const ims_cachedoc *d, size_t *len)
{
	ims_json *o = ims_json_new_object();
	ims_json_set(o, "version", ims_json_new_int(1));
	ims_json *a = ims_json_new_array();
	for (size_t i = 0; i < d->n; i++) {
		const ims_cachedoc_entry *e = &d->v[i];
		ims_json *l = ims_json_new_object();
		ims_json_set(l, "recipe", ims_json_new_string(e->recipe));
		ims_json_set(l, "digest", ims_json_new_string(e->digest));
		ims_json_set(l, "diffId", ims_json_new_string(e->diff_id));
		ims_json_set(l, "size", ims_json_new_int(e->size));
		ims_json_set(l, "mediaType", ims_json_new_string(e->media_type));
		ims_json_append(a, l);
	}
	ims_json_set(o, "layers", a);
	char *s = ims_json_encode(o, len);
	ims_json_free(o);
	return s;
}
