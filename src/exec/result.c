/* The build result: the --json document and a human summary. */
#include <stdlib.h>
#include <string.h>

#include "exec/result.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

ims_build_result *ims_result_new(void)
{
	return xcalloc(1, sizeof(ims_build_result));
}

void ims_result_free(ims_build_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrefs; i++)
		free(r->refs[i]);
	free(r->refs);
	free(r->media_type);
	free(r->config_digest);
	for (size_t i = 0; i < r->nmanifests; i++) {
		ims_result_manifest *m = &r->manifests[i];
		free(m->platform);
		ims_descriptor_dispose(&m->manifest);
		for (size_t j = 0; j < m->nlayers; j++)
			ims_descriptor_dispose(&m->layers[j].desc);
		free(m->layers);
	}
	free(r->manifests);
	free(r);
}

const char *ims_result_action_name(ims_layer_action a)
{
	switch (a) {
	case IMS_ACTION_UPLOADED:
		return "uploaded";
	case IMS_ACTION_MOUNTED:
		return "mounted";
	case IMS_ACTION_SKIPPED:
		return "skipped";
	default:
		return "written";
	}
}

const char *ims_result_origin_name(ims_layer_origin o)
{
	switch (o) {
	case IMS_ORIGIN_BUILT:
		return "built";
	case IMS_ORIGIN_CACHED:
		return "cache";
	case IMS_ORIGIN_BLOB:
		return "blob";
	default:
		return "base";
	}
}

/* The keys of `docker buildx build --metadata-file`, for tools that read
 * them: the top-level digest and descriptor, the config digest of a single
 * image, and the names written, comma-joined as buildx joins them. */
static void buildx_names(ims_json *o, const ims_build_result *r)
{
	ims_json_set(o, "containerimage.digest", ims_json_new_string(r->digest));
	ims_json *d = ims_json_new_object();
	ims_json_set(d, "mediaType", ims_json_new_string(r->media_type ? r->media_type : ""));
	ims_json_set(d, "digest", ims_json_new_string(r->digest));
	ims_json_set(d, "size", ims_json_new_int(r->size));
	ims_json_set(o, "containerimage.descriptor", d);
	if (r->config_digest)
		ims_json_set(o, "containerimage.config.digest", ims_json_new_string(r->config_digest));
	ims_buf names = IMS_BUF_INIT(0);
	for (size_t i = 0; i < r->nrefs; i++) {
		if (i)
			ims_buf_putc(&names, ',');
		ims_buf_add(&names, r->refs[i], strlen(r->refs[i]), NULL);
	}
	ims_buf_putc(&names, '\0');
	ims_json_set(o, "image.name", ims_json_new_string(names.data));
	ims_buf_dispose(&names);
}

char *ims_result_json(const ims_build_result *r)
{
	ims_json *o = ims_json_new_object();
	ims_json *refs = ims_json_new_array();
	for (size_t i = 0; i < r->nrefs; i++)
		ims_json_append(refs, ims_json_new_string(r->refs[i]));
	ims_json_set(o, "references", refs);
	ims_json_set(o, "digest", ims_json_new_string(r->digest));
	ims_json_set(o, "mediaType", ims_json_new_string(r->media_type ? r->media_type : ""));
	ims_json_set(o, "size", ims_json_new_int(r->size));
	if (r->config_digest)
		ims_json_set(o, "configDigest", ims_json_new_string(r->config_digest));
	if (r->dry_run)
		ims_json_set(o, "dryRun", ims_json_new_bool(true));
	ims_json *ms = ims_json_new_array();
	for (size_t i = 0; i < r->nmanifests; i++) {
		const ims_result_manifest *m = &r->manifests[i];
		ims_json *mo = ims_json_new_object();
		ims_json_set(mo, "platform", ims_json_new_string(m->platform ? m->platform : ""));
		ims_json_set(mo, "digest", ims_json_new_string(m->manifest.digest));
		ims_json_set(mo, "mediaType",
			     ims_json_new_string(m->manifest.media_type ? m->manifest.media_type : ""));
		ims_json_set(mo, "size", ims_json_new_int(m->manifest.size));
		ims_json *ls = ims_json_new_array();
		for (size_t j = 0; j < m->nlayers; j++) {
			const ims_result_layer *l = &m->layers[j];
			ims_json *lo = ims_json_new_object();
			ims_json_set(lo, "digest", ims_json_new_string(l->desc.digest));
			ims_json_set(lo, "diffId", ims_json_new_string(l->diff_id));
			ims_json_set(lo, "size", ims_json_new_int(l->desc.size));
			ims_json_set(lo, "mediaType",
				     ims_json_new_string(l->desc.media_type ? l->desc.media_type : ""));
			ims_json_set(lo, "action", ims_json_new_string(ims_result_action_name(l->action)));
			ims_json_set(lo, "source", ims_json_new_string(ims_result_origin_name(l->origin)));
			ims_json_append(ls, lo);
		}
		ims_json_set(mo, "layers", ls);
		ims_json_append(ms, mo);
	}
	ims_json_set(o, "manifests", ms);
	buildx_names(o, r);
	char *s = ims_json_encode(o, NULL);
	ims_json_free(o);
	return s;
}

