#include "json/oci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Generous on parse: the executor refuses more than IMS_MAX_LAYERS in an
 * image it builds, with an override, so a base over the runtime limit gets
 * a clear message there rather than "invalid manifest" here. */
#define PARSE_MAX_LAYERS 1000

/* schemaVersion 2 is the only one: 1 is docker's signed legacy format. */
static int check_schema(const ims_json *t, const char *what, ims_error **err)
{
	int64_t v;
	const ims_json *sv = ims_json_get(t, "schemaVersion");
	if (!sv)
		return ims_error_set(err, IMS_EINVALID, "%s: missing `schemaVersion`", what);
	if (!ims_json_int(sv, &v) || v != 2)
		return ims_error_set(err, IMS_EUNSUPPORTED, "%s: unsupported schemaVersion `%.20s`", what,
				     sv->type == IMS_JSON_NUMBER ? sv->s : "(not a number)");
	return 0;
}

/* The document's mediaType, which must be one of two when present. */
static int media_type(char **out, const ims_json *t, const char *a, const char *b, const char *what,
		      ims_error **err)
{
	int rc = ims_json_opt_string(out, t, "mediaType", what, err);
	if (rc)
		return rc;
	if (!*out) {
		/* OCI lets the field be absent; the shape already told us. */
		*out = xstrdup(a);
		return 0;
	}
	if (strcmp(*out, a) && strcmp(*out, b))
		return ims_error_set(err, IMS_EINVALID, "%s: unexpected mediaType `%.80s`", what, *out);
	return 0;
}

static int annotations(ims_json **out, const ims_json *t, const char *what, ims_error **err)
{
	const ims_json *a = ims_json_get(t, "annotations");
	if (!a)
		return 0;
	if (!ims_json_is_string_map(a))
		return ims_error_set(err, IMS_EINVALID, "%s: `annotations` must map strings to strings", what);
	*out = ims_json_clone(a);
	return 0;
}

