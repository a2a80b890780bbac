/*
 * import_run.c
 *		The import pipeline: the stages, in the order they run, over the
 *		records a front end (import_text.c, import_jsonb.c, import_staged.c) read.
 *
 *		import_validate       rules 1 to 7 of every record (import_validate.c)
 *		import_resolve_lists  rule 8: every list in one query (import_lists.c)
 *		import_write          duplicates and the write (import_write.c)
 *		import_record_audit   the imports and import_errors rows (import_audit.c)
 *		import_response       the response body (import_response.c)
 *
 *		A request without refused records costs a constant number of
 *		statements.
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

Jsonb *
import_run(ImportBatch *batch)
{
	int			citus = import_plan_for_citus();
	Jsonb	   *response;

	batch->on_citus = citus > 0;
	/* A call Citus delegated was given the id its coordinator drew. */
	if (batch->import_id == 0)
		batch->import_id = import_new_id();
	import_validate(batch);
	import_resolve_lists(batch);
	import_write(batch);
	import_record_audit(batch);
	response = import_response(batch);
	import_plan_done(citus);
	return response;
}
