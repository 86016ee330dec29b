/* Opening a transport from a reference string, for the unit tests of the
 * rooms that use transports (test_transport.c, test_exec.c). */
#ifndef IMS_TEST_TESTREF_H
#define IMS_TEST_TESTREF_H

#include "ref/ref.h"
#include "transport/transport.h"

/* s ("oci:DIR", "docker-archive:FILE"...) opened with mode; relative paths
 * and temp files go to dir. */
static inline int test_open_ref(ims_transport **t, const char *dir, const char *s, int mode, ims_error **err)
{
	ims_ref *ref = NULL;
	int r = ims_ref_parse(&ref, s, err);
	if (r < 0)
		return r;
	ims_transport_opts opts = { .base_dir = dir, .tmp_dir = dir };
	r = ims_transport_open(t, ref, mode, &opts, err);
	ims_ref_free(ref);
	return r;
}

#endif
