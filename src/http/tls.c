/* TLS per host[:port]: which CAs are trusted, which client certificate is
 * shown, and whether verification is off (hosts named insecure only).
 *
 * CURLOPT_CAINFO would replace the system bundle, while docker merges
 * --ca-cert, caFile and certs.d `*.crt` with the system CAs. So a host with
 * extra CAs gets one PEM blob (system bundle + extras) for
 * CURLOPT_CAINFO_BLOB, built once and kept for the life of the client.
 * libcurl does not read SSL_CERT_FILE or SSL_CERT_DIR (only the curl tool
 * does), so they are read here.
 *
 * Every other host is verified against the system's hashed directory
 * alone (/etc/ssl/certs: one `HASH.N` link per CA, made by
 * update-ca-certificates from the same certificates as the bundle), when
 * it is one and SSL_CERT_FILE and SSL_CERT_DIR, if set, name libcurl's
 * own bundle and directory (a user's file is used as given): OpenSSL reads
 * the one CA a chain needs, when it verifies. Given the bundle, it parses
 * all of its ~140 certificates at the first handshake, 60 ms of CPU with
 * OpenSSL 3 even when the handshake fails at once, as the https attempt
 * on a plain-HTTP port does: a third of a build that has nothing to
 * upload. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define PEM_MAX (16 * 1024 * 1024)

static int env_path(const char *name, char **out, ims_error **err)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return 0;
	if (access(v, R_OK) < 0)
		return ims_error_sys(err, errno, IMS_EINVALID, "%s `%s`", name, v);
	*out = xstrdup(v);
	return 0;
}

static bool same_path(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Whether DIR holds at least one CA link named as OpenSSL looks them up:
 * eight hex digits, a dot, a digit. */
static bool hashed_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		const char *n = de->d_name;
		found = strlen(n) == 10 && strspn(n, "0123456789abcdef") == 8 && n[8] == '.' && n[9] >= '0' && n[9] <= '9';
	}
	closedir(d);
	return found;
}

static int readable(const char *what, const char *host, const char *path, ims_error **err)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	if (host)
		return ims_error_sys(err, errno, IMS_EINVALID, "registry `%s`: %s `%s`", host, what, path);
	return ims_error_sys(err, errno, IMS_EINVALID, "%s `%s`", what, path);
}

int ims_http__tls_init(ims_http *h, const ims_http_options *o, ims_error **err)
{
	int rc;
	if ((rc = env_path("SSL_CERT_FILE", &h->sys_cafile, err)) < 0 ||
	    (rc = env_path("SSL_CERT_DIR", &h->sys_capath, err)) < 0)
		return rc;
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	if (!h->sys_cafile && v->cainfo)
		h->sys_cafile = xstrdup(v->cainfo);
	if (!h->sys_capath && v->capath)
		h->sys_capath = xstrdup(v->capath);
	h->capath_only = same_path(h->sys_cafile, v->cainfo) && same_path(h->sys_capath, v->capath) &&
			 hashed_dir(h->sys_capath);

	if (o->ca_file) {
		if ((rc = ims_read_file(o->ca_file, PEM_MAX, &h->ca_extra, &h->ca_extra_len, err)) < 0)
			return ims_error_wrap(err, "CA certificate");
	}
	/* Say early which file is missing, rather than at the first request. */
	for (size_t i = 0; i < h->nhosts; i++) {
		const ims_http_host_conf *c = &h->hosts[i];
		if ((rc = readable("CA file", c->host, c->ca_file, err)) < 0 ||
		    (rc = readable("client certificate", c->host, c->client_cert, err)) < 0 ||
		    (rc = readable("client key", c->host, c->client_key, err)) < 0)
			return rc;
	}
	return 0;
}

