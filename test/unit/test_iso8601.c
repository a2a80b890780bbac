/*
 * test_iso8601.c
 *		Unit tests of the strict ISO 8601 parser (src/iso8601.c): a table of
 *		strings with their expected verdict and instant, then the fields of a
 *		few results, explicit lengths (embedded NUL, no NUL at all) and the
 *		explanation texts.
 *
 * The expected instants were computed apart from the C code, with Python's
 * datetime: (date(Y, M, D) - date(2000, 1, 1)).days midnights below, plus
 * the time of day, minus the offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iso8601.h"
#include "unit.h"

#define SEC			INT64_C(1000000)
#define MIN			(60 * SEC)
#define HOUR		(3600 * SEC)
#define DAY			(86400 * SEC)

/* Midnights UTC, in days since 2000-01-01 (from Python's datetime). */
#define D_0001_01_01	(-730119 * DAY)
#define D_1970_01_01	(-10957 * DAY)
#define D_2000_02_29	(59 * DAY)
#define D_2024_02_29	(8825 * DAY)
#define D_2025_02_28	(9190 * DAY)
#define D_2025_03_01	(9191 * DAY)
#define D_2025_11_15	(9450 * DAY)
#define D_1999_01_01	(-365 * DAY)
#define D_2017_01_01	(6210 * DAY)
#define D_2025_11_16	(9451 * DAY)
#define D_2025_12_01	(9466 * DAY)
#define D_2025_12_31	(9496 * DAY)
#define D_2026_01_01	(9497 * DAY)
#define D_9999_12_31	(2921939 * DAY)

/* 2025-11-15T14:30:00Z, the original API page's example. */
#define EXAMPLE		(D_2025_11_15 + 14 * HOUR + 30 * MIN)

/* One string, its expected verdict and, when valid, its instant. */
typedef struct ParseCase
{
	const char *input;
	Iso8601Verdict verdict;
	int64_t		pg_usec;
} ParseCase;

