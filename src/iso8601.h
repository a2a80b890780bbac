/*
 * iso8601.h
 *		Strict ISO 8601 date-time parsing, in pure C (no PostgreSQL headers).
 *
 *   date-time = date sep time [offset]
 *   date      = YYYY "-" MM "-" DD        year 0001-9999, the day exists
 *   sep       = "T" / "t" / " "
 *   time      = hh ":" mm [":" ss [frac]] hh 00-23, mm 00-59, ss 00-59, or 60
 *                                         where the time in UTC is 23:59:60
 *                                         (a leap second, RFC 3339: it names
 *                                         the next second)
 *   frac      = ("." / ",") 1*DIGIT       rounded to the microsecond, ties
 *                                         to even, exactly from the digits
 *   offset    = "Z" / "z" / ("+" / "-") hh [[":"] mm]
 *
 * No offset means UTC.  No white space around.  The result is PostgreSQL's
 * timestamptz representation: microseconds since 2000-01-01 00:00:00 UTC.
 */
#ifndef TRACKLY_ISO8601_H
#define TRACKLY_ISO8601_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The verdict on one string; ISO8601_VALID is the only good one. */
typedef enum Iso8601Verdict
{
	ISO8601_VALID = 0,
	ISO8601_EMPTY,				/* the string is empty */
	ISO8601_SYNTAX,				/* not of the grammar's shape */
	ISO8601_NO_TIME,			/* a date alone */
	ISO8601_BAD_YEAR,			/* year 0000 */
	ISO8601_BAD_MONTH,			/* month not 01-12 */
	ISO8601_BAD_DAY,			/* no such day in that month and year */
	ISO8601_BAD_HOUR,			/* hour not 00-23 (24:00 included) */
	ISO8601_BAD_MINUTE,			/* minute not 00-59 */
	ISO8601_BAD_SECOND,			/* second not 00-59, nor 60 at 23:59 UTC */
	ISO8601_BAD_OFFSET			/* offset hour not 00-23 or minute not 00-59 */
} Iso8601Verdict;

/* What a valid string says, field by field, and the instant it names. */
typedef struct Iso8601Time
{
	int			year;			/* 1-9999 */
	int			month;			/* 1-12 */
	int			day;			/* 1-31, exists in that month */
	int			hour;			/* 0-23 */
	int			minute;			/* 0-59 */
	int			second;			/* 0-59; 0 when absent */
	int32_t		microsecond;	/* 0-1000000: the rounded fraction; 1000000
								 * when it rounded up into the next second */
	int32_t		offset_seconds; /* east of UTC; 0 for "Z" or no offset */
	bool		has_offset;
	int64_t		pg_usec;		/* microseconds since 2000-01-01 00:00 UTC */
} Iso8601Time;

/*
 * Parses s[0 .. len-1] (no terminating NUL needed).  When out is not NULL, it
 * is filled for ISO8601_VALID (and is unspecified otherwise).
 */
extern Iso8601Verdict iso8601_parse(const char *s, size_t len, Iso8601Time *out);

/*
 * Writes into buf (NUL-terminated, truncated to bufsize) a short clause that
 * tells a person why s is not valid, e.g. "2025-02-29 does not exist" or
 * "the time is missing"; returns the length it wanted to write, like
 * snprintf.  For a valid string it writes "valid".
 */
extern size_t iso8601_explain(const char *s, size_t len, char *buf, size_t bufsize);

/*
 * The same under 0.3.0's rules, which refused every second 60: for the SQL
 * validators of the versions before 0.4.0 (their verdicts do not change
 * until ALTER EXTENSION ... UPDATE).
 */
extern Iso8601Verdict iso8601_parse_no_leap(const char *s, size_t len, Iso8601Time *out);
extern size_t iso8601_explain_no_leap(const char *s, size_t len, char *buf, size_t bufsize);

#endif							/* TRACKLY_ISO8601_H */
