/* The layer steps of one platform (${platform.*} filled); internal to exec/. */
#ifndef IMS_EXEC_PLATFORM_STEPS_H
#define IMS_EXEC_PLATFORM_STEPS_H

#include "plan/plan.h"

typedef struct ims_platform_steps_s {
	ims_step *v; /* the plan's steps, per-platform ones filled (shallow copies otherwise) */
	size_t n;
	const ims_platform *platform;
	const char *shown; /* "os/arch[/variant]" for messages */
	void **owned;
	size_t nowned;
} ims_platform_steps;

/* Whether some step of p names ${platform.*}. */
bool ims_exec_per_platform(const ims_plan *p);
/* Fills p's per-platform steps for pl and checks their paths: inside the
 * spec's directory (IMS_EINVALID) and there (IMS_ENOTFOUND), each message
 * naming the platform. Nothing to dispose on failure. */
int ims_exec_platform_steps(ims_platform_steps *ps, const ims_plan *p, const ims_platform *pl, ims_error **err);
void ims_exec_platform_steps_dispose(ims_platform_steps *ps);

#endif
