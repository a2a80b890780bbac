/*
 * import_write.c
 *		Stage 3 of an import: duplicates, then the write (rule 9).
 *
 * The records that passed rules 1 to 8 are sorted by id, bytewise as
 * trackly.sends.id (COLLATE "C") sorts, so every import writes rows in
 * ascending id order and two imports never wait on each other in a circle.
 * The first record of each id in the request is its candidate; the others
 * are duplicates.  One query finds the candidates whose id is stored already:
 * duplicates too, whatever the rest of the record says.
 *
 * While trackly.sends has only what this extension gave it, no valid record
 * can be refused, and the rest is written the way COPY writes: heap tuples
 * in batches (table_multi_insert), then their index entries, the unique one
 * checked without waiting or raising (UNIQUE_CHECK_PARTIAL).  From the first
 * id a concurrent import holds, the rows are taken back and written by
 * INSERT ... ON CONFLICT DO NOTHING, which waits for that import and skips
 * the ids it commits.  No subtransaction, no statement per record.
 *
 * Once a user has added a CHECK, a trigger, a rule, an index or a column,
 * rows may be refused.  Then INSERT ... ON CONFLICT DO NOTHING runs in a
 * subtransaction; when it fails with an error of the row (classes 22, 23 and
 * P0001), the batch is halved until the refused records are found
 * (save_error) and the rest is stored.  Any other error propagates.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "import.h"
#include "trackly_history.h"

/* The columns of trackly.sends, in table order. */
typedef enum SendsColumn
{
	COL_ACCOUNT_ID,
	COL_ID,
	COL_LIST_ID,
	COL_TO_NUMBER,
	COL_MESSAGE,
	COL_CREATIVE_ID,
	COL_SEND_TYPE,
	COL_DELIVERED,
	COL_LENGTH,
	COL_SENT_AT,
	COL_IMPORTED,
	COL_IMPORT_ID,
	SENDS_NCOLUMNS
} SendsColumn;

/* The table as this extension made it. */
static const struct
{
	const char *name;
	Oid			type;
	Oid			array_type;
	bool		not_null;
}			sends_columns[SENDS_NCOLUMNS] = {
	[COL_ACCOUNT_ID] = {"account_id", INT8OID, INT8ARRAYOID, true},
	[COL_ID] = {"id", TEXTOID, TEXTARRAYOID, true},
	[COL_LIST_ID] = {"list_id", INT8OID, INT8ARRAYOID, false},
	[COL_TO_NUMBER] = {"to_number", TEXTOID, TEXTARRAYOID, true},
	[COL_MESSAGE] = {"message", TEXTOID, TEXTARRAYOID, false},
	[COL_CREATIVE_ID] = {"creative_id", INT8OID, INT8ARRAYOID, false},
	[COL_SEND_TYPE] = {"send_type", TEXTOID, TEXTARRAYOID, false},
	[COL_DELIVERED] = {"delivered", BOOLOID, BOOLARRAYOID, false},
	[COL_LENGTH] = {"length", INT4OID, INT4ARRAYOID, false},
	[COL_SENT_AT] = {"sent_at", TIMESTAMPTZOID, TIMESTAMPTZARRAYOID, true},
	[COL_IMPORTED] = {"imported", BOOLOID, BOOLARRAYOID, true},
	[COL_IMPORT_ID] = {"import_id", INT8OID, INT8ARRAYOID, false},
};

/* Rows a bulk write hands to table_multi_insert at most at once. */
#define BULK_MAX_ROWS 1000
/* ... and bytes of values, roughly, as COPY does. */
#define BULK_MAX_BYTES 65536

