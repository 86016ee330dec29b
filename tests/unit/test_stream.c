/* util's streams: the async sink keeps the order of the bytes whatever the
 * sizes of the writes, reports its next sink's error (sticky) and never
 * calls the next sink after it is finished or freed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/async_sink.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "tap.h"

typedef struct {
	unsigned char *p;
	size_t len, cap;
	size_t calls;
	size_t fail_at; /* the call that fails (1-based); 0: never */
	pthread_t caller;
	bool other_thread; /* every call came from another thread than the caller's */
	atomic_bool closed; /* set once finish/free returned */
	atomic_bool late;   /* a call came after that */
} rec;

static int rec_write(void *ud, const void *p, size_t n, ims_error **err)
{
	rec *r = ud;
	if (atomic_load(&r->closed))
		atomic_store(&r->late, true);
	if (pthread_equal(pthread_self(), r->caller))
		r->other_thread = false;
	r->calls++;
	if (r->fail_at && r->calls == r->fail_at)
		return ims_error_set(err, IMS_EGENERIC, "disk full (call %zu)", r->calls);
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2;
		r->p = xrealloc(r->p, r->cap);
	}
	memcpy(r->p + r->len, p, n);
	r->len += n;
	return 0;
}

static void rec_init(rec *r)
{
	memset(r, 0, sizeof(*r));
	r->caller = pthread_self();
	r->other_thread = true;
}

static unsigned char *pattern(size_t n)
{
	unsigned char *p = xmalloc(n);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
	return p;
}

static void test_order(void)
{
	const size_t most = 3 * 1000 * 1000 + 17;
	unsigned char *data = pattern(most);
	static const size_t bufszs[] = { 1, 1000, 65536, 4 * 1024 * 1024 };
	for (size_t b = 0; b < sizeof(bufszs) / sizeof(bufszs[0]); b++) {
		/* one-byte buffers hand over every byte: fewer of them */
		const size_t total = bufszs[b] == 1 ? 60 * 1000 + 17 : most;
		rec r;
		rec_init(&r);
		ims_sink next = { rec_write, &r };
		ims_async_sink *a = NULL;
		ims_error *err = NULL;
		int rc = ims_async_sink_new(&a, &next, bufszs[b], 3, &err);
		ok(rc == 0, "order: made with buffers of %zu bytes", bufszs[b]);
		if (rc < 0) {
			ims_error_free(err);
			continue;
		}
		/* Writes of 0 to ~70,000 bytes, by a fixed sequence. */
		size_t at = 0, step = 0;
		while (rc == 0 && at < total) {
			size_t n = (step * 7919) % 70001;
			step++;
			if (n > total - at)
				n = total - at;
			rc = ims_sink_write(ims_async_sink_sink(a), data + at, n, &err);
			at += n;
		}
		if (rc == 0)
			rc = ims_async_sink_finish(a, &err);
		atomic_store(&r.closed, true);
		ok(rc == 0, "order (%zu-byte buffers): every write and finish succeed", bufszs[b]);
		ok(r.len == total && !memcmp(r.p, data, total), "order (%zu-byte buffers): the next sink got the bytes in order",
		   bufszs[b]);
		ok(r.other_thread, "order (%zu-byte buffers): the next sink ran on another thread", bufszs[b]);
		ims_async_sink_free(a);
		ok(!atomic_load(&r.late), "order (%zu-byte buffers): nothing after finish", bufszs[b]);
		ims_error_free(err);
		free(r.p);
	}
	free(data);
}

static void test_failure(void)
{
	const size_t total = 2 * 1000 * 1000;
	unsigned char *data = pattern(total);
	rec r;
	rec_init(&r);
	r.fail_at = 3;
	ims_sink next = { rec_write, &r };
	ims_async_sink *a = NULL;
	ims_error *err = NULL;
	ok(ims_async_sink_new(&a, &next, 10000, 4, &err) == 0, "failure: made");
	int rc = 0;
	size_t at = 0;
	while (rc == 0 && at < total) {
		rc = ims_sink_write(ims_async_sink_sink(a), data + at, 5000, &err);
		at += 5000;
	}
	bool from_write = rc < 0;
	if (rc == 0)
		rc = ims_async_sink_finish(a, &err);
	ok(rc == IMS_EGENERIC && err && strstr(err->message, "disk full (call 3)"),
	   "failure: the next sink's error comes back (from %s): %s", from_write ? "a write" : "finish",
	   err ? err->message : "none");
	ims_error_clear(&err);
	rc = ims_sink_write(ims_async_sink_sink(a), data, 10, &err);
	ok(rc < 0 && err && strstr(err->message, from_write ? "disk full" : "after the end"),
	   "failure: ... and again on the next call: %s", err ? err->message : "none");
	ims_error_clear(&err);
	if (from_write) {
		rc = ims_async_sink_finish(a, &err);
		ok(rc < 0 && err && strstr(err->message, "disk full"), "failure: ... and from finish: %s",
		   err ? err->message : "none");
		ims_error_clear(&err);
	} else {
		ok(true, "failure: ... (finish reported it already)");
	}
	atomic_store(&r.closed, true);
	is_int(r.calls, 3, "failure: the next sink was not called after it failed");
	is_int(r.len, 20000, "failure: it got the two buffers before");
	ims_async_sink_free(a);
	ok(!atomic_load(&r.late), "failure: nothing after finish");
	free(r.p);
	free(data);
}

static void test_abandon(void)
{
	const size_t total = 1000 * 1000;
	unsigned char *data = pattern(total);
	rec r;
	rec_init(&r);
	ims_sink next = { rec_write, &r };
	ims_async_sink *a = NULL;
	ims_error *err = NULL;
	ok(ims_async_sink_new(&a, &next, 4096, 4, &err) == 0, "abandon: made");
	int rc = 0;
	for (size_t at = 0; rc == 0 && at < total; at += 3000)
		rc = ims_sink_write(ims_async_sink_sink(a), data + at, total - at < 3000 ? total - at : 3000, &err);
	ok(rc == 0, "abandon: writes succeed");
	ims_async_sink_free(a);
	atomic_store(&r.closed, true);
	ok(r.len <= total && !memcmp(r.p, data, r.len),
	   "abandon: freed unfinished, the next sink got a prefix of the bytes (%zu of %zu)", r.len, total);
	ok(!atomic_load(&r.late), "abandon: nothing after free");
	/* Freed right after it was made, and NULL. */
	ok(ims_async_sink_new(&a, &next, 10, 2, &err) == 0, "abandon: made again");
	ims_async_sink_free(a);
	ims_async_sink_free(NULL);
	ok(true, "abandon: freeing an unused sink and NULL");
	free(r.p);
	free(data);
}

int main(void)
{
	test_order();
	test_failure();
	test_abandon();
	return tap_done();
}
