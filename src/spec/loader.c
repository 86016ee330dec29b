/* The spec object: a parsed model plus the warnings it drew. */
#include <stdarg.h>
#include <stdlib.h>

#include "spec/spec.h"
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

/* A literal password or token in a file ends up in version control. */
static void collect_warnings(ims_spec *s)
{
	const ims_spec_model *m = s->m;
	for (size_t i = 0; m->path && i < m->nauth; i++) {
		const ims_auth_entry *a = &m->auth[i];
		if (a->literal_secret)
			add_warning(s,
				    "%s:%d:%d: auth for `%s` holds a literal secret; use `${host:NAME}` to read it from "
				    "the environment instead",
				    m->path, a->key.pos.line, a->key.pos.col, a->key.s);
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
	collect_warnings(s);
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
