/*
 * import_record.c
 *		The records every front end fills and every stage reads: the field
 *		names, the failure codes, the buffer records live in, how a record
 *		fails (import_fail) and what a failed record shows of its id.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
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

#include "import.h"
#include "support.h"

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

int
import_field_of_key(const char *key, int len)
{
	int			f;

	for (f = 0; f < IMPORT_NFIELDS; f++)
		if (import_field_names[f].len == len &&
			memcmp(import_field_names[f].name, key, len) == 0)
			return f;
	return -1;
}

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

const char *
import_outcome_code(ImportOutcome outcome)
{
	Assert(OUTCOME_IS_FAILURE(outcome));
	return outcome_codes[outcome];
}

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
import_records_buffer(int n, bool zeroed)
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
		return zeroed ? palloc0(sizeof(ImportRecord) * n) : palloc(sizeof(ImportRecord) * n);
	records_buffer_in_use = true;
	if (zeroed)
		memset(records_buffer, 0, sizeof(ImportRecord) * n);
	return records_buffer;
}

void
import_release_records(ImportRecord *records)
{
	if (records == records_buffer)
		records_buffer_in_use = false;
}

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
		appendStringInfo(&buf, " The id shown is its first %d characters.", IMPORT_SHOWN_ID_CHARS);
	rec->error = buf.data;
	MemoryContextSwitchTo(old);
}

/*
 * The decimal text of an integral number field (42, 4.2e1; not 42.0), or
 * NULL.  jsonb keeps a number's scale, so "has no fractional digits" is "its
 * text has no decimal point".
 */
char *
import_field_integer_text(const ImportField *f)
{
	char	   *text;
	char	   *point;

	if (f->kind == FIELD_INTEGER)
		return psprintf(INT64_FORMAT, f->integer);
	if (f->kind != FIELD_NUMBER)
		return NULL;
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(f->num)));
	if (strcmp(text, "NaN") == 0 || strstr(text, "Infinity") != NULL)
		return NULL;
	point = strchr(text, '.');
	if (point != NULL)
	{
		/* Whole-valued (42.0, 4200e-2): its fraction is all zeros. */
		if (strspn(point + 1, "0") != strlen(point + 1))
			return NULL;
		*point = '\0';
	}
	return text;
}


/*
 * The id of a failed record as the response and import_errors show it: the
 * string when it is a non-empty string, the decimal text when it is an
 * integer, else NULL; cut to its first IMPORT_SHOWN_ID_CHARS characters (*cut
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
	else if ((text = import_field_integer_text(f)) != NULL)
	{
		id = text;
		id_len = strlen(text);
	}
	else
		return NULL;

	clipped = id_len <= IMPORT_SHOWN_ID_CHARS ? id_len :
		pg_mbcharcliplen(id, id_len, IMPORT_SHOWN_ID_CHARS);
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
 * The SQL objects of the versions before 0.5.0 have no phone_validation
 * column (the library is installed before ALTER EXTENSION ... UPDATE): their
 * accounts check by E164_RULE_POSSIBLE.
 */
bool
import_account_phone_rule(int64 account_id, E164Rule *phone_rule)
{
	static SPIPlanPtr with_rule = NULL;
	static SPIPlanPtr without_rule = NULL;
	Datum		param = Int64GetDatum(account_id);
	bool		valid_only;
	bool		isnull;

	if (get_attnum(trackly_relation_oid("accounts"), "phone_validation") == InvalidAttrNumber)
	{
		trackly_prepare(&without_rule,
						"SELECT false FROM trackly.accounts a WHERE a.id OPERATOR(pg_catalog.=) $1",
						1, (Oid[]) {INT8OID});
		trackly_execute(without_rule, &param, NULL, SPI_OK_SELECT);
	}
	else
	{
		trackly_prepare(&with_rule,
						"SELECT a.phone_validation OPERATOR(pg_catalog.=) 'valid'"
						"  FROM trackly.accounts a WHERE a.id OPERATOR(pg_catalog.=) $1",
						1, (Oid[]) {INT8OID});
		trackly_execute(with_rule, &param, NULL, SPI_OK_SELECT);
	}
	if (SPI_processed == 0)
		return false;
	valid_only = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											1, &isnull));
	*phone_rule = (!isnull && valid_only) ? E164_RULE_VALID : E164_RULE_POSSIBLE;
	return true;
}

/*
 * On a Citus coordinator trackly.sends and the other tables of the import are
 * shells; Citus routes each statement to the shard of its account by the
 * value of the distribution column, which a kept generic plan leaves as a
 * parameter ("could not create distributed plan").  So while an import runs
 * on such a cluster, plans are custom: made with the parameters' values.  The
 * paths that write through the table access method are not taken there: the
 * shells have Citus's truncate trigger, so the import takes its INSERT path,
 * which Citus carries out on the shard.
 */
bool
import_sends_distributed(void)
{
	Datum		param;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return false;
	param = ObjectIdGetDatum(trackly_relation_oid("sends"));
	if (SPI_execute_with_args("SELECT FROM pg_catalog.pg_dist_partition p"
							  " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
							  1, (Oid[]) {OIDOID}, &param, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_partition");
	return SPI_processed > 0;
}

int
import_plan_for_citus(void)
{
	int			nest;

	if (!import_sends_distributed())
		return 0;
	nest = NewGUCNestLevel();
	(void) set_config_option("plan_cache_mode", "force_custom_plan", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

void
import_plan_done(int guc_nest_level)
{
	if (guc_nest_level > 0)
		AtEOXact_GUC(true, guc_nest_level);
}
