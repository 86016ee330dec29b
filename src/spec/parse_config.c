/* The image config keys: entrypoint, cmd, env, workingDir, user, labels,
 * annotations, exposedPorts, volumes, stopSignal. */
#include "spec/spec_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* argv lists: a plain string would need a shell to split, and guessing
 * how is how Dockerfile's shell form surprises people. */
static void parse_argv(spec_ctx *c, const ynode *v, const char *what, ims_strlist *out, bool *null)
{
	if (ynode_is_null(v)) {
		*null = true;
		out->pos = v->pos;
		return;
	}
	if (v->kind == YN_SCALAR) {
		spec_error(c, v->pos, "%s must be a list of strings, e.g. `[\"sh\", \"-c\", \"...\"]`, not a string",
			   what);
		return;
	}
	if (!spec_get_strlist(c, v, what, 0, out))
		return;
	/* scripts for `sh -c` span lines */
	for (size_t i = 0; i < out->n; i++)
		spec_check_text(c, &out->v[i], what, IMS_TEXT_TAB | IMS_TEXT_NEWLINE);
}

static void parse_env(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_kvlist(c, v, "`env`", GET_NULL_OK | SUBST_BASE, &m->env))
		return;
	for (size_t i = 0; i < m->env.n; i++)
		if (!spec_name_valid(m->env.v[i].key.s))
			spec_error(c, m->env.v[i].key.pos,
				   "environment variable name `%s` must match "
				   "[A-Za-z_][A-Za-z0-9_]*",
				   m->env.v[i].key.s);
		else
			spec_check_text(c, &m->env.v[i].value, "`env` value", IMS_TEXT_TAB);
}

/* Keys are names: no spaces, no control characters. Values are text for
 * people and tools that print it: a tab is allowed, other control
 * characters (a newline too) and a byte order mark are not (docs/image.yaml.md). */
static void parse_labels(spec_ctx *c, const ynode *v, const char *what, const char *what_key, const char *what_value,
			 ims_kvlist *out)
{
	if (!spec_get_kvlist(c, v, what, GET_NULL_OK, out))
		return;
	for (size_t i = 0; i < out->n; i++) {
		const ims_str *k = &out->v[i].key;
		bool space = false;
		for (const char *p = k->s; *p && !space; p++)
			space = (unsigned char)*p <= 0x20 || *p == 0x7f;
		if (space)
			spec_error(c, k->pos, "%s key `%s` must not contain spaces or control characters", what, k->s);
		else if (spec_check_text(c, k, what_key, 0))
			spec_check_text(c, &out->v[i].value, what_value, IMS_TEXT_TAB);
	}
}

/* "N", "N/tcp", "N/udp" or "N/sctp"; "N" becomes "N/tcp" as in docker. */
static void parse_ports(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_strlist(c, v, "`exposedPorts`", 0, &m->exposed_ports))
		return;
	for (size_t i = 0; i < m->exposed_ports.n; i++) {
		ims_str *p = &m->exposed_ports.v[i];
		size_t nd = strspn(p->s, "0123456789");
		const char *proto = p->s + nd;
		long port = nd && nd <= 5 && p->s[0] != '0' ? strtol(p->s, NULL, 10) : 0;
		bool ok = port >= 1 && port <= 65535 &&
			  (!*proto || !strcmp(proto, "/tcp") || !strcmp(proto, "/udp") || !strcmp(proto, "/sctp"));
		if (!ok) {
			spec_error(c, p->pos,
				   "port `%s` must be a number from 1 to 65535, optionally followed by "
				   "`/tcp`, `/udp` or `/sctp`",
				   p->s);
			continue;
		}
		if (!*proto) {
			char *n = xasprintf("%ld/tcp", port);
			free(p->s);
			p->s = n;
		}
	}
}

static bool is_proc(const char *s)
{
	/* /proc and anything under it, however spelled: `//proc`, `/./proc/` */
	while (*s == '/' || (s[0] == '.' && (s[1] == '/' || !s[1])))
		s++;
	return !strncmp(s, "proc", 4) && (s[4] == '/' || !s[4]);
}

static void parse_working_dir(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_str(c, v, "`workingDir`", 0, &m->working_dir) ||
	    !spec_check_abs(c, &m->working_dir, "`workingDir`", 0))
		return;
	/* a process started in /proc/self/fd/N can reach the host
	 * (CVE-2024-21626, "Leaky Vessels") */
	if (is_proc(m->working_dir.s))
		spec_error(c, m->working_dir.pos, "`workingDir` must not be under `/proc`");
}

static void parse_user(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_str(c, v, "`user`", GET_NONEMPTY, &m->user))
		return;
	const char *s = m->user.s;
	const char *colon = strchr(s, ':');
	bool ok = s[0] != ':' && (!colon || (colon[1] && !strchr(colon + 1, ':')));
	for (const char *p = s; ok && *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			ok = false;
	if (ok && !spec_check_text(c, &m->user, "`user`", 0))
		return;
	if (!ok)
		spec_error(c, m->user.pos, "`user` must be `user`, `uid`, `user:group` or `uid:gid`, not `%s`", s);
}

static void parse_signal(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	if (!spec_get_str(c, v, "`stopSignal`", 0, &m->stop_signal))
		return;
	const char *s = m->stop_signal.s;
	size_t n = strlen(s);
	bool ok;
	if (n && strspn(s, "0123456789") == n) {
		long x = n <= 2 ? strtol(s, NULL, 10) : 0;
		ok = x >= 1 && x <= 64;
	} else {
		const char *name = !strncmp(s, "SIG", 3) ? s + 3 : s;
		ok = *name && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-") == strlen(name);
	}
	if (!ok)
		spec_error(c, m->stop_signal.pos,
			   "`stopSignal` must be a signal name like `SIGTERM` or a number, "
			   "not `%s`",
			   s);
}

void spec_parse_config(spec_ctx *c, const ynode *root, ims_spec_model *m)
{
	const ynode *v;
	if ((v = spec_val(root, "entrypoint"))) {
		parse_argv(c, v, "`entrypoint`", &m->entrypoint, &m->entrypoint_null);
		if (m->entrypoint.n && !*m->entrypoint.v[0].s)
			spec_error(c, m->entrypoint.v[0].pos, "the first entry of `entrypoint` must not be empty");
	}
	if ((v = spec_val(root, "cmd")))
		parse_argv(c, v, "`cmd`", &m->cmd, &m->cmd_null);
	if ((v = spec_val(root, "env")))
		parse_env(c, v, m);
	if ((v = spec_val(root, "workingDir")))
		parse_working_dir(c, v, m);
	if ((v = spec_val(root, "user")))
		parse_user(c, v, m);
	if ((v = spec_val(root, "labels")))
		parse_labels(c, v, "`labels`", "`labels` key", "`labels` value", &m->labels);
	if ((v = spec_val(root, "annotations")))
		parse_labels(c, v, "`annotations`", "`annotations` key", "`annotations` value", &m->annotations);
	if ((v = spec_val(root, "exposedPorts")))
		parse_ports(c, v, m);
	if ((v = spec_val(root, "volumes")) && spec_get_strlist(c, v, "`volumes`", 0, &m->volumes))
		for (size_t i = 0; i < m->volumes.n; i++)
			spec_check_abs(c, &m->volumes.v[i], "`volumes` entry", 0);
	if ((v = spec_val(root, "stopSignal")))
		parse_signal(c, v, m);
	if ((v = spec_val(root, "healthcheck")))
		spec_parse_healthcheck(c, v, m);
}
