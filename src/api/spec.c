/* The public spec object: the spec room's loader, as the public face. */
#include "imagespec/spec.h"

#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/suggest.h"

static const ims_spec_params *params_of(const ims_params *params, ims_spec_params *p)
{
	if (!params)
		return NULL;
	*p = (ims_spec_params){ params->names, params->values, params->n };
	return p;
}

int ims_spec_load_data(ims_spec **out, const char *name, const char *data, size_t len, const char *base_dir,
		       const ims_params *params, ims_error **err)
{
	ims_spec_params p;
	_cleanup_free_ char *dir = ims_path_absolute(NULL, base_dir ? base_dir : ".");
	return ims_spec_read(out, name ? name : "<data>", data, len, dir, params_of(params, &p), err);
}

int ims_spec_load_file(ims_spec **out, const char *path, const ims_params *params, ims_error **err)
{
	ims_spec_params p;
	return ims_spec_read(out, path, NULL, 0, NULL, params_of(params, &p), err);
}

void ims_spec_free(ims_spec *s)
{
	ims_spec_destroy(s);
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

const char *ims_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
	return word && candidates ? ims_suggest(word, candidates, n) : NULL;
}
