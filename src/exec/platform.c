/* One platform image of the output: base layers (minus removeLayers, copied
 * into the target when it lacks them), the new layers, the edited config,
 * and the manifest, written config first and manifest last. */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"
#include "exec/platform.h"
#include "exec/blob_sync.h"
#include "json/oci.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A base blob the target lacks: mounted when the target can take it from
 * the base's repository on the same registry, copied otherwise; or what
 * the sync started at once did with it. */
static int copy_base_blob(ims_platform_job *j, const ims_descriptor *d, ims_layer_action *action, ims_error **err)
{
	int r = ims_exec_blob_sync_result(j->prefetch, d->digest, action, err);
	if (r != 0)
		return r < 0 ? r : 0;
	ims_transfer_opts o = { .ignore_exists = j->p->ignore_exists, .mount = true };
	return ims_exec_copy_blob_if_missing(j->base->t, j->target, d, &o, action, err);
}

/* A dry run: what a base blob would take. The target has it (skip), can
 * mount it from the base's repository on the same registry (mount), or
 * needs it copied (write; an upload to a registry). */
static int predict_base_blob(ims_platform_job *j, const ims_descriptor *d, ims_layer_action *action, ims_error **err)
{
	*action = IMS_ACTION_WRITTEN;
	if (!j->probe)
		return 0;
	bool have = false;
	int r = ims_transport_has_blob(j->probe, d->digest, &have, err);
	if (r < 0)
		return r;
	const ims_ref *b = j->base->t ? j->base->t->ref : NULL;
	if (have && !j->p->ignore_exists)
		*action = IMS_ACTION_SKIPPED;
	else if (b && b->kind == IMS_REF_REGISTRY && !strcmp(b->registry, j->probe->ref->registry))
		*action = IMS_ACTION_MOUNTED;
	return 0;
}

/* A foreign base layer whose blob neither the target nor the base holds
 * (a registry keeps no copy of a non-distributable layer) comes from its
 * urls. Returns 1 when it was fetched so, 0 when the target or the base
 * holds it (copied as any other), or a negative error. */
static int foreign_from_urls(ims_platform_job *j, const ims_descriptor *d, ims_layer_action *action, ims_error **err)
{
	bool have = false;
	int r = ims_transport_has_blob(j->target, d->digest, &have, err);
	if (r < 0 || (have && !j->p->ignore_exists))
		return r;
	if (j->base->t && (r = ims_transport_has_blob(j->base->t, d->digest, &have, err)) < 0)
		return r;
	if (j->base->t && have)
		return 0;
	if (j->uncompressed)
		return ims_error_set(err, IMS_EUNSUPPORTED,
				     "a foreign layer that the base does not hold cannot go into a docker-archive; "
				     "write an oci: layout or push it");
	if ((r = ims_exec_foreign_fetch(j->http, d, j->target, err)) < 0)
		return r;
	*action = IMS_ACTION_WRITTEN;
	return 1;
}

bool ims_exec_layer_removed(const ims_plan *p, const char *digest)
{
	for (size_t i = 0; i < p->nremovals; i++)
		if (!strcmp(p->removals[i].digest, digest))
			return true;
	return false;
}

static void add_result_layer(ims_result_manifest *rm, const ims_descriptor *d, const char *diff_id, ims_layer_action a,
			     ims_layer_origin origin)
{
	rm->layers = xrealloc(rm->layers, (rm->nlayers + 1) * sizeof(*rm->layers));
	ims_result_layer *l = &rm->layers[rm->nlayers++];
	memset(l, 0, sizeof(*l));
	ims_descriptor_copy(&l->desc, d);
	snprintf(l->diff_id, sizeof(l->diff_id), "%s", diff_id);
	l->action = a;
	l->origin = origin;
}

/* Base layers, after removeLayers, converted and copied as needed. */
static int base_layers(ims_platform_job *j, ims_manifest *man, ims_config *cfg, ims_error **err)
{
	const ims_plan *p = j->p;
	const ims_base_image *im = j->im;
	if (!im->manifest)
		return 0;
	size_t kept = 0;
	for (size_t i = 0; i < im->manifest->nlayers; i++) {
		const ims_descriptor *d = &im->manifest->layers[i];
		const char *diff_id = ims_config_diff_id(im->config, i);
		if (ims_exec_layer_removed(p, d->digest)) {
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
			r = predict_base_blob(j, d, &action, err);
		} else if (foreign && !p->copy_remote_layers) {
			action = IMS_ACTION_SKIPPED;
		} else if (foreign && (r = foreign_from_urls(j, d, &action, err)) != 0) {
			r = r > 0 ? 0 : r; /* fetched from its urls, or failed */
		} else if (j->uncompressed && strcmp(d->media_type, IMS_MT_DOCKER_LAYER) &&
			   strcmp(d->media_type, IMS_MT_OCI_LAYER)) {
			ims_descriptor_dispose(&nd);
			memset(&nd, 0, sizeof(nd));
			r = ims_exec_copy_uncompressed(j->base->t, j->target, d, diff_id, &nd, &action, err);
		} else {
			r = copy_base_blob(j, d, &action, err);
		}
		if (foreign && p->copy_remote_layers)
			ims_exec_foreign_adopt(&nd); /* the output holds the blob */
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
		add_result_layer(j->rm, &nd, diff_id, action, IMS_ORIGIN_BASE);
	}
	for (size_t i = 0; i < p->nremovals; i++) {
		bool found = false;
		for (size_t k = 0; k < im->manifest->nlayers && !found; k++)
			found = !strcmp(im->manifest->layers[k].digest, p->removals[i].digest);
		if (!found)
			return ims_error_set(err, IMS_EINVALID, "%sremoveLayers: the base has no layer %s",
					     p->removals[i].at, p->removals[i].digest);
	}
	return 0;
}

