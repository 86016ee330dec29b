/* The credential store behind `imagespec auth login|logout|get`: docker's
 * config.json and credential helpers, through the auth room. */
#include <stdlib.h>
#include <string.h>

#include "auth/credstore.h"
#include "exec/exec.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int ims_exec_login(const ims_exec_env *env, const char *registry, const char *username, const char *password,
		   ims_error **err)
{
	(void)env;
	return ims_credstore_login(registry, username, password, err);
}

int ims_exec_logout(const ims_exec_env *env, const char *registry, ims_error **err)
{
	(void)env;
	return ims_credstore_logout(registry, err);
}

static void warn_cb(void *ud, const char *msg)
{
	ims_events_warn(ud, "%s", msg);
}

int ims_exec_lookup(const ims_exec_env *env, const char *server_url, char **username, char **secret, ims_error **err)
{
	*username = *secret = NULL;
	_cleanup_free_ char *reg = server_url ? ims_credstore_registry(server_url) : NULL;
	if (!reg)
		return ims_error_set(err, IMS_EINVALID, "the server URL is not a registry name");
	ims_credentials c;
	ims_events ev = env->ev;
	int r = ims_credstore_lookup(reg, &c, warn_cb, &ev, err);
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
