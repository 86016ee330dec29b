/* One platform image of the output: base layers (minus removeLayers, copied
 * into the target when it lacks them), the new layers, the edited config,
 * and the manifest, written config first and manifest last. */
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "layer/layer.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "exec/platform.h"

/* Reads a base blob through a hash, so a decompressed copy still proves
 * the compressed bytes matched their digest. */
typedef struct {
	ims_reader inner;
	ims_sha256 *h;
	int64_t n;
} hashing_reader;

static ssize_t hr_read(void *ud, void *p, size_t n, ims_error **err)
{
	hashing_reader *hr = ud;
	ssize_t got = hr->inner.read(hr->inner.ud, p, n, err);
	if (got > 0) {
		ims_sha256_update(hr->h, p, (size_t)got);
		hr->n += got;
	}
	return got;
}

/* docker-archive wants plain tar layers: decompress, verify both digests. */
int ims_exec_copy_uncompressed(ims_transport *src, ims_transport *dst, const ims_descriptor *d, const char *diff_id,
			     ims_descriptor *out, ims_layer_action *action, ims_error **err)
{
	bool have = false;
	int r = dst->ops->has_blob(dst, diff_id, &have, err);
	if (r < 0)
		return r;
	snprintf(out->digest, sizeof(out->digest), "%s", diff_id);
	out->media_type = xstrdup(IMS_MT_DOCKER_LAYER);
	/* even when the target has it, read it through: its size is the tar's */
	if (have)
		*action = IMS_ACTION_SKIPPED;
	hashing_reader hr = { 0 };
	if ((r = src->ops->open_blob(src, d->digest, &hr.inner, err)) < 0)
		return r;
	hr.h = ims_sha256_new();
	ims_reader rd = { hr_read, NULL, &hr };
	ims_blob_writer *w = NULL;
	ims_sink null = ims_sink_null();
	if (!have && (r = dst->ops->new_blob(dst, &w, err)) < 0)
		goto out;
	char got_diff[IMS_DIGEST_BUFSZ];
	int64_t tar_size = 0;
	r = ims_layer_decompress(&rd, w ? &w->sink : &null, got_diff, &tar_size, err);
	if (r < 0)
		goto out;
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_final(hr.h, got);
	if (strcmp(got, d->digest) || hr.n != d->size) {
		r = ims_error_set(err, IMS_EDIGEST, "base layer %s does not match its digest or size", d->digest);
		goto out;
	}
	if (strcmp(got_diff, diff_id)) {
		r = ims_error_set(err, IMS_EDIGEST, "base layer %s decompresses to %s, but the config says %s",
				  d->digest, got_diff, diff_id);
		goto out;
	}
	out->size = tar_size;
	if (w) {
		r = w->commit(w, diff_id, tar_size, err);
		w = NULL;
		*action = IMS_ACTION_WRITTEN;
	}
out:
	if (w)
		w->abort(w);
	ims_sha256_free(hr.h);
	ims_reader_close(&hr.inner);
	return r;
}

/* A base blob the target lacks: mounted when the target can take it from
 * the base's repository on the same registry, copied otherwise. */
static int copy_base_blob(ims_platform_job *j, const ims_descriptor *d, ims_layer_action *action, ims_error **err)
{
	const ims_spec_model *m = j->p->spec->m;
	bool have = false;
	int r = j->target->ops->has_blob(j->target, d->digest, &have, err);
	if (r < 0)
		return r;
	if (have && !m->sync_ignore_exists) {
		*action = IMS_ACTION_SKIPPED;
		return 0;
	}
	if (!m->sync_ignore_exists && j->target->ops->mount_blob) {
		bool mounted = false;
		if ((r = j->target->ops->mount_blob(j->target, j->base->t, d, &mounted, err)) < 0)
			return r;
		if (mounted) {
			*action = IMS_ACTION_MOUNTED;
			return 0;
		}
	}
	*action = IMS_ACTION_WRITTEN;
	return ims_transport_copy_blob(j->base->t, j->target, d, err);
}

static bool in_list(const ims_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].s, s))
			return true;
	return false;
}

