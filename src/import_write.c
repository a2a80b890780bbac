/*
 * import_write.c
 *		Stage 3 of an import: duplicates, then the write (rule 9).
 *
 * The records that passed rules 1 to 8 are sorted by id, bytewise as
 * trackly.sends.id (COLLATE "C") sorts.  The first record of each id in the
 * request is its candidate; the others are duplicates.  One query finds the
 * candidates whose id is stored already: duplicates too, whatever the rest
 * of the record says.
 *
 * While trackly.sends has only what this extension gave it, no valid record
 * can be refused, and the rest is written the way COPY writes: heap tuples
 * in batches (table_multi_insert), then their index entries, the unique one
 * checked without waiting (UNIQUE_CHECK_PARTIAL).  That bulk write runs in a
 * subtransaction.  When an id turns out to be held by another transaction
 * (written since the probe, committed or not), the subtransaction is rolled
 * back and every candidate is written by INSERT ... ON CONFLICT DO NOTHING,
 * which waits for the other transaction and skips the ids it commits.  The
 * extension's own rollup triggers (trackly.send_stats) leave the table as
 * made: a direct write fires no trigger, so it counts its rows into the
 * rollup itself, as the INSERT trigger would (count_into_rollup).
 *
 * Once a user has added a CHECK, a trigger, a rule, an index or a column,
 * rows may be refused.  Then INSERT ... ON CONFLICT DO NOTHING runs in a
 * subtransaction; when it fails with an error of the row (classes 22, 23 and
 * P0001), the candidates are halved until the refused record is found
 * (save_error); the next record with its id takes its place at once, and
 * the rest is stored.  Any other error propagates.
 *
 * Why concurrent imports cannot deadlock
 * --------------------------------------
 * Let each import run in a transaction of its own, under READ COMMITTED.
 * An import waits for another transaction at one place only: when INSERT ...
 * ON CONFLICT DO NOTHING, before inserting id x, finds an index entry for x
 * whose inserter is still running (PostgreSQL's speculative insertion waits
 * nowhere else).  Call an entry "held" by T when T's transaction is running
 * and another transaction's unique check would wait for T on meeting it.
 *
 * (1) When an import T waits at id x, every id T holds is below x.
 *     T writes its candidates in ascending order: the bulk write, the
 *     INSERT over the sorted arrays (its rows are inserted in array order),
 *     the halves of the isolating write, low half first, and a refused
 *     record's successor, which has the same id and is tried before any
 *     higher id.  What T inserted and then gave up is held by nobody:
 *     - an entry the bulk write inserted and reported as a conflict belongs
 *       to a subtransaction that is rolled back before T waits for anything,
 *       and the tuple of an aborted subtransaction is dead to every unique
 *       check at once (TransactionIdIsInProgress is false for it);
 *     - the same holds for a half of the isolating write that was refused;
 *     - a speculative tuple whose insertion met a conflict is super-deleted
 *       by PostgreSQL (heap_abort_speculative) before it waits.
 *     So when T waits at x it holds only entries of ids it wrote before x in
 *     ascending order, below x.  (0.2.0 broke exactly this: the bulk write
 *     deleted the tuple of its conflicting entry with an ordinary delete, and
 *     to others' unique checks a tuple whose inserter still runs is "being
 *     inserted" whatever its xmax says, so T held x while it waited at x.)
 * (2) If T waits for U at x, U holds x, so by (1) U, if it waits at all,
 *     waits at an id above x.  The bulk write itself never waits for a
 *     transaction (UNIQUE_CHECK_PARTIAL reports a conflict instead of
 *     waiting), and neither do the probe and the list lookups (plain
 *     reads), the imports row (its id is new, src/import_id.c) or the
 *     import_errors rows (their key holds the new import id).  The locks an
 *     import takes otherwise (ROW EXCLUSIVE on the tables, the relation
 *     extension lock, buffer locks) are never held while it waits for a
 *     transaction, and none of them conflicts with another import's.
 * Along any chain of waits the ids rise strictly, so no chain closes into a
 * circle: no deadlock, for any number of imports, any account, any order of
 * ids in a request.  A staging table's import (import_staged.c) first
 * waits for nobody (it rolls back instead), then, if it must, reads its
 * rows sorted by id, so that its batches keep the ascending order between
 * them and (1) holds for it too.  What this does not cover: several imports in one
 * transaction (the ids of the earlier ones are held while a later one waits,
 * in any order) and user triggers that touch other rows (they take whatever
 * locks they take).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "import.h"
#include "support.h"

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
static const TracklyColumn sends_columns[SENDS_NCOLUMNS] = {
	[COL_ACCOUNT_ID] = {"account_id", INT8OID, true},
	[COL_ID] = {"id", TEXTOID, true},
	[COL_LIST_ID] = {"list_id", INT8OID, false},
	[COL_TO_NUMBER] = {"to_number", TEXTOID, true},
	[COL_MESSAGE] = {"message", TEXTOID, false},
	[COL_CREATIVE_ID] = {"creative_id", INT8OID, false},
	[COL_SEND_TYPE] = {"send_type", TEXTOID, false},
	[COL_DELIVERED] = {"delivered", BOOLOID, false},
	[COL_LENGTH] = {"length", INT4OID, false},
	[COL_SENT_AT] = {"sent_at", TIMESTAMPTZOID, true},
	[COL_IMPORTED] = {"imported", BOOLOID, true},
	[COL_IMPORT_ID] = {"import_id", INT8OID, false},
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
 * while the table is as this extension made it (trackly_table_as_made): no
 * CHECK, trigger but on TRUNCATE (so no foreign key), rule, row security or
 * partition bound of anybody's.
 */
