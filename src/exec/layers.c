/* Building the plan's new layers, once, shared by every platform. Each
 * layer streams straight into a blob writer of the target; the digest is
 * known only at the end, so an existing blob is detected then and the
 * writer aborted ("skipped"). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec_int.h"
#include "layer/layer.h"
#include "transport/fetch.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

void ims_exec_new_layers_free(ims_new_layer *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ims_descriptor_dispose(&l[i].desc);
	free(l);
}

/* A `url:` layer: downloaded into a private temp dir, then read as an
 * archive whose sha256 (required with url) is checked before anything else. */
static int url_step(const ims_exec_env *env, const ims_step *s, ims_http *http, const ims_layer_opts *o, ims_sink *sink,
		    ims_layer_result *res, ims_error **err)
{
	if (!http)
		return ims_error_set(err, IMS_EUNSUPPORTED, "`url` layers need network access");
	_cleanup_free_ char *dir = NULL;
	int r = ims_mkdtemp(env->tmp_dir, "imagespec-url", &dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = ims_path_join(dir, "download");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = ims_error_sys(err, errno, IMS_EGENERIC, "create `%s`", path);
		goto out;
	}
	ims_events_info(&env->ev, "downloading %s", s->url);
	r = ims_transport_fetch_url(http, s->url, fd, err);
	if (close(fd) < 0 && r >= 0)
		r = ims_error_sys(err, errno, IMS_EGENERIC, "write `%s`", path);
	if (r >= 0)
		r = ims_layer_write_archive(&s->archive, path, o, sink, res, err);
out:
	ims_rm_rf(dir, NULL);
	return r;
}

static int write_step(const ims_exec_env *env, const ims_step *s, ims_http *http, const ims_layer_opts *o,
		      ims_sink *sink, ims_layer_result *res, ims_error **err)
{
	switch (s->kind) {
	case IMS_STEP_FILES:
		return ims_layer_write_files(s->maps, s->nmaps, o, sink, res, err);
	case IMS_STEP_ARCHIVE:
		return ims_layer_write_archive(&s->archive, s->archive_path, o, sink, res, err);
	case IMS_STEP_URL:
		return url_step(env, s, http, o, sink, res, err);
	case IMS_STEP_WHITEOUT:
		return ims_layer_write_whiteouts(&s->whiteouts, o, sink, res, err);
	default:
		return ims_error_set(err, IMS_EUNSUPPORTED, "this layer kind is not supported yet");
	}
}

/* A blob layer names an existing blob. It must be in the target already,
 * be copyable from the base, or be a foreign layer with urls. */
static int blob_step(const ims_plan *p, const ims_step *s, ims_transport *target, ims_base *base, ims_new_layer *nl,
		     ims_error **err)
{
	const ims_step_blob *b = &s->blob;
	nl->desc.media_type = b->media_type ? xstrdup(b->media_type) : NULL;
	snprintf(nl->desc.digest, sizeof(nl->desc.digest), "%s", b->digest);
	snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", b->diff_id);
	nl->desc.size = b->size;
	if (b->nurls) {
		nl->desc.urls = xcalloc(b->nurls, sizeof(char *));
		for (size_t i = 0; i < b->nurls; i++)
			nl->desc.urls[i] = xstrdup(b->urls[i]);
		nl->desc.nurls = b->nurls;
	}
	nl->action = IMS_ACTION_SKIPPED;
	if (!target)
		return 0;
	bool have = false;
	int r = ims_transport_has_blob(target, b->digest, &have, err);
	if (r < 0 || have)
		return r;
	bool in_base = false;
	if (base->t) {
		ims_reader rd = { 0 };
		ims_error *e = NULL;
		if (ims_transport_open_blob(base->t, b->digest, &rd, &e) == 0) {
			in_base = true;
			ims_reader_close(&rd);
		}
		ims_error_free(e);
	}
	if (in_base) {
		ims_transfer_opts o = { .ignore_exists = p->ignore_exists, .mount = true };
		return ims_exec_copy_blob_if_missing(base->t, target, &nl->desc, &o, &nl->action, err);
	}
	if (b->nurls)
		return 0; /* a foreign layer stays where its urls say */
	return ims_error_set(err, IMS_ENOTFOUND,
			     "%sblob layer %s is neither in the target nor in the base; give its `urls` or use a base "
			     "that has it",
			     s->at, b->digest);
}

/* Writes one layer into the target (or nowhere for a dry run), then keeps
 * it, or drops it when the target already has those bytes. */
static int build_one(const ims_exec_env *env, const ims_plan *p, const ims_step *s, ims_transport *target,
		     ims_http *http, const ims_layer_opts *o, ims_new_layer *nl, ims_layer_result *res, ims_error **err)
{
	int r;
	if (!target) {
		ims_sink null = ims_sink_null();
		if ((r = write_step(env, s, http, o, &null, res, err)) < 0)
			return r;
		nl->action = IMS_ACTION_WRITTEN;
		return 0;
	}
	ims_blob_writer *w = NULL;
	if ((r = ims_transport_new_blob(target, &w, err)) < 0)
		return r;
	if ((r = write_step(env, s, http, o, &w->sink, res, err)) < 0) {
		w->abort(w);
		return r;
	}
	bool have = false;
	if (!p->ignore_exists && (r = ims_transport_has_blob(target, res->digest, &have, err)) < 0) {
		w->abort(w);
		return r;
	}
	if (have) {
		w->abort(w);
		nl->action = IMS_ACTION_SKIPPED;
		return 0;
	}
	if ((r = w->commit(w, res->digest, res->size, err)) < 0)
		return r;
	nl->action = IMS_ACTION_WRITTEN;
	return 0;
}

int ims_exec_build_layers(const ims_exec_env *env, const ims_plan *p, ims_transport *target, ims_base *base,
			  ims_http *http, bool uncompressed, ims_new_layer **out, size_t *n, ims_error **err)
{
	ims_new_layer *layers = xcalloc(p->nsteps + 1, sizeof(*layers));
	int r = 0;
	for (size_t i = 0; i < p->nsteps && r >= 0; i++) {
		const ims_step *s = &p->steps[i];
		ims_new_layer *nl = &layers[i];
		nl->step = s;
		if (s->kind == IMS_STEP_BLOB) {
			r = blob_step(p, s, target, base, nl, err);
			continue;
		}
		ims_events_info(&env->ev, "building layer %zu/%zu: %s", i + 1, p->nsteps, s->created_by);
		ims_layer_opts o = {
			.source_dir = p->spec_dir,
			.created = p->created,
			.defaults = s->defaults,
			.alg = uncompressed ? IMS_LAYER_ALG_NONE : s->alg,
			.level = s->level,
			.ev = &env->ev,
		};
		nl->alg = o.alg;
		ims_layer_result res = { 0 };
		if ((r = build_one(env, p, s, target, http, &o, nl, &res, err)) < 0)
			break;
		snprintf(nl->desc.digest, sizeof(nl->desc.digest), "%s", res.digest);
		snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", res.diff_id);
		nl->desc.size = res.size;
		ims_events_info(&env->ev, "layer %zu/%zu: %s (%lld bytes)", i + 1, p->nsteps, res.digest,
				(long long)res.size);
	}
	if (r < 0) {
		ims_exec_new_layers_free(layers, p->nsteps);
		return r;
	}
	*out = layers;
	*n = p->nsteps;
	return 0;
}
