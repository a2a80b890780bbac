/*
 * import_jsonb.c
 *		Front end of the import for a jsonb request body: checks the request
 *		as a whole and reads each record's fields straight out of the jsonb
 *		container, without copying them or going through text.  A raw body
 *		(the HTTP entry point's bytes) that import_text.c leaves is made
 *		jsonb here first, with the answer for a body that is not JSON.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "import.h"
#include "support.h"

/* Characters of PostgreSQL's own complaint about a body that a message shows. */
#define PARSE_ERROR_SHOWN_CHARS 200

/* The deepest nesting of arrays and objects that *len bytes reach, up to limit + 1. */
static int
nesting_depth(const char *s, int len, int limit)
{
	bool		in_string = false;
	int			depth = 0;
	int			deepest = 0;
	int			i;

	for (i = 0; i < len && deepest <= limit; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
		{
			depth++;
			deepest = Max(deepest, depth);
		}
		else if (c == ']' || c == '}')
			depth--;
	}
	return deepest;
}

/* An invalid_body failure with a message cut to PARSE_ERROR_SHOWN_CHARS. */
static bool
refuse_body(ImportFailure *failure, const char *message)
{
	int			len = strlen(message);
	int			clipped = pg_mbcharcliplen(message, len, PARSE_ERROR_SHOWN_CHARS);

	failure->code = "invalid_body";
	failure->http_status = 400;
	failure->message = clipped < len ? psprintf("%.*s...", clipped, message) : pstrdup(message);
	return false;
}

/* What the parse in a subtransaction takes and gives. */
typedef struct BodyParse
{
	char	   *text;			/* the body, NUL-terminated */
	Jsonb	   *parsed;
} BodyParse;

/* jsonb_in over the body; its complaints are raised as errors. */
static bool
parse_text(void *arg)
{
	BodyParse  *parse = (BodyParse *) arg;

	parse->parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(parse->text)));
	return true;
}

bool
import_parse_body(const char *s, int len, Jsonb **body, ImportFailure *failure)
{
	BodyParse	parse;
	ErrorData  *error;

	if (pg_encoding_verifymbstr(PG_UTF8, s, len) != len)
		return refuse_body(failure, "The request body is not UTF-8 text; send JSON in UTF-8.");
	if (nesting_depth(s, len, IMPORT_MAX_BODY_DEPTH) > IMPORT_MAX_BODY_DEPTH)
		return refuse_body(failure, psprintf("The request body nests arrays and objects more than %d deep; a request needs 3 levels, its records' unknown fields a few more.",
											 IMPORT_MAX_BODY_DEPTH));

	/* jsonb_in raises its complaints: catch them in a subtransaction (it writes nothing). */
	parse.text = pnstrdup(s, len);
	parse.parsed = NULL;
	error = trackly_run_in_subtransaction(parse_text, &parse, NULL);
	pfree(parse.text);
	if (error != NULL)
	{
		/* Only the body's own faults; a cancel or out of memory goes on as an error. */
		if (ERRCODE_TO_CATEGORY(error->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(error);
		return refuse_body(failure, psprintf("The request body is not valid JSON: %s%s%s",
											 error->message,
											 error->detail ? ". " : "",
											 error->detail ? error->detail : ""));
	}
	*body = parse.parsed;
	return true;
}

/* How a person would call a JSON value's type, with its article. */
static const char *
jsonb_kind_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a JSON value";
	}
}

/* Fills field from a jsonb value found in a record. */
static void
read_field(const JsonbValue *v, ImportField *field)
{
	switch (v->type)
	{
		case jbvNull:
			field->kind = FIELD_NULL;
			break;
		case jbvString:
			field->kind = FIELD_STRING;
			field->str = v->val.string.val;
			field->len = v->val.string.len;
			break;
		case jbvNumeric:
			field->kind = FIELD_NUMBER;
			field->num = v->val.numeric;
			break;
		case jbvBool:
			field->kind = FIELD_BOOL;
			field->boolean = v->val.boolean;
			break;
		case jbvBinary:
			field->kind = JsonContainerIsArray(v->val.binary.data) ? FIELD_ARRAY : FIELD_OBJECT;
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d in a record", (int) v->type);
	}
}

/*
 * Fills field from the value at [start, end) of an object's data area, read
 * as jsonb_util.c's fillJsonbValue reads it (numbers and containers start at
 * the next int-aligned offset).
 */
