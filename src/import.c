/*
 * import.c
 *		The stages of an import, in the order they run:
 *
 *		import_validate       rules 1 to 7 of every record, in C
 *		import_resolve_lists  rule 8: every list of the request in one query
 *		import_write          duplicates and the write (import_write.c)
 *		import_record_audit   the imports row and the import_errors rows
 *		import_response       the response body
 *
 * A request without refused records costs a constant number of statements.
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
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "e164.h"
#include "import.h"
#include "iso8601.h"
#include "trackly_history.h"

/* Limits of rule 7. */
#define ID_MAX_CHARS 255
/* Most characters of an id that the response and import_errors show. */
#define SHOWN_ID_MAX_CHARS 255
#define MESSAGE_MAX_CHARS 10000
#define SEND_TYPE_MAX_CHARS 64

#define FIELD_NAME(name) {name, sizeof(name) - 1}

const ImportFieldName import_field_names[IMPORT_NFIELDS] = {
	[F_ID] = FIELD_NAME("id"),
	[F_TO_NUMBER] = FIELD_NAME("to_number"),
	[F_TIMESTAMP] = FIELD_NAME("timestamp"),
	[F_LIST_ID] = FIELD_NAME("list_id"),
	[F_LIST_NUMBER] = FIELD_NAME("list_number"),
	[F_CREATIVE_ID] = FIELD_NAME("creative_id"),
	[F_LENGTH] = FIELD_NAME("length"),
	[F_MESSAGE] = FIELD_NAME("message"),
	[F_SEND_TYPE] = FIELD_NAME("send_type"),
	[F_DELIVERED] = FIELD_NAME("delivered"),
};

/* The response's code of each failure. */
static const char *const outcome_codes[] = {
	[OUTCOME_INVALID_RECORD] = "invalid_record",
	[OUTCOME_MISSING_ID] = "missing_id",
	[OUTCOME_MISSING_TO_NUMBER] = "missing_to_number",
	[OUTCOME_MISSING_TIMESTAMP] = "missing_timestamp",
	[OUTCOME_INVALID_PHONE] = "invalid_phone",
	[OUTCOME_INVALID_TIMESTAMP] = "invalid_timestamp",
	[OUTCOME_INVALID_FIELD] = "invalid_field",
	[OUTCOME_LIST_NOT_FOUND] = "list_not_found",
	[OUTCOME_SAVE_ERROR] = "save_error",
};

static const char *record_shown_id(const ImportRecord *rec, int *len, bool *cut);

/* The records buffer, and whether a call is using it. */
static ImportRecord *records_buffer = NULL;
static bool records_buffer_in_use = false;

/* Frees the records buffer for the next call when a transaction ends. */
static void
release_records_buffer(XactEvent event, void *arg)
{
	(void) arg;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		records_buffer_in_use = false;
}

ImportRecord *
import_records_buffer(int n)
{
	Assert(n <= IMPORT_MAX_RECORDS);
	if (records_buffer == NULL)
	{
		records_buffer = MemoryContextAlloc(TopMemoryContext,
											sizeof(ImportRecord) * IMPORT_MAX_RECORDS);
		RegisterXactCallback(release_records_buffer, NULL);
	}
	/* An import inside an import (from a user's trigger, say) gets its own. */
	if (records_buffer_in_use)
		return palloc0(sizeof(ImportRecord) * n);
	records_buffer_in_use = true;
	memset(records_buffer, 0, sizeof(ImportRecord) * n);
	return records_buffer;
}

void
import_release_records(ImportRecord *records)
{
	if (records == records_buffer)
		records_buffer_in_use = false;
}

/* ------------------------------------------------------------------------
 * Stage 1: validation (rules 1 to 7)
 * ------------------------------------------------------------------------ */

void
import_fail(ImportBatch *batch, ImportRecord *rec, ImportOutcome outcome,
			const char *fmt,...)
{
	MemoryContext old = MemoryContextSwitchTo(batch->cxt);
	StringInfoData buf;
	bool		cut;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	rec->outcome = outcome;
	rec->shown_id = record_shown_id(rec, &rec->shown_id_len, &cut);
	if (cut)
		appendStringInfo(&buf, " The id shown is its first %d characters.", SHOWN_ID_MAX_CHARS);
	rec->error = buf.data;
	MemoryContextSwitchTo(old);
}

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
 * The decimal text of an integral number field (42, 4.2e1; not 42.0), or
 * NULL.  jsonb keeps a number's scale, so "has no fractional digits" is "its
 * text has no decimal point".
 */
