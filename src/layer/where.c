#include "layer/where.h"

#include "util/xalloc.h"

char *ims_layer_where(const ims_layer_opts *o, ims_pos pos)
{
	if (!o || !o->spec_path || pos.line <= 0)
		return xstrdup("");
	return xasprintf("%s:%d:%d: ", o->spec_path, pos.line, pos.col > 0 ? pos.col : 1);
}
