/*
 * fuzz_iso8601.c
 *		libFuzzer target for the strict ISO 8601 parser (src/iso8601.c).
 *
 * Each input is copied into a buffer of exactly its size, with no NUL after
 * it, so AddressSanitizer catches any read past len.  For a valid verdict
 * the result is checked against the text by other means than the parser's:
 * the fields read back from their fixed places, a calendar check with its
 * own leap-year rule, the rounding of the fraction by comparing its digits
 * with "5000...", and pg_usec recomputed by counting days from 0001-01-01.
 * For every input the verdict must be deterministic, and iso8601_explain
 * must stay inside buffers of 0, 1, 7 and 200 bytes and NUL-terminate them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iso8601.h"

/* Days from 0001-01-01 to 2000-01-01. */
#define DAYS_0001_TO_2000	730119

/* Days before the first of each month in a common year. */
static const int days_before_month[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

/* Stops the run when a property does not hold. */
static void
require(bool property)
{
	if (!property)
		abort();
}

/* Whether year has a 29 February: every 4th year but centuries not divisible by 400. */
static bool
fuzz_is_leap(int year)
{
	if (year % 400 == 0)
		return true;
	if (year % 100 == 0)
		return false;
	return year % 4 == 0;
}

/* The number written by the n ASCII digits at s. */
static int
digits_value(const uint8_t *s, int n)
{
	int			value = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		require(s[i] >= '0' && s[i] <= '9');
		value = value * 10 + (s[i] - '0');
	}
	return value;
}

/* Days from 0001-01-01 to the given (valid) date, by counting whole years and months. */
static int64_t
days_since_year_one(int year, int month, int day)
{
	int64_t		past_years = year - 1;
	int64_t		days;

	days = past_years * 365 + past_years / 4 - past_years / 100 + past_years / 400;
	days += days_before_month[month];
	if (month > 2 && fuzz_is_leap(year))
		days++;
	return days + day - 1;
}

/*
 * The microseconds a fraction of n digits rounds to, ties to even, by
 * comparing the digits after the 6th with "5000...".
 */
static int32_t
rounded_fraction(const uint8_t *digits, size_t n)
{
	int32_t		usec = 0;
	size_t		i;
	int			versus_half = -1;	/* below, at or above half a microsecond */

	for (i = 0; i < 6; i++)
		usec = usec * 10 + (i < n ? digits[i] - '0' : 0);
	if (n > 6)
	{
		versus_half = digits[6] < '5' ? -1 : digits[6] > '5' ? 1 : 0;
		for (i = 7; i < n && versus_half == 0; i++)
			if (digits[i] != '0')
				versus_half = 1;
	}
	if (versus_half > 0 || (versus_half == 0 && usec % 2 == 1))
		usec++;
	return usec;
}