static bool
sends_accepts_every_valid_row(Relation rel)
{
	return trackly_table_as_made(rel, sends_columns, SENDS_NCOLUMNS);
}

/* The row of trackly.sends a record becomes; returns the bytes of its strings. */
static int
record_row(const ImportBatch *batch, const ImportRecord *rec, Datum *values, bool *nulls)
{
	const ImportField *f = rec->fields;
	int			bytes = rec->id_len + f[F_TO_NUMBER].len;

	memset(nulls, false, sizeof(bool) * SENDS_NCOLUMNS);
	values[COL_ACCOUNT_ID] = Int64GetDatum(batch->account_id);
	values[COL_ID] = trackly_text_datum(rec->id, rec->id_len);
	values[COL_LIST_ID] = Int64GetDatum(rec->list_id);
	nulls[COL_LIST_ID] = rec->list_id == 0;
	values[COL_TO_NUMBER] = trackly_text_datum(f[F_TO_NUMBER].str, f[F_TO_NUMBER].len);
	nulls[COL_MESSAGE] = !import_field_given(&f[F_MESSAGE]);
	if (!nulls[COL_MESSAGE])
	{
		values[COL_MESSAGE] = trackly_text_datum(f[F_MESSAGE].str, f[F_MESSAGE].len);
		bytes += f[F_MESSAGE].len;
	}
	values[COL_CREATIVE_ID] = Int64GetDatum(rec->creative_id);
	nulls[COL_CREATIVE_ID] = rec->creative_id == 0;
	nulls[COL_SEND_TYPE] = !import_field_given(&f[F_SEND_TYPE]);
	if (!nulls[COL_SEND_TYPE])
	{
		values[COL_SEND_TYPE] = trackly_text_datum(f[F_SEND_TYPE].str, f[F_SEND_TYPE].len);
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
 * How many of the ids (a text[] datum) this import has written: on a Citus
 * coordinator the row count of INSERT ... SELECT ... ON CONFLICT DO NOTHING
 * counts the rows sent to the shard, the skipped ones too (and RETURNING
 * trips SPI's own count check), so the rows are counted where they are.
 */
static uint64
count_written(ImportBatch *batch, Datum ids)
{
	static SPIPlanPtr plan = NULL;
	Datum		params[3];
	bool		isnull;

	trackly_prepare(&plan,
					"SELECT pg_catalog.count(*) FROM trackly.sends s"
					" WHERE s.account_id = $1 AND s.import_id = $2 AND s.id = ANY ($3)",
					3, (Oid[]) {INT8OID, INT8OID, TEXTARRAYOID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = Int64GetDatum(batch->import_id);
	params[2] = ids;
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);
	return (uint64) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
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
		params[2 + c - COL_ID] = trackly_make_array(columns[c], column_nulls[c], n,
												   sends_columns[c].type);
	trackly_execute(plan, params, NULL, SPI_OK_INSERT);
	if (!batch->on_citus)
		return SPI_processed;
	return count_written(batch, params[2]);
}

/*
 * Which of the n records have an id that trackly.sends holds for the account,
 * written by any import but except_import (0: none is excepted; import ids
 * start at 1)?  One lookup each, in one statement.
 */
static bool *
find_stored_ids(ImportBatch *batch, ImportRecord **recs, int n, int64 except_import)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *ids = palloc(sizeof(Datum) * n);
	bool	   *stored = palloc0(sizeof(bool) * n);
	Datum		params[3];
	uint64		row;
	int			i;

	for (i = 0; i < n; i++)
		ids[i] = trackly_text_datum(recs[i]->id, recs[i]->id_len);
	trackly_prepare(&plan,
					"SELECT u.i FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(id, i)"
					" WHERE EXISTS (SELECT FROM trackly.sends s"
					"                WHERE s.account_id = $1 AND s.id = u.id"
					"                  AND s.import_id IS DISTINCT FROM $3)",
					3, (Oid[]) {INT8OID, TEXTARRAYOID, INT8OID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = trackly_make_array(ids, NULL, n, TEXTOID);
	params[2] = Int64GetDatum(except_import);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);
	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;

		stored[DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row],
										   SPI_tuptable->tupdesc, 1, &isnull)) - 1] = true;
	}
	return stored;
}