static char *
field_integer_text(const ImportField *f)
{
	char	   *text;

	if (f->kind == FIELD_INTEGER)
		return psprintf(INT64_FORMAT, f->integer);
	if (f->kind != FIELD_NUMBER)
		return NULL;
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(f->num)));
	if (strchr(text, '.') != NULL || strcmp(text, "NaN") == 0 || strstr(text, "Infinity") != NULL)
		return NULL;
	return text;
}

/*
 * The id of a failed record as the response and import_errors show it: the
 * string when it is a non-empty string, the decimal text when it is an
 * integer, else NULL; cut to its first SHOWN_ID_MAX_CHARS characters (*cut
 * tells), so that no request can make a response larger than about 100 x
 * (255 + the longest sentence) bytes.
 */
static const char *
record_shown_id(const ImportRecord *rec, int *len, bool *cut)
{
	const ImportField *f = &rec->fields[F_ID];
	const char *id;
	char	   *text = NULL;
	int			id_len;
	int			clipped;

	*cut = false;
	*len = 0;
	if (rec->id != NULL)
	{
		id = rec->id;
		id_len = rec->id_len;
	}
	else if (rec->kind != FIELD_OBJECT)
		return NULL;
	else if (f->kind == FIELD_STRING && f->len > 0)
	{
		id = f->str;
		id_len = f->len;
	}
	else if ((text = field_integer_text(f)) != NULL)
	{
		id = text;
		id_len = strlen(text);
	}
	else
		return NULL;

	clipped = id_len <= SHOWN_ID_MAX_CHARS ? id_len :
		pg_mbcharcliplen(id, id_len, SHOWN_ID_MAX_CHARS);
	*cut = clipped < id_len;
	*len = clipped;
	if (text != NULL && *cut)
	{
		id = pnstrdup(text, clipped);
		pfree(text);
	}
	return id;
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
	else if (f->kind != FIELD_NUMBER || numeric_is_nan(f->num) || numeric_is_inf(f->num) ||
			 DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(f->num))) != 0)
		return false;
	else
	{
		*value = numeric_int4_opt_error(f->num, &too_big);
		if (too_big && ((text = field_integer_text(f)) == NULL || !parse_int64(text, value)))
			return false;
	}
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
	char		why[160];

	if (f->kind != FIELD_STRING)
	{
		import_fail(batch, rec, OUTCOME_INVALID_PHONE,
					"%s is %s, not a string holding an E.164 phone number such as \"+14155551234\".",
					name, field_kind_name(f->kind));
		return false;
	}
	if (e164_check(f->str, f->len, NULL) == E164_VALID)
		return true;
	e164_explain(f->str, f->len, why, sizeof(why));
	import_fail(batch, rec, OUTCOME_INVALID_PHONE,
				"%s %s is not a valid E.164 phone number: %s.",
				name, trackly_quote_value(f->str, f->len), why);
	return false;
}

/* Rule 6; false (and rec failed) when the timestamp is not valid. */
static bool
check_timestamp(ImportBatch *batch, ImportRecord *rec)
{
	const ImportField *f = &rec->fields[F_TIMESTAMP];
	Iso8601Time parsed;
	char		why[160];

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
	text = field_integer_text(f);
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

/* ------------------------------------------------------------------------
 * Stage 2: lists (rule 8)
 * ------------------------------------------------------------------------ */

typedef struct ListRow
{
	int64		id;
	const char *number;			/* NULL: the list has no number */
} ListRow;

static int
list_row_cmp_id(const void *a, const void *b)
{
	int64		x = ((const ListRow *) a)->id;
	int64		y = ((const ListRow *) b)->id;

	return (x > y) - (x < y);
}

static int
list_row_cmp_number(const void *a, const void *b)
{
	const char *x = ((const ListRow *) a)->number;
	const char *y = ((const ListRow *) b)->number;

	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

Datum
import_make_array(Datum *values, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs,
											  elemtype, typlen, typbyval, typalign));
}

Datum
import_text_datum(const char *s, int len)
{
	return PointerGetDatum(cstring_to_text_with_len(s, len));
}

