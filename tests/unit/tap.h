/* A minimal TAP producer for the unit tests (meson protocol: 'tap'). */
#ifndef IMS_TESTS_TAP_H
#define IMS_TESTS_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                   \
	do {                                                            \
		int _okc = !!(cond);                                    \
		printf("%s %d - ", _okc ? "ok" : "not ok", ++tap_n);    \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
		if (!_okc) {                                            \
			tap_failed++;                                   \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                       \
	} while (0)

#define is_str(a, b, ...)                                                            \
	do {                                                                         \
		const char *_a = (a), *_b = (b);                                     \
		int _c = (_a && _b) ? !strcmp(_a, _b) : _a == _b;                    \
		ok(_c, __VA_ARGS__);                                                 \
		if (!_c)                                                             \
			printf("#   got:      '%s'\n#   expected: '%s'\n", _a ? _a : "(null)", \
			       _b ? _b : "(null)");                                  \
	} while (0)

#define is_int(a, b, ...)                                                               \
	do {                                                                            \
		long long _a = (long long)(a), _b = (long long)(b);                     \
		ok(_a == _b, __VA_ARGS__);                                              \
		if (_a != _b)                                                           \
			printf("#   got: %lld expected: %lld\n", _a, _b);                \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
