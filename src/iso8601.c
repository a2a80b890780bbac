/*
 * iso8601.c
 *		Strict ISO 8601 date-time parsing for the import's timestamp field and
 *		the SQL validators, in pure C (no PostgreSQL headers).
 *
 * The grammar is in iso8601.h and in the README's reference.
 * iso8601_parse reads the string once, left to right, never looks at s[len]
 * or beyond (no NUL needed), allocates nothing and calls no libc, time or
 * locale function: a typical "2025-11-15T14:30:00Z" costs about 20 ns.
 * iso8601_explain, for error messages only, parses again and uses snprintf;
 * the positions it names count bytes from 1 (every byte before the first
 * unexpected one is ASCII, so they are also character positions).
 *
 * When a string has several problems, the verdict is chosen in this order:
 *
 *	1. ISO8601_EMPTY for a string of length 0.
 *	2. The shape: the whole string must have the grammar's shape (ASCII
 *	   digits where digits belong, exactly 4 year digits and 2 for every other
 *	   field, the punctuation, the optional parts in order, nothing after the
 *	   offset).  The first byte that breaks the shape decides:
 *	   ISO8601_NO_TIME when the string ends right after a well-shaped date,
 *	   alone or followed by a separator ("2025-11-15", "2025-11-15T",
 *	   "2025-11-15 "),
 *	   ISO8601_SYNTAX otherwise.  Values are not looked at yet, so
 *	   "2025-13-01" is NO_TIME and "2025-13-01T10:00 x" is SYNTAX.
 *	3. The ranges, left to right: year, month, day (in that month of that
 *	   year), hour, minute, second, offset.  The first field out of range
 *	   decides, so "0000-13-01T24:00" is BAD_YEAR.  Second 60 is a leap
 *	   second only where the time, moved to UTC by its (valid) offset, is
 *	   23:59:60; it then counts as 60 seconds, so the instant is the next
 *	   second.  iso8601_parse_no_leap keeps 0.3.0's rule: no second 60.
 *
 * The fraction is rounded exactly from its decimal digits, to the nearest
 * microsecond, ties to even: the 7th digit and whether any later digit is
 * not zero settle it.  A round-up may carry into the next second and, from
 * there, the next minute, day or year: 9999-12-31T23:59:59.9999999Z names
 * 10000-01-01 00:00:00 UTC.  The fields then stay as written and
 * microsecond is 1000000; pg_usec includes the carry.
 *
 * pg_usec is exact integer arithmetic: days from the civil date (Gregorian,
 * proleptic), then seconds, minus the offset, then microseconds.  Every
 * value fits easily in 64 bits (years 0 to 10000 span about 3.2e17 us).
 */
#include "iso8601.h"

#include <stdio.h>
#include <string.h>

#define USECS_PER_SECOND	INT64_C(1000000)
#define SECONDS_PER_DAY		INT64_C(86400)

/* Days from 1970-01-01 (days_from_civil's zero) to 2000-01-01 (PostgreSQL's). */
#define DAYS_1970_TO_2000	10957

/* The form named in syntax explanations; ASCII, so any encoding shows it. */
#define ISO8601_FORM		"YYYY-MM-DD{T|t| }hh:mm[:ss[{.|,}f]][Z|z|{+|-}hh[[:]mm]]"

/* What the shape scan wanted where it stopped, for iso8601_explain. */
typedef enum Iso8601Expected
{
	EXPECT_DIGIT,
	EXPECT_DASH,
	EXPECT_SEPARATOR,
	EXPECT_COLON,
	EXPECT_AFTER_MINUTE,		/* ':', an offset or the end */
	EXPECT_AFTER_SECOND,		/* a fraction, an offset or the end */
	EXPECT_AFTER_FRACTION,		/* another digit, an offset or the end */
	EXPECT_AFTER_OFFSET_HOUR,	/* ':', the offset minutes or the end */
	EXPECT_END
} Iso8601Expected;

