/* One `src` → `dest` mapping of a files layer: resolves src beneath the
 * spec directory and walks it, adding entries (metadata only) to a list.
 * SPEC "Copying", "Symlinks", "Refused sources", "Globs", "Modes" and
 * "The dest directory". */
#ifndef IMS_LAYER_WALK_H
#define IMS_LAYER_WALK_H

#include "layer/entries.h"

typedef struct {
	int rootfd;             /* the spec directory */
	const char *root_abs;   /* its real absolute path, for absolute link targets */
	const ims_layer_opts *o;
	const ims_layer_mapping *m;
	size_t mapping;         /* index of m */
	const char *dest;       /* m->dest as a tar path ("" for "/") */
	ims_fattrs attrs;
	ims_fents *out;
} ims_copy_ctx;

int ims_layer_copy(const ims_copy_ctx *c, ims_error **err);

#endif
