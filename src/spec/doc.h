/* A spec document built in memory, for callers that have no image.yaml:
 * the C Image API. The document is written out as YAML (libyaml's
 * emitter) and read back by the one loader, so an image made through the
 * API passes exactly the checks, caps and messages of a file; only the
 * FILE:LINE:COL prefix is left out, since there is no file. */
#ifndef IMS_SPEC_DOC_H
#define IMS_SPEC_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"

typedef struct ims_spec_node ims_spec_node;

ims_spec_node *ims_spec_node_map(void);
ims_spec_node *ims_spec_node_list(void);
/* A string taken literally: `$` is written as `$$`, so nothing is
 * substituted. */
ims_spec_node *ims_spec_node_str(const char *s);
/* An env value: literal too, except `${base:NAME}`, which the executor
 * resolves against the base's env. */
ims_spec_node *ims_spec_node_env(const char *s);
ims_spec_node *ims_spec_node_int(long long v);
ims_spec_node *ims_spec_node_bool(bool v);
ims_spec_node *ims_spec_node_null(void);
void ims_spec_node_free(ims_spec_node *n);
ims_spec_node *ims_spec_node_clone(const ims_spec_node *n);

/* Sets key of a map to v (taking it), replacing an existing value in place. */
void ims_spec_node_put(ims_spec_node *map, const char *key, ims_spec_node *v);
/* The value of key, or NULL. */
ims_spec_node *ims_spec_node_get(ims_spec_node *map, const char *key);
/* The value of key, made an empty map or list first when absent. */
ims_spec_node *ims_spec_node_map_at(ims_spec_node *map, const char *key);
ims_spec_node *ims_spec_node_list_at(ims_spec_node *map, const char *key);
/* Appends v (taking it) to a list. */
void ims_spec_node_append(ims_spec_node *list, ims_spec_node *v);
/* Sets key of a map to file content: `content` when the bytes are UTF-8
 * text without `$`, else `contentBase64`. */
void ims_spec_node_put_content(ims_spec_node *map, const void *data, size_t len);

/* The document as YAML text (caller frees *out); IMS_EINVALID when a
 * string is not UTF-8, which no file could hold either. */
int ims_spec_node_emit(const ims_spec_node *root, char **out, size_t *len, ims_error **err);

#endif
