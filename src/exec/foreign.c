/* Foreign (non-distributable) layers: a descriptor with `urls`, whose
 * blob a registry does not hold. With sync.copyRemoteLayers (the default)
 * the output gets the blob itself, downloaded from the first of its urls
 * that serves it, verified against the descriptor's digest and size. Before
 * anything is uploaded, a build asks each such url (HEAD) whether it serves
 * the blob, so a layer that cannot be fetched fails the build while the
 * target is untouched. Once copied, the layer is an ordinary one of the
 * output: its descriptor loses `urls` and the non-distributable media type
 * (registries refuse a manifest whose foreign urls they do not allow, with
 * MANIFEST_BLOB_UNKNOWN, even when they hold the blob). */
#include <stdlib.h>
#include <string.h>

#include "digest/sha256_stream.h"
#include "exec/exec_int.h"
#include "json/mediatype.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* https, or http towards a host that may speak plain HTTP (loopback, or
 * named insecure): the same rule as `url:` layers. The urls come from a
 * base image, which anyone may have written: a link-local address (cloud
 * metadata services live at 169.254.169.254) is never fetched, and a
 * private one only when the user named it insecure. */
static int url_allowed(ims_http *http, const char *url, ims_error **err)
{
	_cleanup_free_ char *origin = ims_http_origin(url);
	_cleanup_free_ char *shown = ims_http_redact_url(url);
	_cleanup_free_ char *host = origin ? ims_http_origin_host(origin) : NULL;
	ims_http_addr cls = host ? ims_http_host_class(host) : IMS_ADDR_NAME;
	const char *hostport = origin ? strstr(origin, "://") + 3 : NULL;
	if (cls == IMS_ADDR_LINK_LOCAL ||
	    (cls == IMS_ADDR_PRIVATE && !(hostport && ims_http_host_insecure(http, hostport))))
		return ims_error_set(err, IMS_EGENERIC,
				     "`%s`: a foreign layer's url on a %s address is not fetched (name the host with "
				     "--insecure-registry to allow a private one)",
				     shown ? shown : "?", cls == IMS_ADDR_LINK_LOCAL ? "link-local" : "private");
	if (origin && !strncmp(origin, "https://", 8))
		return 0;
	if (origin && !strncmp(origin, "http://", 7) && ims_http_host_insecure(http, origin + 7))
		return 0;
	return ims_error_set(err, IMS_EGENERIC, "`%s`: only https (or http to a loopback or insecure host) is allowed",
			     shown ? shown : "?");
}

