/*
 * import_audit.c
 *		Stage 4 of an import: the imports row and the import_errors rows.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
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

#include "import.h"
#include "support.h"

/* ------------------------------------------------------------------------
 * Stage 4: the audit rows
 * ------------------------------------------------------------------------ */

/* Counts the buckets: every record lands in exactly one. */
void
import_count_outcomes(ImportBatch *batch)
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
import_record_import(const ImportBatch *batch, const ImportSummary *summary)
{
	static SPIPlanPtr plan = NULL;
	Datum		params[8];
	char		nulls[8];

	trackly_prepare(&plan,
					"INSERT INTO trackly.imports (account_id, id, source, api_key_id,"
					" success_count, error_count, duplicates_skipped, invalid_phones)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
					8, (Oid[]) {INT8OID, INT8OID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID});
	memset(nulls, ' ', sizeof(nulls));
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = Int64GetDatum(summary->import_id);
	params[2] = CStringGetTextDatum(batch->source);
	params[3] = Int64GetDatum(batch->api_key_id);
	nulls[3] = batch->api_key_id == 0 ? 'n' : ' ';
	params[4] = Int64GetDatum(summary->success_count);
	params[5] = Int64GetDatum(summary->error_count);
	params[6] = Int64GetDatum(summary->duplicates_skipped);
	params[7] = Int64GetDatum(summary->invalid_phones);
	trackly_execute(plan, params, nulls, SPI_OK_INSERT);
}

/* trackly.import_errors as this extension made it, from 0.4.0 on. */
static const TracklyColumn error_columns[] = {
	{"account_id", INT8OID, true}, {"import_id", INT8OID, true}, {"index", INT8OID, true},
	{"id", TEXTOID, false}, {"code", TEXTOID, true}, {"error", TEXTOID, true},
	{"source_row", JSONBOID, false},
};
#define ERROR_NCOLUMNS lengthof(error_columns)

/*
 * Writes the n failure rows (the arrays as import_record_errors builds them)
 * straight into the table: heap tuples in batches, then their primary key
 * entries.  The key holds this import's new id, so no entry can conflict.
 */
static void
write_error_rows(ImportBatch *batch, Relation rel, int n, Datum *indexes, Datum *ids,
				 bool *ids_null, Datum *codes, Datum *messages, Datum *rows, bool *rows_null)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *result_rel = makeNode(ResultRelInfo);
	TupleDesc	desc = CreateTupleDescCopy(RelationGetDescr(rel));
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * Min(n, 1000));
	CommandId	cid = GetCurrentCommandId(true);
	int			nslots = Min(n, 1000);
	int			done = 0;
	int			i;

	InitResultRelInfo(result_rel, rel, 1, NULL, 0);
	ExecOpenIndices(result_rel, false);
	for (i = 0; i < nslots; i++)
		slots[i] = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	while (done < n)
	{
		int			chunk = Min(n - done, nslots);

		for (i = 0; i < chunk; i++)
		{
			TupleTableSlot *slot = slots[i];
			int			r = done + i;

			ExecClearTuple(slot);
			memset(slot->tts_isnull, false, sizeof(bool) * ERROR_NCOLUMNS);
			slot->tts_values[0] = Int64GetDatum(batch->account_id);
			slot->tts_values[1] = Int64GetDatum(batch->import_id);
			slot->tts_values[2] = indexes[r];
			slot->tts_values[3] = ids[r];
			slot->tts_isnull[3] = ids_null[r];
			slot->tts_values[4] = codes[r];
			slot->tts_values[5] = messages[r];
			slot->tts_values[6] = rows != NULL ? rows[r] : (Datum) 0;
			slot->tts_isnull[6] = rows == NULL || rows_null[r];
			ExecStoreVirtualTuple(slot);
		}
		table_multi_insert(rel, slots, chunk, cid, 0, NULL);
		for (i = 0; i < chunk; i++)
		{
			list_free(ExecInsertIndexTuples(result_rel, slots[i], estate, false, false, NULL, NIL));
			ResetPerTupleExprContext(estate);
		}
		done += chunk;
	}
	for (i = 0; i < nslots; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	ExecCloseIndices(result_rel);
	FreeExecutorState(estate);
	CommandCounterIncrement();
}

