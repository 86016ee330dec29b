/* Fetching a Bearer token from a challenge's realm (distribution
 * docs/spec/auth/token.md and oauth.md).
 *
 *   GET realm?service=S&scope=A&scope=B, with Basic credentials when there
 *     are any: each scope its own parameter, since some servers honour only
 *     the first of a space-joined list (Harbor #2411).
 *   POST grant_type=refresh_token&service=S&client_id=imagespec&
 *     refresh_token=T&scope=A B, for an identity token (OAuth2; docker
 *     joins the scopes with spaces there, as oauth.md describes); a server
 *     without OAuth2 (404, 405) gets the GET instead.
 *
 * Redirects are followed here, not by the HTTP room, so that each hop
 * passes the realm rules (ggcr #2292) and loses the Authorization once it
 * leaves the realm's origin. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TOKEN_MAX_REDIRECTS 5
#define CLIENT_ID "imagespec"

static void put_escaped(ims_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    strchr("-._~", *c)) {
			ims_buf_putc(b, (char)*c);
		} else {
			ims_buf_putc(b, '%');
			ims_buf_putc(b, hex[*c >> 4]);
			ims_buf_putc(b, hex[*c & 15]);
		}
	}
}

/* sep: the separator before this parameter; '&' for the next one. */
static void put_param(ims_buf *b, char *sep, const char *name, const char *value)
{
	if (*sep)
		ims_buf_putc(b, *sep);
	*sep = '&';
	ims_buf_puts(b, name);
	ims_buf_putc(b, '=');
	put_escaped(b, value);
}

static char *get_url(const ims_token_request *r)
{
	ims_buf b = IMS_BUF_INIT(0);
	size_t n = strcspn(r->realm, "#");
	ims_buf_add(&b, r->realm, n, NULL);
	/* The realm may carry a query of its own: append to it. */
	char sep = '?';
	if (memchr(r->realm, '?', n))
		sep = r->realm[n - 1] == '?' || r->realm[n - 1] == '&' ? 0 : '&';
	if (r->service && *r->service)
		put_param(&b, &sep, "service", r->service);
	for (size_t i = 0; i < r->nscopes; i++)
		put_param(&b, &sep, "scope", r->scopes[i]);
	return ims_buf_steal(&b, NULL);
}

static char *oauth_form(const ims_token_request *r, const char *refresh_token)
{
	ims_buf b = IMS_BUF_INIT(0), scopes = IMS_BUF_INIT(0);
	char sep = 0;
	put_param(&b, &sep, "grant_type", "refresh_token");
	if (r->service && *r->service)
		put_param(&b, &sep, "service", r->service);
	put_param(&b, &sep, "client_id", CLIENT_ID);
	/* The form grows by reallocation; a worst case of one stray copy of
	 * the refresh token in freed heap is accepted to keep this simple. */
	put_param(&b, &sep, "refresh_token", refresh_token);
	for (size_t i = 0; i < r->nscopes; i++) {
		if (i)
			ims_buf_putc(&scopes, ' ');
		ims_buf_puts(&scopes, r->scopes[i]);
	}
	if (scopes.len)
		put_param(&b, &sep, "scope", scopes.data);
	ims_buf_dispose(&scopes);
	return ims_buf_steal(&b, NULL);
}

/* "scheme://host:port" of a realm, for messages: never its path or query. */
static char *server_name(const char *url)
{
	ims_url_parts u;
	if (!ims_auth__url_split(url, &u))
		return xstrdup("(invalid URL)");
	char *s = ims_auth__url_display(&u);
	ims_auth__url_parts_dispose(&u);
	return s;
}

