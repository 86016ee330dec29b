#include "exec/exec.h"
#include "imagespec/imagespec.h"
#include "ims_config.h"
#include "util/interrupt.h"

extern const char ims_schema_json[];

/* The only global state of the library: libcurl's and libarchive's, loaded
 * below exec when first needed (util/lazylib.c). */
int ims_init(void)
{
	return ims_exec_global_init();
}

void ims_shutdown(void)
{
	ims_exec_global_cleanup();
}

void ims_interrupt(void)
{
	ims__interrupt_set(true);
}

void ims_interrupt_clear(void)
{
	ims__interrupt_set(false);
}

const char *ims_version(void)
{
	return IMS_VERSION;
}

const char *ims_schema(void)
{
	return ims_schema_json;
}
