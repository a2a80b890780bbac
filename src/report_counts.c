/*
 * report_counts.c
 *		The counts of a send report and its answer (trackly.report_counts,
 *		called by trackly.report_run once the request is checked and its
 *		local periods are known; see trackly_history--0.6.0--0.7.0.sql).
 *
 *		The boundaries of a report are its two ends and the first instant of
 *		each period inside it.  Without list_id or creative_id the counts come
 *		from the rollup, trackly.send_stats: the hour rows of every UTC hour
 *		that no boundary falls inside (one index range scan), the quarter-hour
 *		rows of the quarters no boundary falls inside in the hours one does,
 *		and trackly.sends for the quarter hours a boundary splits (none unless
 *		an end, or the start of a period, is not on a quarter hour).  By list
 *		or creative, the rollup holds too little and trackly.sends is grouped.
 *
 *		Each row read is added to its group (period and keys) in a hash
 *		table; the groups are then sorted and the answer is built as jsonb
 *		directly.  Doing this in SQL took a lateral index scan and a hash
 *		aggregate per period and a jsonb_build_object per row: about two
 *		thirds of a year's daily report by send type.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "nodes/params.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(trackly_report_counts);

#define REPORT_FETCH_ROWS 10000
#define USECS_PER_QUARTER (15 * USECS_PER_MINUTE)

/* The keys a report may group by, as group_by names them. */
typedef enum ReportKeyKind
{
	REPORT_LIST_ID,
	REPORT_CREATIVE_ID,
	REPORT_SEND_TYPE
} ReportKeyKind;

/* A group of the answer: a period and the values of the keys asked for. */
typedef struct ReportKey
{
	int32		period;			/* index into the periods */
	bool		list_null;
	bool		creative_null;
	int64		list_id;
	int64		creative_id;
	const char *send_type;		/* NULL for SQL NULL or not grouped */
	int32		send_type_len;	/* its bytes (not NUL-terminated) */
} ReportKey;

typedef struct ReportGroup
{
	ReportKey	key;
	int64		sends;
	int64		delivered;
	int64		undelivered;
} ReportGroup;

/* A report being counted. */
typedef struct Report
{
	int64		account_id;
	Datum		imported;		/* boolean, or SQL NULL: both */
	bool		imported_null;
	TimestampTz low;			/* the range counted, clipped to the history */
	TimestampTz high;
	TimestampTz *starts;		/* the first instant of each period, ascending */
	int			nperiods;
	ReportKeyKind keys[3];		/* the keys asked for, in the order asked */
	int			nkeys;
	bool		by_list;
	bool		by_creative;
	bool		by_type;
	TimestampTz last_bucket;	/* the period of the last rollup row read */
	int			last_period;
	TimestampTz *split_hours;	/* the UTC hours a boundary falls inside */
	int			nsplit_hours;
	TimestampTz *split_quarters;	/* the UTC quarter hours one falls inside */
	int			nsplit_quarters;
	MemoryContext context;		/* the groups and their send types */
	HTAB	   *groups;
} Report;

static uint32
report_key_hash(const void *key, Size keysize)
{
	const ReportKey *k = key;
	uint32		h = hash_bytes_uint32((uint32) k->period);

	(void) keysize;

	h = hash_combine(h, k->list_null ? 0 : hash_bytes_extended((const unsigned char *) &k->list_id,
															   sizeof(int64), 0));
	h = hash_combine(h, k->creative_null ? 1 : hash_bytes_extended((const unsigned char *) &k->creative_id,
																   sizeof(int64), 0));
	if (k->send_type != NULL)
		h = hash_combine(h, hash_bytes((const unsigned char *) k->send_type, k->send_type_len));
	return h;
}

