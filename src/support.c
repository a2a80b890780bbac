/*
 * support.c
 *		What every PostgreSQL-side file of the extension shares, and nothing
 *		of the import's rules: kept SPI plans, relations of the trackly schema,
 *		values shown in messages, arrays and text datums, subtransactions.
 *		It uses no other file of the extension.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
#include "utils/resowner.h"

#include "support.h"

char *
trackly_quote_value(const char *s, int len)
{
	StringInfoData buf;
	int			shown = 0;
	int			i = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	while (i < len && shown < TRACKLY_SHOWN_CHARS)
	{
		int			charlen = pg_mblen(s + i);

		if (charlen > len - i)
			break;
		if (charlen == 1 && ((unsigned char) s[i] < 0x20 || s[i] == 0x7f))
			appendStringInfoChar(&buf, '?');
		else
			appendBinaryStringInfo(&buf, s + i, charlen);
		i += charlen;
		shown++;
	}
	appendStringInfoChar(&buf, '"');
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * The tables of the import that Citus distributes by account, as the SQL of
 * this extension names them (trackly.<name>), and, while an import runs on
 * the worker that holds an account's shards, those shards.
 */
static const char *const shard_tables[] = {"sends", "lists", "imports", "import_errors", "send_stats"};

#define NSHARD_TABLES lengthof(shard_tables)

static struct
{
	bool		active;
	Oid			oids[NSHARD_TABLES];
	char	   *names[NSHARD_TABLES];	/* qualified and quoted, in TopMemoryContext */
	int64		ids[NSHARD_TABLES];	/* their shard ids */
}			shards;

/* A kept plan: for a call site (its SPIPlanPtr), for the shards in use or none. */
typedef struct KeptPlanKey
{
	SPIPlanPtr *site;
	Oid			sends;			/* the shard of trackly.sends, or InvalidOid */
} KeptPlanKey;

typedef struct KeptPlan
{
	KeptPlanKey key;
	SPIPlanPtr	plan;
} KeptPlan;

static HTAB *kept_plans = NULL;

/* sql with every trackly.<table> of shard_tables renamed to its shard. */
static char *
sql_for_shards(const char *sql)
{
	StringInfoData out;
	const char *c = sql;

	initStringInfo(&out);
	while (*c != '\0')
	{
		bool		renamed = false;

		if (strncmp(c, "trackly.", 8) == 0 && (c == sql || !(isalnum((unsigned char) c[-1]) || c[-1] == '_')))
		{
			for (int i = 0; i < (int) NSHARD_TABLES && !renamed; i++)
			{
				size_t		len = strlen(shard_tables[i]);
				char		next = c[8 + len];

				if (strncmp(c + 8, shard_tables[i], len) == 0 && !(isalnum((unsigned char) next) || next == '_'))
				{
					appendStringInfoString(&out, shards.names[i]);
					c += 8 + len;
					renamed = true;
				}
			}
		}
		if (!renamed)
			appendStringInfoChar(&out, *c++);
	}
	return out.data;
}

/* sql prepared and kept for the backend's life. */
static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	prepared = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (prepared == NULL)
		elog(ERROR, "SPI_prepare failed (%s) for: %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(prepared) != 0)
		elog(ERROR, "SPI_keepplan failed for: %s", sql);
	return prepared;
}

