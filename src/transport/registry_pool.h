/* The registry clients of one run, one per host, shared by the base and the
 * target transports (so connections, tokens and mounts are shared). */
#ifndef IMS_REGISTRY_POOL_H
#define IMS_REGISTRY_POOL_H

#include "auth/auth.h"
#include "http/http.h"
#include "transport/registry_client.h"
#include "transport/transport.h"

/* Takes no ownership of http; owns the ims_auth it creates from creds. */
int ims_registry_pool_new(ims_registry_pool **out, ims_http *http, ims_credentials_fn creds, void *creds_ud,
			  ims_error **err);
/* The client for host[:port] (created on first use). Borrowed. */
int ims_registry_pool_get(ims_registry_pool *p, const char *host, ims_registry **out, ims_error **err);
void ims_registry_pool_free(ims_registry_pool *p);

extern const ims_transport_ops ims_transport_registry_ops;

#endif