void
import_record_errors(ImportBatch *batch)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr plan_with_rows = NULL;
	Datum		params[7];
	Datum	   *indexes;
	Datum	   *ids;
	bool	   *ids_null;
	Datum	   *codes;
	Datum	   *messages;
	Datum	   *rows = NULL;
	bool	   *rows_null = NULL;
	int			n = 0;
	int			i;

	if (batch->error_count == 0)
		return;
	indexes = palloc(sizeof(Datum) * batch->error_count);
	ids = palloc(sizeof(Datum) * batch->error_count);
	ids_null = palloc(sizeof(bool) * batch->error_count);
	codes = palloc(sizeof(Datum) * batch->error_count);
	messages = palloc(sizeof(Datum) * batch->error_count);
	if (batch->source_rows != NULL)
	{
		rows = palloc(sizeof(Datum) * batch->error_count);
		rows_null = palloc(sizeof(bool) * batch->error_count);
	}
	for (i = 0; i < batch->nrecords; i++)
	{
		const ImportRecord *rec = &batch->records[i];

		if (!OUTCOME_IS_FAILURE(rec->outcome))
			continue;
		indexes[n] = Int64GetDatum(batch->index_base + rec->index);
		ids_null[n] = rec->shown_id == NULL;
		ids[n] = rec->shown_id == NULL ? (Datum) 0 :
			trackly_text_datum(rec->shown_id, rec->shown_id_len);
		codes[n] = CStringGetTextDatum(import_outcome_code(rec->outcome));
		messages[n] = CStringGetTextDatum(rec->error);
		if (rows != NULL)
		{
			rows[n] = batch->source_rows[i];
			rows_null[n] = rows[n] == (Datum) 0;
		}
		n++;
	}
	if (!batch->on_citus)
	{
		Relation	rel = table_open(trackly_relation_oid("import_errors"), RowExclusiveLock);

		/* As made, its rows are written as COPY writes them. */
		if (trackly_table_as_made(rel, error_columns, ERROR_NCOLUMNS))
		{
			write_error_rows(batch, rel, n, indexes, ids, ids_null, codes, messages, rows, rows_null);
			table_close(rel, NoLock);
			return;
		}
		table_close(rel, NoLock);
	}
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = Int64GetDatum(batch->import_id);
	params[2] = trackly_make_array(indexes, NULL, n, INT8OID);
	params[3] = trackly_make_array(ids, ids_null, n, TEXTOID);
	params[4] = trackly_make_array(codes, NULL, n, TEXTOID);
	params[5] = trackly_make_array(messages, NULL, n, TEXTOID);
	if (rows == NULL)
	{
		trackly_prepare(&plan,
						"INSERT INTO trackly.import_errors (account_id, import_id, index, id, code, error)"
						" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4),"
						" pg_catalog.unnest($5), pg_catalog.unnest($6)",
						6, (Oid[]) {INT8OID, INT8OID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID});
		trackly_execute(plan, params, NULL, SPI_OK_INSERT);
		return;
	}
	params[6] = trackly_make_array(rows, rows_null, n, JSONBOID);
	trackly_prepare(&plan_with_rows,
					"INSERT INTO trackly.import_errors (account_id, import_id, index, id, code, error, source_row)"
					" SELECT $1, $2, pg_catalog.unnest($3), pg_catalog.unnest($4),"
					" pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7)",
					7, (Oid[]) {INT8OID, INT8OID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
					JSONBARRAYOID});
	trackly_execute(plan_with_rows, params, NULL, SPI_OK_INSERT);
}

void
import_record_audit(ImportBatch *batch)
{
	ImportSummary summary;

	import_count_outcomes(batch);
	summary.import_id = batch->import_id;
	summary.success_count = batch->success_count;
	summary.error_count = batch->error_count;
	summary.duplicates_skipped = batch->duplicates_skipped;
	summary.invalid_phones = batch->invalid_phones;
	import_record_import(batch, &summary);
	import_record_errors(batch);
}
