#include "util/lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/error.h"

/* Under l->lock. RTLD_LOCAL: the library's symbols stay out of the global
 * scope, where they could bind the symbols of a library loaded later. */
static void load(ims_lazylib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(l->why, sizeof(l->why), "%s", e ? e : "dlopen failed");
		atomic_store_explicit(&l->state, -1, memory_order_release);
		return;
	}
	const char *missing = l->bind(h);
	const char *failed = missing ? NULL : l->setup ? l->setup() : NULL;
	if (missing || failed) {
		/* The handle stays open: what setup began is not undone. */
		if (missing)
			snprintf(l->why, sizeof(l->why), "%s has no symbol `%s` (an older version?)", l->soname,
				 missing);
		else
			snprintf(l->why, sizeof(l->why), "%s: %s", l->soname, failed);
		atomic_store_explicit(&l->state, -1, memory_order_release);
		return;
	}
	atomic_store_explicit(&l->state, 1, memory_order_release);
}

int ims_lazylib_need(ims_lazylib *l, ims_error **err)
{
	int s = atomic_load_explicit(&l->state, memory_order_acquire);
	if (s == 0) {
		pthread_mutex_lock(&l->lock);
		if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0)
			load(l);
		pthread_mutex_unlock(&l->lock);
		s = atomic_load_explicit(&l->state, memory_order_acquire);
	}
	if (s > 0)
		return 0;
	ims_error_set(err, IMS_EGENERIC, "cannot load %s: %s", l->soname, l->why);
	ims_error_hint(err, "imagespec needs the %s package: apt-get install %s", l->package, l->package);
	return IMS_EGENERIC;
}

bool ims_lazylib_ready(ims_lazylib *l)
{
	return atomic_load_explicit(&l->state, memory_order_acquire) > 0;
}

void ims_lazylib_must(ims_lazylib *l)
{
	if (atomic_load_explicit(&l->state, memory_order_acquire) > 0)
		return;
	ims_error *e = NULL;
	if (ims_lazylib_need(l, &e) == 0)
		return;
	fprintf(stderr, "imagespec: %s (%s)\n", e->message, e->hint);
	abort();
}
