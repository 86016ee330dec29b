/* The image.yaml v1 model (SPEC-v1.md section 1), as the parser fills it.
 *
 * Every value keeps the line and column (1-based) where it stood, so that
 * later rooms can report errors as FILE:LINE:COL. Strings are already
 * substituted (${NAME}, ${host:NAME}, $$) except `${base:NAME}` in env
 * values, which the executor resolves per platform. Paths in the file
 * (src, archive, ignoreFiles, caFile, key files, oci:/oci-archive:/
 * docker-archive: paths) are kept as written; the spec's `dir` is the
 * directory they are relative to.
 */
#ifndef IMS_SPEC_SPEC_H
#define IMS_SPEC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagespec/error.h"
#include "imagespec/spec.h"

typedef struct {
	int line, col; /* 1-based; 0 when the value did not come from the file */
} ims_pos;

typedef struct {
	char *s; /* NULL when not set */
	ims_pos pos;
	/* src, archive and url only: s names ${platform.os|arch|variant} and is
	 * a template, with `$$` for a literal `$`, expanded per platform */
	bool platform;
} ims_str;

typedef struct {
	ims_str *v;
	size_t n;
	bool set; /* the key was present (an empty list is still "set") */
	ims_pos pos;
} ims_strlist;

/* One key/value pair of an ordered map (env, labels, annotations, params). */
typedef struct {
	ims_str key;
	ims_str value; /* value.s == NULL when the YAML value was null */
} ims_kv;

typedef struct {
	ims_kv *v;
	size_t n;
	bool set;
	ims_pos pos;
} ims_kvlist;

/* mode/dirMode/uid/gid/mtime: used by `defaults` (top, layer) and by each
 * file mapping; the executor cascades top → layer → mapping. */
typedef struct {
	bool has_mode;
	uint32_t mode; /* permission bits incl. setuid/setgid/sticky (07777) */
	bool has_dir_mode;
	uint32_t dir_mode;
	bool has_uid;
	int64_t uid;
	bool has_gid;
	int64_t gid;
	bool has_mtime;
	int64_t mtime; /* seconds since the epoch */
	ims_pos pos;
} ims_attrs;

typedef enum {
	IMS_COMPRESS_DEFAULT = 0, /* not set: inherit */
	IMS_COMPRESS_GZIP,
	IMS_COMPRESS_ZSTD,
	IMS_COMPRESS_NONE,
} ims_compress_alg;

typedef struct {
	ims_compress_alg algorithm;
	int level;      /* -1: the algorithm's default (gzip 4, zstd 3) */
	ims_pos pos;
} ims_compression;

typedef enum {
	IMS_FILE_COPY,    /* src → dest */
	IMS_FILE_CONTENT, /* content / contentBase64 → dest */
	IMS_FILE_SYMLINK, /* dest is a symlink to `symlink` */
	IMS_FILE_DIR,     /* type: dir */
} ims_file_kind;

typedef enum {
	IMS_SYMLINKS_PRESERVE = 0,
	IMS_SYMLINKS_FOLLOW,
} ims_symlink_mode;

typedef struct {
	ims_file_kind kind;
	ims_pos pos; /* of the mapping */
	ims_str src;
	ims_str dest; /* absolute; a trailing '/' is kept as written */
	ims_strlist include;
	ims_strlist exclude;
	ims_strlist ignore_files;
	ims_symlink_mode symlinks;
	char *content; /* decoded bytes for IMS_FILE_CONTENT */
	size_t content_len;
	ims_str symlink; /* the link target for IMS_FILE_SYMLINK */
	ims_attrs attrs; /* mode, dirMode, uid, gid, mtime set on this mapping */
} ims_file_spec;

typedef enum {
	IMS_LAYER_FILES,
	IMS_LAYER_ARCHIVE,
	IMS_LAYER_URL,
	IMS_LAYER_BLOB,
} ims_layer_kind;

typedef struct {
	ims_layer_kind kind;
	ims_pos pos;
	ims_str name;
	/* IMS_LAYER_FILES */
	ims_file_spec *files;
	size_t nfiles;
	ims_attrs defaults; /* layer-level `defaults` */
	/* IMS_LAYER_ARCHIVE / IMS_LAYER_URL */
	ims_str archive; /* local path (ARCHIVE) */
	ims_str url;     /* (URL) */
	ims_str sha256;  /* hex or sha256:hex; required with url, optional with archive */
	/* or one per platform ("os/arch[/variant]" → hex or sha256:hex), when
	 * archive or url names ${platform.*}; then sha256.s is NULL */
	ims_kvlist sha256_by_platform;
	ims_str dest;    /* re-root under; "/" when not set */
	ims_strlist include;
	int strip_components;
	/* IMS_LAYER_BLOB */
	ims_str digest;
	ims_str diff_id;
	int64_t size;
	ims_str media_type; /* NULL: follows the output format */
	ims_strlist urls;
	/* any kind but BLOB */
	ims_compression compression; /* algorithm DEFAULT: the top-level one */
} ims_layer_spec;

