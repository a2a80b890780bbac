/*
 * trackly_history.h
 *		What the extension's PostgreSQL-side files share.
 */
#ifndef TRACKLY_HISTORY_H
#define TRACKLY_HISTORY_H

#include "postgres.h"

#include "executor/spi.h"

/* How many characters of an offending value a message shows. */
#define TRACKLY_SHOWN_CHARS 40

/*
 * Returns s[0 .. len-1] in double quotes for a message, cut to its first
 * TRACKLY_SHOWN_CHARS characters (never inside a multibyte character) with
 * "..." when longer, and with control characters shown as '?'.
 */
extern char *trackly_quote_value(const char *s, int len);

/*
 * Prepares sql once per backend and keeps the plan in *plan.  The plan is
 * generic: every statement here is an index lookup by account, and planning
 * it again for each call would cost more than running it.
 */
extern void trackly_prepare(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes);

/*
 * Runs a kept plan (nulls as SPI_execute_plan takes them, or NULL) and raises
 * an internal error unless SPI answers with the expected SPI_OK_* code.
 */
extern void trackly_execute(SPIPlanPtr plan, Datum *values, const char *nulls, int expected);

/* The OID of a relation of the trackly schema; an error when it is missing. */
extern Oid	trackly_relation_oid(const char *name);

#endif							/* TRACKLY_HISTORY_H */