/* Order of ids as trackly.sends.id (COLLATE "C") sorts them: bytes, then length. */
static int
id_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* Sorts by id, and records of one id by their place in the request. */
static int
record_cmp_id_index(const void *a, const void *b)
{
	const ImportRecord *x = *(ImportRecord *const *) a;
	const ImportRecord *y = *(ImportRecord *const *) b;
	int			c = id_cmp(x->id, x->id_len, y->id, y->id_len);

	return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/*
 * Can trackly.sends refuse none of the rows that passed rules 1 to 8?  True
 * while the table has exactly the columns, types, NOT NULLs and the single
 * index this extension gave it, and no CHECK, trigger (so no foreign key),
 * rule, row security or partition bound of anybody's.
 */
static bool
sends_accepts_every_valid_row(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		pristine;
	List	   *indexes;
	int			i;

	pristine = rel->rd_rel->relkind == RELKIND_RELATION &&
		!rel->rd_rel->relispartition &&
		!rel->rd_rel->relhasrules &&
		!rel->rd_rel->relrowsecurity &&
		rel->trigdesc == NULL &&
		(desc->constr == NULL || desc->constr->num_check == 0) &&
		desc->natts == SENDS_NCOLUMNS;
	for (i = 0; pristine && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		pristine = !att->attisdropped &&
			att->atttypid == sends_columns[i].type &&
			att->atttypmod == -1 &&
			att->attnotnull == sends_columns[i].not_null &&
			att->attgenerated == '\0' &&
			strcmp(NameStr(att->attname), sends_columns[i].name) == 0;
	}
	if (pristine)
	{
		indexes = RelationGetIndexList(rel);
		pristine = list_length(indexes) == 1;
		list_free(indexes);
	}
	return pristine;
}

/* The row of trackly.sends a record becomes; returns the bytes of its strings. */
static int
record_row(const ImportBatch *batch, const ImportRecord *rec, Datum *values, bool *nulls)
{
	const ImportField *f = rec->fields;
	int			bytes = rec->id_len + f[F_TO_NUMBER].len;

	memset(nulls, false, sizeof(bool) * SENDS_NCOLUMNS);
	values[COL_ACCOUNT_ID] = Int64GetDatum(batch->account_id);
	values[COL_ID] = import_text_datum(rec->id, rec->id_len);
	values[COL_LIST_ID] = Int64GetDatum(rec->list_id);
	nulls[COL_LIST_ID] = rec->list_id == 0;
	values[COL_TO_NUMBER] = import_text_datum(f[F_TO_NUMBER].str, f[F_TO_NUMBER].len);
	nulls[COL_MESSAGE] = !import_field_given(&f[F_MESSAGE]);
	if (!nulls[COL_MESSAGE])
	{
		values[COL_MESSAGE] = import_text_datum(f[F_MESSAGE].str, f[F_MESSAGE].len);
		bytes += f[F_MESSAGE].len;
	}
	values[COL_CREATIVE_ID] = Int64GetDatum(rec->creative_id);
	nulls[COL_CREATIVE_ID] = rec->creative_id == 0;
	nulls[COL_SEND_TYPE] = !import_field_given(&f[F_SEND_TYPE]);
	if (!nulls[COL_SEND_TYPE])
	{
		values[COL_SEND_TYPE] = import_text_datum(f[F_SEND_TYPE].str, f[F_SEND_TYPE].len);
		bytes += f[F_SEND_TYPE].len;
	}
	values[COL_DELIVERED] = BoolGetDatum(f[F_DELIVERED].boolean);
	nulls[COL_DELIVERED] = !import_field_given(&f[F_DELIVERED]);
	values[COL_LENGTH] = Int32GetDatum(rec->length);
	nulls[COL_LENGTH] = rec->length < 0;
	values[COL_SENT_AT] = TimestampTzGetDatum(rec->sent_at);
	values[COL_IMPORTED] = BoolGetDatum(true);
	values[COL_IMPORT_ID] = Int64GetDatum(batch->import_id);
	return bytes;
}

/*
 * Inserts the n records with INSERT ... ON CONFLICT DO NOTHING, in one
 * statement over arrays; returns how many rows it added.
 */
static uint64
insert_sends(ImportBatch *batch, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *columns[SENDS_NCOLUMNS];
	bool	   *column_nulls[SENDS_NCOLUMNS];
	Datum		row[SENDS_NCOLUMNS];
	bool		row_nulls[SENDS_NCOLUMNS];
	Datum		params[SENDS_NCOLUMNS - 1];
	int			c;
	int			i;

	for (c = COL_ID; c <= COL_SENT_AT; c++)
	{
		columns[c] = palloc(sizeof(Datum) * n);
		column_nulls[c] = palloc(sizeof(bool) * n);
	}
	for (i = 0; i < n; i++)
	{
		record_row(batch, recs[i], row, row_nulls);
		for (c = COL_ID; c <= COL_SENT_AT; c++)
		{
			columns[c][i] = row[c];
			column_nulls[c][i] = row_nulls[c];
		}
	}

	trackly_prepare(&plan,
					"INSERT INTO trackly.sends AS s"
					" (account_id, id, list_id, to_number, message, creative_id,"
					" send_type, delivered, length, sent_at, imported, import_id)"
					" SELECT $1, pg_catalog.unnest($3), pg_catalog.unnest($4),"
					" pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7),"
					" pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10),"
					" pg_catalog.unnest($11), true, $2"
					" ON CONFLICT (account_id, id) DO NOTHING",
					11, (Oid[]) {INT8OID, INT8OID, TEXTARRAYOID, INT8ARRAYOID,
						TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, TEXTARRAYOID,
					BOOLARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = Int64GetDatum(batch->import_id);
	for (c = COL_ID; c <= COL_SENT_AT; c++)
		params[2 + c - COL_ID] = import_make_array(columns[c], column_nulls[c], n,
												   sends_columns[c].type);
	trackly_execute(plan, params, NULL, SPI_OK_INSERT);
	return SPI_processed;
}

/*
 * Which of the n records have an id that trackly.sends holds for the account,
 * written by anybody but this import?  One lookup each, in one statement.
 */
static bool *
find_stored_ids(ImportBatch *batch, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *ids = palloc(sizeof(Datum) * n);
	bool	   *stored = palloc0(sizeof(bool) * n);
	Datum		params[3];
	uint64		row;
	int			i;

	for (i = 0; i < n; i++)
		ids[i] = import_text_datum(recs[i]->id, recs[i]->id_len);
	trackly_prepare(&plan,
					"SELECT u.i FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(id, i)"
					" WHERE EXISTS (SELECT FROM trackly.sends s"
					"                WHERE s.account_id = $1 AND s.id = u.id"
					"                  AND s.import_id IS DISTINCT FROM $3)",
					3, (Oid[]) {INT8OID, TEXTARRAYOID, INT8OID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = import_make_array(ids, NULL, n, TEXTOID);
	params[2] = Int64GetDatum(batch->import_id);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);
	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;

		stored[DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row],
										   SPI_tuptable->tupdesc, 1, &isnull)) - 1] = true;
	}
	return stored;
}