typedef struct {
	ims_str key; /* host or host/namespace prefix */
	ims_str username, password, token, google_credentials_file, helper;
	bool literal_secret; /* password/token written literally (draws a warning) */
} ims_auth_entry;

typedef struct {
	ims_str host;
	bool insecure;
	ims_str ca_file, client_cert, client_key;
} ims_registry_entry;

typedef enum {
	IMS_FORMAT_INHERIT = 0,
	IMS_FORMAT_OCI,
	IMS_FORMAT_DOCKER,
} ims_format;

/* `healthcheck`, as docker's config has it (Healthcheck, durations in ns).
 * It replaces the base's whole, as a Dockerfile HEALTHCHECK does. */
typedef struct {
	bool set; /* the key was given */
	ims_pos pos;
	ims_strlist test; /* ["NONE"] for `healthcheck: none` */
	int64_t interval; /* ns; 0: the runtime's default */
	int64_t timeout;
	int64_t start_period;
	int64_t start_interval;
	int64_t retries; /* 0: the runtime's default */
} ims_healthcheck_spec;

typedef struct ims_spec_model {
	char *path; /* as given ("-" for stdin) */
	char *dir;  /* absolute directory that relative paths are resolved against */

	ims_str api_version;
	ims_str base;
	ims_str target;
	ims_strlist tags;
	ims_strlist platforms; /* entries are "os/arch[/variant]" or "all" */
	ims_format format;
	ims_pos format_pos;

	bool created_set;
	bool created_now; /* "now" */
	int64_t created;  /* epoch seconds; valid when created_set && !created_now */
	ims_pos created_pos;

	ims_kvlist params; /* the values in effect: params: with -p applied (-p only names appended, pos 0) */
	ims_attrs defaults;

	ims_file_spec *files; /* the `files:` layer (NULL/0 when absent) */
	size_t nfiles;
	bool files_set;
	ims_pos files_pos;

	ims_layer_spec *layers;
	size_t nlayers;

	ims_strlist delete_paths; /* `delete` */
	ims_strlist opaque;
	ims_strlist remove_layers;

	ims_strlist entrypoint; /* set && n == 0: explicitly emptied */
	bool entrypoint_null;   /* `entrypoint: null` clears it */
	ims_strlist cmd;
	bool cmd_null;
	ims_kvlist env; /* value NULL: remove; may contain ${base:NAME} */
	bool *env_secret; /* per env entry: its name looks like a secret's, it has a value, and its line
			   * does not say `# imagespec: not-secret` (secrets.c); NULL when env is empty */
	ims_str working_dir;
	ims_str user;
	ims_kvlist labels;      /* value NULL: remove the base's label */
	ims_kvlist annotations; /* manifest annotations */
	ims_strlist exposed_ports;
	ims_strlist volumes;
	ims_str stop_signal;
	ims_healthcheck_spec healthcheck;

	ims_auth_entry *auth;
	size_t nauth;
	ims_registry_entry *registries;
	size_t nregistries;

	bool sync_copy_remote_layers; /* default true */
	bool sync_ignore_exists;      /* default false */

	ims_strlist cache_from; /* registry references of shared layer caches to read */
	ims_str cache_to;       /* and the one to write */

	ims_compression compression; /* top level; DEFAULT means gzip at its default level (4) */
} ims_spec_model;

/* Parameters given on the command line (-p NAME=VALUE); they win over params:. */
typedef struct {
	const char *const *names;
	const char *const *values;
	size_t n;
} ims_spec_params;

/* Parses and validates a spec: the one loader of image.yaml, JSON on
 * standard input and documents made in memory.
 *   path:   a file name, "-" for standard input, or NULL for a document
 *           made in memory (spec/doc.h), whose messages carry no
 *           FILE:LINE:COL.
 *   data:   when non-NULL, the document (path is then only used in messages);
 *           dir_hint is the directory relative paths resolve against.
 * On failure *err holds every problem found, one "FILE:LINE:COL: message"
 * per line, with code IMS_EINVALID; a file that cannot be read is
 * IMS_EINVALID too, with a hint. */
int ims_spec_model_parse(ims_spec_model **out, const char *path, const char *data, size_t len,
			 const char *dir_hint, const ims_spec_params *params, ims_error **err);
void ims_spec_model_free(ims_spec_model *m);

/* A loaded spec: the model and the warnings it drew (literal secrets). The
 * struct behind the public ims_spec. */
struct ims_spec {
	ims_spec_model *m;
	char **warnings; /* NULL-terminated */
	size_t nwarnings;
};

/* ims_spec_model_parse, then the warnings (loader.c). */
int ims_spec_read(ims_spec **out, const char *path, const char *data, size_t len, const char *dir,
		  const ims_spec_params *params, ims_error **err);
void ims_spec_destroy(ims_spec *s);

/* For the schema agreement test: every key path the parser accepts, one per
 * line, like "files[].src", "layers[].blob.digest", "auth.*.username". */
char *ims_spec_keys_dump(void);

#endif
