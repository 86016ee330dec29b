/* "FILE:LINE:COL: " prefixes for layer errors that a spec value caused. */
#ifndef IMS_LAYER_WHERE_H
#define IMS_LAYER_WHERE_H

#include "layer/layer.h"

/* "SPEC:LINE:COL: " for pos, or "" when the position or the spec path is
 * unknown. Caller frees. */
char *ims_layer_where(const ims_layer_opts *o, ims_pos pos);

#endif