/* The function of the btree operator of a strategy for an index column of a type. */
static RegProcedure
index_operator_proc(Relation index, int column, Oid type, StrategyNumber strategy)
{
	Oid			op = get_opfamily_member(index->rd_opfamily[column], type, type, strategy);

	if (!OidIsValid(op))
		elog(ERROR, "no btree operator of strategy %d for type %u", strategy, type);
	return get_opcode(op);
}

/*
 * The range scan of probe_stored_ids straight on the primary key, for a
 * relation as this extension made it (no row security, no other index to
 * choose): the index between the first and the last id, each entry's row
 * checked for visibility under a snapshot taken now, as a statement would,
 * and merged with the sorted records as it comes.  False when the range
 * holds limit rows or more.
 */
static bool
probe_index_range(ImportBatch *batch, Relation rel, ImportRecord **recs, int n,
				  int64 limit, bool *stored)
{
	Relation	index = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData keys[3];
	text	   *first = (text *) DatumGetPointer(trackly_text_datum(recs[0]->id, recs[0]->id_len));
	text	   *last = (text *) DatumGetPointer(trackly_text_datum(recs[n - 1]->id, recs[n - 1]->id_len));
	int64		rows = 0;
	int			i = 0;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber,
				index_operator_proc(index, 0, INT8OID, BTEqualStrategyNumber),
				Int64GetDatum(batch->account_id));
	ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber,
				index_operator_proc(index, 1, TEXTOID, BTGreaterEqualStrategyNumber),
				PointerGetDatum(first));
	ScanKeyInit(&keys[2], 2, BTLessEqualStrategyNumber,
				index_operator_proc(index, 1, TEXTOID, BTLessEqualStrategyNumber),
				PointerGetDatum(last));
	keys[1].sk_collation = keys[2].sk_collation = index->rd_indcollation[1];

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	scan = index_beginscan(rel, index, snapshot, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	while (rows < limit && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		text	   *id = DatumGetTextPP(slot_getattr(slot, 2, &isnull));
		int			c = 1;

		rows++;
		while (i < n && (c = id_cmp(recs[i]->id, recs[i]->id_len,
									VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id))) < 0)
			i++;
		if (i < n && c == 0)
			stored[i++] = true;
	}
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	return rows < limit;
}

/*
 * Which of the n records, sorted by id, have an id stored already?  Imports
 * mostly bring new ranges of ids, or replay old ones: one scan of the index
 * between the first and the last id answers both, merged with the sorted
 * records.  When that range holds many more rows than the request, the ids
 * are looked up one by one instead.  A relation as this extension made it
 * is scanned directly (probe_index_range); another one by a query, which
 * honours whatever its owner added (row security).
 */
