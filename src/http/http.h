/* The HTTP room: the only user of <curl/curl.h>. The registry client of the
 * next issue lives here; for now it only owns libcurl's global state. */
#ifndef IMS_HTTP_H
#define IMS_HTTP_H

int ims_http_global_init(void);
void ims_http_global_cleanup(void);

#endif
