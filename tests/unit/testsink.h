/* A sink for the unit tests that takes a budget of bytes, then fails as a
 * full disk or a broken upload does. */
#ifndef IMS_TEST_TESTSINK_H
#define IMS_TEST_TESTSINK_H

#include <stddef.h>

#include "util/error.h"
#include "util/stream.h"

/* ud: a size_t, the bytes still taken; a write past them fails. */
static inline int test_fail_after(void *ud, const void *p, size_t n, ims_error **err)
{
	size_t *left = ud;
	(void)p;
	if (n > *left)
		return ims_error_set(err, IMS_EGENERIC, "disk full");
	*left -= n;
	return 0;
}

#endif