static void add_result_layer(ims_result_manifest *rm, const ims_descriptor *d, const char *diff_id,
			     ims_layer_action a)
{
	rm->layers = xrealloc(rm->layers, (rm->nlayers + 1) * sizeof(*rm->layers));
	ims_result_layer *l = &rm->layers[rm->nlayers++];
	memset(l, 0, sizeof(*l));
	ims_descriptor_copy(&l->desc, d);
	snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff_id);
	l->action = a;
}

/* Base layers, after removeLayers, converted and copied as needed. */
static int base_layers(ims_platform_job *j, ims_manifest *man, ims_config *cfg, ims_error **err)
{
	const ims_spec_model *m = j->p->spec->m;
	const ims_base_image *im = j->im;
	if (!im->manifest)
		return 0;
	size_t kept = 0;
	for (size_t i = 0; i < im->manifest->nlayers; i++) {
		const ims_descriptor *d = &im->manifest->layers[i];
		const char *diff_id = ims_config_diff_id(im->config, i);
		if (in_list(&m->remove_layers, d->digest)) {
			ims_config_remove_diff_id(cfg, kept);
			ims_config_remove_layer_history(cfg, kept);
			continue;
		}
		kept++;
		ims_descriptor nd = { 0 };
		ims_descriptor_copy(&nd, d);
		ims_layer_action action = IMS_ACTION_SKIPPED;
		int r = 0;
		bool foreign = d->nurls > 0;
		if (!j->target) {
			action = IMS_ACTION_WRITTEN;
		} else if (foreign && !m->sync_copy_remote_layers) {
			action = IMS_ACTION_SKIPPED;
		} else if (j->uncompressed && strcmp(d->media_type, IMS_MT_DOCKER_LAYER) &&
			   strcmp(d->media_type, IMS_MT_OCI_LAYER)) {
			ims_descriptor_dispose(&nd);
			memset(&nd, 0, sizeof(nd));
			r = ims_exec_copy_uncompressed(j->base->t, j->target, d, diff_id, &nd, &action, err);
		} else {
			r = copy_base_blob(j, d, &action, err);
		}
		const char *mt = NULL;
		if (r >= 0)
			r = ims_mt_convert_layer(nd.media_type, j->docker, &mt, err);
		if (r < 0) {
			ims_descriptor_dispose(&nd);
			return ims_error_wrap(err, "base layer %s", d->digest);
		}
		if (mt != nd.media_type) {
			char *c = xstrdup(mt);
			free(nd.media_type);
			nd.media_type = c;
		}
		man->layers = xrealloc(man->layers, (man->nlayers + 1) * sizeof(*man->layers));
		man->layers[man->nlayers++] = nd;
		add_result_layer(j->rm, &nd, diff_id, action);
	}
	for (size_t i = 0; i < m->remove_layers.n; i++) {
		bool found = false;
		for (size_t k = 0; k < im->manifest->nlayers && !found; k++)
			found = !strcmp(im->manifest->layers[k].digest, m->remove_layers.v[i].s);
		if (!found)
			return ims_error_set(err, IMS_EINVALID, "%s:%d:%d: removeLayers: the base has no layer %s",
					     m->path, m->remove_layers.v[i].pos.line, m->remove_layers.v[i].pos.col,
					     m->remove_layers.v[i].s);
	}
	return 0;
}

static int new_layers(ims_platform_job *j, ims_manifest *man, ims_config *cfg, const char *created,
		      ims_error **err)
{
	for (size_t i = 0; i < j->nnew; i++) {
		const ims_new_layer *nl = &j->nl[i];
		ims_descriptor d = { 0 };
		ims_descriptor_copy(&d, &nl->desc);
		if (!d.media_type) {
			if (j->docker && nl->alg == IMS_COMPRESS_ZSTD) {
				ims_descriptor_dispose(&d);
				return ims_error_set(err, IMS_EINVALID,
						     "zstd layers need OCI media types; set `format: oci` or use gzip");
			}
			ims_mt_compression c = nl->alg == IMS_COMPRESS_ZSTD   ? IMS_MT_LAYER_ZSTD
					       : nl->alg == IMS_COMPRESS_NONE ? IMS_MT_LAYER_TAR
									      : IMS_MT_LAYER_GZIP;
			d.media_type = xstrdup(ims_mt_layer(j->docker, c));
		} else {
			const char *mt = NULL;
			if (ims_mt_convert_layer(d.media_type, j->docker, &mt, err) < 0) {
				ims_descriptor_dispose(&d);
				return IMS_EINVALID;
			}
			if (mt != d.media_type) {
				char *c = xstrdup(mt);
				free(d.media_type);
				d.media_type = c;
			}
		}
		ims_config_add_diff_id(cfg, nl->diff_id);
		ims_config_add_history(cfg, created, nl->step->created_by, nl->step->comment, false);
		man->layers = xrealloc(man->layers, (man->nlayers + 1) * sizeof(*man->layers));
		man->layers[man->nlayers++] = d;
		add_result_layer(j->rm, &d, nl->diff_id, nl->action);
	}
	if (man->nlayers > IMS_MAX_LAYERS)
		return ims_error_set(err, IMS_EINVALID,
				     "the image would have %zu layers; runtimes refuse more than %d (use removeLayers or "
				     "fewer layers)",
				     man->nlayers, IMS_MAX_LAYERS);
	return 0;
}