/*
 * Which of the n records, sorted by id, have an id stored already?  Imports
 * mostly bring new ranges of ids, or replay old ones: one scan of the index
 * between the first and the last id answers both, merged with the sorted
 * records.  When that range holds many more rows than the request, the ids
 * are looked up one by one instead.
 */
static bool *
probe_stored_ids(ImportBatch *batch, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	bool	   *stored = palloc0(sizeof(bool) * n);
	int64		limit = 2 * (int64) n + 16;
	Datum		params[4];
	uint64		row;
	int			i = 0;

	trackly_prepare(&plan,
					"SELECT s.id FROM trackly.sends s"
					" WHERE s.account_id = $1 AND s.id >= $2 AND s.id <= $3"
					" ORDER BY s.id LIMIT $4",
					4, (Oid[]) {INT8OID, TEXTOID, TEXTOID, INT8OID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = import_text_datum(recs[0]->id, recs[0]->id_len);
	params[2] = import_text_datum(recs[n - 1]->id, recs[n - 1]->id_len);
	params[3] = Int64GetDatum(limit);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);
	if ((int64) SPI_processed >= limit)
		return find_stored_ids(batch, recs, n);

	for (row = 0; row < SPI_processed && i < n; row++)
	{
		bool		isnull;
		text	   *id = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[row],
													  SPI_tuptable->tupdesc, 1, &isnull));
		int			c = 1;

		while (i < n && (c = id_cmp(recs[i]->id, recs[i]->id_len,
									VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id))) < 0)
			i++;
		if (i < n && c == 0)
			stored[i++] = true;
	}
	return stored;
}

/*
 * Writes the n records (sorted by id, none of them stored before) as COPY
 * writes rows, into rel, which accepts every valid row; returns how many rows
 * it added.
 *
 * Index entries go in ascending id order and never wait.  At the first id
 * that another transaction holds (written since the probe, committed or
 * not), the bulk write stops: its heap tuples from that record on are
 * deleted again, and those records go through INSERT ... ON CONFLICT DO
 * NOTHING, which waits for the other transaction and skips the ids it
 * commits.  So an import only ever waits for an id greater than every id it
 * holds, and two imports cannot wait for each other.
 */
