/*
 * import_staged.c
 *		Front end of the import for a staging table or view: its rows, read
 *		in batches through a cursor, become records of the same pipeline as a
 *		request body's (validate, lists, write, audit), one import for the
 *		whole source.
 *
 * Rights.  The source is read as the caller, with the caller's search_path:
 * a view or a function in it runs as the caller, never as the extension's
 * owner.  Only around the stages does the import switch to the owner of
 * trackly.sends, with search_path pg_catalog, pg_temp, as a SECURITY
 * DEFINER function would (SetUserIdAndSecContext, as PostgreSQL's own
 * maintenance commands switch users).  A transaction's abort puts both back.
 *
 * Order, and why a staged import cannot deadlock.  A staged import holds
 * the ids of its earlier batches while it writes later ones; were it to
 * wait at an id below one it holds, an API import holding the first and
 * waiting for the second would close a circle.  So it reads the source
 * twice at most:
 * - first in the source's own order (order_by's, or the scan's), never
 *   waiting for anybody: its bulk writes run in one subtransaction with no
 *   subtransaction per batch, and at the first id another transaction wrote
 *   since the probe (or when trackly.sends has a user's CHECK or trigger,
 *   whose write waits where it must) it rolls all of it back at once;
 * - then, only after such a rollback, sorted by id as trackly.sends orders
 *   it (its text, COLLATE "C"; the sort spills to disk past
 *   STAGED_SORT_MEMORY), so that its writes keep ascending id order across
 *   all its batches, as an API import's do within its one, and the argument
 *   at the top of import_write.c covers it; this time it waits where an API
 *   import would.
 * Each row's index is its position in order_by order, or in the order of
 * the scan, in both readings.
 *
 * Columns are matched by name to the record fields; a missing id, to_number
 * or timestamp column, or a column of a type its field does not take, is an
 * ERROR before anything is read.  Values: SQL NULL is an absent field; in
 * text-like columns an empty string is absent for the integer, boolean and
 * timestamp fields, and is what "" is in JSON for the string fields.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "import.h"
#include "support.h"

/* Rows a batch reads at a time (the stages' records buffer holds as many). */
#define STAGED_BATCH_ROWS IMPORT_MAX_RECORDS
/* Memory the sort of the source by id may take before it spills to disk. */
#define STAGED_SORT_MEMORY "32MB"
/* Seconds between progress notices (the setting trackly.progress_seconds). */
static int	progress_seconds = 5;
/* Characters of a source value a stored failure keeps. */
#define SOURCE_VALUE_CHARS 100

/* How a column's (base) type is read. */
typedef enum ColumnClass
{
	COLUMN_NONE = 0,			/* no such column */
	COLUMN_TEXT,				/* text, varchar, name */
	COLUMN_BPCHAR,				/* char(n): trailing blanks do not count */
	COLUMN_INTEGER,				/* smallint, integer, bigint */
	COLUMN_NUMERIC,
	COLUMN_BOOL,
	COLUMN_TIMESTAMPTZ,
	COLUMN_TIMESTAMP			/* read as UTC */
} ColumnClass;

/* What a field takes, as a bit per ColumnClass. */
#define TAKES(c) (1 << (c))
#define TAKES_TEXT (TAKES(COLUMN_TEXT) | TAKES(COLUMN_BPCHAR))
#define TAKES_INTEGER (TAKES_TEXT | TAKES(COLUMN_INTEGER) | TAKES(COLUMN_NUMERIC))

static const struct
{
	int			takes;
	const char *described;		/* what it takes, for a message */
	bool		required;
	bool		string;			/* a string field: "" means what "" means in JSON */
}			field_columns[IMPORT_NFIELDS] = {
	[F_ID] = {TAKES_TEXT | TAKES(COLUMN_INTEGER), "text, varchar, char, smallint, integer or bigint", true, true},
	[F_TO_NUMBER] = {TAKES_TEXT, "text, varchar or char", true, true},
	[F_TIMESTAMP] = {TAKES_TEXT | TAKES(COLUMN_TIMESTAMPTZ) | TAKES(COLUMN_TIMESTAMP),
	"text, varchar, char, timestamptz or timestamp", true, false},
	[F_LIST_ID] = {TAKES_INTEGER, "text, varchar, char, smallint, integer, bigint or numeric", false, false},
	[F_LIST_NUMBER] = {TAKES_TEXT, "text, varchar or char", false, true},
	[F_CREATIVE_ID] = {TAKES_INTEGER, "text, varchar, char, smallint, integer, bigint or numeric", false, false},
	[F_LENGTH] = {TAKES_INTEGER, "text, varchar, char, smallint, integer, bigint or numeric", false, false},
	[F_MESSAGE] = {TAKES_TEXT, "text, varchar or char", false, true},
	[F_SEND_TYPE] = {TAKES_TEXT, "text, varchar or char", false, true},
	[F_DELIVERED] = {TAKES_TEXT | TAKES(COLUMN_BOOL), "text, varchar, char or boolean", false, false},
};

