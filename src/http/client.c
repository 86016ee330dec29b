/* The client: settings, a libcurl share handle so that TLS sessions and
 * DNS answers are reused by every request from every thread, and a pool of
 * easy handles that keep their connections (pool.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"
#include "ims_config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const char *const default_certs_dirs[] = { "/etc/docker/certs.d", "/etc/containers/certs.d" };

static void share_lock(CURL *e, curl_lock_data data, curl_lock_access access, void *ud)
{
	(void)e, (void)access;
	ims_http *h = ud;
	pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *e, curl_lock_data data, void *ud)
{
	(void)e;
	ims_http *h = ud;
	pthread_mutex_unlock(&h->share_locks[data]);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int copy_hosts(ims_http *h, const ims_http_options *o, ims_error **err)
{
	if (!o->nhosts)
		return 0;
	h->hosts = xcalloc(o->nhosts, sizeof(*h->hosts));
	for (size_t i = 0; i < o->nhosts; i++) {
		const ims_http_host *s = &o->hosts[i];
		ims_http_host_conf *d = &h->hosts[h->nhosts++];
		if (!s->host || !*s->host)
			return ims_error_set(err, IMS_EINVALID, "registry settings without a host");
		if (!s->client_cert != !s->client_key)
			return ims_error_set(err, IMS_EINVALID,
					     "registry `%s`: a client certificate needs both a certificate and a key",
					     s->host);
		d->host = xstrdup(s->host);
		d->ca_file = dup_or_null(s->ca_file);
		d->client_cert = dup_or_null(s->client_cert);
		d->client_key = dup_or_null(s->client_key);
		d->insecure = s->insecure;
	}
	return 0;
}

static void set_defaults(ims_http *h, const ims_http_options *o)
{
	h->max_attempts = o->max_attempts > 0 ? o->max_attempts : 5;
	h->backoff_initial = o->backoff_initial > 0 ? o->backoff_initial : 0.5;
	h->backoff_max = o->backoff_max > 0 ? o->backoff_max : 30;
	h->connect_timeout = o->connect_timeout > 0 ? o->connect_timeout : 30;
	h->low_speed_time = o->low_speed_time > 0 ? o->low_speed_time : IMS_HTTP_LOW_SPEED_TIME;
	h->timeout = o->timeout > 0 ? o->timeout : 0;
	h->deadline = h->timeout > 0 ? ims_http__now() + h->timeout : 0;
	h->user_agent = xstrdup(o->user_agent ? o->user_agent : "imagespec/" IMS_VERSION);
	h->trace = o->trace;
	h->trace_ud = o->trace_ud;
	h->notice = o->notice;
	h->notice_ud = o->notice_ud;
	h->warn = o->warn;
	h->warn_ud = o->warn_ud;

	const char *const *dirs = o->certs_dirs ? o->certs_dirs : default_certs_dirs;
	size_t n = o->certs_dirs ? o->ncerts_dirs : IMS_ARRAY_SIZE(default_certs_dirs);
	if (n) {
		h->certs_dirs = xcalloc(n, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			h->certs_dirs[i] = xstrdup(dirs[i]);
		h->ncerts_dirs = n;
	}
}

static void new_share(ims_http *h)
{
	for (size_t i = 0; i < IMS_ARRAY_SIZE(h->share_locks); i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	pthread_mutex_init(&h->tls_lock, NULL);
	pthread_mutex_init(&h->pool_lock, NULL);
	pthread_mutex_init(&h->warn_lock, NULL);
	h->share = curl_share_init();
	if (!h->share)
		abort();
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	/* Not CURL_LOCK_DATA_CONNECT: libcurl does not support a connection
	 * cache used by concurrent threads; pool.c reuses connections. */
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

