/* Byte streams between rooms: a reader pulls, a sink is pushed to. */
#ifndef IMS_UTIL_STREAM_H
#define IMS_UTIL_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "imagespec/error.h"
#include "util/interrupt.h"

/* Where bytes go. write() returns 0 or a negative ims_error_code. */
typedef struct ims_sink {
	int (*write)(void *ud, const void *p, size_t n, ims_error **err);
	void *ud;
} ims_sink;

/* Where bytes come from. read() returns bytes read (0 at end) or a negative code. */
typedef struct ims_reader {
	ssize_t (*read)(void *ud, void *p, size_t n, ims_error **err);
	void (*close)(void *ud); /* frees ud; may be NULL */
	void *ud;
} ims_reader;

/* Every byte that moves passes here, so this is where an interrupted
 * build (ims_interrupt) stops, in whichever thread it is. */
static inline int ims_sink_write(ims_sink *s, const void *p, size_t n, ims_error **err)
{
	if (ims_interrupted())
		return ims_check_interrupt(err);
	return n ? s->write(s->ud, p, n, err) : 0;
}

static inline void ims_reader_close(ims_reader *r)
{
	if (r && r->close)
		r->close(r->ud);
	if (r) {
		r->close = NULL;
		r->ud = NULL;
	}
}

/* A sink that writes everything to a, then to b (a tee). */
typedef struct {
	ims_sink sink; /* write here */
	ims_sink *a, *b;
} ims_tee;
void ims_tee_init(ims_tee *t, ims_sink *a, ims_sink *b);

/* A sink that discards everything (for `plan`: hash without writing). */
ims_sink ims_sink_null(void);
/* A reader over an open fd; the reader owns the fd and closes it. */
ims_reader ims_reader_fd(int fd);
/* Copies everything from r to s. Returns bytes copied in *n (if non-NULL). */
int ims_stream_copy(ims_reader *r, ims_sink *s, long long *n, ims_error **err);

#endif
