/* `healthcheck`: docker's config field (Healthcheck), which OCI has no
 * name for but docker, podman and buildah read from either format. It
 * replaces the base's whole, as a Dockerfile HEALTHCHECK does. */
#include "spec/spec_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

#define NS_PER_MS 1000000LL

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 }, /* µs, as Go writes it */
	{ "ms", NS_PER_MS },
	{ "s", 1000 * NS_PER_MS },
	{ "m", 60 * 1000 * NS_PER_MS },
	{ "h", 3600 * 1000 * NS_PER_MS },
};

/* Go's time.ParseDuration without a sign: one or more NUMBER[.FRACTION]UNIT,
 * as docker's --health-interval takes it. False on anything else or on
 * overflow. */
static bool parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0;
	if (!*s)
		return false;
	while (*s) {
		size_t nd = strspn(s, "0123456789");
		const char *frac = s + nd;
		size_t nf = *frac == '.' ? strspn(frac + 1, "0123456789") : 0;
		if (!nd && !nf)
			return false;
		if (nd > 15)
			return false;
		int64_t whole = nd ? strtoll(s, NULL, 10) : 0;
		double part = nf ? strtod(frac, NULL) : 0.0; /* ".5" */
		s = frac + (*frac == '.' ? 1 + nf : 0);
		size_t best = 0, bl = 0;
		for (size_t i = 0; i < IMS_ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].name);
			/* "ms" before "m": take the longest unit that matches */
			if (!strncmp(s, units[i].name, l) && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (!bl)
			return false;
		int64_t u = units[best].ns;
		if (whole > (INT64_MAX - total) / u)
			return false;
		total += whole * u + (int64_t)(part * (double)u);
		if (total < 0)
			return false;
		s += bl;
	}
	*out = total;
	return true;
}

static void get_duration(spec_ctx *c, const ynode *map, const char *key, int64_t *out)
{
	const ynode *v = spec_val(map, key);
	if (!v)
		return;
	_cleanup_free_ char *what = xasprintf("`healthcheck.%s`", key);
	ims_str s = { 0 };
	if (!spec_get_str(c, v, what, GET_NONEMPTY, &s))
		return;
	int64_t ns = 0;
	if (!parse_duration(s.s, &ns))
		spec_error(c, s.pos, "%s must be a duration like `30s`, `1m30s` or `500ms`, not `%s`", what, s.s);
	else if (ns != 0 && ns < NS_PER_MS)
		spec_error(c, s.pos, "%s must be 0 or at least 1ms (docker refuses shorter ones), not `%s`", what, s.s);
	else
		*out = ns;
	spec_str_dispose(&s);
}

/* [CMD, arg...], [CMD-SHELL, command] or [NONE]; a string is CMD-SHELL, as
 * in compose files. */
static void parse_test(spec_ctx *c, const ynode *v, ims_healthcheck_spec *h)
{
	if (v->kind == YN_SCALAR) {
		ims_str s = { 0 };
		if (!spec_get_str(c, v, "`healthcheck.test`", GET_NONEMPTY, &s))
			return;
		h->test.v = xcalloc(2, sizeof(ims_str));
		h->test.v[0] = (ims_str){ xstrdup("CMD-SHELL"), s.pos };
		h->test.v[1] = s;
		h->test.n = 2;
		h->test.set = true;
		h->test.pos = s.pos;
		spec_check_text(c, &h->test.v[1], "`healthcheck.test`", IMS_TEXT_TAB | IMS_TEXT_NEWLINE);
		return;
	}
	if (!spec_get_strlist(c, v, "`healthcheck.test`", 0, &h->test))
		return;
	for (size_t i = 0; i < h->test.n; i++)
		spec_check_text(c, &h->test.v[i], "`healthcheck.test`", IMS_TEXT_TAB | IMS_TEXT_NEWLINE);
	const char *first = h->test.n ? h->test.v[0].s : "";
	ims_pos at = h->test.n ? h->test.v[0].pos : v->pos;
	if (!strcmp(first, "NONE")) {
		if (h->test.n != 1)
			spec_error(c, at, "`healthcheck.test` `[NONE]` takes nothing after `NONE`");
	} else if (!strcmp(first, "CMD")) {
		if (h->test.n < 2)
			spec_error(c, at, "`healthcheck.test` `[CMD, ...]` needs the command after `CMD`");
	} else if (!strcmp(first, "CMD-SHELL")) {
		if (h->test.n != 2)
			spec_error(c, at,
				   "`healthcheck.test` `[CMD-SHELL, ...]` takes one shell command, e.g. "
				   "`[CMD-SHELL, \"curl -f http://localhost/ || exit 1\"]`");
	} else {
		spec_error(c, at,
			   "`healthcheck.test` must start with `CMD`, `CMD-SHELL` or `NONE`, e.g. "
			   "`[CMD, /bin/check]`, or be a string for the shell");
	}
}

void spec_parse_healthcheck(spec_ctx *c, const ynode *v, ims_spec_model *m)
{
	ims_healthcheck_spec *h = &m->healthcheck;
	h->pos = v->pos;
	if (v->kind == YN_SCALAR) {
		ims_str s = { 0 };
		if (!spec_get_str(c, v, "`healthcheck`", 0, &s))
			return;
		if (strcmp(s.s, "none"))
			spec_error(c, s.pos,
				   "`healthcheck` must be `none` or a mapping with `test`, `interval`, `timeout`, "
				   "`startPeriod`, `startInterval` and `retries`, not `%s`",
				   s.s);
		spec_str_dispose(&s);
		h->test.v = xcalloc(1, sizeof(ims_str));
		h->test.v[0] = (ims_str){ xstrdup("NONE"), v->pos };
		h->test.n = 1;
		h->test.set = true;
		h->set = true;
		return;
	}
	if (!spec_check_keys(c, v, &spec_obj_healthcheck, "`healthcheck`"))
		return;
	h->set = true;
	const ynode *x = spec_val(v, "test");
	if (!x) {
		spec_error(c, v->pos,
			   "`healthcheck` needs `test`, e.g. `test: [CMD, /bin/check]`; `healthcheck: none` disables "
			   "the base's");
		return;
	}
	parse_test(c, x, h);
	get_duration(c, v, "interval", &h->interval);
	get_duration(c, v, "timeout", &h->timeout);
	get_duration(c, v, "startPeriod", &h->start_period);
	get_duration(c, v, "startInterval", &h->start_interval);
	if ((x = spec_val(v, "retries")))
		spec_get_int(c, x, "`healthcheck.retries`", 0, INT32_MAX, &h->retries);
	bool none = h->test.n == 1 && !strcmp(h->test.v[0].s, "NONE");
	if (none && v->n > 1)
		spec_error(c, v->pos,
			   "`healthcheck` with `test: [NONE]` is disabled; its other keys do nothing, "
			   "so remove them");
}
