/* A plan owns the small strings and arrays it makes (absolute paths,
 * "FILE:LINE:COL: " prefixes, argv vectors) in one list, freed with it, so
 * the plan's structs can hold plain pointers. */
#include <stdarg.h>
#include <stdlib.h>

#include "plan/plan.h"
#include "util/xalloc.h"

void *ims_plan_own(ims_plan *p, void *ptr)
{
	p->owned = xrealloc(p->owned, (p->nowned + 1) * sizeof(*p->owned));
	p->owned[p->nowned++] = ptr;
	return ptr;
}

char *ims_plan_strdup(ims_plan *p, const char *s)
{
	return s ? ims_plan_own(p, xstrdup(s)) : NULL;
}

char *ims_plan_printf(ims_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return ims_plan_own(p, s);
}
