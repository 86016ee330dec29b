/* The reference grammar (SPEC-v1.md "References"): docker's normalisation of
 * registry references, the local transports, canonical strings and the
 * loopback test used to decide on plain HTTP. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "util/xalloc.h"
#include "tap.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG "sha256:" HEX64

/* Parses a registry reference and checks every field of the result. */
static void reg(const char *in, const char *registry, const char *repository, const char *tag, const char *digest)
{
	ims_ref *r = NULL;
	ims_error *e = NULL;
	int rc = ims_ref_parse(&r, in, &e);
	ok(rc == 0 && r && !e, "`%s` parses%s%s", in, e ? ": " : "", e ? e->message : "");
	if (rc != 0 || !r) {
		ims_error_free(e);
		return;
	}
	ok(r->kind == IMS_REF_REGISTRY, "`%s` is a registry reference", in);
	is_str(r->registry, registry, "`%s` registry", in);
	is_str(r->repository, repository, "`%s` repository", in);
	is_str(r->tag, tag, "`%s` tag", in);
	is_str(r->digest, digest, "`%s` digest", in);
	ims_ref_free(r);
}

/* Parses in and expects IMS_EINVALID, a message, and *out left alone. */
static void bad(const char *in, const char *why)
{
	ims_ref *r = (ims_ref *)0x1;
	ims_error *e = NULL;
	int rc = ims_ref_parse(&r, in, &e);
	ok(rc == IMS_EINVALID && e && e->code == IMS_EINVALID && e->message && *e->message && r == (ims_ref *)0x1,
	   "`%.60s%s` is refused (%s)%s%s", in ? in : "(null)", in && strlen(in) > 60 ? "..." : "", why, e ? ": " : "",
	   e ? e->message : "");
	if (rc == 0 && r != (ims_ref *)0x1)
		ims_ref_free(r);
	ims_error_free(e);
}

/* Parses in, checks its canonical string, and that the string parses back
 * to the same string. */
static void canon(const char *in, const char *want)
{
	ims_ref *r = NULL, *r2 = NULL;
	ims_error *e = NULL;
	if (ims_ref_parse(&r, in, &e) < 0) {
		ok(0, "`%s` parses: %s", in, e ? e->message : "?");
		ims_error_free(e);
		return;
	}
	char *s = ims_ref_string(r);
	is_str(s, want, "canonical form of `%s`", in);
	int rc = ims_ref_parse(&r2, s, NULL);
	char *s2 = rc == 0 ? ims_ref_string(r2) : NULL;
	ok(rc == 0 && s2 && !strcmp(s, s2), "`%s` round-trips", s);
	ims_ref *d = ims_ref_dup(r);
	char *s3 = ims_ref_string(d);
	is_str(s3, s, "a duplicate of `%s` prints the same", in);
	free(s);
	free(s2);
	free(s3);
	ims_ref_free(d);
	ims_ref_free(r);
	ims_ref_free(r2);
}

static void local(const char *in, ims_ref_kind kind, const char *path, const char *name)
{
	ims_ref *r = NULL;
	ims_error *e = NULL;
	int rc = ims_ref_parse(&r, in, &e);
	ok(rc == 0 && r, "`%s` parses%s%s", in, e ? ": " : "", e ? e->message : "");
	if (rc != 0 || !r) {
		ims_error_free(e);
		return;
	}
	ok(r->kind == kind, "`%s` kind %d", in, (int)r->kind);
	is_str(r->path, path, "`%s` path", in);
	is_str(r->name, name, "`%s` name", in);
	ok(!r->registry && !r->repository && !r->tag && !r->digest, "`%s` has no registry fields", in);
	ims_ref_free(r);
}

