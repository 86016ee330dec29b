/* ims_auth_*: the public face of src/auth/credstore.h. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "auth/credstore.h"
#include "imagespec/auth.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int ims_auth_login(ims_context *ctx, const char *registry, const char *username, const char *password, ims_error **err)
{
	(void)ctx;
	if (!registry || !username || !password)
		return ims_error_set(err, IMS_EINVALID, "log in: registry, username and password are required");
	return ims_credstore_login(registry, username, password, err);
}

int ims_auth_logout(ims_context *ctx, const char *registry, ims_error **err)
{
	(void)ctx;
	if (!registry)
		return ims_error_set(err, IMS_EINVALID, "log out: a registry is required");
	return ims_credstore_logout(registry, err);
}

static void warn_ctx(void *ud, const char *msg)
{
	ims_ctx_warn(ud, "%s", msg);
}

int ims_auth_get(ims_context *ctx, const char *server_url, char **username, char **secret, ims_error **err)
{
	*username = *secret = NULL;
	_cleanup_free_ char *reg = server_url ? ims_credstore_registry(server_url) : NULL;
	if (!reg)
		return ims_error_set(err, IMS_EINVALID, "the server URL is not a registry name");
	ims_credentials c;
	int r = ims_credstore_lookup(reg, &c, warn_ctx, ctx, err);
	if (r < 0)
		return r;
	/* The helper protocol has two fields; an identity token travels
	 * as the secret of the user "<token>" (docker/cli). */
	if (c.identity_token && *c.identity_token) {
		*username = xstrdup("<token>");
		*secret = xstrdup(c.identity_token);
	} else if (c.password && *c.password) {
		*username = xstrdup(c.username ? c.username : "");
		*secret = xstrdup(c.password);
	} else {
		r = ims_error_set(err, IMS_ENOTFOUND, "no credentials for `%s`", reg);
	}
	ims_credentials_dispose(&c);
	return r;
}

void ims_auth_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
