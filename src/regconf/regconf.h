/* containers-registries.conf(5), version 2 (version 1 read too): which
 * files, their merge, and what they say about a reference: where it is
 * pulled from (mirrors, then the primary location), whether it is
 * blocked, and which hosts may use plain HTTP. */
#ifndef IMS_REGCONF_H
#define IMS_REGCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/error.h"
#include "ref/ref.h"
#include "util/event.h"

/* A registries.conf file, and each drop-in, is capped at this size. */
#define IMS_REGCONF_MAX_FILE (1024 * 1024)

typedef enum {
	IMS_REGCONF_PULL_ALL = 0,
	IMS_REGCONF_PULL_DIGEST_ONLY,
	IMS_REGCONF_PULL_TAG_ONLY,
} ims_regconf_pull;

typedef struct {
	char *location; /* host[:port][/namespace...] */
	bool insecure;
	ims_regconf_pull pull;
} ims_regconf_mirror;

typedef struct {
	char *prefix;   /* host[:port][/path], or *.domain */
	char *location; /* "" only for a *.domain prefix: the reference as it is */
	bool insecure, blocked, mirror_by_digest_only;
	ims_regconf_mirror *mirrors;
	size_t nmirrors;
	char *at; /* "FILE:LINE:COL" of its table, for messages */
} ims_regconf_registry;

typedef struct ims_regconf_s {
	ims_regconf_registry *regs;
	size_t nregs;
	char **search; /* unqualified-search-registries (read; see docs/choices.md) */
	size_t nsearch;
	char *search_at; /* "FILE:LINE:COL" of that list, or NULL */
	char **files; /* the files read, in order */
	size_t nfiles;
} ims_regconf;

/* Reads one file's text into c, merged as drop-ins are: a [[registry]]
 * with the prefix of an earlier one replaces it, the others are added, and
 * unqualified-search-registries replaces the earlier list when set.
 * Unknown keys are warnings (containers/image warns too). Errors are
 * IMS_EINVALID at FILE:LINE:COL. */
int ims_regconf_parse(ims_regconf *c, const char *file, const char *data, size_t len, const ims_events *ev,
		      ims_error **err);
/* The files of containers-registries.conf(5) and .d(5):
 * $IMAGESPEC_REGISTRIES_CONF alone when set (it must exist); else
 * $CONTAINERS_REGISTRIES_CONF, or ~/.config/containers/registries.conf when
 * it exists, or /etc/containers/registries.conf (a missing one is no
 * configuration); then the *.conf files of /etc/containers/registries.conf.d
 * (unless the user's file was chosen) and of
 * ~/.config/containers/registries.conf.d, each directory in lexical order. */
int ims_regconf_load(ims_regconf **out, const ims_events *ev, ims_error **err);
ims_regconf *ims_regconf_new(void);
void ims_regconf_free(ims_regconf *c);

/* A warning for a short name (`busybox`) when the configuration's
 * unqualified-search-registries would have looked elsewhere than docker.io
 * first: SPEC-v1 keeps docker.io. NULL when there is nothing to say;
 * caller frees. */
char *ims_regconf_short_name_warning(const ims_regconf *c, const ims_ref *ref);

/* The [[registry]] whose prefix is the longest match for the registry
 * reference, or NULL. */
const ims_regconf_registry *ims_regconf_find(const ims_regconf *c, const ims_ref *ref);
/* Refuses (IMS_EGENERIC, exit 1) a reference whose [[registry]] is
 * blocked; what is "pull" or "push" for the message. */
int ims_regconf_check_blocked(const ims_regconf *c, const ims_ref *ref, const char *what, ims_error **err);

/* Where a pull of ref goes, in order: the mirrors that apply, then the
 * primary (the location rewrite, or ref itself). *out (n references, each
 * with is_mirror[i]) is freed with ims_regconf_sources_free. */
typedef struct {
	ims_ref **refs;
	bool *is_mirror;
	size_t n;
} ims_regconf_sources;
int ims_regconf_pull_sources(const ims_regconf *c, const ims_ref *ref, ims_regconf_sources *out, ims_error **err);
void ims_regconf_sources_dispose(ims_regconf_sources *s);

/* Adds to *hosts (n, NULL-terminated, ims_strv_free) the host[:port] of
 * every location and mirror named insecure, and each of refs' registries
 * that an insecure *.domain entry covers; no host twice. */
void ims_regconf_insecure_hosts(const ims_regconf *c, const ims_ref *const *refs, size_t nrefs, char ***hosts,
				size_t *n);

#endif
