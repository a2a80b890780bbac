/* trackly_history--0.6.0--0.7.0.sql: the send report's counts and answer in C */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.7.0'" to load this file. \quit

-- The counts of a report and its answer (src/report_counts.c): the rollup's
-- hour rows in one range scan, the quarter-hour rows of the hours a boundary
-- splits, trackly.sends for the quarter hours it splits or for a report by
-- list or creative; each row added to its period and keys, the groups
-- sorted, the answer built as jsonb.
CREATE FUNCTION trackly.report_counts(account_id bigint, group_by text[], imported boolean,
									  low timestamptz, high timestamptz, periods date[], starts timestamptz[])
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_report_counts'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION trackly.report_counts(bigint, text[], boolean, timestamptz, timestamptz, date[], timestamptz[]) IS
	'the answer of a report of an account''s sends from low to high (exclusive), by the periods (starts: the first instant of each) and the keys of group_by, of imported history (true), live sends (false) or both (NULL)';
REVOKE ALL ON FUNCTION trackly.report_counts(bigint, text[], boolean, timestamptz, timestamptz, date[], timestamptz[])
	FROM PUBLIC;

-- A report for an account.  STABLE: every statement sees the one snapshot
-- the call began with, so a report shows all or nothing of an import or a
-- clear that commits while it runs.  The request is checked here, the
-- local periods found (trackly.report_periods), and trackly.report_counts
-- reads and answers.
CREATE OR REPLACE FUNCTION trackly.report_run(body jsonb, account_id bigint) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	first_hour timestamptz;
	last_hour timestamptz;
	low timestamptz;
	high timestamptz;
	p record;
BEGIN
	SELECT * INTO r FROM trackly.report_request(body);
	IF r.code IS NOT NULL THEN
		RETURN trackly.request_failure('report', r.code, 400, r.error);
	END IF;

	-- Periods only where the account has sends: a range of centuries costs
	-- what its sends' span costs.
	SELECT min(s.bucket), max(s.bucket) INTO first_hour, last_hour
	  FROM trackly.send_stats s
	 WHERE s.account_id = report_run.account_id AND s.hourly;
	low := greatest(r.range_from, first_hour);
	high := least(r.range_to, last_hour + interval '1 hour');
	IF first_hour IS NULL OR low >= high THEN
		low := r.range_from;
		high := r.range_from;
	END IF;
	SELECT * INTO p FROM trackly.report_periods(r.time_zone, r.unit, low, high);
	RETURN trackly.report_counts(account_id, r.group_by, r.imported, low, high, p.periods, p.starts);
END
$$;
