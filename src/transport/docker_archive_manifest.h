/* The manifest.json of a `docker save` archive: a pure parser (fuzzed by
 * tests/fuzz/fuzz_docker_archive.c) and docker's name normalisation.
 * Internal to the transport room. */
#ifndef IMS_TRANSPORT_DOCKER_ARCHIVE_MANIFEST_H
#define IMS_TRANSPORT_DOCKER_ARCHIVE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"

#define IMS_DOCKER_ARCHIVE_MANIFEST_MAX (4u << 20)
#define IMS_DOCKER_ARCHIVE_MAX_IMAGES 1024
#define IMS_DOCKER_ARCHIVE_MAX_TAGS 1024

typedef struct {
	char *config;     /* path of the config file in the archive */
	char **repo_tags; /* as written ("busybox:1"); may be empty */
	size_t ntags;
	char **layers; /* paths of the layer files, base first */
	size_t nlayers;
} ims_docker_archive_image;

typedef struct {
	ims_docker_archive_image *images;
	size_t nimages;
} ims_docker_archive_manifest;

/* Parses manifest.json: an array of {Config, RepoTags, Layers}; other keys
 * (Parent, LayerSources) are ignored. Paths must be relative and must not
 * climb with `..`. Errors are IMS_EGENERIC. */
int ims_docker_archive_manifest_parse(ims_docker_archive_manifest **out, const char *data, size_t len,
				      ims_error **err);
void ims_docker_archive_manifest_free(ims_docker_archive_manifest *m);

/* True for a path an archive may name: relative, no `..` component. */
bool ims_docker_archive_path_valid(const char *p);

/* "busybox:1" → "docker.io/library/busybox:1" (for comparing names), or
 * NULL when s is not a repo:tag reference. */
char *ims_docker_archive_long_name(const char *s);
/* Docker's short form, as `docker save` writes RepoTags:
 * "docker.io/library/x:1" → "x:1", "docker.io/acme/app:1" → "acme/app:1",
 * "ghcr.io/acme/app" → "ghcr.io/acme/app:latest". NULL when invalid. */
char *ims_docker_archive_short_name(const char *s);

#endif
