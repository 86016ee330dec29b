/* Parameter substitution (SPEC "Substitution") in parsed scalar values.
 *
 * Working on values, never on raw text, means a parameter can never
 * inject YAML structure, and keys are never substituted. The grammar is a
 * small subset of POSIX's:
 *   ${NAME} ${NAME:-default} ${NAME:?message}   parameters (-p wins over params:)
 *   ${host:NAME} (and the same :- and :? forms)  the build process's environment
 *   ${base:NAME}                                 env values only; kept for the executor
 *   ${platform.os} ${platform.arch} ${platform.variant}
 *                                  src, archive and url only; kept for the planner
 *   $$                                           a literal $
 * Anything else after a `$` ($NAME, $1, a trailing $) is kept as is, so
 * shell snippets in cmd keep working. Defaults and messages are literal
 * text: a `${` inside a default is not expanded. */
#include "spec/spec_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

bool spec_name_valid(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* A parameter's value: the last -p NAME=VALUE, else params:, else NULL.
 * Every -p of that name counts as used. */
static const char *param_value(spec_ctx *c, const char *name)
{
	const char *v = NULL;
	bool found = false;
	if (c->cli)
		for (size_t i = c->cli->n; i-- > 0;)
			if (c->cli->names[i] && !strcmp(c->cli->names[i], name)) {
				if (c->cli_used)
					c->cli_used[i] = true;
				if (!found)
					v = c->cli->values[i] ? c->cli->values[i] : "";
				found = true;
			}
	if (found)
		return v;
	if (c->params)
		for (size_t i = 0; i < c->params->n; i++)
			if (c->params->v[i].key.s && !strcmp(c->params->v[i].key.s, name))
				return c->params->v[i].value.s ? c->params->v[i].value.s : "";
	return NULL;
}

typedef struct {
	spec_ctx *c;
	ims_pos pos;
	int flags;
	bool *from_host;
	bool platform; /* a ${platform.*} was kept */
} subst_state;

/* Appends text to b; with SUBST_PLATFORM every `$` is doubled, so that the
 * template's only single `$` are the ${platform.*} kept (undone at the end
 * for a value that names none). */
static int put(const subst_state *st, ims_buf *b, const char *s, size_t n, ims_error **overflow)
{
	if (!(st->flags & SUBST_PLATFORM))
		return ims_buf_add(b, s, n, overflow);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '$' && ims_buf_add(b, "$", 1, overflow) < 0)
			return -1;
		if (ims_buf_add(b, &s[i], 1, overflow) < 0)
			return -1;
	}
	return 0;
}

static const char *const platform_names[] = { "os", "arch", "variant" };

/* ${platform.NAME}: kept verbatim in src, archive and url values. */
static bool platform_var(subst_state *st, const char *expr, ims_buf *b, ims_error **overflow)
{
	spec_ctx *c = st->c;
	const char *name = expr + strlen("platform.");
	if (!(st->flags & SUBST_PLATFORM)) {
		spec_error(c, st->pos,
			   "`${%s}` is only allowed in `src`, `archive` and `url` values; write `$${%s}` for the "
			   "literal text",
			   expr, expr);
		return false;
	}
	for (size_t i = 0; i < IMS_ARRAY_SIZE(platform_names); i++)
		if (!strcmp(name, platform_names[i])) {
			st->platform = true;
			return ims_buf_printf(b, "${platform.%s}", name), true;
		}
	const char *hint = ims_did_you_mean(name, platform_names, IMS_ARRAY_SIZE(platform_names));
	if (strchr(name, ':'))
		spec_error(c, st->pos, "`${%s}` takes no default or message; write `${platform.os}`, "
				       "`${platform.arch}` or `${platform.variant}`",
			   expr);
	else if (hint)
		spec_error(c, st->pos, "unknown platform value `${%s}`; did you mean `${platform.%s}`?", expr, hint);
	else
		spec_error(c, st->pos,
			   "unknown platform value `${%s}`; write `${platform.os}`, `${platform.arch}` or "
			   "`${platform.variant}`",
			   expr);
	return false;
}

/* Undoes put's doubling for a value that named no ${platform.*}. */
static void undouble(char *s, size_t *len)
{
	size_t w = 0;
	for (size_t i = 0; i < *len; i++) {
		s[w++] = s[i];
		if (s[i] == '$' && i + 1 < *len && s[i + 1] == '$')
			i++;
	}
	s[w] = '\0';
	*len = w;
}