void
trackly_prepare(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	KeptPlanKey key;
	KeptPlan   *kept;
	bool		found;

	/*
	 * Until a backend uses an account's shards (never on one node or on a
	 * Citus coordinator), *plan holds the plan for the tables themselves.
	 */
	if (!shards.active && kept_plans == NULL)
	{
		if (*plan == NULL)
			*plan = keep_plan(sql, nargs, argtypes);
		return;
	}

	/*
	 * From then on the plans are kept by call site and shard (the plans kept
	 * before are not in the table: each is made again once).
	 */
	if (kept_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(KeptPlanKey);
		ctl.entrysize = sizeof(KeptPlan);
		kept_plans = hash_create("trackly kept plans", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	memset(&key, 0, sizeof(key));
	key.site = plan;
	key.sends = shards.active ? shards.oids[0] : InvalidOid;
	kept = hash_search(kept_plans, &key, HASH_ENTER, &found);
	if (!found)
		kept->plan = NULL;
	/* (NULL also after an error in keep_plan: it is tried again.) */
	if (kept->plan == NULL)
		kept->plan = keep_plan(shards.active ? sql_for_shards(sql) : sql, nargs, argtypes);
	*plan = kept->plan;
}

bool
trackly_use_account_shards(int64 account_id)
{
	Datum		tables[NSHARD_TABLES];
	Datum		params[2];
	Oid			oids[NSHARD_TABLES];
	char	   *names[NSHARD_TABLES];
	int64		ids[NSHARD_TABLES];

	Assert(!shards.active);
	for (int i = 0; i < (int) NSHARD_TABLES; i++)
		tables[i] = ObjectIdGetDatum(trackly_relation_oid(shard_tables[i]));
	params[0] = Int64GetDatum(account_id);
	params[1] = trackly_make_array(tables, NULL, NSHARD_TABLES, REGCLASSOID);
	if (SPI_execute_with_args("SELECT t.name, pg_catalog.to_regclass(t.name)::pg_catalog.oid,"
							  " t.shardid,"
							  " EXISTS (SELECT FROM pg_catalog.pg_dist_placement p, pg_catalog.pg_dist_local_group g"
							  "          WHERE p.shardid OPERATOR(pg_catalog.=) t.shardid"
							  "            AND p.groupid OPERATOR(pg_catalog.=) g.groupid)"
							  "  FROM (SELECT u.o, s.shardid, pg_catalog.shard_name(u.r, s.shardid) AS name"
							  "          FROM pg_catalog.unnest($2) WITH ORDINALITY u(r, o),"
							  "               LATERAL pg_catalog.get_shard_id_for_distribution_column(u.r, $1) s(shardid)) t"
							  " ORDER BY t.o",
							  2, (Oid[]) {INT8OID, REGCLASSARRAYOID}, params, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not find the shards of account " INT64_FORMAT, account_id);
	if (SPI_processed != NSHARD_TABLES)
		return false;
	for (int i = 0; i < (int) NSHARD_TABLES; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		oid_null;
		bool		local_null;
		Datum		oid = SPI_getbinval(row, desc, 2, &oid_null);
		Datum		local = SPI_getbinval(row, desc, 4, &local_null);
		bool		id_null;

		ids[i] = DatumGetInt64(SPI_getbinval(row, desc, 3, &id_null));

		if (oid_null || local_null || !DatumGetBool(local))
			return false;
		oids[i] = DatumGetObjectId(oid);
		names[i] = SPI_getvalue(row, desc, 1);
	}
	for (int i = 0; i < (int) NSHARD_TABLES; i++)
	{
		shards.oids[i] = oids[i];
		shards.ids[i] = ids[i];
		if (shards.names[i] != NULL)
			pfree(shards.names[i]);
		shards.names[i] = MemoryContextStrdup(TopMemoryContext, names[i]);
	}
	shards.active = true;
	return true;
}

void
trackly_stop_using_shards(void)
{
	shards.active = false;
}

char *
trackly_without_shard_names(const char *message)
{
	StringInfoData out;
	const char *c = message;

	if (!shards.active)
		return (char *) message;
	initStringInfo(&out);
	while (*c != '\0')
	{
		bool		dropped = false;

		/* "_<shard id>" after a name and not before another digit */
		if (*c == '_' && c > message && (isalnum((unsigned char) c[-1]) || c[-1] == '_'))
		{
			for (int i = 0; i < (int) NSHARD_TABLES && !dropped; i++)
			{
				char		id[32];
				size_t		len = snprintf(id, sizeof(id), INT64_FORMAT, shards.ids[i]);

				if (strncmp(c + 1, id, len) == 0 && !isdigit((unsigned char) c[1 + len]))
				{
					c += 1 + len;
					dropped = true;
				}
			}
		}
		if (!dropped)
			appendStringInfoChar(&out, *c++);
	}
	return out.data;
}

void
trackly_execute(SPIPlanPtr plan, Datum *values, const char *nulls, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan returned %s where %s was expected",
			 SPI_result_code_string(rc), SPI_result_code_string(expected));
}

Oid
trackly_relation_oid(const char *name)
{
	Oid			relid;

	if (shards.active)
		for (int i = 0; i < (int) NSHARD_TABLES; i++)
			if (strcmp(name, shard_tables[i]) == 0)
				return shards.oids[i];
	relid = get_relname_relid(name, get_namespace_oid("trackly", false));
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"trackly.%s\" does not exist", name),
				 errhint("Reinstall the extension: DROP EXTENSION trackly_history; CREATE EXTENSION trackly_history;")));
	return relid;
}

