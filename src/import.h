/*
 * import.h
 *		The import pipeline: a front end reads a request into an ImportBatch;
 *		the stages validate it, resolve its lists, write it, record it and
 *		answer it.
 *
 * A front end (the body as JSON text of import_text.c, as jsonb of
 * import_jsonb.c; a staging table of import_staged.c) only
 * fills each record's index, kind and fields; every rule of the import
 * lives in the stages (import_validate.c, import_lists.c, import_write.c,
 * import_audit.c, import_response.c, run in order by import_run.c), which
 * never see where a record came from.  Below both: the records themselves
 * (import_record.c) and what every file shares (support.c).
 */
#ifndef TRACKLY_IMPORT_H
#define TRACKLY_IMPORT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "e164.h"

/* Most records a request may hold. */
#define IMPORT_MAX_RECORDS 1000
/* Most characters of an id that the response and import_errors show. */
#define IMPORT_SHOWN_ID_CHARS 255
/* Most failed records the response lists (all are recorded). */
#define IMPORT_MAX_LISTED_ERRORS 100

/* What a front end found in one place of a record. */
typedef enum FieldKind
{
	FIELD_ABSENT = 0,
	FIELD_NULL,
	FIELD_STRING,
	FIELD_NUMBER,				/* a numeric, integral or not */
	FIELD_INTEGER,				/* an int64 a typed front end already has */
	FIELD_TIMESTAMP,			/* an instant a typed front end already has */
	FIELD_BOOL,
	FIELD_OBJECT,
	FIELD_ARRAY
} FieldKind;

typedef struct ImportField
{
	FieldKind	kind;
	int			len;			/* FIELD_STRING: its length in bytes */
	union
	{
		const char *str;		/* FIELD_STRING: not NUL-terminated */
		Numeric		num;		/* FIELD_NUMBER */
		int64		integer;	/* FIELD_INTEGER */
		TimestampTz instant;	/* FIELD_TIMESTAMP: may be infinite */
		bool		boolean;	/* FIELD_BOOL */
	};
} ImportField;

/* The fields of a record, in the order rule 7 checks them. */
typedef enum ImportFieldId
{
	F_ID,
	F_TO_NUMBER,
	F_TIMESTAMP,
	F_LIST_ID,
	F_LIST_NUMBER,
	F_CREATIVE_ID,
	F_LENGTH,
	F_MESSAGE,
	F_SEND_TYPE,
	F_DELIVERED,
	IMPORT_NFIELDS
} ImportFieldId;

/* A field's name in a record, with its length. */
typedef struct ImportFieldName
{
	const char *name;
	int			len;
} ImportFieldName;

extern const ImportFieldName import_field_names[IMPORT_NFIELDS];

/* The field a record's key (len bytes) names, or -1 for a key the import ignores. */
extern int	import_field_of_key(const char *key, int len);

/* Where a record ended; the failures are the response's codes. */
typedef enum ImportOutcome
{
	OUTCOME_PENDING = 0,		/* passed every rule so far */
	OUTCOME_STORED_OR_DUPLICATE,	/* written, or its id was already there */
	OUTCOME_DUPLICATE,			/* its id is stored, or an earlier record's */
	OUTCOME_INVALID_RECORD,
	OUTCOME_MISSING_ID,
	OUTCOME_MISSING_TO_NUMBER,
	OUTCOME_MISSING_TIMESTAMP,
	OUTCOME_INVALID_PHONE,
	OUTCOME_INVALID_TIMESTAMP,
	OUTCOME_INVALID_FIELD,
	OUTCOME_LIST_NOT_FOUND,
	OUTCOME_SAVE_ERROR
} ImportOutcome;

#define OUTCOME_IS_FAILURE(o) ((o) >= OUTCOME_INVALID_RECORD)

