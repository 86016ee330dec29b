/* An upload that starts while its blob is still being written: a thread
 * sends the spool file as it grows (POST, chunked PATCHes that follow
 * the file, PUT ?digest= once the writer has committed), so that a big
 * layer's upload overlaps its compression instead of following it.
 *
 * If the streamed upload fails (a proxy that refuses chunked bodies, a
 * token that expired, a dropped connection), the complete file is uploaded
 * again the monolithic way, with its retries; if the writer aborts (the
 * registry turned out to have the blob, or the build failed), the session
 * is cancelled. Internal to the transport room. */
#ifndef IMS_TRANSPORT_REGISTRY_EAGER_H
#define IMS_TRANSPORT_REGISTRY_EAGER_H

#include <stdint.h>

#include "transport/registry_client.h"
#include "util/event.h"

typedef struct ims_eager_upload ims_eager_upload;

/* Starts sending fd (not owned until commit) to repo; label names it in
 * progress events sent to ev (may be NULL); finished(finished_ud) is
 * called by the thread when it is done sending (may be NULL). NULL when no
 * thread could be made (finished is not called): upload the usual way. */
ims_eager_upload *ims_eager_start(ims_registry *reg, const char *repo, int fd, const ims_events *ev,
				  const char *label, void (*finished)(void *), void *finished_ud);
/* The first n bytes of the file are written. */
void ims_eager_grow(ims_eager_upload *u, int64_t n);
/* The file is complete and verified: finish the upload under digest. Takes
 * ownership of fd (closed by ims_eager_wait). Returns at once. */
void ims_eager_commit(ims_eager_upload *u, const char *digest, int64_t size);
/* The blob is not wanted: cancel, join and free. */
void ims_eager_abort(ims_eager_upload *u);
/* After commit: waits for the upload, frees u, returns its outcome. */
int ims_eager_wait(ims_eager_upload *u, ims_error **err);

#endif