static void test_normalise(void)
{
	reg("busybox", "docker.io", "library/busybox", "latest", NULL);
	reg("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
	/* A single first component without '.', ':' and not localhost is a path. */
	reg("user/repo", "docker.io", "user/repo", "latest", NULL);
	reg("user/repo:v2", "docker.io", "user/repo", "v2", NULL);
	reg("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL);
	reg("docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL);
	reg("index.docker.io/x", "docker.io", "library/x", "latest", NULL);
	reg("registry-1.docker.io/u/x", "docker.io", "u/x", "latest", NULL);
	reg("localhost/x", "localhost", "x", "latest", NULL);
	reg("localhost:5000/a/b:1", "localhost:5000", "a/b", "1", NULL);
	reg("127.0.0.1:5000/x@" DIG, "127.0.0.1:5000", "x", NULL, DIG);
	reg("[::1]:5000/x:y", "[::1]:5000", "x", "y", NULL);
	reg("[::1]/x", "[::1]", "x", "latest", NULL);
	reg("docker://busybox", "docker.io", "library/busybox", "latest", NULL);
	reg("docker://localhost:5000/a:b", "localhost:5000", "a", "b", NULL);
	reg("busybox:1.36@" DIG, "docker.io", "library/busybox", "1.36", DIG);
	reg("ghcr.io/a/b/c:tag", "ghcr.io", "a/b/c", "tag", NULL);
	reg("quay.io/a/b@" DIG, "quay.io", "a/b", NULL, DIG);
	/* Separators inside components: . _ __ and runs of -. */
	reg("abc/a.b_c__d--e/x-y", "docker.io", "abc/a.b_c__d--e/x-y", "latest", NULL);
	/* A first component with a '.' is a host, so separators there are host rules. */
	bad("a.b_c/x", "_ in what is a host");
	/* Upper case is fine in the host and in the tag. */
	reg("Example.COM/x:V1_a.b-c", "Example.COM", "x", "V1_a.b-c", NULL);
	/* `localhost:5000` alone is docker.io/library/localhost with tag 5000, as in docker. */
	reg("localhost:5000", "docker.io", "library/localhost", "5000", NULL);
	reg("localhost", "docker.io", "library/localhost", "latest", NULL);
	/* A leading "docker://" does not make scratch special. */
	reg("docker://scratch", "docker.io", "library/scratch", "latest", NULL);
}

static void test_invalid(void)
{
	char buf[600];

	bad("Busybox", "upper-case repository");
	bad("user/Repo", "upper-case repository");
	bad("ghcr.io/A/b", "upper-case repository after a host");
	bad("", "empty");
	bad(NULL, "NULL");
	bad("docker://", "empty after the prefix");
	bad("a//b", "empty component");
	bad("a/", "trailing slash");
	bad("/a", "leading slash");
	bad("a-", "trailing -");
	bad("a.", "trailing .");
	bad("-a", "leading -");
	bad("_a", "leading _");
	bad("a..b", "two dots");
	bad("a___b", "three underscores");
	bad("a b", "space");
	bad("a:", "empty tag");
	bad("a:b!c", "bad tag character");
	bad("a:-x", "tag starting with -");
	bad("a:.x", "tag starting with .");
	bad("a@", "empty digest");
	bad("a@sha256:abc", "short digest");
	bad("a@sha256:" HEX64 "0", "65 hex digits");
	bad("a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "upper-case digest");
	bad("a@sha256:../../x", "digest with a path");
	bad("a@sha512:" HEX64 HEX64, "sha512 digest");
	bad("a@" HEX64, "digest without algorithm");
	bad("a@" DIG "@" DIG, "two digests");
	bad("localhost:5o00/x", "port with letters");
	bad("localhost:/x", "empty port");
	bad("localhost:123456/x", "six-digit port");
	bad("-bad.com/x", "host starting with -");
	bad("bad.com-/x", "host ending with -");
	bad("ba_d.com/x", "_ in the host");
	bad("[::1/x", "unclosed bracket");
	bad("[::1]x/y", "junk after the bracket");
	bad("[::g]/x", "non-hex in an IPv6 host");
	bad("oci:", "oci: without a path");
	bad("oci::tag", "oci: with an empty path");
	bad("oci-archive:", "oci-archive: without a file");
	bad("docker-archive:", "docker-archive: without a file");
	bad("docker-archive:F:BAD NAME", "docker-archive: with an invalid name");
	bad("docker-archive:F:Repo:tag", "docker-archive: with an upper-case repository");
	bad("docker-archive:F:x@" DIG, "docker-archive: name with a digest");
	bad("docker-archive:F:scratch", "docker-archive: name that is scratch");
	bad("docker-archive:F:oci:dir", "docker-archive: name that is oci:");

	/* A 128-character tag is the longest. */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "a:");
	memset(buf + 2, 't', 128);
	reg(buf, "docker.io", "library/a", buf + 2, NULL);
	buf[2 + 128] = 't';
	bad(buf, "129-character tag");

	/* The full name ("docker.io/library/" is 18 characters) is at most 255. */
	memset(buf, 0, sizeof(buf));
	memset(buf, 'a', 237);
	{
		char *repo = xasprintf("library/%s", buf);
		reg(buf, "docker.io", repo, "latest", NULL);
		free(repo);
	}
	buf[237] = 'a';
	bad(buf, "name of 256 characters after normalisation");
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "ghcr.io/");
	memset(buf + 8, 'b', 248);
	bad(buf, "ghcr.io name of 256 characters");
	buf[8 + 247] = '\0';
	reg(buf, "ghcr.io", buf + 8, "latest", NULL);
	memset(buf, 0, sizeof(buf));
	memset(buf, 'c', 599);
	bad(buf, "599 characters");

	/* Hosts follow docker's grammar: `\[[a-fA-F0-9:]+\]`, or DNS labels
	 * `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]` joined by '.'. */
	bad("[]/x", "empty IPv6 literal");
	bad("bad-.com/x", "host label ending with -");
	bad("a..b.com/x", "empty host label");
	bad("a.-b.com/x", "host label starting with -");
	bad("[]:5000/x", "empty IPv6 literal with a port");
	bad("localhost:65536/x", "port above 65535");
	reg("localhost:65535/x", "localhost:65535", "x", "latest", NULL);
	reg("a-b.c-d.example/x", "a-b.c-d.example", "x", "latest", NULL);
}

static void test_local(void)
{
	ims_ref *r = NULL;
	ok(ims_ref_parse(&r, "scratch", NULL) == 0 && r && r->kind == IMS_REF_SCRATCH, "scratch");
	ok(r && !r->registry && !r->repository && !r->tag && !r->path && !r->name, "scratch has no fields");
	ims_ref_free(r);
	r = NULL;
	/* Only the exact word: "scratch:1" is docker.io/library/scratch:1. */
	reg("scratch:1", "docker.io", "library/scratch", "1", NULL);

	local("oci:DIR", IMS_REF_OCI, "DIR", NULL);
	local("oci:/abs/dir:v1.0", IMS_REF_OCI, "/abs/dir", "v1.0");
	local("oci:./out", IMS_REF_OCI, "./out", NULL);
	local("oci:dir:", IMS_REF_OCI, "dir", NULL);
	local("oci-archive:F:T", IMS_REF_OCI_ARCHIVE, "F", "T");
	local("oci-archive:img.tar", IMS_REF_OCI_ARCHIVE, "img.tar", NULL);
	local("docker-archive:F", IMS_REF_DOCKER_ARCHIVE, "F", NULL);
	local("docker-archive:F:repo:tag", IMS_REF_DOCKER_ARCHIVE, "F", "repo:tag");
	local("docker-archive:out.tar:localhost:5000/a/b:1", IMS_REF_DOCKER_ARCHIVE, "out.tar", "localhost:5000/a/b:1");
	local("docker-archive:F:repo", IMS_REF_DOCKER_ARCHIVE, "F", "repo");
}

static void test_strings(void)
{
	canon("busybox", "docker.io/library/busybox:latest");
	canon("user/repo", "docker.io/user/repo:latest");
	canon("index.docker.io/x", "docker.io/library/x:latest");
	canon("docker://ghcr.io/a/b/c:tag", "ghcr.io/a/b/c:tag");
	canon("localhost:5000/a/b:1", "localhost:5000/a/b:1");
	canon("127.0.0.1:5000/x@" DIG, "127.0.0.1:5000/x@" DIG);
	canon("x:1@" DIG, "docker.io/library/x:1@" DIG);
	canon("[::1]:5000/x:y", "[::1]:5000/x:y");
	canon("scratch", "scratch");
	canon("oci:DIR", "oci:DIR");
	canon("oci:DIR:TAG", "oci:DIR:TAG");
	canon("oci:dir:", "oci:dir");
	canon("oci-archive:F:T", "oci-archive:F:T");
	canon("docker-archive:F", "docker-archive:F");
	canon("docker-archive:F:repo:tag", "docker-archive:F:repo:tag");

	ims_ref *r = NULL;
	if (ims_ref_parse(&r, "ghcr.io/a/b:1@" DIG, NULL) == 0) {
		char *s = ims_ref_repo_string(r);
		is_str(s, "ghcr.io/a/b", "repo string drops tag and digest");
		free(s);
		ims_ref_free(r);
	} else {
		ok(0, "ghcr.io/a/b:1@digest parses");
	}
	ims_ref_free(NULL);
	ok(1, "ims_ref_free(NULL) is fine");
}

static void test_loopback(void)
{
	static const struct {
		const char *host;
		bool want;
	} cases[] = {
		{ "127.0.0.1", true },
		{ "127.1.2.3:5000", true },
		{ "127.255.255.255", true },
		{ "localhost", true },
		{ "localhost:80", true },
		{ "[::1]:5000", true },
		{ "[::1]", true },
		{ "::1", true },
		{ "128.0.0.1", false },
		{ "12.0.0.1", false },
		{ "1270.0.0.1", false },
		{ "localhost.evil.com", false },
		{ "localhost.evil.com:5000", false },
		{ "127.0.0.1.nip.io", false },
		{ "127.0.0.1.nip.io:5000", false },
		{ "evil-localhost", false },
		{ "docker.io", false },
		{ "[::2]:5000", false },
		{ "::2", false },
		{ "[::1", false },
		{ "", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(ims_ref_host_is_loopback(cases[i].host) == cases[i].want, "`%s` is %sloopback", cases[i].host,
		   cases[i].want ? "" : "not ");
	ok(!ims_ref_host_is_loopback(NULL), "NULL is not loopback");
	char longhost[400];
	memset(longhost, '1', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	memcpy(longhost, "127.", 4);
	ok(!ims_ref_host_is_loopback(longhost), "a 399-character host is not loopback");

	/* Only real addresses in 127.0.0.0/8 or ::1 count: strings that merely
	 * look like them go through the resolver (search domains, /etc/hosts),
	 * so they must not get the plain-HTTP fallback (SPEC "Loopback"). */
	ok(!ims_ref_host_is_loopback("127.999.1.1"), "`127.999.1.1` is not an address, so not loopback");
	ok(!ims_ref_host_is_loopback("127.0.0.1."), "`127.0.0.1.` is a name, so not loopback");
	ok(!ims_ref_host_is_loopback("127.."), "`127..` is not loopback");
	ok(ims_ref_host_is_loopback("[0:0:0:0:0:0:0:1]:5000"), "the long form of ::1 is loopback");
	ok(!ims_ref_host_is_loopback("[::1]x"), "junk after `]` is not loopback");
}

static void test_tag_valid(void)
{
	static const char *const good[] = { "latest", "1", "_x", "1.0.0-rc.1", "V_1", "a-", "a.", "A" };
	static const char *const badtags[] = { "", "-a", ".a", "a:b", "a/b", "a b", "a@b", "a+b", "\xc3\xa9" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(ims_ref_tag_valid(good[i]), "tag `%s` is valid", good[i]);
	for (size_t i = 0; i < sizeof(badtags) / sizeof(badtags[0]); i++)
		ok(!ims_ref_tag_valid(badtags[i]), "tag `%s` is invalid", badtags[i]);
	char t[130];
	memset(t, 'x', 128);
	t[128] = '\0';
	ok(ims_ref_tag_valid(t), "a 128-character tag is valid");
	t[128] = 'x';
	t[129] = '\0';
	ok(!ims_ref_tag_valid(t), "a 129-character tag is invalid");
}

/* skopeo's and podman's other transports are named and refused with a
 * hint, not taken as Docker Hub repositories (issue 10). */
static void test_other_transports(void)
{
	static const char *const refused[] = { "containers-storage:localhost/app:1", "docker-daemon:app:1",
					       "dir:/tmp/app", "ostree:app@/repo", "sif:app.sif" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		ims_ref *r = NULL;
		ims_error *e = NULL;
		int rc = ims_ref_parse(&r, refused[i], &e);
		ok(rc == IMS_EINVALID && e && strstr(e->message, "not supported") && e->hint,
		   "%s: refused with a hint", refused[i]);
		ims_error_free(e);
		ims_ref_free(r);
	}
	ims_ref *r = NULL;
	ok(ims_ref_parse(&r, "dir:5000/app:1", NULL) == 0 && r && r->kind == IMS_REF_REGISTRY,
	   "dir:5000/app:1 is still a registry on host dir");
	ims_ref_free(r);
}

int main(void)
{
	test_normalise();
	test_invalid();
	test_local();
	test_strings();
	test_loopback();
	test_tag_valid();
	test_other_transports();
	return tap_done();
}
