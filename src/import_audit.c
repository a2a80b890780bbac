/*
 * import_audit.c
 *		Stage 4 of an import: the imports row and the import_errors rows.
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
 * Stage 4: the audit rows
 * ------------------------------------------------------------------------ */

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

		if (!OUTCOME_IS_FAILURE(rec->outcome))
			continue;
		indexes[n] = Int32GetDatum(rec->index);
		ids_null[n] = rec->shown_id == NULL;
		ids[n] = rec->shown_id == NULL ? (Datum) 0 :
			trackly_text_datum(rec->shown_id, rec->shown_id_len);
		codes[n] = CStringGetTextDatum(import_outcome_code(rec->outcome));
		messages[n] = CStringGetTextDatum(rec->error);
		n++;
	}
	trackly_prepare(&errors_plan,
					"INSERT INTO trackly.import_errors (account_id, import_id, index, id, code, error)"
					" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4),"
					" pg_catalog.unnest($5), pg_catalog.unnest($6)",
					6, (Oid[]) {INT8OID, INT8OID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID});
	params[2] = trackly_make_array(indexes, NULL, n, INT4OID);
	params[3] = trackly_make_array(ids, ids_null, n, TEXTOID);
	params[4] = trackly_make_array(codes, NULL, n, TEXTOID);
	params[5] = trackly_make_array(messages, NULL, n, TEXTOID);
	trackly_execute(errors_plan, params, NULL, SPI_OK_INSERT);
}
