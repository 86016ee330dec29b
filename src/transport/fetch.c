/* Downloading a `url:` archive layer: GET with redirects (the http room
 * drops credentials across origins; none are sent here anyway) into a file. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "transport/fetch.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static int fd_write(void *ud, const void *p, size_t n, ims_error **err)
{
	int fd = *(int *)ud;
	if (ims_write_all(fd, p, n) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "write the download");
	return 0;
}

int ims_transport_fetch_url(ims_http *http, const char *url, int fd, ims_error **err)
{
	ims_sink sink = { fd_write, &fd };
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = url;
	req.sink = &sink;
	req.follow_redirects = true;
	ims_http_response resp = { 0 };
	_cleanup_free_ char *shown = ims_http_redact_url(url);
	int r = ims_http_do(http, &req, &resp, err);
	if (r < 0) {
		ims_http_response_dispose(&resp);
		return ims_error_wrap(err, "download `%s`", shown);
	}
	if (resp.status < 200 || resp.status > 299) {
		long st = resp.status;
		ims_http_response_dispose(&resp);
		r = ims_error_set(err, st == 404 ? IMS_ENOTFOUND : IMS_ENET, "download `%s`: HTTP %ld", shown, st);
		if (err && *err)
			(*err)->http_status = st;
		return r;
	}
	ims_http_response_dispose(&resp);
	return 0;
}
