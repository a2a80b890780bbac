/*
 * support.h
 *		What every PostgreSQL-side file of the extension shares (support.c).
 */
#ifndef TRACKLY_SUPPORT_H
#define TRACKLY_SUPPORT_H

#include "postgres.h"

#include "executor/spi.h"
#include "utils/rel.h"

/* How many characters of an offending value a message shows. */
#define TRACKLY_SHOWN_CHARS 40

/*
 * Returns s[0 .. len-1] in double quotes for a message, cut to its first
 * TRACKLY_SHOWN_CHARS characters (never inside a multibyte character) with
 * "..." when longer, and with control characters shown as '?'.
 */
extern char *trackly_quote_value(const char *s, int len);

/*
 * Prepares sql once per backend and keeps the plan, setting *plan to it.  The
 * plan is generic: every statement here is an index lookup by account, and
 * planning it again for each call would cost more than running it.  While
 * an account's shards are in use (trackly_use_account_shards), sql's
 * trackly.<table> names those shards, and the plan is kept for them.
 */
extern void trackly_prepare(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes);

/*
 * Runs a kept plan (nulls as SPI_execute_plan takes them, or NULL) and raises
 * an internal error unless SPI answers with the expected SPI_OK_* code.
 */
extern void trackly_execute(SPIPlanPtr plan, Datum *values, const char *nulls, int expected);

/*
 * The OID of a relation of the trackly schema (or of its shard, while an
 * account's shards are in use); an error when it is missing.
 */
extern Oid	trackly_relation_oid(const char *name);

/*
 * On a Citus node that holds the account's shards of the import's tables
 * (sends, lists, imports, import_errors, send_stats: co-located, so all on
 * one node), uses them for the import's statements and writes until
 * trackly_stop_using_shards, and returns true; anywhere else returns false
 * and changes nothing.  Citus must be installed and the tables distributed;
 * the caller is connected to SPI.
 */
extern bool trackly_use_account_shards(int64 account_id);
extern void trackly_stop_using_shards(void);

/*
 * A message of the database (an error's) as it would read on one node:
 * while an account's shards are in use, without their shard ids, so that
 * "sends_102075" and a constraint "no_refuse_me_102075" read "sends" and
 * "no_refuse_me"; otherwise the message itself.
 */
extern char *trackly_without_shard_names(const char *message);

/* A column of a table as this extension made it. */
typedef struct TracklyColumn
{
	const char *name;
	Oid			type;
	bool		not_null;
} TracklyColumn;

/*
 * Is the table as this extension made it: exactly these columns (names,
 * types, NOT NULLs, no type modifier, nothing generated), its primary key as
 * its only index, no CHECK, rule, row security or partition bound, and no
 * trigger but on TRUNCATE (which sees no inserted row) or the extension's
 * own rollup triggers?  Then nothing of anybody's can refuse or see a row
 * written into it directly.
 */
extern bool trackly_table_as_made(Relation rel, const TracklyColumn *columns, int ncolumns);

/* The function of the extension's rollup triggers on trackly.sends. */
#define TRACKLY_ROLLUP_FUNCTION "record_send_stats"

/*
 * Would the extension's rollup trigger fire for an INSERT into the relation
 * now (present, enabled for this session's replication role)?  A direct
 * write fires no trigger, so it then counts its rows into the rollup itself.
 */
extern bool trackly_rollup_trigger_fires(Relation rel);

/* A text datum of s[0 .. len-1]. */
extern Datum trackly_text_datum(const char *s, int len);

/* A one-dimensional array of n values, with nulls where nulls[i] is true. */
extern Datum trackly_make_array(Datum *values, bool *nulls, int n, Oid elemtype);

/*
 * Runs body(arg) in a subtransaction.  The subtransaction is kept when body
 * returns true and rolled back when it returns false (*kept tells which,
 * when kept is not NULL).  An error rolls it back too and is returned,
 * copied, in the caller's memory context; NULL when there was none.
 */
extern ErrorData *trackly_run_in_subtransaction(bool (*body) (void *arg), void *arg, bool *kept);

#endif							/* TRACKLY_SUPPORT_H */
