/* The spec's config edits (SPEC-v1.md section 1): entrypoint, cmd, env
 * (ordered merge, null removes, ${base:NAME}), workingDir, user, labels,
 * exposedPorts, volumes, stopSignal. Fields the spec does not touch keep
 * the base's values. */
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static ims_json *strlist_json(const ims_strlist *l)
{
	ims_json *a = ims_json_new_array();
	for (size_t i = 0; i < l->n; i++)
		ims_json_append(a, ims_json_new_string(l->v[i].s));
	return a;
}

/* Replaces every ${base:NAME} in v with the base config's value of NAME
 * (empty when the base does not set it). */
static char *resolve_base_refs(const char *v, const ims_config *base_cfg)
{
	ims_buf b = IMS_BUF_INIT(0);
	const char *p = v;
	for (;;) {
		const char *s = strstr(p, "${base:");
		if (!s) {
			ims_buf_puts(&b, p);
			break;
		}
		const char *e = strchr(s, '}');
		if (!e) {
			ims_buf_puts(&b, p);
			break;
		}
		ims_buf_add(&b, p, (size_t)(s - p), NULL);
		_cleanup_free_ char *name = xstrndup(s + 7, (size_t)(e - s - 7));
		const char *val = base_cfg ? ims_config_env_get(base_cfg, name) : NULL;
		if (val)
			ims_buf_puts(&b, val);
		p = e + 1;
	}
	return ims_buf_steal(&b, NULL);
}

static void edit_env(ims_config *cfg, const ims_config *base_cfg, const ims_kvlist *env)
{
	if (!env->n)
		return;
	char **cur = ims_config_env(cfg);
	size_t n = 0;
	while (cur && cur[n])
		n++;
	/* an ordered list of "K=V"; entries are replaced in place or appended */
	char **list = xcalloc(n + env->n + 1, sizeof(char *));
	size_t nl = 0;
	for (size_t i = 0; i < n; i++)
		list[nl++] = xstrdup(cur[i]);
	ims_strv_free(cur);
	for (size_t i = 0; i < env->n; i++) {
		const char *k = env->v[i].key.s;
		size_t kl = strlen(k);
		size_t at = nl;
		for (size_t j = 0; j < nl; j++)
			if (!strncmp(list[j], k, kl) && (list[j][kl] == '=' || list[j][kl] == '\0')) {
				at = j;
				break;
			}
		if (!env->v[i].value.s) {
			if (at < nl) {
				free(list[at]);
				memmove(&list[at], &list[at + 1], (nl - at - 1) * sizeof(char *));
				nl--;
			}
			continue;
		}
		_cleanup_free_ char *val = resolve_base_refs(env->v[i].value.s, base_cfg);
		char *kv = xasprintf("%s=%s", k, val);
		if (at < nl) {
			free(list[at]);
			list[at] = kv;
		} else {
			list[nl++] = kv;
		}
	}
	ims_json *a = ims_json_new_array();
	for (size_t i = 0; i < nl; i++) {
		ims_json_append(a, ims_json_new_string(list[i]));
		free(list[i]);
	}
	free(list);
	ims_config_set(cfg, "Env", a);
}

/* Merges keys into a config object member such as Labels, ExposedPorts or
 * Volumes. values NULL: every key maps to {} (a set). */
static void merge_object(ims_config *cfg, const char *key, const ims_kvlist *kv, const ims_strlist *set)
{
	const ims_json *cur = ims_config_get(cfg, key);
	ims_json *obj = (cur && cur->type == IMS_JSON_OBJECT) ? ims_json_clone(cur) : ims_json_new_object();
	if (kv) {
		for (size_t i = 0; i < kv->n; i++) {
			if (!kv->v[i].value.s)
				ims_json_remove(obj, kv->v[i].key.s);
			else
				ims_json_set(obj, kv->v[i].key.s, ims_json_new_string(kv->v[i].value.s));
		}
	}
	if (set) {
		for (size_t i = 0; i < set->n; i++)
			if (!ims_json_get(obj, set->v[i].s))
				ims_json_set(obj, set->v[i].s, ims_json_new_object());
	}
	ims_config_set(cfg, key, obj);
}

int ims_exec_edit_config(ims_config *cfg, const ims_config *base_cfg, const ims_plan *p, ims_error **err)
{
	(void)err;
	const ims_spec_model *m = p->spec->m;
	if (m->entrypoint_null) {
		ims_config_set(cfg, "Entrypoint", NULL);
	} else if (m->entrypoint.set) {
		ims_config_set(cfg, "Entrypoint", strlist_json(&m->entrypoint));
		/* as docker does: a new ENTRYPOINT drops the base's CMD unless CMD is set too */
		if (!m->cmd.set && !m->cmd_null)
			ims_config_set(cfg, "Cmd", NULL);
	}
	if (m->cmd_null)
		ims_config_set(cfg, "Cmd", NULL);
	else if (m->cmd.set)
		ims_config_set(cfg, "Cmd", strlist_json(&m->cmd));
	edit_env(cfg, base_cfg, &m->env);
	if (m->working_dir.s)
		ims_config_set(cfg, "WorkingDir", ims_json_new_string(m->working_dir.s));
	if (m->user.s)
		ims_config_set(cfg, "User", ims_json_new_string(m->user.s));
	if (m->stop_signal.s)
		ims_config_set(cfg, "StopSignal", ims_json_new_string(m->stop_signal.s));
	if (m->labels.n)
		merge_object(cfg, "Labels", &m->labels, NULL);
	if (m->exposed_ports.n)
		merge_object(cfg, "ExposedPorts", NULL, &m->exposed_ports);
	if (m->volumes.n)
		merge_object(cfg, "Volumes", NULL, &m->volumes);
	return 0;
}