static int new_layers(ims_platform_job *j, ims_manifest *man, ims_config *cfg, const char *created, ims_error **err)
{
	for (size_t i = 0; i < j->nnew; i++) {
		const ims_new_layer *nl = &j->nl[i];
		ims_descriptor d = { 0 };
		ims_descriptor_copy(&d, &nl->desc);
		if (!d.media_type) {
			if (j->docker && nl->alg == IMS_LAYER_ALG_ZSTD) {
				ims_descriptor_dispose(&d);
				return ims_error_set(err, IMS_EINVALID,
						     "zstd layers need OCI media types; set `format: oci` or use gzip");
			}
			ims_mt_compression c = nl->alg == IMS_LAYER_ALG_ZSTD   ? IMS_MT_LAYER_ZSTD
					       : nl->alg == IMS_LAYER_ALG_NONE ? IMS_MT_LAYER_TAR
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
		add_result_layer(j->rm, &d, nl->diff_id, nl->action, nl->origin);
	}
	if (man->nlayers > IMS_MAX_LAYERS)
		return ims_error_set(err, IMS_EINVALID,
				     "the image would have %zu layers; runtimes refuse more than %d (use removeLayers or "
				     "fewer layers)",
				     man->nlayers, IMS_MAX_LAYERS);
	return 0;
}

/* The plan's annotations as a JSON object, or NULL without any. */
ims_json *ims_exec_annotations(const ims_plan *p)
{
	if (!p->nannotations)
		return NULL;
	ims_json *o = ims_json_new_object();
	for (size_t i = 0; i < p->nannotations; i++)
		if (p->annotations[i].value)
			ims_json_set(o, p->annotations[i].key, ims_json_new_string(p->annotations[i].value));
	return o;
}

int ims_exec_platform(ims_platform_job *j, ims_descriptor *out, ims_error **err)
{
	const ims_plan *p = j->p;
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
	ims_exec_edit_config(cfg, j->im->config, &p->config);
	if ((r = new_layers(j, &man, cfg, created, err)) < 0)
		goto out;

	cbytes = ims_config_encode(cfg, &clen);
	man.media_type = xstrdup(j->docker ? IMS_MT_DOCKER_MANIFEST : IMS_MT_OCI_MANIFEST);
	man.config.media_type = xstrdup(j->docker ? IMS_MT_DOCKER_CONFIG : IMS_MT_OCI_CONFIG);
	ims_sha256_buf(cbytes, clen, man.config.digest);
	man.config.size = (int64_t)clen;
	man.annotations = ims_exec_annotations(p);
	mbytes = ims_manifest_encode(&man, &mlen);
	out->media_type = xstrdup(man.media_type);
	ims_sha256_buf(mbytes, mlen, out->digest);
	out->size = (int64_t)mlen;
	/* the base index's platform is the truth (a config may omit the variant) */
	out->platform = j->im->platform ? ims_platform_dup(j->im->platform) : ims_config_platform(cfg);
	j->config_digest = xstrdup(man.config.digest);
	if (j->target) {
		/* A name that names this manifest already (a rebuild with
		 * nothing changed) means its config is there: one round trip
		 * instead of two, and the name's PUT asks no more. */
		bool there = false;
		if (j->top_name && !j->p->ignore_exists &&
		    (r = ims_transport_manifest_there(j->target, j->top_name, out->digest, &there, err)) < 0)
			goto out;
		if (!there &&
		    (r = ims_exec_put_blob(j->target, cbytes, clen, man.config.digest, j->p->ignore_exists, err)) < 0)
			goto out;
		if ((r = ims_transport_put_manifest(j->target, mbytes, mlen, man.media_type, out->digest, err)) < 0)
			goto out;
	}
	if (j->keep_manifest) {
		j->manifest_data = steal_pointer(&mbytes);
		j->manifest_len = mlen;
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