int ims_http_new(ims_http **out, const ims_http_options *o, ims_error **err)
{
	static const ims_http_options none = { 0 };
	if (!o)
		o = &none;
	int rc = ims_http__need_curl(err);
	if (rc < 0)
		return rc;
	ims_http *h = xcalloc(1, sizeof(*h));
	new_share(h);
	set_defaults(h, o);
	rc = copy_hosts(h, o, err);
	if (rc == 0)
		rc = ims_http__tls_init(h, o, err);
	if (rc < 0) {
		ims_http_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void ims_http_free(ims_http *h)
{
	if (!h)
		return;
	/* Every request has returned its handle: the handles go first, so
	 * that the share is no longer in use when it is cleaned up. */
	ims_http__pool_free(h);
	pthread_mutex_destroy(&h->pool_lock);
	pthread_mutex_destroy(&h->warn_lock);
	for (size_t i = 0; i < h->nwarnings; i++)
		free(h->warnings[i]);
	curl_share_cleanup(h->share);
	for (size_t i = 0; i < IMS_ARRAY_SIZE(h->share_locks); i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	ims_http__tls_free_all(h);
	pthread_mutex_destroy(&h->tls_lock);
	for (size_t i = 0; i < h->nhosts; i++) {
		free(h->hosts[i].host);
		free(h->hosts[i].ca_file);
		free(h->hosts[i].client_cert);
		free(h->hosts[i].client_key);
	}
	free(h->hosts);
	for (size_t i = 0; i < h->ncerts_dirs; i++)
		free(h->certs_dirs[i]);
	free(h->certs_dirs);
	free(h->sys_cafile);
	free(h->sys_capath);
	free(h->ca_extra);
	free(h->user_agent);
	free(h);
}

/* 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost", as in the spec. */
static bool loopback_name(const char *name)
{
	if (!strcasecmp(name, "localhost"))
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, name, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, name, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

bool ims_http__loopback(const char *host)
{
	if (!host)
		return false;
	_cleanup_free_ char *name = NULL;
	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		if (!end)
			return false;
		name = xstrndup(host + 1, (size_t)(end - host - 1));
	} else {
		const char *colon = strchr(host, ':');
		/* One colon separates a port; more make a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':'))
			name = xstrndup(host, (size_t)(colon - host));
		else
			name = xstrdup(host);
	}
	return loopback_name(name);
}

const ims_http_host_conf *ims_http__host_conf(const ims_http *h, const char *hostkey)
{
	for (size_t i = 0; i < h->nhosts; i++)
		if (!strcasecmp(h->hosts[i].host, hostkey))
			return &h->hosts[i];
	return NULL;
}

void ims_http__warn_insecure(ims_http *h, const ims_http_url *u)
{
	if (!h->warn)
		return;
	_cleanup_free_ char *key = ims_http__url_hostkey(u);
	ims_http_host_conf *c = NULL;
	for (size_t i = 0; i < h->nhosts && !c; i++)
		if (!strcasecmp(h->hosts[i].host, key))
			c = &h->hosts[i];
	for (size_t i = 0; i < h->nhosts && !c; i++)
		if (!strcasecmp(h->hosts[i].host, u->host))
			c = &h->hosts[i];
	if (!c || !c->insecure)
		return;
	pthread_mutex_lock(&h->tls_lock);
	bool first = !c->warned;
	c->warned = true;
	pthread_mutex_unlock(&h->tls_lock);
	if (!first)
		return;
	_cleanup_free_ char *line =
		xasprintf("`%s` is named insecure: its TLS certificate is not verified and plain HTTP is allowed", c->host);
	h->warn(h->warn_ud, line);
}

bool ims_http_host_named_insecure(const ims_http *h, const char *host, unsigned port)
{
	if (!h || !host)
		return false;
	bool v6 = strchr(host, ':') != NULL;
	_cleanup_free_ char *key = xasprintf("%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
	const ims_http_host_conf *c = ims_http__host_conf(h, key);
	if (!c)
		c = ims_http__host_conf(h, host);
	return c && c->insecure;
}

bool ims_http_host_insecure(const ims_http *h, const char *host)
{
	if (!host)
		return false;
	if (ims_http__loopback(host))
		return true;
	const ims_http_host_conf *c = h ? ims_http__host_conf(h, host) : NULL;
	return c && c->insecure;
}
