/* ims_inspect and ims_tags: reading images wherever they are. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "exec/exec.h"
#include "exec/session.h"
#include "imagespec/transport.h"
#include "transport/transport.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static int open_ref(ims_context *ctx, ims_session *session, const char *s, ims_ref **ref, ims_transport **t,
		    ims_error **err)
{
	int r = ims_ref_parse(ref, s, err);
	if (r < 0)
		return r;
	if ((*ref)->kind == IMS_REF_SCRATCH)
		return ims_error_set(err, IMS_EINVALID, "`scratch` has nothing to inspect");
	if ((*ref)->kind == IMS_REF_REGISTRY && (r = ims_session_open(session, ctx, NULL, err)) < 0)
		return r;
	ims_transport_opts o = { NULL, ctx->tmp_dir, session->pool, ctx->jobs };
	return ims_transport_open(t, *ref, IMS_TRANSPORT_READ, &o, err);
}

/* The pretty form of a JSON document. */
static char *pretty(const char *data, size_t len, size_t *out_len)
{
	ims_json *j = NULL;
	if (ims_json_parse(&j, data, len, NULL, NULL) < 0)
		return NULL;
	char *s = ims_json_encode_pretty(j, out_len);
	ims_json_free(j);
	return s;
}

static int select_image(ims_transport *t, const char *data, size_t len, const char *mt, const char *platform,
			ims_base_image *im, char **digest, ims_error **err)
{
	ims_doc_kind kind;
	_cleanup_free_ char *detected = NULL;
	int r = ims_doc_detect(data, len, mt, &kind, &detected, err);
	if (r < 0)
		return r;
	if (kind == IMS_DOC_MANIFEST) {
		char dg[IMS_DIGEST_BUFSZ];
		ims_sha256_buf(data, len, dg);
		*digest = xstrdup(dg);
		ims_manifest *m = NULL;
		if ((r = ims_manifest_parse(&m, data, len, err)) < 0)
			return r;
		_cleanup_free_ char *cdata = NULL;
		size_t clen = 0;
		r = ims_transport_read_blob(t, m->config.digest, IMS_CONFIG_MAX, &cdata, &clen, err);
		if (r >= 0)
			r = ims_config_parse(&im->config, cdata, clen, err);
		im->manifest = m;
		return r;
	}
	ims_index *ix = NULL;
	if ((r = ims_index_parse(&ix, data, len, err)) < 0)
		return r;
	ims_platform *want = platform ? ims_platform_parse(platform) : ims_platform_host();
	if (!want) {
		ims_index_free(ix);
		return ims_error_set(err, IMS_EINVALID, "platform `%s` is not of the form os/arch[/variant]", platform);
	}
	const ims_descriptor *found = NULL;
	for (size_t i = 0; i < ix->nmanifests && !found; i++)
		if (ix->manifests[i].platform && ims_platform_matches(want, ix->manifests[i].platform))
			found = &ix->manifests[i];
	_cleanup_free_ char *ws = ims_platform_string(want);
	ims_platform_free(want);
	if (!found) {
		ims_index_free(ix);
		return ims_error_set(err, IMS_ENOTFOUND, "the index has no image for platform `%s`", ws);
	}
	*digest = xstrdup(found->digest);
	r = ims_exec_load_image(t, found->digest, im, err);
	ims_index_free(ix);
	return r;
}

static char *summary(const char *ref, const char *top_digest, const char *top_mt, const char *data, size_t len,
		     const ims_base_image *im, size_t *out_len)
{
	ims_json *o = ims_json_new_object();
	ims_json_set(o, "reference", ims_json_new_string(ref));
	ims_json_set(o, "digest", ims_json_new_string(top_digest));
	ims_json_set(o, "mediaType", ims_json_new_string(top_mt));
	ims_index *ix = NULL;
	if (ims_index_parse(&ix, data, len, NULL) == 0) {
		ims_json *ps = ims_json_new_array();
		for (size_t i = 0; i < ix->nmanifests; i++)
			if (ix->manifests[i].platform) {
				char *s = ims_platform_string(ix->manifests[i].platform);
				ims_json_append(ps, ims_json_new_string(s));
				free(s);
			}
		ims_json_set(o, "platforms", ps);
		ims_index_free(ix);
	}
	ims_platform *p = ims_config_platform(im->config);
	if (p) {
		char *s = ims_platform_string(p);
		ims_json_set(o, "platform", ims_json_new_string(s));
		free(s);
		ims_platform_free(p);
	}
	const ims_json *cfg = ims_json_get(ims_config_tree(im->config), "config");
	if (cfg)
		ims_json_set(o, "config", ims_json_clone(cfg));
	ims_json *ls = ims_json_new_array();
	for (size_t i = 0; im->manifest && i < im->manifest->nlayers; i++) {
		ims_json *l = ims_json_new_object();
		ims_json_set(l, "digest", ims_json_new_string(im->manifest->layers[i].digest));
		ims_json_set(l, "size", ims_json_new_int(im->manifest->layers[i].size));
		ims_json_set(l, "mediaType", ims_json_new_string(im->manifest->layers[i].media_type));
		ims_json_append(ls, l);
	}
	ims_json_set(o, "layers", ls);
	char *s = ims_json_encode_pretty(o, out_len);
	ims_json_free(o);
	return s;
}

