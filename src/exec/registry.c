/* One repository of a registry, verb by verb, for the public
 * ims_registry_client (the seed's RegistryClient): a session of its own
 * (TLS settings, credentials in the usual order) and the distribution
 * client underneath. Uploads are spooled to an anonymous temp file while
 * they are hashed, so the digest need not be known beforehand and a retry
 * can send the bytes again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest/sha256_stream.h"
#include "exec/exec_int.h"
#include "regconf/regconf.h"
#include "transport/registry_client.h"
#include "transport/registry_spool.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

struct ims_exec_registry {
	ims_session session;
	ims_registry *reg; /* borrowed from the session's pool */
	char *repository;
	const ims_exec_env *env;
};

int ims_exec_registry_open(ims_exec_registry **out, const ims_exec_env *env, const char *registry,
			   const char *repository, ims_error **err)
{
	if (!registry || !*registry || !repository || !*repository)
		return ims_error_set(err, IMS_EINVALID, "a registry and a repository are required");
	/* the reference grammar decides what a registry and a repository are
	 * (Docker Hub's library/ included) */
	_cleanup_free_ char *s = xasprintf("%s/%s", registry, repository);
	ims_ref *ref = NULL;
	int r = ims_ref_parse(&ref, s, err);
	if (r < 0)
		return r;
	if (ref->kind != IMS_REF_REGISTRY || ref->digest || strchr(repository, ':') || strchr(repository, '@')) {
		ims_ref_free(ref);
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a registry and a repository", s);
	}
	ims_exec_registry *x = xcalloc(1, sizeof(*x));
	x->env = env;
	x->repository = xstrdup(ref->repository);
	if ((r = ims_session_open(&x->session, env, NULL, err)) >= 0 &&
	    (r = ims_regconf_check_blocked(x->session.conf, ref, "registry", err)) >= 0)
		r = ims_registry_pool_get(x->session.pool, ref->registry, &x->reg, err);
	ims_ref_free(ref);
	if (r < 0) {
		ims_exec_registry_close(x);
		return r;
	}
	*out = x;
	return 0;
}

void ims_exec_registry_close(ims_exec_registry *x)
{
	if (!x)
		return;
	ims_session_close(&x->session);
	free(x->repository);
	free(x);
}

int ims_exec_registry_get_manifest(ims_exec_registry *x, const char *reference, char **data, size_t *len,
				   char **media_type, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	if (!reference || !*reference)
		return ims_error_set(err, IMS_EINVALID, "a tag or digest is required");
	return ims_registry_manifest_get(x->reg, x->repository, reference, data, len, media_type, digest, err);
}

int ims_exec_registry_put_manifest(ims_exec_registry *x, const char *tag, const char *data, size_t len,
				   const char *media_type, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	if (!data || !media_type)
		return ims_error_set(err, IMS_EINVALID, "a manifest and its media type are required");
	if (tag && !ims_ref_tag_valid(tag))
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a valid tag", tag);
	ims_sha256_buf(data, len, digest);
	return ims_registry_manifest_put(x->reg, x->repository, tag ? tag : digest, data, len, media_type, err);
}

int ims_exec_registry_tags(ims_exec_registry *x, char ***tags, size_t *n, ims_error **err)
{
	return ims_registry_tags(x->reg, x->repository, tags, n, err);
}

int ims_exec_registry_blob_exists(ims_exec_registry *x, const char *digest, bool *exists, int64_t *size,
				  ims_error **err)
{
	int r = ims_digest_check(digest, "blob", err);
	return r < 0 ? r : ims_registry_blob_head(x->reg, x->repository, digest, exists, size, err);
}

int ims_exec_registry_get_blob(ims_exec_registry *x, const char *digest, ims_sink *sink, ims_error **err)
{
	int r = ims_digest_check(digest, "blob", err);
	return r < 0 ? r : ims_registry_blob_get(x->reg, x->repository, digest, -1, sink, err);
}

static int fd_write(void *ud, const void *p, size_t n, ims_error **err)
{
	int fd = *(int *)ud;
	for (const char *c = p; n;) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ims_error_sys(err, errno, IMS_EGENERIC, "write the upload's temporary file");
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads everything into an anonymous temp file, hashing and counting. */
static int spool(ims_reader *rd, const char *tmp_dir, int *fd, char digest[IMS_DIGEST_BUFSZ], int64_t *size,
		 ims_error **err)
{
	*fd = ims_spool_tmpfile(tmp_dir, err);
	if (*fd < 0)
		return *fd;
	ims_sink file = { fd_write, fd };
	ims_sha256_sink h;
	ims_sha256_sink_init(&h, &file);
	long long n = 0;
	int r = ims_stream_copy(rd, &h.sink, &n, err);
	ims_sha256_sink_final(&h, digest);
	*size = n;
	return r;
}

int ims_exec_registry_upload(ims_exec_registry *x, ims_reader *rd, const char *want_digest, int64_t want_size,
			     char digest[IMS_DIGEST_BUFSZ], int64_t *size, ims_error **err)
{
	int fd = -1;
	int r = 0;
	if (want_digest && (r = ims_digest_check(want_digest, "upload", err)) < 0)
		return r;
	if ((r = spool(rd, x->env->tmp_dir, &fd, digest, size, err)) < 0)
		goto out;
	if (want_digest && strcmp(want_digest, digest)) {
		r = ims_error_set(err, IMS_EDIGEST, "the uploaded bytes hash to %s, not %s", digest, want_digest);
		goto out;
	}
	if (want_size >= 0 && want_size != *size) {
		r = ims_error_set(err, IMS_EDIGEST, "the upload is %lld bytes, not %lld", (long long)*size,
				  (long long)want_size);
		goto out;
	}
	bool have = false;
	if ((r = ims_registry_blob_head(x->reg, x->repository, digest, &have, NULL, err)) < 0 || have)
		goto out;
	r = ims_registry_blob_upload_fd(x->reg, x->repository, digest, fd, *size, NULL, err);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int ims_exec_registry_mount(ims_exec_registry *x, const char *digest, const char *from, bool *mounted, ims_error **err)
{
	*mounted = false;
	int r = ims_digest_check(digest, "mount", err);
	if (r < 0)
		return r;
	if (!from || !*from)
		return ims_error_set(err, IMS_EINVALID, "the repository to mount from is required");
	return ims_registry_blob_mount(x->reg, x->repository, digest, from, mounted, err);
}
