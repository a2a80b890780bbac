/*
 * report.c
 *		The C side of the send report (trackly_report, whose request is checked
 *		in SQL: trackly_history--0.5.0--0.6.0.sql): thin SQL-callable glue that
 *		lends it what only C does fast, a time zone name as the tz database
 *		spells it, and the local periods (days, ISO weeks, months) of a range
 *		with the instant each begins at.  The counts and the answer are
 *		report_counts.c's.
 *
 *		pg_timezone_names reads the whole tz database (50 to 100 ms); here one
 *		name is looked up through the backend's cache of loaded zones, and the
 *		periods of a year are found in about a millisecond.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(trackly_time_zone_name);
PG_FUNCTION_INFO_V1(trackly_report_periods);

/*
 * The only names of the tz database with a digit and no '/': every other
 * string with a digit and no '/' that pg_tzset accepts is a POSIX rule
 * ("UTC+5", "EST5"), which is refused.
 */
static const char *const digit_zone_names[] = {
	"EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "GMT0", "GMT+0", "GMT-0"
};

/* How far a local midnight lies from the same wall-clock time in UTC, at most. */
#define REPORT_OFFSET_SPAN_SECS (2 * SECS_PER_DAY)

/*
 * The zone of the tz database a name means, found as SET TimeZone finds it
 * (case-insensitively); NULL for a POSIX rule, a leap-second zone ("right/..."),
 * or a name the tz database does not have.
 */
static pg_tz *
report_time_zone(const char *name)
{
	bool		has_digit = false;
	bool		has_slash = false;
	const char *c;
	pg_tz	   *tz;

	if (name[0] == '\0' || strlen(name) >= TZ_STRLEN_MAX)
		return NULL;
	/* The characters of tz database names; a POSIX rule's ',', ':', '<' are not. */
	for (c = name; *c != '\0'; c++)
	{
		if (*c >= '0' && *c <= '9')
			has_digit = true;
		else if (*c == '/')
			has_slash = true;
		else if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
				   *c == '_' || *c == '-' || *c == '+'))
			return NULL;
	}
	if (has_digit && !has_slash)
	{
		bool		known = false;
		size_t		i;

		for (i = 0; i < lengthof(digit_zone_names); i++)
			if (pg_strcasecmp(name, digit_zone_names[i]) == 0)
				known = true;
		if (!known)
			return NULL;
	}
	tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		return NULL;
	return tz;
}

/* The local date (a Julian day number) of an instant in a zone. */
static int
report_local_julian(TimestampTz instant, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;

	if (timestamp2tm(instant, &offset, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/* The first day of the period (day, ISO week, month) a Julian day is in. */
static int
report_period_of(int julian, char unit)
{
	int			year,
				month,
				day;

	switch (unit)
	{
		case 'd':
			return julian;
		case 'w':
			/* j2day: 0 is Sunday; ISO weeks begin on Monday. */
			return julian - (j2day(julian) + 6) % 7;
		default:
			j2date(julian, &year, &month, &day);
			return date2j(year, month, 1);
	}
}

/* The first day of the period after the one that begins on a Julian day. */
static int
report_next_period(int julian, char unit)
{
	int			year,
				month,
				day;

	switch (unit)
	{
		case 'd':
			return julian + 1;
		case 'w':
			return julian + 7;
		default:
			j2date(julian, &year, &month, &day);
			return month == 12 ? date2j(year + 1, 1, 1) : date2j(year, month + 1, 1);
	}
}

/*
 * The first instant whose local date is the Julian day or later: a binary
 * search over whole seconds (every offset of the tz database is), around
 * that day's midnight read as UTC.  A midnight that a change of offset skips
 * gives the instant of the change; one that happens twice, the first.
 */
static TimestampTz
report_period_start(int julian, pg_tz *tz)
{
	int64		midnight = (int64) (julian - POSTGRES_EPOCH_JDATE) * SECS_PER_DAY;
	int64		before = midnight - REPORT_OFFSET_SPAN_SECS;	/* local date earlier */
	int64		after = midnight + REPORT_OFFSET_SPAN_SECS; /* local date reached */

	while (after - before > 1)
	{
		int64		middle = before + (after - before) / 2;

		if (report_local_julian(middle * USECS_PER_SEC, tz) >= julian)
			after = middle;
		else
			before = middle;
	}
	return after * USECS_PER_SEC;
}

/*
 * trackly.time_zone_name(text) returns text: the name of the tz database
 * zone the text names (case-insensitively, as SET TimeZone reads it), as
 * the database spells it; NULL for anything else, POSIX rules and
 * leap-second zones included.
 */
Datum
trackly_time_zone_name(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	pg_tz	   *tz = report_time_zone(name);

	if (tz == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pg_get_timezone_name(tz)));
}

/*
 * trackly.report_periods(time_zone text, unit text, first timestamptz,
 * last timestamptz, OUT periods date[], OUT starts timestamptz[]): the local
 * periods ('day', 'week' or 'month') in the zone that hold an instant from
 * first (inclusive) to last (exclusive), in order, each with the instant it
 * begins at (the first period's may be before first).  The report finds an
 * instant's period by a binary search of starts (width_bucket).
 */
Datum
trackly_report_periods(PG_FUNCTION_ARGS)
{
	char	   *zone_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *unit_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TimestampTz first = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz last = PG_GETARG_TIMESTAMPTZ(3);
	pg_tz	   *tz = report_time_zone(zone_name);
	char		unit;
	int			period;
	int			count = 0;
	int			allocated = 64;
	Datum	   *periods;
	Datum	   *starts;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	TupleDesc	desc;

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not a zone of the tz database", zone_name)));
	if (strcmp(unit_name, "day") == 0 || strcmp(unit_name, "week") == 0 ||
		strcmp(unit_name, "month") == 0)
		unit = unit_name[0];
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unit \"%s\" is not day, week or month", unit_name)));

	periods = palloc(allocated * sizeof(Datum));
	starts = palloc(allocated * sizeof(Datum));
	if (first < last)
	{
		TimestampTz start;

		period = report_period_of(report_local_julian(first, tz), unit);
		start = report_period_start(period, tz);
		do
		{
			CHECK_FOR_INTERRUPTS();
			if (count == allocated)
			{
				allocated *= 2;
				periods = repalloc(periods, allocated * sizeof(Datum));
				starts = repalloc(starts, allocated * sizeof(Datum));
			}
			periods[count] = DateADTGetDatum(period - POSTGRES_EPOCH_JDATE);
			starts[count] = TimestampTzGetDatum(start);
			count++;
			period = report_next_period(period, unit);
			start = report_period_start(period, tz);
		} while (start < last);
	}

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = PointerGetDatum(construct_array(periods, count, DATEOID,
												sizeof(DateADT), true, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(starts, count, TIMESTAMPTZOID,
												sizeof(TimestampTz), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