void
import_resolve_lists(ImportBatch *batch)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *ids = palloc(sizeof(Datum) * batch->nrecords);
	Datum	   *numbers = palloc(sizeof(Datum) * batch->nrecords);
	int			nids = 0;
	int			nnumbers = 0;
	ListRow    *by_id;
	ListRow    *by_number;
	int			nrows;
	Datum		params[3];
	int			i;

	for (i = 0; i < batch->nrecords; i++)
	{
		ImportRecord *rec = &batch->records[i];

		if (rec->outcome != OUTCOME_PENDING)
			continue;
		if (rec->list_id != 0)
			ids[nids++] = Int64GetDatum(rec->list_id);
		if (import_field_given(&rec->fields[F_LIST_NUMBER]))
			numbers[nnumbers++] = import_text_datum(rec->fields[F_LIST_NUMBER].str,
											 rec->fields[F_LIST_NUMBER].len);
	}
	if (nids == 0 && nnumbers == 0)
		return;

	trackly_prepare(&plan,
					"SELECT l.id, l.phone_number FROM trackly.lists l"
					" WHERE l.account_id = $1"
					"   AND (l.id = ANY ($2) OR l.phone_number = ANY ($3))",
					3, (Oid[]) {INT8OID, INT8ARRAYOID, TEXTARRAYOID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = import_make_array(ids, NULL, nids, INT8OID);
	params[2] = import_make_array(numbers, NULL, nnumbers, TEXTOID);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);

	nrows = (int) SPI_processed;
	by_id = palloc(sizeof(ListRow) * Max(nrows, 1));
	for (i = 0; i < nrows; i++)
	{
		bool		isnull;

		by_id[i].id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		by_id[i].number = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
	by_number = palloc(sizeof(ListRow) * Max(nrows, 1));
	memcpy(by_number, by_id, sizeof(ListRow) * nrows);
	qsort(by_id, nrows, sizeof(ListRow), list_row_cmp_id);
	qsort(by_number, nrows, sizeof(ListRow), list_row_cmp_number);

	for (i = 0; i < batch->nrecords; i++)
	{
		ImportRecord *rec = &batch->records[i];
		const ImportField *number = &rec->fields[F_LIST_NUMBER];
		ListRow		key;
		ListRow    *found_id = NULL;
		ListRow    *found_number = NULL;

		if (rec->outcome != OUTCOME_PENDING)
			continue;
		if (rec->list_id != 0)
		{
			key.id = rec->list_id;
			found_id = bsearch(&key, by_id, nrows, sizeof(ListRow), list_row_cmp_id);
			if (found_id == NULL)
			{
				import_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"No list of this account has list_id " INT64_FORMAT ".", rec->list_id);
				continue;
			}
		}
		if (import_field_given(number))
		{
			key.number = pnstrdup(number->str, number->len);
			found_number = bsearch(&key, by_number, nrows, sizeof(ListRow), list_row_cmp_number);
			if (found_number == NULL)
			{
				import_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"No list of this account has list_number \"%s\".", key.number);
				continue;
			}
			if (found_id != NULL && found_id->id != found_number->id)
			{
				import_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"list_id " INT64_FORMAT " and list_number \"%s\" name different lists: that number is list " INT64_FORMAT "'s.",
							rec->list_id, key.number, found_number->id);
				continue;
			}
			rec->list_id = found_number->id;
		}
	}
}

/* ------------------------------------------------------------------------
 * Stage 4: the audit rows
 * ------------------------------------------------------------------------ */

/* Counts the buckets: every record lands in exactly one. */
static void
count_outcomes(ImportBatch *batch)
{
	int			i;

	batch->error_count = 0;
	batch->invalid_phones = 0;
	for (i = 0; i < batch->nrecords; i++)
	{
		ImportOutcome outcome = batch->records[i].outcome;

		Assert(outcome != OUTCOME_PENDING);
		if (OUTCOME_IS_FAILURE(outcome))
			batch->error_count++;
		if (outcome == OUTCOME_INVALID_PHONE)
			batch->invalid_phones++;
	}
	batch->duplicates_skipped = batch->nrecords - batch->error_count - batch->success_count;
}

