/* ims_registry_client: the public face of exec/registry.c. */
#include <stdlib.h>
#include <string.h>

#include "api/context.h"
#include "imagespec/registry.h"
#include "util/error.h"
#include "util/xalloc.h"

struct ims_registry_client {
	ims_exec_env env; /* the context's, with the options' credentials first */
	ims_credential *owned;
	ims_exec_credential *creds;
	size_t ncreds;
	ims_exec_registry *x;
};

static void free_secret(const char *s)
{
	char *p = NULL;
	memcpy(&p, &s, sizeof(p)); /* a copy made here: its const is the public struct's */
	if (p)
		explicit_bzero(p, strlen(p));
	free(p);
}

void ims_registry_close(ims_registry_client *c)
{
	if (!c)
		return;
	ims_exec_registry_close(c->x);
	for (size_t i = 0; i < c->ncreds; i++) {
		free_secret(c->owned[i].registry);
		free_secret(c->owned[i].username);
		free_secret(c->owned[i].password);
		free_secret(c->owned[i].token);
	}
	free(c->owned);
	free(c->creds);
	free(c);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int ims_registry_open(ims_registry_client **out, ims_context *ctx, const char *registry, const char *repository,
		      const ims_registry_options *opts, ims_error **err)
{
	static const ims_registry_options defaults = IMS_REGISTRY_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != IMS_REGISTRY_OPTIONS_VERSION)
		return ims_error_set(err, IMS_EINVALID,
				     "ims_registry_options version %d is not supported (this library has %d)",
				     opts->version, IMS_REGISTRY_OPTIONS_VERSION);
	ims_registry_client *c = xcalloc(1, sizeof(*c));
	c->owned = xcalloc(opts->nauth + 1, sizeof(*c->owned));
	c->creds = xcalloc(opts->nauth + 1, sizeof(*c->creds));
	for (size_t i = 0; i < opts->nauth; i++) {
		const ims_credential *a = &opts->auth[i];
		char *key = dup_or_null(a->registry), *user = dup_or_null(a->username);
		char *pass = dup_or_null(a->password), *token = dup_or_null(a->token);
		c->owned[c->ncreds] = (ims_credential){ key, user, pass, token };
		c->creds[c->ncreds++] = (ims_exec_credential){ key ? key : "", user, pass, token };
	}
	c->env = ctx->env;
	c->env.creds = c->creds;
	c->env.ncreds = c->ncreds;
	int r = ims_exec_registry_open(&c->x, &c->env, registry, repository, err);
	if (r < 0) {
		ims_registry_close(c);
		return r;
	}
	*out = c;
	return 0;
}

int ims_registry_get_manifest(ims_registry_client *c, const char *reference, char **data, size_t *len,
			      char **media_type, char **digest, ims_error **err)
{
	char dg[IMS_DIGEST_BUFSZ];
	int r = ims_exec_registry_get_manifest(c->x, reference, data, len, media_type, dg, err);
	if (r >= 0 && digest)
		*digest = xstrdup(dg);
	return r < 0 ? r : 0;
}

int ims_registry_put_manifest(ims_registry_client *c, const char *tag, const char *data, size_t len,
			      const char *media_type, char **digest, ims_error **err)
{
	char dg[IMS_DIGEST_BUFSZ];
	int r = ims_exec_registry_put_manifest(c->x, tag, data, len, media_type, dg, err);
	if (r >= 0 && digest)
		*digest = xstrdup(dg);
	return r < 0 ? r : 0;
}

int ims_registry_list_tags(ims_registry_client *c, char ***tags, size_t *n, ims_error **err)
{
	int r = ims_exec_registry_tags(c->x, tags, n, err);
	return r < 0 ? r : 0;
}

int ims_registry_blob_exists(ims_registry_client *c, const char *digest, int *exists, long long *size, ims_error **err)
{
	bool have = false;
	int64_t n = -1;
	int r = ims_exec_registry_blob_exists(c->x, digest, &have, &n, err);
	if (r < 0)
		return r;
	*exists = have;
	if (size)
		*size = have ? n : -1;
	return 0;
}

typedef struct {
	ims_write_fn write;
	void *ud;
} user_sink;

static int sink_write(void *ud, const void *p, size_t n, ims_error **err)
{
	user_sink *u = ud;
	if (u->write(u->ud, p, n) < 0)
		return ims_error_set(err, IMS_EGENERIC, "the write callback failed");
	return 0;
}

int ims_registry_get_blob(ims_registry_client *c, const char *digest, ims_write_fn write, void *ud, ims_error **err)
{
	user_sink u = { write, ud };
	ims_sink s = { sink_write, &u };
	int r = ims_exec_registry_get_blob(c->x, digest, &s, err);
	return r < 0 ? r : 0;
}

typedef struct {
	ims_read_fn read;
	void *ud;
} user_reader;

static ssize_t reader_read(void *ud, void *p, size_t n, ims_error **err)
{
	user_reader *u = ud;
	long long got = u->read(u->ud, p, n);
	if (got < 0 || (size_t)got > n)
		return ims_error_set(err, IMS_EGENERIC, "the read callback failed");
	return (ssize_t)got;
}

int ims_registry_upload_blob(ims_registry_client *c, ims_read_fn read, void *ud, const char *digest, long long size,
			     char **out_digest, long long *out_size, ims_error **err)
{
	user_reader u = { read, ud };
	ims_reader rd = { reader_read, NULL, &u };
	char dg[IMS_DIGEST_BUFSZ];
	int64_t n = 0;
	int r = ims_exec_registry_upload(c->x, &rd, digest, size, dg, &n, err);
	if (r < 0)
		return r;
	if (out_digest)
		*out_digest = xstrdup(dg);
	if (out_size)
		*out_size = n;
	return 0;
}

int ims_registry_mount_blob(ims_registry_client *c, const char *digest, const char *from_repository, int *mounted,
			    ims_error **err)
{
	bool m = false;
	int r = ims_exec_registry_mount(c->x, digest, from_repository, &m, err);
	*mounted = m;
	return r < 0 ? r : 0;
}