static uint64
write_bulk(ImportBatch *batch, Relation rel, ImportRecord **recs, int n)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *result_rel = makeNode(ResultRelInfo);
	CommandId	cid = GetCurrentCommandId(true);
	int			nslots = Min(n, BULK_MAX_ROWS);
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * nslots);
	MemoryContext chunk_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"trackly bulk write",
													ALLOCSET_DEFAULT_SIZES);
	TupleDesc	desc;
	int			done = 0;
	int			nchunk = 0;
	int			stop = -1;
	uint64		added;
	int			i;

	InitResultRelInfo(result_rel, rel, 1, NULL, 0);
	ExecOpenIndices(result_rel, false);
	/* Slots over a private copy of the descriptor: nothing for the resource owner to track. */
	desc = CreateTupleDescCopy(RelationGetDescr(rel));
	for (i = 0; i < nslots; i++)
		slots[i] = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);

	while (done < n && stop < 0)
	{
		MemoryContext old = MemoryContextSwitchTo(chunk_cxt);
		int			bytes = 0;

		CHECK_FOR_INTERRUPTS();
		nchunk = 0;
		while (done + nchunk < n && nchunk < nslots && bytes < BULK_MAX_BYTES)
		{
			TupleTableSlot *slot = slots[nchunk];

			ExecClearTuple(slot);
			bytes += record_row(batch, recs[done + nchunk], slot->tts_values, slot->tts_isnull);
			ExecStoreVirtualTuple(slot);
			nchunk++;
		}
		table_multi_insert(rel, slots, nchunk, cid, 0, NULL);

		for (i = 0; i < nchunk && stop < 0; i++)
		{
			bool		conflict = false;

			list_free(ExecInsertIndexTuples(result_rel, slots[i], estate,
											false, true, &conflict, NIL));
			ResetPerTupleExprContext(estate);
			if (conflict)
				stop = i;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(chunk_cxt);
		if (stop < 0)
			done += nchunk;
	}

	if (stop >= 0)
	{
		/* Take back this chunk's tuples from the conflict on. */
		CommandCounterIncrement();
		for (i = stop; i < nchunk; i++)
			simple_table_tuple_delete(rel, &slots[i]->tts_tid, GetActiveSnapshot());
		done += stop;
	}
	for (i = 0; i < nslots; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	ExecCloseIndices(result_rel);
	FreeExecutorState(estate);
	MemoryContextDelete(chunk_cxt);

	added = done;
	if (done < n)
		added += insert_sends(batch, recs + done, n - done);
	return added;
}

/* Is an error one that belongs to the row being written (rule 9)? */
static bool
error_belongs_to_row(int sqlerrcode)
{
	return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
		sqlerrcode == ERRCODE_RAISE_EXCEPTION;
}

/*
 * Inserts the n records in a subtransaction.  When the database refuses one
 * of them, halves the batch and tries each half, down to single records,
 * which fail with save_error; any other error propagates.
 */
static void
insert_isolating(ImportBatch *batch, ImportRecord **recs, int n)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile uint64 inserted = 0;
	ErrorData  *volatile error = NULL;
	int			i;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		inserted = insert_sends(batch, recs, n);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;

	if (error == NULL)
	{
		batch->success_count += (int) inserted;
		for (i = 0; i < n; i++)
			recs[i]->outcome = OUTCOME_STORED_OR_DUPLICATE;
		return;
	}
	if (!error_belongs_to_row(error->sqlerrcode))
		ReThrowError(error);
	if (n == 1)
		import_fail(batch, recs[0], OUTCOME_SAVE_ERROR,
					"The database refused the record: %s.", error->message);
	else
	{
		insert_isolating(batch, recs, n / 2);
		insert_isolating(batch, recs + n / 2, n - n / 2);
	}
	FreeErrorData(error);
}

/*
 * Writes the candidates (one record per id, sorted; the groups of records
 * sharing an id are sorted[group[g]] .. sorted[group[g + 1] - 1]) when rows
 * may be refused.  Each round writes the earliest untried record of every id
 * not yet written; a refused record leaves its id to the next record with
 * it.  Last, a refused record whose id another import stored meanwhile is a
 * duplicate after all.
 */
