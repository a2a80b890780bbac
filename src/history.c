/*
 * history.c
 *		The C side of history management (Clear History, an import's errors,
 *		their purge), whose rules live in SQL (trackly_history--0.5.0--0.6.0.sql):
 *		thin SQL-callable glue that lends those functions what only C has, the
 *		request's authentication, the raw body's parse, the role that called,
 *		and the import's way of showing a value and explaining a date-time.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "auth.h"
#include "import.h"
#include "iso8601.h"
#include "support.h"

PG_FUNCTION_INFO_V1(trackly_authenticate_request);
PG_FUNCTION_INFO_V1(trackly_parse_request_body);
PG_FUNCTION_INFO_V1(trackly_calling_role);
PG_FUNCTION_INFO_V1(trackly_shown_value);
PG_FUNCTION_INFO_V1(trackly_explain_iso8601);

/* A row of the function's declared result type from values and nulls. */
static Datum
result_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * trackly.authenticate_request(OUT account_id bigint, OUT api_key_id bigint,
 * OUT code text, OUT error text): the request's key, found as
 * trackly_import_sends(jsonb) finds it.  A live key gives its account and
 * id; otherwise code is missing_api_key or invalid_api_key and error the
 * import's sentence.
 */
Datum
trackly_authenticate_request(PG_FUNCTION_ARGS)
{
	AuthResult	auth;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	SPI_connect();
	auth_authenticate(&auth);
	SPI_finish();
	if (auth.verdict == AUTH_OK)
	{
		values[0] = Int64GetDatum(auth.account_id);
		values[1] = Int64GetDatum(auth.api_key_id);
		nulls[2] = nulls[3] = true;
	}
	else
	{
		nulls[0] = nulls[1] = true;
		values[2] = CStringGetTextDatum(auth.verdict == AUTH_MISSING_KEY
										? "missing_api_key" : "invalid_api_key");
		values[3] = CStringGetTextDatum(auth.message);
	}
	PG_RETURN_DATUM(result_row(fcinfo, values, nulls));
}

/*
 * trackly.parse_request_body(bytea, OUT body jsonb, OUT error text): the raw
 * bytes of an HTTP body as jsonb, checked as the import's HTTP entry point
 * checks them (UTF-8, JSON, nested at most 64 deep).  A body that fails
 * gives a NULL body and the invalid_body sentence; SQL NULL gives two NULLs.
 */
Datum
trackly_parse_request_body(PG_FUNCTION_ARGS)
{
	Datum		values[2] = {0, 0};
	bool		nulls[2] = {true, true};

	if (!PG_ARGISNULL(0))
	{
		bytea	   *raw = PG_GETARG_BYTEA_PP(0);
		Jsonb	   *body = NULL;
		ImportFailure failure;

		if (import_parse_body(VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), &body, &failure))
		{
			values[0] = JsonbPGetDatum(body);
			nulls[0] = false;
		}
		else
		{
			values[1] = CStringGetTextDatum(failure.message);
			nulls[1] = false;
		}
	}
	PG_RETURN_DATUM(result_row(fcinfo, values, nulls));
}

/*
 * trackly.calling_role() returns text: the role that called, as it was
 * before any SECURITY DEFINER function took over (SET ROLE's role, else the
 * session's), for the clear log.
 */
Datum
trackly_calling_role(PG_FUNCTION_ARGS)
{
	(void) fcinfo;
	PG_RETURN_TEXT_P(cstring_to_text(GetUserNameFromId(GetOuterUserId(), false)));
}

/*
 * trackly.shown_value(text) returns text: the value in double quotes as the
 * import's sentences show it (its first 40 characters, then "...").
 */
Datum
trackly_shown_value(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(trackly_quote_value(VARDATA_ANY(value),
														 VARSIZE_ANY_EXHDR(value))));
}

/*
 * trackly.explain_iso8601(text) returns text: why the text is not a valid
 * ISO 8601 date-time (the import's words), NULL when it is one.
 */
Datum
trackly_explain_iso8601(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	char		why[256];

	if (iso8601_parse(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), NULL) == ISO8601_VALID)
		PG_RETURN_NULL();
	iso8601_explain(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), why, sizeof(why));
	PG_RETURN_TEXT_P(cstring_to_text(why));
}
