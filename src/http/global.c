#include <curl/curl.h>

#include "http/http.h"
#include "imagespec/error.h"

int ims_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : IMS_EGENERIC;
}

void ims_http_global_cleanup(void)
{
	curl_global_cleanup();
}
