/* Which token realms we talk to.
 *
 * The realm comes from the registry's 401, so a hostile or compromised
 * registry picks where our credentials go and what our client requests
 * (SSRF: a cloud metadata service, a router's admin page). The rules, in
 * order (ggcr validateRealmURL, #2243, #2285, #2302; CVE-2014-5277):
 *
 *   1. The realm is an http:// or https:// URL with a host and no userinfo.
 *   2. An http realm for an https registry is refused unless the registry
 *      may use plain HTTP itself (loopback, or named insecure): no silent
 *      downgrade.
 *   3. A realm on a link-local address (169.254.0.0/16, fe80::/10, also
 *      IPv4-mapped) is always refused: that is where metadata services live.
 *   4. A realm on the registry's own host and port is allowed (#2302: test
 *      registries on 127.0.0.1 serve their own tokens).
 *   5. A realm on a loopback (127/8, ::1, localhost, the unspecified
 *      address) or private (RFC 1918, fc00::/7) address is refused unless
 *      the registry's host is loopback or private too.
 *
 * Credentials (Basic, to exchange them for a token) go to a realm only when
 * it is https (its name verified), on the registry's own host and port, or
 * on a host:port (or host) the user named insecure (the spec's
 * `registries:`, --insecure-registry): a loopback registry's realm on
 * another loopback port is refused them, since any local user may listen
 * there. Anonymous token requests carry nothing and follow the rules above.
 *
 * Only literal addresses and "localhost" are classified, as ggcr does: a
 * name that resolves to a private address passes (DNS is not consulted,
 * and its answer could change between the check and the connection).
 * inet_aton accepts the legacy forms (127.1, 0x7f000001, 2130706433) that
 * libcurl's resolver accepts too, so they cannot sneak past. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static bool prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

static bool parse_port(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = v;
	return true;
}

bool ims_auth__url_split(const char *url, ims_url_parts *out)
{
	memset(out, 0, sizeof(*out));
	const char *p;
	if (!url)
		return false;
	if (prefix_ci(url, "https://")) {
		out->https = true;
		p = url + 8;
	} else if (prefix_ci(url, "http://")) {
		p = url + 7;
	} else {
		return false;
	}
	size_t alen = strcspn(p, "/?#");
	const char *host = p, *port = NULL;
	size_t hlen;
	if (memchr(p, '@', alen) || memchr(p, '\\', alen))
		return false;
	if (*p == '[') {
		const char *close = memchr(p, ']', alen);
		if (!close)
			return false;
		host = p + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < p + alen) {
			if (close[1] != ':')
				return false;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(p, ':', alen);
		hlen = colon ? (size_t)(colon - p) : alen;
		if (colon)
			port = colon + 1;
	}
	if (hlen == 0)
		return false;
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)host[i] <= 0x20 || (unsigned char)host[i] >= 0x7f)
			return false;
	out->port = out->https ? 443 : 80;
	if (port && !parse_port(port, (size_t)(p + alen - port), &out->port))
		return false;
	out->host = xstrndup(host, hlen);
	for (char *c = out->host; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	/* A trailing dot names the same host; "localhost." must not pass as
	 * a public name. */
	size_t l = strlen(out->host);
	if (l > 1 && out->host[l - 1] == '.')
		out->host[l - 1] = '\0';
	return true;
}

void ims_auth__url_parts_dispose(ims_url_parts *u)
{
	free(u->host);
	u->host = NULL;
}

static ims_host_class class_v4(uint32_t a)
{
	if ((a >> 24) == 127 || a == 0)
		return IMS_HOST_LOOPBACK;
	if ((a >> 16) == 0xa9fe)
		return IMS_HOST_LINKLOCAL;
	if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8)
		return IMS_HOST_PRIVATE;
	return IMS_HOST_PUBLIC;
}

static ims_host_class class_v6(const unsigned char *b)
{
	static const unsigned char zero[16], mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
		return IMS_HOST_LOOPBACK;
	if (!memcmp(b, mapped, 12))
		return class_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return IMS_HOST_LINKLOCAL;
	if ((b[0] & 0xfe) == 0xfc)
		return IMS_HOST_PRIVATE;
	return IMS_HOST_PUBLIC;
}