static int
report_key_match(const void *key1, const void *key2, Size keysize)
{
	const ReportKey *a = key1;
	const ReportKey *b = key2;

	(void) keysize;
	if (a->period != b->period || a->list_null != b->list_null ||
		a->creative_null != b->creative_null)
		return 1;
	if ((!a->list_null && a->list_id != b->list_id) ||
		(!a->creative_null && a->creative_id != b->creative_id))
		return 1;
	if (a->send_type == NULL || b->send_type == NULL)
		return a->send_type != b->send_type;
	return a->send_type_len != b->send_type_len ||
		memcmp(a->send_type, b->send_type, a->send_type_len) != 0;
}

/* The period an instant is in: the last whose start is not after it. */
static int
report_period_index(const Report *report, TimestampTz instant)
{
	int			low = 0;
	int			high = report->nperiods;

	while (high - low > 1)
	{
		int			middle = low + (high - low) / 2;

		if (report->starts[middle] <= instant)
			low = middle;
		else
			high = middle;
	}
	if (report->nperiods == 0 || report->starts[low] > instant)
		elog(ERROR, "instant before the first period of the report");
	return low;
}

/* Adds counts to their group. */
static void
report_add(Report *report, ReportKey *key, int64 sends, int64 delivered, int64 undelivered)
{
	ReportGroup *group;
	bool		found;

	group = hash_search(report->groups, key, HASH_ENTER, &found);
	if (!found)
	{
		/* The key's send type points into the row: keep a copy. */
		if (key->send_type != NULL)
			group->key.send_type = memcpy(MemoryContextAlloc(report->context, key->send_type_len),
										  key->send_type, key->send_type_len);
		group->sends = 0;
		group->delivered = 0;
		group->undelivered = 0;
	}
	group->sends += sends;
	group->delivered += delivered;
	group->undelivered += undelivered;
}

/* Floor of an instant to a multiple of a unit since 2000-01-01 00:00 UTC. */
static TimestampTz
report_floor(TimestampTz instant, int64 unit)
{
	int64		rest = instant % unit;

	return instant - (rest < 0 ? rest + unit : rest);
}

static int
report_timestamp_cmp(const void *a, const void *b)
{
	TimestampTz x = *(const TimestampTz *) a;
	TimestampTz y = *(const TimestampTz *) b;

	return x < y ? -1 : x > y;
}

/* Sorts instants and drops repeats; returns how many are left. */
static int
report_unique(TimestampTz *instants, int n)
{
	int			kept = 0;

	if (n == 0)
		return 0;
	qsort(instants, n, sizeof(TimestampTz), report_timestamp_cmp);
	for (int i = 1; i < n; i++)
		if (instants[i] != instants[kept])
			instants[++kept] = instants[i];
	return kept + 1;
}

static bool
report_holds(const TimestampTz *sorted, int n, TimestampTz instant)
{
	return bsearch(&instant, sorted, n, sizeof(TimestampTz), report_timestamp_cmp) != NULL;
}