static bool *
probe_stored_ids(ImportBatch *batch, Relation rel, bool pristine, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	bool	   *stored = palloc0(sizeof(bool) * n);
	int64		limit = 2 * (int64) n + 16;
	Datum		params[4];
	uint64		row;
	int			i = 0;

	if (pristine)
	{
		if (probe_index_range(batch, rel, recs, n, limit, stored))
			return stored;
		pfree(stored);
		return find_stored_ids(batch, recs, n, 0);	/* an earlier batch's rows count */
	}

	trackly_prepare(&plan,
					"SELECT s.id FROM trackly.sends s"
					" WHERE s.account_id = $1 AND s.id >= $2 AND s.id <= $3"
					" ORDER BY s.id LIMIT $4",
					4, (Oid[]) {INT8OID, TEXTOID, TEXTOID, INT8OID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = trackly_text_datum(recs[0]->id, recs[0]->id_len);
	params[2] = trackly_text_datum(recs[n - 1]->id, recs[n - 1]->id_len);
	params[3] = Int64GetDatum(limit);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);
	if ((int64) SPI_processed >= limit)
		return find_stored_ids(batch, recs, n, 0);	/* an earlier batch's rows count */

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

/* The rollup's buckets: UTC quarter hours and UTC hours, in microseconds. */
#define ROLLUP_QUARTER_USECS (INT64CONST(15) * USECS_PER_MINUTE)
#define ROLLUP_HOUR_USECS USECS_PER_HOUR

/* A record's place in one grain of the rollup: its bucket and send type. */
typedef struct RollupKey
{
	int64		bucket;			/* microseconds since 2000-01-01 UTC */
	const ImportField *send_type;
	const ImportField *delivered;
} RollupKey;

/* Orders rollup keys by bucket, then send type (none first, then bytewise). */
static int
rollup_key_cmp(const void *a, const void *b)
{
	const RollupKey *x = (const RollupKey *) a;
	const RollupKey *y = (const RollupKey *) b;
	bool		xt = import_field_given(x->send_type);
	bool		yt = import_field_given(y->send_type);

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	if (xt != yt)
		return xt ? 1 : -1;
	return xt ? id_cmp(x->send_type->str, x->send_type->len, y->send_type->str, y->send_type->len) : 0;
}

/* The delta rows of a direct write, as columns of trackly.send_stats. */
typedef struct RollupRows
{
	int			n;
	Datum	   *hourly;
	Datum	   *bucket;
	Datum	   *send_type;
	bool	   *send_type_null;
	Datum	   *sends;
	Datum	   *delivered;
	Datum	   *undelivered;
} RollupRows;

/*
 * Adds the rows of one grain (buckets of width usecs) for the n records:
 * the records' keys sorted, then one row per run of equal keys.
 */
static void
add_rollup_grain(RollupRows *rows, ImportRecord **recs, int n, int64 usecs, RollupKey *keys)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		int64		offset = recs[i]->sent_at % usecs;

		/* sent_at counts from 2000-01-01 UTC, the buckets' origin */
		keys[i].bucket = recs[i]->sent_at - (offset < 0 ? offset + usecs : offset);
		keys[i].send_type = &recs[i]->fields[F_SEND_TYPE];
		keys[i].delivered = &recs[i]->fields[F_DELIVERED];
	}
	qsort(keys, n, sizeof(RollupKey), rollup_key_cmp);

	for (i = 0; i < n; i++)
	{
		bool		known = import_field_given(keys[i].delivered);
		int64		was_delivered = known && keys[i].delivered->boolean;
		int64		not_delivered = known && !keys[i].delivered->boolean;
		int			r = rows->n;

		if (i > 0 && rollup_key_cmp(&keys[i - 1], &keys[i]) == 0)
		{
			r--;
			rows->sends[r] = Int64GetDatum(DatumGetInt64(rows->sends[r]) + 1);
			rows->delivered[r] = Int64GetDatum(DatumGetInt64(rows->delivered[r]) + was_delivered);
			rows->undelivered[r] = Int64GetDatum(DatumGetInt64(rows->undelivered[r]) + not_delivered);
			continue;
		}
		rows->hourly[r] = BoolGetDatum(usecs == ROLLUP_HOUR_USECS);
		rows->bucket[r] = TimestampTzGetDatum(keys[i].bucket);
		rows->send_type_null[r] = !import_field_given(keys[i].send_type);
		rows->send_type[r] = rows->send_type_null[r] ? (Datum) 0
			: trackly_text_datum(keys[i].send_type->str, keys[i].send_type->len);
		rows->sends[r] = Int64GetDatum(1);
		rows->delivered[r] = Int64GetDatum(was_delivered);
		rows->undelivered[r] = Int64GetDatum(not_delivered);
		rows->n++;
	}
}

