#include "exec/target_tag.h"

#include <pthread.h>
#include <stdlib.h>

#include "cache/cache.h"
#include "digest/digest.h"
#include "json/oci.h"
#include "ref/ref.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The layers of the manifest digest names, when the local cache docs
 * holds it (checked against the digest as it is read); NULL, *n 0,
 * otherwise. */
static char **remembered_layers(ims_cache *docs, const char *digest, size_t *n)
{
	*n = 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	bool found = docs && ims_cache_blob_read(docs, digest, IMS_MANIFEST_MAX, &data, &len);
	ims_error *e = NULL;
	ims_manifest *m = NULL;
	_cleanup_free_ char *detected = NULL;
	ims_doc_kind kind;
	if (!found || ims_doc_detect(data, len, NULL, &kind, &detected, &e) < 0 || kind != IMS_DOC_MANIFEST ||
	    ims_manifest_parse(&m, data, len, &e) < 0) {
		ims_error_free(e); /* an index, or bytes no build of ours wrote: ask as usual */
		return NULL;
	}
	char **v = xcalloc(m->nlayers + 1, sizeof(*v));
	for (size_t i = 0; i < m->nlayers; i++)
		v[(*n)++] = xstrdup(m->layers[i].digest);
	ims_manifest_free(m);
	return v;
}

int ims_exec_target_ask(ims_transport *t, const char *tag, bool ahead, ims_cache *docs, const ims_exec_env *env,
			ims_error **err)
{
	if (!tag) {
		char none[IMS_DIGEST_BUFSZ];
		bool have = false;
		ims_sha256_buf("", 0, none);
		return ims_transport_has_blob(t, none, &have, err);
	}
	char at[IMS_DIGEST_BUFSZ];
	int r = ims_transport_tag_names(t, tag, at, err);
	if (r < 0 || !*at || !ahead)
		return r;
	size_t n = 0;
	char **layers = remembered_layers(docs, at, &n);
	if (n && ims_transport_ask_ahead(t, (const char *const *)layers, n) && env->verbose > 0) {
		_cleanup_free_ char *ts = ims_ref_string(t->ref);
		ims_events_info(&env->ev, "asking ahead for the %zu layer%s of the manifest `%s` names now", n,
				n == 1 ? "" : "s", ts);
	}
	for (size_t i = 0; i < n; i++)
		free(layers[i]);
	free(layers);
	return 0;
}

struct ims_exec_target_question {
	ims_transport *t;
	char *tag;
	bool ahead;
	ims_cache *docs;
	const ims_exec_env *env; /* the caller's: said to when finished */
	ims_exec_env own;        /* the same, saying into said */
	ims_events_log said;
	pthread_t thread;
	int r;
	ims_error *err;
};

static void *ask(void *ud)
{
	ims_exec_target_question *q = ud;
	q->r = ims_exec_target_ask(q->t, q->tag, q->ahead, q->docs, &q->own, &q->err);
	return NULL;
}

ims_exec_target_question *ims_exec_target_ask_start(ims_transport *t, const char *tag, bool ahead, ims_cache *docs,
						    const ims_exec_env *env)
{
	ims_exec_target_question *q = xcalloc(1, sizeof(*q));
	*q = (ims_exec_target_question){
		.t = t, .tag = tag ? xstrdup(tag) : NULL, .ahead = ahead, .docs = docs, .env = env, .own = *env
	};
	ims_events_log_init(&q->said);
	q->own.ev = q->said.ev;
	if (pthread_create(&q->thread, NULL, ask, q) != 0) {
		ims_events_log_dispose(&q->said);
		free(q->tag);
		free(q);
		return NULL;
	}
	return q;
}

int ims_exec_target_ask_finish(ims_exec_target_question *q, bool wanted, ims_error **err)
{
	if (!q)
		return 0;
	pthread_join(q->thread, NULL);
	int r = wanted ? q->r : 0;
	if (wanted) {
		ims_events_log_replay(&q->said, &q->env->ev);
		if (r < 0)
			ims_error_pass(err, &q->err);
	}
	ims_error_free(q->err);
	ims_events_log_dispose(&q->said);
	free(q->tag);
	free(q);
	return r;
}

void ims_exec_target_remember(ims_cache *docs, const char *data, size_t len, const char *digest)
{
	ims_error *e = NULL;
	if (docs && !ims_cache_blob_has(docs, digest, NULL))
		ims_cache_blob_put(docs, digest, data, len, &e); /* not kept: the next build asks as usual */
	ims_error_free(e);
}
