/* Basic authentication (RFC 7617): the value sent to a registry that asks
 * for it, and to a token server when credentials are exchanged. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "digest/base64.h"
#include "util/error.h"
#include "util/xalloc.h"

int ims_auth__basic_value(const ims_credentials *c, char **out, ims_error **err)
{
	const char *user = c->username ? c->username : "", *pass = c->password ? c->password : "";
	/* RFC 7617: a user-id with a colon cannot be told apart from the
	 * password; the registry would see other credentials than intended. */
	if (strchr(user, ':'))
		return ims_error_set(err, IMS_EINVALID, "the username from %s contains `:`", ims_auth__source(c));
	size_t ul = strlen(user), pl = strlen(pass);
	char *pair = xmalloc(ul + pl + 2);
	memcpy(pair, user, ul);
	pair[ul] = ':';
	memcpy(pair + ul + 1, pass, pl + 1);
	char *b64 = ims_base64_encode(IMS_BASE64_STD, pair, ul + pl + 1);
	ims_auth__free_secret(pair);
	*out = xasprintf("Basic %s", b64);
	ims_auth__free_secret(b64);
	return 0;
}

/* A Basic challenge. There is nothing to exchange: the credentials are the
 * answer, so a refusal of them (renew) or having none is final. */
int ims_auth__basic(const ims_credentials *c, const char *registry, bool renew, char **out, ims_error **err)
{
	if (ims_auth__anonymous(c))
		return ims_error_set(err, IMS_EAUTH, "anonymous access to `%s` was refused; log in or add credentials",
				     registry);
	if (renew)
		return ims_error_set(err, IMS_EAUTH, "registry `%s` refused the credentials from %s", registry,
				     ims_auth__source(c));
	if (!c->username || !*c->username || !c->password)
		return ims_error_set(err, IMS_EAUTH,
				     "registry `%s` asks for a username and password (Basic), but %s has none",
				     registry, ims_auth__source(c));
	return ims_auth__basic_value(c, out, err);
}
