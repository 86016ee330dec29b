/* The spec's config edits (SPEC-v1.md section 1): entrypoint, cmd, env
 * (ordered merge, null removes, ${base:NAME}), workingDir, user, labels,
 * exposedPorts, volumes, stopSignal. Fields the spec does not touch keep
 * the base's values. */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static ims_json *strv_json(const char *const *v, size_t n)
{
	ims_json *a = ims_json_new_array();
	for (size_t i = 0; i < n; i++)
		ims_json_append(a, ims_json_new_string(v[i]));
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

static void edit_env(ims_config *cfg, const ims_config *base_cfg, const ims_plan_kv *env, size_t nenv)
{
	if (!nenv)
		return;
	char **cur = ims_config_env(cfg);
	size_t n = 0;
	while (cur && cur[n])
		n++;
	/* an ordered list of "K=V"; entries are replaced in place or appended */
	char **list = xcalloc(n + nenv + 1, sizeof(char *));
	size_t nl = 0;
	for (size_t i = 0; i < n; i++)
		list[nl++] = xstrdup(cur[i]);
	ims_strv_free(cur);
	for (size_t i = 0; i < nenv; i++) {
		const char *k = env[i].key;
		size_t kl = strlen(k);
		size_t at = nl;
		for (size_t j = 0; j < nl; j++)
			if (!strncmp(list[j], k, kl) && (list[j][kl] == '=' || list[j][kl] == '\0')) {
				at = j;
				break;
			}
		if (!env[i].value) {
			if (at < nl) {
				free(list[at]);
				memmove(&list[at], &list[at + 1], (nl - at - 1) * sizeof(char *));
				nl--;
			}
			continue;
		}
		_cleanup_free_ char *val = resolve_base_refs(env[i].value, base_cfg);
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
 * Volumes: kv pairs (value NULL removes the key), then set members, which
 * map to {} when absent. */
static void merge_object(ims_config *cfg, const char *key, const ims_plan_kv *kv, size_t nkv, const char *const *set,
			 size_t nset)
{
	if (!nkv && !nset)
		return;
	const ims_json *cur = ims_config_get(cfg, key);
	ims_json *obj = (cur && cur->type == IMS_JSON_OBJECT) ? ims_json_clone(cur) : ims_json_new_object();
	for (size_t i = 0; i < nkv; i++) {
		if (!kv[i].value)
			ims_json_remove(obj, kv[i].key);
		else
			ims_json_set(obj, kv[i].key, ims_json_new_string(kv[i].value));
	}
	for (size_t i = 0; i < nset; i++)
		if (!ims_json_get(obj, set[i]))
			ims_json_set(obj, set[i], ims_json_new_object());
	ims_config_set(cfg, key, obj);
}

static void edit_argv(ims_config *cfg, const char *key, const ims_plan_argv *a)
{
	if (a->clear)
		ims_config_set(cfg, key, NULL);
	else if (a->set)
		ims_config_set(cfg, key, strv_json(a->argv, a->argc));
}

/* docker's Healthcheck, as `docker inspect` and buildah write it: Test,
 * then the durations in nanoseconds and Retries, each left out when 0 (Go's
 * omitempty), so the runtime's defaults apply. */
static void edit_healthcheck(ims_config *cfg, const ims_plan_config *e)
{
	if (!e->healthcheck.set)
		return;
	ims_json *h = ims_json_new_object();
	ims_json_set(h, "Test", strv_json(e->healthcheck.test, e->healthcheck.ntest));
	const struct {
		const char *key;
		int64_t v;
	} nums[] = {
		{ "Interval", e->healthcheck.interval },        { "Timeout", e->healthcheck.timeout },
		{ "StartPeriod", e->healthcheck.start_period }, { "StartInterval", e->healthcheck.start_interval },
		{ "Retries", e->healthcheck.retries },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (nums[i].v)
			ims_json_set(h, nums[i].key, ims_json_new_int(nums[i].v));
	ims_config_set(cfg, "Healthcheck", h);
}

void ims_exec_edit_config(ims_config *cfg, const ims_config *base_cfg, const ims_plan_config *e)
{
	edit_argv(cfg, "Entrypoint", &e->entrypoint);
	/* as docker does: a new ENTRYPOINT drops the base's CMD unless CMD is set too */
	if (e->entrypoint.set && !e->cmd.set && !e->cmd.clear)
		ims_config_set(cfg, "Cmd", NULL);
	edit_argv(cfg, "Cmd", &e->cmd);
	edit_env(cfg, base_cfg, e->env, e->nenv);
	if (e->working_dir)
		ims_config_set(cfg, "WorkingDir", ims_json_new_string(e->working_dir));
	if (e->user)
		ims_config_set(cfg, "User", ims_json_new_string(e->user));
	if (e->stop_signal)
		ims_config_set(cfg, "StopSignal", ims_json_new_string(e->stop_signal));
	merge_object(cfg, "Labels", e->labels, e->nlabels, NULL, 0);
	merge_object(cfg, "ExposedPorts", NULL, 0, e->exposed_ports, e->nexposed_ports);
	merge_object(cfg, "Volumes", NULL, 0, e->volumes, e->nvolumes);
	edit_healthcheck(cfg, e);
}