static int refused(long status, const ims_token_request *r, const ims_credentials *c, const char *server,
		   ims_error **err)
{
	int rc;
	if (status == 401 || status == 403)
		rc = ims_auth__anonymous(c)
			     ? ims_error_set(err, IMS_EAUTH,
					     "anonymous access to `%s` was refused; log in or add credentials",
					     r->registry)
			     : ims_error_set(err, IMS_EAUTH, "registry `%s` refused the credentials from %s",
					     r->registry, ims_auth__source(c));
	else
		rc = ims_error_set(err, IMS_EGENERIC, "token server `%s` for `%s` answered HTTP %ld", server,
				   r->registry, status);
	if (err && *err)
		(*err)->http_status = status;
	return rc;
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static void wipe_response(ims_http_response *resp)
{
	if (resp->body.data)
		explicit_bzero(resp->body.data, resp->body.len);
	ims_http_response_dispose(resp);
	memset(resp, 0, sizeof(*resp));
}

/* One request; follows redirects for GET. resp holds the final answer. */
static int exchange(ims_http *http, const ims_token_request *r, ims_http_request *req, ims_http_response *resp,
		    ims_error **err)
{
	_cleanup_free_ char *url = xstrdup(req->url);
	for (int hop = 0;; hop++) {
		req->url = url;
		int rc = ims_http_do(http, req, resp, err);
		req->url = NULL;
		if (rc < 0)
			return ims_error_wrap(err, "fetch a token for `%s`", r->registry);
		if (!is_redirect(resp->status) || strcmp(req->method, "GET"))
			return 0;
		if (hop == TOKEN_MAX_REDIRECTS)
			return ims_error_set(err, IMS_EGENERIC, "token server for `%s` redirected more than %d times",
					     r->registry, TOKEN_MAX_REDIRECTS);
		const char *loc = ims_http_header(resp, "location");
		_cleanup_free_ char *next = loc ? ims_http_resolve_url(url, loc) : NULL;
		wipe_response(resp);
		if (!next)
			return ims_error_set(err, IMS_EGENERIC,
					     "token server for `%s` redirected to an invalid or non-HTTP location",
					     r->registry);
		if ((rc = ims_auth__redirect_check(http, r->origin, r->registry, next, err)) < 0)
			return rc;
		_cleanup_free_ char *o1 = ims_http_origin(url), *o2 = ims_http_origin(next);
		/* Once dropped, the credentials stay dropped (CVE-2024-45336). */
		if (!o1 || !o2 || strcmp(o1, o2))
			req->authorization = NULL;
		free(url);
		url = steal_pointer(&next);
	}
}

static int finish(const ims_token_request *r, const ims_credentials *c, const char *server, ims_http_response *resp,
		  ims_token *out, ims_error **err)
{
	if (resp->status != 200)
		return refused(resp->status, r, c, server, err);
	return ims_auth__token_parse(resp->body.data, resp->body.len, server, out, err);
}

static int fetch_get(ims_http *http, const ims_token_request *r, const ims_credentials *c, const char *server,
		     ims_token *out, ims_error **err)
{
	_cleanup_free_ char *url = get_url(r);
	char *basic = NULL;
	int rc = 0;
	if (c && ((c->username && *c->username) || (c->password && *c->password)))
		rc = ims_auth__basic_value(c, &basic, err);
	if (rc < 0)
		return rc;
	static const char *const headers[] = { "Accept: application/json" };
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.nheaders = IMS_ARRAY_SIZE(headers);
	req.authorization = basic;
	req.max_body = IMS_AUTH_TOKEN_BODY_MAX;
	ims_http_response resp = { 0 };
	rc = exchange(http, r, &req, &resp, err);
	ims_auth__free_secret(basic);
	if (rc == 0)
		rc = finish(r, c, server, &resp, out, err);
	wipe_response(&resp);
	return rc;
}

/* OAuth2 refresh-token grant; *fallback set when the server has none. */
static int fetch_oauth(ims_http *http, const ims_token_request *r, const ims_credentials *c, const char *server,
		       bool *fallback, ims_token *out, ims_error **err)
{
	char *form = oauth_form(r, c->identity_token);
	static const char *const headers[] = { "Accept: application/json",
					       "Content-Type: application/x-www-form-urlencoded" };
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	_cleanup_free_ char *url = xstrndup(r->realm, strcspn(r->realm, "#"));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.nheaders = IMS_ARRAY_SIZE(headers);
	req.body = form;
	req.body_len = strlen(form);
	req.max_body = IMS_AUTH_TOKEN_BODY_MAX;
	ims_http_response resp = { 0 };
	int rc = exchange(http, r, &req, &resp, err);
	ims_auth__free_secret(form);
	*fallback = rc == 0 && (resp.status == 404 || resp.status == 405);
	if (rc == 0 && !*fallback)
		rc = finish(r, c, server, &resp, out, err);
	wipe_response(&resp);
	return rc;
}

int ims_auth__token_fetch(ims_http *http, const ims_token_request *r, const ims_credentials *c, ims_token *out,
			  ims_error **err)
{
	_cleanup_free_ char *server = server_name(r->realm);
	memset(out, 0, sizeof(*out));
	/* Checked here too, not only by the caller: this is the last point
	 * before a secret leaves the process (CVE-2014-5277). */
	int rc = ims_auth__realm_check(http, r->origin, r->registry, r->realm, err);
	if (rc < 0)
		return rc;
	if (!ims_auth__anonymous(c) && !ims_auth__realm_may_carry_secrets(http, r->origin, r->realm)) {
		rc = ims_error_set(err, IMS_EAUTH,
				   "refusing to send the credentials from %s for `%s` to token server `%s` over plain "
				   "HTTP: it is neither the registry's own host and port nor named insecure",
				   ims_auth__source(c), r->registry, server);
		const char *hp = strstr(server, "://");
		hp = hp ? hp + 3 : server;
		ims_error_hint(err,
			       "if that token server is yours, name it: `registries: {\"%s\": {insecure: true}}` "
			       "in the spec, or --insecure-registry %s",
			       hp, hp);
		return rc;
	}
	if (c && c->identity_token && *c->identity_token) {
		bool fallback = false;
		rc = fetch_oauth(http, r, c, server, &fallback, out, err);
		if (rc < 0 || !fallback)
			return rc;
	}
	return fetch_get(http, r, c, server, out, err);
}
