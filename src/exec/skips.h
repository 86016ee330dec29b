/* What files layers leave out (skips.c). */
#ifndef IMS_EXEC_SKIPS_H
#define IMS_EXEC_SKIPS_H

#include "exec/exec.h"
#include "layer/layer.h"
#include "plan/plan.h"

typedef struct ims_exec_skips_s {
	ims_layer_skip *v;
	char **whats;
	size_t n, cap;
} ims_exec_skips;

/* Stats, now, the paths files layers must not take (those that exist). */
void ims_exec_skips_collect(ims_exec_skips *s, const ims_exec_env *env, const ims_plan *p);
void ims_exec_skips_dispose(ims_exec_skips *s);

#endif