static int write_blob_buf(ims_transport *t, const char *data, size_t len, const char *digest, ims_error **err)
{
	bool have = false;
	int r = t->ops->has_blob(t, digest, &have, err);
	if (r < 0 || have)
		return r;
	ims_blob_writer *w = NULL;
	if ((r = t->ops->new_blob(t, &w, err)) < 0)
		return r;
	if ((r = ims_sink_write(&w->sink, data, len, err)) < 0) {
		w->abort(w);
		return r;
	}
	return w->commit(w, digest, (int64_t)len, err);
}

int ims_exec_platform(ims_platform_job *j, ims_descriptor *out, ims_error **err)
{
	const ims_plan *p = j->p;
	const ims_spec_model *m = p->spec->m;
	ims_config *cfg = ims_config_clone(j->im->config);
	ims_manifest man = { 0 };
	_cleanup_free_ char *cbytes = NULL, *mbytes = NULL;
	size_t clen = 0, mlen = 0;
	int r = 0;
	if (p->config_override) {
		if ((r = ims_config_set_tree(cfg, ims_json_clone(p->config_override), err)) < 0)
			goto out;
	}
	if ((r = base_layers(j, &man, cfg, err)) < 0)
		goto out;
	char created[32];
	ims_rfc3339(p->created, created);
	ims_config_set_created(cfg, created);
	if ((r = ims_exec_edit_config(cfg, j->im->config, p, err)) < 0)
		goto out;
	if ((r = new_layers(j, &man, cfg, created, err)) < 0)
		goto out;

	cbytes = ims_config_encode(cfg, &clen);
	man.media_type = xstrdup(j->docker ? IMS_MT_DOCKER_MANIFEST : IMS_MT_OCI_MANIFEST);
	man.config.media_type = xstrdup(j->docker ? IMS_MT_DOCKER_CONFIG : IMS_MT_OCI_CONFIG);
	ims_sha256_buf(cbytes, clen, man.config.digest);
	man.config.size = (int64_t)clen;
	if (m->annotations.n) {
		man.annotations = ims_json_new_object();
		for (size_t i = 0; i < m->annotations.n; i++)
			if (m->annotations.v[i].value.s)
				ims_json_set(man.annotations, m->annotations.v[i].key.s,
					     ims_json_new_string(m->annotations.v[i].value.s));
	}
	mbytes = ims_manifest_encode(&man, &mlen);
	out->media_type = xstrdup(man.media_type);
	ims_sha256_buf(mbytes, mlen, out->digest);
	out->size = (int64_t)mlen;
	/* the base index's platform is the truth (a config may omit the variant) */
	out->platform = j->im->platform ? ims_platform_dup(j->im->platform) : ims_config_platform(cfg);
	j->config_digest = xstrdup(man.config.digest);
	if (j->target) {
		if ((r = write_blob_buf(j->target, cbytes, clen, man.config.digest, err)) < 0)
			goto out;
		if ((r = j->target->ops->put_manifest(j->target, mbytes, mlen, man.media_type, out->digest, err)) < 0)
			goto out;
	}
out:
	free(man.media_type);
	ims_descriptor_dispose(&man.config);
	for (size_t i = 0; i < man.nlayers; i++)
		ims_descriptor_dispose(&man.layers[i]);
	free(man.layers);
	ims_json_free(man.annotations);
	ims_config_free(cfg);
	return r;
}
