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
		push_error(&state, rec, import_outcome_code(rec->outcome), rec->error);
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
