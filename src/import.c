/*
 * import.c
 *		The stages of an import, in the order they run:
 *
 *		import_validate       rules 1 to 7 of every record, in C
 *		import_resolve_lists  rule 8: every list of the request in one query
 *		import_write          duplicates, then every good record in one
 *		                      statement, in ascending id order
 *		import_record_audit   the imports row and the import_errors rows
 *		import_response       the response body
 *
 * A request without refused records costs a constant number of statements.
 * When trackly.sends still has only the constraints this extension gave it,
 * no valid record can be refused, and the write is one INSERT ... ON
 * CONFLICT DO NOTHING with no subtransaction.  Once a user has added a CHECK,
 * a trigger, a rule, an index or a column, the write runs in a subtransaction
 * and, when the database refuses a row, halves the batch until it finds the
 * refused records (save_error) and stores the rest.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "e164.h"
#include "import.h"
#include "iso8601.h"
#include "trackly_history.h"

/* Limits of rule 7. */
#define ID_MAX_CHARS 255
#define MESSAGE_MAX_CHARS 10000
#define SEND_TYPE_MAX_CHARS 64

const char *const import_field_names[IMPORT_NFIELDS] = {
	[F_ID] = "id",
	[F_TO_NUMBER] = "to_number",
	[F_TIMESTAMP] = "timestamp",
	[F_LIST_ID] = "list_id",
	[F_LIST_NUMBER] = "list_number",
	[F_CREATIVE_ID] = "creative_id",
	[F_LENGTH] = "length",
	[F_MESSAGE] = "message",
	[F_SEND_TYPE] = "send_type",
	[F_DELIVERED] = "delivered",
};

/* The contract's code of each failure. */
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

/* ------------------------------------------------------------------------
 * Stage 1: validation (rules 1 to 7)
 * ------------------------------------------------------------------------ */

/* Marks rec failed with a message formatted in the batch's context. */
static void
pg_attribute_printf(4, 5)
record_fail(ImportBatch *batch, ImportRecord *rec, ImportOutcome outcome,
			const char *fmt,...)
{
	MemoryContext old = MemoryContextSwitchTo(batch->cxt);
	StringInfoData buf;

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

/* Optional fields: given unless absent or null. */
static bool
field_given(const ImportField *f)
{
	return f->kind != FIELD_ABSENT && f->kind != FIELD_NULL;
}

/* Number of characters of a string field, counting only when it matters. */
static int
field_chars(const ImportField *f, int limit)
{
	if (f->len <= limit)
		return f->len <= 1 ? f->len : Min(f->len, pg_mbstrlen_with_len(f->str, f->len));
	return pg_mbstrlen_with_len(f->str, f->len);
}

/* Decimal text of a number, shortened for a message. */
static char *
number_text(Numeric num)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));

	return strlen(text) > TRACKLY_SHOWN_CHARS ? psprintf("%.*s...", TRACKLY_SHOWN_CHARS, text) : text;
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

/* Reads an integer field in [min, max]; false when it is anything else. */
static bool
field_integer(const ImportField *f, int64 min, int64 max, int64 *value)
{
	char	   *text;

	if (f->kind == FIELD_INTEGER)
		*value = f->integer;
	else if ((text = field_integer_text(f)) == NULL || !parse_int64(text, value))
		return false;
	return *value >= min && *value <= max;
}

/* Rules 2 to 4 for one field; false (and rec failed) when it is missing. */
static bool
check_present(ImportBatch *batch, ImportRecord *rec, ImportFieldId field,
			  ImportOutcome outcome)
{
	const ImportField *f = &rec->fields[field];
	const char *name = import_field_names[field];

	if (field_present(f))
		return true;
	if (f->kind == FIELD_ABSENT)
		record_fail(batch, rec, outcome, "The record has no %s.", name);
	else if (f->kind == FIELD_NULL)
		record_fail(batch, rec, outcome, "%s is null.", name);
	else
		record_fail(batch, rec, outcome, "%s is an empty string.", name);
	return false;
}

