/* Building the plan's new layers, once, shared by every platform. Each
 * layer streams straight into a blob writer of the target; the digest is
 * known only at the end, so an existing blob is detected then and the
 * writer aborted ("skipped"). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "http/http.h"
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

static void warn_cb(void *ud, const char *msg)
{
	ims_ctx_warn(ud, "%s", msg);
}

/* A `url:` layer: downloaded into an unlinked temp file, then read as an
 * archive whose sha256 (required with url) is checked before anything else. */
static int url_step(ims_context *ctx, const ims_layer_spec *l, ims_http *http, ims_layer_opts *o, ims_sink *sink,
		    ims_layer_result *res, ims_error **err)
{
	if (!http)
		return ims_error_set(err, IMS_EUNSUPPORTED, "`url` layers need network access");
	_cleanup_free_ char *dir = NULL;
	int r = ims_mkdtemp(ctx->tmp_dir, "imagespec-url", &dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = ims_path_join(dir, "download");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = ims_error_sys(err, errno, IMS_EGENERIC, "create `%s`", path);
		goto out;
	}
	ims_ctx_info(ctx, "downloading %s", l->url.s);
	r = ims_transport_fetch_url(http, l->url.s, fd, err);
	if (close(fd) < 0 && r >= 0)
		r = ims_error_sys(err, errno, IMS_EGENERIC, "write `%s`", path);
	if (r >= 0)
		r = ims_layer_write_archive(l, path, o, sink, res, err);
out:
	ims_rm_rf(dir, NULL);
	return r;
}

static int write_step(ims_context *ctx, const ims_plan *p, const ims_step *s, ims_http *http, ims_layer_opts *o,
		      ims_sink *sink, ims_layer_result *res, ims_error **err)
{
	const ims_spec_model *m = p->spec->m;
	switch (s->kind) {
	case IMS_STEP_FILES:
		return ims_layer_write_files(s->files, s->nfiles, o, sink, res, err);
	case IMS_STEP_ARCHIVE: {
		_cleanup_free_ char *path = ims_path_absolute(m->dir, s->layer->archive.s);
		return ims_layer_write_archive(s->layer, path, o, sink, res, err);
	}
	case IMS_STEP_URL:
		return url_step(ctx, s->layer, http, o, sink, res, err);
	case IMS_STEP_WHITEOUT:
		return ims_layer_write_whiteouts(&m->delete_paths, &m->opaque, o, sink, res, err);
	default:
		return ims_error_set(err, IMS_EUNSUPPORTED, "this layer kind is not supported yet");
	}
}

/* A blob: layer names an existing blob. It must be in the target already,
 * be copyable from the base, or be a foreign layer with urls. */
static int blob_step(const ims_plan *p, const ims_step *s, ims_transport *target, ims_base *base,
		     ims_new_layer *nl, ims_error **err)
{
	const ims_layer_spec *l = s->layer;
	const ims_spec_model *m = p->spec->m;
	nl->desc.media_type = l->media_type.s ? xstrdup(l->media_type.s) : NULL;
	snprintf(nl->desc.digest, sizeof(nl->desc.digest), "%s", l->digest.s);
	snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", l->diff_id.s);
	nl->desc.size = l->size;
	if (l->urls.n) {
		nl->desc.urls = xcalloc(l->urls.n, sizeof(char *));
		for (size_t i = 0; i < l->urls.n; i++)
			nl->desc.urls[i] = xstrdup(l->urls.v[i].s);
		nl->desc.nurls = l->urls.n;
	}
	nl->action = IMS_ACTION_SKIPPED;
	if (!target)
		return 0;
	bool have = false;
	int r = target->ops->has_blob(target, l->digest.s, &have, err);
	if (r < 0)
		return r;
	if (have)
		return 0;
	bool in_base = false;
	if (base->t && base->t->ops->open_blob) {
		ims_reader rd = { 0 };
		ims_error *e = NULL;
		if (base->t->ops->open_blob(base->t, l->digest.s, &rd, &e) == 0) {
			in_base = true;
			ims_reader_close(&rd);
		}
		ims_error_free(e);
	}
	if (in_base) {
		if ((r = ims_transport_copy_blob(base->t, target, &nl->desc, err)) < 0)
			return r;
		nl->action = IMS_ACTION_WRITTEN;
		return 0;
	}
	if (l->urls.n)
		return 0; /* a foreign layer stays where its urls say */
	return ims_error_set(err, IMS_ENOTFOUND,
			     "%s:%d:%d: blob layer %s is neither in the target nor in the base; give its `urls` "
			     "or use a base that has it",
			     m->path, l->pos.line, l->pos.col, l->digest.s);
}

int ims_exec_build_layers(ims_context *ctx, const ims_plan *p, ims_transport *target, ims_base *base,
			  ims_http *http, bool uncompressed, ims_new_layer **out, size_t *n, ims_error **err)
{
	const ims_spec_model *m = p->spec->m;
	ims_new_layer *layers = xcalloc(p->nsteps + 1, sizeof(*layers));
	int r = 0;
	size_t i;
	for (i = 0; i < p->nsteps; i++) {
		const ims_step *s = &p->steps[i];
		ims_new_layer *nl = &layers[i];
		nl->step = s;
		if (s->kind == IMS_STEP_BLOB) {
			if ((r = blob_step(p, s, target, base, nl, err)) < 0)
				break;
			continue;
		}
		ims_ctx_info(ctx, "building layer %zu/%zu: %s", i + 1, p->nsteps, s->created_by);
		ims_layer_opts o = { 0 };
		o.spec_dir = m->dir;
		o.spec_path = m->path;
		o.created = p->created;
		o.defaults = s->defaults;
		o.alg = uncompressed ? IMS_COMPRESS_NONE : s->alg;
		o.level = s->level;
		o.warn = warn_cb;
		o.warn_ud = ctx;
		nl->alg = o.alg;
		ims_layer_result res = { 0 };
		if (!target) {
			ims_sink null = ims_sink_null();
			if ((r = write_step(ctx, p, s, http, &o, &null, &res, err)) < 0)
				break;
			nl->action = IMS_ACTION_WRITTEN;
		} else {
			ims_blob_writer *w = NULL;
			if ((r = target->ops->new_blob(target, &w, err)) < 0)
				break;
			if ((r = write_step(ctx, p, s, http, &o, &w->sink, &res, err)) < 0) {
				w->abort(w);
				break;
			}
			bool have = false;
			if (!m->sync_ignore_exists && (r = target->ops->has_blob(target, res.digest, &have, err)) < 0) {
				w->abort(w);
				break;
			}
			if (have) {
				w->abort(w);
				nl->action = IMS_ACTION_SKIPPED;
			} else {
				if ((r = w->commit(w, res.digest, res.size, err)) < 0)
					break;
				nl->action = IMS_ACTION_WRITTEN;
			}
		}
		snprintf(nl->desc.digest, sizeof(nl->desc.digest), "%s", res.digest);
		snprintf(nl->diff_id, sizeof(nl->diff_id), "%s", res.diff_id);
		nl->desc.size = res.size;
		ims_ctx_info(ctx, "layer %zu/%zu: %s (%lld bytes)", i + 1, p->nsteps, res.digest, (long long)res.size);
	}
	if (r < 0) {
		ims_exec_new_layers_free(layers, p->nsteps);
		return r;
	}
	*out = layers;
	*n = p->nsteps;
	return 0;
}
