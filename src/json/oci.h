/* OCI and Docker manifests, indexes, descriptors and image configs.
 *
 * Decoding is strict: exact media types, digests checked with
 * ims_digest_valid, sizes 0..2^53, bounded counts. Encoding is canonical:
 * fixed key order, compact, so the same model always gives the same bytes. */
#ifndef IMS_JSON_OCI_H
#define IMS_JSON_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest/digest.h"
#include "imagespec/error.h"
#include "json/json.h"
#include "json/mediatype.h" /* the IMS_MT_* names */

#define IMS_MANIFEST_MAX (4u << 20)
#define IMS_CONFIG_MAX (4u << 20)
#define IMS_MAX_LAYERS 127
#define IMS_MAX_INDEX_ENTRIES 1024

typedef struct {
	char *os;
	char *architecture;
	char *variant;    /* NULL when absent */
	char *os_version; /* NULL when absent */
} ims_platform;

typedef struct {
	char *media_type;
	char digest[IMS_DIGEST_BUFSZ];
	int64_t size;
	char **urls;
	size_t nurls;
	ims_json *annotations; /* object or NULL */
	ims_platform *platform;  /* index entries only; NULL when absent */
	char *artifact_type;     /* NULL when absent */
} ims_descriptor;

typedef struct {
	char *media_type; /* IMS_MT_OCI_MANIFEST or IMS_MT_DOCKER_MANIFEST */
	ims_descriptor config;
	ims_descriptor *layers;
	size_t nlayers;
	ims_json *annotations; /* object or NULL */
	ims_descriptor *subject; /* NULL when absent */
	char *artifact_type;
} ims_manifest;

typedef struct {
	char *media_type; /* IMS_MT_OCI_INDEX or IMS_MT_DOCKER_LIST */
	ims_descriptor *manifests;
	size_t nmanifests;
	ims_json *annotations;
} ims_index;

typedef enum {
	IMS_DOC_MANIFEST,
	IMS_DOC_INDEX,
} ims_doc_kind;

/* Tells a manifest from an index: by mediaType in the document, else by the
 * given content type, else by shape. Refuses a document whose mediaType
 * disagrees with a known content type (CVE-2021-41190) or that has both
 * `manifests` and `layers`. *media_type gets the effective media type. */
int ims_doc_detect(const char *data, size_t len, const char *content_type, ims_doc_kind *kind,
		   char **media_type, ims_error **err);

int ims_manifest_parse(ims_manifest **out, const char *data, size_t len, ims_error **err);
char *ims_manifest_encode(const ims_manifest *m, size_t *len);
void ims_manifest_free(ims_manifest *m);

int ims_index_parse(ims_index **out, const char *data, size_t len, ims_error **err);
char *ims_index_encode(const ims_index *ix, size_t *len);
void ims_index_free(ims_index *ix);

void ims_descriptor_dispose(ims_descriptor *d);
/* Reads and validates one descriptor (what names it in errors, e.g.
 * "layers[2]"); *d is zeroed first and left empty on failure. */
int ims_descriptor_from_json(ims_descriptor *d, const ims_json *v, const char *what, ims_error **err);
/* The canonical JSON object for a descriptor (owned). */
ims_json *ims_descriptor_to_json(const ims_descriptor *d);
/* True for a bare RFC 6838 "type/subtype" (no parameters). */
bool ims_media_type_valid(const char *s);
void ims_descriptor_copy(ims_descriptor *dst, const ims_descriptor *src);
void ims_platform_free(ims_platform *p);
ims_platform *ims_platform_dup(const ims_platform *p);
/* "os/arch[/variant]"; caller frees. */
char *ims_platform_string(const ims_platform *p);
/* Parses "os/arch[/variant]" (validated); returns NULL on a bad string. */
ims_platform *ims_platform_parse(const char *s);
/* containerd's normalisation of an architecture and variant (borrowed
 * strings): x86_64 is amd64, arm64 implies v8, arm v7, amd64's v1 is "". */
