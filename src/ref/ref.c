#include "ref/ref.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "digest/digest.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/text.h"
#include "util/xalloc.h"

void ims_ref_free(ims_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	free(r->path);
	free(r->name);
	free(r);
}

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

ims_ref *ims_ref_dup(const ims_ref *r)
{
	ims_ref *d = xcalloc(1, sizeof(*d));
	d->kind = r->kind;
	d->registry = dupn(r->registry);
	d->repository = dupn(r->repository);
	d->tag = dupn(r->tag);
	d->digest = dupn(r->digest);
	d->short_name = r->short_name;
	d->path = dupn(r->path);
	d->name = dupn(r->name);
	return d;
}

bool ims_ref_tag_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	if (!(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == n)
			return false;
	}
}

/* One DNS label: [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
static bool label_valid(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

static bool port_valid(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return atoi(p) <= 65535;
}

/* host[:port] where host is DNS labels joined by '.', or [IPv6] */
static bool domain_valid(const char *s)
{
	const char *host_end;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb == s + 1)
			return false;
		for (const char *p = s + 1; p < rb; p++)
			if (!(isxdigit((unsigned char)*p) || *p == ':' || *p == '.'))
				return false;
		host_end = rb + 1;
	} else {
		const char *colon = strchr(s, ':');
		host_end = colon ? colon : s + strlen(s);
		const char *p = s;
		for (;;) {
			const char *dot = memchr(p, '.', (size_t)(host_end - p));
			const char *e = dot ? dot : host_end;
			if (!label_valid(p, (size_t)(e - p)))
				return false;
			if (!dot)
				break;
			p = dot + 1;
		}
	}
	if (*host_end == '\0')
		return true;
	return *host_end == ':' && port_valid(host_end + 1);
}