typedef struct ImportRecord
{
	/* filled by the front end */
	int64		index;			/* 0-based position in the request (for a
								 * staging table, in the source's order) */
	FieldKind	kind;			/* FIELD_OBJECT for a proper record */
	ImportField fields[IMPORT_NFIELDS];

	/* filled by the stages */
	ImportOutcome outcome;
	char	   *error;			/* a sentence for a person, for a failure */
	const char *shown_id;		/* a failure's id as shown (NULL: none) */
	int			shown_id_len;
	const char *id;				/* the id as stored: the string, or the
								 * integer's decimal text */
	int			id_len;
	int64		list_id;		/* 0: no list */
	int64		creative_id;	/* 0: not given */
	int32		length;			/* -1: not given */
	int64		sent_at;		/* microseconds since 2000-01-01 UTC */
} ImportRecord;

typedef struct ImportBatch
{
	MemoryContext cxt;			/* holds the batch; gone after the call */
	int64		account_id;
	const char *source;			/* "api", "sql" or "staged" */
	int64		api_key_id;		/* 0: no key (not the api source) */
	E164Rule	phone_rule;		/* the account's phone validation (rule 5) */
	int			nrecords;
	ImportRecord *records;
	int64		index_base;		/* added to each record's index (a slice's
								 * first row in a longer load) */
	Datum	   *source_rows;	/* for each record, its source row as jsonb
								 * (a staging table's), or NULL */
	bool		never_wait;		/* the write gives up rather than wait */
	bool		on_citus;		/* trackly.sends is a Citus table */
	bool		gave_up;		/* ... and it did: the caller rolls back */

	/* filled by the stages */
	int64		import_id;
	int			success_count;
	int			error_count;
	int			duplicates_skipped;
	int			invalid_phones;
} ImportBatch;

/* A failed record as a response lists it, copied out of its batch. */
typedef struct ImportListedFailure
{
	int64		index;
	char	   *id;				/* NULL: none */
	int			id_len;
	const char *code;
	char	   *error;
} ImportListedFailure;

/* What a response says: the counts of all batches, the first failures. */
typedef struct ImportSummary
{
	int64		import_id;
	int64		success_count;
	int64		error_count;
	int64		duplicates_skipped;
	int64		invalid_phones;
	int			nlisted;
	ImportListedFailure listed[IMPORT_MAX_LISTED_ERRORS];
} ImportSummary;

/* A request refused as a whole: nothing is imported or recorded. */
typedef struct ImportFailure
{
	const char *code;			/* e.g. "missing_records" */
	int			http_status;	/* e.g. 400 */
	char	   *message;		/* a sentence for a person */
} ImportFailure;

/* Optional fields: given unless absent or null. */
static inline bool
import_field_given(const ImportField *f)
{
	return f->kind != FIELD_ABSENT && f->kind != FIELD_NULL;
}

/* Marks rec failed, with a message formatted in the batch's context. */
extern void import_fail(ImportBatch *batch, ImportRecord *rec, ImportOutcome outcome,
						const char *fmt,...) pg_attribute_printf(4, 5);

/* The response's code of a failure (invalid_phone, ...). */
extern const char *import_outcome_code(ImportOutcome outcome);

/*
 * The decimal text of a whole-valued number field (42, 4.2e1, 42.0,
 * 4200e-2: "42"; not 42.5), as JSON Schema defines integers, or NULL when
 * the field is no such number.
 */
extern char *import_field_integer_text(const ImportField *f);

/*
 * Room for n records (n <= IMPORT_MAX_RECORDS), kept from call to call so
 * that a large request does not map fresh memory each time; zeroed, unless
 * the front end zeroes each record it fills (one that learns n only at the
 * end asks for IMPORT_MAX_RECORDS).
 */
extern ImportRecord *import_records_buffer(int n, bool zeroed);

/* Gives the buffer back at the end of a call. */
extern void import_release_records(ImportRecord *records);

/* Deepest nesting of arrays and objects a raw body may have. */
#define IMPORT_MAX_BODY_DEPTH 64

/*
 * A raw request body (bytes, as HTTP sends them) made jsonb: false, with
 * *failure set (invalid_body), when it is not UTF-8, nests deeper than
 * IMPORT_MAX_BODY_DEPTH, or is not JSON.
 */