/* HEAD url: a 2xx whose Content-Length, when given, is the layer's size. */
static int probe_url(ims_http *http, const ims_descriptor *d, const char *url, ims_error **err)
{
	int r = url_allowed(http, url, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *shown = ims_http_redact_url(url);
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "HEAD";
	req.url = url;
	req.follow_redirects = true;
	ims_http_response resp = { 0 };
	r = ims_http_do(http, &req, &resp, err);
	long st = resp.status;
	const char *cl = r >= 0 ? ims_http_header(&resp, "content-length") : NULL;
	long long len = cl ? strtoll(cl, NULL, 10) : -1;
	ims_http_response_dispose(&resp);
	if (r < 0)
		return r;
	/* A server that does not do HEAD cannot be asked; the GET will tell. */
	if (st == 405 || st == 501)
		return 0;
	if (st < 200 || st > 299)
		return ims_error_set(err, st == 404 ? IMS_ENOTFOUND : IMS_EGENERIC, "HEAD `%s`: HTTP %ld", shown, st);
	if (cl && len != d->size)
		return ims_error_set(err, IMS_EDIGEST, "`%s` is %lld bytes, but the layer is %lld", shown, len,
				     (long long)d->size);
	return 0;
}

/* Runs one(url) for each url in turn until one succeeds; the error names
 * every url tried and why it failed. */
static int each_url(ims_http *http, const ims_descriptor *d, const char *doing,
		    int (*one)(ims_http *, const ims_descriptor *, const char *, void *, ims_error **), void *ud,
		    ims_error **err)
{
	if (!http)
		return ims_error_set(err, IMS_EUNSUPPORTED, "foreign layer %s: fetching its urls needs network access",
				     d->digest);
	ims_buf why = IMS_BUF_INIT(0);
	int last = IMS_ENOTFOUND;
	for (size_t i = 0; i < d->nurls; i++) {
		ims_error *e = NULL;
		int r = one(http, d, d->urls[i], ud, &e);
		if (r >= 0) {
			ims_buf_dispose(&why);
			return 0;
		}
		last = r == IMS_EINVALID ? IMS_EGENERIC : r;
		ims_buf_printf(&why, "%s%s", why.len ? "; " : "", e && e->message ? e->message : "failed");
		ims_error_free(e);
	}
	int r = ims_error_set(err, last == IMS_EAUTH ? IMS_EGENERIC : last,
			      "foreign layer %s: none of its %zu url(s) serves it%s: %s", d->digest, d->nurls, doing,
			      why.len ? why.data : "no urls");
	ims_error_hint(err,
		       "fix the layer's `urls`, or set `sync: {copyRemoteLayers: false}` to leave the layer where "
		       "its urls say (the output then lacks its blob)");
	ims_buf_dispose(&why);
	return r;
}

static int probe_one(ims_http *http, const ims_descriptor *d, const char *url, void *ud, ims_error **err)
{
	(void)ud;
	return probe_url(http, d, url, err);
}

int ims_exec_foreign_check(ims_http *http, const ims_descriptor *d, ims_error **err)
{
	return each_url(http, d, " (asked before uploading anything)", probe_one, NULL, err);
}

static int fetch_one(ims_http *http, const ims_descriptor *d, const char *url, void *ud, ims_error **err)
{
	ims_transport *dst = ud;
	int r = url_allowed(http, url, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *shown = ims_http_redact_url(url);
	ims_blob_writer *w = NULL;
	if ((r = ims_transport_new_blob(dst, &w, err)) < 0)
		return r;
	ims_sha256_sink hs;
	ims_sha256_sink_init(&hs, &w->sink);
	hs.limit = d->size;
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = url;
	req.sink = &hs.sink;
	req.follow_redirects = true;
	ims_http_response resp = { 0 };
	r = ims_http_do(http, &req, &resp, err);
	long st = resp.status;
	ims_http_response_dispose(&resp);
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_sink_final(&hs, got);
	if (r < 0) {
		ims_error_wrap(err, "GET `%s`", shown);
	} else if (st < 200 || st > 299) {
		r = ims_error_set(err, st == 404 ? IMS_ENOTFOUND : IMS_EGENERIC, "GET `%s`: HTTP %ld", shown, st);
	} else if (hs.count != d->size || strcmp(got, d->digest)) {
		r = ims_error_set(err, IMS_EDIGEST, "`%s` served %lld bytes with digest %s, not the layer's", shown,
				  (long long)hs.count, got);
	} else {
		r = w->commit(w, d->digest, d->size, err);
		w = NULL;
	}
	if (w)
		w->abort(w);
	return r;
}

int ims_exec_foreign_fetch(ims_http *http, const ims_descriptor *d, ims_transport *dst, ims_error **err)
{
	return each_url(http, d, "", fetch_one, dst, err);
}

void ims_exec_foreign_adopt(ims_descriptor *d)
{
	static const struct {
		const char *foreign, *plain;
	} types[] = {
		{ IMS_MT_OCI_LAYER_ND_GZIP, IMS_MT_OCI_LAYER_GZIP },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", IMS_MT_OCI_LAYER },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", IMS_MT_OCI_LAYER_ZSTD },
		{ IMS_MT_DOCKER_LAYER_FOREIGN, IMS_MT_DOCKER_LAYER_GZIP },
	};
	for (size_t i = 0; i < d->nurls; i++)
		free(d->urls[i]);
	free(d->urls);
	d->urls = NULL;
	d->nurls = 0;
	for (size_t i = 0; d->media_type && i < IMS_ARRAY_SIZE(types); i++) {
		if (!strcmp(d->media_type, types[i].foreign)) {
			free(d->media_type);
			d->media_type = xstrdup(types[i].plain);
			break;
		}
	}
}