/* The source as the import reads it. */
typedef struct StagedSource
{
	Oid			relid;
	char	   *name;			/* schema-qualified, quoted */
	int			column[IMPORT_NFIELDS]; /* 1-based position in the query, 0: none */
	int			index_column;	/* position of each row's index */
	ColumnClass class[IMPORT_NFIELDS];
	char	   *column_name[IMPORT_NFIELDS];
	double		estimated_rows;
	char	   *unsorted_query; /* rows in order_by order, or the scan's */
	char	   *sorted_query;	/* rows in the order of their ids */
} StagedSource;

static ColumnClass
column_class(Oid type)
{
	switch (getBaseType(type))
	{
		case TEXTOID:
		case VARCHAROID:
			return COLUMN_TEXT;
		case BPCHAROID:
			return COLUMN_BPCHAR;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return COLUMN_INTEGER;
		case NUMERICOID:
			return COLUMN_NUMERIC;
		case BOOLOID:
			return COLUMN_BOOL;
		case TIMESTAMPTZOID:
			return COLUMN_TIMESTAMPTZ;
		case TIMESTAMPOID:
			return COLUMN_TIMESTAMP;
		default:
			return COLUMN_NONE;
	}
}

/* Checks the source and its columns, and writes the query that reads it. */
static void
describe_source(StagedSource *src, Oid relid, ArrayType *order_by)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	char		kind = rel->rd_rel->relkind;
	StringInfoData q;
	StringInfoData order;
	int			f;
	int			n = 0;
	int			i;

	memset(src, 0, sizeof(*src));
	src->relid = relid;
	src->name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										   RelationGetRelationName(rel));
	src->estimated_rows = rel->rd_rel->reltuples;
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE && kind != RELKIND_VIEW &&
		kind != RELKIND_MATVIEW && kind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table, view, materialized view or foreign table", src->name)));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s", src->name),
				 errhint("The import reads the source as you: you need SELECT on it.")));

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (f = 0; f < IMPORT_NFIELDS; f++)
	{
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), import_field_names[f].name) == 0)
				break;
		}
		if (i == desc->natts)
		{
			if (field_columns[f].required)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("%s has no column \"%s\"", src->name, import_field_names[f].name),
						 errdetail("Every record needs an id, a to_number and a timestamp."),
						 errhint("Name the columns as the API's record fields, or map other names in a view.")));
			continue;
		}
		src->class[f] = column_class(TupleDescAttr(desc, i)->atttypid);
		if ((field_columns[f].takes & TAKES(src->class[f])) == 0 || src->class[f] == COLUMN_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of %s is of type %s, which the field %s does not take",
							import_field_names[f].name, src->name,
							format_type_be(TupleDescAttr(desc, i)->atttypid), import_field_names[f].name),
					 errdetail("The field %s takes %s (a domain over one of them too).",
							   import_field_names[f].name, field_columns[f].described),
					 errhint("Cast the column in a view over the source.")));
		src->column_name[f] = pstrdup(import_field_names[f].name);
		appendStringInfo(&q, "%s%s", n > 0 ? ", " : "", quote_identifier(import_field_names[f].name));
		src->column[f] = ++n;
	}
	src->index_column = n + 1;

	/*
	 * Each row's index is its position in order_by order, else in the order
	 * of the scan.  Read in that order, a row's position is its index; read
	 * sorted by id (after a rollback, see the top of this file), each row
	 * carries it, numbered by row_number() before the sort.
	 */
	initStringInfo(&order);
	if (order_by != NULL)
	{
		Datum	   *names;
		bool	   *nulls;
		int			count;

		deconstruct_array(order_by, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &count);
		for (i = 0; i < count; i++)
		{
			char	   *name;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("order_by holds a NULL; name columns of %s", src->name)));
			name = TextDatumGetCString(names[i]);
			if (get_attnum(relid, name) == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("order_by names \"%s\", which is no column of %s", name, src->name)));
			appendStringInfo(&order, "%s%s", i == 0 ? "ORDER BY " : ", ", quote_identifier(name));
		}
	}
	src->unsorted_query = psprintf("%s FROM %s %s", q.data, src->name, order.data);
	src->sorted_query = psprintf("SELECT * FROM (%s, pg_catalog.row_number() OVER (%s) OPERATOR(pg_catalog.-) 1"
								 " AS trackly_index FROM %s) s"
								 " ORDER BY (s.id)::pg_catalog.text COLLATE \"C\", s.trackly_index",
								 q.data, order.data, src->name);
	table_close(rel, AccessShareLock);
}

