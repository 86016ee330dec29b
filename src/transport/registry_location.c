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
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

typedef enum { ADDR_NAME, ADDR_PUBLIC, ADDR_PRIVATE, ADDR_LOOPBACK, ADDR_LINK_LOCAL } addr_class;

/* Splits "scheme://host:port" (an origin) into its host (no brackets). */
static char *origin_host(const char *origin)
{
	const char *p = strstr(origin, "://");
	if (!p)
		return NULL;
	p += 3;
	if (*p == '[') {
		const char *rb = strchr(p, ']');
		return rb ? xstrndup(p + 1, (size_t)(rb - p - 1)) : NULL;
	}
	return xstrndup(p, strcspn(p, ":/"));
}

static addr_class classify(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcmp(host, "localhost"))
		return ADDR_LOOPBACK;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		uint32_t a = ntohl(a4.s_addr);
		if ((a >> 24) == 127)
			return ADDR_LOOPBACK;
		if ((a >> 16) == 0xa9fe || a == 0)
			return ADDR_LINK_LOCAL;
		if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 || (a >> 22) == 0x191)
			return ADDR_PRIVATE; /* 10/8, 172.16/12, 192.168/16, 100.64/10 */
		return ADDR_PUBLIC;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			char v4[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof(v4));
			return classify(v4);
		}
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return ADDR_LOOPBACK;
		if (IN6_IS_ADDR_LINKLOCAL(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6))
			return ADDR_LINK_LOCAL;
		if ((a6.s6_addr[0] & 0xfe) == 0xfc)
			return ADDR_PRIVATE; /* fc00::/7 */
		return ADDR_PUBLIC;
	}
	return ADDR_NAME;
}

static int check(ims_registry *r, const ims_registry_call *c, const char *url, ims_error **err)
{
	_cleanup_free_ char *origin = ims_http_origin(url);
	_cleanup_free_ char *host = origin ? origin_host(origin) : NULL;
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
	addr_class cls = classify(host);
	_cleanup_free_ char *reg_host = origin_host(r->origin);
	addr_class reg = reg_host ? classify(reg_host) : ADDR_NAME;
	bool refused = cls == ADDR_LINK_LOCAL || (cls == ADDR_LOOPBACK && reg != ADDR_LOOPBACK) ||
		       (cls == ADDR_PRIVATE && reg != ADDR_LOOPBACK && reg != ADDR_PRIVATE);
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