bool ims_ref_host_is_loopback(const char *host)
{
	if (!host)
		return false;
	char h[256];
	size_t n = strlen(host);
	if (n >= sizeof(h))
		return false;
	memcpy(h, host, n + 1);
	const char *addr = h;
	if (h[0] == '[') {
		char *rb = strchr(h, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return false;
		*rb = '\0';
		addr = h + 1;
	} else {
		char *colon = strchr(h, ':');
		if (colon && !strchr(colon + 1, ':'))
			*colon = '\0'; /* host:port; two colons or more is a bare IPv6 */
	}
	if (!strcmp(addr, "localhost"))
		return true;
	/* only real addresses count: `127.0.0.1.nip.io` or `127.999.1.1` do not */
	struct in_addr a4;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static int parse_registry(ims_ref *r, const char *s, ims_error **err)
{
	if (!strncmp(s, "docker://", 9))
		s += 9;
	if (strlen(s) > 512)
		return ims_error_set(err, IMS_EINVALID, "reference is too long");
	if (!*s)
		return ims_error_set(err, IMS_EINVALID, "reference is empty");
	_cleanup_free_ char *work = xstrdup(s);
	char *at = strchr(work, '@');
	if (at) {
		*at = '\0';
		if (!ims_digest_valid(at + 1)) {
			_cleanup_free_ char *q = ims_text_quote(at + 1);
			return ims_error_set(err, IMS_EINVALID,
					     "`%s` is not a valid digest (expected sha256: and 64 lowercase hex digits)", q);
		}
		r->digest = xstrdup(at + 1);
	}
	char *slash = strrchr(work, '/');
	char *colon = strrchr(work, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if (!ims_ref_tag_valid(colon + 1)) {
			_cleanup_free_ char *q = ims_text_quote(colon + 1);
			return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid tag", q);
		}
		r->tag = xstrdup(colon + 1);
	}
	char *first_slash = strchr(work, '/');
	const char *path = work;
	if (first_slash) {
		size_t dl = (size_t)(first_slash - work);
		bool is_domain = !strncmp(work, "localhost", dl) && dl == 9;
		for (size_t i = 0; i < dl && !is_domain; i++)
			if (work[i] == '.' || work[i] == ':' || work[i] == '[')
				is_domain = true;
		if (is_domain) {
			*first_slash = '\0';
			if (!domain_valid(work)) {
				_cleanup_free_ char *q = ims_text_quote(work);
				return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid registry host", q);
			}
			r->registry = xstrdup(work);
			path = first_slash + 1;
		}
	}
	if (!r->registry) {
		r->registry = xstrdup("docker.io");
		r->short_name = true;
	}
	if (!strcmp(r->registry, "index.docker.io") || !strcmp(r->registry, "registry-1.docker.io")) {
		free(r->registry);
		r->registry = xstrdup("docker.io");
	}
	if (!strcmp(r->registry, "docker.io") && !strchr(path, '/'))
		r->repository = xasprintf("library/%s", path);
	else
		r->repository = xstrdup(path);
	/* validate each path component */
	const char *p = r->repository;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!component_valid(p, n)) {
			_cleanup_free_ char *q = ims_text_quote(path);
			return ims_error_set(err, IMS_EINVALID,
					     "`%s` is not a valid repository name (lowercase letters, digits and "
					     "separators . _ __ - only)",
					     q);
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (strlen(r->registry) + 1 + strlen(r->repository) > 255)
		return ims_error_set(err, IMS_EINVALID, "repository name is longer than 255 characters");
	if (!r->tag && !r->digest)
		r->tag = xstrdup("latest");
	return 0;
}

static int parse_local(ims_ref *r, const char *rest, const char *what, ims_error **err)
{
	const char *colon = strchr(rest, ':');
	if (colon) {
		r->path = xstrndup(rest, (size_t)(colon - rest));
		if (colon[1])
			r->name = xstrdup(colon + 1);
	} else {
		r->path = xstrdup(rest);
	}
	if (!*r->path)
		return ims_error_set(err, IMS_EINVALID, "%s reference needs a path", what);
	if (r->name && r->kind == IMS_REF_OCI && strlen(r->name) > 512)
		return ims_error_set(err, IMS_EINVALID, "%s tag is too long", what);
	if (r->name && r->kind == IMS_REF_DOCKER_ARCHIVE) {
		ims_error *e2 = NULL;
		ims_ref *sub = NULL;
		if (ims_ref_parse(&sub, r->name, &e2) < 0 || sub->kind != IMS_REF_REGISTRY || sub->digest) {
			_cleanup_free_ char *q = ims_text_quote(r->name);
			int c = ims_error_set(err, IMS_EINVALID, "`%s` is not a valid docker-archive name (want repo:tag)%s%s",
					      q, e2 ? ": " : "", e2 ? e2->message : "");
			ims_error_free(e2);
			ims_ref_free(sub);
			return c;
		}
		ims_ref_free(sub);
	}
	return 0;
}

/* skopeo's and podman's transports that imagespec does not read: named,
 * with what to do instead, rather than taken as a Docker Hub repository. */
static const struct {
	const char *prefix, *hint;
} other_transports[] = {
	{ "containers-storage:", "export it with `podman save --format oci-archive -o FILE IMAGE` and use "
				 "oci-archive:FILE, or push it to a registry" },
	{ "docker-daemon:", "export it with `docker save -o FILE IMAGE` and use docker-archive:FILE" },
	{ "dir:", "copy it into a layout with `skopeo copy dir:PATH oci:DIR:TAG` and use oci:DIR:TAG" },
	{ "ostree:", "copy it into a layout with `skopeo copy` and use oci:DIR:TAG" },
	{ "sif:", "copy it into a layout with `skopeo copy` and use oci:DIR:TAG" },
};

static int other_transport(const char *s, ims_error **err)
{
	for (size_t i = 0; i < sizeof(other_transports) / sizeof(*other_transports); i++) {
		size_t n = strlen(other_transports[i].prefix);
		/* "dir:5000/app" is a registry on host `dir` */
		if (!strncmp(s, other_transports[i].prefix, n) && !(s[n] >= '0' && s[n] <= '9')) {
			ims_error_set(err, IMS_EINVALID, "`%.*s` references are not supported: imagespec reads registries, "
					  "oci:, oci-archive: and docker-archive:", (int)(n - 1), s);
			ims_error_hint(err, "%s", other_transports[i].hint);
			return IMS_EINVALID;
		}
	}
	return 0;
}

int ims_ref_parse(ims_ref **out, const char *s, ims_error **err)
{
	ims_ref *r = xcalloc(1, sizeof(*r));
	int ret;
	if (!s) {
		ret = ims_error_set(err, IMS_EINVALID, "reference is empty");
	} else if ((ret = other_transport(s, err)) < 0) {
		/* said */
	} else if (!strcmp(s, "scratch")) {
		r->kind = IMS_REF_SCRATCH;
		ret = 0;
	} else if (!strncmp(s, "oci:", 4)) {
		r->kind = IMS_REF_OCI;
		ret = parse_local(r, s + 4, "oci:", err);
	} else if (!strncmp(s, "oci-archive:", 12)) {
		r->kind = IMS_REF_OCI_ARCHIVE;
		ret = parse_local(r, s + 12, "oci-archive:", err);
	} else if (!strncmp(s, "docker-archive:", 15)) {
		r->kind = IMS_REF_DOCKER_ARCHIVE;
		ret = parse_local(r, s + 15, "docker-archive:", err);
	} else {
		r->kind = IMS_REF_REGISTRY;
		ret = parse_registry(r, s, err);
	}
	if (ret < 0) {
		ims_ref_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

char *ims_ref_repo_string(const ims_ref *r)
{
	return xasprintf("%s/%s", r->registry ? r->registry : "", r->repository ? r->repository : "");
}

char *ims_ref_string(const ims_ref *r)
{
	switch (r->kind) {
	case IMS_REF_SCRATCH:
		return xstrdup("scratch");
	case IMS_REF_OCI:
	case IMS_REF_OCI_ARCHIVE:
	case IMS_REF_DOCKER_ARCHIVE: {
		const char *pfx = r->kind == IMS_REF_OCI ? "oci" : r->kind == IMS_REF_OCI_ARCHIVE ? "oci-archive"
												   : "docker-archive";
		if (r->name)
			return xasprintf("%s:%s:%s", pfx, r->path, r->name);
		return xasprintf("%s:%s", pfx, r->path);
	}
	case IMS_REF_REGISTRY:
	default:
		if (r->digest && r->tag)
			return xasprintf("%s/%s:%s@%s", r->registry, r->repository, r->tag, r->digest);
		if (r->digest)
			return xasprintf("%s/%s@%s", r->registry, r->repository, r->digest);
		return xasprintf("%s/%s:%s", r->registry, r->repository, r->tag);
	}
}
