/*
 * trackly_history.c
 *		Module magic, settings, and the thin SQL-callable glue: each function
 *		here only unpacks its arguments and calls a core (e164.c, iso8601.c,
 *		auth.c, import.c), where the rules live.
 */
#include "postgres.h"

#include <malloc.h>

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "auth.h"
#include "e164.h"
#include "import.h"
#include "iso8601.h"
#include "support.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(trackly_is_e164);
PG_FUNCTION_INFO_V1(trackly_is_iso8601);
PG_FUNCTION_INFO_V1(trackly_explain_e164);
PG_FUNCTION_INFO_V1(trackly_is_e164_v2);
PG_FUNCTION_INFO_V1(trackly_is_valid_phone);
PG_FUNCTION_INFO_V1(trackly_explain_phone);
PG_FUNCTION_INFO_V1(trackly_phone_e164_form);
PG_FUNCTION_INFO_V1(trackly_is_iso8601_v2);
PG_FUNCTION_INFO_V1(trackly_iso8601_v2);
PG_FUNCTION_INFO_V1(trackly_iso8601);
PG_FUNCTION_INFO_V1(trackly_import_sends_api);
PG_FUNCTION_INFO_V1(trackly_import_sends_sql);
PG_FUNCTION_INFO_V1(trackly_import_sends_body);
PG_FUNCTION_INFO_V1(trackly_check_api_key);
PG_FUNCTION_INFO_V1(trackly_import_sends_from);
PG_FUNCTION_INFO_V1(trackly_import_sends_slice);
PG_FUNCTION_INFO_V1(trackly_import_in_shard);

void		_PG_init(void);

/*
 * glibc hands memory back to the kernel as soon as the top of the heap has
 * more than a dynamic threshold free, and serves large blocks with mmap: an
 * import's few megabytes (the body, its jsonb, the records, the arrays) were
 * returned after each call and faulted in again by the next, page by page
 * (about 175 minor faults a 1,000-record call; 67 with these settings).  A
 * backend that loads this library keeps up to TRIM_KEEP_BYTES free for the
 * next call and maps only blocks of MMAP_FROM_BYTES or more, which it still
 * returns at once: a rare huge request does not stay resident.
 */
#define TRIM_KEEP_BYTES (8 * 1024 * 1024)
#define MMAP_FROM_BYTES (4 * 1024 * 1024)

static void
keep_freed_memory(void)
{
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	(void) mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES);
	(void) mallopt(M_TRIM_THRESHOLD, TRIM_KEEP_BYTES);
#endif
}

void
_PG_init(void)
{
	auth_define_settings();
	import_staged_define_settings();
	MarkGUCPrefixReserved("trackly");
	keep_freed_memory();
}

/*
 * The phone validators.  Three rules exist (e164.h): the contract's
 * (canonical and possible), the optional full validity, and the one of
 * 0.2.0 to 0.4.0 (a kept national prefix passes when the length fits).  As
 * for the ISO 8601 validators below, the SQL definitions of the versions
 * before 0.5.0 point at the old rule's entry points (trackly_is_e164,
 * trackly_explain_e164), and ALTER EXTENSION ... UPDATE repoints them to the
 * _v2 ones.
 */

/* Does the text pass the rule? */
static bool
is_phone(text *value, E164Rule rule)
{
	return e164_check_rule(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), rule,
						   NULL) == E164_VALID;
}

/* Why the text fails the rule, or NULL when it passes. */
static text *
explain_phone(text *value, E164Rule rule)
{
	char		why[256];

	if (is_phone(value, rule))
		return NULL;
	e164_explain(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), rule, why, sizeof(why));
	return cstring_to_text(why);
}

/* trackly_is_e164(text) returns boolean, by the contract's rule (0.5.0). */
Datum
trackly_is_e164_v2(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_phone(PG_GETARG_TEXT_PP(0), E164_RULE_POSSIBLE));
}

/* trackly_is_valid_phone(text) returns boolean: canonical E.164 and is_valid_number. */
Datum
trackly_is_valid_phone(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_phone(PG_GETARG_TEXT_PP(0), E164_RULE_VALID));
}

/* trackly_is_e164(text) of the versions before 0.5.0: code and length only. */
Datum
trackly_is_e164(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_phone(PG_GETARG_TEXT_PP(0), E164_RULE_LENGTHS));
}

