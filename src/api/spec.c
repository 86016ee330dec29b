/* The public spec object: a parsed model plus the warnings it drew. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define SPEC_MAX_BYTES (1u << 20)

void ims_spec_add_warning(ims_spec *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *w = xvasprintf(fmt, ap);
	va_end(ap);
	s->warnings = xrealloc(s->warnings, (s->nwarnings + 2) * sizeof(char *));
	s->warnings[s->nwarnings++] = w;
	s->warnings[s->nwarnings] = NULL;
}

static void collect_warnings(ims_spec *s)
{
	const ims_spec_model *m = s->m;
	for (size_t i = 0; i < m->nauth; i++) {
		const ims_auth_entry *a = &m->auth[i];
		if (a->literal_secret)
			ims_spec_add_warning(s,
					     "%s:%d:%d: auth for `%s` holds a literal secret; use `${host:NAME}` "
					     "to read it from the environment instead",
					     m->path, a->key.pos.line, a->key.pos.col, a->key.s);
	}
}

static int load(ims_spec **out, const char *name, const char *data, size_t len, const char *dir,
		const ims_params *params, ims_error **err)
{
	ims_spec_params p = { 0 };
	if (params) {
		p.names = params->names;
		p.values = params->values;
		p.n = params->n;
	}
	ims_spec_model *m = NULL;
	int r = ims_spec_model_parse(&m, name, data, len, dir, &p, err);
	if (r < 0)
		return r;
	ims_spec *s = xcalloc(1, sizeof(*s));
	s->m = m;
	collect_warnings(s);
	*out = s;
	return 0;
}

int ims_spec_load_data(ims_spec **out, const char *name, const char *data, size_t len, const char *base_dir,
		       const ims_params *params, ims_error **err)
{
	_cleanup_free_ char *dir = ims_path_absolute(NULL, base_dir ? base_dir : ".");
	return load(out, name ? name : "<data>", data, len, dir, params, err);
}

int ims_spec_load_file(ims_spec **out, const char *path, const ims_params *params, ims_error **err)
{
	if (!strcmp(path, "-")) {
		ims_buf b = IMS_BUF_INIT(SPEC_MAX_BYTES);
		char chunk[65536];
		for (;;) {
			ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
			if (n < 0) {
				ims_buf_dispose(&b);
				return ims_error_sys(err, errno, IMS_EINVALID, "read the spec from standard input");
			}
			if (n == 0)
				break;
			if (ims_buf_add(&b, chunk, (size_t)n, NULL) < 0) {
				ims_buf_dispose(&b);
				return ims_error_set(err, IMS_EINVALID, "<stdin>: the spec is larger than %u bytes",
						     SPEC_MAX_BYTES);
			}
		}
		_cleanup_free_ char *cwd = ims_path_absolute(NULL, ".");
		int r = load(out, "<stdin>", b.data ? b.data : "", b.len, cwd, params, err);
		ims_buf_dispose(&b);
		return r;
	}
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	if (ims_read_file(path, SPEC_MAX_BYTES, &data, &len, &e) < 0) {
		int r = ims_error_set(err, IMS_EINVALID, "%s", e->message);
		ims_error_hint(err, "pass the path of an image.yaml (default ./image.yaml), or - for standard input");
		ims_error_free(e);
		return r;
	}
	_cleanup_free_ char *abs = ims_path_absolute(NULL, path);
	_cleanup_free_ char *dir = ims_path_dirname(abs);
	return load(out, path, data, len, dir, params, err);
}

void ims_spec_free(ims_spec *s)
{
	if (!s)
		return;
	ims_spec_model_free(s->m);
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s);
}

const char *ims_spec_target(const ims_spec *s)
{
	return s->m->target.s;
}

const char *ims_spec_base(const ims_spec *s)
{
	return s->m->base.s;
}

const char *const *ims_spec_warnings(const ims_spec *s)
{
	static const char *const none[] = { NULL };
	return s->warnings ? (const char *const *)s->warnings : none;
}
