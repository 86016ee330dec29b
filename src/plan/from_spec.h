/* spec → build plan. Only the public face includes this: the executor sees
 * the plan, never the spec. */
#ifndef IMS_PLAN_FROM_SPEC_H
#define IMS_PLAN_FROM_SPEC_H

#include "plan/plan.h"
#include "spec/spec.h"

/* Resolves references, overrides, platforms, the created time, the layer
 * steps and the config edits. The plan borrows strings from m. Pure: reads
 * nothing but SOURCE_DATE_EPOCH and the clock for `created: now`. */
int ims_plan_from_spec(ims_plan **out, const ims_spec_model *m, const ims_plan_options *opts, ims_error **err);

#endif