static bool seen_before(const ims_build_result *r, size_t mi, size_t li)
{
	const char *d = r->manifests[mi].layers[li].desc.digest;
	for (size_t i = 0; i <= mi; i++) {
		const ims_result_manifest *m = &r->manifests[i];
		size_t end = i == mi ? li : m->nlayers;
		for (size_t j = 0; j < end; j++)
			if (!strcmp(m->layers[j].desc.digest, d))
				return true;
	}
	return false;
}

void ims_result_counts(const ims_build_result *r, ims_build_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->nmanifests; i++) {
		const ims_result_manifest *m = &r->manifests[i];
		for (size_t j = 0; j < m->nlayers; j++) {
			if (seen_before(r, i, j))
				continue;
			const ims_result_layer *l = &m->layers[j];
			out->layers++;
			int *from[] = { [IMS_ORIGIN_BASE] = &out->base, [IMS_ORIGIN_BUILT] = &out->built,
					[IMS_ORIGIN_CACHED] = &out->cached, [IMS_ORIGIN_BLOB] = &out->blobs };
			(*from[l->origin])++;
			switch (l->action) {
			case IMS_ACTION_UPLOADED:
				out->uploaded++;
				out->uploaded_bytes += l->desc.size;
				break;
			case IMS_ACTION_MOUNTED:
				out->mounted++;
				break;
			case IMS_ACTION_SKIPPED:
				out->skipped++;
				break;
			default:
				out->written++;
				out->written_bytes += l->desc.size;
			}
		}
	}
}

char *ims_result_text(const ims_build_result *r)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < r->nmanifests; i++) {
		const ims_result_manifest *m = &r->manifests[i];
		ims_buf_printf(&b, "%s manifest %s (%lld bytes)\n", m->platform ? m->platform : "", m->manifest.digest,
			       (long long)m->manifest.size);
		for (size_t j = 0; j < m->nlayers; j++) {
			const ims_result_layer *l = &m->layers[j];
			const char *a = ims_result_action_name(l->action);
			static const char *const would[] = {
				[IMS_ACTION_WRITTEN] = "would write",
				[IMS_ACTION_UPLOADED] = "would upload",
				[IMS_ACTION_MOUNTED] = "would mount",
				[IMS_ACTION_SKIPPED] = "would skip",
			};
			if (r->dry_run)
				a = would[l->action];
			ims_buf_printf(&b, "  layer %s %12lld bytes  %s\n", l->desc.digest, (long long)l->desc.size, a);
		}
	}
	ims_buf_printf(&b, "%s %s %s\n", r->dry_run ? "would write" : "wrote", r->media_type ? r->media_type : "",
		       r->digest);
	for (size_t i = 0; i < r->nrefs; i++)
		ims_buf_printf(&b, "  %s\n", r->refs[i]);
	return ims_buf_steal(&b, NULL);
}
