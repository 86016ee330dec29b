/* Running inspect and tags plans: reading images wherever they are. */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The session a read plan's source needs (none unless a registry), and the
 * options its transport is opened with. */
static int source_session(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport_opts *o,
			  ims_error **err)
{
	int r = ims_session_needed(p) ? ims_session_open(s, env, p, err) : 0;
	*o = ims_exec_transport_opts(env, p->source_dir, s);
	return r;
}

/* Opens the plan's source for reading, with a session when it is a registry. */
int ims_exec_open_source(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport **t, ims_error **err)
{
	ims_transport_opts o;
	int r = source_session(env, p, s, &o, err);
	return r < 0 ? r : ims_transport_open(t, p->source, IMS_TRANSPORT_READ, &o, err);
}

int ims_exec_open_source_pull(const ims_exec_env *env, const ims_plan *p, ims_session *s, ims_transport **t,
			      char **data, size_t *len, char **mt, ims_error **err)
{
	ims_transport_opts o;
	int r = source_session(env, p, s, &o, err);
	return r < 0 ? r : ims_exec_open_pull(t, p->source, &o, s, data, len, mt, err);
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

/* The image of the wanted platform (the host's by default) from an index,
 * or the image itself. */
int ims_exec_select_image(const ims_plan *p, ims_transport *t, const char *data, size_t len, const char *mt,
			ims_base_image *im, ims_error **err)
{
	ims_doc_kind kind;
	_cleanup_free_ char *detected = NULL;
	int r = ims_doc_detect(data, len, mt, &kind, &detected, err);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	if (kind == IMS_DOC_MANIFEST) {
		if ((r = ims_manifest_parse(&im->manifest, data, len, err)) < 0)
			return ims_exec_not_spec(err, r);
		_cleanup_free_ char *cdata = NULL;
		size_t clen = 0;
		r = ims_transport_read_blob(t, im->manifest->config.digest, IMS_CONFIG_MAX, &cdata, &clen, err);
		return r < 0 ? r : ims_exec_not_spec(err, ims_config_parse(&im->config, cdata, clen, err));
	}
	ims_index *ix = NULL;
	if ((r = ims_index_parse(&ix, data, len, err)) < 0)
		return ims_exec_not_spec(err, r);
	ims_platform *host = p->nplatforms ? NULL : ims_platform_host();
	const ims_platform *want = host ? host : p->platforms[0];
	const ims_descriptor *found = NULL;
	for (size_t i = 0; i < ix->nmanifests && !found; i++)
		if (ix->manifests[i].platform && ims_platform_matches(want, ix->manifests[i].platform))
			found = &ix->manifests[i];
	if (found) {
		r = ims_exec_load_image(t, found->digest, im, err);
	} else {
		_cleanup_free_ char *ws = ims_platform_string(want);
		r = ims_error_set(err, IMS_ENOTFOUND, "the index has no image for platform `%s`", ws);
	}
	ims_platform_free(host);
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

/* What the plan asked to see of the top-level document (data). */
static int render(const ims_plan *p, ims_transport *t, const char *data, size_t len, const char *mt, char **out,
		  size_t *out_len, ims_error **err)
{
	if (p->what == IMS_INSPECT_RAW) {
		*out = xmemdup(data, len);
		*out_len = len;
		return 0;
	}
	ims_base_image im = { 0 };
	int r = ims_exec_select_image(p, t, data, len, mt, &im, err);
	if (r >= 0 && p->what == IMS_INSPECT_CONFIG) {
		*out = ims_json_encode_pretty(ims_config_tree(im.config), out_len);
	} else if (r >= 0 && p->what == IMS_INSPECT_MANIFEST) {
		size_t mlen = 0;
		_cleanup_free_ char *mb = ims_manifest_encode(im.manifest, &mlen);
		*out = pretty(mb, mlen, out_len);
	} else if (r >= 0) {
		char dg[IMS_DIGEST_BUFSZ];
		ims_sha256_buf(data, len, dg);
		_cleanup_free_ char *detected = NULL;
		ims_doc_kind kind;
		if ((r = ims_doc_detect(data, len, mt, &kind, &detected, err)) >= 0)
			*out = summary(p->source_shown, dg, detected, data, len, &im, out_len);
	}
	ims_manifest_free(im.manifest);
	ims_config_free(im.config);
	ims_platform_free(im.platform);
	return r;
}

int ims_exec_inspect(const ims_exec_env *env, const ims_plan *p, char **out, size_t *out_len, ims_error **err)
{
	ims_transport *t = NULL;
	ims_session session = { 0 };
	char *data = NULL, *mt = NULL;
	size_t len = 0, olen = 0;
	int r = ims_exec_open_source_pull(env, p, &session, &t, &data, &len, &mt, err);
	if (r >= 0 &&
	    (r = render(p, t, data, len, mt, out, &olen, err)) >= 0 && out_len)
		*out_len = olen;
	free(data);
	free(mt);
	ims_transport_close(t);
	ims_session_close(&session);
	return r < 0 ? r : 0;
}

int ims_exec_tags(const ims_exec_env *env, const ims_plan *p, char ***tags, size_t *n, ims_error **err)
{
	ims_transport *t = NULL;
	ims_session session = { 0 };
	int r = ims_exec_open_source(env, p, &session, &t, err);
	if (r >= 0)
		r = ims_transport_list_tags(t, tags, n, err);
	ims_transport_close(t);
	ims_session_close(&session);
	return r < 0 ? r : 0;
}
