/* A small ordered JSON tree over yajl: the only room that includes <yajl/...>.
 *
 * Parsing is strict and bounded (size, depth, counts, duplicate keys are
 * refused). Numbers keep their source text so a round trip changes nothing.
 * Encoding is compact, keys in the tree's order, no trailing newline. */
#ifndef IMS_JSON_JSON_H
#define IMS_JSON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagespec/error.h"

typedef enum {
	IMS_JSON_NULL,
	IMS_JSON_BOOL,
	IMS_JSON_NUMBER,
	IMS_JSON_STRING,
	IMS_JSON_ARRAY,
	IMS_JSON_OBJECT,
} ims_json_type;

typedef struct ims_json ims_json;
struct ims_json {
	ims_json_type type;
	bool b;       /* BOOL */
	char *s;      /* STRING (NUL-terminated; may contain no NUL), NUMBER (source text) */
	size_t slen;  /* STRING length */
	ims_json **v; /* ARRAY items, OBJECT values */
	char **k;     /* OBJECT keys */
	size_t n, cap;
};

typedef struct {
	size_t max_bytes; /* default 4 MiB */
	int max_depth;    /* default 64 */
	size_t max_items; /* total values, default 100000 */
} ims_json_limits;

/* Parses one JSON document. Errors are IMS_EGENERIC with "invalid JSON: ..." */
int ims_json_parse(ims_json **out, const char *data, size_t len, const ims_json_limits *lim, ims_error **err);
/* Parses a document that must be an object, with max_bytes as the size cap
 * (0: the default). Errors are IMS_EINVALID, prefixed with "<what>: ". */
int ims_json_parse_object(ims_json **out, const char *data, size_t len, size_t max_bytes, const char *what,
			  ims_error **err);
void ims_json_free(ims_json *v);
ims_json *ims_json_clone(const ims_json *v);
/* Compact encoding; caller frees. */
char *ims_json_encode(const ims_json *v, size_t *len);
/* Indented encoding for humans (inspect); caller frees. */
char *ims_json_encode_pretty(const ims_json *v, size_t *len);

/* Builders. The new_* functions return owned values. */
ims_json *ims_json_new_null(void);
ims_json *ims_json_new_bool(bool b);
ims_json *ims_json_new_int(int64_t n);
ims_json *ims_json_new_string(const char *s);
ims_json *ims_json_new_array(void);
ims_json *ims_json_new_object(void);
/* Appends to an array (takes ownership). */
void ims_json_append(ims_json *arr, ims_json *item);
/* Sets key in an object: replaces in place if present, else appends. Takes ownership. */
void ims_json_set(ims_json *obj, const char *key, ims_json *val);
/* Removes a key (frees its value). Returns true when it was present. */
bool ims_json_remove(ims_json *obj, const char *key);

/* Lookups; NULL when absent or obj is not an object. Borrowed. */
ims_json *ims_json_get(const ims_json *obj, const char *key);
/* The string value of key, or NULL when absent/not a string. */
const char *ims_json_get_string(const ims_json *obj, const char *key);
/* Parses a NUMBER as int64; false when not an integer in range. */
bool ims_json_int(const ims_json *v, int64_t *out);
/* True when v is an object whose values are all strings (annotations, labels). */
bool ims_json_is_string_map(const ims_json *v);
/* Sets *out to a copy of the string member key, or NULL when absent; a member
 * of another type is an IMS_EINVALID error "<what>: `key` must be a string". */
int ims_json_opt_string(char **out, const ims_json *obj, const char *key, const char *what, ims_error **err);

#endif