/* Is s[0 .. len-1] a JSON-like number (-12, 4.2e1) that numeric_in takes safely? */
static bool
looks_numeric(const char *s, int len)
{
	int			i = 0;
	int			digits = 0;
	int			exponent_digits = 0;

	if (i < len && s[i] == '-')
		i++;
	while (i < len && isdigit((unsigned char) s[i]))
		i++, digits++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, digits++;
	}
	if (digits == 0 || digits > 1000)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, exponent_digits++;
		if (exponent_digits == 0 || exponent_digits > 4)
			return false;
	}
	return i == len;
}

/* Fills field from a text-like value, by what the field takes. */
static void
read_text_field(ImportFieldId f, const char *s, int len, ImportField *field)
{
	bool		b;

	if (field_columns[f].string)
	{
		field->kind = FIELD_STRING;
		field->str = s;
		field->len = len;
		return;
	}
	if (len == 0)
	{
		field->kind = FIELD_ABSENT;
		return;
	}
	field->kind = FIELD_STRING;
	field->str = s;
	field->len = len;
	if (f == F_DELIVERED)
	{
		if (parse_bool_with_len(s, len, &b))
		{
			field->kind = FIELD_BOOL;
			field->boolean = b;
		}
	}
	else if (f != F_TIMESTAMP && looks_numeric(s, len))
	{
		char	   *text = pnstrdup(s, len);

		field->kind = FIELD_NUMBER;
		field->num = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1)));
	}
}

/* Fills field from a column's value. */
static void
read_field(const StagedSource *src, ImportFieldId f, Datum value, bool isnull, ImportField *field)
{
	text	   *t;
	int			len;

	if (isnull)
	{
		field->kind = FIELD_NULL;
		return;
	}
	switch (src->class[f])
	{
		case COLUMN_TEXT:
		case COLUMN_BPCHAR:
			t = DatumGetTextPP(value);
			len = VARSIZE_ANY_EXHDR(t);
			if (src->class[f] == COLUMN_BPCHAR)
				while (len > 0 && VARDATA_ANY(t)[len - 1] == ' ')
					len--;
			read_text_field(f, VARDATA_ANY(t), len, field);
			break;
		case COLUMN_INTEGER:
			field->kind = FIELD_INTEGER;
			field->integer = DatumGetInt64(value);
			break;
		case COLUMN_NUMERIC:
			field->kind = FIELD_NUMBER;
			field->num = DatumGetNumeric(value);
			break;
		case COLUMN_BOOL:
			field->kind = FIELD_BOOL;
			field->boolean = DatumGetBool(value);
			break;
		case COLUMN_TIMESTAMPTZ:
		case COLUMN_TIMESTAMP:
			field->kind = FIELD_TIMESTAMP;
			field->instant = DatumGetTimestampTz(value);
			break;
		case COLUMN_NONE:
			field->kind = FIELD_ABSENT;
			break;
	}
}

/* A row's values as jsonb, each as its type writes it, shortened. */
static Datum
source_row(const StagedSource *src, HeapTuple tuple, TupleDesc desc)
{
	JsonbParseState *state = NULL;
	int			f;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (f = 0; f < IMPORT_NFIELDS; f++)
	{
		JsonbValue	k;
		JsonbValue	v;
		char	   *out;

		if (src->column[f] == 0)
			continue;
		k.type = jbvString;
		k.val.string.val = src->column_name[f];
		k.val.string.len = strlen(src->column_name[f]);
		pushJsonbValue(&state, WJB_KEY, &k);
		out = SPI_getvalue(tuple, desc, src->column[f]);
		if (out == NULL)
			v.type = jbvNull;
		else
		{
			int			len = strlen(out);
			int			clipped = pg_mbcharcliplen(out, len, SOURCE_VALUE_CHARS);

			v.type = jbvString;
			v.val.string.val = clipped < len ? psprintf("%.*s...", clipped, out) : out;
			v.val.string.len = strlen(v.val.string.val);
		}
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL)));
}

/* The owner of a relation. */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* Who the stages run as: the owner of trackly.sends, with a pinned search_path. */
typedef struct Writer
{
	Oid			caller;
	int			caller_context;
	Oid			owner;
	int			guc_level;
} Writer;