/*
 * trackly.explain_phone(text, valid_only boolean) returns text: why it fails
 * the contract's rule (or, valid_only, the full validity), NULL when it
 * passes.  Internal: trackly_create_list's message.
 */
Datum
trackly_explain_phone(PG_FUNCTION_ARGS)
{
	text	   *why = explain_phone(PG_GETARG_TEXT_PP(0),
									PG_GETARG_BOOL(1) ? E164_RULE_VALID : E164_RULE_POSSIBLE);

	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(why);
}

/*
 * trackly.phone_e164_form(text) returns text: for a number written with a
 * kept national prefix (or another spelling libphonenumber's parser reads
 * as a different number), the E.164 form of the number it reads, when that
 * passes the contract's rule; NULL otherwise.  Internal: the upgrade to
 * 0.5.0 rewrites list numbers with it, and the README's queries use it.
 */
Datum
trackly_phone_e164_form(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	E164Number	number;

	if (e164_check(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), &number) != E164_NATIONAL_PREFIX ||
		e164_check(number.parsed, strlen(number.parsed), NULL) != E164_VALID)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(number.parsed));
}

/* trackly.explain_e164(text) of 0.4.0: by the rule of 0.2.0 to 0.4.0. */
Datum
trackly_explain_e164(PG_FUNCTION_ARGS)
{
	text	   *why = explain_phone(PG_GETARG_TEXT_PP(0), E164_RULE_LENGTHS);

	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(why);
}

/*
 * The ISO 8601 validators.  Two rules exist: 0.4.0's, with leap seconds
 * (23:59:60 in UTC), and 0.3.0's, without.  A validator's verdict sits in
 * users' CHECK constraints, domains and indexes, so installing this library
 * changes no SQL validator's verdict: the SQL definitions of the versions
 * before 0.4.0 point at the entry points of their rules (trackly_is_iso8601,
 * trackly_iso8601), and ALTER EXTENSION ... UPDATE repoints them to 0.4.0's
 * (the _v2 ones).
 */
typedef Iso8601Verdict (*Iso8601Parser) (const char *s, size_t len, Iso8601Time *out);
typedef size_t (*Iso8601Explainer) (const char *s, size_t len, char *buf, size_t bufsize);

/* Is the text a valid date-time, by a rule? */
static bool
is_iso8601(text *value, Iso8601Parser parse)
{
	return parse(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), NULL) == ISO8601_VALID;
}

/* The instant the text names, by a rule, or ERROR 22007. */
static TimestampTz
iso8601_instant(text *value, Iso8601Parser parse, Iso8601Explainer explain)
{
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	Iso8601Time parsed;

	if (parse(s, len, &parsed) != ISO8601_VALID)
	{
		char		why[160];

		explain(s, len, why, sizeof(why));
		if (why[0] >= 'a' && why[0] <= 'z')
			why[0] += 'A' - 'a';
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("invalid ISO 8601 date-time: %s",
						trackly_quote_value(s, len)),
				 errdetail("%s.", why),
				 errhint("Write it as YYYY-MM-DD, then T, t or a space, then hh:mm with optional :ss and a fraction after . or , and then no offset (UTC), Z, z, +hh, +hhmm or +hh:mm (or -), for example 2025-11-15T14:30:00Z.")));
	}
	return (TimestampTz) parsed.pg_usec;
}

/* trackly_is_iso8601(text) returns boolean, by 0.4.0's rule (leap seconds). */
Datum
trackly_is_iso8601_v2(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_iso8601(PG_GETARG_TEXT_PP(0), iso8601_parse));
}

/* trackly_iso8601(text) returns timestamptz, by 0.4.0's rule (leap seconds). */
Datum
trackly_iso8601_v2(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(iso8601_instant(PG_GETARG_TEXT_PP(0), iso8601_parse, iso8601_explain));
}

/* trackly_is_iso8601(text) of the versions before 0.4.0: no second 60. */
Datum
trackly_is_iso8601(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_iso8601(PG_GETARG_TEXT_PP(0), iso8601_parse_no_leap));
}

/* trackly_iso8601(text) of the versions before 0.4.0: no second 60. */
Datum
trackly_iso8601(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(iso8601_instant(PG_GETARG_TEXT_PP(0), iso8601_parse_no_leap,
										  iso8601_explain_no_leap));
}

