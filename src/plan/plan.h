/* The plan: everything the executor needs to do one job, decided before any
 * I/O. A build plan is made from a spec (from_spec.c, declared in
 * plan/from_spec.h); copy, inspect and tags plans from references (ops.c). The executor reads only this:
 * never the spec. Strings that came from a spec are borrowed from it (keep
 * the spec alive as long as the plan); everything else is owned.
 *
 * Values a user wrote carry `at`, the "FILE:LINE:COL: " prefix of
 * messages about them ("" for values that did not come from a file). */
#ifndef IMS_PLAN_PLAN_H
#define IMS_PLAN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagespec/plan.h"
#include "imagespec/transport.h"
#include "json/json.h"
#include "json/oci.h"
#include "layer/input.h"
#include "ref/ref.h"

typedef enum {
	IMS_PLAN_BUILD,
	IMS_PLAN_COPY,
	IMS_PLAN_INSPECT,
	IMS_PLAN_TAGS,
	IMS_PLAN_INDEX,
} ims_plan_kind;

typedef enum {
	IMS_STEP_FILES,    /* mappings → a new layer */
	IMS_STEP_ARCHIVE,  /* a local archive → a new layer */
	IMS_STEP_URL,      /* a downloaded archive → a new layer */
	IMS_STEP_BLOB,     /* an existing blob, by digest */
	IMS_STEP_WHITEOUT, /* delete/opaque → a new layer */
} ims_step_kind;

typedef struct {
	char *digest;
	char *diff_id;
	int64_t size;
	char *media_type; /* NULL: follows the output format */
	char **urls;
	size_t nurls;
} ims_step_blob;

/* One layer of the new image, in order. */
typedef struct {
	ims_step_kind kind;
	const char *at;
	ims_layer_mapping *maps; /* FILES */
	size_t nmaps;
	ims_layer_archive archive;     /* ARCHIVE and URL */
	char *archive_path;            /* ARCHIVE: absolute */
	const char *url;               /* URL */
	ims_layer_whiteouts whiteouts; /* WHITEOUT */
	ims_step_blob blob;            /* BLOB */
	ims_layer_attrs defaults;      /* the top-level defaults with the layer's merged over */
	ims_layer_alg alg;
	int level;        /* -1: the algorithm's default */
	char *created_by; /* history */
	char *comment;    /* history comment (the layer's name), or NULL */
	/* FILES, ARCHIVE, URL: a src, archive or url names ${platform.*}. Then
	 * every src (FILES), archive.shown and url and created_by are
	 * templates (`$$` a literal `$`) that ims_plan_platform_expand fills
	 * per platform, and archive_path is NULL. */
	bool per_platform;
	/* ARCHIVE, URL with per_platform: the sha256 of each platform's file
	 * ("os/arch[/variant]" → digest, matched as docker matches platforms);
	 * archive.sha256 is then NULL until filled */
	const struct ims_plan_kv_s *sha256s;
	size_t nsha256s;
} ims_step;

/* A name → value edit (env, labels, annotations); value NULL removes. */
typedef struct ims_plan_kv_s {
	const char *key;
	const char *value;
} ims_plan_kv;

/* An argv edit (entrypoint, cmd). */
typedef struct {
	bool set;   /* replace with argv (argc may be 0) */
	bool clear; /* remove */
	const char *const *argv;
	size_t argc;
} ims_plan_argv;

/* The config edits of SPEC-v1.md section 1. Env values may hold
 * ${base:NAME}, resolved per platform by the executor. */
typedef struct {
	ims_plan_argv entrypoint, cmd;
	ims_plan_kv *env;
	size_t nenv;
	const char *working_dir, *user, *stop_signal; /* NULL: unchanged */
	ims_plan_kv *labels;
	size_t nlabels;
	const char *const *exposed_ports;
	size_t nexposed_ports;
	const char *const *volumes;
	size_t nvolumes;
	/* docker's Healthcheck; replaces the base's whole when set */
	struct {
		bool set;
		const char *const *test; /* ["NONE"] disables */
		size_t ntest;
		int64_t interval, timeout, start_period, start_interval; /* ns; 0: not written */
		int64_t retries;                                         /* 0: not written */
	} healthcheck;
} ims_plan_config;

typedef enum {
	IMS_PLAN_FORMAT_INHERIT,
	IMS_PLAN_FORMAT_OCI,
	IMS_PLAN_FORMAT_DOCKER,
} ims_plan_format;

