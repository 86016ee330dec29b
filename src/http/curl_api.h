/* libcurl as the HTTP room calls it: <curl/curl.h>, with every function
 * the room uses bound to a wrapper in curl_lib.c (an asm label renames the
 * symbol a call refers to, not the call), so that libcurl is loaded when
 * the room first needs it (util/lazylib.h says why), not at program start.
 * Calls, types and libcurl's own type checks of setopt stay as they are.
 * A function not listed here would link to nothing: the library is not
 * linked, so the build fails, and it goes in the list. */
#ifndef IMS_HTTP_CURL_API_H
#define IMS_HTTP_CURL_API_H

#include <time.h>

#include <curl/curl.h>

#include "imagespec/error.h"

/* X(return type, name, parameters, arguments), or XV(name, parameters,
 * arguments) for those that return nothing: the functions with a fixed
 * list of parameters. curl_easy_setopt, curl_easy_getinfo and
 * curl_share_setopt take one argument more, whose type their option gives;
 * curl_lib.c passes it on by hand. */
#define IMS_CURL_FUNCS(X, XV)                                                                         \
	X(CURL *, curl_easy_init, (void), ())                                                         \
	X(CURLcode, curl_easy_perform, (CURL * e), (e))                                               \
	XV(curl_easy_reset, (CURL * e), (e))                                                          \
	XV(curl_easy_cleanup, (CURL * e), (e))                                                        \
	X(const char *, curl_easy_strerror, (CURLcode c), (c))                                        \
	X(CURLSH *, curl_share_init, (void), ())                                                      \
	X(CURLSHcode, curl_share_cleanup, (CURLSH * s), (s))                                          \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s))     \
	XV(curl_slist_free_all, (struct curl_slist * l), (l))                                         \
	X(CURLU *, curl_url, (void), ())                                                              \
	XV(curl_url_cleanup, (CURLU * u), (u))                                                        \
	X(CURLUcode, curl_url_get, (CURLU * u, CURLUPart what, char **part, unsigned int flags),      \
	  (u, what, part, flags))                                                                     \
	X(CURLUcode, curl_url_set, (CURLU * u, CURLUPart what, const char *part, unsigned int flags), \
	  (u, what, part, flags))                                                                     \
	XV(curl_free, (void *p), (p))                                                                 \
	X(time_t, curl_getdate, (const char *p, const time_t *unused), (p, unused))                   \
	X(curl_version_info_data *, curl_version_info, (CURLversion v), (v))

#define IMS_CURL_RENAME(ret, name, params, args) extern ret(name) params __asm__("ims_" #name);
#define IMS_CURL_RENAME_VOID(name, params, args) IMS_CURL_RENAME(void, name, params, args)
IMS_CURL_FUNCS(IMS_CURL_RENAME, IMS_CURL_RENAME_VOID)
#undef IMS_CURL_RENAME_VOID
#undef IMS_CURL_RENAME
extern CURLcode(curl_easy_setopt)(CURL *e, CURLoption option, ...) __asm__("ims_curl_easy_setopt");
extern CURLcode(curl_easy_getinfo)(CURL *e, CURLINFO info, ...) __asm__("ims_curl_easy_getinfo");
extern CURLSHcode(curl_share_setopt)(CURLSH *s, CURLSHoption option, ...) __asm__("ims_curl_share_setopt");

/* Loads libcurl and runs curl_global_init, once: the room's entry points
 * (a client, a URL) call it first. */
int ims_http__need_curl(ims_error **err);

#endif