void
import_record_audit(ImportBatch *batch)
{
	static SPIPlanPtr import_plan = NULL;
	static SPIPlanPtr errors_plan = NULL;
	Datum		params[8];
	char		nulls[8];
	Datum	   *indexes;
	Datum	   *ids;
	bool	   *ids_null;
	Datum	   *codes;
	Datum	   *messages;
	int			n = 0;
	int			i;

	count_outcomes(batch);

	trackly_prepare(&import_plan,
					"INSERT INTO trackly.imports (account_id, id, source, api_key_id,"
					" success_count, error_count, duplicates_skipped, invalid_phones)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
					8, (Oid[]) {INT8OID, INT8OID, TEXTOID, INT8OID, INT4OID, INT4OID, INT4OID, INT4OID});
	memset(nulls, ' ', sizeof(nulls));
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = Int64GetDatum(batch->import_id);
	params[2] = CStringGetTextDatum(batch->source);
	params[3] = Int64GetDatum(batch->api_key_id);
	nulls[3] = batch->api_key_id == 0 ? 'n' : ' ';
	params[4] = Int32GetDatum(batch->success_count);
	params[5] = Int32GetDatum(batch->error_count);
	params[6] = Int32GetDatum(batch->duplicates_skipped);
	params[7] = Int32GetDatum(batch->invalid_phones);
	trackly_execute(import_plan, params, nulls, SPI_OK_INSERT);

	if (batch->error_count == 0)
		return;
	indexes = palloc(sizeof(Datum) * batch->error_count);
	ids = palloc(sizeof(Datum) * batch->error_count);
	ids_null = palloc(sizeof(bool) * batch->error_count);
	codes = palloc(sizeof(Datum) * batch->error_count);
	messages = palloc(sizeof(Datum) * batch->error_count);
	for (i = 0; i < batch->nrecords; i++)
	{
		const ImportRecord *rec = &batch->records[i];

		if (!OUTCOME_IS_FAILURE(rec->outcome))
			continue;
		indexes[n] = Int32GetDatum(rec->index);
		ids_null[n] = rec->shown_id == NULL;
		ids[n] = rec->shown_id == NULL ? (Datum) 0 :
			import_text_datum(rec->shown_id, rec->shown_id_len);
		codes[n] = CStringGetTextDatum(outcome_codes[rec->outcome]);
		messages[n] = CStringGetTextDatum(rec->error);
		n++;
	}
	trackly_prepare(&errors_plan,
					"INSERT INTO trackly.import_errors (account_id, import_id, index, id, code, error)"
					" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4),"
					" pg_catalog.unnest($5), pg_catalog.unnest($6)",
					6, (Oid[]) {INT8OID, INT8OID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID});
	params[2] = import_make_array(indexes, NULL, n, INT4OID);
	params[3] = import_make_array(ids, ids_null, n, TEXTOID);
	params[4] = import_make_array(codes, NULL, n, TEXTOID);
	params[5] = import_make_array(messages, NULL, n, TEXTOID);
	trackly_execute(errors_plan, params, NULL, SPI_OK_INSERT);
}

/* ------------------------------------------------------------------------
 * Stage 5: the response
 * ------------------------------------------------------------------------ */

/* Pushes "key": value for a string key. */
static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &v);
}

static void
push_integer(JsonbParseState **state, const char *key, int64 value)
{
	JsonbValue	v;

	push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_string(JsonbParseState **state, const char *key, const char *value, int len)
{
	JsonbValue	v;

	push_key(state, key);
	if (value == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) value;
		v.val.string.len = len;
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_null(JsonbParseState **state, const char *key)
{
	push_string(state, key, NULL, 0);
}

/* Pushes one element of "errors". */
static void
push_error(JsonbParseState **state, const ImportRecord *rec, const char *code,
		   const char *message)
{
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	if (rec == NULL)
	{
		push_null(state, "index");
		push_null(state, "id");
	}
	else
	{
		push_integer(state, "index", rec->index);
		push_string(state, "id", rec->shown_id, rec->shown_id_len);
	}
	push_string(state, "code", code, strlen(code));
	push_string(state, "error", message, strlen(message));
	pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

Jsonb *
import_response(ImportBatch *batch)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			listed = 0;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_integer(&state, "success_count", batch->success_count);
	push_integer(&state, "error_count", batch->error_count);
	push_integer(&state, "duplicates_skipped", batch->duplicates_skipped);
	push_integer(&state, "invalid_phones", batch->invalid_phones);
	push_key(&state, "errors");
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < batch->nrecords && listed < IMPORT_MAX_LISTED_ERRORS; i++)
	{
		const ImportRecord *rec = &batch->records[i];

		if (!OUTCOME_IS_FAILURE(rec->outcome))
			continue;
		push_error(&state, rec, outcome_codes[rec->outcome], rec->error);
		listed++;
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	push_integer(&state, "import_id", batch->import_id);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

Jsonb *
import_failure_response(const ImportFailure *failure)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	char		status[16];

	snprintf(status, sizeof(status), "%d", failure->http_status);
	(void) set_config_option("response.status", status, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_integer(&state, "success_count", 0);
	push_integer(&state, "error_count", 0);
	push_integer(&state, "duplicates_skipped", 0);
	push_integer(&state, "invalid_phones", 0);
	push_key(&state, "errors");
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	push_error(&state, NULL, failure->code, failure->message);
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	push_null(&state, "import_id");
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

Jsonb *
import_run(ImportBatch *batch)
{
	import_validate(batch);
	import_resolve_lists(batch);
	import_write(batch);
	import_record_audit(batch);
	return import_response(batch);
}
