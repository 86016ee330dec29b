/* libarchive, loaded when the room first needs it (util/lazylib.h): its
 * table of functions and the wrappers archive_api.h binds the room's calls
 * to. */
#include <dlfcn.h>

#include "layer/archive_api.h"
#include "util/lazylib.h"

/* The ABI the room is built against: libarchive.so.13 since 3.0 (2011). */
#define ARCHIVE_SONAME "libarchive.so.13"

static struct {
#define MEMBER(ret, name, params, args) __typeof__(name) *name;
#define MEMBER_VOID(name, params, args) MEMBER(void, name, params, args)
	IMS_ARCHIVE_FUNCS(MEMBER, MEMBER_VOID)
#undef MEMBER_VOID
#undef MEMBER
} fn;

static const char *bind_archive(void *h)
{
#define BIND(ret, name, params, args)                          \
	if (!(fn.name = (__typeof__(fn.name))dlsym(h, #name))) \
		return #name;
#define BIND_VOID(name, params, args) BIND(void, name, params, args)
	IMS_ARCHIVE_FUNCS(BIND, BIND_VOID)
#undef BIND_VOID
#undef BIND
	return NULL;
}

static ims_lazylib archive = IMS_LAZYLIB_INIT(ARCHIVE_SONAME, "libarchive13", bind_archive, NULL);

int ims_layer__need_archive(ims_error **err)
{
	return ims_lazylib_need(&archive, err);
}

#define WRAP(ret, name, params, args)       \
	ret(name) params                    \
	{                                   \
		ims_lazylib_must(&archive); \
		return fn.name args;        \
	}
#define WRAP_VOID(name, params, args)       \
	void(name) params                   \
	{                                   \
		ims_lazylib_must(&archive); \
		fn.name args;               \
	}
IMS_ARCHIVE_FUNCS(WRAP, WRAP_VOID)
#undef WRAP_VOID
#undef WRAP
