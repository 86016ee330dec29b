#include "json/oci.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* JavaScript's exact integers: anything larger was not produced honestly. */
#define MAX_SIZE ((int64_t)1 << 53)
/* A descriptor with more fallback URLs than this is not a real one. */
#define MAX_URLS 64

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* ---- platforms ---- */

void ims_platform_free(ims_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	free(p);
}

ims_platform *ims_platform_dup(const ims_platform *p)
{
	if (!p)
		return NULL;
	ims_platform *d = xcalloc(1, sizeof(*d));
	d->os = dupn(p->os);
	d->architecture = dupn(p->architecture);
	d->variant = dupn(p->variant);
	d->os_version = dupn(p->os_version);
	return d;
}

char *ims_platform_string(const ims_platform *p)
{
	if (p->variant && *p->variant)
		return xasprintf("%s/%s/%s", p->os, p->architecture, p->variant);
	return xasprintf("%s/%s", p->os, p->architecture);
}

static bool component_valid(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

ims_platform *ims_platform_parse(const char *s)
{
	const char *parts[3];
	size_t lens[3], n = 0;
	const char *p = s;
	for (;;) {
		size_t l = strcspn(p, "/");
		if (n == 3 || !component_valid(p, l))
			return NULL;
		parts[n] = p;
		lens[n++] = l;
		if (!p[l])
			break;
		p += l + 1;
	}
	if (n < 2)
		return NULL;
	ims_platform *r = xcalloc(1, sizeof(*r));
	r->os = xstrndup(parts[0], lens[0]);
	r->architecture = xstrndup(parts[1], lens[1]);
	if (n == 3)
		r->variant = xstrndup(parts[2], lens[2]);
	return r;
}

/* containerd's normalisation: kernel and distribution names for an
 * architecture, and the variant a bare name implies. */
void ims_platform_normalize(const char *arch, const char *variant, const char **oarch, const char **ovariant)
{
	static const struct {
		const char *from, *arch, *variant;
	} alias[] = {
		{ "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL }, { "aarch64", "arm64", NULL },
		{ "i386", "386", NULL },     { "i686", "386", NULL },     { "armhf", "arm", "v7" },
		{ "armel", "arm", "v6" },
	};
	const char *a = arch ? arch : "";
	const char *v = variant && *variant ? variant : NULL;
	for (size_t i = 0; i < IMS_ARRAY_SIZE(alias); i++) {
		if (!strcmp(a, alias[i].from)) {
			a = alias[i].arch;
			if (!v)
				v = alias[i].variant;
			break;
		}
	}
	if (!strcmp(a, "arm64") && !v)
		v = "v8";
	else if (!strcmp(a, "arm") && !v)
		v = "v7";
	else if (!strcmp(a, "amd64") && v && !strcmp(v, "v1"))
		v = NULL;
	*oarch = a;
	*ovariant = v ? v : "";
}

bool ims_platform_matches(const ims_platform *want, const ims_platform *have)
{
	if (!want || !have || !want->os || !have->os || strcmp(want->os, have->os))
		return false;
	const char *wa, *wv, *ha, *hv;
	ims_platform_normalize(want->architecture, want->variant, &wa, &wv);
	ims_platform_normalize(have->architecture, have->variant, &ha, &hv);
	if (strcmp(wa, ha))
		return false;
	/* Asking for no variant takes any; asking for one wants exactly it
	 * (after the implied defaults: arm64 is v8, arm is v7, amd64 v1 is none). */
	if (!want->variant || !*want->variant)
		return true;
	return !strcmp(wv, hv);
}

ims_platform *ims_platform_host(void)
{
	static const struct {
		const char *machine, *arch, *variant;
	} map[] = {
		{ "x86_64", "amd64", NULL },  { "amd64", "amd64", NULL },   { "aarch64", "arm64", "v8" },
		{ "arm64", "arm64", "v8" },   { "armv8l", "arm", "v8" },    { "armv7l", "arm", "v7" },
		{ "armv7", "arm", "v7" },     { "armv6l", "arm", "v6" },    { "armv5tel", "arm", "v5" },
		{ "i386", "386", NULL },      { "i486", "386", NULL },      { "i586", "386", NULL },
		{ "i686", "386", NULL },      { "ppc64le", "ppc64le", NULL }, { "ppc64", "ppc64", NULL },
		{ "s390x", "s390x", NULL },   { "riscv64", "riscv64", NULL }, { "mips64", "mips64le", NULL },
		{ "loongarch64", "loong64", NULL },
	};
	struct utsname u;
	ims_platform *p = xcalloc(1, sizeof(*p));
	p->os = xstrdup("linux");
	if (uname(&u) < 0) {
		/* Only fails on a bad pointer; fall back to what we were built for. */
#if defined(__x86_64__)
		strcpy(u.machine, "x86_64");
#elif defined(__aarch64__)
		strcpy(u.machine, "aarch64");
#else
		strcpy(u.machine, "unknown");
#endif
	}
	for (size_t i = 0; i < IMS_ARRAY_SIZE(map); i++) {
		if (!strcmp(u.machine, map[i].machine)) {
			p->architecture = xstrdup(map[i].arch);
			p->variant = dupn(map[i].variant);
			return p;
		}
	}
	p->architecture = xstrdup(u.machine);
	return p;
}

/* ---- descriptors ---- */

void ims_descriptor_dispose(ims_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	for (size_t i = 0; i < d->nurls; i++)
		free(d->urls[i]);
	free(d->urls);
	ims_json_free(d->annotations);
	ims_platform_free(d->platform);
	free(d->artifact_type);
	memset(d, 0, sizeof(*d));
}

void ims_descriptor_copy(ims_descriptor *dst, const ims_descriptor *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->media_type = dupn(src->media_type);
	memcpy(dst->digest, src->digest, sizeof(dst->digest));
	dst->size = src->size;
	if (src->nurls) {
		dst->urls = xcalloc(src->nurls, sizeof(*dst->urls));
		for (size_t i = 0; i < src->nurls; i++)
			dst->urls[i] = xstrdup(src->urls[i]);
		dst->nurls = src->nurls;
	}
	dst->annotations = ims_json_clone(src->annotations);
	dst->platform = ims_platform_dup(src->platform);
	dst->artifact_type = dupn(src->artifact_type);
}

/* RFC 6838 type/subtype: restricted-name characters on both sides, no
 * parameters. Anything else in a descriptor is a forgery or a typo. */
bool ims_media_type_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255)
		return false;
	int slashes = 0;
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '/') {
			if (run == 0 || ++slashes > 1)
				return false;
			run = 0;
			continue;
		}
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (run == 0 || !strchr("!#$&-^_.+", c)))
			return false;
		run++;
	}
	return slashes == 1 && run > 0;
}