static const ParseCase parse_cases[] = {
	/* the original API page's examples, as literal numbers */
	{"2025-11-15T14:30:00Z", ISO8601_VALID, INT64_C(816532200000000)},
	{"2025-11-15T14:31:00Z", ISO8601_VALID, INT64_C(816532260000000)},
	{"2000-01-01T00:00:00Z", ISO8601_VALID, 0},
	{"2000-01-01T00:00:00", ISO8601_VALID, 0},
	{"1999-12-31T23:59:59.999999Z", ISO8601_VALID, -1},
	{"1970-01-01T00:00:00Z", ISO8601_VALID, D_1970_01_01},

	/* separators, optional seconds, no offset means UTC */
	{"2025-11-15t14:30:00Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15 14:30:00Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15t14:30:00z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15 14:30", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30+05:30", ISO8601_VALID, EXAMPLE - 5 * HOUR - 30 * MIN},

	/* fractions of 1 to 9 and more digits, "." or "," */
	{"2025-11-15T14:30:00.1Z", ISO8601_VALID, EXAMPLE + 100000},
	{"2025-11-15T14:30:00.12Z", ISO8601_VALID, EXAMPLE + 120000},
	{"2025-11-15T14:30:00.123Z", ISO8601_VALID, EXAMPLE + 123000},
	{"2025-11-15T14:30:00.1234Z", ISO8601_VALID, EXAMPLE + 123400},
	{"2025-11-15T14:30:00.12345Z", ISO8601_VALID, EXAMPLE + 123450},
	{"2025-11-15T14:30:00.123456Z", ISO8601_VALID, EXAMPLE + 123456},
	{"2025-11-15T14:30:00.1234567Z", ISO8601_VALID, EXAMPLE + 123457},
	{"2025-11-15T14:30:00.12345649Z", ISO8601_VALID, EXAMPLE + 123456},
	{"2025-11-15T14:30:00.123456789Z", ISO8601_VALID, EXAMPLE + 123457},
	{"2025-11-15T14:30:00.1234564999999999999999Z", ISO8601_VALID, EXAMPLE + 123456},
	{"2025-11-15T14:30:00.000000000000000000000000000001Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00,5Z", ISO8601_VALID, EXAMPLE + 500000},
	{"2025-11-15T14:30:00,123456", ISO8601_VALID, EXAMPLE + 123456},
	{"2025-11-15T14:30:00.0", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:59.5+01:00", ISO8601_VALID, EXAMPLE + 59 * SEC + 500000 - HOUR},

	/* rounding: down, up, exact ties to even, a tie broken by a later digit */
	{"2025-11-15T14:30:00.0000004Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00.0000006Z", ISO8601_VALID, EXAMPLE + 1},
	{"2025-11-15T14:30:00.0000005Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00.00000050000000000Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00.0000015Z", ISO8601_VALID, EXAMPLE + 2},
	{"2025-11-15T14:30:00.0000025Z", ISO8601_VALID, EXAMPLE + 2},
	{"2025-11-15T14:30:00.0000035Z", ISO8601_VALID, EXAMPLE + 4},
	{"2025-11-15T14:30:00.00000050000001Z", ISO8601_VALID, EXAMPLE + 1},
	{"2025-11-15T14:30:00.0000004999999999Z", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00.1234565Z", ISO8601_VALID, EXAMPLE + 123456},
	{"2025-11-15T14:30:00.1234575Z", ISO8601_VALID, EXAMPLE + 123458},
	{"2025-11-15T14:30:00.9999994Z", ISO8601_VALID, EXAMPLE + 999999},
	{"2025-11-15T14:30:00.9999995Z", ISO8601_VALID, EXAMPLE + SEC},
	{"2025-11-15T14:30:59.9999995Z", ISO8601_VALID, EXAMPLE + MIN},

	/* a round-up carrying across midnight, a month end, a year end, year 9999 */
	{"2025-11-15T23:59:59.9999995Z", ISO8601_VALID, D_2025_11_16},
	{"2025-11-30T23:59:59.9999999Z", ISO8601_VALID, D_2025_12_01},
	{"2025-12-31T23:59:59.99999999Z", ISO8601_VALID, D_2026_01_01},
	{"2025-12-31T23:59:59.9999995", ISO8601_VALID, D_2026_01_01},
	{"2025-02-28T23:59:59.9999995Z", ISO8601_VALID, D_2025_03_01},
	{"9999-12-31T23:59:59Z", ISO8601_VALID, D_9999_12_31 + DAY - SEC},
	{"9999-12-31T23:59:59.999999Z", ISO8601_VALID, D_9999_12_31 + DAY - 1},
	{"9999-12-31T23:59:59.9999999Z", ISO8601_VALID, D_9999_12_31 + DAY},
	{"9999-12-31T23:59:59.9999999-23:59", ISO8601_VALID, D_9999_12_31 + 2 * DAY - MIN},

	/* every offset form */
	{"2025-11-15T14:30:00+05", ISO8601_VALID, EXAMPLE - 5 * HOUR},
	{"2025-11-15T14:30:00+0530", ISO8601_VALID, EXAMPLE - 5 * HOUR - 30 * MIN},
	{"2025-11-15T14:30:00+05:30", ISO8601_VALID, EXAMPLE - 5 * HOUR - 30 * MIN},
	{"2025-11-15T14:30:00-08:00", ISO8601_VALID, EXAMPLE + 8 * HOUR},
	{"2025-11-15T14:30:00-0800", ISO8601_VALID, EXAMPLE + 8 * HOUR},
	{"2025-11-15T14:30:00-08", ISO8601_VALID, EXAMPLE + 8 * HOUR},
	{"2025-11-15T14:30:00+23:59", ISO8601_VALID, EXAMPLE - 23 * HOUR - 59 * MIN},
	{"2025-11-15T14:30:00-23:59", ISO8601_VALID, EXAMPLE + 23 * HOUR + 59 * MIN},
	{"2025-11-15T14:30:00-00:00", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00+00", ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00.5-03:30", ISO8601_VALID, EXAMPLE + 500000 + 3 * HOUR + 30 * MIN},
	{"2025-03-01T00:00:00+01:00", ISO8601_VALID, D_2025_02_28 + 23 * HOUR},
	{"2025-12-31T20:00:00-04:00", ISO8601_VALID, D_2026_01_01},
	{"2025-12-31T23:00:00+23:00", ISO8601_VALID, D_2025_12_31},

	/* offsets that are not */
	{"2025-11-15T14:30:00+24", ISO8601_BAD_OFFSET, 0},
	{"2025-11-15T14:30:00+24:00", ISO8601_BAD_OFFSET, 0},
	{"2025-11-15T14:30:00-2400", ISO8601_BAD_OFFSET, 0},
	{"2025-11-15T14:30:00+05:60", ISO8601_BAD_OFFSET, 0},
	{"2025-11-15T14:30:00+0560", ISO8601_BAD_OFFSET, 0},
	{"2025-11-15T14:30:00-99:99", ISO8601_BAD_OFFSET, 0},
	{"2025-11-15T14:30:00+5", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+055", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+05:", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+05:3", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+05:300", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+05:30Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+05:30:00", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+05x", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00+", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z+01", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00ZZ", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00 Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00UTC", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00 UTC", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00\xe2\x88\x92" "05:00", ISO8601_SYNTAX, 0},

	/* leap years and the ends of the range */
	{"2024-02-29T12:00:00Z", ISO8601_VALID, D_2024_02_29 + 12 * HOUR},
	{"2000-02-29T00:00:00Z", ISO8601_VALID, D_2000_02_29},
	{"2100-02-29T00:00:00Z", ISO8601_BAD_DAY, 0},
	{"1900-02-29T00:00:00Z", ISO8601_BAD_DAY, 0},
	{"2025-02-29T14:30:00Z", ISO8601_BAD_DAY, 0},
	{"2025-02-30T14:30:00Z", ISO8601_BAD_DAY, 0},
	{"2025-04-31T14:30:00Z", ISO8601_BAD_DAY, 0},
	{"2025-01-32T14:30:00Z", ISO8601_BAD_DAY, 0},
	{"2025-01-00T14:30:00Z", ISO8601_BAD_DAY, 0},
	{"0001-01-01T00:00:00Z", ISO8601_VALID, D_0001_01_01},
	{"0001-01-01T00:00:00+23:59", ISO8601_VALID, D_0001_01_01 - 23 * HOUR - 59 * MIN},
	{"0000-01-01T00:00:00Z", ISO8601_BAD_YEAR, 0},
	{"0000-12-31T23:59:59Z", ISO8601_BAD_YEAR, 0},

	/* months, hours, minutes, seconds out of range */
	{"2025-13-01T14:30:00Z", ISO8601_BAD_MONTH, 0},
	{"2025-00-10T14:30:00Z", ISO8601_BAD_MONTH, 0},
	{"2025-99-10T14:30:00Z", ISO8601_BAD_MONTH, 0},
	{"2025-11-15T24:00", ISO8601_BAD_HOUR, 0},
	{"2025-11-15T24:00:00Z", ISO8601_BAD_HOUR, 0},
	{"2025-11-15T99:00:00Z", ISO8601_BAD_HOUR, 0},
	{"2025-11-15T23:60", ISO8601_BAD_MINUTE, 0},
	{"2025-11-15T23:60:00Z", ISO8601_BAD_MINUTE, 0},
	/* leap seconds (RFC 3339): 23:59:60 in UTC only, naming the next second */
	{"2025-11-15T23:59:60Z", ISO8601_VALID, D_2025_11_15 + 24 * HOUR},
	{"2016-12-31T23:59:60Z", ISO8601_VALID, D_2017_01_01},
	{"1998-12-31T23:59:60Z", ISO8601_VALID, D_1999_01_01},
	{"1998-12-31T23:59:60.5Z", ISO8601_VALID, D_1999_01_01 + SEC / 2},
	{"1998-12-31T15:59:60.123-08:00", ISO8601_VALID, D_1999_01_01 + 123000},
	{"1999-01-01T00:59:60+01:00", ISO8601_VALID, D_1999_01_01},
	{"1999-01-01T05:29:60+0530", ISO8601_VALID, D_1999_01_01},
	{"2025-11-15T23:59:60.9999995Z", ISO8601_VALID, D_2025_11_15 + 24 * HOUR + SEC},
	{"2025-11-15T23:58:60Z", ISO8601_BAD_SECOND, 0},
	{"2025-11-15T23:59:60+01:00", ISO8601_BAD_SECOND, 0},
	{"2025-11-15T14:30:60Z", ISO8601_BAD_SECOND, 0},
	{"2025-11-15T23:59:61Z", ISO8601_BAD_SECOND, 0},
	{"2025-11-15T23:59:99.5Z", ISO8601_BAD_SECOND, 0},

	/* several problems: the shape first, then the ranges left to right */
	{"0000-13-32T24:60:60+24:00", ISO8601_BAD_YEAR, 0},
	{"2025-13-32T24:60:60+24:00", ISO8601_BAD_MONTH, 0},
	{"2025-02-30T24:60:60+24:00", ISO8601_BAD_DAY, 0},
	{"2025-11-15T24:60:60+24:00", ISO8601_BAD_HOUR, 0},
	{"2025-11-15T23:60:60+24:00", ISO8601_BAD_MINUTE, 0},
	{"2025-11-15T23:59:60+24:00", ISO8601_BAD_OFFSET, 0},
	{"2025-13-01T24:00 x", ISO8601_SYNTAX, 0},
	{"2025-13-01", ISO8601_NO_TIME, 0},

	/* not a date-time at all */
	{"", ISO8601_EMPTY, 0},
	{"2025-11-15", ISO8601_NO_TIME, 0},
	{"2025-11-15T", ISO8601_NO_TIME, 0},
	{"2025-11-15 ", ISO8601_NO_TIME, 0},
	{"2025-11-15T14", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:", ISO8601_SYNTAX, 0},
	{"now", ISO8601_SYNTAX, 0},
	{"epoch", ISO8601_SYNTAX, 0},
	{"today", ISO8601_SYNTAX, 0},
	{"infinity", ISO8601_SYNTAX, 0},
	{"1731681000", ISO8601_SYNTAX, 0},
	{"816532200000000", ISO8601_SYNTAX, 0},
	{"20251115T143000Z", ISO8601_SYNTAX, 0},
	{"2025", ISO8601_SYNTAX, 0},
	{"T14:30:00Z", ISO8601_SYNTAX, 0},
	{"14:30:00", ISO8601_SYNTAX, 0},

	/* white space around or inside */
	{" 2025-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z ", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z\n", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00\n", ISO8601_SYNTAX, 0},
	{"\t2025-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z\r", ISO8601_SYNTAX, 0},
	{"2025-11-15  14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T 14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15\t14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15_14:30:00Z", ISO8601_SYNTAX, 0},

	/* digits that are not ASCII: U+0662, fullwidth, superscript */
	{"2025-11-1\xd9\xa2T14:30:00Z", ISO8601_SYNTAX, 0},
	{"\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa5-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x95-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.\xef\xbc\x95Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:0\xc2\xb2Z", ISO8601_SYNTAX, 0},

	/* digits too many or too few */
	{"12025-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"025-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-1-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-5T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T4:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:3:00Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:0Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:000Z", ISO8601_SYNTAX, 0},
	{"2025-011-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"+2025-11-15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"-2025-11-15T14:30:00Z", ISO8601_SYNTAX, 0},

	/* fractions that are not */
	{"2025-11-15T14:30:00.Z", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00,", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30.5", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.5.5", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00..5", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00 .5", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.5 ", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.5e3", ISO8601_SYNTAX, 0},

	/* what PostgreSQL's timestamptz input would take */
	{"Nov 15 2025", ISO8601_SYNTAX, 0},
	{"Nov 15 2025 14:30", ISO8601_SYNTAX, 0},
	{"2025-11-15 14:30:00+00 BC", ISO8601_SYNTAX, 0},
	{"2025-11-15 14:30:00 PST", ISO8601_SYNTAX, 0},
	{"2025-11-15 14:30:00 America/New_York", ISO8601_SYNTAX, 0},
	{"2025/11/15T14:30:00Z", ISO8601_SYNTAX, 0},
	{"15.11.2025 14:30", ISO8601_SYNTAX, 0},
	{"2025-11-15T14.30.00Z", ISO8601_SYNTAX, 0},
	{"J2460995", ISO8601_SYNTAX, 0},
	{"allballs", ISO8601_SYNTAX, 0},
	{"2025-11-15T2:30pm", ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00 +05:00", ISO8601_SYNTAX, 0},
	{"2025-W46-6T14:30:00Z", ISO8601_SYNTAX, 0},
	{"2025-319T14:30:00Z", ISO8601_SYNTAX, 0},
};

/* A string of an explicit length (NUL bytes inside, or a prefix). */
typedef struct LengthCase
{
	const char *input;
	size_t		len;
	Iso8601Verdict verdict;
	int64_t		pg_usec;
} LengthCase;

static const LengthCase length_cases[] = {
	{"2025-11-15T14:30:00Z\0", 21, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00\0Z", 21, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.5\0", 22, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30\0:00Z", 21, ISO8601_SYNTAX, 0},
	{"2025-11\0-15T14:30:00Z", 21, ISO8601_SYNTAX, 0},
	{"\0", 1, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z", 19, ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00Z", 16, ISO8601_VALID, EXAMPLE},
	{"2025-11-15T14:30:00Z", 17, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z", 18, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z", 11, ISO8601_NO_TIME, 0},
	{"2025-11-15T14:30:00Z", 10, ISO8601_NO_TIME, 0},
	{"2025-11-15T14:30:00Z", 9, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00Z", 0, ISO8601_EMPTY, 0},
	{"2025-11-15T14:30:00.123456789+05:30", 24, ISO8601_VALID, EXAMPLE + 123400},
	{"2025-11-15T14:30:00.123456789+05:30", 32, ISO8601_VALID, EXAMPLE + 123457 - 5 * HOUR},
	{"2025-11-15T14:30:00.123456789+05:30", 33, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.123456789+05:30", 34, ISO8601_SYNTAX, 0},
	{"2025-11-15T14:30:00.123456789+05:30", 35, ISO8601_VALID, EXAMPLE + 123457 - 5 * HOUR - 30 * MIN},
};

/* An invalid string and the clause iso8601_explain must write for it. */
typedef struct ExplainCase
{
	const char *input;
	const char *text;
} ExplainCase;

#define FORM "; the form is YYYY-MM-DD{T|t| }hh:mm[:ss[{.|,}f]][Z|z|{+|-}hh[[:]mm]]"

static const ExplainCase explain_cases[] = {
	{"2025-11-15T14:30:00Z", "valid"},
	{"", "it is empty"},
	{"2025-11-15", "the time is missing"},
	{"2025-11-15T", "the time is missing"},
	{"0000-01-01T00:00:00Z", "year 0000 is out of range 0001-9999"},
	{"2025-13-01T14:30:00Z", "month 13 does not exist"},
	{"2025-00-01T14:30:00Z", "month 00 does not exist"},
	{"2025-02-29T14:30:00Z", "2025-02-29 does not exist"},
	{"2100-02-29T14:30:00Z", "2100-02-29 does not exist"},
	{"2025-11-15T24:00", "hour 24 is out of range 00-23"},
	{"2025-11-15T23:60", "minute 60 is out of range 00-59"},
	{"2025-11-15T14:30:60Z", "second 60 is a leap second, which is only 23:59:60 in UTC; this is 14:30:60 in UTC"},
	{"2025-11-15T23:59:60+01:00", "second 60 is a leap second, which is only 23:59:60 in UTC; this is 22:59:60 in UTC"},
	{"2025-11-15T00:30:60+01:00", "second 60 is a leap second, which is only 23:59:60 in UTC; this is 23:30:60 in UTC"},
	{"2025-11-15T23:59:61Z", "second 61 is out of range 00-59"},
	{"2025-11-15T14:30:00+24:00", "the offset +24:00 is out of range (hours 00-23, minutes 00-59)"},
	{"2025-11-15T14:30:00-0560", "the offset -0560 is out of range (hours 00-23, minutes 00-59)"},
	{"2025-11-15T14:30:00+24", "the offset +24 is out of range (hours 00-23, minutes 00-59)"},
	{"now", "expected a digit at position 1, found 'n'" FORM},
	{"Nov 15 2025", "expected a digit at position 1, found 'N'" FORM},
	{"1731681000", "expected '-' at position 5, found '6'" FORM},
	{"2025-11-15T14:30:00.Z", "expected a digit at position 21, found 'Z'" FORM},
	{"2025-11-15T14:30:00Z+01", "expected the end at position 21, found '+'" FORM},
	{"2025-11-15T14:30:00+05x", "expected ':', the offset minutes or the end at position 23, found 'x'" FORM},
	{"2025-11-15T14:30:00+05:", "it ends early: expected a digit at position 24" FORM},
	{"2025-11-15T14:30:00+055", "it ends early: expected a digit at position 24" FORM},
	{"2025-11-15T14", "it ends early: expected ':' at position 14" FORM},
	{"2025-11-15_14:30", "expected 'T' or a space at position 11, found '_'" FORM},
	{"2025-11-15T14:30 UTC", "expected ':', an offset or the end at position 17, found a space" FORM},
	{"2025-11-15T14:30:00x", "expected a fraction, an offset or the end at position 20, found 'x'" FORM},
	{"2025-11-15T14:30:00.5x", "expected a digit, an offset or the end at position 22, found 'x'" FORM},
	{"2025-11-1\xd9\xa2T14:30:00Z", "expected an ASCII digit 0-9 at position 10, found a non-ASCII character" FORM},
	{"2025-11-15T14:30:00\x01", "expected a fraction, an offset or the end at position 20, found the control character 0x01" FORM},
	{" 2025-11-15T14:30:00Z", "it starts with white space"},
	{"2025-11-15T14:30:00Z ", "it ends with white space"},
	{"2025-11-15T14:30:00Z\n", "it ends with white space"},
	{"2025-11-15  \t", "it ends with white space"},
};

/* Checks one table row: the verdict, and the instant of a valid one. */
static void
check_parse(const char *input, size_t len, Iso8601Verdict verdict, int64_t pg_usec)
{
	Iso8601Time t;
	Iso8601Verdict got;
	char	   *copy;

	/* an exactly sized copy, so that nothing beyond len is there to read */
	copy = malloc(len > 0 ? len : 1);
	memcpy(copy, input, len);
	memset(&t, 0, sizeof(t));
	got = iso8601_parse(copy, len, &t);

	UNIT_CHECK(got == verdict, "\"%.*s\" (len %zu): verdict %d, expected %d",
			   (int) len, input, len, (int) got, (int) verdict);
	if (got == ISO8601_VALID && verdict == ISO8601_VALID)
		UNIT_CHECK(t.pg_usec == pg_usec, "\"%.*s\": pg_usec %lld, expected %lld",
				   (int) len, input, (long long) t.pg_usec, (long long) pg_usec);
	UNIT_CHECK(iso8601_parse(copy, len, NULL) == got,
			   "\"%.*s\": another verdict without out", (int) len, input);
	free(copy);
}

/* Whether needle[0 .. needle_len-1] occurs in haystack[0 .. haystack_len-1]. */
static bool
contains_bytes(const char *haystack, size_t haystack_len, const char *needle, size_t needle_len)
{
	size_t		i;

	for (i = 0; i + needle_len <= haystack_len; i++)
		if (memcmp(haystack + i, needle, needle_len) == 0)
			return true;
	return false;
}

/*
 * Checks what every explanation must be: short, starting lower case (or with
 * the date it names), no full stop, no echo of the whole input.
 */
static void
check_explain_shape(const char *input, size_t len)
{
	char		text[300];
	size_t		n;
	bool		valid = iso8601_parse(input, len, NULL) == ISO8601_VALID;

	n = iso8601_explain(input, len, text, sizeof(text));
	UNIT_CHECK(n == strlen(text) && n > 0 && n < 200,
			   "\"%.*s\": explanation of length %zu", (int) len, input, n);
	UNIT_CHECK(valid == (strcmp(text, "valid") == 0),
			   "\"%.*s\": explained as \"%s\"", (int) len, input, text);
	UNIT_CHECK(((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= '0' && text[0] <= '9')) &&
			   text[n - 1] != '.',
			   "\"%.*s\": \"%s\" is not a lower-case clause", (int) len, input, text);
	if (len >= 11)
		UNIT_CHECK(!contains_bytes(text, n, input, len),
				   "\"%.*s\": \"%s\" echoes the input", (int) len, input, text);
}

/* Checks the fields of a few valid strings. */
static void
check_fields(void)
{
	Iso8601Time t;

	UNIT_CHECK(iso8601_parse("2025-11-15T14:30:45.1234567+05:30", 33, &t) == ISO8601_VALID,
			   "fields: valid");
	UNIT_CHECK(t.year == 2025 && t.month == 11 && t.day == 15 &&
			   t.hour == 14 && t.minute == 30 && t.second == 45 &&
			   t.microsecond == 123457 && t.offset_seconds == 19800 && t.has_offset,
			   "fields: %d-%d-%d %d:%d:%d.%d %+d %d", t.year, t.month, t.day,
			   t.hour, t.minute, t.second, (int) t.microsecond,
			   (int) t.offset_seconds, (int) t.has_offset);

	UNIT_CHECK(iso8601_parse("2025-11-15 14:30", 16, &t) == ISO8601_VALID &&
			   t.second == 0 && t.microsecond == 0 && t.offset_seconds == 0 &&
			   !t.has_offset,
			   "fields: no seconds, no offset");

	UNIT_CHECK(iso8601_parse("2025-11-15T14:30:00-00:00", 25, &t) == ISO8601_VALID &&
			   t.offset_seconds == 0 && t.has_offset,
			   "fields: -00:00 is an offset of 0");

	UNIT_CHECK(iso8601_parse("2025-11-15T14:30:00z", 20, &t) == ISO8601_VALID &&
			   t.offset_seconds == 0 && t.has_offset,
			   "fields: z is an offset of 0");

	UNIT_CHECK(iso8601_parse("2025-11-15T14:30:00-08", 22, &t) == ISO8601_VALID &&
			   t.offset_seconds == -28800,
			   "fields: -08 is %d seconds", (int) t.offset_seconds);

	UNIT_CHECK(iso8601_parse("9999-12-31T23:59:59.9999999Z", 28, &t) == ISO8601_VALID &&
			   t.year == 9999 && t.month == 12 && t.day == 31 && t.hour == 23 &&
			   t.minute == 59 && t.second == 59 && t.microsecond == 1000000,
			   "fields: a carry keeps the fields and makes microsecond 1000000 (%d)",
			   (int) t.microsecond);
}

/* Checks truncation and the returned length of iso8601_explain. */
static void
check_explain_buffer(void)
{
	char		buf[8];
	size_t		n;

	memset(buf, 'x', sizeof(buf));
	n = iso8601_explain("", 0, buf, 5);
	UNIT_CHECK(n == 11 && strcmp(buf, "it i") == 0 && buf[5] == 'x',
			   "explain truncates to bufsize: %zu \"%s\"", n, buf);

	memset(buf, 'x', sizeof(buf));
	n = iso8601_explain("", 0, buf, 1);
	UNIT_CHECK(n == 11 && buf[0] == '\0' && buf[1] == 'x', "explain with bufsize 1");

	n = iso8601_explain("now", 3, NULL, 0);
	UNIT_CHECK(n > 20, "explain with bufsize 0 returns the wanted length %zu", n);

	n = iso8601_explain("2025-11-15T14:30:00Z", 20, buf, sizeof(buf));
	UNIT_CHECK(n == 5 && strcmp(buf, "valid") == 0, "explain of a valid string");
}

int
main(void)
{
	size_t		i;
	char		text[300];

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
	{
		const ParseCase *c = &parse_cases[i];

		check_parse(c->input, strlen(c->input), c->verdict, c->pg_usec);
		check_explain_shape(c->input, strlen(c->input));
	}

	for (i = 0; i < sizeof(length_cases) / sizeof(length_cases[0]); i++)
	{
		const LengthCase *c = &length_cases[i];

		check_parse(c->input, c->len, c->verdict, c->pg_usec);
		check_explain_shape(c->input, c->len);
	}

	for (i = 0; i < sizeof(explain_cases) / sizeof(explain_cases[0]); i++)
	{
		const ExplainCase *c = &explain_cases[i];

		iso8601_explain(c->input, strlen(c->input), text, sizeof(text));
		UNIT_CHECK(strcmp(text, c->text) == 0, "explain \"%s\":\n  got      \"%s\"\n  expected \"%s\"",
				   c->input, text, c->text);
	}

	/* 0.3.0's rules, kept for the SQL validators of the older versions: no second 60 at all. */
	UNIT_CHECK(iso8601_parse_no_leap("1998-12-31T23:59:60Z", 20, NULL) == ISO8601_BAD_SECOND,
			   "no_leap: 1998-12-31T23:59:60Z is refused");
	UNIT_CHECK(iso8601_parse_no_leap("2025-11-15T23:59:60+24:00", 25, NULL) == ISO8601_BAD_SECOND,
			   "no_leap: the second is checked before the offset, as in 0.3.0");
	UNIT_CHECK(iso8601_parse_no_leap("2025-11-15T14:30:59Z", 20, NULL) == ISO8601_VALID,
			   "no_leap: an ordinary time is valid");
	iso8601_explain_no_leap("1998-12-31T23:59:60Z", 20, text, sizeof(text));
	UNIT_CHECK(strcmp(text, "second 60 is out of range 00-59 (leap seconds are not accepted)") == 0,
			   "no_leap explain: got \"%s\"", text);

	check_fields();
	check_explain_buffer();

	return unit_report("iso8601");
}