int ims_inspect(ims_context *ctx, const char *refs, const char *platform, ims_inspect_what what, char **out,
		size_t *out_len, ims_error **err)
{
	ims_ref *ref = NULL;
	ims_transport *t = NULL;
	char *data = NULL, *mt = NULL, *digest = NULL;
	size_t len = 0;
	ims_base_image im = { 0 };
	ims_session session = { 0 };
	int r = open_ref(ctx, &session, refs, &ref, &t, err);
	if (r >= 0)
		r = ims_transport_get_manifest(t, ref->digest, &data, &len, &mt, err);
	if (r < 0)
		goto out;
	if (what == IMS_INSPECT_RAW) {
		*out = xmemdup(data, len);
		if (out_len)
			*out_len = len;
		goto out;
	}
	if ((r = select_image(t, data, len, mt, platform, &im, &digest, err)) < 0)
		goto out;
	size_t olen = 0;
	char *s = NULL;
	if (what == IMS_INSPECT_CONFIG) {
		s = ims_json_encode_pretty(ims_config_tree(im.config), &olen);
	} else if (what == IMS_INSPECT_MANIFEST) {
		size_t mlen = 0;
		_cleanup_free_ char *mb = ims_manifest_encode(im.manifest, &mlen);
		s = pretty(mb, mlen, &olen);
	} else {
		char dg[IMS_DIGEST_BUFSZ];
		ims_sha256_buf(data, len, dg);
		_cleanup_free_ char *detected = NULL;
		ims_doc_kind kind;
		if ((r = ims_doc_detect(data, len, mt, &kind, &detected, err)) < 0)
			goto out;
		s = summary(refs, dg, detected, data, len, &im, &olen);
	}
	*out = s;
	if (out_len)
		*out_len = olen;
out:
	ims_manifest_free(im.manifest);
	ims_config_free(im.config);
	ims_platform_free(im.platform);
	free(data);
	free(mt);
	free(digest);
	ims_transport_close(t);
	ims_session_close(&session);
	ims_ref_free(ref);
	return r < 0 ? r : 0;
}

void ims_strv_dispose(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ims_tags(ims_context *ctx, const char *repo, char ***tags, size_t *n, ims_error **err)
{
	ims_ref *ref = NULL;
	int r = ims_ref_parse(&ref, repo, err);
	if (r < 0)
		return r;
	if (ref->kind == IMS_REF_REGISTRY) {
		ims_session s = { 0 };
		ims_registry *reg = NULL;
		if ((r = ims_session_open(&s, ctx, NULL, err)) >= 0 &&
		    (r = ims_registry_pool_get(s.pool, ref->registry, &reg, err)) >= 0)
			r = ims_registry_tags(reg, ref->repository, tags, n, err);
		ims_session_close(&s);
		ims_ref_free(ref);
		return r < 0 ? r : 0;
	}
	if (ref->kind != IMS_REF_OCI) {
		r = ims_error_set(err, IMS_EUNSUPPORTED, "listing tags of `%s` is not supported (only registries and oci:DIR)",
				  repo);
		ims_ref_free(ref);
		return r;
	}
	_cleanup_free_ char *dir = ims_path_absolute(NULL, ref->path);
	_cleanup_free_ char *path = ims_path_join(dir, "index.json");
	ims_ref_free(ref);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if ((r = ims_read_file(path, IMS_MANIFEST_MAX, &data, &len, err)) < 0)
		return r;
	ims_index *ix = NULL;
	if ((r = ims_index_parse(&ix, data, len, err)) < 0)
		return ims_error_wrap(err, "`%s`", path);
	char **v = xcalloc(ix->nmanifests + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < ix->nmanifests; i++) {
		const char *name = ims_json_get_string(ix->manifests[i].annotations, "org.opencontainers.image.ref.name");
		if (name)
			v[k++] = xstrdup(name);
	}
	ims_index_free(ix);
	*tags = v;
	*n = k;
	return 0;
}
