/* A layer's entries as a tree of names (report/tree.c). */
#ifndef IMS_REPORT_TREE_H
#define IMS_REPORT_TREE_H

#include <stdint.h>

#include "json/json.h"

typedef struct ims_report_node ims_report_node;
struct ims_report_node {
	char *name;            /* one path component */
	const ims_json *entry; /* the tar entry at this path (borrowed), or NULL for a directory only implied */
	ims_report_node **kids;
	size_t n, cap;
	int64_t total; /* bytes of this entry and everything below */
};

/* The tree of a layer's "files" array; the nodes borrow its entries. */
ims_report_node *ims_report_tree(const ims_json *files);
void ims_report_tree_free(ims_report_node *n);

#endif
