/* libcurl, loaded when the room first needs it (util/lazylib.h): its table
 * of functions, the wrappers that curl_api.h binds the room's calls to,
 * and the global set-up that ims_init used to run at start. */
#include <dlfcn.h>
#include <stdarg.h>

#include "http/curl_api.h"
#include "http/http.h"
#include "util/lazylib.h"

/* The ABI the room is built against: libcurl.so.4 since 2006. */
#define CURL_SONAME "libcurl.so.4"

static struct {
#define MEMBER(ret, name, params, args) __typeof__(name) *name;
#define MEMBER_VOID(name, params, args) MEMBER(void, name, params, args)
	IMS_CURL_FUNCS(MEMBER, MEMBER_VOID)
#undef MEMBER_VOID
#undef MEMBER
	__typeof__((curl_easy_setopt)) *easy_setopt;
	__typeof__((curl_easy_getinfo)) *easy_getinfo;
	__typeof__((curl_share_setopt)) *share_setopt;
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_global_cleanup) *global_cleanup;
} fn;

#define BIND_AS(member, sym)                                             \
	do {                                                             \
		if (!(fn.member = (__typeof__(fn.member))dlsym(h, sym))) \
			return sym;                                      \
	} while (0)

static const char *bind_curl(void *h)
{
#define BIND(ret, name, params, args) BIND_AS(name, #name);
#define BIND_VOID(name, params, args) BIND(void, name, params, args)
	IMS_CURL_FUNCS(BIND, BIND_VOID)
#undef BIND_VOID
#undef BIND
	BIND_AS(easy_setopt, "curl_easy_setopt");
	BIND_AS(easy_getinfo, "curl_easy_getinfo");
	BIND_AS(share_setopt, "curl_share_setopt");
	BIND_AS(global_init, "curl_global_init");
	BIND_AS(global_cleanup, "curl_global_cleanup");
	return NULL;
}

static const char *setup(void)
{
	return fn.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? NULL : "curl_global_init failed";
}

static ims_lazylib curl = IMS_LAZYLIB_INIT(CURL_SONAME, "libcurl4", bind_curl, setup);

int ims_http__need_curl(ims_error **err)
{
	return ims_lazylib_need(&curl, err);
}

/* Nothing to set up at start: ims_http__need_curl does it on first need. */
int ims_http_global_init(void)
{
	return 0;
}

void ims_http_global_cleanup(void)
{
	if (ims_lazylib_ready(&curl))
		fn.global_cleanup();
}

#define WRAP(ret, name, params, args)    \
	ret(name) params                 \
	{                                \
		ims_lazylib_must(&curl); \
		return fn.name args;     \
	}
#define WRAP_VOID(name, params, args)    \
	void(name) params                \
	{                                \
		ims_lazylib_must(&curl); \
		fn.name args;            \
	}
IMS_CURL_FUNCS(WRAP, WRAP_VOID)
#undef WRAP_VOID
#undef WRAP

/* The argument after the option, read as libcurl reads it (lib/setopt.c):
 * a long below CURLOPTTYPE_OBJECTPOINT, a curl_off_t from
 * CURLOPTTYPE_OFF_T to CURLOPTTYPE_BLOB, a pointer (data, string, list,
 * callback or blob) otherwise. */
CURLcode(curl_easy_setopt)(CURL *e, CURLoption option, ...)
{
	ims_lazylib_must(&curl);
	va_list ap;
	va_start(ap, option);
	CURLcode r;
	if (option < CURLOPTTYPE_OBJECTPOINT)
		r = fn.easy_setopt(e, option, va_arg(ap, long));
	else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
		r = fn.easy_setopt(e, option, va_arg(ap, curl_off_t));
	else
		r = fn.easy_setopt(e, option, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *e, CURLINFO info, ...)
{
	ims_lazylib_must(&curl);
	va_list ap;
	va_start(ap, info);
	CURLcode r = fn.easy_getinfo(e, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* CURLSHOPT_SHARE and _UNSHARE take a curl_lock_data, passed as an int;
 * the others a callback or the user data, pointers. */
CURLSHcode(curl_share_setopt)(CURLSH *s, CURLSHoption option, ...)
{
	ims_lazylib_must(&curl);
	va_list ap;
	va_start(ap, option);
	CURLSHcode r;
	if (option == CURLSHOPT_SHARE || option == CURLSHOPT_UNSHARE)
		r = fn.share_setopt(s, option, va_arg(ap, int));
	else
		r = fn.share_setopt(s, option, va_arg(ap, void *));
	va_end(ap);
	return r;
}
