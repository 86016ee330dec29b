#include "json/oci.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

static const struct {
	const char *type;
	ims_doc_kind kind;
} known[] = {
	{ IMS_MT_OCI_MANIFEST, IMS_DOC_MANIFEST },
	{ IMS_MT_DOCKER_MANIFEST, IMS_DOC_MANIFEST },
	{ IMS_MT_OCI_INDEX, IMS_DOC_INDEX },
	{ IMS_MT_DOCKER_LIST, IMS_DOC_INDEX },
};

static int lookup(const char *mt)
{
	for (size_t i = 0; i < IMS_ARRAY_SIZE(known); i++)
		if (!strcmp(mt, known[i].type))
			return (int)i;
	return -1;
}

/* "Application/vnd...+json; charset=utf-8" → the bare lower-case type. */
static char *bare_type(const char *ct)
{
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	char *s = xstrndup(ct, n);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static bool legacy(const char *mt)
{
	return !strcmp(mt, MT_DOCKER_V1) || !strcmp(mt, MT_DOCKER_V1_SIGNED);
}

int ims_doc_detect(const char *data, size_t len, const char *content_type, ims_doc_kind *kind,
		   char **media_type, ims_error **err)
{
	static const char what[] = "invalid manifest";
	ims_json *t = NULL;
	int rc = ims_json_parse_object(&t, data, len, IMS_MANIFEST_MAX, what, err);
	if (rc)
		return rc;

	_cleanup_free_ char *ct = content_type ? bare_type(content_type) : NULL;
	_cleanup_free_ char *doc_mt = NULL;
	const char *eff = NULL;
	bool has_index = ims_json_get(t, "manifests") != NULL;
	bool has_image = ims_json_get(t, "layers") || ims_json_get(t, "config");
	int ct_i = ct ? lookup(ct) : -1;
	int doc_i = -1;
	ims_doc_kind k;

	if ((rc = ims_json_opt_string(&doc_mt, t, "mediaType", what, err)) < 0)
		goto out;
	if ((doc_mt && legacy(doc_mt)) || (ct && legacy(ct))) {
		rc = ims_error_set(err, IMS_EUNSUPPORTED, "docker schema 1 manifests are not supported");
		goto out;
	}
	/* CVE-2021-41190: a document that reads as a manifest to one client and
	 * as an index to another. Refuse every form of disagreement. */
	if (has_index && has_image) {
		rc = ims_error_set(err, IMS_EINVALID, "%s: has both `manifests` and `layers` or `config`", what);
		goto out;
	}
	if (doc_mt) {
		doc_i = lookup(doc_mt);
		if (doc_i < 0) {
			rc = ims_error_set(err, IMS_EUNSUPPORTED, "unsupported manifest media type `%.80s`", doc_mt);
			goto out;
		}
		if (ct_i >= 0 && ct_i != doc_i) {
			rc = ims_error_set(err, IMS_EINVALID, "%s: mediaType `%.80s` disagrees with content type `%.80s`",
					   what, doc_mt, ct);
			goto out;
		}
		k = known[doc_i].kind;
		eff = known[doc_i].type;
	} else if (ct_i >= 0) {
		k = known[ct_i].kind;
		eff = known[ct_i].type;
	} else if (has_index) {
		k = IMS_DOC_INDEX;
		eff = IMS_MT_OCI_INDEX;
	} else if (has_image) {
		k = IMS_DOC_MANIFEST;
		eff = IMS_MT_OCI_MANIFEST;
	} else {
		rc = ims_error_set(err, IMS_EINVALID, "%s: neither a manifest nor an index", what);
		goto out;
	}
	if ((k == IMS_DOC_INDEX && has_image) || (k == IMS_DOC_MANIFEST && has_index)) {
		rc = ims_error_set(err, IMS_EINVALID, "%s: `%s` document has the shape of %s", what, eff,
				   k == IMS_DOC_INDEX ? "a manifest" : "an index");
		goto out;
	}
	*kind = k;
	if (media_type)
		*media_type = xstrdup(eff);
out:
	ims_json_free(t);
	return rc;
}
