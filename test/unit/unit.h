/*
 * unit.h
 *		A few lines of harness for the pure C unit tests: count checks, report
 *		failures with their place, and end with "N passed, N failed".
 */
#ifndef TRACKLY_UNIT_H
#define TRACKLY_UNIT_H

#include <stdio.h>

static int	unit_passed;
static int	unit_failed;

/* Counts one check; on failure prints where and the printf-style message. */
#define UNIT_CHECK(cond, ...) \
	do { \
		if (cond) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/* Prints the closing line and returns the process exit status. */
static inline int
unit_report(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
	return unit_failed == 0 && unit_passed > 0 ? 0 : 1;
}

#endif							/* TRACKLY_UNIT_H */
