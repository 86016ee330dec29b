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

/* What a registry transport did with a blob during this run, so that the
 * executor can report it (`--json` "action"). */
typedef enum {
	IMS_REGISTRY_BLOB_NONE = 0,  /* not seen, or t is not a registry transport */
	IMS_REGISTRY_BLOB_UPLOADED,  /* committed through new_blob: uploaded (or queued) */
	IMS_REGISTRY_BLOB_MOUNTED,   /* mount_blob mounted it from another repository */
	IMS_REGISTRY_BLOB_SKIPPED,   /* has_blob found it already there */
} ims_registry_blob_action;

/* The action recorded for digest in t (IMS_REGISTRY_BLOB_*). The first
 * of uploaded/mounted wins; skipped never overrides them. */
int ims_transport_registry_blob_action(ims_transport *t, const char *digest);
/* "uploaded", "mounted", "skipped", or NULL for IMS_REGISTRY_BLOB_NONE. */
const char *ims_registry_blob_action_name(int action);

#endif
