/**
 * @file imagespec/image.h
 * @brief The seed library's Image class, in C.
 *
 * Open a base, add local files and inline files, set Cmd/Env/WorkingDir,
 * add or remove layers by digest, read and change the config, then save to
 * a target: a registry, an OCI layout or an archive. Every call here edits
 * an in-memory image.yaml; each value is checked as the spec loader checks
 * it (the same rules and messages, without a FILE:LINE:COL prefix), and
 * ims_image_save() plans and runs the whole document exactly like
 * `imagespec build` would. Bases and targets may be registry references;
 * credentials come from ims_image_options, then from the usual sources
 * (docker's config.json, credential helpers, ...).
 *
 * @code
 * ims_image *img;
 * ims_image_new(&img, ctx, "oci:base:1", &err);
 * ims_image_file f = IMS_IMAGE_FILE_INIT;
 * f.src = "./"; f.dest = "/app/";
 * ims_image_add_files(img, &f, 1, &err);
 * const char *cmd[] = { "node", "index.js" };
 * ims_image_set_cmd(img, cmd, 2, &err);
 * ims_image_set_working_dir(img, "/app", &err);
 * ims_image_save(img, "oci:out:latest", NULL, 0, &result, &err);
 * @endcode
 */
#ifndef IMAGESPEC_IMAGE_H
#define IMAGESPEC_IMAGE_H

#include "build.h"
#include "common.h"
#include "context.h"
#include "error.h"

IMS_BEGIN_DECL

typedef struct ims_image ims_image;

/** One `files:` mapping of a local path (the seed's addFiles {dest: src}). */
typedef struct {
	const char *src;            /**< relative to the image's base directory */
	const char *dest;           /**< absolute; a trailing '/' means "into" */
	const char *const *exclude; /**< globs anchored at src */
	size_t nexclude;
	const char *const *include;
	size_t ninclude;
	const char *const *ignore_files; /**< e.g. ".dockerignore" */
	size_t nignore_files;
	int follow_symlinks; /**< 0: preserve (default), 1: follow */
	int mode;            /**< -1: normalised (0644/0755) */
	int dir_mode;        /**< -1: 0755 */
	long long uid;       /**< -1: 0 */
	long long gid;       /**< -1: 0 */
} ims_image_file;

#define IMS_IMAGE_FILE_INIT                                              \
	{                                                                \
		NULL, NULL, NULL, 0, NULL, 0, NULL, 0, 0, -1, -1, -1, -1 \
	}

/** The kind of an ims_image_custom_file (the seed's CustomFile). */
typedef enum {
	IMS_CUSTOM_FILE,
	IMS_CUSTOM_DIR,
	IMS_CUSTOM_SYMLINK,
} ims_custom_kind;

typedef struct {
	ims_custom_kind kind;
	const char *dest; /**< absolute path in the image */
	const void *data; /**< IMS_CUSTOM_FILE: the content */
	size_t size;
	const char *link_path; /**< IMS_CUSTOM_SYMLINK: the target */
	int mode;              /**< -1: 0644 files, 0755 dirs */
	long long uid, gid;    /**< -1: 0 */
	long long mtime;       /**< -1: the image's created time */
} ims_image_custom_file;

#define IMS_IMAGE_CUSTOM_FILE_INIT                                   \
	{                                                            \
		IMS_CUSTOM_FILE, NULL, NULL, 0, NULL, -1, -1, -1, -1 \
	}

/** Credentials for the registries a key covers ("host" or "host/namespace"; the longest key wins). */
typedef struct {
	const char *registry; /**< e.g. "ghcr.io", "127.0.0.1:5000/team" */
	const char *username;
	const char *password; /**< or a token given as a password */
	const char *token;    /**< a registry (Bearer) token instead of username/password */
} ims_credential;

#define IMS_IMAGE_OPTIONS_VERSION 1

typedef struct {
	int version;                /**< IMS_IMAGE_OPTIONS_VERSION */
	const ims_credential *auth; /**< the seed's `{auth}`: used before every other source */
	size_t nauth;
	const char *base_dir; /**< where relative base and `src` paths resolve (NULL: the current directory) */
} ims_image_options;

#define IMS_IMAGE_OPTIONS_INIT                           \
	{                                                \
		IMS_IMAGE_OPTIONS_VERSION, NULL, 0, NULL \
	}

/**
 * Opens a base: "scratch", a registry reference ("busybox",
 * "ghcr.io/acme/app:1"), "oci:DIR:TAG", "oci-archive:FILE" or
 * "docker-archive:FILE". Relative paths resolve against opts->base_dir or
 * the current directory, as do local `src` paths added later. opts may be NULL.
 */