/* The response, made in the batch's context, copied into the caller's. */
static Jsonb *
import_answer(ImportBatch *batch, Jsonb *response)
{
	Jsonb	   *result = MemoryContextAlloc(MemoryContextGetParent(batch->cxt), VARSIZE(response));

	memcpy(result, response, VARSIZE(response));
	return result;
}

/*
 * Runs a batch a front end has read, here or, on Citus, where the account's
 * shards are, sent the body as JSON text: text's len bytes, or the jsonb
 * body's text when text is NULL.
 */
static Jsonb *
run_batch(ImportBatch *batch, Jsonb *body, const char *text, int len)
{
	if (!import_delegating())
		return import_run(batch);
	return import_delegate(text != NULL ? pnstrdup(text, len)
						   : JsonbToCString(NULL, &body->root, VARSIZE(body)),
						   batch);
}

/*
 * Runs an import for the body (NULL for SQL NULL) once the caller has been
 * authenticated or refused; returns the response in the caller's context.
 */
static Jsonb *
import_sends(Jsonb *body, ImportBatch *batch, const ImportFailure *refused)
{
	ImportFailure failure;

	if (refused != NULL)
		return import_answer(batch, import_failure_response(refused));
	if (!import_read_jsonb(body, batch, &failure))
		return import_answer(batch, import_failure_response(&failure));
	return import_answer(batch, run_batch(batch, body, NULL, 0));
}

/* Sets up a batch in a context of its own, connected to SPI. */
static void
import_begin(ImportBatch *batch, const char *source)
{
	memset(batch, 0, sizeof(*batch));
	batch->cxt = AllocSetContextCreate(CurrentMemoryContext, "trackly import",
									   ALLOCSET_DEFAULT_SIZES);
	batch->source = source;
	SPI_connect();
	MemoryContextSwitchTo(batch->cxt);
}

/* Disconnects from SPI and frees the batch. */
static void
import_end(ImportBatch *batch)
{
	import_release_records(batch->records);
	SPI_finish();
	MemoryContextDelete(batch->cxt);
}

/*
 * Authenticates the request of an API form into the batch; false, with
 * *refused set (401), when its key is missing or not a live key.
 */
static bool
authenticate(ImportBatch *batch, ImportFailure *refused)
{
	AuthResult	auth;

	auth_authenticate(&auth);
	if (auth.verdict != AUTH_OK)
	{
		refused->code = auth.verdict == AUTH_MISSING_KEY ? "missing_api_key" : "invalid_api_key";
		refused->http_status = 401;
		refused->message = (char *) auth.message;
		return false;
	}
	batch->account_id = auth.account_id;
	batch->api_key_id = auth.api_key_id;
	/* A live key's account exists (a foreign key); its rule is read here. */
	(void) import_account_phone_rule(batch->account_id, &batch->phone_rule);
	return true;
}

/* trackly_import_sends(jsonb) returns jsonb: the API form, by key. */
Datum
trackly_import_sends_api(PG_FUNCTION_ARGS)
{
	Jsonb	   *body = PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0);
	ImportBatch batch;
	ImportFailure refused;
	bool		ok;
	Jsonb	   *result;

	import_begin(&batch, "api");
	ok = authenticate(&batch, &refused);
	result = import_sends(body, &batch, ok ? NULL : &refused);
	import_end(&batch);
	PG_RETURN_JSONB_P(result);
}

/*
 * trackly_import_sends_body(bytea) returns jsonb: the API form for HTTP, the
 * body as the bytes the client sent, which it reads itself (after the key:
 * a request without a live key is refused before its body is looked at).
 * The records are read straight from the text when import_text.c takes the
 * body; any other body is made jsonb, and answered invalid_body when it is
 * not JSON.
 */
Datum
trackly_import_sends_body(PG_FUNCTION_ARGS)
{
	bytea	   *raw = PG_ARGISNULL(0) ? NULL : PG_GETARG_BYTEA_PP(0);
	Jsonb	   *body = NULL;
	ImportBatch batch;
	ImportFailure refused;
	bool		ok;
	Jsonb	   *result;

	import_begin(&batch, "api");
	ok = authenticate(&batch, &refused);
	if (ok && raw != NULL &&
		import_read_text(VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), &batch))
		result = import_answer(&batch, run_batch(&batch, NULL, VARDATA_ANY(raw),
												 VARSIZE_ANY_EXHDR(raw)));
	else
	{
		if (ok && raw != NULL)
			ok = import_parse_body(VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), &body, &refused);
		result = import_sends(body, &batch, ok ? NULL : &refused);
	}
	import_end(&batch);
	PG_RETURN_JSONB_P(result);
}

