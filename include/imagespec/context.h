/**
 * @file imagespec/context.h
 * @brief Settings shared by every operation: temp dirs, registries, progress.
 */
#ifndef IMAGESPEC_CONTEXT_H
#define IMAGESPEC_CONTEXT_H

#include "common.h"
#include "error.h"

IMS_BEGIN_DECL

typedef struct ims_context ims_context;

/** Progress and warning events. The library never prints; it calls this. */
typedef enum {
	IMS_EVENT_INFO,     /**< a step started or finished ("building layer 1/3") */
	IMS_EVENT_WARNING,  /**< something the user should know */
	IMS_EVENT_PROGRESS, /**< bytes done of total for the current step */
} ims_event_kind;

typedef struct {
	ims_event_kind kind;
	const char *message; /**< one line, no newline */
	long long done;      /**< IMS_EVENT_PROGRESS only */
	long long total;     /**< -1 when unknown */
} ims_event;

typedef void (*ims_event_cb)(const ims_event *ev, void *ud);

/* 2 added timeout and low_speed_time; a version 1 struct is still taken. */
#define IMS_CONTEXT_OPTIONS_VERSION 2

typedef struct {
	int version;                  /**< IMS_CONTEXT_OPTIONS_VERSION */
	const char *tmp_dir;          /**< staging and spool files (NULL: $TMPDIR or /tmp) */
	const char *cache_dir;        /**< the layer cache (imagespec/cache.h); NULL: none */
	const char *const *insecure_registries; /**< hosts allowed plain HTTP / unverified TLS */
	size_t ninsecure_registries;
	const char *ca_cert;          /**< extra CA bundle (PEM) for every registry */
	int jobs;                     /**< parallel transfers; 0: 4 */
	int verbose;
	ims_event_cb on_event;
	void *event_ud;
	double timeout;               /**< (version 2) seconds within which every network request of an
				       *   operation must end, counted from its start; 0: no deadline */
	long low_speed_time;          /**< (version 2) a transfer below 1 KiB/s for this many seconds has
				       *   stalled and fails; 0: 30 */
} ims_context_options;

#define IMS_CONTEXT_OPTIONS_INIT { IMS_CONTEXT_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, NULL, 0, 0 }

/** Creates a context. opts may be NULL for the defaults. */
IMS_EXTERN(int) ims_context_new(ims_context **out, const ims_context_options *opts, ims_error **err);
/** Frees a context; NULL-safe. */
IMS_EXTERN(void) ims_context_free(ims_context *ctx);

IMS_END_DECL

#endif
