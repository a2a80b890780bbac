/*
 * import_validate.c
 *		Stage 1 of an import: rules 1 to 7 of every record, in C.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "e164.h"
#include "import.h"
#include "iso8601.h"
#include "support.h"

/* Limits of rule 7. */
#define ID_MAX_CHARS 255
#define MESSAGE_MAX_CHARS 10000
#define SEND_TYPE_MAX_CHARS 64

/* How a person would call what a field holds, with its article. */
static const char *
field_kind_name(FieldKind kind)
{
	switch (kind)
	{
		case FIELD_ABSENT:
			return "missing";
		case FIELD_NULL:
			return "null";
		case FIELD_STRING:
			return "a string";
		case FIELD_NUMBER:
		case FIELD_INTEGER:
			return "a number";
		case FIELD_TIMESTAMP:
			return "a timestamp";
		case FIELD_BOOL:
			return "a boolean";
		case FIELD_OBJECT:
			return "an object";
		case FIELD_ARRAY:
			return "an array";
	}
	return "a value";
}

/* Rules 2 to 4: present, not null, not "". */
static bool
field_present(const ImportField *f)
{
	return f->kind != FIELD_ABSENT && f->kind != FIELD_NULL &&
		!(f->kind == FIELD_STRING && f->len == 0);
}

/*
 * Number of characters of a string field, or, when its bytes are within the
 * limit, its byte count (no more characters than bytes, and at least one
 * character when there is a byte).
 */
static int
field_chars(const ImportField *f, int limit)
{
	if (f->len <= limit)
		return f->len;
	return pg_mbstrlen_with_len(f->str, f->len);
}

/* Decimal text of a number, shortened for a message. */
static char *
number_text(Numeric num)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	char	   *shown;

	if (strlen(text) <= TRACKLY_SHOWN_CHARS)
		return text;
	shown = psprintf("%.*s...", TRACKLY_SHOWN_CHARS, text);
	pfree(text);
	return shown;
}

/* What a field holds, for a message: 42.5, the string "42", a boolean. */
static char *
field_value_text(const ImportField *f)
{
	switch (f->kind)
	{
		case FIELD_STRING:
			return psprintf("the string %s", trackly_quote_value(f->str, f->len));
		case FIELD_NUMBER:
			return number_text(f->num);
		case FIELD_INTEGER:
			return psprintf(INT64_FORMAT, f->integer);
		case FIELD_BOOL:
			return f->boolean ? "true" : "false";
		default:
			return pstrdup(field_kind_name(f->kind));
	}
}

