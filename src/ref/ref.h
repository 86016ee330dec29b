/* Image references (SPEC-v1.md "References"): the registry grammar of
 * docker, plus scratch, oci:, oci-archive: and docker-archive:. */
#ifndef IMS_REF_H
#define IMS_REF_H

#include <stdbool.h>

#include "imagespec/error.h"

typedef enum {
	IMS_REF_REGISTRY,
	IMS_REF_SCRATCH,
	IMS_REF_OCI,
	IMS_REF_OCI_ARCHIVE,
	IMS_REF_DOCKER_ARCHIVE,
} ims_ref_kind;

typedef struct {
	ims_ref_kind kind;
	/* IMS_REF_REGISTRY */
	char *registry;   /* host[:port]; "docker.io" for Docker Hub */
	char *repository; /* path, e.g. "library/busybox" */
	char *tag;        /* NULL when only a digest was given */
	char *digest;     /* NULL unless pinned */
	bool short_name;  /* written without a registry host (docker.io by default) */
	/* IMS_REF_OCI, IMS_REF_OCI_ARCHIVE, IMS_REF_DOCKER_ARCHIVE */
	char *path; /* as written */
	char *name; /* oci: tag / ref.name; docker-archive: "repo:tag"; NULL if absent */
} ims_ref;

/* Parses s. Registry references get docker's defaults (docker.io, library/,
 * latest unless a digest is given). */
int ims_ref_parse(ims_ref **out, const char *s, ims_error **err);
void ims_ref_free(ims_ref *r);
ims_ref *ims_ref_dup(const ims_ref *r);
/* The canonical form: "host/repo:tag", "host/repo@digest", "oci:DIR:TAG"... */
char *ims_ref_string(const ims_ref *r);
/* "host/repo" for registry refs. */
char *ims_ref_repo_string(const ims_ref *r);
/* True when s is a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}). */
bool ims_ref_tag_valid(const char *s);
/* True for 127.0.0.0/8, localhost and ::1 (with or without a port). */
bool ims_ref_host_is_loopback(const char *host);

#endif
