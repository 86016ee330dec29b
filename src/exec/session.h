/* The HTTP client and registry pool of one run. */
#ifndef IMS_EXEC_SESSION_H
#define IMS_EXEC_SESSION_H

#include "api/internal.h"
#include "http/http.h"
#include "transport/registry_pool.h"

struct ims_google;

typedef struct {
	const ims_spec_model *spec; /* for auth and registries; may be NULL */
	ims_context *ctx;
	struct ims_google *google;
	ims_http *http;
	ims_registry_pool *pool;
	ims_http_host *hosts;
	size_t nhosts;
	char **paths; /* absolute CA and key paths the hosts point at */
	size_t npaths;
} ims_session;

/* spec may be NULL (inspect, copy, tags from the command line). */
int ims_session_open(ims_session *s, ims_context *ctx, const ims_spec_model *spec, ims_error **err);
void ims_session_close(ims_session *s);

#endif
