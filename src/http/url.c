/* URLs: parsing, Location resolution, origins and redaction.
 *
 * libcurl's URL API does the parsing so that the URL a request goes to and
 * the URL these checks looked at are read by the same code. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A copy of one part, in memory of our own allocator; NULL when absent. */
static char *part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *v = NULL;
	if (curl_url_get(u, what, &v, flags) != CURLUE_OK || !v)
		return NULL;
	char *r = xstrdup(v);
	curl_free(v);
	return r;
}

static bool http_scheme(const char *s)
{
	return s && (!strcmp(s, "http") || !strcmp(s, "https"));
}

static bool fill(CURLU *cu, ims_http_url *u)
{
	memset(u, 0, sizeof(*u));
	u->scheme = part(cu, CURLUPART_SCHEME, 0);
	lower(u->scheme);
	u->host = part(cu, CURLUPART_HOST, 0);
	lower(u->host);
	u->port = part(cu, CURLUPART_PORT, 0);
	_cleanup_free_ char *port = part(cu, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	u->portnum = port ? strtol(port, NULL, 10) : 0;
	if (!http_scheme(u->scheme) || !u->host || !*u->host || u->portnum <= 0) {
		ims_http__url_dispose(u);
		return false;
	}
	return true;
}

bool ims_http__url_parse(const char *url, ims_http_url *u)
{
	memset(u, 0, sizeof(*u));
	if (!url)
		return false;
	CURLU *cu = curl_url();
	if (!cu)
		abort();
	bool ok = curl_url_set(cu, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK && fill(cu, u);
	curl_url_cleanup(cu);
	return ok;
}

void ims_http__url_dispose(ims_http_url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->port);
	memset(u, 0, sizeof(*u));
}

char *ims_http__url_hostkey(const ims_http_url *u)
{
	return u->port ? xasprintf("%s:%s", u->host, u->port) : xstrdup(u->host);
}

char *ims_http_resolve_url(const char *base, const char *location)
{
	if (!base || !location)
		return NULL;
	CURLU *cu = curl_url();
	if (!cu)
		abort();
	char *out = NULL;
	ims_http_url u;
	/* Setting a URL on a handle that holds one resolves it as a relative
	 * reference (RFC 3986 section 5), and an absolute one replaces it. */
	if (curl_url_set(cu, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_set(cu, CURLUPART_URL, location, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK && fill(cu, &u)) {
		ims_http__url_dispose(&u);
		/* The fragment is never sent; drop it so that it is not logged either. */
		curl_url_set(cu, CURLUPART_FRAGMENT, NULL, 0);
		out = part(cu, CURLUPART_URL, 0);
	}
	curl_url_cleanup(cu);
	return out;
}

char *ims_http__url_origin(const ims_http_url *u)
{
	return xasprintf("%s://%s:%ld", u->scheme, u->host, u->portnum);
}

char *ims_http_origin(const char *url)
{
	ims_http_url u;
	if (!ims_http__url_parse(url, &u))
		return NULL;
	char *o = ims_http__url_origin(&u);
	ims_http__url_dispose(&u);
	return o;
}

/* Query parameters that are safe to print: they name content or paging,
 * never a capability. Everything else (upload _state, presigned signatures,
 * tokens) may be a secret. */
static bool keep_value(const char *name, size_t len)
{
	static const char *const keep[] = { "digest", "mount", "from", "n", "last", "scope", "service" };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(keep); i++)
		if (strlen(keep[i]) == len && !strncmp(keep[i], name, len))
			return true;
	return false;
}

static char *redact_query(const char *q)
{
	ims_buf b = IMS_BUF_INIT(0);
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		if (b.len)
			ims_buf_putc(&b, '&');
		if (eq) {
			ims_buf_add(&b, q, (size_t)(eq - q) + 1, NULL);
			if (keep_value(q, (size_t)(eq - q)))
				ims_buf_add(&b, eq + 1, n - (size_t)(eq - q) - 1, NULL);
			else
				ims_buf_puts(&b, "REDACTED");
		} else if (keep_value(q, n)) {
			ims_buf_add(&b, q, n, NULL);
		} else if (n) {
			/* A bare parameter may itself be a token. */
			ims_buf_puts(&b, "REDACTED");
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return ims_buf_steal(&b, NULL);
}

char *ims_http_redact_url(const char *url)
{
	CURLU *cu = curl_url();
	if (!cu)
		abort();
	char *out = NULL;
	if (url && curl_url_set(cu, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
		curl_url_set(cu, CURLUPART_USER, NULL, 0);
		curl_url_set(cu, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(cu, CURLUPART_OPTIONS, NULL, 0);
		curl_url_set(cu, CURLUPART_FRAGMENT, NULL, 0);
		_cleanup_free_ char *q = part(cu, CURLUPART_QUERY, 0);
		if (q) {
			_cleanup_free_ char *r = redact_query(q);
			curl_url_set(cu, CURLUPART_QUERY, *r ? r : NULL, 0);
		}
		out = part(cu, CURLUPART_URL, 0);
	}
	curl_url_cleanup(cu);
	/* An unparsable URL is never printed: it could hold anything. */
	return out ? out : xstrdup("<invalid url>");
}

char *ims_http_origin_host(const char *origin)
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

ims_http_addr ims_http_host_class(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcmp(host, "localhost"))
		return IMS_ADDR_LOOPBACK;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		uint32_t a = ntohl(a4.s_addr);
		if ((a >> 24) == 127)
			return IMS_ADDR_LOOPBACK;
		if ((a >> 16) == 0xa9fe || a == 0)
			return IMS_ADDR_LINK_LOCAL;
		if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 || (a >> 22) == 0x191)
			return IMS_ADDR_PRIVATE; /* 10/8, 172.16/12, 192.168/16, 100.64/10 */
		return IMS_ADDR_PUBLIC;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			char v4[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof(v4));
			return ims_http_host_class(v4);
		}
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return IMS_ADDR_LOOPBACK;
		if (IN6_IS_ADDR_LINKLOCAL(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6))
			return IMS_ADDR_LINK_LOCAL;
		if ((a6.s6_addr[0] & 0xfe) == 0xfc)
			return IMS_ADDR_PRIVATE; /* fc00::/7 */
		return IMS_ADDR_PUBLIC;
	}
	return IMS_ADDR_NAME;
}
