/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A deliberately tiny test harness: each assertion names the expression and the values it saw,
 * and the first failure aborts the test binary (meson reports it, the sanitizers get a stack).
 */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

#define ASSERT_TRUE(x)                                                                             \
	do {                                                                                       \
		if (!(x))                                                                          \
			TEST_FAIL("assertion failed: %s", #x);                                     \
	} while (0)

#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		intmax_t _a_ = (intmax_t)(a), _b_ = (intmax_t)(b);                                 \
		if (_a_ != _b_)                                                                    \
			TEST_FAIL("%s == %s: %jd != %jd", #a, #b, _a_, _b_);                       \
	} while (0)

#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		const char *_a_ = (a), *_b_ = (b);                                                 \
		if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0)                                         \
			TEST_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a_ ? _a_ : "(null)",      \
				  _b_ ? _b_ : "(null)");                                           \
	} while (0)

/* r is a 0-or-positive success or a negative errno. */
#define ASSERT_OK(r)                                                                               \
	do {                                                                                       \
		intmax_t _r_ = (intmax_t)(r);                                                      \
		if (_r_ < 0)                                                                       \
			TEST_FAIL("%s failed: %s", #r, strerror((int)-_r_));                       \
	} while (0)

#define ASSERT_ERRNO(r, e)                                                                         \
	do {                                                                                       \
		intmax_t _r_ = (intmax_t)(r);                                                      \
		if (_r_ != -(intmax_t)(e))                                                         \
			TEST_FAIL("%s: expected -%s, got %jd (%s)", #r, #e, _r_,                   \
				  _r_ < 0 ? strerror((int)-_r_) : "success");                      \
	} while (0)

#define TEST(name) static void test_##name(void)
#define RUN_TEST(name)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "== %s\n", #name);                                                 \
		test_##name();                                                                     \
	} while (0)
