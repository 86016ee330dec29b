/* The interrupt flag: set by ims_interrupt() (async-signal-safe, from a
 * signal handler), polled by every loop that moves bytes or waits, so
 * that an interrupted build unwinds through its ordinary error paths and
 * removes what it wrote. */
#ifndef IMS_UTIL_INTERRUPT_H
#define IMS_UTIL_INTERRUPT_H

#include <stdbool.h>

#include "imagespec/error.h"

void ims__interrupt_set(bool on);
bool ims_interrupted(void);
/* 0, or IMS_EINTERRUPTED with "interrupted" in err. */
int ims_check_interrupt(ims_error **err);

#endif
