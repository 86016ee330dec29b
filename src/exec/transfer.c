/* Blobs from one transport to another: the one place that decides between
 * skipping, mounting and copying, for builds and copies alike. Every call
 * goes through the checked ims_transport_* wrappers. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/sha256_stream.h"
#include "exec/exec_int.h"
#include "layer/layer.h"
#include "util/error.h"
#include "util/xalloc.h"

ims_transport_opts ims_exec_transport_opts(const ims_exec_env *env, const char *base_dir, ims_session *s)
{
	ims_transport_opts o = { base_dir, env->tmp_dir, s ? s->pool : NULL, env->jobs, env->ev };
	return o;
}

int ims_exec_copy_blob_if_missing(ims_transport *src, ims_transport *dst, const ims_descriptor *d,
				  const ims_transfer_opts *o, ims_layer_action *action, ims_error **err)
{
	bool have = false, mounted = false;
	int r = ims_transport_has_blob(dst, d->digest, &have, err);
	if (r < 0)
		return r;
	if (have && !o->ignore_exists) {
		*action = IMS_ACTION_SKIPPED;
		return 0;
	}
	if (o->mount && !o->ignore_exists && (r = ims_transport_mount_blob(dst, src, d, &mounted, err)) < 0)
		return r;
	if (mounted) {
		*action = IMS_ACTION_MOUNTED;
		return 0;
	}
	*action = IMS_ACTION_WRITTEN;
	/* ignore_exists (the seed's sync({ignoreExists})) copies the blob even
	 * when the target says it has it: ims_transport_copy_blob would ask
	 * again and skip. */
	return o->ignore_exists ? ims_transport_copy_blob_always(src, dst, d, err)
				: ims_transport_copy_blob(src, dst, d, err);
}

/* The one piece of state here: tests lower the cap so that a bomb costs
 * them kilobytes. Nothing else sets it. */
static _Atomic int64_t uncompressed_max_override;

void ims_exec__set_uncompressed_max(int64_t max)
{
	uncompressed_max_override = max;
}

/* Passes bytes on until more than max have come. */
typedef struct {
	ims_sink sink;
	ims_sink *next;
	int64_t count, max;
	const char *digest;
} capped_sink;

static int capped_write(void *ud, const void *p, size_t n, ims_error **err)
{
	capped_sink *c = ud;
	if ((int64_t)n > c->max - c->count)
		return ims_error_set(err, IMS_EGENERIC,
				     "base layer %s decompresses to more than %lld bytes; refusing it (a decompression "
				     "bomb, or a layer too big for docker-archive)",
				     c->digest, (long long)c->max);
	c->count += (int64_t)n;
	return ims_sink_write(c->next, p, n, err);
}

/* docker-archive wants plain tar layers: decompress, verify both digests. */
int ims_exec_copy_uncompressed(ims_transport *src, ims_transport *dst, const ims_descriptor *d, const char *diff_id,
			       ims_descriptor *out, ims_layer_action *action, ims_error **err)
{
	bool have = false;
	int r = ims_transport_has_blob(dst, diff_id, &have, err);
	if (r < 0)
		return r;
	snprintf(out->digest, sizeof(out->digest), "%s", diff_id);
	out->media_type = xstrdup(IMS_MT_DOCKER_LAYER);
	/* even when the target has it, read it through: its size is the tar's */
	if (have)
		*action = IMS_ACTION_SKIPPED;
	/* read through a hash, so a decompressed copy still proves the
	 * compressed bytes matched their digest */
	ims_reader blob = { 0 };
	if ((r = ims_transport_open_blob(src, d->digest, &blob, err)) < 0)
		return r;
	ims_sha256_reader hr;
	ims_sha256_reader_init(&hr, &blob);
	ims_blob_writer *w = NULL;
	ims_sink null = ims_sink_null();
	if (!have && (r = ims_transport_new_blob(dst, &w, err)) < 0)
		goto out;
	char got_diff[IMS_DIGEST_BUFSZ];
	int64_t tar_size = 0;
	int64_t max = uncompressed_max_override > 0 ? uncompressed_max_override : IMS_EXEC_UNCOMPRESSED_MAX;
	capped_sink cap = { { capped_write, NULL }, w ? &w->sink : &null, 0, max, d->digest };
	cap.sink.ud = &cap;
	r = ims_layer_decompress(&hr.reader, &cap.sink, got_diff, &tar_size, err);
	if (r < 0) {
		r = ims_exec_not_spec(err, r);
		goto out;
	}
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_reader_final(&hr, got);
	if (strcmp(got, d->digest) || hr.count != d->size) {
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
	ims_sha256_reader_dispose(&hr);
	ims_reader_close(&blob);
	return r;
}

int ims_exec_put_blob(ims_transport *dst, const char *data, size_t len, const char *digest, bool ignore_exists,
		      ims_error **err)
{
	bool have = false;
	int r = ignore_exists ? 0 : ims_transport_has_blob(dst, digest, &have, err);
	if (r < 0 || have)
		return r;
	ims_blob_writer *w = NULL;
	if ((r = ims_transport_new_blob(dst, &w, err)) < 0)
		return r;
	if ((r = ims_sink_write(&w->sink, data, len, err)) < 0) {
		w->abort(w);
		return r;
	}
	return w->commit(w, digest, (int64_t)len, err);
}
