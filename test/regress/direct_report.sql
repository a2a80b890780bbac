-- direct_report(body, account): the report as a direct query over
-- trackly.sends (date_trunc of the local time of each send), in the
-- response's shape, that sql/report.sql and sql/report_property.sql compare
-- every report with.
CREATE FUNCTION direct_report(body jsonb, account bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	keys text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(nullif(body->'group_by', 'null'), '[]')));
	tz text := trackly.time_zone_name(coalesce(body->>'time_zone', 'UTC'));
	k text;
	cols text := '';
	fields text := '';
	ord text := '';
	result jsonb;
BEGIN
	FOREACH k IN ARRAY keys LOOP
		cols := cols || CASE k WHEN 'send_type' THEN ', send_type COLLATE "C" AS send_type' ELSE ', ' || k END;
		fields := fields || format(', %L, g.%I', k, k);
		ord := ord || format(', g.%I NULLS LAST', k);
	END LOOP;
	EXECUTE format($q$
		SELECT jsonb_build_object(
			'rows', coalesce(jsonb_agg(jsonb_build_object('period', g.period%s, 'sends', g.sends,
				'delivered', g.delivered, 'undelivered', g.undelivered,
				'unknown', g.sends - g.delivered - g.undelivered,
				'delivery_rate', round(g.delivered::numeric / nullif(g.delivered + g.undelivered, 0), 4))
				ORDER BY g.period%s), '[]'),
			'totals', jsonb_build_object('sends', coalesce(sum(g.sends), 0), 'delivered', coalesce(sum(g.delivered), 0),
				'undelivered', coalesce(sum(g.undelivered), 0),
				'unknown', coalesce(sum(g.sends - g.delivered - g.undelivered), 0),
				'delivery_rate', round(sum(g.delivered) / nullif(sum(g.delivered + g.undelivered), 0), 4)),
			'errors', '[]'::jsonb)
		  FROM (SELECT date_trunc($5, sent_at AT TIME ZONE $6)::date AS period%s, count(*) AS sends,
					   count(*) FILTER (WHERE delivered) AS delivered, count(*) FILTER (WHERE NOT delivered) AS undelivered
				  FROM trackly.sends
				 WHERE account_id = $1 AND sent_at >= $2 AND sent_at < $3 AND ($4 IS NULL OR imported = $4)
				 GROUP BY 1%s) g$q$,
		fields, ord, cols, regexp_replace(cols, ' COLLATE "C" AS send_type', '', 'g'))
	  INTO result
	  USING account, trackly_iso8601(body->>'from'), trackly_iso8601(body->>'to'),
			(nullif(body->'imported', 'null'))::boolean, body->>'interval', tz;
	RETURN result;
END
$$;