Datum
trackly_make_array(Datum *values, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs,
											  elemtype, typlen, typbyval, typalign));
}

Datum
trackly_text_datum(const char *s, int len)
{
	return PointerGetDatum(cstring_to_text_with_len(s, len));
}

/*
 * Runs body(arg) in a subtransaction.  The subtransaction is kept when body
 * returns true and rolled back when it returns false (*kept tells which).
 * An error rolls it back too and is returned, copied, in the caller's memory
 * context; NULL when there was none.
 */
ErrorData *
trackly_run_in_subtransaction(bool (*body) (void *arg), void *arg, bool *kept)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile error = NULL;
	volatile bool keep = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		keep = body(arg);
		if (keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		keep = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	if (kept)
		*kept = keep;
	return error;
}

/*
 * Is the trigger one of the extension's own rollup triggers (its function is
 * trackly.record_send_stats, in the relation's schema)?  Those see a
 * statement's rows only to count them into trackly.send_stats, which the
 * import's direct write does itself (trackly_rollup_trigger_fires).
 */
static bool
is_rollup_trigger(Relation rel, const Trigger *trigger)
{
	char	   *name = get_func_name(trigger->tgfoid);
	bool		ours;

	ours = name != NULL && strcmp(name, TRACKLY_ROLLUP_FUNCTION) == 0 &&
		get_func_namespace(trigger->tgfoid) == RelationGetNamespace(rel);
	if (name != NULL)
		pfree(name);
	return ours;
}

/*
 * Does every trigger of the relation fire on TRUNCATE only (as Citus's do),
 * or belong to the extension's rollup?
 */
static bool
only_truncate_or_rollup_triggers(Relation rel)
{
	int			i;

	if (rel->trigdesc == NULL)
		return true;
	for (i = 0; i < rel->trigdesc->numtriggers; i++)
	{
		const Trigger *trigger = &rel->trigdesc->triggers[i];
		int16		type = trigger->tgtype;

		if (is_rollup_trigger(rel, trigger))
			continue;
		if ((type & (TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE | TRIGGER_TYPE_DELETE)) != 0 ||
			!TRIGGER_FOR_TRUNCATE(type))
			return false;
	}
	return true;
}

bool
trackly_rollup_trigger_fires(Relation rel)
{
	int			i;

	if (rel->trigdesc == NULL)
		return false;
	for (i = 0; i < rel->trigdesc->numtriggers; i++)
	{
		const Trigger *trigger = &rel->trigdesc->triggers[i];

		if (!TRIGGER_FOR_INSERT(trigger->tgtype) || !is_rollup_trigger(rel, trigger))
			continue;
		/* As the trigger manager decides whether a trigger fires. */
		if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		{
			if (trigger->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
				trigger->tgenabled == TRIGGER_FIRES_ALWAYS)
				return true;
		}
		else if (trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
				 trigger->tgenabled == TRIGGER_FIRES_ALWAYS)
			return true;
	}
	return false;
}

bool
trackly_table_as_made(Relation rel, const TracklyColumn *columns, int ncolumns)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		as_made;
	List	   *indexes;
	int			i;

	as_made = rel->rd_rel->relkind == RELKIND_RELATION &&
		!rel->rd_rel->relispartition &&
		!rel->rd_rel->relhasrules &&
		!rel->rd_rel->relrowsecurity &&
		only_truncate_or_rollup_triggers(rel) &&
		(desc->constr == NULL || desc->constr->num_check == 0) &&
		desc->natts == ncolumns;
	for (i = 0; as_made && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		as_made = !att->attisdropped &&
			att->atttypid == columns[i].type &&
			att->atttypmod == -1 &&
			att->attnotnull == columns[i].not_null &&
			att->attgenerated == '\0' &&
			strcmp(NameStr(att->attname), columns[i].name) == 0;
	}
	if (as_made)
	{
		indexes = RelationGetIndexList(rel);
		as_made = list_length(indexes) == 1;
		list_free(indexes);
	}
	return as_made;
}