static int platform_from_json(ims_platform **out, const ims_json *v, const char *what, ims_error **err)
{
	if (v->type != IMS_JSON_OBJECT)
		return ims_error_set(err, IMS_EINVALID, "%s: `platform` must be an object", what);
	ims_platform *p = xcalloc(1, sizeof(*p));
	int rc = ims_json_opt_string(&p->os, v, "os", what, err);
	if (!rc)
		rc = ims_json_opt_string(&p->architecture, v, "architecture", what, err);
	if (!rc)
		rc = ims_json_opt_string(&p->variant, v, "variant", what, err);
	if (!rc)
		rc = ims_json_opt_string(&p->os_version, v, "os.version", what, err);
	if (!rc && (!p->os || !p->architecture))
		rc = ims_error_set(err, IMS_EINVALID, "%s: platform needs `os` and `architecture`", what);
	if (rc) {
		ims_platform_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static int descriptor_from_json(ims_descriptor *d, const ims_json *v, const char *what, ims_error **err)
{
	if (!v)
		return ims_error_set(err, IMS_EINVALID, "%s: missing", what);
	if (v->type != IMS_JSON_OBJECT)
		return ims_error_set(err, IMS_EINVALID, "%s: must be an object", what);

	int rc = ims_json_opt_string(&d->media_type, v, "mediaType", what, err);
	if (rc)
		return rc;
	if (!d->media_type)
		return ims_error_set(err, IMS_EINVALID, "%s: missing `mediaType`", what);
	if (!ims_media_type_valid(d->media_type))
		return ims_error_set(err, IMS_EINVALID, "%s: invalid media type `%.80s`", what, d->media_type);

	const char *dg = ims_json_get_string(v, "digest");
	if (!dg)
		return ims_error_set(err, IMS_EINVALID, "%s: missing `digest`", what);
	/* Checked before the digest can reach a URL or a path (CVE-2024-3727). */
	if (!ims_digest_valid(dg))
		return ims_error_set(err, IMS_EINVALID, "%s: invalid digest `%.80s`", what, dg);
	memcpy(d->digest, dg, IMS_DIGEST_BUFSZ);

	const ims_json *sz = ims_json_get(v, "size");
	if (!sz)
		return ims_error_set(err, IMS_EINVALID, "%s: missing `size`", what);
	if (!ims_json_int(sz, &d->size) || d->size < 0 || d->size > MAX_SIZE)
		return ims_error_set(err, IMS_EINVALID, "%s: invalid size `%.40s`",
				     what, sz->type == IMS_JSON_NUMBER ? sz->s : "(not a number)");

	const ims_json *urls = ims_json_get(v, "urls");
	if (urls) {
		if (urls->type != IMS_JSON_ARRAY || urls->n > MAX_URLS)
			return ims_error_set(err, IMS_EINVALID, "%s: `urls` must be an array of at most %d strings",
					     what, MAX_URLS);
		d->urls = xcalloc(urls->n, sizeof(*d->urls));
		for (size_t i = 0; i < urls->n; i++) {
			if (urls->v[i]->type != IMS_JSON_STRING)
				return ims_error_set(err, IMS_EINVALID, "%s: `urls` must hold strings", what);
			d->urls[d->nurls++] = xstrdup(urls->v[i]->s);
		}
	}

	const ims_json *ann = ims_json_get(v, "annotations");
	if (ann) {
		if (!ims_json_is_string_map(ann))
			return ims_error_set(err, IMS_EINVALID, "%s: `annotations` must map strings to strings", what);
		d->annotations = ims_json_clone(ann);
	}

	const ims_json *plat = ims_json_get(v, "platform");
	if (plat && (rc = platform_from_json(&d->platform, plat, what, err)) < 0)
		return rc;
	return ims_json_opt_string(&d->artifact_type, v, "artifactType", what, err);
}

int ims_descriptor_from_json(ims_descriptor *d, const ims_json *v, const char *what, ims_error **err)
{
	memset(d, 0, sizeof(*d));
	int rc = descriptor_from_json(d, v, what, err);
	if (rc)
		ims_descriptor_dispose(d);
	return rc;
}

static void set_opt_string(ims_json *obj, const char *key, const char *s)
{
	if (s)
		ims_json_set(obj, key, ims_json_new_string(s));
}

ims_json *ims_descriptor_to_json(const ims_descriptor *d)
{
	ims_json *o = ims_json_new_object();
	set_opt_string(o, "mediaType", d->media_type);
	set_opt_string(o, "artifactType", d->artifact_type);
	ims_json_set(o, "digest", ims_json_new_string(d->digest));
	ims_json_set(o, "size", ims_json_new_int(d->size));
	if (d->nurls) {
		ims_json *a = ims_json_new_array();
		for (size_t i = 0; i < d->nurls; i++)
			ims_json_append(a, ims_json_new_string(d->urls[i]));
		ims_json_set(o, "urls", a);
	}
	if (d->annotations && d->annotations->n)
		ims_json_set(o, "annotations", ims_json_clone(d->annotations));
	if (d->platform) {
		ims_json *p = ims_json_new_object();
		set_opt_string(p, "architecture", d->platform->architecture);
		set_opt_string(p, "os", d->platform->os);
		set_opt_string(p, "os.version", d->platform->os_version);
		set_opt_string(p, "variant", d->platform->variant);
		ims_json_set(o, "platform", p);
	}
	return o;
}