static Datum
report_timestamp_array(const TimestampTz *instants, int n)
{
	Datum	   *elements = palloc(Max(n, 1) * sizeof(Datum));

	for (int i = 0; i < n; i++)
		elements[i] = TimestampTzGetDatum(instants[i]);
	return PointerGetDatum(construct_array(elements, n, TIMESTAMPTZOID, sizeof(TimestampTz),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Where the rows of a query go: to the report, one slot at a time. */
typedef struct ReportReceiver
{
	DestReceiver pub;
	Report	   *report;
	void		(*add) (Report *report, TupleTableSlot *slot);
} ReportReceiver;

static bool
report_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ReportReceiver *receiver = (ReportReceiver *) self;

	slot_getallattrs(slot);
	receiver->add(receiver->report, slot);
	return true;
}

static void
report_receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	(void) self;
	(void) operation;
	(void) typeinfo;
}

static void
report_receiver_nothing(DestReceiver *self)
{
	(void) self;
}

/*
 * Runs a query, planned with its parameters' values (so that Citus routes it
 * to the account's shard), handing each row to add as the executor makes it:
 * no row is copied into a tuple table.
 */
static void
report_read(Report *report, const char *query, int nargs, const Oid *types, const Datum *values,
			const bool *nulls, void (*add) (Report *, TupleTableSlot *))
{
	ReportReceiver receiver;
	SPIExecuteOptions options;
	SPIPlanPtr	plan;
	int			result;

	plan = SPI_prepare_cursor(query, nargs, (Oid *) types, CURSOR_OPT_CUSTOM_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed for \"%s\": %s", query, SPI_result_code_string(SPI_result));

	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = report_receive;
	receiver.pub.rStartup = report_receiver_startup;
	receiver.pub.rShutdown = report_receiver_nothing;
	receiver.pub.rDestroy = report_receiver_nothing;
	receiver.pub.mydest = DestNone;
	receiver.report = report;
	receiver.add = add;

	memset(&options, 0, sizeof(options));
	options.params = makeParamList(nargs);
	for (int i = 0; i < nargs; i++)
	{
		options.params->params[i].value = values[i];
		options.params->params[i].isnull = nulls[i];
		options.params->params[i].pflags = PARAM_FLAG_CONST;
		options.params->params[i].ptype = types[i];
	}
	options.read_only = true;
	options.dest = (DestReceiver *) &receiver;

	/* SPI calls a SELECT whose rows go to a receiver of DestNone a utility. */
	result = SPI_execute_plan_extended(plan, &options);
	if (result != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute_plan_extended failed for \"%s\": %s", query,
			 SPI_result_code_string(result));
	SPI_freeplan(plan);
}

/* The send type of a row as the key holds it, or NULL (not grouped by it, or SQL NULL). */
static void
report_send_type(Report *report, TupleTableSlot *slot, int column, ReportKey *key)
{
	struct varlena *text;

	if (!report->by_type || slot->tts_isnull[column])
		return;
	text = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(slot->tts_values[column]));
	key->send_type = VARDATA_ANY(text);
	key->send_type_len = VARSIZE_ANY_EXHDR(text);
}

static int64
report_int8(TupleTableSlot *slot, int column)
{
	return slot->tts_isnull[column] ? 0 : DatumGetInt64(slot->tts_values[column]);
}

/* A rollup row: bucket, send_type, sends, delivered, undelivered. */
static void
report_add_rollup_row(Report *report, TupleTableSlot *slot)
{
	ReportKey	key;
	TimestampTz bucket = DatumGetTimestampTz(slot->tts_values[0]);

	/* The rows come in the index's order, a bucket's rows together. */
	if (bucket != report->last_bucket || report->last_period < 0)
	{
		report->last_bucket = bucket;
		report->last_period = report_period_index(report, bucket);
	}
	memset(&key, 0, sizeof(key));
	key.period = report->last_period;
	key.list_null = true;
	key.creative_null = true;
	report_send_type(report, slot, 1, &key);
	report_add(report, &key, report_int8(slot, 2), report_int8(slot, 3), report_int8(slot, 4));
}

/* An hour row: as a rollup row, unless a boundary splits its hour. */
static void
report_add_hour_row(Report *report, TupleTableSlot *slot)
{
	if (report->nsplit_hours == 0 ||
		!report_holds(report->split_hours, report->nsplit_hours,
					  DatumGetTimestampTz(slot->tts_values[0])))
		report_add_rollup_row(report, slot);
}

/*
 * A quarter-hour row of an hour a boundary splits: as a rollup row when its
 * quarter is inside the range and no boundary splits it.
 */
static void
report_add_quarter_row(Report *report, TupleTableSlot *slot)
{
	TimestampTz quarter = DatumGetTimestampTz(slot->tts_values[0]);

	if (quarter >= report->low && quarter + USECS_PER_QUARTER <= report->high &&
		!report_holds(report->split_quarters, report->nsplit_quarters, quarter))
		report_add_rollup_row(report, slot);
}

