/* Easy handles kept between requests, so that connections are reused.
 *
 * libcurl does not support sharing its connection cache between threads
 * that run transfers at the same time (CURLSHOPT_SHARE(3)), but every easy
 * handle keeps its own live connections across curl_easy_reset(). So a
 * request borrows an idle handle, preferably one that last talked to the
 * same origin, and gives it back; a handle is only ever used by one thread
 * at a time. TLS sessions and DNS answers are shared through h->share. */
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "util/xalloc.h"

CURL *ims_http__handle_get(ims_http *h, const char *origin)
{
	CURL *e = NULL;
	pthread_mutex_lock(&h->pool_lock);
	if (h->nidle) {
		size_t pick = h->nidle - 1;
		for (size_t i = h->nidle; i-- > 0;) {
			if (origin && h->idle[i].origin && !strcmp(h->idle[i].origin, origin)) {
				pick = i;
				break;
			}
		}
		e = h->idle[pick].e;
		free(h->idle[pick].origin);
		memmove(&h->idle[pick], &h->idle[pick + 1], (h->nidle - pick - 1) * sizeof(h->idle[0]));
		h->nidle--;
	}
	pthread_mutex_unlock(&h->pool_lock);
	if (!e && !(e = curl_easy_init()))
		abort();
	return e;
}

void ims_http__handle_put(ims_http *h, CURL *e, const char *origin)
{
	/* Forget the options (they point into the finished request), keep
	 * the connections. */
	curl_easy_reset(e);
	CURL *evict = NULL;
	pthread_mutex_lock(&h->pool_lock);
	if (h->nidle == IMS_HTTP_POOL_MAX) {
		evict = h->idle[0].e;
		free(h->idle[0].origin);
		memmove(&h->idle[0], &h->idle[1], (h->nidle - 1) * sizeof(h->idle[0]));
		h->nidle--;
	}
	h->idle[h->nidle].e = e;
	h->idle[h->nidle].origin = origin ? xstrdup(origin) : NULL;
	h->nidle++;
	pthread_mutex_unlock(&h->pool_lock);
	if (evict)
		curl_easy_cleanup(evict);
}

void ims_http__pool_free(ims_http *h)
{
	for (size_t i = 0; i < h->nidle; i++) {
		curl_easy_cleanup(h->idle[i].e);
		free(h->idle[i].origin);
	}
	h->nidle = 0;
}
