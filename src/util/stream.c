#include "util/stream.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/error.h"
#include "util/xalloc.h"

static int null_write(void *ud, const void *p, size_t n, ims_error **err)
{
	(void)ud, (void)p, (void)n, (void)err;
	return 0;
}

ims_sink ims_sink_null(void)
{
	return (ims_sink){ null_write, NULL };
}

static ssize_t fd_read(void *ud, void *p, size_t n, ims_error **err)
{
	int fd = (int)(intptr_t)ud;
	if (ims_interrupted())
		return ims_check_interrupt(err);
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return ims_error_sys(err, errno, IMS_EGENERIC, "read");
	}
}

static void fd_close(void *ud)
{
	close((int)(intptr_t)ud);
}

ims_reader ims_reader_fd(int fd)
{
	return (ims_reader){ fd_read, fd_close, (void *)(intptr_t)fd };
}

int ims_stream_copy(ims_reader *r, ims_sink *s, long long *n, ims_error **err)
{
	enum { BUFSZ = 1 << 17 };
	char *buf = xmalloc(BUFSZ);
	long long total = 0;
	int ret = 0;
	for (;;) {
		ssize_t got = r->read(r->ud, buf, BUFSZ, err);
		if (got < 0) {
			ret = (int)got;
			break;
		}
		if (got == 0)
			break;
		if ((ret = ims_sink_write(s, buf, (size_t)got, err)) < 0)
			break;
		total += got;
	}
	free(buf);
	if (n)
		*n = total;
	return ret;
}

static int tee_write(void *ud, const void *p, size_t n, ims_error **err)
{
	ims_tee *t = ud;
	int r = ims_sink_write(t->a, p, n, err);
	return r < 0 ? r : ims_sink_write(t->b, p, n, err);
}

void ims_tee_init(ims_tee *t, ims_sink *a, ims_sink *b)
{
	t->sink = (ims_sink){ tee_write, t };
	t->a = a;
	t->b = b;
}