/* Reads an array of descriptors; *out has room for every entry. */
static int descriptors(ims_descriptor **out, size_t *n, const ims_json *arr, const char *key, size_t max,
		       const char *what, ims_error **err)
{
	if (!arr)
		return ims_error_set(err, IMS_EINVALID, "%s: missing `%s`", what, key);
	if (arr->type != IMS_JSON_ARRAY)
		return ims_error_set(err, IMS_EINVALID, "%s: `%s` must be an array", what, key);
	if (arr->n > max)
		return ims_error_set(err, IMS_EINVALID, "%s: more than %zu %s", what, max, key);
	*out = xcalloc(arr->n, sizeof(**out));
	for (size_t i = 0; i < arr->n; i++) {
		_cleanup_free_ char *w = xasprintf("%s: %s[%zu]", what, key, i);
		int rc = ims_descriptor_from_json(&(*out)[i], arr->v[i], w, err);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

/* ---- manifests ---- */

void ims_manifest_free(ims_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	ims_descriptor_dispose(&m->config);
	for (size_t i = 0; i < m->nlayers; i++)
		ims_descriptor_dispose(&m->layers[i]);
	free(m->layers);
	ims_json_free(m->annotations);
	if (m->subject) {
		ims_descriptor_dispose(m->subject);
		free(m->subject);
	}
	free(m->artifact_type);
	free(m);
}

static int manifest_from_json(ims_manifest *m, const ims_json *t, ims_error **err)
{
	static const char what[] = "invalid manifest";
	int rc;
	if ((rc = check_schema(t, what, err)) < 0)
		return rc;
	if ((rc = media_type(&m->media_type, t, IMS_MT_OCI_MANIFEST, IMS_MT_DOCKER_MANIFEST, what, err)) < 0)
		return rc;
	/* A document that is both is read differently by different clients
	 * (CVE-2021-41190). */
	if (ims_json_get(t, "manifests"))
		return ims_error_set(err, IMS_EINVALID, "%s: has both `manifests` and `layers`", what);
	if ((rc = ims_descriptor_from_json(&m->config, ims_json_get(t, "config"), "invalid manifest: config",
					   err)) < 0)
		return rc;
	if ((rc = descriptors(&m->layers, &m->nlayers, ims_json_get(t, "layers"), "layers", PARSE_MAX_LAYERS,
			      what, err)) < 0)
		return rc;
	const ims_json *subj = ims_json_get(t, "subject");
	if (subj) {
		m->subject = xcalloc(1, sizeof(*m->subject));
		if ((rc = ims_descriptor_from_json(m->subject, subj, "invalid manifest: subject", err)) < 0)
			return rc;
	}
	if ((rc = ims_json_opt_string(&m->artifact_type, t, "artifactType", what, err)) < 0)
		return rc;
	return annotations(&m->annotations, t, what, err);
}

int ims_manifest_parse(ims_manifest **out, const char *data, size_t len, ims_error **err)
{
	ims_json *t = NULL;
	int rc = ims_json_parse_object(&t, data, len, IMS_MANIFEST_MAX, "invalid manifest", err);
	if (rc)
		return rc;
	ims_manifest *m = xcalloc(1, sizeof(*m));
	rc = manifest_from_json(m, t, err);
	ims_json_free(t);
	if (rc) {
		ims_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static void set_annotations(ims_json *o, const ims_json *a)
{
	if (a && a->n)
		ims_json_set(o, "annotations", ims_json_clone(a));
}

static char *encode_free(ims_json *o, size_t *len)
{
	char *s = ims_json_encode(o, len);
	ims_json_free(o);
	return s;
}

char *ims_manifest_encode(const ims_manifest *m, size_t *len)
{
	ims_json *o = ims_json_new_object();
	ims_json_set(o, "schemaVersion", ims_json_new_int(2));
	ims_json_set(o, "mediaType", ims_json_new_string(m->media_type ? m->media_type : IMS_MT_OCI_MANIFEST));
	if (m->artifact_type)
		ims_json_set(o, "artifactType", ims_json_new_string(m->artifact_type));
	ims_json_set(o, "config", ims_descriptor_to_json(&m->config));
	ims_json *layers = ims_json_new_array();
	for (size_t i = 0; i < m->nlayers; i++)
		ims_json_append(layers, ims_descriptor_to_json(&m->layers[i]));
	ims_json_set(o, "layers", layers);
	if (m->subject)
		ims_json_set(o, "subject", ims_descriptor_to_json(m->subject));
	set_annotations(o, m->annotations);
	return encode_free(o, len);
}

/* ---- indexes ---- */

void ims_index_free(ims_index *ix)
{
	if (!ix)
		return;
	free(ix->media_type);
	for (size_t i = 0; i < ix->nmanifests; i++)
		ims_descriptor_dispose(&ix->manifests[i]);
	free(ix->manifests);
	ims_json_free(ix->annotations);
	free(ix);
}

static int index_from_json(ims_index *ix, const ims_json *t, ims_error **err)
{
	static const char what[] = "invalid index";
	int rc;
	if ((rc = check_schema(t, what, err)) < 0)
		return rc;
	if ((rc = media_type(&ix->media_type, t, IMS_MT_OCI_INDEX, IMS_MT_DOCKER_LIST, what, err)) < 0)
		return rc;
	if (ims_json_get(t, "layers") || ims_json_get(t, "config"))
		return ims_error_set(err, IMS_EINVALID, "%s: has both `manifests` and `layers`", what);
	if ((rc = descriptors(&ix->manifests, &ix->nmanifests, ims_json_get(t, "manifests"), "manifests",
			      IMS_MAX_INDEX_ENTRIES, what, err)) < 0)
		return rc;
	return annotations(&ix->annotations, t, what, err);
}

int ims_index_parse(ims_index **out, const char *data, size_t len, ims_error **err)
{
	ims_json *t = NULL;
	int rc = ims_json_parse_object(&t, data, len, IMS_MANIFEST_MAX, "invalid index", err);
	if (rc)
		return rc;
	ims_index *ix = xcalloc(1, sizeof(*ix));
	rc = index_from_json(ix, t, err);
	ims_json_free(t);
	if (rc) {
		ims_index_free(ix);
		return rc;
	}
	*out = ix;
	return 0;
}

char *ims_index_encode(const ims_index *ix, size_t *len)
{
	ims_json *o = ims_json_new_object();
	ims_json_set(o, "schemaVersion", ims_json_new_int(2));
	ims_json_set(o, "mediaType", ims_json_new_string(ix->media_type ? ix->media_type : IMS_MT_OCI_INDEX));
	ims_json *arr = ims_json_new_array();
	for (size_t i = 0; i < ix->nmanifests; i++)
		ims_json_append(arr, ims_descriptor_to_json(&ix->manifests[i]));
	ims_json_set(o, "manifests", arr);
	set_annotations(o, ix->annotations);
	return encode_free(o, len);
}
