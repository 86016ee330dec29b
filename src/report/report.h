/* The layer report, pure: comparing two images' report trees, and the
 * self-contained HTML page. The trees come from the executor
 * (exec/report.c); their shape is the report's JSON form (docs/cli.md,
 * "report"). Nothing here does I/O. */
#ifndef IMS_REPORT_REPORT_H
#define IMS_REPORT_REPORT_H

#include <stddef.h>

#include "json/json.h"

/* Marks in now what changed since before (another image's tree): an
 * "against" member, a "change" on every layer (same, moved, changed or
 * added, with the paths added, removed and changed against the layer at
 * the same position) and "removedLayers", before's layers past now's. */
void ims_report_compare(ims_json *now, const ims_json *before);

/* The page: one HTML document with inline CSS and JS only, every name and
 * value escaped. Caller frees. */
char *ims_report_html(const ims_json *report, size_t *len);

#endif
