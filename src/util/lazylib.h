/* A shared library loaded when it is first needed (dlopen), not when the
 * program starts. libcurl and libarchive bring some forty libraries with
 * them (GnuTLS, Kerberos, LDAP, ICU, ...), whose loading and relocation
 * took 19 ms of every run, 3 of every 4 ms of a `validate` and a quarter
 * of a push with nothing to upload (docs/choices.md, "Packaging").
 *
 * The room that owns the library (http/ for libcurl, layer/ for
 * libarchive) keeps its table of functions and its wrappers; this file
 * only loads, once, under a lock, on whichever thread asks first. A
 * library that cannot be loaded is an error of the call that needed it,
 * with the package to install. It is never unloaded. */
#ifndef IMS_UTIL_LAZYLIB_H
#define IMS_UTIL_LAZYLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "imagespec/error.h"

typedef struct ims_lazylib {
	const char *soname;  /* "libcurl.so.4": the ABI the room was built against */
	const char *package; /* the Debian package that holds it, for the hint */
	/* Fills the room's table from handle: the name of the first symbol
	 * that is missing, or NULL. */
	const char *(*bind)(void *handle);
	/* Then the library's own set-up (curl_global_init); NULL when there
	 * is none. A message when it fails, else NULL. */
	const char *(*setup)(void);

	/* state */
	pthread_mutex_t lock;
	atomic_int state; /* 0 not tried, 1 ready, -1 failed */
	char why[512];    /* when failed */
} ims_lazylib;

#define IMS_LAZYLIB_INIT(soname_, package_, bind_, setup_)                                      \
	{                                                                                       \
		.soname = (soname_), .package = (package_), .bind = (bind_), .setup = (setup_), \
		.lock = PTHREAD_MUTEX_INITIALIZER                                               \
	}

/* Loads l if it is not yet (waiting for a load another thread runs). 0,
 * or an error naming the library and the package to install. */
int ims_lazylib_need(ims_lazylib *l, ims_error **err);

/* Whether l is loaded, without loading it. */
bool ims_lazylib_ready(ims_lazylib *l);

/* For the room's wrappers, which run after an ims_lazylib_need of the
 * room's entry point: loads l when nothing did (a missed entry point),
 * and ends the process with the reason when it cannot be loaded, as the
 * dynamic loader would have before main. */
void ims_lazylib_must(ims_lazylib *l);

#endif
