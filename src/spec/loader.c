/* The spec object: a parsed model plus the warnings it drew. */
#include <stdarg.h>
#include <stdlib.h>

#include "spec/spec_int.h"
#include "util/xalloc.h"

static void add_warning(ims_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(ims_spec *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *w = xvasprintf(fmt, ap);
	va_end(ap);
	s->warnings = xrealloc(s->warnings, (s->nwarnings + 2) * sizeof(char *));
	s->warnings[s->nwarnings++] = w;
	s->warnings[s->nwarnings] = NULL;
}

/* A literal password or token in a file ends up in version control, and
 * in the hands of whoever may read the file; an env value named like a
 * secret ends up in the image config (secrets.c). */
static void collect_warnings(ims_spec *s, bool from_file)
{
	const ims_spec_model *m = s->m;
	bool literal = false;
	for (size_t i = 0; m->path && i < m->nauth; i++) {
		const ims_auth_entry *a = &m->auth[i];
		if (a->literal_secret)
			add_warning(s,
				    "%s:%d:%d: auth for `%s` holds a literal secret; use `${host:NAME}` to read it from "
				    "the environment instead",
				    m->path, a->key.pos.line, a->key.pos.col, a->key.s);
		literal = literal || a->literal_secret;
	}
	unsigned mode = 0;
	if (literal && from_file && ims_spec__file_exposed(m->path, &mode))
		add_warning(s,
			    "%s: holds a literal secret and may be read or written by others (mode %04o); "
			    "`chmod go-rwx %s`, or read the secret with `${host:NAME}`",
			    m->path, mode, m->path);
	for (size_t i = 0; m->env_secret && i < m->env.n; i++) {
		const ims_kv *kv = &m->env.v[i];
		if (!m->env_secret[i])
			continue;
		if (m->path && kv->key.pos.line > 0)
			add_warning(s,
				    "%s:%d:%d: env `%s` looks like a secret, and its value is stored in the image config "
				    "for anyone who pulls the image; pass secrets at run time, or add the comment "
				    "`# imagespec: not-secret` on this line if it is none",
				    m->path, kv->key.pos.line, kv->key.pos.col, kv->key.s);
		else
			add_warning(s,
				    "env `%s` looks like a secret, and its value is stored in the image config for "
				    "anyone who pulls the image; pass secrets at run time",
				    kv->key.s);
	}
}

int ims_spec_read(ims_spec **out, const char *path, const char *data, size_t len, const char *dir,
		  const ims_spec_params *params, ims_error **err)
{
	ims_spec_model *m = NULL;
	int r = ims_spec_model_parse(&m, path, data, len, dir, params, err);
	if (r < 0)
		return r;
	ims_spec *s = xcalloc(1, sizeof(*s));
	s->m = m;
	collect_warnings(s, data == NULL);
	*out = s;
	return 0;
}

void ims_spec_destroy(ims_spec *s)
{
	if (!s)
		return;
	ims_spec_model_free(s->m);
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s);
}
