/*
 * auth.c
 *		API keys: making them, and finding the account a request's key opens.
 *
 * A key is "trk_" and 32 ASCII letters or digits, drawn from
 * pg_strong_random.  Only its sha256 is stored; a key is found by the hash
 * of the whole string, through the unique index on trackly.api_keys, so the
 * time it takes tells nothing about how near a wrong key came to a right
 * one.  No message ever shows a key.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "auth.h"
#include "support.h"

#define API_KEY_PREFIX "trk_"
#define API_KEY_PREFIX_LEN 4
#define API_KEY_BODY_LEN 32
#define API_KEY_LEN (API_KEY_PREFIX_LEN + API_KEY_BODY_LEN)

static const char api_key_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static char *api_key_setting = NULL;

PG_FUNCTION_INFO_V1(trackly_generate_api_key);

void
auth_define_settings(void)
{
	DefineCustomStringVariable("trackly.api_key",
							   "API key that trackly_import_sends(jsonb) uses outside PostgREST.",
							   "Ignored when request.headers is set: then only its x-api-key counts.",
							   &api_key_setting,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
}

/* Is c an ASCII letter or digit?  (No locale: keys are ASCII.) */
static inline bool
is_ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * Is the key of the right shape?  Every character is looked at whatever the
 * others are, so the answer takes the same time for every key of that length.
 */
static bool
api_key_well_formed(const char *key, int len)
{
	bool		bad = false;
	int			i;

	if (len != API_KEY_LEN)
		return false;
	for (i = 0; i < API_KEY_PREFIX_LEN; i++)
		bad |= key[i] != API_KEY_PREFIX[i];
	for (; i < API_KEY_LEN; i++)
		bad |= !is_ascii_alnum((unsigned char) key[i]);
	return !bad;
}

/* The sha256 of key[0 .. len-1], as a bytea. */
static bytea *
api_key_hash(const char *key, int len)
{
	bytea	   *digest = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) key, len) < 0 ||
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(digest), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute the sha256 of an API key");
	pg_cryptohash_free(ctx);
	SET_VARSIZE(digest, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return digest;
}

/*
 * request.headers as jsonb.  Text that is not JSON is refused with an error
 * of our own: jsonb_in's would quote the text, and so maybe the key.
 */
static Jsonb *
parse_request_headers(const char *headers)
{
	MemoryContext cxt = CurrentMemoryContext;
	Jsonb	   *volatile parsed = NULL;

	PG_TRY();
	{
		parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(headers)));
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(error->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("request.headers is not valid JSON"),
				 errhint("PostgREST sets it to an object of lower-cased header names; outside PostgREST, leave it unset.")));
	}
	PG_END_TRY();
	return parsed;
}

/*
 * Finds the request's key: *from_headers tells whether request.headers
 * decided.  Returns NULL when there is no key at all.
 */
static text *
auth_find_key(bool *from_headers)
{
	const char *headers = GetConfigOption("request.headers", true, false);

	*from_headers = headers != NULL && headers[0] != '\0';
	if (*from_headers)
	{
		Jsonb	   *parsed = parse_request_headers(headers);
		JsonbValue *value;

		if (!JB_ROOT_IS_OBJECT(parsed))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("request.headers is not a JSON object"),
					 errhint("PostgREST sets it to an object of lower-cased header names; outside PostgREST, leave it unset.")));
		value = getKeyJsonValueFromContainer(&parsed->root, "x-api-key",
											 strlen("x-api-key"), NULL);
		if (value == NULL || value->type != jbvString)
			return NULL;
		return cstring_to_text_with_len(value->val.string.val, value->val.string.len);
	}
	if (api_key_setting == NULL)
		return NULL;
	return cstring_to_text(api_key_setting);
}

void
auth_authenticate(AuthResult *result)
{
	static SPIPlanPtr plan = NULL;
	bool		from_headers;
	text	   *key = auth_find_key(&from_headers);
	Datum		hash;
	bool		isnull;

	result->account_id = 0;
	result->api_key_id = 0;
	if (key == NULL || VARSIZE_ANY_EXHDR(key) == 0)
	{
		result->verdict = AUTH_MISSING_KEY;
		result->message = from_headers
			? "No API key was given: send it in the X-Api-Key header."
			: "No API key was given: set trackly.api_key to your key first.";
		return;
	}
	if (!api_key_well_formed(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)))
	{
		result->verdict = AUTH_INVALID_KEY;
		result->message = "The API key is malformed: a key is trk_ followed by 32 ASCII letters or digits.";
		return;
	}

	hash = PointerGetDatum(api_key_hash(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)));
	trackly_prepare(&plan,
					"SELECT k.account_id, k.id FROM trackly.api_keys k"
					" WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL",
					1, (Oid[]) {BYTEAOID});
	trackly_execute(plan, &hash, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		result->verdict = AUTH_INVALID_KEY;
		result->message = "The API key is not valid: it is unknown or has been revoked.";
		return;
	}
	result->verdict = AUTH_OK;
	result->account_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &isnull));
	result->api_key_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 2, &isnull));
}

/*
 * trackly.generate_api_key() returns text: a fresh key.  Each character is
 * drawn from a strong random byte; bytes that would favour some characters
 * (248 and above, as 248 = 4 * 62) are drawn again.
 */
Datum
trackly_generate_api_key(PG_FUNCTION_ARGS)
{
	char		key[API_KEY_LEN];
	unsigned char random_bytes[64];
	int			filled = API_KEY_PREFIX_LEN;

	(void) fcinfo;
	memcpy(key, API_KEY_PREFIX, API_KEY_PREFIX_LEN);
	while (filled < API_KEY_LEN)
	{
		int			i;

		if (!pg_strong_random(random_bytes, sizeof(random_bytes)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random bytes for an API key")));
		for (i = 0; i < (int) sizeof(random_bytes) && filled < API_KEY_LEN; i++)
			if (random_bytes[i] < 248)
				key[filled++] = api_key_alphabet[random_bytes[i] % 62];
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(key, API_KEY_LEN));
}