/* Where and why a string failed, beyond its verdict. */
typedef struct Iso8601Failure
{
	size_t		position;		/* byte where the shape broke (SYNTAX) */
	Iso8601Expected expected;	/* what was wanted there (SYNTAX) */
	int			offset_minutes; /* the offset, east of UTC (BAD_SECOND at 60) */
	size_t		offset_start;	/* the offset as written (BAD_OFFSET) */
	size_t		offset_len;
} Iso8601Failure;

/*
 * The fixed part "YYYY-MM-DDThh:mm" byte by byte: 'd' a digit, 'T' a
 * separator, anything else that very byte.
 */
static const char fixed_layout[] = "dddd-dd-ddTdd:dd";

#define FIXED_LEN			16

/* Scale of a fraction of n < 6 digits to microseconds: 10^(6-n). */
static const int32_t fraction_scale[6] = {1000000, 100000, 10000, 1000, 100, 10};

/* Days of each month in a common year. */
static const int8_t month_days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Whether c is one of the ASCII digits 0-9 (never a locale's idea of one). */
static inline bool
is_ascii_digit(char c)
{
	return (unsigned char) (c - '0') <= 9;
}

/* Whether c breaks the shape where a digit belongs, as 0 or 1. */
static inline unsigned
not_digit(char c)
{
	return (unsigned char) (c - '0') > 9;
}

/* The value of the two ASCII digits at s. */
static inline int
two_digit_value(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Whether c is white space in the C locale's sense (for explanations only). */
static bool
is_white_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Days in month (1-12) of year, Gregorian leap years. */
static inline int
days_in_month(int year, int month)
{
	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return month_days[month];
}

/*
 * Days from 1970-01-01 to the civil date year-month-day (proleptic
 * Gregorian; year >= 0), by Howard Hinnant's days_from_civil: years start
 * in March so that the leap day comes last.
 */
static inline int64_t
days_from_civil(int year, int month, int day)
{
	int			y = year - (month <= 2);
	int			era = y / 400;
	int			year_of_era = y - era * 400;
	int			day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int			day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

	return (int64_t) era * 146097 + day_of_era - 719468;
}

/* Whether "YYYY-MM-DDThh:mm" has its shape at s (16 bytes readable). */
static inline bool
fixed_part_has_shape(const char *s)
{
	unsigned	bad;

	bad = not_digit(s[0]) | not_digit(s[1]) | not_digit(s[2]) | not_digit(s[3]) |
		not_digit(s[5]) | not_digit(s[6]) | not_digit(s[8]) | not_digit(s[9]) |
		not_digit(s[11]) | not_digit(s[12]) | not_digit(s[14]) | not_digit(s[15]);
	bad |= (s[4] != '-') | (s[7] != '-') | (s[13] != ':');
	bad |= (s[10] != 'T') & (s[10] != 't') & (s[10] != ' ');
	return bad == 0;
}

/*
 * Finds where the fixed part of s breaks its shape and records it; returns
 * NO_TIME when s is a well-shaped date (and maybe its separator) alone.
 */
static Iso8601Verdict
fixed_part_failure(const char *s, size_t len, Iso8601Failure *failure)
{
	size_t		i;
	char		want;
	bool		ok;

	for (i = 0; i < FIXED_LEN; i++)
	{
		want = fixed_layout[i];
		if (want == 'd')
			failure->expected = EXPECT_DIGIT;
		else if (want == 'T')
			failure->expected = EXPECT_SEPARATOR;
		else if (want == '-')
			failure->expected = EXPECT_DASH;
		else
			failure->expected = EXPECT_COLON;
		failure->position = i;

		if (i >= len)
			return (i == 10 || i == 11) ? ISO8601_NO_TIME : ISO8601_SYNTAX;

		if (want == 'd')
			ok = is_ascii_digit(s[i]);
		else if (want == 'T')
			ok = s[i] == 'T' || s[i] == 't' || s[i] == ' ';
		else
			ok = s[i] == want;
		if (!ok)
			return ISO8601_SYNTAX;
	}
	/* fixed_part_has_shape said no, so the loop cannot get here */
	return ISO8601_SYNTAX;
}

/*
 * Whether s[pos] and s[pos + 1] are digits (pos <= len); if not, records
 * the first of them that is missing or not a digit.
 */
static inline bool
has_two_digits(const char *s, size_t len, size_t pos, Iso8601Failure *failure)
{
	if (len - pos >= 2 && is_ascii_digit(s[pos]) && is_ascii_digit(s[pos + 1]))
		return true;
	failure->position = (pos < len && is_ascii_digit(s[pos])) ? pos + 1 : pos;
	failure->expected = EXPECT_DIGIT;
	return false;
}

/* Records a break of the shape at pos. */
static inline Iso8601Verdict
shape_failure(Iso8601Failure *failure, size_t pos, Iso8601Expected expected)
{
	failure->position = pos;
	failure->expected = expected;
	return ISO8601_SYNTAX;
}

/*
 * The parser behind iso8601_parse and iso8601_explain: fills t (the fields
 * as far as they were read, and everything for ISO8601_VALID) and, for a
 * failure, the details iso8601_explain reports.
 */
static inline Iso8601Verdict
iso8601_scan(const char *s, size_t len, Iso8601Time *t, Iso8601Failure *failure,
			 bool leap_seconds)
{
	size_t		pos = FIXED_LEN;
	Iso8601Expected after_time = EXPECT_AFTER_MINUTE;
	int32_t		usec = 0;
	int			round_digit = 0;
	bool		round_sticky = false;
	int			offset_hour = 0;
	int			offset_minute = 0;
	bool		offset_negative = false;
	int64_t		seconds;

	if (len == 0)
		return ISO8601_EMPTY;
	if (len < FIXED_LEN || !fixed_part_has_shape(s))
		return fixed_part_failure(s, len, failure);

	t->year = two_digit_value(s) * 100 + two_digit_value(s + 2);
	t->month = two_digit_value(s + 5);
	t->day = two_digit_value(s + 8);
	t->hour = two_digit_value(s + 11);
	t->minute = two_digit_value(s + 14);
	t->second = 0;
	t->has_offset = false;

	/* [":" ss ["." / "," 1*DIGIT]] */
	if (pos < len && s[pos] == ':')
	{
		if (!has_two_digits(s, len, pos + 1, failure))
			return ISO8601_SYNTAX;
		t->second = two_digit_value(s + pos + 1);
		pos += 3;
		after_time = EXPECT_AFTER_SECOND;

		if (pos < len && (s[pos] == '.' || s[pos] == ','))
		{
			size_t		first = ++pos;
			size_t		digits;

			while (pos < len && is_ascii_digit(s[pos]))
			{
				digits = pos - first;
				if (digits < 6)
					usec = usec * 10 + (s[pos] - '0');
				else if (digits == 6)
					round_digit = s[pos] - '0';
				else if (s[pos] != '0')
					round_sticky = true;
				pos++;
			}
			digits = pos - first;
			if (digits == 0)
				return shape_failure(failure, pos, EXPECT_DIGIT);
			if (digits < 6)
				usec *= fraction_scale[digits];
			if (round_digit > 5 || (round_digit == 5 && (round_sticky || (usec & 1))))
				usec++;
			after_time = EXPECT_AFTER_FRACTION;
		}
	}

	/* [offset], then the end */
	if (pos < len)
	{
		if (s[pos] == 'Z' || s[pos] == 'z')
		{
			t->has_offset = true;
			pos++;
		}
		else if (s[pos] == '+' || s[pos] == '-')
		{
			failure->offset_start = pos;
			offset_negative = s[pos] == '-';
			if (!has_two_digits(s, len, pos + 1, failure))
				return ISO8601_SYNTAX;
			offset_hour = two_digit_value(s + pos + 1);
			pos += 3;
			if (pos < len)
			{
				if (s[pos] == ':')
					pos++;
				else if (!is_ascii_digit(s[pos]))
					return shape_failure(failure, pos, EXPECT_AFTER_OFFSET_HOUR);
				if (!has_two_digits(s, len, pos, failure))
					return ISO8601_SYNTAX;
				offset_minute = two_digit_value(s + pos);
				pos += 2;
			}
			failure->offset_len = pos - failure->offset_start;
			t->has_offset = true;
		}
		else
			return shape_failure(failure, pos, after_time);

		if (pos < len)
			return shape_failure(failure, pos, EXPECT_END);
	}

	/* the shape is right: now the ranges, left to right */
	if (t->year == 0)
		return ISO8601_BAD_YEAR;
	if (t->month < 1 || t->month > 12)
		return ISO8601_BAD_MONTH;
	if (t->day < 1 || t->day > days_in_month(t->year, t->month))
		return ISO8601_BAD_DAY;
	if (t->hour > 23)
		return ISO8601_BAD_HOUR;
	if (t->minute > 59)
		return ISO8601_BAD_MINUTE;
	if (t->second > 60 || (t->second == 60 && !leap_seconds))
		return ISO8601_BAD_SECOND;
	if (offset_hour > 23 || offset_minute > 59)
		return ISO8601_BAD_OFFSET;
	if (t->second == 60)
	{
		/* A leap second is 23:59:60 in UTC (RFC 3339): the time, moved by its offset. */
		int			utc_minute;

		failure->offset_minutes = (offset_negative ? -1 : 1) * (offset_hour * 60 + offset_minute);
		utc_minute = t->hour * 60 + t->minute - failure->offset_minutes;

		if (((utc_minute % 1440) + 1440) % 1440 != 23 * 60 + 59)
			return ISO8601_BAD_SECOND;
	}

	t->microsecond = usec;
	t->offset_seconds = offset_hour * 3600 + offset_minute * 60;
	if (offset_negative)
		t->offset_seconds = -t->offset_seconds;

	seconds = (days_from_civil(t->year, t->month, t->day) - DAYS_1970_TO_2000) * SECONDS_PER_DAY +
		t->hour * 3600 + t->minute * 60 + t->second - t->offset_seconds;
	t->pg_usec = seconds * USECS_PER_SECOND + usec;
	return ISO8601_VALID;
}

Iso8601Verdict
iso8601_parse(const char *s, size_t len, Iso8601Time *out)
{
	Iso8601Time scratch;
	Iso8601Failure failure;

	return iso8601_scan(s, len, out != NULL ? out : &scratch, &failure, true);
}

Iso8601Verdict
iso8601_parse_no_leap(const char *s, size_t len, Iso8601Time *out)
{
	Iso8601Time scratch;
	Iso8601Failure failure;

	return iso8601_scan(s, len, out != NULL ? out : &scratch, &failure, false);
}

/* Names byte c for a person: "'x'", "a space", "a non-ASCII character" ... */
static const char *
describe_byte(char c, char *text, size_t size)
{
	unsigned char b = (unsigned char) c;

	switch (c)
	{
		case ' ':
			return "a space";
		case '\t':
			return "a tab";
		case '\n':
			return "a line feed";
		case '\r':
			return "a carriage return";
		case '\0':
			return "a NUL byte";
		default:
			break;
	}
	if (b >= 0x80)
		return "a non-ASCII character";
	if (b < 0x20 || b == 0x7f)
		snprintf(text, size, "the control character 0x%02X", b);
	else
		snprintf(text, size, "'%c'", c);
	return text;
}

/* Names what the shape scan wanted; an ASCII digit when a non-ASCII byte came. */
static const char *
describe_expected(Iso8601Expected expected, bool found_non_ascii)
{
	switch (expected)
	{
		case EXPECT_DIGIT:
			return found_non_ascii ? "an ASCII digit 0-9" : "a digit";
		case EXPECT_DASH:
			return "'-'";
		case EXPECT_SEPARATOR:
			return "'T' or a space";
		case EXPECT_COLON:
			return "':'";
		case EXPECT_AFTER_MINUTE:
			return "':', an offset or the end";
		case EXPECT_AFTER_SECOND:
			return "a fraction, an offset or the end";
		case EXPECT_AFTER_FRACTION:
			return "a digit, an offset or the end";
		case EXPECT_AFTER_OFFSET_HOUR:
			return "':', the offset minutes or the end";
		case EXPECT_END:
			return "the end";
	}
	return "something else";
}

/* Writes the clause for a string whose shape broke at failure->position. */
static int
explain_syntax(const char *s, size_t len, const Iso8601Failure *failure,
			   char *text, size_t size)
{
	size_t		pos = failure->position;
	size_t		i;
	char		found[48];
	bool		only_white_space;

	if (pos >= len)
		return snprintf(text, size,
						"it ends early: expected %s at position %zu; the form is %s",
						describe_expected(failure->expected, false), pos + 1,
						ISO8601_FORM);

	if (pos == 0 && is_white_space(s[0]))
		return snprintf(text, size, "it starts with white space");

	only_white_space = true;
	for (i = pos; i < len && only_white_space; i++)
		only_white_space = is_white_space(s[i]);
	if (only_white_space)
		return snprintf(text, size, "it ends with white space");

	return snprintf(text, size, "expected %s at position %zu, found %s; the form is %s",
					describe_expected(failure->expected,
									  (unsigned char) s[pos] >= 0x80),
					pos + 1,
					describe_byte(s[pos], found, sizeof(found)),
					ISO8601_FORM);
}

/* iso8601_explain and iso8601_explain_no_leap. */
static size_t
explain(const char *s, size_t len, char *buf, size_t bufsize, bool leap_seconds)
{
	Iso8601Time t;
	Iso8601Failure failure;
	char		text[256];
	int			n = 0;
	size_t		wanted;
	size_t		copied;

	switch (iso8601_scan(s, len, &t, &failure, leap_seconds))
	{
		case ISO8601_VALID:
			n = snprintf(text, sizeof(text), "valid");
			break;
		case ISO8601_EMPTY:
			n = snprintf(text, sizeof(text), "it is empty");
			break;
		case ISO8601_SYNTAX:
			n = explain_syntax(s, len, &failure, text, sizeof(text));
			break;
		case ISO8601_NO_TIME:
			n = snprintf(text, sizeof(text), "the time is missing");
			break;
		case ISO8601_BAD_YEAR:
			n = snprintf(text, sizeof(text), "year 0000 is out of range 0001-9999");
			break;
		case ISO8601_BAD_MONTH:
			n = snprintf(text, sizeof(text), "month %02d does not exist", t.month);
			break;
		case ISO8601_BAD_DAY:
			n = snprintf(text, sizeof(text), "%04d-%02d-%02d does not exist",
						 t.year, t.month, t.day);
			break;
		case ISO8601_BAD_HOUR:
			n = snprintf(text, sizeof(text), "hour %02d is out of range 00-23", t.hour);
			break;
		case ISO8601_BAD_MINUTE:
			n = snprintf(text, sizeof(text), "minute %02d is out of range 00-59", t.minute);
			break;
		case ISO8601_BAD_SECOND:
			if (t.second == 60 && leap_seconds)
				n = snprintf(text, sizeof(text),
							 "second 60 is a leap second, which is only 23:59:60 in UTC; this is %02d:%02d:60 in UTC",
							 ((((t.hour * 60 + t.minute - failure.offset_minutes) % 1440) + 1440) % 1440) / 60,
							 ((((t.hour * 60 + t.minute - failure.offset_minutes) % 1440) + 1440) % 1440) % 60);
			else
				n = snprintf(text, sizeof(text), "second %02d is out of range 00-59%s",
							 t.second,
							 t.second == 60 ? " (leap seconds are not accepted)" : "");
			break;
		case ISO8601_BAD_OFFSET:
			n = snprintf(text, sizeof(text),
						 "the offset %.*s is out of range (hours 00-23, minutes 00-59)",
						 (int) failure.offset_len, s + failure.offset_start);
			break;
	}

	wanted = n > 0 ? (size_t) n : 0;
	if (wanted >= sizeof(text))
		wanted = sizeof(text) - 1;
	if (bufsize > 0)
	{
		copied = wanted < bufsize - 1 ? wanted : bufsize - 1;
		memcpy(buf, text, copied);
		buf[copied] = '\0';
	}
	return wanted;
}

size_t
iso8601_explain(const char *s, size_t len, char *buf, size_t bufsize)
{
	return explain(s, len, buf, bufsize, true);
}

size_t
iso8601_explain_no_leap(const char *s, size_t len, char *buf, size_t bufsize)
{
	return explain(s, len, buf, bufsize, false);
}
