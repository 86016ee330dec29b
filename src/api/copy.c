/* ims_copy: every blob first, then the manifests, then the index, then the
 * names; the destination becomes visible only at commit. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "exec/exec.h"
#include "exec/session.h"
#include "imagespec/transport.h"
#include "layer/layer.h"
#include "transport/transport.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static int copy_blob_if_missing(ims_transport *src, ims_transport *dst, const ims_descriptor *d, ims_error **err)
{
	bool have = false, mounted = false;
	int r = dst->ops->has_blob(dst, d->digest, &have, err);
	if (r < 0 || have)
		return r;
	if (dst->ops->mount_blob && (r = dst->ops->mount_blob(dst, src, d, &mounted, err)) < 0)
		return r;
	return mounted ? 0 : ims_transport_copy_blob(src, dst, d, err);
}

/* Copies one image; for a docker-archive the layers are decompressed and the
 * manifest rewritten, so *out may differ from desc. */
static int copy_image(ims_transport *src, ims_transport *dst, const char *data, size_t len,
		      ims_descriptor *out, ims_error **err)
{
	ims_manifest *m = NULL;
	_cleanup_free_ char *mb = NULL;
	int r = ims_manifest_parse(&m, data, len, err);
	if (r < 0)
		return r;
	if ((r = copy_blob_if_missing(src, dst, &m->config, err)) < 0)
		goto out;
	bool plain = dst->ops->flags & IMS_TRANSPORT_UNCOMPRESSED_LAYERS;
	ims_config *cfg = NULL;
	if (plain) {
		_cleanup_free_ char *cdata = NULL;
		size_t clen = 0;
		if ((r = ims_transport_read_blob(src, m->config.digest, IMS_CONFIG_MAX, &cdata, &clen, err)) < 0 ||
		    (r = ims_config_parse(&cfg, cdata, clen, err)) < 0)
			goto out;
	}
	for (size_t i = 0; i < m->nlayers && r >= 0; i++) {
		ims_descriptor *d = &m->layers[i];
		if (!plain || !strcmp(d->media_type, IMS_MT_DOCKER_LAYER) || !strcmp(d->media_type, IMS_MT_OCI_LAYER)) {
			r = copy_blob_if_missing(src, dst, d, err);
			continue;
		}
		const char *diff_id = ims_config_diff_id(cfg, i);
		ims_descriptor nd = { 0 };
		ims_layer_action a;
		r = ims_exec_copy_uncompressed(src, dst, d, diff_id, &nd, &a, err);
		if (r >= 0) {
			ims_descriptor_dispose(d);
			*d = nd;
		} else {
			ims_descriptor_dispose(&nd);
		}
	}
	ims_config_free(cfg);
	if (r < 0)
		goto out;
	size_t mlen = len;
	const char *bytes = data;
	if (plain) {
		free(m->media_type);
		m->media_type = xstrdup(IMS_MT_DOCKER_MANIFEST);
		mb = ims_manifest_encode(m, &mlen);
		bytes = mb;
	}
	out->media_type = xstrdup(m->media_type);
	ims_sha256_buf(bytes, mlen, out->digest);
	out->size = (int64_t)mlen;
	r = dst->ops->put_manifest(dst, bytes, mlen, out->media_type, out->digest, err);
out:
	ims_manifest_free(m);
	return r;
}

static int copy_index(ims_transport *src, ims_transport *dst, const char *data, size_t len, ims_descriptor *out,
		      ims_error **err)
{
	if (dst->ops->flags & IMS_TRANSPORT_NO_INDEX)
		return ims_error_set(err, IMS_EINVALID,
				     "the source is an index and the destination holds one platform; pass --platform");
	ims_index *ix = NULL;
	int r = ims_index_parse(&ix, data, len, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ix->nmanifests && r >= 0; i++) {
		_cleanup_free_ char *md = NULL, *mmt = NULL;
		size_t mlen = 0;
		r = ims_transport_get_manifest(src, ix->manifests[i].digest, &md, &mlen, &mmt, err);
		if (r < 0)
			break;
		char dg[IMS_DIGEST_BUFSZ];
		ims_sha256_buf(md, mlen, dg);
		if (strcmp(dg, ix->manifests[i].digest)) {
			r = ims_error_set(err, IMS_EDIGEST, "manifest %s does not match its digest", ix->manifests[i].digest);
			break;
		}
		ims_descriptor d = { 0 };
		r = copy_image(src, dst, md, mlen, &d, err);
		ims_descriptor_dispose(&d);
	}
	if (r >= 0) {
		out->media_type = xstrdup(ix->media_type);
		ims_sha256_buf(data, len, out->digest);
		out->size = (int64_t)len;
		r = dst->ops->put_manifest(dst, data, len, out->media_type, out->digest, err);
	}
	ims_index_free(ix);
	return r;
}

