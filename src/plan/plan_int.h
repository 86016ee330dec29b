/* Private to the plan room: helpers shared by the planners. */
#ifndef IMS_PLAN_PLAN_INT_H
#define IMS_PLAN_PLAN_INT_H

#include "plan/plan.h"
#include "spec/spec.h"

/* "FILE:LINE:COL: " for a position of m, owned by p; "" without one. */
const char *ims_plan_at(ims_plan *p, const ims_spec_model *m, ims_pos pos);
/* The strings of l as a vector owned by p (the strings stay borrowed). */
const char *const *ims_plan_strv(ims_plan *p, const ims_strlist *l, size_t *n);
/* Parses "os/arch[/variant]" values and "all" into p->platforms. */
int ims_plan_platforms(ims_plan *p, const char *const *plats, size_t n, ims_error **err);
/* The new layers, in order (steps.c). */
void ims_plan_steps(ims_plan *p, const ims_spec_model *m);

#endif
