/* The retry policy: which answers are worth another try and how long to
 * wait. Exponential backoff with jitter spreads the retries of parallel
 * uploads, and Retry-After lets a registry that rate-limits say when. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"
#include "util/error.h"
#include "util/interrupt.h"

bool ims_http__retry_status(long status)
{
	switch (status) {
	case 408: /* request timeout */
	case 429: /* too many requests */
	case 500:
	case 502:
	case 503:
	case 504:
		return true;
	default:
		return false;
	}
}

uint64_t ims_http__rng_seed(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Threads that start together must not back off in step. */
	uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&ts ^
		     (uint64_t)pthread_self();
	return s ? s : 0x9e3779b97f4a7c15ull;
}

/* xorshift64*: enough for jitter, and each caller keeps its own state. */
static double uniform(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

double ims_http__backoff(const ims_http *h, int attempt, uint64_t *rng)
{
	/* Doubling in a loop, not pow(): the library does not link libm. */
	double d = h->backoff_initial;
	for (int i = 1; i < attempt && d < h->backoff_max; i++)
		d *= 2;
	if (d > h->backoff_max)
		d = h->backoff_max;
	return d * (0.8 + 0.4 * uniform(rng));
}

double ims_http__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double ims_http__left(const ims_http *h)
{
	if (!(h->deadline > 0))
		return -1;
	double left = h->deadline - ims_http__now();
	return left > 0 ? left : 0;
}

int ims_http__deadline_fail(const ims_http *h, ims_error **err, const char *method, const char *url)
{
	int rc = ims_http__fail(err, method, url, "stopped: the deadline of %g s (--timeout) has passed", h->timeout);
	ims_error_hint(err, "raise --timeout, or check the network and the registry");
	return rc;
}

void ims_http__sleep(double seconds)
{
	if (!(seconds > 0))
		return;
	/* in slices, so that an interrupt (ims_interrupt) ends the wait */
	while (seconds > 0 && !ims_interrupted()) {
		double slice = seconds < 0.1 ? seconds : 0.1;
		struct timespec ts = { 0, (long)(slice * 1e9) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ims_interrupted())
			;
		seconds -= slice;
	}
}

double ims_http_retry_after(const char *value)
{
	if (!value)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	if (!*value)
		return -1;
	if (isdigit((unsigned char)*value)) {
		/* delay-seconds = 1*DIGIT (RFC 9110 section 10.2.3) */
		double s = 0;
		const char *p = value;
		/* capped: a thousand digits must not make an infinite wait */
		for (; isdigit((unsigned char)*p); p++)
			s = s < 1e12 ? s * 10 + (*p - '0') : s;
		while (isspace((unsigned char)*p))
			p++;
		return *p ? -1 : s;
	}
	/* An HTTP date, which always starts with a day name; one in the past
	 * means "now". curl_getdate is thread-safe and reads the three formats
	 * RFC 9110 allows. */
	if (!isalpha((unsigned char)*value))
		return -1;
	time_t t = curl_getdate(value, NULL);
	if (t == -1)
		return -1;
	double d = difftime(t, time(NULL));
	return d > 0 ? d : 0;
}
