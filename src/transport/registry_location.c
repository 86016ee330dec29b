/* Upload Locations. The registry chooses where the bytes of an upload go,
 * and a hostile or confused one could send them (and, on the same origin,
 * the credentials) somewhere they should not go. So a Location is resolved
 * against the URL that sent it and refused when it
 *  - is not http(s), or downgrades to http for a host that is neither
 *    loopback nor named insecure;
 *  - names a link-local or unspecified address (cloud metadata services
 *    live at 169.254.169.254);
 *  - moves to another host that is a loopback or private address, unless
 *    the registry itself is one (ggcr #2295, #2302).
 * A Location on another origin gets no Authorization (registry_client.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static int check(ims_registry *r, const ims_registry_call *c, const char *url, ims_error **err)
{
	_cleanup_free_ char *origin = ims_http_origin(url);
	_cleanup_free_ char *host = origin ? ims_http_origin_host(origin) : NULL;
	_cleanup_free_ char *shown = ims_http_redact_url(url);
	if (!host || !*host)
		return ims_error_set(err, IMS_EGENERIC, "%s: the registry sent an unusable upload location", c->what);
	if (strcmp(origin, r->origin) == 0)
		return 0;
	/* host[:port] as ims_http_host_insecure knows it */
	const char *hostport = strstr(origin, "://") + 3;
	if (strncmp(url, "http://", 7) == 0 && strncmp(r->origin, "https://", 8) == 0 &&
	    !ims_http_host_insecure(r->http, hostport) && !ims_ref_host_is_loopback(hostport))
		return ims_error_set(err, IMS_EGENERIC, "%s: the registry moved the upload from https to `%s`", c->what,
				     shown ? shown : "?");
	ims_http_addr cls = ims_http_host_class(host);
	_cleanup_free_ char *reg_host = ims_http_origin_host(r->origin);
	ims_http_addr reg = reg_host ? ims_http_host_class(reg_host) : IMS_ADDR_NAME;
	bool refused = cls == IMS_ADDR_LINK_LOCAL || (cls == IMS_ADDR_LOOPBACK && reg != IMS_ADDR_LOOPBACK) ||
		       (cls == IMS_ADDR_PRIVATE && reg != IMS_ADDR_LOOPBACK && reg != IMS_ADDR_PRIVATE);
	if (refused)
		return ims_error_set(err, IMS_EGENERIC, "%s: the registry sent the upload to a local address `%s`",
				     c->what, shown ? shown : "?");
	return 0;
}

int ims_registry__location(ims_registry *r, const ims_registry_call *c, const ims_http_response *resp, char **out,
			   ims_error **err)
{
	const char *loc = ims_http_header(resp, "location");
	if (!loc || !*loc)
		return ims_error_set(err, IMS_EGENERIC, "%s: the registry answered %ld without a Location", c->what,
				     resp->status);
	char *url = resp->url ? ims_http_resolve_url(resp->url, loc) : NULL;
	if (!url)
		return ims_error_set(err, IMS_EGENERIC, "%s: the registry sent an upload location that is not http(s)",
				     c->what);
	int rc = check(r, c, url, err);
	if (rc < 0) {
		free(url);
		return rc;
	}
	*out = url;
	return 0;
}

void ims_registry__cancel_upload(ims_registry *r, const ims_registry_call *c, const char *location)
{
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "DELETE";
	req.url = location;
	req.no_retry = true;
	ims_http_response resp = { 0 };
	ims_error *ignored = NULL;
	ims_registry__send(r, c, &req, &resp, &ignored);
	ims_error_free(ignored);
	ims_http_response_dispose(&resp);
}