/* Parses decimal text ("-12"); false when it is not an int64. */
static bool
parse_int64(const char *text, int64 *out)
{
	bool		negative = text[0] == '-';
	const char *p = text + (negative ? 1 : 0);
	uint64		limit = negative ? (uint64) PG_INT64_MAX + 1 : (uint64) PG_INT64_MAX;
	uint64		value = 0;

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
	{
		unsigned	digit = (unsigned) (*p - '0');

		if (digit > 9 || value > (limit - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = negative ? (int64) (0 - value) : (int64) value;
	return true;
}

/*
 * Reads an integer field in [min, max]; false when it is anything else.
 * Numbers with no fractional digits that fit in 32 bits, the usual case,
 * take no detour through text.
 */
static bool
field_integer(const ImportField *f, int64 min, int64 max, int64 *value)
{
	char	   *text;
	bool		too_big = false;

	if (f->kind == FIELD_INTEGER)
		*value = f->integer;
	else if (f->kind != FIELD_NUMBER || numeric_is_nan(f->num) || numeric_is_inf(f->num))
		return false;
	else if (DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(f->num))) == 0)
	{
		*value = numeric_int4_opt_error(f->num, &too_big);
		if (too_big && ((text = import_field_integer_text(f)) == NULL || !parse_int64(text, value)))
			return false;
	}
	/* Fractional digits, all zeros (42.0) or not (42.5). */
	else if ((text = import_field_integer_text(f)) == NULL || !parse_int64(text, value))
		return false;
	return *value >= min && *value <= max;
}

/* Rules 2 to 4 for one field; false (and rec failed) when it is missing. */
static bool
check_present(ImportBatch *batch, ImportRecord *rec, ImportFieldId field,
			  ImportOutcome outcome)
{
	const ImportField *f = &rec->fields[field];
	const char *name = import_field_names[field].name;

	if (field_present(f))
		return true;
	if (f->kind == FIELD_ABSENT)
		import_fail(batch, rec, outcome, "The record has no %s.", name);
	else if (f->kind == FIELD_NULL)
		import_fail(batch, rec, outcome, "%s is null.", name);
	else
		import_fail(batch, rec, outcome, "%s is an empty string.", name);
	return false;
}

/* Rule 5 for one field; false (and rec failed) when it is no E.164 number. */
static bool
check_phone(ImportBatch *batch, ImportRecord *rec, ImportFieldId field)
{
	const ImportField *f = &rec->fields[field];
	const char *name = import_field_names[field].name;
	char		why[256];

	if (f->kind != FIELD_STRING)
	{
		import_fail(batch, rec, OUTCOME_INVALID_PHONE,
					"%s is %s, not a string holding an E.164 phone number such as \"+14155551234\".",
					name, field_kind_name(f->kind));
		return false;
	}
	if (e164_check_rule(f->str, f->len, batch->phone_rule, NULL) == E164_VALID)
		return true;
	e164_explain(f->str, f->len, batch->phone_rule, why, sizeof(why));
	if (e164_check(f->str, f->len, NULL) == E164_VALID)
		import_fail(batch, rec, OUTCOME_INVALID_PHONE,
					"%s %s is not a valid phone number, which this account's imports require (phone validation 'valid'): %s.",
					name, trackly_quote_value(f->str, f->len), why);
	else
		import_fail(batch, rec, OUTCOME_INVALID_PHONE,
					"%s %s is not a valid E.164 phone number: %s.",
					name, trackly_quote_value(f->str, f->len), why);
	return false;
}

/*
 * Rule 6 for an instant a typed front end read (a timestamptz column): the
 * years of ISO 8601 that the contract takes, 0001 to 9999.
 */
static bool
check_instant(ImportBatch *batch, ImportRecord *rec, TimestampTz instant)
{
	const TimestampTz first = (TimestampTz) (date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
	const TimestampTz beyond = (TimestampTz) (date2j(10000, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;

	if (instant >= first && instant < beyond)
	{
		rec->sent_at = instant;
		return true;
	}
	import_fail(batch, rec, OUTCOME_INVALID_TIMESTAMP,
				"timestamp %s is outside the years 0001 to 9999 an ISO 8601 date-time may name.",
				TIMESTAMP_NOT_FINITE(instant) ? (TIMESTAMP_IS_NOBEGIN(instant) ? "-infinity" : "infinity")
				: timestamptz_to_str(instant));
	return false;
}

/* Rule 6; false (and rec failed) when the timestamp is not valid. */
static bool
check_timestamp(ImportBatch *batch, ImportRecord *rec)
{
	const ImportField *f = &rec->fields[F_TIMESTAMP];
	Iso8601Time parsed;
	char		why[256];

	if (f->kind == FIELD_TIMESTAMP)
		return check_instant(batch, rec, f->instant);
	if (f->kind != FIELD_STRING)
	{
		import_fail(batch, rec, OUTCOME_INVALID_TIMESTAMP,
					"timestamp is %s, not a string holding an ISO 8601 date-time such as \"2025-11-15T14:30:00Z\".",
					field_kind_name(f->kind));
		return false;
	}
	if (iso8601_parse(f->str, f->len, &parsed) == ISO8601_VALID)
	{
		rec->sent_at = parsed.pg_usec;
		return true;
	}
	iso8601_explain(f->str, f->len, why, sizeof(why));
	import_fail(batch, rec, OUTCOME_INVALID_TIMESTAMP,
				"timestamp %s is not a valid ISO 8601 date-time: %s.",
				trackly_quote_value(f->str, f->len), why);
	return false;
}

/* Rule 7 for the id: a string of 1 to 255 characters or an int64. */
static bool
check_id(ImportBatch *batch, ImportRecord *rec)
{
	const ImportField *f = &rec->fields[F_ID];
	char	   *text;
	int64		value;
	int			chars;

	if (f->kind == FIELD_STRING)
	{
		chars = field_chars(f, ID_MAX_CHARS);
		if (chars > ID_MAX_CHARS)
		{
			import_fail(batch, rec, OUTCOME_INVALID_FIELD,
						"id has %d characters; at most %d are allowed.", chars, ID_MAX_CHARS);
			return false;
		}
		rec->id = f->str;
		rec->id_len = f->len;
		return true;
	}
	if (f->kind != FIELD_NUMBER && f->kind != FIELD_INTEGER)
	{
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"id is %s; an id is a string or an integer.", field_kind_name(f->kind));
		return false;
	}
	text = import_field_integer_text(f);
	if (text == NULL)
	{
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"id %s is not an integer; an id is a string or an integer.", number_text(f->num));
		return false;
	}
	if (!parse_int64(text, &value))
	{
		pfree(text);
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"id %s is outside the range of 64-bit integers; send such an id as a string.",
					number_text(f->num));
		return false;
	}
	rec->id = MemoryContextStrdup(batch->cxt, text);
	rec->id_len = strlen(text);
	return true;
}

/* Rule 7 for an optional integer field in [min, max]. */
static bool
check_integer(ImportBatch *batch, ImportRecord *rec, ImportFieldId field,
			  int64 min, int64 max, int64 *value)
{
	const ImportField *f = &rec->fields[field];

	if (!import_field_given(f) || field_integer(f, min, max, value))
		return true;
	import_fail(batch, rec, OUTCOME_INVALID_FIELD,
				"%s must be an integer from " INT64_FORMAT " to " INT64_FORMAT "; it is %s.",
				import_field_names[field].name, min, max, field_value_text(f));
	return false;
}

/* Rule 7 for an optional string field of min_chars to max_chars characters. */
static bool
check_string(ImportBatch *batch, ImportRecord *rec, ImportFieldId field,
			 int min_chars, int max_chars)
{
	const ImportField *f = &rec->fields[field];
	const char *name = import_field_names[field].name;
	int			chars;

	if (!import_field_given(f))
		return true;
	if (f->kind != FIELD_STRING)
	{
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"%s must be a string; it is %s.", name, field_value_text(f));
		return false;
	}
	chars = field_chars(f, max_chars);
	if (chars > max_chars)
	{
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"%s has %d characters; at most %d are allowed.", name, chars, max_chars);
		return false;
	}
	if (chars < min_chars)
	{
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"%s is an empty string; it must have %d to %d characters.", name, min_chars, max_chars);
		return false;
	}
	return true;
}