/* A group of sends: width_bucket, list_id, creative_id, send_type, counts. */
static void
report_add_sends_row(Report *report, TupleTableSlot *slot)
{
	ReportKey	key;
	int32		bucket = DatumGetInt32(slot->tts_values[0]);

	if (slot->tts_isnull[0] || bucket < 1 || bucket > report->nperiods)
		elog(ERROR, "send outside the periods of the report");
	memset(&key, 0, sizeof(key));
	key.period = bucket - 1;
	key.list_null = slot->tts_isnull[1];
	key.list_id = key.list_null ? 0 : DatumGetInt64(slot->tts_values[1]);
	key.creative_null = slot->tts_isnull[2];
	key.creative_id = key.creative_null ? 0 : DatumGetInt64(slot->tts_values[2]);
	report_send_type(report, slot, 3, &key);
	report_add(report, &key, report_int8(slot, 4), report_int8(slot, 5), report_int8(slot, 6));
}

/*
 * Counts the sends of [low, high) by period and keys from trackly.sends:
 * all of them, or (split != NULL) those of the quarter hours listed.
 */
static void
report_read_sends(Report *report, const TimestampTz *split, int nsplit)
{
	StringInfoData query;
	Oid			types[6] = {INT8OID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	BOOLOID, TIMESTAMPTZARRAYOID};
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	initStringInfo(&query);
	appendStringInfo(&query,
					 "SELECT pg_catalog.width_bucket(t.sent_at, $2), %s, %s, %s, "
					 "pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE t.delivered), "
					 "pg_catalog.count(*) FILTER (WHERE NOT t.delivered) "
					 "FROM trackly.sends t "
					 "WHERE t.account_id = $1 AND t.sent_at >= $3 AND t.sent_at < $4 "
					 "AND ($5 IS NULL OR t.imported = $5)%s "
					 "GROUP BY 1, 2, 3, 4",
					 report->by_list ? "t.list_id" : "NULL::bigint",
					 report->by_creative ? "t.creative_id" : "NULL::bigint",
					 report->by_type ? "t.send_type" : "NULL::text",
					 split != NULL ? " AND pg_catalog.date_bin('15 minutes', t.sent_at, "
					 "'2000-01-01 00:00:00+00') = ANY ($6)" : "");
	values[0] = Int64GetDatum(report->account_id);
	values[1] = report_timestamp_array(report->starts, report->nperiods);
	values[2] = TimestampTzGetDatum(report->low);
	values[3] = TimestampTzGetDatum(report->high);
	values[4] = report->imported;
	nulls[4] = report->imported_null;
	values[5] = split != NULL ? report_timestamp_array(split, nsplit) : (Datum) 0;
	report_read(report, query.data, split != NULL ? 6 : 5, types, values, nulls,
				report_add_sends_row);
}

/*
 * Counts [low, high) from the rollup: the hour rows of the whole hours no
 * boundary splits, the quarter-hour rows of the whole quarters of the hours
 * one does, and the sends of the quarters one splits.
 */