IMS_EXTERN(int)
ims_image_open(ims_image **out, ims_context *ctx, const char *base, const ims_image_options *opts, ims_error **err);
/** ims_image_open() without options. */
IMS_EXTERN(int) ims_image_new(ims_image **out, ims_context *ctx, const char *base, ims_error **err);
IMS_EXTERN(void) ims_image_free(ims_image *img);

/** Adds one layer made of these mappings (one call, one layer, as in the seed). */
IMS_EXTERN(int) ims_image_add_files(ims_image *img, const ims_image_file *files, size_t n, ims_error **err);
/** Adds one layer made of in-memory files, directories and symlinks. */
IMS_EXTERN(int)
ims_image_add_custom_files(ims_image *img, const ims_image_custom_file *files, size_t n, ims_error **err);
/** Adds an existing layer by reference (the seed's addLayer). media_type NULL: follows the format. */
IMS_EXTERN(int)
ims_image_add_layer(ims_image *img, const char *digest, const char *diff_id, long long size, const char *media_type,
		    const char *const *urls, size_t nurls, ims_error **err);
/** Drops a base layer by digest (the seed's removeLayer). */
IMS_EXTERN(int) ims_image_remove_layer(ims_image *img, const char *digest, ims_error **err);

IMS_EXTERN(int) ims_image_set_cmd(ims_image *img, const char *const *argv, size_t argc, ims_error **err);
IMS_EXTERN(int) ims_image_set_entrypoint(ims_image *img, const char *const *argv, size_t argc, ims_error **err);
/** Sets (or with value NULL removes) one environment variable; `${base:NAME}` works in value. */
IMS_EXTERN(int) ims_image_set_env(ims_image *img, const char *name, const char *value, ims_error **err);
IMS_EXTERN(int) ims_image_set_working_dir(ims_image *img, const char *dir, ims_error **err);
IMS_EXTERN(int) ims_image_set_user(ims_image *img, const char *user, ims_error **err);
/** Sets (or with value NULL removes) a label of the config. */
IMS_EXTERN(int) ims_image_set_label(ims_image *img, const char *key, const char *value, ims_error **err);
/** Sets (or with value NULL leaves out) an annotation of the manifests and the index. */
IMS_EXTERN(int) ims_image_set_annotation(ims_image *img, const char *key, const char *value, ims_error **err);
/** Adds an exposed port ("8080", "8080/tcp", "53/udp"). */
IMS_EXTERN(int) ims_image_add_port(ims_image *img, const char *port, ims_error **err);
/** Adds a volume (an absolute path). */
IMS_EXTERN(int) ims_image_add_volume(ims_image *img, const char *path, ims_error **err);
/** The platforms to build ("os/arch[/variant]", or "all" of the base's); none: the host's. */
IMS_EXTERN(int) ims_image_set_platforms(ims_image *img, const char *const *platforms, size_t n, ims_error **err);
/** Sets the creation time (seconds since the epoch; the default is SOURCE_DATE_EPOCH or 0). */
IMS_EXTERN(int) ims_image_set_created(ims_image *img, long long epoch, ims_error **err);

/**
 * The image config as JSON, as it would be saved for the host's platform:
 * the base's config with the edits made so far (without the new layers'
 * diff_ids, which exist only once they are built). Caller frees.
 */
IMS_EXTERN(int) ims_image_get_config(ims_image *img, char **json, ims_error **err);
/** Replaces the base config (the edits made through this API still apply on top). */
IMS_EXTERN(int) ims_image_set_config(ims_image *img, const char *json, ims_error **err);

#define IMS_SAVE_OPTIONS_VERSION 1

typedef struct {
	int version;             /**< IMS_SAVE_OPTIONS_VERSION */
	const char *const *tags; /**< more names for the image */
	size_t ntags;
	int copy_remote_layers; /**< the seed's copyRemoteLayers: 1 (default) copies foreign layers into the target, 0 leaves them where their urls say */
	int ignore_exists;      /**< the seed's ignoreExists: 1 uploads even the blobs the target has */
	int dry_run;            /**< compute everything, write nothing */
} ims_save_options;

#define IMS_SAVE_OPTIONS_INIT                              \
	{                                                  \
		IMS_SAVE_OPTIONS_VERSION, NULL, 0, 1, 0, 0 \
	}

/** Builds and writes the image to target (plus tags). */
IMS_EXTERN(int)
ims_image_save(ims_image *img, const char *target, const char *const *tags, size_t ntags, ims_build_result **result,
	       ims_error **err);
/** Builds and writes the image to target with options; opts may be NULL. */
IMS_EXTERN(int)
ims_image_save_with(ims_image *img, const char *target, const ims_save_options *opts, ims_build_result **result,
		    ims_error **err);

IMS_END_DECL

#endif
