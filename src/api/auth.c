/* ims_auth_*: the public face of the credential store. */
#include <stdlib.h>
#include <string.h>

#include "api/context.h"
#include "imagespec/auth.h"
#include "util/error.h"

int ims_auth_login(ims_context *ctx, const char *registry, const char *username, const char *password, ims_error **err)
{
	if (!registry || !username || !password)
		return ims_error_set(err, IMS_EINVALID, "log in: registry, username and password are required");
	return ims_exec_login(&ctx->env, registry, username, password, err);
}

int ims_auth_logout(ims_context *ctx, const char *registry, ims_error **err)
{
	if (!registry)
		return ims_error_set(err, IMS_EINVALID, "log out: a registry is required");
	return ims_exec_logout(&ctx->env, registry, err);
}

int ims_auth_get(ims_context *ctx, const char *server_url, char **username, char **secret, ims_error **err)
{
	return ims_exec_lookup(&ctx->env, server_url, username, secret, err);
}

void ims_auth_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