/*
 * trackly_check_api_key() returns void: the key check a proxy makes before
 * it reads a request's body (nginx's auth_request).  For a missing or not
 * live key it sets PostgREST's response.status to 401 and the header
 * X-Trackly-Code to missing_api_key or invalid_api_key.
 */
Datum
trackly_check_api_key(PG_FUNCTION_ARGS)
{
	AuthResult	auth;

	(void) fcinfo;
	SPI_connect();
	auth_authenticate(&auth);
	SPI_finish();
	if (auth.verdict != AUTH_OK)
	{
		const char *code = auth.verdict == AUTH_MISSING_KEY ? "missing_api_key" : "invalid_api_key";

		(void) set_config_option("response.status", "401", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		(void) set_config_option("response.headers",
								 psprintf("[{\"X-Trackly-Code\": \"%s\"}]", code),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	}
	PG_RETURN_VOID();
}

/*
 * trackly_import_sends(jsonb, bigint) returns jsonb: an explicit account.
 * An admin form: a NULL or unknown account is an ERROR (22004, 22023), as
 * in every admin function; the body's faults are answered as JSON.
 */
Datum
trackly_import_sends_sql(PG_FUNCTION_ARGS)
{
	Jsonb	   *body = PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0);
	ImportBatch batch;
	Jsonb	   *result;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the account id is NULL; pass the id of an account")));
	import_begin(&batch, "sql");
	if (!import_account_phone_rule(PG_GETARG_INT64(1), &batch.phone_rule))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no account has id " INT64_FORMAT, PG_GETARG_INT64(1)),
				 errhint("trackly_create_account makes one.")));
	batch.account_id = PG_GETARG_INT64(1);
	result = import_sends(body, &batch, NULL);
	import_end(&batch);
	PG_RETURN_JSONB_P(result);
}

/*
 * trackly_import_sends_from(source regclass, account_id bigint, order_by
 * text[]) returns jsonb: a staging table's rows, one import.  Runs as its
 * caller (not SECURITY DEFINER): import_staged.c reads as the caller and
 * writes as the owner.
 */
/* The source and account of a staged import: ERRORs for NULLs (import_staged checks the account). */
static int64
staged_arguments(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the source is NULL; name a table or view")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the account id is NULL; pass the id of an account")));
	return PG_GETARG_INT64(1);
}

Datum
trackly_import_sends_from(PG_FUNCTION_ARGS)
{
	int64		account_id = staged_arguments(fcinfo);

	PG_RETURN_JSONB_P(import_staged(PG_GETARG_OID(0), account_id,
									PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), 0));
}

/* trackly.import_sends_slice(source, account_id, index_base): one slice of trackly_load_sends. */
Datum
trackly_import_sends_slice(PG_FUNCTION_ARGS)
{
	int64		account_id = staged_arguments(fcinfo);

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("index_base is NULL")));
	PG_RETURN_JSONB_P(import_staged(PG_GETARG_OID(0), account_id, NULL, PG_GETARG_INT64(2)));
}

/*
 * trackly.import_in_shard(account_id bigint, body text, source text,
 * api_key_id bigint, import_id bigint, phone_valid boolean) returns jsonb:
 * the import a Citus coordinator hands to the worker holding the account's
 * shards (import_citus.c), of a body it has authenticated and read.
 */
Datum
trackly_import_in_shard(PG_FUNCTION_ARGS)
{
	ImportBatch batch;
	Jsonb	   *result;
	char	   *source;

	for (int i = 0; i < 6; i++)
		if (i != 3 && PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of trackly.import_in_shard is NULL", i + 1)));
	source = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(source, "api") != 0 && strcmp(source, "sql") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" is not api or sql", source)));
	import_begin(&batch, strcmp(source, "api") == 0 ? "api" : "sql");
	batch.account_id = PG_GETARG_INT64(0);
	batch.api_key_id = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
	batch.import_id = PG_GETARG_INT64(4);
	batch.phone_rule = PG_GETARG_BOOL(5) ? E164_RULE_VALID : E164_RULE_POSSIBLE;
	result = import_answer(&batch, import_in_shard(text_to_cstring(PG_GETARG_TEXT_PP(1)), &batch));
	import_end(&batch);
	PG_RETURN_JSONB_P(result);
}