static void
become_writer(Writer *w)
{
	SetUserIdAndSecContext(w->owner, w->caller_context | SECURITY_LOCAL_USERID_CHANGE);
	w->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

static void
become_caller(Writer *w)
{
	AtEOXact_GUC(true, w->guc_level);
	SetUserIdAndSecContext(w->caller, w->caller_context);
}

/* Says how far the import is; the rate (which varies) in the detail. */
static void
report_progress(const StagedSource *src, int64 read, const ImportSummary *s, TimestampTz start)
{
	long		secs;
	int			usecs;
	double		elapsed;
	char	   *done;

	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	elapsed = secs + usecs / 1e6;
	done = src->estimated_rows > 0
		? psprintf(" (about %.0f %%)", Min(100.0, 100.0 * read / src->estimated_rows)) : "";
	ereport(NOTICE,
			(errmsg("%s: " INT64_FORMAT " rows read%s, " INT64_FORMAT " stored, " INT64_FORMAT
					" failed, " INT64_FORMAT " duplicates",
					src->name, read, done, s->success_count, s->error_count, s->duplicates_skipped),
			 errdetail("%.0f rows a second over %.1f s.", elapsed > 0 ? read / elapsed : 0, elapsed)));
}

/* Is it time for a progress notice? */
static bool
progress_due(TimestampTz since)
{
	return GetCurrentTimestamp() - since >= (int64) progress_seconds * USECS_PER_SEC;
}

void
import_staged_define_settings(void)
{
	DefineCustomIntVariable("trackly.progress_seconds",
							"Seconds between the progress notices of an import from a staging table.",
							"0 gives one after every batch of 1,000 rows.",
							&progress_seconds,
							5, 0, 3600,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* What reading the source in batches needs, and what it adds up. */
typedef struct StagedRun
{
	StagedSource *src;
	Writer	   *writer;
	ImportSummary *summary;
	ImportBatch *batch;
	MemoryContext call_cxt;
	MemoryContext batch_cxt;
	int64		index_base;
	TimestampTz start;
	int64		read;			/* rows read */
	int64		reported;		/* rows read at the last progress notice */
} StagedRun;

/*
 * Reads the source in batches through the stages: in its own order, giving
 * up (false) at the first id another transaction wrote since the probe,
 * having waited for nobody (the caller then rolls back); or sorted by id,
 * waiting where an API import would.
 */
static bool
run_batches(StagedRun *run, bool sorted)
{
	const char *query = sorted ? run->src->sorted_query : run->src->unsorted_query;
	bool		never_wait = !sorted;
	StagedSource *src = run->src;
	ImportBatch *batch = run->batch;
	TimestampTz last_notice = GetCurrentTimestamp();
	SPIPlanPtr	plan;
	Portal		portal;
	int			guc_level;
	bool		gave_up = false;

	/* The source, as the caller; a scan that starts where it starts. */
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), query);
	guc_level = NewGUCNestLevel();
	(void) set_config_option("synchronize_seqscans", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("work_mem", STAGED_SORT_MEMORY, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, false);

	batch->never_wait = never_wait;
	batch->gave_up = false;
	while (!gave_up)
	{
		SPITupleTable *rows;
		uint64		n;
		uint64		i;
		int			f;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, STAGED_BATCH_ROWS);
		rows = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;

		MemoryContextSwitchTo(run->batch_cxt);
		batch->records = import_records_buffer((int) n, true);
		batch->nrecords = (int) n;
		batch->index_base = run->index_base;
		batch->import_id = run->summary->import_id;
		batch->success_count = 0;
		for (i = 0; i < n; i++)
		{
			ImportRecord *rec = &batch->records[i];
			bool		isnull;

			rec->index = sorted ? DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc,
															  src->index_column, &isnull))
				: run->read + (int64) i;
			rec->kind = FIELD_OBJECT;
			for (f = 0; f < IMPORT_NFIELDS; f++)
			{
				Datum		value = (Datum) 0;

				if (src->column[f] == 0)
				{
					rec->fields[f].kind = FIELD_ABSENT;
					continue;
				}
				value = SPI_getbinval(rows->vals[i], rows->tupdesc, src->column[f], &isnull);
				read_field(src, f, value, isnull, &rec->fields[f]);
			}
		}

		/*
		 * The stages, as the writer, in an SPI connection of the batch's own
		 * (so what their queries return goes with it).
		 */
		become_writer(run->writer);
		SPI_connect();
		import_validate(batch);
		import_resolve_lists(batch);
		import_write(batch);
		gave_up = batch->gave_up;
		if (!gave_up)
		{
			import_count_outcomes(batch);
			batch->source_rows = NULL;
			if (batch->error_count > 0)
			{
				batch->source_rows = palloc0(sizeof(Datum) * n);
				for (i = 0; i < n; i++)
					if (OUTCOME_IS_FAILURE(batch->records[i].outcome))
						batch->source_rows[i] = source_row(src, rows->vals[i], rows->tupdesc);
			}
			import_record_errors(batch);
			import_summarize(run->summary, batch, run->call_cxt);
		}
		SPI_finish();
		become_caller(run->writer);

		run->read += n;
		import_release_records(batch->records);
		SPI_freetuptable(rows);
		MemoryContextSwitchTo(run->call_cxt);
		MemoryContextReset(run->batch_cxt);

		if (!gave_up && progress_due(last_notice))
		{
			report_progress(src, run->read, run->summary, run->start);
			last_notice = GetCurrentTimestamp();
			run->reported = run->read;
		}
	}
	SPI_cursor_close(portal);
	AtEOXact_GUC(true, guc_level);
	return !gave_up;
}

