/* The first question a build asks its target, before any byte is
 * compressed, so that a refused password or an unreachable registry fails
 * the build at once: for a registry, what the target's first tag names
 * now (one HEAD, whose answer the transport keeps for that tag's PUT).
 *
 * The local cache keeps the manifests this machine pushed, by digest. When
 * the tag names one of them, the target is asked ahead, on a thread of the
 * transport's own, for the layers it lists, while the first layer's files
 * are walked: a rebuild that changed nothing finds each answer given when
 * its layers are known, instead of making a round trip then. The answers
 * are asked for, never assumed from the manifest: a blob lost since is
 * uploaded again. Internal to the executor room. */
#ifndef IMS_EXEC_TARGET_TAG_H
#define IMS_EXEC_TARGET_TAG_H

#include "exec/exec_int.h"

/* Asks t (a registry target, or a dry run's probe) what tag names; tag
 * NULL: whether t has the empty blob (the question, without an answer to
 * keep). ahead: ask ahead as above, with the manifests docs keeps (not
 * with sync.ignoreExists, where every blob is written anyway; docs may be
 * NULL). */
int ims_exec_target_ask(ims_transport *t, const char *tag, bool ahead, ims_cache *docs, const ims_exec_env *env,
			ims_error **err);

/* The same question on a thread of its own, while the caller does
 * something else (loads the base from another registry). What it says
 * (env's events) is kept and said when it is finished. NULL when no
 * thread could start: the caller then asks the question itself
 * (ims_exec_target_ask). */
typedef struct ims_exec_target_question ims_exec_target_question;
ims_exec_target_question *ims_exec_target_ask_start(ims_transport *t, const char *tag, bool ahead, ims_cache *docs,
						    const ims_exec_env *env);
/* Waits for q and frees it. wanted: says what it said and returns its
 * answer (as ims_exec_target_ask); else (the build failed meanwhile)
 * drops both and returns 0. q NULL: returns 0. */
int ims_exec_target_ask_finish(ims_exec_target_question *q, bool wanted, ims_error **err);

/* Keeps a manifest pushed to a registry in docs, the local cache (nothing
 * when docs is NULL, or when it cannot keep it). */
void ims_exec_target_remember(ims_cache *docs, const char *data, size_t len, const char *digest);

#endif
