/* Running a copy plan: every blob first, then the manifests, then the
 * index, then the name; the destination becomes visible only at commit. */
#include <stdlib.h>
#include <string.h>

#include "exec/blob_sync.h"
#include "exec/exec_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const ims_transfer_opts copy_opts = { .ignore_exists = false, .mount = true };

static bool plain_layer(const ims_descriptor *d)
{
	return !strcmp(d->media_type, IMS_MT_DOCKER_LAYER) || !strcmp(d->media_type, IMS_MT_OCI_LAYER);
}

/* The layers of one image; a destination that wants plain tar layers
 * (docker-archive) gets them decompressed, and m's descriptors follow. */
static int copy_layers(ims_transport *src, ims_transport *dst, ims_manifest *m, bool plain, ims_error **err)
{
	ims_config *cfg = NULL;
	int r = 0;
	if (plain) {
		_cleanup_free_ char *cdata = NULL;
		size_t clen = 0;
		if ((r = ims_transport_read_blob(src, m->config.digest, IMS_CONFIG_MAX, &cdata, &clen, err)) < 0 ||
		    (r = ims_config_parse(&cfg, cdata, clen, err)) < 0)
			return ims_exec_not_spec(err, r);
	}
	for (size_t i = 0; i < m->nlayers && r >= 0; i++) {
		ims_descriptor *d = &m->layers[i];
		ims_layer_action a;
		if (!plain || plain_layer(d)) {
			r = ims_exec_copy_blob_if_missing(src, dst, d, &copy_opts, &a, err);
			continue;
		}
		ims_descriptor nd = { 0 };
		r = ims_exec_copy_uncompressed(src, dst, d, ims_config_diff_id(cfg, i), &nd, &a, err);
		if (r < 0)
			ims_error_wrap(err, "layer %s", d->digest);
		if (r >= 0) {
			ims_descriptor_dispose(d);
			*d = nd;
		} else {
			ims_descriptor_dispose(&nd);
		}
	}
	ims_config_free(cfg);
	return r;
}

/* The manifest a docker-archive presents when read (docker_archive.c's
 * synthesize): schema2 media types, digests and sizes, nothing else; so the
 * digest that copy prints is the one inspect reports for the archive. */
static char *plain_manifest(const ims_manifest *m, size_t *len)
{
	ims_manifest pm = { 0 };
	pm.media_type = (char *)IMS_MT_DOCKER_MANIFEST;
	pm.config.media_type = (char *)IMS_MT_DOCKER_CONFIG;
	memcpy(pm.config.digest, m->config.digest, sizeof(pm.config.digest));
	pm.config.size = m->config.size;
	_cleanup_free_ ims_descriptor *layers = xcalloc(m->nlayers + 1, sizeof(*layers));
	for (size_t i = 0; i < m->nlayers; i++) {
		layers[i].media_type = (char *)IMS_MT_DOCKER_LAYER;
		memcpy(layers[i].digest, m->layers[i].digest, sizeof(layers[i].digest));
		layers[i].size = m->layers[i].size;
	}
	pm.layers = layers;
	pm.nlayers = m->nlayers;
	return ims_manifest_encode(&pm, len);
}

/* Copies one image; for a docker-archive the layers are decompressed and the
 * manifest rewritten, so *out may differ from the source's descriptor. */
static int copy_image(ims_transport *src, ims_transport *dst, const char *data, size_t len, int jobs,
		      ims_descriptor *out, ims_error **err)
{
	ims_manifest *m = NULL;
	_cleanup_free_ char *mb = NULL;
	ims_layer_action a;
	bool plain = ims_transport_flags(dst) & IMS_TRANSPORT_UNCOMPRESSED_LAYERS;
	int r = ims_manifest_parse(&m, data, len, err);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	if (!plain)
		r = ims_exec_copy_image_blobs(src, dst, m, &copy_opts, jobs, err);
	else if ((r = ims_exec_copy_blob_if_missing(src, dst, &m->config, &copy_opts, &a, err)) >= 0)
		r = copy_layers(src, dst, m, plain, err);
	if (r < 0)
		goto out;
	size_t mlen = len;
	const char *bytes = data;
	if (plain) {
		mb = plain_manifest(m, &mlen);
		bytes = mb;
	}
	out->media_type = xstrdup(plain ? IMS_MT_DOCKER_MANIFEST : m->media_type);
	ims_sha256_buf(bytes, mlen, out->digest);
	out->size = (int64_t)mlen;
	r = ims_transport_put_manifest(dst, bytes, mlen, out->media_type, out->digest, err);
out:
	ims_manifest_free(m);
	return r;
}

