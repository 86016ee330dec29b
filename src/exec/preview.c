/* The config a build would give its first platform, read before anything
 * is built (the seed's getImageData): the base's config, or the plan's
 * override of it, with the created time and the edits, without the new
 * layers' diff_ids, which exist only once they are built. */
#include "exec/exec_int.h"
#include "util/error.h"

int ims_exec_preview_config(const ims_exec_env *env, const ims_plan *p, char **json, ims_error **err)
{
	ims_base b = { 0 };
	ims_session s = { 0 };
	int r = 0;
	if (p->source->kind == IMS_REF_REGISTRY)
		r = ims_session_open(&s, env, p, err);
	ims_cache *docs = ims_exec_docs_open(env);
	if (r >= 0 && (r = ims_exec_base_load(&b, env, p, &s, true, docs, err)) >= 0) {
		ims_config *cfg = ims_config_clone(b.images[0].config);
		if (p->config_override)
			r = ims_config_set_tree(cfg, ims_json_clone(p->config_override), err);
		if (r >= 0) {
			char created[32];
			ims_rfc3339(p->created, created);
			ims_config_set_created(cfg, created);
			ims_exec_edit_config(cfg, b.images[0].config, &p->config);
			*json = ims_config_encode(cfg, NULL);
		}
		ims_config_free(cfg);
	}
	ims_exec_base_dispose(&b);
	ims_cache_close(docs);
	ims_session_close(&s);
	return r < 0 ? r : 0;
}
