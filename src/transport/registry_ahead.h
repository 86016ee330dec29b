/* Blobs asked for ahead (the registry transport's ask_ahead): a list of
 * digests whose existence one thread of its own asks in turn, while the
 * caller does other work (a tree is walked), so that the caller's own
 * has_blob finds the answer given instead of making the round trip then.
 *
 * Each digest is asked once: the caller takes an answer given, waits for
 * one in flight, and takes over a digest not asked yet (it asks itself,
 * and the thread skips it). A question that failed leaves the digest to
 * the caller, who asks again and reports what it gets. Internal to the
 * transport room. */
#ifndef IMS_TRANSPORT_REGISTRY_AHEAD_H
#define IMS_TRANSPORT_REGISTRY_AHEAD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ims_blob_ahead ims_blob_ahead;

/* Asks whether digest is there: 0 with *exists set, or < 0 (failed). Runs
 * on the list's thread. */
typedef int (*ims_blob_ahead_ask)(void *ud, const char *digest, bool *exists);

/* Copies digests and starts the thread; NULL when n is 0 or no thread
 * could be started (the caller asks for each as before). */
ims_blob_ahead *ims_blob_ahead_start(const char *const *digests, size_t n, ims_blob_ahead_ask ask, void *ud);

enum {
	IMS_AHEAD_ASK = -1, /* not on the list, not asked yet, or the question failed: ask */
	IMS_AHEAD_ABSENT = 0,
	IMS_AHEAD_PRESENT = 1,
};

/* The answer for digest (IMS_AHEAD_*), waiting while it is being asked.
 * NULL-safe (IMS_AHEAD_ASK). */
int ims_blob_ahead_take(ims_blob_ahead *a, const char *digest);

/* Stops the list (a question in flight is waited for), joins the thread
 * and frees it; NULL-safe. */
void ims_blob_ahead_free(ims_blob_ahead *a);

#endif
