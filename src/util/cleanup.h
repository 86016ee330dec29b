/* Scope-based cleanup, as in systemd and crun. Internal only. */
#ifndef IMS_UTIL_CLEANUP_H
#define IMS_UTIL_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void ims_freep(void *p)
{
	free(*(void **)p);
}
static inline void ims_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void ims_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(ims_freep)
#define _cleanup_close_ _cleanup_(ims_closep)
#define _cleanup_fclose_ _cleanup_(ims_fclosep)

/* Returns *pp and sets it to NULL: ownership moves to the caller. */
#define steal_pointer(pp)                   \
	({                                  \
		__typeof__(*(pp)) _p = *(pp); \
		*(pp) = NULL;               \
		_p;                         \
	})

#define steal_fd(fdp)              \
	({                         \
		int _fd = *(fdp);  \
		*(fdp) = -1;       \
		_fd;               \
	})

#define IMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