static void
report_read_rollup(Report *report)
{
	TimestampTz first_hour = report_floor(report->low + USECS_PER_HOUR - 1, USECS_PER_HOUR);
	TimestampTz end_hour = report_floor(report->high, USECS_PER_HOUR);
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID};
	Datum		values[4];
	bool		nulls[4] = {false, false, false, report->imported_null};

	/* The boundaries: both ends, and each period's start between them. */
	report->split_hours = palloc((report->nperiods + 2) * sizeof(TimestampTz));
	report->split_quarters = palloc((report->nperiods + 2) * sizeof(TimestampTz));
	for (int i = -2; i < report->nperiods; i++)
	{
		TimestampTz boundary = i == -2 ? report->low : i == -1 ? report->high : report->starts[i];

		if (boundary < report->low || boundary > report->high)
			continue;
		if (report_floor(boundary, USECS_PER_HOUR) != boundary)
			report->split_hours[report->nsplit_hours++] = report_floor(boundary, USECS_PER_HOUR);
		if (report_floor(boundary, USECS_PER_QUARTER) != boundary)
			report->split_quarters[report->nsplit_quarters++] = report_floor(boundary, USECS_PER_QUARTER);
	}
	report->nsplit_hours = report_unique(report->split_hours, report->nsplit_hours);
	report->nsplit_quarters = report_unique(report->split_quarters, report->nsplit_quarters);

	values[0] = Int64GetDatum(report->account_id);
	values[3] = report->imported;
	if (first_hour < end_hour)
	{
		values[1] = TimestampTzGetDatum(first_hour);
		values[2] = TimestampTzGetDatum(end_hour);
		report_read(report, "SELECT s.bucket, s.send_type, s.sends, s.delivered, s.undelivered "
					"FROM trackly.send_stats s WHERE s.account_id = $1 AND s.hourly "
					"AND s.bucket >= $2 AND s.bucket < $3 AND ($4 IS NULL OR s.imported = $4)",
					4, types, values, nulls, report_add_hour_row);
	}
	if (report->nsplit_hours > 0)
	{
		/*
		 * The quarter-hour rows of each split hour: a range scan of the index
		 * per hour (a list of quarters as = ANY can be planned as a scan of
		 * the whole table), the quarters wanted picked as they arrive.
		 */
		Datum		hours = report_timestamp_array(report->split_hours, report->nsplit_hours);

		report_read(report, "SELECT s.bucket, s.send_type, s.sends, s.delivered, s.undelivered "
					"FROM pg_catalog.unnest($2) h(hour) JOIN trackly.send_stats s "
					"ON s.account_id = $1 AND NOT s.hourly "
					"AND s.bucket >= h.hour AND s.bucket < h.hour + interval '1 hour' "
					"WHERE $3 IS NULL OR s.imported = $3",
					3, (Oid[]) {INT8OID, TIMESTAMPTZARRAYOID, BOOLOID},
					(Datum[]) {values[0], hours, values[3]},
					(bool[]) {false, false, report->imported_null}, report_add_quarter_row);
	}
	if (report->nsplit_quarters > 0)
		report_read_sends(report, report->split_quarters, report->nsplit_quarters);
}

/* The order of the rows: period, then each key as asked, NULLs last. */
static int
report_group_cmp(const void *a, const void *b, void *arg)
{
	const Report *sorting_report = arg;
	const ReportKey *x = &(*(ReportGroup *const *) a)->key;
	const ReportKey *y = &(*(ReportGroup *const *) b)->key;

	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	for (int i = 0; i < sorting_report->nkeys; i++)
	{
		bool		x_null;
		bool		y_null;
		int			c = 0;

		switch (sorting_report->keys[i])
		{
			case REPORT_LIST_ID:
				x_null = x->list_null;
				y_null = y->list_null;
				if (!x_null && !y_null && x->list_id != y->list_id)
					c = x->list_id < y->list_id ? -1 : 1;
				break;
			case REPORT_CREATIVE_ID:
				x_null = x->creative_null;
				y_null = y->creative_null;
				if (!x_null && !y_null && x->creative_id != y->creative_id)
					c = x->creative_id < y->creative_id ? -1 : 1;
				break;
			default:
				x_null = x->send_type == NULL;
				y_null = y->send_type == NULL;
				if (!x_null && !y_null)
				{
					/* COLLATE "C": bytes, then the shorter first */
					c = memcmp(x->send_type, y->send_type, Min(x->send_type_len, y->send_type_len));
					if (c == 0 && x->send_type_len != y->send_type_len)
						c = x->send_type_len < y->send_type_len ? -1 : 1;
				}
				break;
		}
		if (x_null != y_null)
			return x_null ? 1 : -1;
		if (c != 0)
			return c;
	}
	return 0;
}

static void
report_push_key(JsonbParseState **state, const char *name)
{
	JsonbValue	key;

	key.type = jbvString;
	key.val.string.len = strlen(name);
	key.val.string.val = (char *) name;
	pushJsonbValue(state, WJB_KEY, &key);
}