/* Credentials for registries a key (host or host/namespace) covers. */
typedef struct {
	const char *key;
	const char *at;
	const char *username, *password, *token;
	const char *helper; /* docker-credential-NAME */
	char *google_file;  /* absolute */
} ims_plan_auth;

/* TLS and plain-HTTP settings of one registry host. */
typedef struct {
	const char *host;
	bool insecure;
	char *ca_file, *client_cert, *client_key; /* absolute, or NULL */
} ims_plan_registry;

/* A layer of the base to drop. */
typedef struct {
	const char *digest;
	const char *at;
} ims_plan_removal;

struct ims_plan {
	ims_plan_kind kind;

	/* Every kind: where from. BUILD: the base; COPY, INSPECT, TAGS: the source. */
	ims_ref *source;
	char *source_shown; /* as the user wrote it (messages, inspect) */
	char *source_dir;   /* relative paths in source resolve here */
	/* BUILD and COPY: where to. */
	ims_ref *target;
	char *target_dir;
	bool to_output; /* --output given */
	char **tags;    /* more names (the target's own not included) */
	size_t ntags;
	/* Platforms: none given: the host's (or the base's only one). */
	ims_platform **platforms;
	size_t nplatforms;
	bool all_platforms;

	/* Layer caches shared through registries (BUILD): read, then written. */
	ims_ref **cache_from;
	size_t ncache_from;
	ims_ref *cache_to;

	/* Registries: credentials and TLS from the spec. */
	ims_plan_auth *auth;
	size_t nauth;
	ims_plan_registry *registries;
	size_t nregistries;

	/* BUILD */
	const char *spec_path; /* for messages */
	char *spec_dir;        /* COPY sources resolve beneath it */
	ims_plan_format format;
	int64_t created;
	ims_step *steps;
	size_t nsteps;
	ims_plan_config config;
	ims_plan_kv *annotations; /* of the manifests and the index */
	size_t nannotations;
	ims_plan_removal *removals;
	size_t nremovals;
	bool copy_remote_layers;   /* foreign layers are copied into the target */
	bool ignore_exists;        /* upload even what the target has */
	ims_json *config_override; /* replaces the base's config before the edits; owned */

	/* INSPECT */
	ims_inspect_what what;

	/* INDEX: the images (or indexes) joined into the target's index;
	 * source is sources[0]. append: the target's index is kept and added to. */
	ims_ref **sources;
	size_t nsources;
	bool append;

	void **owned; /* allocations the plan frees with itself */
	size_t nowned;
};

/* Frees a plan; NULL-safe. */
void ims_plan_destroy(ims_plan *p);
/* A human-readable description of the steps (caller frees). */
char *ims_plan_text(const ims_plan *p);

/* Plans for copy, inspect and tags (ops.c). platform: NULL or "all"
 * keeps an index whole (copy), or picks the host's (inspect). */
int ims_plan_copy(ims_plan **out, const char *src, const char *dst, const char *platform, ims_error **err);
int ims_plan_inspect(ims_plan **out, const char *ref, const char *platform, ims_inspect_what what, ims_error **err);
int ims_plan_tags(ims_plan **out, const char *repo, ims_error **err);
/* copy --all-tags: src and dst must both be registry repositories named
 * without a tag or digest (HOST/REPO); IMS_EINVALID otherwise. */
int ims_plan_check_repo_copy(const char *src, const char *dst, ims_error **err);
/* A step template (ims_step.per_platform) filled for one platform:
 * ${platform.os}, ${platform.arch} and ${platform.variant} (after docker's
 * normalisation: "" for amd64, "v8" for arm64 without one), `$$` a `$`.
 * A platform value that could change a path's shape (empty os or arch, a
 * `/`, `.` or `..`, a control character) is refused, with shown (the
 * platform) named. Caller frees *out. */
int ims_plan_platform_expand(const char *tmpl, const ims_platform *pl, char **out, ims_error **err);

/* `index create|append DST SRC...`: DST a registry or oci: reference. */
int ims_plan_index(ims_plan **out, const char *dst, const char *const *srcs, size_t nsrcs, bool append,
		   ims_error **err);

/* A config document that replaces the base's before the edits (the Image
 * API's set_config): checked as the executor will read it, then set. */
int ims_plan_check_config(const char *json, ims_error **err);
int ims_plan_set_config(ims_plan *p, const char *json, ims_error **err);

/* The owned-allocation list (own.c). */
void *ims_plan_own(ims_plan *p, void *ptr);
char *ims_plan_strdup(ims_plan *p, const char *s);
char *ims_plan_printf(ims_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