/* Checks a valid result against the text it came from. */
static void
check_valid(const uint8_t *s, size_t len, const Iso8601Time *t)
{
	static const int month_days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t		i;
	size_t		pos;
	int			month_length;
	int32_t		offset = 0;
	int64_t		days;
	int64_t		expected_usec;

	require(len >= 16);
	for (i = 0; i < len; i++)
		require(memchr("0123456789-:Tt .,Zz+", s[i], 21) != NULL);

	/* the fields stand where the grammar puts them */
	require(t->year == digits_value(s, 4));
	require(t->month == digits_value(s + 5, 2));
	require(t->day == digits_value(s + 8, 2));
	require(t->hour == digits_value(s + 11, 2));
	require(t->minute == digits_value(s + 14, 2));
	require(s[4] == '-' && s[7] == '-' && s[13] == ':');
	require(s[10] == 'T' || s[10] == 't' || s[10] == ' ');

	/* the date exists, the time is in range */
	require(t->year >= 1 && t->year <= 9999);
	require(t->month >= 1 && t->month <= 12);
	month_length = month_days[t->month] + (t->month == 2 && fuzz_is_leap(t->year));
	require(t->day >= 1 && t->day <= month_length);
	require(t->hour >= 0 && t->hour <= 23);
	require(t->minute >= 0 && t->minute <= 59);
	require(t->second >= 0 && t->second <= 60);
	require(t->microsecond >= 0 && t->microsecond <= 1000000);

	/* seconds and fraction */
	pos = 16;
	if (pos < len && s[pos] == ':')
	{
		require(t->second == digits_value(s + 17, 2));
		pos = 19;
		if (pos < len && (s[pos] == '.' || s[pos] == ','))
		{
			size_t		first = ++pos;

			while (pos < len && s[pos] >= '0' && s[pos] <= '9')
				pos++;
			require(pos > first);
			require(t->microsecond == rounded_fraction(s + first, pos - first));
		}
		else
			require(t->microsecond == 0);
	}
	else
		require(t->second == 0 && t->microsecond == 0);

	/* the offset, then the end */
	require(t->has_offset == (pos < len));
	if (pos < len && (s[pos] == 'Z' || s[pos] == 'z'))
		require(pos + 1 == len);
	else if (pos < len)
	{
		size_t		rest = len - pos;
		int			minutes = rest == 6 ? digits_value(s + pos + 4, 2) :
			rest == 5 ? digits_value(s + pos + 3, 2) : 0;

		require(s[pos] == '+' || s[pos] == '-');
		require(rest == 3 || rest == 5 || (rest == 6 && s[pos + 3] == ':'));
		offset = digits_value(s + pos + 1, 2) * 3600 + minutes * 60;
		require(offset <= 23 * 3600 + 59 * 60 && minutes <= 59);
		if (s[pos] == '-')
			offset = -offset;
	}
	require(t->offset_seconds == offset);

	/* the instant, by counting days from year one */
	days = days_since_year_one(t->year, t->month, t->day) - DAYS_0001_TO_2000;
	expected_usec = ((days * 24 + t->hour) * 60 + t->minute) * 60 + t->second;
	expected_usec = (expected_usec - offset) * 1000000 + t->microsecond;
	require(t->pg_usec == expected_usec);
}

/* Checks iso8601_explain in a buffer of exactly bufsize bytes against the full text. */
static void
check_explain(const char *s, size_t len, size_t bufsize, const char *full, size_t full_len)
{
	char	   *buf = malloc(bufsize);
	size_t		n;
	size_t		kept;

	require(buf != NULL || bufsize == 0);
	n = iso8601_explain(s, len, buf, bufsize);
	require(n == full_len);
	if (bufsize > 0)
	{
		kept = full_len < bufsize - 1 ? full_len : bufsize - 1;
		require(memchr(buf, '\0', bufsize) == buf + kept);
		require(memcmp(buf, full, kept) == 0);
	}
	free(buf);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size);
	Iso8601Time first;
	Iso8601Time second;
	Iso8601Verdict verdict;
	char		full[200];
	size_t		full_len;

	require(s != NULL || size == 0);
	if (size > 0)
		memcpy(s, data, size);

	memset(&first, 0, sizeof(first));
	memset(&second, 0xa5, sizeof(second));
	verdict = iso8601_parse(s, size, &first);
	require(verdict >= ISO8601_VALID && verdict <= ISO8601_BAD_OFFSET);
	require(iso8601_parse(s, size, &second) == verdict);
	require(iso8601_parse(s, size, NULL) == verdict);
	require((size == 0) == (verdict == ISO8601_EMPTY));

	if (verdict == ISO8601_VALID)
	{
		check_valid((const uint8_t *) s, size, &first);
		require(first.year == second.year && first.month == second.month &&
				first.day == second.day && first.hour == second.hour &&
				first.minute == second.minute && first.second == second.second &&
				first.microsecond == second.microsecond &&
				first.offset_seconds == second.offset_seconds &&
				first.has_offset == second.has_offset &&
				first.pg_usec == second.pg_usec);
	}

	full_len = iso8601_explain(s, size, full, sizeof(full));
	require(full_len > 0 && full_len < sizeof(full) - 1);
	require(strlen(full) == full_len);
	require((verdict == ISO8601_VALID) == (strcmp(full, "valid") == 0));
	check_explain(s, size, 0, full, full_len);
	check_explain(s, size, 1, full, full_len);
	check_explain(s, size, 7, full, full_len);
	check_explain(s, size, 200, full, full_len);

	free(s);
	return 0;
}