static void
report_push_numeric(JsonbParseState **state, const char *name, Numeric number)
{
	JsonbValue	value;

	report_push_key(state, name);
	if (number == NULL)
		value.type = jbvNull;
	else
	{
		value.type = jbvNumeric;
		value.val.numeric = number;
	}
	pushJsonbValue(state, WJB_VALUE, &value);
}

/* The four counts and the delivery rate, as the answer shows them. */
static void
report_push_counts(JsonbParseState **state, int64 sends, int64 delivered, int64 undelivered)
{
	Numeric		rate = NULL;

	report_push_numeric(state, "sends", int64_to_numeric(sends));
	report_push_numeric(state, "delivered", int64_to_numeric(delivered));
	report_push_numeric(state, "undelivered", int64_to_numeric(undelivered));
	report_push_numeric(state, "unknown", int64_to_numeric(sends - delivered - undelivered));
	/* round(delivered::numeric / (delivered + undelivered), 4), as in SQL */
	if (delivered + undelivered != 0)
		rate = DatumGetNumeric(DirectFunctionCall2(numeric_round,
												   NumericGetDatum(numeric_div_opt_error(int64_to_numeric(delivered),
																						 int64_to_numeric(delivered + undelivered),
																						 NULL)),
												   Int32GetDatum(4)));
	report_push_numeric(state, "delivery_rate", rate);
}

