/* Pulls through registries.conf: a base, a copy source or an inspected
 * image is read from the first of its mirrors that has it, then from its
 * primary location (containers-registries.conf(5) "Remapping and
 * mirroring registries"). Pushes never come here: they go to the
 * reference as written. */
#include <stdlib.h>
#include <string.h>

#include "exec/exec_int.h"
#include "regconf/regconf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static int open_one(ims_transport **t, const ims_ref *ref, const char *digest, const ims_transport_opts *o, char **data,
		    size_t *len, char **mt, ims_error **err)
{
	int r = ims_transport_open(t, ref, IMS_TRANSPORT_READ, o, err);
	if (r >= 0 && (r = ims_transport_get_manifest(*t, digest, data, len, mt, err)) < 0) {
		ims_transport_close(*t);
		*t = NULL;
	}
	return r;
}

int ims_exec_open_pull(ims_transport **t, const ims_ref *ref, const ims_transport_opts *o, const ims_session *s,
		       char **data, size_t *len, char **mt, ims_error **err)
{
	*t = NULL;
	const ims_regconf *conf = s ? s->conf : NULL;
	if (!conf || ref->kind != IMS_REF_REGISTRY)
		return open_one(t, ref, ref->digest, o, data, len, mt, err);
	ims_regconf_sources src;
	int r = ims_regconf_pull_sources(conf, ref, &src, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *logical = ims_ref_string(ref);
	for (size_t i = 0; i < src.n; i++) {
		_cleanup_free_ char *where = ims_ref_string(src.refs[i]);
		if (!src.is_mirror[i]) {
			if (strcmp(where, logical))
				ims_events_info(&o->ev, "pulling `%s` from `%s` (registries configuration)", logical,
						where);
			r = open_one(t, src.refs[i], ref->digest, o, data, len, mt, err);
			break;
		}
		ims_error *e = NULL;
		if ((r = open_one(t, src.refs[i], ref->digest, o, data, len, mt, &e)) >= 0) {
			ims_events_info(&o->ev, "pulling `%s` from mirror `%s`", logical, where);
			break;
		}
		if (r == IMS_EINTERRUPTED) {
			if (err && !*err)
				*err = steal_pointer(&e);
			ims_error_free(e);
			break;
		}
		ims_events_warn(&o->ev, "mirror `%s` of `%s`: %s; trying the next source", where, logical,
				e ? e->message : "failed");
		ims_error_free(e);
	}
	ims_regconf_sources_dispose(&src);
	return r;
}