/* The first reading, for trackly_run_in_subtransaction: true (kept) when it finished. */
static bool
first_reading(void *arg)
{
	return run_batches((StagedRun *) arg, false);
}

/* The first reading, in a subtransaction rolled back if it gave up; an error propagates. */
static bool
first_attempt(StagedRun *run)
{
	ErrorData  *error;
	bool		finished;

	error = trackly_run_in_subtransaction(first_reading, run, &finished);
	if (error != NULL)
		ReThrowError(error);
	return finished;
}

Jsonb *
import_staged(Oid relid, int64 account_id, ArrayType *order_by, int64 index_base)
{
	MemoryContext call_cxt = CurrentMemoryContext;
	StagedSource src;
	ImportSummary *summary = palloc0(sizeof(ImportSummary));
	ImportBatch batch;
	Writer		writer;
	StagedRun	run;
	E164Rule	phone_rule = E164_RULE_POSSIBLE;
	int			citus;
	Jsonb	   *response;

	describe_source(&src, relid, order_by);

	GetUserIdAndSecContext(&writer.caller, &writer.caller_context);
	writer.owner = relation_owner(trackly_relation_oid("sends"));

	SPI_connect();
	/* Before the writer's settings, which become_caller undoes level by level. */
	citus = import_plan_for_citus();
	/* Every statement of the import's own runs as the writer: plans are kept, and planned once. */
	become_writer(&writer);
	if (!import_account_phone_rule(account_id, &phone_rule))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no account has id " INT64_FORMAT, account_id),
				 errhint("trackly_create_account makes one.")));
	summary->import_id = import_new_id();
	become_caller(&writer);

	memset(&batch, 0, sizeof(batch));
	batch.account_id = account_id;
	batch.phone_rule = phone_rule;
	batch.on_citus = citus > 0;
	batch.source = "staged";
	run.src = &src;
	run.writer = &writer;
	run.summary = summary;
	run.batch = &batch;
	run.call_cxt = call_cxt;
	run.batch_cxt = AllocSetContextCreate(call_cxt, "trackly staged batch", ALLOCSET_DEFAULT_SIZES);
	batch.cxt = run.batch_cxt;
	run.index_base = index_base;
	run.start = GetCurrentTimestamp();
	run.read = 0;
	run.reported = -1;

	/*
	 * First in the order the source gives, waiting for nobody; if another
	 * transaction wrote one of the ids meanwhile, everything written is
	 * rolled back and the source is read again in id order, which may wait.
	 * Through a Citus coordinator every write is a statement that may wait
	 * in the shard, so the source is read in id order from the start.
	 */
	if (batch.on_citus)
		(void) run_batches(&run, true);
	else if (!first_attempt(&run))
	{
		int64		import_id = summary->import_id;

		ereport(NOTICE,
				(errmsg("%s: another transaction is writing some of the same ids; reading the source again in the order of its ids",
						src.name)));
		memset(summary, 0, offsetof(ImportSummary, listed));
		summary->import_id = import_id;
		run.read = 0;
		run.reported = -1;
		(void) run_batches(&run, true);
	}

	become_writer(&writer);
	import_record_import(&batch, summary);
	become_caller(&writer);
	/* A last word on a long import, unless the last batch just had it. */
	if (progress_due(run.start) && run.reported != run.read)
		report_progress(&src, run.read, summary, run.start);

	MemoryContextSwitchTo(call_cxt);
	response = import_summary_response(summary);
	import_plan_done(citus);
	SPI_finish();
	MemoryContextDelete(run.batch_cxt);
	return response;
}