static const ims_descriptor *pick(const ims_index *ix, const char *platform, ims_error **err)
{
	ims_platform *want = ims_platform_parse(platform);
	if (!want) {
		ims_error_set(err, IMS_EINVALID, "platform `%s` is not of the form os/arch[/variant]", platform);
		return NULL;
	}
	const ims_descriptor *found = NULL;
	for (size_t i = 0; i < ix->nmanifests && !found; i++)
		if (ix->manifests[i].platform && ims_platform_matches(want, ix->manifests[i].platform))
			found = &ix->manifests[i];
	ims_platform_free(want);
	if (!found)
		ims_error_set(err, IMS_ENOTFOUND, "the index has no image for platform `%s`", platform);
	return found;
}

int ims_copy(ims_context *ctx, const char *srcs, const char *dsts, const char *platform, char **digest,
	     ims_error **err)
{
	ims_ref *sref = NULL, *dref = NULL;
	ims_transport *src = NULL, *dst = NULL;
	char *data = NULL, *mt = NULL, *detected = NULL;
	size_t len = 0;
	ims_descriptor top = { 0 };
	ims_index *ix = NULL;
	ims_session session = { 0 };
	int r;
	if ((r = ims_ref_parse(&sref, srcs, err)) < 0 || (r = ims_ref_parse(&dref, dsts, err)) < 0)
		goto out;
	if ((sref->kind == IMS_REF_REGISTRY || dref->kind == IMS_REF_REGISTRY) &&
	    (r = ims_session_open(&session, ctx, NULL, err)) < 0)
		goto out;
	if (sref->kind == IMS_REF_SCRATCH || dref->kind == IMS_REF_SCRATCH) {
		r = ims_error_set(err, IMS_EINVALID, "cannot copy from or to `scratch`");
		goto out;
	}
	ims_transport_opts o = { NULL, ctx->tmp_dir, session.pool, ctx->jobs };
	if ((r = ims_transport_open(&src, sref, IMS_TRANSPORT_READ, &o, err)) < 0 ||
	    (r = ims_transport_get_manifest(src, sref->digest, &data, &len, &mt, err)) < 0)
		goto out;
	ims_doc_kind kind;
	if ((r = ims_doc_detect(data, len, mt, &kind, &detected, err)) < 0)
		goto out;
	if ((r = ims_transport_open(&dst, dref, IMS_TRANSPORT_WRITE, &o, err)) < 0)
		goto out;
	if (kind == IMS_DOC_INDEX && platform && strcmp(platform, "all")) {
		if ((r = ims_index_parse(&ix, data, len, err)) < 0)
			goto out;
		const ims_descriptor *d = pick(ix, platform, err);
		if (!d) {
			r = IMS_ENOTFOUND;
			goto out;
		}
		_cleanup_free_ char *md = NULL, *mmt = NULL;
		size_t mlen = 0;
		if ((r = ims_transport_get_manifest(src, d->digest, &md, &mlen, &mmt, err)) < 0)
			goto out;
		r = copy_image(src, dst, md, mlen, &top, err);
	} else if (kind == IMS_DOC_INDEX) {
		r = copy_index(src, dst, data, len, &top, err);
	} else {
		r = copy_image(src, dst, data, len, &top, err);
	}
	if (r >= 0)
		r = dst->ops->tag(dst, NULL, &top, err);
	if (r >= 0)
		r = dst->ops->commit(dst, err);
	if (r >= 0 && digest)
		*digest = xstrdup(top.digest);
out:
	ims_index_free(ix);
	ims_descriptor_dispose(&top);
	free(data);
	free(mt);
	free(detected);
	ims_transport_close(src);
	ims_transport_close(dst);
	ims_session_close(&session);
	ims_ref_free(sref);
	ims_ref_free(dref);
	return r < 0 ? r : 0;
}