int ims_exec_get_verified(ims_transport *src, const char *digest, char **data, size_t *len, char **media_type,
			  ims_error **err)
{
	_cleanup_free_ char *mt = NULL;
	int r = ims_transport_get_manifest(src, digest, data, len, &mt, err);
	if (r < 0)
		return r;
	char dg[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(*data, *len, dg);
	if (digest && strcmp(dg, digest)) {
		free(*data);
		*data = NULL;
		return ims_error_set(err, IMS_EDIGEST, "manifest %s does not match its digest", digest);
	}
	if (media_type)
		*media_type = steal_pointer(&mt);
	return 0;
}

static int copy_index(ims_transport *src, ims_transport *dst, const ims_index *ix, const char *data, size_t len,
		      int jobs, ims_descriptor *out, ims_error **err)
{
	if (ims_transport_flags(dst) & IMS_TRANSPORT_NO_INDEX)
		return ims_error_set(err, IMS_EINVALID,
				     "the source is an index and the destination holds one platform; pass --platform");
	int r = 0;
	for (size_t i = 0; i < ix->nmanifests && r >= 0; i++) {
		_cleanup_free_ char *md = NULL;
		size_t mlen = 0;
		if ((r = ims_exec_get_verified(src, ix->manifests[i].digest, &md, &mlen, NULL, err)) < 0)
			break;
		ims_descriptor d = { 0 };
		r = copy_image(src, dst, md, mlen, jobs, &d, err);
		ims_descriptor_dispose(&d);
	}
	if (r < 0)
		return r;
	out->media_type = xstrdup(ix->media_type);
	ims_sha256_buf(data, len, out->digest);
	out->size = (int64_t)len;
	return ims_transport_put_manifest(dst, data, len, out->media_type, out->digest, err);
}

static const ims_descriptor *pick(const ims_index *ix, const ims_platform *want, ims_error **err)
{
	for (size_t i = 0; i < ix->nmanifests; i++)
		if (ix->manifests[i].platform && ims_platform_matches(want, ix->manifests[i].platform))
			return &ix->manifests[i];
	_cleanup_free_ char *ws = ims_platform_string(want);
	ims_error_set(err, IMS_ENOTFOUND, "the index has no image for platform `%s`", ws);
	return NULL;
}

/* The top-level document: one image, one platform of an index, or the
 * whole index. */
static int copy_top(const ims_plan *p, ims_transport *src, ims_transport *dst, const char *data, size_t len,
		    const char *mt, int jobs, ims_descriptor *top, ims_error **err)
{
	ims_doc_kind kind;
	_cleanup_free_ char *detected = NULL;
	int r = ims_doc_detect(data, len, mt, &kind, &detected, err);
	if (r < 0)
		return ims_exec_not_spec(err, r);
	if (kind == IMS_DOC_MANIFEST)
		return copy_image(src, dst, data, len, jobs, top, err);
	ims_index *ix = NULL;
	if ((r = ims_index_parse(&ix, data, len, err)) < 0)
		return ims_exec_not_spec(err, r);
	if (p->nplatforms) {
		const ims_descriptor *d = pick(ix, p->platforms[0], err);
		_cleanup_free_ char *md = NULL;
		size_t mlen = 0;
		r = d ? ims_exec_get_verified(src, d->digest, &md, &mlen, NULL, err) : IMS_ENOTFOUND;
		if (r >= 0)
			r = copy_image(src, dst, md, mlen, jobs, top, err);
	} else {
		r = copy_index(src, dst, ix, data, len, jobs, top, err);
	}
	ims_index_free(ix);
	return r;
}

int ims_exec_copy(const ims_exec_env *env, const ims_plan *p, char **digest, ims_error **err)
{
	ims_transport *src = NULL, *dst = NULL;
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	ims_descriptor top = { 0 };
	ims_session session = { 0 };
	int r = 0;
	if (ims_session_needed(p))
		r = ims_session_open(&session, env, p, err);
	ims_transport_opts o = ims_exec_transport_opts(env, NULL, &session);
	if (r < 0 || (r = ims_exec_open_pull(&src, p->source, &o, &session, &data, &len, &mt, err)) < 0 ||
	    (r = ims_transport_open(&dst, p->target, IMS_TRANSPORT_WRITE, &o, err)) < 0 ||
	    (r = copy_top(p, src, dst, data, len, mt, env->jobs, &top, err)) < 0 ||
	    (r = ims_transport_tag(dst, NULL, &top, err)) < 0 || (r = ims_transport_commit(dst, err)) < 0)
		goto out;
	if (digest)
		*digest = xstrdup(top.digest);
out:
	ims_descriptor_dispose(&top);
	free(data);
	free(mt);
	ims_transport_close(src);
	ims_transport_close(dst);
	ims_session_close(&session);
	return r < 0 ? r : 0;
}
