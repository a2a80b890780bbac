/*
 * import_text.c
 *		Front end of the import for a request body as JSON text: the bytes
 *		of the HTTP entry point, the text a Citus coordinator sends on.  It
 *		reads the records straight out of the text (json_scan.c), the strings
 *		where they lie, instead of building a jsonb of the body first and
 *		reading that; the stages see the same records either way.
 *
 * It reads only bodies it can answer exactly as the jsonb front end would:
 * an object whose records field (given once) is an array of 1 to 1,000
 * values, every number in the body within what numeric takes without
 * complaint.  Anything else (a request to refuse, text jsonb would refuse,
 * a number to judge) it leaves to import_jsonb.c, whose answers and
 * messages are the contract's.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "import.h"
#include "json_scan.h"

/* Most digits of an integer read straight into an int64 (10^18 fits). */
#define INT64_SAFE_DIGITS 18

/* JsonScanRoom: room in the batch's context. */
static char *
batch_room(void *arg, size_t n)
{
	return MemoryContextAlloc((MemoryContext) arg, n);
}

/* The value of an integral number of at most INT64_SAFE_DIGITS digits. */
static int64
small_integer(const JsonScanNumber *number)
{
	const char *p = number->text;
	const char *end = p + number->len;
	bool		negative = *p == '-';
	int64		value = 0;

	if (negative)
		p++;
	for (; p < end; p++)
		value = value * 10 + (*p - '0');
	return negative ? -value : value;
}

/*
 * Fills field from a number as jsonb_in would keep it: numeric_in of the
 * same text (which cannot fail on a number the scan accepts), or, for a
 * plain integer that fits, the integer itself, which every stage reads as
 * the same value.
 */
static void
read_number(const JsonScanNumber *number, ImportField *field)
{
	int			digits = number->len - (number->text[0] == '-' ? 1 : 0);

	if (number->integral && digits <= INT64_SAFE_DIGITS)
	{
		field->kind = FIELD_INTEGER;
		field->integer = small_integer(number);
		return;
	}
	field->kind = FIELD_NUMBER;
	field->num = DatumGetNumeric(DirectFunctionCall3(numeric_in,
													 CStringGetDatum(pnstrdup(number->text, number->len)),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
}

/* Reads the next value into field; false when the scan refuses it. */
static bool
read_value(JsonScan *s, ImportField *field)
{
	JsonScanKind kind = json_scan_peek(s);
	JsonScanNumber number;

	memset(field, 0, sizeof(*field));
	switch (kind)
	{
		case JSON_SCAN_STRING:
			field->kind = FIELD_STRING;
			return json_scan_string(s, &field->str, &field->len);
		case JSON_SCAN_NUMBER:
			if (!json_scan_number(s, &number))
				return false;
			read_number(&number, field);
			return true;
		case JSON_SCAN_TRUE:
		case JSON_SCAN_FALSE:
			field->kind = FIELD_BOOL;
			field->boolean = kind == JSON_SCAN_TRUE;
			return json_scan_literal(s, kind);
		case JSON_SCAN_NULL:
			field->kind = FIELD_NULL;
			return json_scan_literal(s, kind);
		case JSON_SCAN_OBJECT:
			field->kind = FIELD_OBJECT;
			return json_scan_skip(s);
		case JSON_SCAN_ARRAY:
			field->kind = FIELD_ARRAY;
			return json_scan_skip(s);
		case JSON_SCAN_BAD:
			break;
	}
	return false;
}

/*
 * Reads one element of the records array into rec.  A key given twice keeps
 * its last value, as jsonb does.
 */
static bool
read_record(JsonScan *s, ImportRecord *rec)
{
	JsonScanStep step;
	int			i;

	if (json_scan_peek(s) != JSON_SCAN_OBJECT)
	{
		ImportField whole;

		if (!read_value(s, &whole))
			return false;
		rec->kind = whole.kind;
		return true;
	}
	rec->kind = FIELD_OBJECT;
	if (!json_scan_open(s, '{'))
		return false;
	for (i = 0; (step = json_scan_next(s, '}', i)) == JSON_SCAN_ITEM; i++)
	{
		const char *key;
		int			len;
		int			f;

		if (!json_scan_key(s, &key, &len))
			return false;
		f = import_field_of_key(key, len);
		if (f >= 0 ? !read_value(s, &rec->fields[f]) : !json_scan_skip(s))
			return false;
	}
	return step == JSON_SCAN_CLOSED;
}

/* Reads the records array into the batch: 1 to IMPORT_MAX_RECORDS values. */
static bool
read_records(JsonScan *s, ImportBatch *batch)
{
	JsonScanStep step;
	int			n;

	if (!json_scan_open(s, '['))
		return false;
	batch->records = import_records_buffer(IMPORT_MAX_RECORDS, false);
	for (n = 0; (step = json_scan_next(s, ']', n)) == JSON_SCAN_ITEM; n++)
	{
		if (n == IMPORT_MAX_RECORDS)
			return false;
		memset(&batch->records[n], 0, sizeof(ImportRecord));
		batch->records[n].index = n;
		if (!read_record(s, &batch->records[n]))
			return false;
	}
	batch->nrecords = n;
	return step == JSON_SCAN_CLOSED && n > 0;
}

/* Reads the body: an object with a records field, given once. */
static bool
read_body(JsonScan *s, ImportBatch *batch)
{
	JsonScanStep step;
	bool		read = false;
	int			i;

	if (!json_scan_open(s, '{'))
		return false;
	for (i = 0; (step = json_scan_next(s, '}', i)) == JSON_SCAN_ITEM; i++)
	{
		const char *key;
		int			len;

		if (!json_scan_key(s, &key, &len))
			return false;
		if (len == strlen("records") && memcmp(key, "records", len) == 0)
		{
			if (read || !read_records(s, batch))
				return false;
			read = true;
		}
		else if (!json_scan_skip(s))
			return false;
	}
	return step == JSON_SCAN_CLOSED && read && json_scan_done(s);
}

bool
import_read_text(const char *text, int len, ImportBatch *batch)
{
	JsonScan	s;

	if (GetDatabaseEncoding() == PG_UTF8 && pg_encoding_verifymbstr(PG_UTF8, text, len) == len)
	{
		json_scan_init(&s, text, len, IMPORT_MAX_BODY_DEPTH, batch_room, batch->cxt);
		if (read_body(&s, batch))
			return true;
	}

	/* Left to the jsonb front end, which starts from a batch without records. */
	elog(DEBUG1, "the request body is read as jsonb, not straight from its text");
	if (batch->records != NULL)
		import_release_records(batch->records);
	batch->records = NULL;
	batch->nrecords = 0;
	return false;
}
