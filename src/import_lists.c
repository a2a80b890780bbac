/*
 * import_lists.c
 *		Stage 2 of an import: rule 8, every list of the request in one query.
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
 * Stage 2: lists (rule 8)
 * ------------------------------------------------------------------------ */

typedef struct ListRow
{
	int64		id;
	const char *number;			/* NULL: the list has no number */
} ListRow;

static int
list_row_cmp_id(const void *a, const void *b)
{
	int64		x = ((const ListRow *) a)->id;
	int64		y = ((const ListRow *) b)->id;

	return (x > y) - (x < y);
}

static int
list_row_cmp_number(const void *a, const void *b)
{
	const char *x = ((const ListRow *) a)->number;
	const char *y = ((const ListRow *) b)->number;

	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static int
field_cmp(const void *a, const void *b)
{
	const ImportField *x = *(const ImportField *const *) a;
	const ImportField *y = *(const ImportField *const *) b;
	int			c = memcmp(x->str, y->str, Min(x->len, y->len));

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * The distinct list ids and list numbers the pending records name, as the
 * query's array parameters: a request names a few lists many times.
 */
static void
distinct_list_keys(ImportBatch *batch, Datum *params)
{
	int64	   *ids = palloc(sizeof(int64) * batch->nrecords);
	const ImportField **numbers = palloc(sizeof(ImportField *) * batch->nrecords);
	Datum	   *values = palloc(sizeof(Datum) * batch->nrecords);
	int			nids = 0;
	int			nnumbers = 0;
	int			n = 0;
	int			i;

	for (i = 0; i < batch->nrecords; i++)
	{
		ImportRecord *rec = &batch->records[i];

		if (rec->outcome != OUTCOME_PENDING)
			continue;
		if (rec->list_id != 0)
			ids[nids++] = rec->list_id;
		if (import_field_given(&rec->fields[F_LIST_NUMBER]))
			numbers[nnumbers++] = &rec->fields[F_LIST_NUMBER];
	}
	qsort(ids, nids, sizeof(int64), int64_cmp);
	for (i = 0; i < nids; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			values[n++] = Int64GetDatum(ids[i]);
	params[1] = trackly_make_array(values, NULL, n, INT8OID);

	qsort(numbers, nnumbers, sizeof(ImportField *), field_cmp);
	n = 0;
	for (i = 0; i < nnumbers; i++)
		if (i == 0 || field_cmp(&numbers[i], &numbers[i - 1]) != 0)
			values[n++] = trackly_text_datum(numbers[i]->str, numbers[i]->len);
	params[2] = trackly_make_array(values, NULL, n, TEXTOID);
}

void
import_resolve_lists(ImportBatch *batch)
{
	static SPIPlanPtr plan = NULL;
	bool		any = false;
	ListRow    *by_id;
	ListRow    *by_number;
	int			nrows;
	Datum		params[3];
	int			i;

	for (i = 0; i < batch->nrecords && !any; i++)
	{
		ImportRecord *rec = &batch->records[i];

		any = rec->outcome == OUTCOME_PENDING &&
			(rec->list_id != 0 || import_field_given(&rec->fields[F_LIST_NUMBER]));
	}
	if (!any)
		return;

	trackly_prepare(&plan,
					"SELECT l.id, l.phone_number FROM trackly.lists l"
					" WHERE l.account_id = $1"
					"   AND (l.id = ANY ($2) OR l.phone_number = ANY ($3))",
					3, (Oid[]) {INT8OID, INT8ARRAYOID, TEXTARRAYOID});
	params[0] = Int64GetDatum(batch->account_id);
	distinct_list_keys(batch, params);
	trackly_execute(plan, params, NULL, SPI_OK_SELECT);

	nrows = (int) SPI_processed;
	by_id = palloc(sizeof(ListRow) * Max(nrows, 1));
	for (i = 0; i < nrows; i++)
	{
		bool		isnull;

		by_id[i].id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		by_id[i].number = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
	by_number = palloc(sizeof(ListRow) * Max(nrows, 1));
	memcpy(by_number, by_id, sizeof(ListRow) * nrows);
	qsort(by_id, nrows, sizeof(ListRow), list_row_cmp_id);
	qsort(by_number, nrows, sizeof(ListRow), list_row_cmp_number);

	for (i = 0; i < batch->nrecords; i++)
	{
		ImportRecord *rec = &batch->records[i];
		const ImportField *number = &rec->fields[F_LIST_NUMBER];
		ListRow		key;
		ListRow    *found_id = NULL;
		ListRow    *found_number = NULL;

		if (rec->outcome != OUTCOME_PENDING)
			continue;
		if (rec->list_id != 0)
		{
			key.id = rec->list_id;
			found_id = bsearch(&key, by_id, nrows, sizeof(ListRow), list_row_cmp_id);
			if (found_id == NULL)
			{
				import_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"No list of this account has list_id " INT64_FORMAT ".", rec->list_id);
				continue;
			}
		}
		if (import_field_given(number))
		{
			key.number = pnstrdup(number->str, number->len);
			found_number = bsearch(&key, by_number, nrows, sizeof(ListRow), list_row_cmp_number);
			if (found_number == NULL)
			{
				import_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"No list of this account has list_number \"%s\".", key.number);
				continue;
			}
			if (found_id != NULL && found_id->id != found_number->id)
			{
				import_fail(batch, rec, OUTCOME_LIST_NOT_FOUND,
							"list_id " INT64_FORMAT " and list_number \"%s\" name different lists: that number is list " INT64_FORMAT "'s.",
							rec->list_id, key.number, found_number->id);
				continue;
			}
			rec->list_id = found_number->id;
		}
	}
}