static void
write_isolating(ImportBatch *batch, ImportRecord **sorted, int *group, int ngroups)
{
	ImportRecord **candidates = palloc(sizeof(ImportRecord *) * group[ngroups]);
	bool	   *stored;
	int			ncandidates;
	int			g;
	int			i;

	for (;;)
	{
		ncandidates = 0;
		for (g = 0; g < ngroups; g++)
		{
			for (i = group[g]; i < group[g + 1]; i++)
			{
				if (sorted[i]->outcome == OUTCOME_PENDING)
				{
					candidates[ncandidates++] = sorted[i];
					break;
				}
				if (sorted[i]->outcome != OUTCOME_SAVE_ERROR)
					break;
			}
		}
		if (ncandidates == 0)
			break;
		insert_isolating(batch, candidates, ncandidates);
	}

	ncandidates = 0;
	for (i = 0; i < group[ngroups]; i++)
		if (sorted[i]->outcome == OUTCOME_SAVE_ERROR)
			candidates[ncandidates++] = sorted[i];
	if (ncandidates > 0)
	{
		stored = find_stored_ids(batch, candidates, ncandidates);
		for (i = 0; i < ncandidates; i++)
			if (stored[i])
				candidates[i]->outcome = OUTCOME_DUPLICATE;
	}
}

void
import_write(ImportBatch *batch)
{
	ImportRecord **sorted = palloc(sizeof(ImportRecord *) * batch->nrecords);
	ImportRecord **firsts = palloc(sizeof(ImportRecord *) * batch->nrecords);
	int		   *group = palloc(sizeof(int) * (batch->nrecords + 1));
	int			nsorted = 0;
	int			ngroups = 0;
	int			nfresh = 0;
	bool	   *stored;
	Relation	rel;
	int			i;
	int			g;

	batch->import_id = nextval_internal(trackly_relation_oid("imports_id_seq"), false);

	for (i = 0; i < batch->nrecords; i++)
		if (batch->records[i].outcome == OUTCOME_PENDING)
			sorted[nsorted++] = &batch->records[i];
	if (nsorted == 0)
		return;
	qsort(sorted, nsorted, sizeof(ImportRecord *), record_cmp_id_index);
	for (i = 0; i < nsorted; i++)
		if (i == 0 || id_cmp(sorted[i - 1]->id, sorted[i - 1]->id_len,
							 sorted[i]->id, sorted[i]->id_len) != 0)
		{
			firsts[ngroups] = sorted[i];
			group[ngroups++] = i;
		}
	group[ngroups] = nsorted;

	/* The lock an INSERT takes, before the probe reads the table. */
	rel = table_open(trackly_relation_oid("sends"), RowExclusiveLock);

	/* Ids stored before are duplicates, with every record that has them. */
	stored = probe_stored_ids(batch, firsts, ngroups);
	for (g = 0; g < ngroups; g++)
		for (i = group[g]; stored[g] && i < group[g + 1]; i++)
			sorted[i]->outcome = OUTCOME_DUPLICATE;

	if (sends_accepts_every_valid_row(rel))
	{
		/* Nothing can be refused: the first record of each new id is written. */
		for (g = 0; g < ngroups; g++)
		{
			if (stored[g])
				continue;
			firsts[nfresh++] = sorted[group[g]];
			sorted[group[g]]->outcome = OUTCOME_STORED_OR_DUPLICATE;
			for (i = group[g] + 1; i < group[g + 1]; i++)
				sorted[i]->outcome = OUTCOME_DUPLICATE;
		}
		if (nfresh > 0)
			batch->success_count += (int) write_bulk(batch, rel, firsts, nfresh);
	}
	else
		write_isolating(batch, sorted, group, ngroups);
	table_close(rel, NoLock);

	/* The later records of an id some record wrote are duplicates. */
	for (g = 0; g < ngroups; g++)
	{
		bool		written = false;

		for (i = group[g]; i < group[g + 1]; i++)
		{
			if (written && sorted[i]->outcome == OUTCOME_PENDING)
				sorted[i]->outcome = OUTCOME_DUPLICATE;
			written |= sorted[i]->outcome == OUTCOME_STORED_OR_DUPLICATE ||
				sorted[i]->outcome == OUTCOME_DUPLICATE;
		}
	}
}