/* Rule 5 for one field; false (and rec failed) when it is no E.164 number. */
static bool
check_phone(ImportBatch *batch, ImportRecord *rec, ImportFieldId field)
{
	const ImportField *f = &rec->fields[field];
	const char *name = import_field_names[field];
	char		why[160];

	if (f->kind != FIELD_STRING)
	{
		record_fail(batch, rec, OUTCOME_INVALID_PHONE,
					"%s is %s, not a string holding an E.164 phone number such as \"+14155551234\".",
					name, field_kind_name(f->kind));
		return false;
	}
	if (e164_check(f->str, f->len, NULL) == E164_VALID)
		return true;
	e164_explain(f->str, f->len, why, sizeof(why));
	record_fail(batch, rec, OUTCOME_INVALID_PHONE,
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
		record_fail(batch, rec, OUTCOME_INVALID_TIMESTAMP,
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
	record_fail(batch, rec, OUTCOME_INVALID_TIMESTAMP,
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
			record_fail(batch, rec, OUTCOME_INVALID_FIELD,
						"id has %d characters; at most %d are allowed.", chars, ID_MAX_CHARS);
			return false;
		}
		rec->id = f->str;
		rec->id_len = f->len;
		return true;
	}
	if (f->kind != FIELD_NUMBER && f->kind != FIELD_INTEGER)
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"id is %s; an id is a string or an integer.", field_kind_name(f->kind));
		return false;
	}
	text = field_integer_text(f);
	if (text == NULL)
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"id %s is not an integer; an id is a string or an integer.", number_text(f->num));
		return false;
	}
	if (!parse_int64(text, &value))
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
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

	if (!field_given(f) || field_integer(f, min, max, value))
		return true;
	record_fail(batch, rec, OUTCOME_INVALID_FIELD,
				"%s must be an integer from " INT64_FORMAT " to " INT64_FORMAT "; it is %s.",
				import_field_names[field], min, max, field_value_text(f));
	return false;
}

/* Rule 7 for an optional string field of min_chars to max_chars characters. */
static bool
check_string(ImportBatch *batch, ImportRecord *rec, ImportFieldId field,
			 int min_chars, int max_chars)
{
	const ImportField *f = &rec->fields[field];
	const char *name = import_field_names[field];
	int			chars;

	if (!field_given(f))
		return true;
	if (f->kind != FIELD_STRING)
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"%s must be a string; it is %s.", name, field_value_text(f));
		return false;
	}
	chars = field_chars(f, max_chars);
	if (chars > max_chars)
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
					"%s has %d characters; at most %d are allowed.", name, chars, max_chars);
		return false;
	}
	if (chars < min_chars)
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
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
		record_fail(batch, rec, OUTCOME_INVALID_RECORD,
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
		(field_given(&fields[F_LIST_NUMBER]) && !check_phone(batch, rec, F_LIST_NUMBER)))
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
	if (field_given(&fields[F_DELIVERED]) && fields[F_DELIVERED].kind != FIELD_BOOL)
	{
		record_fail(batch, rec, OUTCOME_INVALID_FIELD,
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

/* A one-dimensional array of n values, with nulls where nulls[i] is true. */
static Datum
make_array(Datum *values, bool *nulls, int n, Oid elemtype)
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

/* A text datum of s[0 .. len-1]. */
static Datum
text_datum(const char *s, int len)
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
		if (field_given(&rec->fields[F_LIST_NUMBER]))
			numbers[nnumbers++] = text_datum(rec->fields[F_LIST_NUMBER].str,
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
	params[1] = make_array(ids, NULL, nids, INT8OID);
	params[2] = make_array(numbers, NULL, nnumbers, TEXTOID);
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
				record_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"No list of this account has list_id " INT64_FORMAT ".", rec->list_id);
				continue;
			}
		}
		if (field_given(number))
		{
			key.number = pnstrdup(number->str, number->len);
			found_number = bsearch(&key, by_number, nrows, sizeof(ListRow), list_row_cmp_number);
			if (found_number == NULL)
			{
				record_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"No list of this account has list_number \"%s\".", key.number);
				continue;
			}
			if (found_id != NULL && found_id->id != found_number->id)
			{
				record_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"list_id " INT64_FORMAT " and list_number \"%s\" name different lists: that number is list " INT64_FORMAT "'s.",
							rec->list_id, key.number, found_number->id);
				continue;
			}
			rec->list_id = found_number->id;
		}
	}
}

