/* Private to the spec room: the bounded YAML node tree, the error
 * collector, the key tables, substitution and the typed getters that turn
 * tree nodes into model values. */
#ifndef IMS_SPEC_SPEC_INT_H
#define IMS_SPEC_SPEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "util/text.h"

/* Caps (SPEC "Rules": nesting depth, string and list lengths are capped). */
#define SPEC_MAX_FILE (1u << 20)
#define SPEC_MAX_DEPTH 32
#define SPEC_MAX_STRING (64u << 10)
#define SPEC_MAX_CONTENT (1u << 20) /* content / contentBase64 */
#define SPEC_MAX_ITEMS 10000        /* per list and per mapping */
#define SPEC_MAX_NODES 250000       /* per document, bounds memory */
#define SPEC_MAX_ERRORS 100

/* ---- node tree (yaml_tree.c) ---- */

typedef enum {
	YN_SCALAR,
	YN_SEQ,
	YN_MAP,
} yn_kind;

typedef struct ynode ynode;

typedef struct {
	ynode *key; /* always a scalar */
	ynode *value;
} ypair;

struct ynode {
	yn_kind kind;
	ims_pos pos;
	/* YN_SCALAR */
	char *s; /* NUL-terminated; may hold NULs inside when len says so */
	size_t len;
	bool plain; /* unquoted: YAML's implicit typing applies */
	/* YN_SEQ */
	ynode **items;
	/* YN_MAP */
	ypair *pairs;
	size_t n; /* items or pairs */
};

/* ---- error collection (errors.c) ---- */

typedef struct {
	ims_pos pos;
	char *msg;
} spec_err;

typedef struct {
	const char *file; /* as shown in messages: "<stdin>" for "-" */
	spec_err *errs;
	size_t nerrs, cap;
	bool overflow;
	const ims_spec_params *cli; /* -p NAME=VALUE, wins over params: */
	const ims_kvlist *params;   /* the file's params: (filled first) */
	bool *cli_used;             /* per cli name: a ${NAME} asked for it */
} spec_ctx;

void spec_error(spec_ctx *c, ims_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Joins every error, sorted by position, into one IMS_EINVALID ims_error. */
int spec_errors_flush(spec_ctx *c, ims_error **err);
void spec_errors_dispose(spec_ctx *c);

/* Builds the tree from a YAML or JSON document. Returns NULL after a fatal
 * problem (syntax, caps); non-fatal ones (anchors, tags, duplicate keys)
 * are recorded in c and a tree is still returned. */
ynode *ynode_parse(spec_ctx *c, const char *data, size_t len);
void ynode_free(ynode *n);
/* The value of key in a mapping, or NULL. */
const ypair *ynode_find(const ynode *map, const char *key);
bool ynode_is_null(const ynode *n);
const char *ynode_kind_name(const ynode *n);

/* ---- key tables (keys.c) ---- */

typedef enum {
	SK_VALUE,   /* a scalar, list of scalars, or free-form map of scalars */
	SK_OBJ,     /* a mapping with fixed keys */
	SK_OBJLIST, /* a list of mappings with fixed keys */
	SK_OBJMAP,  /* free-form names → mappings with fixed keys (auth, registries) */
} spec_key_kind;

typedef struct spec_obj spec_obj;

typedef struct {
	const char *name;
	spec_key_kind kind;
	const spec_obj *obj; /* for SK_OBJ, SK_OBJLIST, SK_OBJMAP */
} spec_key;

struct spec_obj {
	const spec_key *keys;
	size_t n;
};

extern const spec_obj spec_obj_top, spec_obj_attrs, spec_obj_file, spec_obj_layer, spec_obj_blob, spec_obj_auth,
	spec_obj_registry, spec_obj_sync, spec_obj_cache, spec_obj_compression, spec_obj_healthcheck;

/* Reports every key of map that obj does not know, with a did-you-mean
 * hint. Returns false when map is not a mapping (reported as `what`). */
bool spec_check_keys(spec_ctx *c, const ynode *map, const spec_obj *obj, const char *what);
/* The hint for an unknown key, or NULL: case-insensitive match, alias, then
 * Levenshtein distance <= 2. */
const char *spec_suggest_key(const spec_obj *obj, const char *key);

/* ---- substitution (subst.c) ---- */

enum {
	SUBST_BASE = 1 << 0,      /* env values: keep ${base:NAME} verbatim */
	SUBST_NO_PARAMS = 1 << 1, /* params: values: only ${host:...} and $$ */
	SUBST_SECRET = 1 << 2,    /* never quote the value in an error */
	SUBST_PLATFORM = 1 << 3,  /* src, archive, url: ${platform.os|arch|variant} allowed */
};

/* Expands in[0..len) into *out (NUL-terminated, *outlen bytes), capped at
 * max bytes. *from_host is set when some part came from the environment.
 * With SUBST_PLATFORM, a value that names ${platform.*} sets *platform and
 * is kept as a template: those names verbatim and every other `$` doubled
 * (the planner expands it per platform); platform may be NULL otherwise.
 * Errors are recorded at pos; returns false then. */
bool spec_subst(spec_ctx *c, const char *in, size_t len, ims_pos pos, int flags, size_t max, char **out, size_t *outlen,
		bool *from_host, bool *platform);

/* ---- typed getters (convert.c) ---- */

enum {
	GET_NULL_OK = 1 << 8, /* null gives s == NULL instead of an error */
	GET_BIG = 1 << 9,     /* allow SPEC_MAX_CONTENT bytes */
	GET_NUL_OK = 1 << 10, /* allow NUL bytes (content) */
	GET_NONEMPTY = 1 << 11,
};

typedef struct {
	char *s; /* substituted text, or NULL for null */
	size_t len;
	ims_pos pos;
	bool plain; /* unquoted in the file and untouched by substitution */
	bool from_host;
	bool platform; /* a template naming ${platform.*} (SUBST_PLATFORM) */
} spec_scalar;

/* flags: SUBST_* | GET_*. `what` names the key in messages. */
bool spec_get_scalar(spec_ctx *c, const ynode *n, const char *what, int flags, spec_scalar *out);
bool spec_get_str(spec_ctx *c, const ynode *n, const char *what, int flags, ims_str *out);
bool spec_get_int(spec_ctx *c, const ynode *n, const char *what, int64_t min, int64_t max, int64_t *out);
bool spec_get_bool(spec_ctx *c, const ynode *n, const char *what, bool *out);
/* The index of the value in names (NULL-terminated), or -1 after an
 * error listing them. */
int spec_get_enum(spec_ctx *c, const ynode *n, const char *what, const char *const *names);
bool spec_get_mode(spec_ctx *c, const ynode *n, const char *what, uint32_t *out);
/* RFC 3339 or epoch seconds; "now" when now != NULL. */
bool spec_get_time(spec_ctx *c, const ynode *n, const char *what, bool *now, int64_t *out);
bool spec_get_strlist(spec_ctx *c, const ynode *n, const char *what, int flags, ims_strlist *out);
bool spec_get_kvlist(spec_ctx *c, const ynode *n, const char *what, int flags, ims_kvlist *out);
/* mode, dirMode, uid, gid, mtime of a mapping (keys already checked). */
void spec_get_attrs(spec_ctx *c, const ynode *map, ims_attrs *a);
/* The value node of key in map, or NULL. */
const ynode *spec_val(const ynode *map, const char *key);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)" into epoch seconds. */
bool spec_parse_rfc3339(const char *s, int64_t *out);