ims_host_class ims_auth__host_class(const char *host)
{
	struct in_addr a4;
	unsigned char a6[16];
	size_t n = strlen(host);
	if (!strcmp(host, "localhost") || (n > 10 && !strcmp(host + n - 10, ".localhost")))
		return IMS_HOST_LOOPBACK;
	if (inet_aton(host, &a4))
		return class_v4(ntohl(a4.s_addr));
	/* A zone ("fe80::1%eth0") does not change the class. */
	_cleanup_free_ char *bare = xstrndup(host, strcspn(host, "%"));
	if (inet_pton(AF_INET6, bare, a6) == 1)
		return class_v6(a6);
	return IMS_HOST_PUBLIC;
}

static bool local(ims_host_class c)
{
	return c == IMS_HOST_LOOPBACK || c == IMS_HOST_PRIVATE;
}

char *ims_auth__url_display(const ims_url_parts *u)
{
	bool v6 = strchr(u->host, ':') != NULL;
	return xasprintf("%s://%s%s%s:%u", u->https ? "https" : "http", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
}

/* what: "registry `r` sent a token realm", or the redirect's equivalent. */
static int refuse(ims_error **err, const char *what, const ims_url_parts *r, const char *why)
{
	_cleanup_free_ char *where = ims_auth__url_display(r);
	return ims_error_set(err, IMS_EAUTH, "%s `%s` %s; refusing it", what, where, why);
}

static int check(ims_http *http, const char *origin, const char *registry, const char *url, bool redirect,
		 ims_error **err)
{
	ims_url_parts r, g;
	int rc = 0;
	_cleanup_free_ char *what = redirect ? xasprintf("the token server for `%s` redirected to", registry)
					     : xasprintf("registry `%s` sent a token realm", registry);
	if (!url || !*url)
		return ims_error_set(err, IMS_EAUTH, "registry `%s` sent a Bearer challenge without a realm", registry);
	if (!ims_auth__url_split(url, &r))
		return ims_error_set(err, IMS_EAUTH, "%s that is not an http(s) URL; refusing it", what);
	if (!ims_auth__url_split(origin, &g)) {
		ims_auth__url_parts_dispose(&r);
		return ims_error_set(err, IMS_EINVALID, "invalid registry origin `%s`", origin ? origin : "");
	}
	ims_host_class cls = ims_auth__host_class(r.host);
	bool same = !strcmp(r.host, g.host) && r.port == g.port;
	if (!r.https && g.https && !ims_http_host_insecure(http, registry))
		rc = refuse(err, what, &r, "over plain HTTP while the registry uses HTTPS");
	else if (cls == IMS_HOST_LINKLOCAL)
		rc = refuse(err, what, &r, "on a link-local address");
	else if (!same && local(cls) && !local(ims_auth__host_class(g.host)))
		rc = refuse(err, what, &r, cls == IMS_HOST_LOOPBACK ? "on a loopback address" : "on a private address");
	ims_auth__url_parts_dispose(&r);
	ims_auth__url_parts_dispose(&g);
	return rc;
}

int ims_auth__realm_check(ims_http *http, const char *origin, const char *registry, const char *realm, ims_error **err)
{
	return check(http, origin, registry, realm, false, err);
}

int ims_auth__redirect_check(ims_http *http, const char *origin, const char *registry, const char *url, ims_error **err)
{
	return check(http, origin, registry, url, true, err);
}

bool ims_auth__realm_may_carry_secrets(ims_http *http, const char *origin, const char *realm)
{
	ims_url_parts r, g;
	if (!ims_auth__url_split(realm, &r))
		return false;
	bool ok = r.https || ims_http_host_named_insecure(http, r.host, r.port);
	if (!ok && ims_auth__url_split(origin, &g)) {
		ok = !strcmp(r.host, g.host) && r.port == g.port;
		ims_auth__url_parts_dispose(&g);
	}
	ims_auth__url_parts_dispose(&r);
	return ok;
}
