/* Temp-file spooling for the registry transport: blobs being written are
 * kept in an unlinked file until their digest is known and verified (then
 * uploaded from it, with a Content-Length); blobs being read are fetched
 * whole, verified, and then read back. Internal to the transport room. */
#ifndef IMS_TRANSPORT_REGISTRY_SPOOL_H
#define IMS_TRANSPORT_REGISTRY_SPOOL_H

#include <stdint.h>

#include "transport/registry_client.h"
#include "transport/transport.h"

/* An anonymous read-write file in dir (NULL: $TMPDIR, else /tmp): nothing
 * to clean up after a crash. Returns the fd or a negative code. */
int ims_spool_tmpfile(const char *dir, ims_error **err);

/* Called by commit once the spooled bytes match digest and size; takes
 * ownership of fd (positioned anywhere). */
typedef int (*ims_spool_done_fn)(void *ud, int fd, const char *digest, int64_t size, ims_error **err);

/* A writer that spools and hashes; commit verifies, then hands the file to
 * done. what names the destination in messages. */
int ims_spool_writer_new(ims_blob_writer **out, const char *dir, const char *what, ims_spool_done_fn done, void *ud,
			 ims_error **err);

/* Optional: told of each write (the file now holds total bytes), and, when
 * the file is not handed to done (abort, or a commit that fails), told
 * once before the file is closed. Both get the done function's ud. */
typedef struct {
	void (*grew)(void *ud, int fd, int64_t total);
	void (*dropped)(void *ud);
} ims_spool_hooks;
void ims_spool_writer_hooks(ims_blob_writer *w, const ims_spool_hooks *hooks);

/* A reader for a blob of repo on reg: the first read GETs it into a spool
 * file (verified against digest, and size when >= 0), later reads read it
 * back. The file goes away with close. */
void ims_spool_reader(ims_reader *out, ims_registry *reg, const char *repo, const char *digest, int64_t size,
		      const char *dir);

#endif