/*
 * Counts n records just written directly (so seen by no trigger) into
 * trackly.send_stats, as the extension's rollup trigger counts the rows of
 * an INSERT: a delta row per UTC quarter hour and send type, and one per
 * UTC hour and send type, summed here, in one statement.
 */
static void
count_into_rollup(ImportBatch *batch, ImportRecord **recs, int n)
{
	static SPIPlanPtr plan = NULL;
	RollupKey  *keys = palloc(sizeof(RollupKey) * n);
	RollupRows	rows = {
		.hourly = palloc(sizeof(Datum) * 2 * n),
		.bucket = palloc(sizeof(Datum) * 2 * n),
		.send_type = palloc(sizeof(Datum) * 2 * n),
		.send_type_null = palloc(sizeof(bool) * 2 * n),
		.sends = palloc(sizeof(Datum) * 2 * n),
		.delivered = palloc(sizeof(Datum) * 2 * n),
		.undelivered = palloc(sizeof(Datum) * 2 * n),
	};
	Datum		params[7];

	add_rollup_grain(&rows, recs, n, ROLLUP_QUARTER_USECS, keys);
	add_rollup_grain(&rows, recs, n, ROLLUP_HOUR_USECS, keys);

	trackly_prepare(&plan,
					"INSERT INTO trackly.send_stats (account_id, hourly, bucket, imported, send_type,"
					" sends, delivered, undelivered)"
					" SELECT $1, pg_catalog.unnest($2), pg_catalog.unnest($3), true,"
					" pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6),"
					" pg_catalog.unnest($7)",
					7, (Oid[]) {INT8OID, BOOLARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
						INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID});
	params[0] = Int64GetDatum(batch->account_id);
	params[1] = trackly_make_array(rows.hourly, NULL, rows.n, BOOLOID);
	params[2] = trackly_make_array(rows.bucket, NULL, rows.n, TIMESTAMPTZOID);
	params[3] = trackly_make_array(rows.send_type, rows.send_type_null, rows.n, TEXTOID);
	params[4] = trackly_make_array(rows.sends, NULL, rows.n, INT8OID);
	params[5] = trackly_make_array(rows.delivered, NULL, rows.n, INT8OID);
	params[6] = trackly_make_array(rows.undelivered, NULL, rows.n, INT8OID);
	trackly_execute(plan, params, NULL, SPI_OK_INSERT);
}

/* What a bulk write takes: n records, sorted by id, none stored before. */
typedef struct BulkWrite
{
	ImportBatch *batch;
	Relation	rel;
	ImportRecord **recs;
	int			n;
} BulkWrite;

/*
 * Writes every record of a BulkWrite as COPY writes rows, into a relation
 * that accepts every valid row; false, with nothing undone yet, as soon as
 * an index entry meets an id another transaction holds.  Never waits.
 */