static void
read_entry(JEntry entry, const char *base, uint32 start, uint32 end, ImportField *field)
{
	if (JBE_ISSTRING(entry))
	{
		field->kind = FIELD_STRING;
		field->str = base + start;
		field->len = end - start;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		field->kind = FIELD_NUMBER;
		field->num = (Numeric) (base + INTALIGN(start));
	}
	else if (JBE_ISBOOL(entry))
	{
		field->kind = FIELD_BOOL;
		field->boolean = JBE_ISBOOL_TRUE(entry);
	}
	else if (JBE_ISNULL(entry))
		field->kind = FIELD_NULL;
	else
		field->kind = JsonContainerIsArray((JsonbContainer *) (base + INTALIGN(start)))
			? FIELD_ARRAY : FIELD_OBJECT;
}

/*
 * Fills rec from one element of the records array.  An object's keys come
 * first in its container, then its values, in the same order: one walk over
 * the keys finds the fields the import knows, one over the values reads them.
 */
static void
read_record(const JsonbValue *element, ImportRecord *rec)
{
	ImportField whole = {0};
	JsonbContainer *object;
	int			field_at[64];
	int			count;
	const char *base;
	uint32		offset = 0;
	int			i;

	read_field(element, &whole);
	rec->kind = whole.kind;
	if (rec->kind != FIELD_OBJECT)
		return;

	object = element->val.binary.data;
	count = JsonContainerSize(object);
	if (count > (int) lengthof(field_at))
	{
		/* A record with this many keys is rare: look each field up instead. */
		for (i = 0; i < IMPORT_NFIELDS; i++)
		{
			JsonbValue	value;

			if (getKeyJsonValueFromContainer(object, import_field_names[i].name,
											 import_field_names[i].len, &value) != NULL)
				read_field(&value, &rec->fields[i]);
		}
		return;
	}

	base = (const char *) (object->children + 2 * count);
	for (i = 0; i < count; i++)
	{
		uint32		start = offset;

		JBE_ADVANCE_OFFSET(offset, object->children[i]);
		field_at[i] = import_field_of_key(base + start, offset - start);
	}
	for (i = 0; i < count; i++)
	{
		JEntry		entry = object->children[count + i];
		uint32		start = offset;

		JBE_ADVANCE_OFFSET(offset, entry);
		if (field_at[i] >= 0)
			read_entry(entry, base, start, offset, &rec->fields[field_at[i]]);
	}
}

bool
import_read_jsonb(Jsonb *body, ImportBatch *batch, ImportFailure *failure)
{
	JsonbValue	records;
	JsonbContainer *array;
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;
	int			n;

	if (body == NULL || !JB_ROOT_IS_OBJECT(body))
	{
		failure->code = "invalid_body";
		failure->http_status = 400;
		if (body == NULL)
			failure->message = pstrdup("The request body is SQL NULL; send a JSON object with a records array.");
		else
		{
			JsonbValue	root;

			if (JB_ROOT_IS_SCALAR(body))
				JsonbExtractScalar(&body->root, &root);
			else
			{
				root.type = jbvBinary;
				root.val.binary.data = &body->root;
			}
			if (JB_ROOT_IS_ARRAY(body) && JB_ROOT_COUNT(body) == 0)
				failure->message = pstrdup("The request body must be a JSON object with a records array; it is an empty array (over HTTP, a body that is a lone JSON string, number, boolean or null arrives as one).");
			else
				failure->message = psprintf("The request body must be a JSON object with a records array; it is %s.",
											jsonb_kind_name(&root));
		}
		return false;
	}

	failure->code = "missing_records";
	failure->http_status = 400;
	if (getKeyJsonValueFromContainer(&body->root, "records", strlen("records"), &records) == NULL)
	{
		failure->message = pstrdup("The records field is required and must be a non-empty array; the body has none.");
		return false;
	}
	if (records.type != jbvBinary || !JsonContainerIsArray(records.val.binary.data))
	{
		failure->message = psprintf("The records field must be a non-empty array; it is %s.",
									jsonb_kind_name(&records));
		return false;
	}
	array = records.val.binary.data;
	n = JsonContainerSize(array);
	if (n == 0)
	{
		failure->message = pstrdup("The records field must be a non-empty array; it is empty.");
		return false;
	}
	if (n > IMPORT_MAX_RECORDS)
	{
		failure->code = "too_many_records";
		failure->http_status = 413;
		failure->message = psprintf("A request may hold at most %d records; this one has %d. Split it into several requests.",
									IMPORT_MAX_RECORDS, n);
		return false;
	}

	batch->nrecords = n;
	batch->records = import_records_buffer(n, true);
	n = 0;
	it = JsonbIteratorInit(array);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		if (token != WJB_ELEM)
			continue;
		batch->records[n].index = n;
		read_record(&element, &batch->records[n]);
		n++;
	}
	Assert(n == batch->nrecords);
	return true;
}
