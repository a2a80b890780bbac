/*
 * import_citus.c
 *		An import on a Citus cluster runs where the account's shards are.
 *
 * The coordinator authenticates the request, reads the body (so that a
 * request refused as a whole is answered there, with its HTTP status) and
 * draws the import id; then it calls trackly.import_in_shard, a function
 * that trackly_distribute() distributes by its account argument, co-located
 * with trackly.sends, with force_delegation.  Citus runs that call on the
 * worker that holds the account's shards, inside the caller's distributed
 * transaction.  There the import's statements and its COPY-like write go to
 * the shards themselves, plain tables of that node (support.c's
 * trackly_use_account_shards): the rows never pass through the coordinator
 * row by row, and the shard of trackly.sends, as the extension made it (its
 * rollup triggers included), is written as on one node, under the same
 * rules (import_write.c says why concurrent imports cannot deadlock; the
 * waits are in the shard, in ascending id order, as on one node).
 *
 * When Citus does not delegate the call (the function is not distributed
 * yet: an install updated since trackly_distribute() last ran), it runs on
 * the coordinator, finds no shard there, and imports through the
 * distributed tables, statement by statement, as before.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "import.h"
#include "support.h"

/*
 * Is trackly.import_in_shard there (not under SQL objects older than 0.7.0)
 * and distributed by its account (trackly_distribute() ran since)?
 */
static bool
import_in_shard_distributed(void)
{
	if (SPI_execute("SELECT FROM pg_catalog.pg_dist_object o"
					" WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
					"   AND o.objid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure("
					"'trackly.import_in_shard(bigint, text, text, bigint, bigint, boolean)')"
					"   AND o.distribution_argument_index IS NOT NULL", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_object");
	return SPI_processed > 0;
}

bool
import_delegating(void)
{
	return import_sends_distributed() && import_in_shard_distributed();
}

Jsonb *
import_delegate(const char *body_text, ImportBatch *batch)
{
	StringInfoData call;
	bool		isnull;
	Datum		answer;

	/*
	 * Citus hands a call on only when every argument is a constant of the
	 * statement (a parameter keeps it here, its value known or not), and,
	 * inside a transaction block, only from a FROM clause.  The body goes as
	 * text: a jsonb constant would be parsed here once more.
	 */
	initStringInfo(&call);
	appendStringInfo(&call, "SELECT r FROM trackly.import_in_shard(" INT64_FORMAT "::pg_catalog.int8, %s, %s, ",
					 batch->account_id, quote_literal_cstr(body_text),
					 quote_literal_cstr(batch->source));
	if (batch->api_key_id == 0)
		appendStringInfoString(&call, "NULL, ");
	else
		appendStringInfo(&call, INT64_FORMAT "::pg_catalog.int8, ", batch->api_key_id);
	appendStringInfo(&call, INT64_FORMAT "::pg_catalog.int8, %s) r",
					 import_new_id(), batch->phone_rule == E164_RULE_VALID ? "true" : "false");
	if (SPI_execute(call.data, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not run trackly.import_in_shard");
	answer = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "trackly.import_in_shard answered NULL");
	return DatumGetJsonbPCopy(answer);
}

Jsonb *
import_in_shard(const char *body_text, ImportBatch *batch)
{
	ImportFailure failure;
	bool		in_shards = trackly_use_account_shards(batch->account_id);
	Jsonb	   *response;

	PG_TRY();
	{
		/* The coordinator read this body: it is refused only if it changed. */
		if (import_read_text(body_text, strlen(body_text), batch))
			response = import_run(batch);
		else if (!import_read_jsonb(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(body_text))),
									batch, &failure))
			response = import_failure_response(&failure);
		else
			response = import_run(batch);
	}
	PG_FINALLY();
	{
		if (in_shards)
			trackly_stop_using_shards();
	}
	PG_END_TRY();
	return response;
}