static bool
write_bulk_rows(void *arg)
{
	BulkWrite  *w = (BulkWrite *) arg;
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *result_rel = makeNode(ResultRelInfo);
	CommandId	cid = GetCurrentCommandId(true);
	int			nslots = Min(w->n, BULK_MAX_ROWS);
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * nslots);
	MemoryContext chunk_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"trackly bulk write",
													ALLOCSET_DEFAULT_SIZES);
	TupleDesc	desc;
	bool		conflict = false;
	int			done = 0;
	int			i;

	InitResultRelInfo(result_rel, w->rel, 1, NULL, 0);
	ExecOpenIndices(result_rel, false);
	/* Slots over a private copy of the descriptor: nothing for the resource owner to track. */
	desc = CreateTupleDescCopy(RelationGetDescr(w->rel));
	for (i = 0; i < nslots; i++)
		slots[i] = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);

	while (done < w->n && !conflict)
	{
		MemoryContext old = MemoryContextSwitchTo(chunk_cxt);
		int			nchunk = 0;
		int			bytes = 0;

		CHECK_FOR_INTERRUPTS();
		while (done + nchunk < w->n && nchunk < nslots && bytes < BULK_MAX_BYTES)
		{
			TupleTableSlot *slot = slots[nchunk];

			ExecClearTuple(slot);
			bytes += record_row(w->batch, w->recs[done + nchunk],
								slot->tts_values, slot->tts_isnull);
			ExecStoreVirtualTuple(slot);
			nchunk++;
		}
		table_multi_insert(w->rel, slots, nchunk, cid, 0, NULL);

		for (i = 0; i < nchunk && !conflict; i++)
		{
			list_free(ExecInsertIndexTuples(result_rel, slots[i], estate,
											false, true, &conflict, NIL));
			ResetPerTupleExprContext(estate);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(chunk_cxt);
		done += nchunk;
	}

	for (i = 0; i < nslots; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	ExecCloseIndices(result_rel);
	FreeExecutorState(estate);
	MemoryContextDelete(chunk_cxt);
	return !conflict;
}

/*
 * Writes the n records (sorted by id, none of them stored before) into rel,
 * which accepts every valid row, and counts a direct write into the rollup;
 * returns how many rows it added.  The bulk
 * write runs in a subtransaction; if another transaction holds one of the
 * ids, the subtransaction is rolled back, so that nobody is left waiting
 * for an entry this import gave up, and INSERT ... ON CONFLICT DO NOTHING
 * writes the records instead, waiting where it must (see the top of this
 * file for why that cannot deadlock).
 */
static uint64
write_bulk(ImportBatch *batch, Relation rel, ImportRecord **recs, int n)
{
	BulkWrite	w = {.batch = batch, .rel = rel, .recs = recs, .n = n};
	ErrorData  *error;
	bool		kept;

	/*
	 * A caller that will not wait runs the bulk write as it is, and rolls
	 * back all it wrote at once when an id turns out to be taken.
	 */
	if (batch->never_wait)
	{
		kept = write_bulk_rows(&w);
		if (!kept)
			batch->gave_up = true;
	}
	else
	{
		error = trackly_run_in_subtransaction(write_bulk_rows, &w, &kept);
		if (error != NULL)
			ReThrowError(error);
		if (!kept)
			return insert_sends(batch, recs, n);	/* the rollup's trigger sees its rows */
	}
	if (!kept)
		return 0;
	if (trackly_rollup_trigger_fires(rel))
		count_into_rollup(batch, recs, n);
	return n;
}

/* Most characters of a database error that a save_error sentence shows. */
#define SAVE_ERROR_SHOWN_CHARS 200

/* msg cut to its first SAVE_ERROR_SHOWN_CHARS characters, with "..." when longer. */
static char *
shortened(const char *msg)
{
	int			len = strlen(msg);
	int			clipped = pg_mbcharcliplen(msg, len, SAVE_ERROR_SHOWN_CHARS);

	return clipped < len ? psprintf("%.*s...", clipped, msg) : pstrdup(msg);
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
 * The candidates of an isolating write: the records that passed the probe,
 * sorted by id, in groups of one id (sorted[group[g]] .. sorted[group[g + 1]
 * - 1]), and, for each group, the record now tried (next[g]; group[g + 1]
 * once every record of the group has been refused).
 */
typedef struct IsolatingWrite
{
	ImportBatch *batch;
	ImportRecord **sorted;
	int		   *group;
	int		   *next;
	ImportRecord **recs;		/* room for one record per group */
	int			n;				/* records in recs */
	uint64		inserted;
} IsolatingWrite;

/* Inserts the records in w->recs; an error propagates. */
static bool
insert_isolating_rows(void *arg)
{
	IsolatingWrite *w = (IsolatingWrite *) arg;

	w->inserted = insert_sends(w->batch, w->recs, w->n);
	return true;
}

/*
 * Writes the record now tried of each group from g0 to g1 - 1, in one
 * subtransaction.  When the database refuses one of them, halves the groups
 * and tries each half, low ids first; a single refused record fails with
 * save_error and the next record with its id is tried at once, before any
 * higher id, so that the ids this import holds stay below the one it may
 * wait for.  Any other error propagates.
 */
static void
insert_isolating(IsolatingWrite *w, int g0, int g1)
{
	ErrorData  *error;
	int			g;
	int			i;

	for (;;)
	{
		w->n = 0;
		for (g = g0; g < g1; g++)
			if (w->next[g] < w->group[g + 1])
				w->recs[w->n++] = w->sorted[w->next[g]];
		if (w->n == 0)
			return;

		error = trackly_run_in_subtransaction(insert_isolating_rows, w, NULL);
		if (error == NULL)
		{
			w->batch->success_count += (int) w->inserted;
			for (i = 0; i < w->n; i++)
				w->recs[i]->outcome = OUTCOME_STORED_OR_DUPLICATE;
			return;
		}
		if (!error_belongs_to_row(error->sqlerrcode))
			ReThrowError(error);
		if (w->n > 1)
		{
			int			mid;

			/* Split the groups that still have a record to try in halves. */
			for (g = g0, i = 0; i < w->n / 2; g++)
				if (w->next[g] < w->group[g + 1])
					i++;
			mid = g;
			FreeErrorData(error);
			insert_isolating(w, g0, mid);
			insert_isolating(w, mid, g1);
			return;
		}
		/* One record, refused: its group's next record is tried in its place. */
		for (g = g0; w->next[g] >= w->group[g + 1]; g++)
			;
		import_fail(w->batch, w->sorted[w->next[g]], OUTCOME_SAVE_ERROR,
					"The database refused the record: %s.",
					shortened(trackly_without_shard_names(error->message)));
		FreeErrorData(error);
		w->next[g]++;
	}
}

/*
 * Writes the candidates when rows may be refused: each group's records in
 * request order until one is accepted, in ascending order of ids.  Last, a
 * refused record whose id another import stored meanwhile is a duplicate
 * after all.
 */
static void
write_isolating(ImportBatch *batch, ImportRecord **sorted, int *group, int ngroups)
{
	IsolatingWrite w = {
		.batch = batch,
		.sorted = sorted,
		.group = group,
		.next = palloc(sizeof(int) * ngroups),
		.recs = palloc(sizeof(ImportRecord *) * ngroups),
	};
	ImportRecord **refused;
	bool	   *stored;
	int			nrefused = 0;
	int			g;
	int			i;

	for (g = 0; g < ngroups; g++)
		w.next[g] = sorted[group[g]]->outcome == OUTCOME_PENDING ? group[g] : group[g + 1];
	insert_isolating(&w, 0, ngroups);

	refused = palloc(sizeof(ImportRecord *) * group[ngroups]);
	for (i = 0; i < group[ngroups]; i++)
		if (sorted[i]->outcome == OUTCOME_SAVE_ERROR)
			refused[nrefused++] = sorted[i];
	if (nrefused > 0)
	{
		stored = find_stored_ids(batch, refused, nrefused, batch->import_id);
		for (i = 0; i < nrefused; i++)
			if (stored[i])
				refused[i]->outcome = OUTCOME_DUPLICATE;
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
	bool		pristine;
	Relation	rel;
	int			i;
	int			g;

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

	/*
	 * Ids stored before are duplicates, with every record that has them.  On
	 * a Citus coordinator the relation is a shell: its table access method
	 * and index hold nothing, so the probe and the write go through queries.
	 */
	pristine = sends_accepts_every_valid_row(rel);
	stored = probe_stored_ids(batch, rel, pristine && !batch->on_citus, firsts, ngroups);
	for (g = 0; g < ngroups; g++)
		for (i = group[g]; stored[g] && i < group[g + 1]; i++)
			sorted[i]->outcome = OUTCOME_DUPLICATE;

	if (pristine)
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
		if (nfresh > 0 && !batch->on_citus)
			batch->success_count += (int) write_bulk(batch, rel, firsts, nfresh);
		else if (nfresh > 0 && batch->never_wait)
			batch->gave_up = true;	/* the INSERT waits where it must */
		else if (nfresh > 0)
			batch->success_count += (int) insert_sends(batch, firsts, nfresh);
	}
	else if (batch->never_wait)
		batch->gave_up = true;	/* the isolating write waits where it must */
	else
		write_isolating(batch, sorted, group, ngroups);
	table_close(rel, NoLock);
	if (batch->gave_up)
		return;

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