/* ------------------------------------------------------------------------
 * Stage 3: writing (duplicates, rule 9)
 * ------------------------------------------------------------------------ */

/* Order of ids as trackly.sends.id (COLLATE "C") sorts them: bytes, then length. */
static int
id_cmp(const ImportRecord *a, const ImportRecord *b)
{
	int			c = memcmp(a->id, b->id, Min(a->id_len, b->id_len));

	if (c != 0)
		return c;
	return (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

/* Sorts by id, and records of one id by their place in the request. */
static int
record_cmp_id_index(const void *a, const void *b)
{
	const ImportRecord *x = *(ImportRecord *const *) a;
	const ImportRecord *y = *(ImportRecord *const *) b;
	int			c = id_cmp(x, y);

	return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/*
 * Can trackly.sends refuse none of the rows that passed rules 1 to 8?  True
 * while the table has exactly the columns, types, NOT NULLs and the single
 * index this extension gave it, and no CHECK, trigger (so no foreign key),
 * rule, row security or partition bound of anybody's.
 */
static bool
sends_accepts_every_valid_row(void)
{
	static const struct
	{
		const char *name;
		Oid			type;
		bool		not_null;
	}			columns[] = {
		{"account_id", INT8OID, true},
		{"id", TEXTOID, true},
		{"list_id", INT8OID, false},
		{"to_number", TEXTOID, true},
		{"message", TEXTOID, false},
		{"creative_id", INT8OID, false},
		{"send_type", TEXTOID, false},
		{"delivered", BOOLOID, false},
		{"length", INT4OID, false},
		{"sent_at", TIMESTAMPTZOID, true},
		{"imported", BOOLOID, true},
		{"import_id", INT8OID, false},
	};
	Relation	rel = table_open(trackly_relation_oid("sends"), RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		pristine;
	int			i;
	List	   *indexes;

	pristine = rel->rd_rel->relkind == RELKIND_RELATION &&
		!rel->rd_rel->relispartition &&
		!rel->rd_rel->relhasrules &&
		!rel->rd_rel->relrowsecurity &&
		rel->trigdesc == NULL &&
		(desc->constr == NULL || desc->constr->num_check == 0) &&
		desc->natts == lengthof(columns);
	for (i = 0; pristine && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		pristine = !att->attisdropped &&
			att->atttypid == columns[i].type &&
			att->atttypmod == -1 &&
			att->attnotnull == columns[i].not_null &&
			att->attgenerated == '\0' &&
			strcmp(NameStr(att->attname), columns[i].name) == 0;
	}
	if (pristine)
	{
		indexes = RelationGetIndexList(rel);
		pristine = list_length(indexes) == 1;
		list_free(indexes);
	}
	table_close(rel, NoLock);
	return pristine;
}

/* Inserts the n records in one statement; returns how many rows it added. */
static uint64
insert_sends(ImportBatch *batch, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	Datum		params[11];
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *list_ids = palloc(sizeof(Datum) * n);
	bool	   *list_ids_null = palloc(sizeof(bool) * n);
	Datum	   *to_numbers = palloc(sizeof(Datum) * n);
	Datum	   *messages = palloc(sizeof(Datum) * n);
	bool	   *messages_null = palloc(sizeof(bool) * n);
	Datum	   *creative_ids = palloc(sizeof(Datum) * n);
	bool	   *creative_ids_null = palloc(sizeof(bool) * n);
	Datum	   *send_types = palloc(sizeof(Datum) * n);
	bool	   *send_types_null = palloc(sizeof(bool) * n);
	Datum	   *delivered = palloc(sizeof(Datum) * n);
	bool	   *delivered_null = palloc(sizeof(bool) * n);
	Datum	   *lengths = palloc(sizeof(Datum) * n);
	bool	   *lengths_null = palloc(sizeof(bool) * n);
	Datum	   *sent_ats = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		const ImportRecord *rec = recs[i];
		const ImportField *f = rec->fields;

		ids[i] = text_datum(rec->id, rec->id_len);
		list_ids_null[i] = rec->list_id == 0;
		list_ids[i] = Int64GetDatum(rec->list_id);
		to_numbers[i] = text_datum(f[F_TO_NUMBER].str, f[F_TO_NUMBER].len);
		messages_null[i] = !field_given(&f[F_MESSAGE]);
		messages[i] = messages_null[i] ? (Datum) 0 : text_datum(f[F_MESSAGE].str, f[F_MESSAGE].len);
		creative_ids_null[i] = rec->creative_id == 0;
		creative_ids[i] = Int64GetDatum(rec->creative_id);
		send_types_null[i] = !field_given(&f[F_SEND_TYPE]);
		send_types[i] = send_types_null[i] ? (Datum) 0 : text_datum(f[F_SEND_TYPE].str, f[F_SEND_TYPE].len);
		delivered_null[i] = !field_given(&f[F_DELIVERED]);
		delivered[i] = BoolGetDatum(f[F_DELIVERED].boolean);
		lengths_null[i] = rec->length < 0;
		lengths[i] = Int32GetDatum(rec->length);
		sent_ats[i] = TimestampTzGetDatum(rec->sent_at);
	}

	trackly_prepare(&plan,
					"INSERT INTO trackly.sends AS s"
					" (account_id, id, list_id, to_number, message, creative_id,"
					"  send_type, delivered, length, sent_at, imported, import_id)"
					" SELECT $1, u.id, u.list_id, u.to_number, u.message, u.creative_id,"
					"        u.send_type, u.delivered, u.length, u.sent_at, true, $2"
					" FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4),"
					"      pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7),"
					"      pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10),"
					"      pg_catalog.unnest($11))"
					"   AS u(id, list_id, to_number, message, creative_id,"
					"        send_type, delivered, length, sent_at)"
					" ON CONFLICT (account_id, id) DO NOTHING",
					11, (Oid[]) {INT8OID, INT8OID, TEXTARRAYOID, INT8ARRAYOID,
						TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, TEXTARRAYOID,
					BOOLARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = Int64GetDatum(batch->import_id);
	params[2] = make_array(ids, NULL, n, TEXTOID);
	params[3] = make_array(list_ids, list_ids_null, n, INT8OID);
	params[4] = make_array(to_numbers, NULL, n, TEXTOID);
	params[5] = make_array(messages, messages_null, n, TEXTOID);
	params[6] = make_array(creative_ids, creative_ids_null, n, INT8OID);
	params[7] = make_array(send_types, send_types_null, n, TEXTOID);
	params[8] = make_array(delivered, delivered_null, n, BOOLOID);
	params[9] = make_array(lengths, lengths_null, n, INT4OID);
	params[10] = make_array(sent_ats, NULL, n, TIMESTAMPTZOID);
	trackly_execute(plan, params, NULL, SPI_OK_INSERT);
	return SPI_processed;
}

/* Is an error one that belongs to the row being written (rule 9)? */
static bool
error_belongs_to_row(int sqlerrcode)
{
	return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
		sqlerrcode == ERRCODE_RAISE_EXCEPTION;
}

/*
 * Inserts the n records in a subtransaction.  When the database refuses one
 * of them, halves the batch and tries each half, down to single records,
 * which fail with save_error; any other error propagates.
 */
static void
insert_isolating(ImportBatch *batch, ImportRecord **recs, int n)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile uint64 inserted = 0;
	ErrorData  *volatile error = NULL;
	int			i;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		inserted = insert_sends(batch, recs, n);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;

	if (error == NULL)
	{
		batch->success_count += (int) inserted;
		for (i = 0; i < n; i++)
			recs[i]->outcome = OUTCOME_STORED_OR_DUPLICATE;
		return;
	}
	if (!error_belongs_to_row(error->sqlerrcode))
		ReThrowError(error);
	if (n == 1)
		record_fail(batch, recs[0], OUTCOME_SAVE_ERROR,
					"The database refused the record: %s.", error->message);
	else
	{
		insert_isolating(batch, recs, n / 2);
		insert_isolating(batch, recs + n / 2, n - n / 2);
	}
	FreeErrorData(error);
}

/*
 * Which of the n records have an id that trackly.sends holds for the account,
 * written by anybody but this import?  One statement; returns a flag each.
 */
static bool *
find_stored_ids(ImportBatch *batch, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *ids = palloc(sizeof(Datum) * n);
	bool	   *stored = palloc0(sizeof(bool) * n);
	Datum		params[3];
	uint64		row;
	int			i;

	for (i = 0; i < n; i++)
		ids[i] = text_datum(recs[i]->id, recs[i]->id_len);
	trackly_prepare(&plan,
					"SELECT u.i FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(id, i)"
					" WHERE EXISTS (SELECT FROM trackly.sends s"
					"                WHERE s.account_id = $1 AND s.id = u.id"
					"                  AND s.import_id IS DISTINCT FROM $3)",
					3, (Oid[]) {INT8OID, TEXTARRAYOID, INT8OID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = make_array(ids, NULL, n, TEXTOID);
	params[2] = Int64GetDatum(batch->import_id);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);
	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;

		stored[DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row],
										   SPI_tuptable->tupdesc, 1, &isnull)) - 1] = true;
	}
	return stored;
}

/*
 * Writes records when rows may be refused.  Ids stored before are duplicates
 * whatever the rest of the record says, so they never reach the INSERT.  Then
 * each round writes the earliest untried record of every id not yet written;
 * a refused record leaves its id to the next record with it.  Last, a refused
 * record whose id another import stored meanwhile is a duplicate after all.
 */
static void
write_isolating(ImportBatch *batch, ImportRecord **sorted, int *group, int ngroups)
{
	ImportRecord **candidates = palloc(sizeof(ImportRecord *) * group[ngroups]);
	bool	   *stored;
	int			ncandidates;
	int			g;
	int			i;

	for (g = 0; g < ngroups; g++)
		candidates[g] = sorted[group[g]];
	stored = find_stored_ids(batch, candidates, ngroups);
	for (g = 0; g < ngroups; g++)
		for (i = group[g]; stored[g] && i < group[g + 1]; i++)
			sorted[i]->outcome = OUTCOME_DUPLICATE;

	for (;;)
	{
		ncandidates = 0;
		for (g = 0; g < ngroups; g++)
		{
			for (i = group[g]; i < group[g + 1]; i++)
			{
				if (sorted[i]->outcome == OUTCOME_PENDING)
				{
					candidates[ncandidates++] = sorted[i];
					break;
				}
				if (sorted[i]->outcome != OUTCOME_SAVE_ERROR)
					break;
			}
		}
		if (ncandidates == 0)
			break;
		insert_isolating(batch, candidates, ncandidates);
	}

	ncandidates = 0;
	for (i = 0; i < group[ngroups]; i++)
		if (sorted[i]->outcome == OUTCOME_SAVE_ERROR)
			candidates[ncandidates++] = sorted[i];
	if (ncandidates > 0)
	{
		stored = find_stored_ids(batch, candidates, ncandidates);
		for (i = 0; i < ncandidates; i++)
			if (stored[i])
				candidates[i]->outcome = OUTCOME_DUPLICATE;
	}

	for (g = 0; g < ngroups; g++)
	{
		bool		written = false;

		for (i = group[g]; i < group[g + 1]; i++)
		{
			if (written && sorted[i]->outcome == OUTCOME_PENDING)
				sorted[i]->outcome = OUTCOME_DUPLICATE;
			written |= sorted[i]->outcome == OUTCOME_STORED_OR_DUPLICATE ||
				sorted[i]->outcome == OUTCOME_DUPLICATE;
		}
	}
}

void
import_write(ImportBatch *batch)
{
	ImportRecord **sorted = palloc(sizeof(ImportRecord *) * batch->nrecords);
	ImportRecord **firsts;
	int		   *group = palloc(sizeof(int) * (batch->nrecords + 1));
	int			nsorted = 0;
	int			ngroups = 0;
	int			i;
	int			g;

	batch->import_id = nextval_internal(trackly_relation_oid("imports_id_seq"), false);

	for (i = 0; i < batch->nrecords; i++)
		if (batch->records[i].outcome == OUTCOME_PENDING)
			sorted[nsorted++] = &batch->records[i];
	if (nsorted == 0)
		return;
	qsort(sorted, nsorted, sizeof(ImportRecord *), record_cmp_id_index);
	for (i = 0; i < nsorted; i++)
		if (i == 0 || id_cmp(sorted[i - 1], sorted[i]) != 0)
			group[ngroups++] = i;
	group[ngroups] = nsorted;

	if (!sends_accepts_every_valid_row())
	{
		write_isolating(batch, sorted, group, ngroups);
		return;
	}

	/* Nothing can be refused: the first record of each id is written. */
	firsts = palloc(sizeof(ImportRecord *) * ngroups);
	for (g = 0; g < ngroups; g++)
	{
		firsts[g] = sorted[group[g]];
		firsts[g]->outcome = OUTCOME_STORED_OR_DUPLICATE;
		for (i = group[g] + 1; i < group[g + 1]; i++)
			sorted[i]->outcome = OUTCOME_DUPLICATE;
	}
	batch->success_count += (int) insert_sends(batch, firsts, ngroups);
}

/* ------------------------------------------------------------------------
 * Stage 4: the audit rows
 * ------------------------------------------------------------------------ */

/*
 * The id of a failed record as the response shows it: the string when it
 * is a non-empty string, the decimal text when it is an integer, else NULL.
 */
static const char *
record_shown_id(const ImportRecord *rec, int *len)
{
	const ImportField *f = &rec->fields[F_ID];
	char	   *text;

	if (rec->id != NULL)
	{
		*len = rec->id_len;
		return rec->id;
	}
	if (rec->kind != FIELD_OBJECT)
		return NULL;
	if (f->kind == FIELD_STRING && f->len > 0)
	{
		*len = f->len;
		return f->str;
	}
	text = field_integer_text(f);
	if (text != NULL)
		*len = strlen(text);
	return text;
}

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
		const char *id;
		int			id_len = 0;

		if (!OUTCOME_IS_FAILURE(rec->outcome))
			continue;
		id = record_shown_id(rec, &id_len);
		indexes[n] = Int32GetDatum(rec->index);
		ids_null[n] = id == NULL;
		ids[n] = id == NULL ? (Datum) 0 : text_datum(id, id_len);
		codes[n] = CStringGetTextDatum(outcome_codes[rec->outcome]);
		messages[n] = CStringGetTextDatum(rec->error);
		n++;
	}
	trackly_prepare(&errors_plan,
					"INSERT INTO trackly.import_errors (account_id, import_id, index, id, code, error)"
					" SELECT $1, $2, u.index, u.id, u.code, u.error"
					" FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4),"
					"      pg_catalog.unnest($5), pg_catalog.unnest($6)) AS u(index, id, code, error)",
					6, (Oid[]) {INT8OID, INT8OID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID});
	params[2] = make_array(indexes, NULL, n, INT4OID);
	params[3] = make_array(ids, ids_null, n, TEXTOID);
	params[4] = make_array(codes, NULL, n, TEXTOID);
	params[5] = make_array(messages, NULL, n, TEXTOID);
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
		const char *id;
		int			id_len = 0;

		push_integer(state, "index", rec->index);
		id = record_shown_id(rec, &id_len);
		push_string(state, "id", id, id_len);
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
