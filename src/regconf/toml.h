/* A strict reader of the TOML subset that containers-registries.conf(5)
 * uses: [tables], [[arrays of tables]], bare and quoted keys, basic and
 * literal one-line strings, booleans, decimal integers and arrays of
 * strings, with comments. Anything else (floats, dates, inline tables,
 * multi-line strings, dotted keys) is an error at its FILE:LINE:COL.
 * Debian has no C TOML library (docs/choices.md). */
#ifndef IMS_REGCONF_TOML_H
#define IMS_REGCONF_TOML_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"

/* Caps: a table's keys, an array's items, a header's dotted keys. */
#define IMS_TOML_MAX_ITEMS 4096
#define IMS_TOML_MAX_DEPTH 8

typedef enum {
	IMS_TOML_STRING,
	IMS_TOML_BOOL,
	IMS_TOML_INT,
	IMS_TOML_ARRAY,  /* of strings */
	IMS_TOML_TABLE,  /* keys[i] = items[i] */
	IMS_TOML_TABLES, /* [[name]]: an array of tables */
} ims_toml_kind;

typedef struct ims_toml ims_toml;
struct ims_toml {
	ims_toml_kind kind;
	int line, col;         /* of the value (of the header for a table), 1-based */
	int key_line, key_col; /* of its key */
	char *str;
	bool b;
	long long i;
	ims_toml **items;
	char **keys; /* IMS_TOML_TABLE only */
	size_t n, cap;
	bool header; /* a table named by a [header] (not only implied by [a.b]) */
};

/* Parses data (len bytes, from file, which is only named in messages) into
 * a root table. Errors are IMS_EINVALID, "FILE:LINE:COL: what". */
int ims_toml_parse(ims_toml **out, const char *file, const char *data, size_t len, ims_error **err);
void ims_toml_free(ims_toml *t);
/* The value of key in table t, or NULL. */
const ims_toml *ims_toml_get(const ims_toml *t, const char *key);
/* "a string", "a boolean"... for messages. */
const char *ims_toml_kind_name(ims_toml_kind k);

#endif
