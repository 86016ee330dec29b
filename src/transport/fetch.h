/* Fetching a URL into a file (for `url:` layers). */
#ifndef IMS_TRANSPORT_FETCH_H
#define IMS_TRANSPORT_FETCH_H

#include "http/http.h"

/* Writes the body of a 2xx GET of url to fd. Callers verify the content. */
int ims_transport_fetch_url(ims_http *http, const char *url, int fd, ims_error **err);

#endif
