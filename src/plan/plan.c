/* Freeing and describing plans. */
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static void step_dispose(ims_step *s)
{
	free(s->created_by);
	free(s->comment);
	free(s->archive_path);
	free(s->blob.digest);
	free(s->blob.diff_id);
	free(s->blob.media_type);
	for (size_t i = 0; i < s->blob.nurls; i++)
		free(s->blob.urls[i]);
	free(s->blob.urls);
}

void ims_plan_destroy(ims_plan *p)
{
	if (!p)
		return;
	ims_ref_free(p->source);
	ims_ref_free(p->target);
	free(p->source_shown);
	free(p->source_dir);
	free(p->target_dir);
	free(p->spec_dir);
	for (size_t i = 0; i < p->ntags; i++)
		free(p->tags[i]);
	free(p->tags);
	for (size_t i = 0; i < p->nplatforms; i++)
		ims_platform_free(p->platforms[i]);
	free(p->platforms);
	for (size_t i = 0; i < p->ncache_from; i++)
		ims_ref_free(p->cache_from[i]);
	free(p->cache_from);
	ims_ref_free(p->cache_to);
	/* sources[0] is p->source, freed with it */
	for (size_t i = 1; i < p->nsources; i++)
		ims_ref_free(p->sources[i]);
	free(p->sources);
	for (size_t i = 0; i < p->nauth; i++)
		free(p->auth[i].google_file);
	free(p->auth);
	for (size_t i = 0; i < p->nregistries; i++) {
		free(p->registries[i].ca_file);
		free(p->registries[i].client_cert);
		free(p->registries[i].client_key);
	}
	free(p->registries);
	for (size_t i = 0; i < p->nsteps; i++)
		step_dispose(&p->steps[i]);
	free(p->steps);
	free(p->annotations);
	free(p->removals);
	ims_json_free(p->config_override);
	for (size_t i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	free(p->owned);
	free(p);
}

static const char *alg_name(ims_layer_alg a)
{
	switch (a) {
	case IMS_LAYER_ALG_ZSTD:
		return "zstd";
	case IMS_LAYER_ALG_NONE:
		return "none";
	default:
		return "gzip";
	}
}

char *ims_plan_text(const ims_plan *p)
{
	ims_buf b = IMS_BUF_INIT(0);
	_cleanup_free_ char *base = ims_ref_string(p->source);
	_cleanup_free_ char *target = p->target ? ims_ref_string(p->target) : NULL;
	ims_buf_printf(&b, "base:    %s\n", base);
	if (target)
		ims_buf_printf(&b, "target:  %s\n", target);
	for (size_t i = 0; i < p->ntags; i++)
		ims_buf_printf(&b, "tag:     %s\n", p->tags[i]);
	if (p->all_platforms)
		ims_buf_puts(&b, "platforms: all of the base's\n");
	for (size_t i = 0; i < p->nplatforms; i++) {
		_cleanup_free_ char *ps = ims_platform_string(p->platforms[i]);
		ims_buf_printf(&b, "platform: %s\n", ps);
	}
	char created[32];
	ims_rfc3339(p->created, created);
	ims_buf_printf(&b, "created: %s\n", created);
	for (size_t i = 0; i < p->nsteps; i++) {
		const ims_step *s = &p->steps[i];
		ims_buf_printf(&b, "layer %zu: %s", i + 1, s->created_by);
		if (s->kind != IMS_STEP_BLOB)
			ims_buf_printf(&b, " [%s]", alg_name(s->alg));
		ims_buf_putc(&b, '\n');
	}
	return ims_buf_steal(&b, NULL);
}
