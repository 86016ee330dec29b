/* The struct behind the public ims_context: the caller's settings, kept as
 * the executor takes them. Private to the public face. */
#ifndef IMS_API_CONTEXT_H
#define IMS_API_CONTEXT_H

#include "exec/exec.h"
#include "imagespec/context.h"

struct ims_context {
	ims_exec_env env; /* points at the strings below */
	char *tmp_dir;
	char *ca_cert;
	char **insecure;
	char *cache_dir;
};

#endif