/* The answer: {"rows": [...], "totals": {...}, "errors": []}. */
static Jsonb *
report_answer(Report *report, const DateADT *periods)
{
	JsonbParseState *state = NULL;
	ReportGroup **sorted;
	ReportGroup *group;
	HASH_SEQ_STATUS scan;
	JsonbValue	value;
	JsonbValue *answer;
	long		count = 0;
	int64		sends = 0;
	int64		delivered = 0;
	int64		undelivered = 0;

	sorted = palloc(Max(hash_get_num_entries(report->groups), 1) * sizeof(ReportGroup *));
	hash_seq_init(&scan, report->groups);
	while ((group = hash_seq_search(&scan)) != NULL)
		if (group->sends != 0)	/* periods without sends are left out */
			sorted[count++] = group;
	qsort_arg(sorted, count, sizeof(ReportGroup *), report_group_cmp, report);

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	report_push_key(&state, "rows");
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (long i = 0; i < count; i++)
	{
		ReportKey  *key = &sorted[i]->key;
		char	   *period = JsonEncodeDateTime(NULL, DateADTGetDatum(periods[key->period]),
												DATEOID, NULL);

		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		report_push_key(&state, "period");
		value.type = jbvString;
		value.val.string.len = strlen(period);
		value.val.string.val = period;
		pushJsonbValue(&state, WJB_VALUE, &value);
		if (report->by_list)
			report_push_numeric(&state, "list_id",
								key->list_null ? NULL : int64_to_numeric(key->list_id));
		if (report->by_creative)
			report_push_numeric(&state, "creative_id",
								key->creative_null ? NULL : int64_to_numeric(key->creative_id));
		if (report->by_type)
		{
			report_push_key(&state, "send_type");
			if (key->send_type == NULL)
				value.type = jbvNull;
			else
			{
				value.type = jbvString;
				value.val.string.len = key->send_type_len;
				value.val.string.val = (char *) key->send_type;
			}
			pushJsonbValue(&state, WJB_VALUE, &value);
		}
		report_push_counts(&state, sorted[i]->sends, sorted[i]->delivered, sorted[i]->undelivered);
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
		sends += sorted[i]->sends;
		delivered += sorted[i]->delivered;
		undelivered += sorted[i]->undelivered;
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	report_push_key(&state, "totals");
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	report_push_counts(&state, sends, delivered, undelivered);
	pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	report_push_key(&state, "errors");
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	answer = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(answer);
}

/*
 * trackly.report_counts(account_id bigint, group_by text[], imported boolean,
 * low timestamptz, high timestamptz, periods date[], starts timestamptz[])
 * returns jsonb: the answer of a report of the account's sends from low
 * (inclusive) to high (exclusive), by the periods (starts: the first instant
 * of each; the first may be before low) and the keys of group_by, counting
 * imported history (true), live sends (false) or both (NULL).
 */
Datum
trackly_report_counts(PG_FUNCTION_ARGS)
{
	Report		report;
	ArrayType  *group_by;
	ArrayType  *periods;
	ArrayType  *starts;
	Datum	   *keys;
	bool	   *key_nulls;
	int			nkeys;
	MemoryContext caller = CurrentMemoryContext;
	HASHCTL		hash;
	Jsonb	   *answer;

	for (int i = 0; i < 7; i++)
		if (i != 2 && PG_ARGISNULL(i))
			PG_RETURN_NULL();
	memset(&report, 0, sizeof(report));
	report.last_period = -1;
	report.account_id = PG_GETARG_INT64(0);
	group_by = PG_GETARG_ARRAYTYPE_P(1);
	report.imported_null = PG_ARGISNULL(2);
	report.imported = report.imported_null ? (Datum) 0 : PG_GETARG_DATUM(2);
	report.low = PG_GETARG_TIMESTAMPTZ(3);
	report.high = PG_GETARG_TIMESTAMPTZ(4);
	periods = PG_GETARG_ARRAYTYPE_P(5);
	starts = PG_GETARG_ARRAYTYPE_P(6);

	if (ARR_NDIM(periods) > 1 || ARR_NDIM(starts) > 1 || ARR_HASNULL(periods) || ARR_HASNULL(starts) ||
		ArrayGetNItems(ARR_NDIM(periods), ARR_DIMS(periods)) !=
		ArrayGetNItems(ARR_NDIM(starts), ARR_DIMS(starts)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("periods and starts must be arrays of the same length without NULLs")));
	report.nperiods = ArrayGetNItems(ARR_NDIM(starts), ARR_DIMS(starts));
	report.starts = (TimestampTz *) ARR_DATA_PTR(starts);
	for (int i = 1; i < report.nperiods; i++)
		if (report.starts[i] <= report.starts[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("starts must be in ascending order")));
	if (report.low < report.high &&
		(report.nperiods == 0 || report.starts[0] > report.low))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the first period must begin at or before low")));

	deconstruct_array(group_by, TEXTOID, -1, false, TYPALIGN_INT, &keys, &key_nulls, &nkeys);
	for (int i = 0; i < nkeys; i++)
	{
		char	   *name = key_nulls[i] ? "" : TextDatumGetCString(keys[i]);
		ReportKeyKind kind;
		bool	   *seen;

		if (strcmp(name, "list_id") == 0)
			kind = REPORT_LIST_ID, seen = &report.by_list;
		else if (strcmp(name, "creative_id") == 0)
			kind = REPORT_CREATIVE_ID, seen = &report.by_creative;
		else if (strcmp(name, "send_type") == 0)
			kind = REPORT_SEND_TYPE, seen = &report.by_type;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("group_by holds \"%s\", not list_id, creative_id or send_type", name)));
		if (*seen)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("group_by names %s twice", name)));
		*seen = true;
		report.keys[report.nkeys++] = kind;
	}

	report.context = AllocSetContextCreate(caller, "trackly report", ALLOCSET_DEFAULT_SIZES);
	hash.keysize = sizeof(ReportKey);
	hash.entrysize = sizeof(ReportGroup);
	hash.hash = report_key_hash;
	hash.match = report_key_match;
	hash.hcxt = report.context;
	report.groups = hash_create("trackly report groups", 1024, &hash,
								HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);

	if (report.low < report.high)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (report.by_list || report.by_creative)
			report_read_sends(&report, NULL, 0);
		else
			report_read_rollup(&report);
		SPI_finish();
	}

	answer = report_answer(&report, (DateADT *) ARR_DATA_PTR(periods));
	MemoryContextDelete(report.context);
	PG_RETURN_JSONB_P(answer);
}
