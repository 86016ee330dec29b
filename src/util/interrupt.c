#include "util/interrupt.h"

#include <stdatomic.h>

#include "util/error.h"

/* Process-wide like the signal that sets it; lock-free, so a store from a
 * signal handler is safe (C11 7.14.1.1). */
static atomic_int flag;

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the interrupt flag must be lock-free");

void ims__interrupt_set(bool on)
{
	atomic_store_explicit(&flag, on, memory_order_relaxed);
}

bool ims_interrupted(void)
{
	return atomic_load_explicit(&flag, memory_order_relaxed) != 0;
}

int ims_check_interrupt(ims_error **err)
{
	if (!ims_interrupted())
		return 0;
	return ims_error_set(err, IMS_EINTERRUPTED, "interrupted");
}