static int add_pem(ims_buf *b, const char *path, ims_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc = ims_read_file(path, PEM_MAX, &data, &len, err);
	if (rc < 0)
		return rc;
	ims_buf_add(b, data, len, NULL);
	if (len && data[len - 1] != '\n')
		ims_buf_putc(b, '\n');
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The partner of NAME.cert (NAME.key) or of NAME.key (NAME.cert). */
static char *partner(const char *dir, const char *name, const char *from, const char *to)
{
	size_t base = strlen(name) - strlen(from);
	return xasprintf("%s/%.*s%s", dir, (int)base, name, to);
}

/* One certs.d/HOST directory, as containers/image reads it: every `*.crt`
 * is a CA; `*.cert` and `*.key` come in pairs, and a lone one is an error
 * (a CA misnamed `.cert` would otherwise be silently ignored). The first
 * pair, in name order, is the client certificate. */
static int scan_certs_dir(ims_http_tls *t, ims_buf *cas, const char *dir, ims_error **err)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : ims_error_sys(err, errno, IMS_EINVALID, "certs.d `%s`", dir);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		const char *name = ents[i]->d_name;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
		if (has_suffix(name, ".crt")) {
			rc = add_pem(cas, path, err);
		} else if (has_suffix(name, ".cert") || has_suffix(name, ".key")) {
			bool is_cert = has_suffix(name, ".cert");
			_cleanup_free_ char *other = is_cert ? partner(dir, name, ".cert", ".key")
							     : partner(dir, name, ".key", ".cert");
			if (access(other, R_OK) < 0) {
				rc = ims_error_set(err, IMS_EINVALID, "certs.d: `%s` has no matching `%s`", path,
						   other);
				ims_error_hint(
					err,
					"client certificates need a NAME.cert and a NAME.key; CA certificates end in .crt");
			} else if (is_cert && !t->cert) {
				t->cert = steal_pointer(&path);
				t->cert_key = steal_pointer(&other);
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

static int build(ims_http *h, ims_http_tls *t, ims_error **err)
{
	const ims_http_host_conf *c = ims_http__host_conf(h, t->key);
	ims_buf extra = IMS_BUF_INIT(0);
	int rc = 0;
	if (c) {
		t->insecure = c->insecure;
		t->cert = c->client_cert ? xstrdup(c->client_cert) : NULL;
		t->cert_key = c->client_key ? xstrdup(c->client_key) : NULL;
		if (c->ca_file)
			rc = add_pem(&extra, c->ca_file, err);
	}
	/* A host key is a DNS name or an address, but it names a directory
	 * here: never let it climb out of certs.d. */
	bool safe = !strchr(t->key, '/') && t->key[0] != '.';
	for (size_t i = 0; rc == 0 && safe && i < h->ncerts_dirs; i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", h->certs_dirs[i], t->key);
		rc = scan_certs_dir(t, &extra, dir, err);
	}
	if (rc == 0 && (extra.len || h->ca_extra_len)) {
		ims_buf all = IMS_BUF_INIT(0);
		if (h->sys_cafile && access(h->sys_cafile, R_OK) == 0)
			rc = add_pem(&all, h->sys_cafile, err);
		if (h->ca_extra_len) {
			ims_buf_add(&all, h->ca_extra, h->ca_extra_len, NULL);
			ims_buf_putc(&all, '\n');
		}
		ims_buf_add(&all, extra.data, extra.len, NULL);
		if (rc == 0)
			t->ca_blob = ims_buf_steal(&all, &t->ca_len);
		ims_buf_dispose(&all);
	}
	ims_buf_dispose(&extra);
	return rc < 0 ? ims_error_wrap(err, "TLS settings for `%s`", t->key) : 0;
}

static ims_http_tls *lookup(ims_http *h, const char *hostkey)
{
	pthread_mutex_lock(&h->tls_lock);
	ims_http_tls *t = h->tls;
	while (t && strcmp(t->key, hostkey))
		t = t->next;
	if (!t) {
		/* Built under the lock: a few file reads, once per host, and
		 * no thread sees a half-built entry. */
		t = xcalloc(1, sizeof(*t));
		t->key = xstrdup(hostkey);
		build(h, t, &t->err);
		t->next = h->tls;
		h->tls = t;
	}
	pthread_mutex_unlock(&h->tls_lock);
	return t;
}

int ims_http__tls_apply(ims_http *h, CURL *e, const char *hostkey, ims_error **err)
{
	const ims_http_tls *t = lookup(h, hostkey);
	if (t->err) {
		ims_error_set(err, t->err->code, "%s", t->err->message);
		if (t->err->hint)
			ims_error_hint(err, "%s", t->err->hint);
		return t->err->code;
	}
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (t->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (t->ca_blob) {
		/* The blob lives as long as h, which outlives every handle. */
		struct curl_blob blob = { t->ca_blob, t->ca_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	} else {
		curl_easy_setopt(e, CURLOPT_CAINFO, h->capath_only ? NULL : h->sys_cafile);
	}
	curl_easy_setopt(e, CURLOPT_CAPATH, h->sys_capath);
	if (t->cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY, t->cert_key);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	return 0;
}

void ims_http__tls_free_all(ims_http *h)
{
	ims_http_tls *t = h->tls;
	while (t) {
		ims_http_tls *next = t->next;
		free(t->key);
		free(t->ca_blob);
		free(t->cert);
		free(t->cert_key);
		ims_error_free(t->err);
		free(t);
		t = next;
	}
	h->tls = NULL;
}