extern bool import_parse_body(const char *s, int len, Jsonb **body, ImportFailure *failure);

/*
 * Front end: a staging table or view (import_staged.c), read as the caller,
 * written as the owner of trackly.sends, one import for all its rows;
 * order_by (NULL: none) names the columns the rows are read in the order
 * of; the first row's index is index_base (a slice of a longer load).
 * Returns the response; bad arguments raise ERRORs.  The caller is not
 * connected to SPI.
 */
extern Jsonb *import_staged(Oid relid, int64 account_id, ArrayType *order_by, int64 index_base);

/* Defines trackly.progress_seconds; called once from _PG_init. */
extern void import_staged_define_settings(void);

/* Front end: the jsonb body.  False, with *failure set, for a bad request. */
extern bool import_read_jsonb(Jsonb *body, ImportBatch *batch, ImportFailure *failure);

/*
 * Front end: the body as len bytes of JSON text, read without making it
 * jsonb.  False, with the batch as it was, for any body it leaves to the
 * jsonb front end (a request to refuse among them).
 */
extern bool import_read_text(const char *text, int len, ImportBatch *batch);

/*
 * Does the account exist?  If so, *phone_rule receives the rule its imports
 * check phone numbers by (trackly_set_phone_validation).  The caller is
 * connected to SPI, with the search_path pinned (the plan is kept).
 */
extern bool import_account_phone_rule(int64 account_id, E164Rule *phone_rule);

/*
 * When Citus distributes trackly.sends, the rest of the call plans the
 * import's statements with their parameters' values (import_record.c says
 * why); returns what import_plan_done takes, 0 when nothing changed.  The
 * caller is connected to SPI.
 */
extern int	import_plan_for_citus(void);
extern void import_plan_done(int guc_nest_level);

/*
 * Is trackly.sends (or, while an account's shards are in use, what stands
 * for it) a Citus distributed table?  The caller is connected to SPI.
 */
extern bool import_sends_distributed(void);

/*
 * Is this a Citus coordinator that runs imports where the account's shards
 * are (trackly.import_in_shard, import_citus.c)?  Then import_delegate runs
 * there the import of a batch read from body_text (the request body as JSON
 * text) and returns its response.  The caller is connected to SPI.
 */
extern bool import_delegating(void);
extern Jsonb *import_delegate(const char *body_text, ImportBatch *batch);

/*
 * The import of trackly.import_in_shard: the batch (account, source, key,
 * phone rule and import id set by the coordinator) read from the body (JSON
 * text the coordinator has read) and run, into the account's shards when
 * this node holds them.
 */
extern Jsonb *import_in_shard(const char *body_text, ImportBatch *batch);

/* The id of a new import (import_id.c); the caller is connected to SPI. */
extern int64 import_new_id(void);

/* The stages, in order; the caller is connected to SPI. */
extern void import_validate(ImportBatch *batch);
extern void import_resolve_lists(ImportBatch *batch);
extern void import_write(ImportBatch *batch);
extern void import_record_audit(ImportBatch *batch);
extern Jsonb *import_response(ImportBatch *batch);

/*
 * The audit and the response of an import made of several batches (a
 * staging table's): each batch's counts (import_count_outcomes), its
 * import_errors rows (import_record_errors) and its first failures
 * (import_summarize, copied into cxt); last, the imports row and the
 * response of the whole.
 */
extern void import_count_outcomes(ImportBatch *batch);
extern void import_record_errors(ImportBatch *batch);
extern void import_summarize(ImportSummary *summary, const ImportBatch *batch, MemoryContext cxt);
extern void import_record_import(const ImportBatch *batch, const ImportSummary *summary);
extern Jsonb *import_summary_response(ImportSummary *summary);

/*
 * Runs every stage on a batch a front end has read, under a new import id
 * unless the batch has one.
 */
extern Jsonb *import_run(ImportBatch *batch);

/* The response to a refused request; sets response.status for PostgREST. */
extern Jsonb *import_failure_response(const ImportFailure *failure);

#endif							/* TRACKLY_IMPORT_H */
