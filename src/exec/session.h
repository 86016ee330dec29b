/* The HTTP client and registry pool of one run. */
#ifndef IMS_EXEC_SESSION_H
#define IMS_EXEC_SESSION_H

#include "exec/exec.h"
#include "http/http.h"
#include "transport/registry_pool.h"

struct ims_google;
struct ims_regconf_s;

typedef struct {
	const ims_plan *plan; /* its auth and registries; may be NULL */
	const ims_exec_env *env;
	struct ims_google *google;
	ims_http *http;
	ims_registry_pool *pool;
	ims_http_host *hosts;
	size_t nhosts;
	char *ca_cert;              /* env->ca_cert, absolute */
	struct ims_regconf_s *conf; /* registries.conf (regconf/regconf.h) */
	char **conf_insecure;       /* the hosts it names insecure */
	size_t nconf_insecure;
} ims_session;

/* Opens a session for plan's registries (plan may be NULL). */
int ims_session_open(ims_session *s, const ims_exec_env *env, const ims_plan *plan, ims_error **err);
void ims_session_close(ims_session *s);
/* True when the plan touches a registry or fetches a URL. */
bool ims_session_needed(const ims_plan *p);

#endif