void ims_platform_normalize(const char *arch, const char *variant, const char **oarch, const char **ovariant);
/* Docker's rule: arm64 with no variant matches arm64/v8; amd64 ignores v1. */
bool ims_platform_matches(const ims_platform *want, const ims_platform *have);
/* The platform of this machine, as docker would pick it. */
ims_platform *ims_platform_host(void);

/* ---- image config ----
 * Kept as a JSON tree so that every field of a base survives; the typed
 * setters below edit it in place. Encoding puts the known keys in a fixed
 * order (created, author, architecture, os, os.version, os.features,
 * variant, config, rootfs, history) and any others after them in their
 * original order; the same inside "config". */
typedef struct ims_config ims_config;

/* Validates the known fields (types, rootfs.type == layers, diff_ids digests). */
int ims_config_parse(ims_config **out, const char *data, size_t len, ims_error **err);
/* An empty config for scratch: os/architecture[/variant], rootfs {layers, []}. */
ims_config *ims_config_new(const ims_platform *p);
ims_config *ims_config_clone(const ims_config *c);
void ims_config_free(ims_config *c);
char *ims_config_encode(const ims_config *c, size_t *len);
/* The whole tree (borrowed; may be edited by the caller). */
ims_json *ims_config_tree(ims_config *c);
/* Replaces the tree (takes ownership); validates like ims_config_parse. */
int ims_config_set_tree(ims_config *c, ims_json *tree, ims_error **err);

/* NULL when the config has no os or architecture; caller frees. */
ims_platform *ims_config_platform(const ims_config *c);

/* "config" members. NULL/0 when absent. Arrays are borrowed JSON arrays. */
const ims_json *ims_config_get(const ims_config *c, const char *config_key);
/* Sets config.<key> to val (takes ownership); val NULL removes the key. */
void ims_config_set(ims_config *c, const char *config_key, ims_json *val);
/* Env as a NULL-terminated "K=V" vector (caller frees with ims_strv_free). */
char **ims_config_env(const ims_config *c);
/* The value of env NAME in the config, or NULL (borrowed). */
const char *ims_config_env_get(const ims_config *c, const char *name);
/* Sets env NAME to value: replaces the last NAME=... entry, else appends. */
void ims_config_env_set(ims_config *c, const char *name, const char *value);

/* rootfs.diff_ids */
size_t ims_config_ndiff_ids(const ims_config *c);
const char *ims_config_diff_id(const ims_config *c, size_t i);
void ims_config_add_diff_id(ims_config *c, const char *diff_id);
void ims_config_remove_diff_id(ims_config *c, size_t i);

/* history: appends {created, created_by, comment, empty_layer}. */
void ims_config_add_history(ims_config *c, const char *created_rfc3339, const char *created_by,
			    const char *comment, bool empty_layer);
/* Removes the history entry that belongs to the i-th non-empty layer, if any.
 * Does nothing unless the non-empty entries match the diff_ids one to one
 * (counting the one ims_config_remove_diff_id may already have removed). */
void ims_config_remove_layer_history(ims_config *c, size_t layer_index);
/* Makes the history describe n layers one to one (its entries without
 * empty_layer: true), as runtimes and `docker history` assume: the entries
 * describe the first layers, so missing ones are appended (with a comment
 * saying so) and the last surplus ones are marked empty_layer. *had gets
 * the number of non-empty entries there were; returns true when it changed
 * anything. A config without history gets one entry per layer. */
bool ims_config_fit_history(ims_config *c, size_t n, size_t *had);
void ims_config_set_created(ims_config *c, const char *rfc3339);

/* Formats epoch seconds as RFC 3339 UTC ("2026-01-01T00:00:00Z"). */
void ims_rfc3339(int64_t t, char out[32]);

void ims_strv_free(char **v);

#endif