/* Rules 1 to 7 for one record; the first failure wins. */
static void
validate_record(ImportBatch *batch, ImportRecord *rec)
{
	ImportField *fields = rec->fields;
	int64		length = -1;

	if (rec->kind != FIELD_OBJECT)
	{
		import_fail(batch, rec, OUTCOME_INVALID_RECORD,
					"The record is %s, not a JSON object.", field_kind_name(rec->kind));
		return;
	}
	if (!check_present(batch, rec, F_ID, OUTCOME_MISSING_ID) ||
		!check_present(batch, rec, F_TO_NUMBER, OUTCOME_MISSING_TO_NUMBER) ||
		!check_present(batch, rec, F_TIMESTAMP, OUTCOME_MISSING_TIMESTAMP))
		return;

	/* list_number "" counts as not given. */
	if (fields[F_LIST_NUMBER].kind == FIELD_STRING && fields[F_LIST_NUMBER].len == 0)
		fields[F_LIST_NUMBER].kind = FIELD_NULL;
	if (!check_phone(batch, rec, F_TO_NUMBER) ||
		(import_field_given(&fields[F_LIST_NUMBER]) && !check_phone(batch, rec, F_LIST_NUMBER)))
		return;
	if (!check_timestamp(batch, rec))
		return;

	if (!check_id(batch, rec) ||
		!check_integer(batch, rec, F_LIST_ID, 1, PG_INT64_MAX, &rec->list_id) ||
		!check_integer(batch, rec, F_CREATIVE_ID, 1, PG_INT64_MAX, &rec->creative_id) ||
		!check_integer(batch, rec, F_LENGTH, 0, PG_INT32_MAX, &length) ||
		!check_string(batch, rec, F_MESSAGE, 0, MESSAGE_MAX_CHARS) ||
		!check_string(batch, rec, F_SEND_TYPE, 1, SEND_TYPE_MAX_CHARS))
		return;
	if (import_field_given(&fields[F_DELIVERED]) && fields[F_DELIVERED].kind != FIELD_BOOL)
	{
		import_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"delivered must be true or false; it is %s.", field_value_text(&fields[F_DELIVERED]));
		return;
	}
	rec->length = (int32) length;
}

void
import_validate(ImportBatch *batch)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext,
												  "trackly record",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(scratch);
	int			i;

	for (i = 0; i < batch->nrecords; i++)
	{
		ImportRecord *rec = &batch->records[i];

		CHECK_FOR_INTERRUPTS();
		rec->list_id = 0;
		rec->creative_id = 0;
		rec->length = -1;
		validate_record(batch, rec);
		MemoryContextReset(scratch);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(scratch);
}
