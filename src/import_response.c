/*
 * import_response.c
 *		Stage 5 of an import: the response body, and the answer to a request
 *		refused as a whole.
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

#include "import.h"
#include "support.h"

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

/* Pushes one element of "errors"; a null index and id for a refused request. */
static void
push_error(JsonbParseState **state, const ImportListedFailure *f)
{
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	if (f->index < 0)
		push_null(state, "index");
	else
		push_integer(state, "index", f->index);
	push_string(state, "id", f->id, f->id_len);
	push_string(state, "code", f->code, strlen(f->code));
	push_string(state, "error", f->error, strlen(f->error));
	pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

/* Copies a failed record into f, in cxt. */
static void
list_failure(ImportListedFailure *f, const ImportBatch *batch, const ImportRecord *rec, MemoryContext cxt)
{
	f->index = batch->index_base + rec->index;
	f->id = NULL;
	f->id_len = rec->shown_id_len;
	if (rec->shown_id != NULL)
	{
		f->id = MemoryContextAlloc(cxt, rec->shown_id_len + 1);
		memcpy(f->id, rec->shown_id, rec->shown_id_len);
		f->id[rec->shown_id_len] = '\0';
	}
	f->code = import_outcome_code(rec->outcome);
	f->error = MemoryContextStrdup(cxt, rec->error);
}

/*
 * Adds a batch to the summary: its counts, and its failures among the
 * IMPORT_MAX_LISTED_ERRORS of lowest index so far (a staging table's
 * batches come in the order of their ids, not of their indexes).
 */
void
import_summarize(ImportSummary *summary, const ImportBatch *batch, MemoryContext cxt)
{
	int			i;

	summary->success_count += batch->success_count;
	summary->error_count += batch->error_count;
	summary->duplicates_skipped += batch->duplicates_skipped;
	summary->invalid_phones += batch->invalid_phones;
	for (i = 0; i < batch->nrecords; i++)
	{
		const ImportRecord *rec = &batch->records[i];
		int			highest = 0;
		int			j;

		if (!OUTCOME_IS_FAILURE(rec->outcome))
			continue;
		if (summary->nlisted < IMPORT_MAX_LISTED_ERRORS)
		{
			list_failure(&summary->listed[summary->nlisted++], batch, rec, cxt);
			continue;
		}
		for (j = 1; j < summary->nlisted; j++)
			if (summary->listed[j].index > summary->listed[highest].index)
				highest = j;
		if (batch->index_base + rec->index < summary->listed[highest].index)
		{
			pfree(summary->listed[highest].error);
			if (summary->listed[highest].id)
				pfree(summary->listed[highest].id);
			list_failure(&summary->listed[highest], batch, rec, cxt);
		}
	}
}

/* Orders listed failures by index. */
static int
listed_cmp_index(const void *a, const void *b)
{
	const ImportListedFailure *x = a;
	const ImportListedFailure *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

Jsonb *
import_summary_response(ImportSummary *summary)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_integer(&state, "success_count", summary->success_count);
	push_integer(&state, "error_count", summary->error_count);
	push_integer(&state, "duplicates_skipped", summary->duplicates_skipped);
	push_integer(&state, "invalid_phones", summary->invalid_phones);
	push_key(&state, "errors");
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	qsort(summary->listed, summary->nlisted, sizeof(ImportListedFailure), listed_cmp_index);
	for (i = 0; i < summary->nlisted; i++)
		push_error(&state, &summary->listed[i]);
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	push_integer(&state, "import_id", summary->import_id);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

Jsonb *
import_response(ImportBatch *batch)
{
	ImportSummary summary;

	memset(&summary, 0, offsetof(ImportSummary, listed));
	summary.import_id = batch->import_id;
	import_summarize(&summary, batch, CurrentMemoryContext);
	return import_summary_response(&summary);
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
	push_error(&state, &(ImportListedFailure) {
		.index = -1, .code = failure->code, .error = failure->message
	});
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	push_null(&state, "import_id");
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}