/* ---- checks (validate.c) ---- */

enum {
	PATH_NO_ROOT = 1 << 0,     /* "/" is refused */
	PATH_NO_WHITEOUT = 1 << 1, /* a `.wh.` basename is refused */
	PATH_FILE = 1 << 2,        /* names the entry itself: no trailing '/' */
};

/* Text that goes into the image config or a manifest: UTF-8 with no C0
 * (but what allow, IMS_TEXT_* of util/text.h, lets through), DEL or C1
 * control character and no U+FEFF. */
bool spec_check_text(spec_ctx *c, const ims_str *v, const char *what, int allow);
/* An absolute in-image path: no `.`, `..` or empty components, no control
 * characters. */
bool spec_check_abs(spec_ctx *c, const ims_str *p, const char *what, int flags);
/* A path relative to the spec directory that stays inside it. */
bool spec_check_rel(spec_ctx *c, const ims_str *p, const char *what);
bool spec_check_url(spec_ctx *c, const ims_str *u, const char *what);
bool spec_check_digest(spec_ctx *c, const ims_str *d, const char *what);
bool spec_check_sha256(spec_ctx *c, const ims_str *d, const char *what);
bool spec_check_media_type(spec_ctx *c, const ims_str *s, const char *what);
bool spec_name_valid(const char *s); /* [A-Za-z_][A-Za-z0-9_]* */
/* "os/arch[/variant]": lower-case letters, digits, `_`, `.`, `-` (parse.c). */
bool spec_platform_valid(const char *s);
/* The index of the one key of keys[] present in map. Reports a mapping
 * with none (it `what` "needs" `need`) or several; returns -1 then. */
int spec_one_of(spec_ctx *c, const ynode *map, const char *const *keys, size_t n, const char *what, const char *need);
void spec_compression(spec_ctx *c, const ynode *n, ims_compress_alg fallback, ims_compression *out);

/* ---- the sections (parse_*.c) ---- */

void spec_parse_top(spec_ctx *c, const ynode *root, ims_spec_model *m);
void spec_parse_config(spec_ctx *c, const ynode *root, ims_spec_model *m);
void spec_parse_healthcheck(spec_ctx *c, const ynode *v, ims_spec_model *m);
void spec_parse_files(spec_ctx *c, const ynode *n, const char *what, ims_file_spec **out, size_t *nout);
void spec_parse_layers(spec_ctx *c, const ynode *n, ims_spec_model *m);
void spec_parse_access(spec_ctx *c, const ynode *root, ims_spec_model *m);

/* ---- free.c ---- */

void spec_str_dispose(ims_str *s);
void spec_strlist_dispose(ims_strlist *l);
void spec_kvlist_dispose(ims_kvlist *l);

/* ---- secrets.c: warnings about secrets the spec may leak ---- */

/* Whether an env name looks like a secret's (SECRET, TOKEN, PASSWORD,
 * PASSWD, or a `_KEY` part), in any case. */
bool ims_spec__env_name_secret(const char *name);
/* Fills m->env_secret from the model and the document's text. */
void ims_spec__mark_env_secrets(ims_spec_model *m, const char *data, size_t len);
/* Whether the spec file at path (not stdin) may be read or written by its
 * group or others; *mode gets its permission bits. */
bool ims_spec__file_exposed(const char *path, unsigned *mode);

#endif
