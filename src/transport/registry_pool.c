/* The registry clients of one run: one per host, created on first use and
 * shared by every transport (the base, the target, their upload workers),
 * so that the scheme decision, connections and tokens are made once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "transport/registry_pool.h"
#include "util/error.h"
#include "util/xalloc.h"

struct ims_registry_pool {
	pthread_mutex_t lock;
	ims_http *http;
	ims_auth *auth;
	ims_registry **regs;
	size_t n, cap;
};

int ims_registry_pool_new(ims_registry_pool **out, ims_http *http, ims_credentials_fn creds, void *creds_ud,
			  ims_error **err)
{
	ims_registry_pool *p = xcalloc(1, sizeof(*p));
	p->http = http;
	if (ims_auth_new(&p->auth, http, creds, creds_ud) < 0) {
		free(p);
		return ims_error_set(err, IMS_EGENERIC, "set up registry authentication");
	}
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

int ims_registry_pool_get(ims_registry_pool *p, const char *host, ims_registry **out, ims_error **err)
{
	int rc = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(ims_registry_host(p->regs[i]), host) == 0) {
			*out = p->regs[i];
			goto out;
		}
	}
	ims_registry *r = NULL;
	if ((rc = ims_registry_new(&r, p->http, p->auth, host, err)) < 0)
		goto out;
	p->regs = xgrow(p->regs, &p->cap, p->n + 1, sizeof(*p->regs));
	p->regs[p->n++] = r;
	*out = r;
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void ims_registry_pool_free(ims_registry_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		ims_registry_free(p->regs[i]);
	free(p->regs);
	ims_auth_free(p->auth);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