/* Expands the inside of one ${...}; appends to b. Returns false on error. */
static bool expand(subst_state *st, const char *expr, ims_buf *b, ims_error **overflow)
{
	spec_ctx *c = st->c;
	const char *name = expr;
	enum { PARAM, HOST, BASE } ns = PARAM;
	if (!strncmp(expr, "platform.", strlen("platform.")))
		return platform_var(st, expr, b, overflow);
	if (!strncmp(expr, "host:", 5)) {
		ns = HOST;
		name = expr + 5;
	} else if (!strncmp(expr, "base:", 5)) {
		ns = BASE;
		name = expr + 5;
	}
	size_t nl = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	_cleanup_free_ char *id = xstrndup(name, nl);
	const char *op = name + nl;
	if (!spec_name_valid(id) || (*op && strncmp(op, ":-", 2) && strncmp(op, ":?", 2))) {
		if (st->flags & SUBST_SECRET)
			spec_error(c, st->pos,
				   "bad substitution; write `${NAME}`, `${NAME:-default}`, "
				   "`${NAME:?message}` or `${host:NAME}`, and `$$` for a literal `$`");
		else
			spec_error(c, st->pos,
				   "bad substitution `${%s}`; write `${NAME}`, `${NAME:-default}`, "
				   "`${NAME:?message}` or `${host:NAME}`, and `$$` for a literal `$`",
				   expr);
		return false;
	}
	if (ns == BASE) {
		if (!(st->flags & SUBST_BASE)) {
			spec_error(c, st->pos, "`${base:%s}` is only allowed in `env` values", id);
			return false;
		}
		if (*op) {
			spec_error(c, st->pos, "`${base:%s}` takes no default or message", id);
			return false;
		}
		/* resolved per platform by the executor */
		ims_buf_printf(b, "${base:%s}", id);
		return true;
	}
	const char *val;
	if (ns == HOST) {
		val = getenv(id);
	} else {
		if (st->flags & SUBST_NO_PARAMS) {
			spec_error(c, st->pos,
				   "parameter values cannot refer to other parameters (`${%s}`); use `$${%s}` "
				   "for the literal text",
				   id, id);
			return false;
		}
		val = param_value(c, id);
	}
	if (val && *val) {
		if (ns == HOST)
			*st->from_host = true;
	} else if (!strncmp(op, ":-", 2)) {
		val = op + 2;
	} else if (!strncmp(op, ":?", 2)) {
		const char *msg = op + 2;
		if (ns == HOST)
			spec_error(c, st->pos, "environment variable `%s` is not set: %s", id,
				   *msg ? msg : "it is required");
		else
			spec_error(c, st->pos, "parameter `%s` is not set: %s", id, *msg ? msg : "it is required");
		return false;
	} else if (!val) {
		if (ns == HOST)
			spec_error(c, st->pos,
				   "environment variable `%s` is not set (for `${host:%s}`; give a default with "
				   "`${host:%s:-default}`)",
				   id, id, id);
		else
			spec_error(c, st->pos, "undefined parameter `%s`; set it with `-p %s=VALUE` or under `params:`",
				   id, id);
		return false;
	}
	return put(st, b, val, strlen(val), overflow) == 0;
}

bool spec_subst(spec_ctx *c, const char *in, size_t len, ims_pos pos, int flags, size_t max, char **out, size_t *outlen,
		bool *from_host, bool *platform)
{
	ims_buf b = IMS_BUF_INIT(max);
	subst_state st = { c, pos, flags, from_host, false };
	ims_error *overflow = NULL;
	bool ok = true;
	*from_host = false;
	size_t i = 0;
	while (i < len && ok && !overflow) {
		const char *dollar = memchr(in + i, '$', len - i);
		size_t lit = dollar ? (size_t)(dollar - (in + i)) : len - i;
		if (put(&st, &b, in + i, lit, &overflow) < 0)
			break;
		i += lit;
		if (i >= len)
			break;
		/* in[i] == '$' */
		if (i + 1 < len && in[i + 1] == '$') {
			put(&st, &b, "$", 1, &overflow);
			i += 2;
		} else if (i + 1 < len && in[i + 1] == '{') {
			const char *close = memchr(in + i + 2, '}', len - i - 2);
			if (!close) {
				spec_error(c, pos, "unterminated `${`; write `$${` for a literal `${`");
				ok = false;
				break;
			}
			_cleanup_free_ char *expr = xstrndup(in + i + 2, (size_t)(close - (in + i + 2)));
			ok = expand(&st, expr, &b, &overflow);
			i = (size_t)(close - in) + 1;
		} else {
			put(&st, &b, "$", 1, &overflow);
			i++;
		}
	}
	if (overflow) {
		spec_error(c, pos, "value is longer than the limit of %zu KiB after substitution", max >> 10);
		ims_error_free(overflow);
		ok = false;
	}
	if (!ok) {
		ims_buf_dispose(&b);
		return false;
	}
	*out = ims_buf_steal(&b, outlen);
	if ((flags & SUBST_PLATFORM) && !st.platform)
		undouble(*out, outlen);
	if (platform)
		*platform = st.platform;
	return true;
}
