/* The OCI layout transport, opened directly on a directory: the archive
 * transports extract into (or stage in) a private directory and delegate
 * here. Internal to the transport room. */
#ifndef IMS_TRANSPORT_OCI_LAYOUT_H
#define IMS_TRANSPORT_OCI_LAYOUT_H

#include "transport/transport.h"

#define IMS_OCI_REF_NAME "org.opencontainers.image.ref.name"

/* Opens the layout at dir (absolute) for mode; name is the ref.name to
 * resolve or tag with (NULL: none); shown names the location in messages,
 * e.g. "oci-archive `img.tar`", so users never see the temp directory. */
int ims_oci_layout_open_dir(ims_transport **out, const char *dir, const char *name, int mode, const char *shown,
			    ims_error **err);

/* True for a valid org.opencontainers.image.ref.name (the image-spec
 * grammar: alphanumeric components joined by one of -._:@/+ or "--"). */
bool ims_oci_ref_name_valid(const char *s);

/* The ref.name annotation of an index entry, or NULL. */
const char *ims_oci_ref_name(const ims_descriptor *d);

#endif
