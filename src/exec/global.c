/* The library's only global state: libcurl's, set up through the http room
 * when it first makes a client (http/curl_lib.c). */
#include "exec/exec.h"
#include "http/http.h"

int ims_exec_global_init(void)
{
	return ims_http_global_init();
}

void ims_exec_global_cleanup(void)
{
	ims_http_global_cleanup();
}
