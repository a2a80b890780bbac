-- The upgrade chain: install the first release, use it, update step by step
-- to the current version, and compare with a fresh install of it.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
RESET client_min_messages;
SET TimeZone = 'UTC';

SELECT version FROM pg_available_extension_versions
 WHERE name = 'trackly_history' ORDER BY string_to_array(version, '.')::int[];
SELECT source, target, path FROM pg_extension_update_paths('trackly_history')
 WHERE path IS NOT NULL ORDER BY source, target;

-- What the extension owns, one line per fact, comparable between databases.
CREATE FUNCTION extension_catalog() RETURNS SETOF text LANGUAGE sql AS $$
	SELECT pg_describe_object(d.classid, d.objid, d.objsubid) || coalesce(
		(SELECT format(' secdef=%s volatile=%s strict=%s parallel=%s config=%s acl=%s body=%s',
					   p.prosecdef, p.provolatile, p.proisstrict, p.proparallel, p.proconfig,
					   p.proacl, md5(p.prosrc))
		   FROM pg_proc p WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid),
		(SELECT format(' kind=%s acl=%s', c.relkind, c.relacl)
		   FROM pg_class c WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid),
		(SELECT format(' acl=%s', n.nspacl)
		   FROM pg_namespace n WHERE d.classid = 'pg_namespace'::regclass AND n.oid = d.objid),
		'')
	  FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
	 WHERE e.extname = 'trackly_history' AND d.deptype = 'e'
	UNION ALL
	SELECT format('column %s.%s %s not null=%s default=%s collation=%s', a.attrelid::regclass, a.attname,
				  format_type(a.atttypid, a.atttypmod), a.attnotnull,
				  pg_get_expr(ad.adbin, ad.adrelid), a.attcollation::regcollation)
	  FROM pg_attribute a
	  JOIN pg_class c ON c.oid = a.attrelid AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'trackly')
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	 WHERE a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
	  FROM pg_constraint WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'trackly')
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
	 WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'trackly')
	UNION ALL
	SELECT 'dumped ' || x::regclass::text
	  FROM pg_extension e, unnest(e.extconfig) x WHERE e.extname = 'trackly_history'
	UNION ALL
	SELECT format('role %s login=%s', rolname, rolcanlogin)
	  FROM pg_roles WHERE rolname IN ('trackly_api', 'trackly_admin')
$$;

CREATE EXTENSION trackly_history VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'trackly_history';
-- A user's table that depends on the first release's validators.
CREATE TABLE contacts (phone text CHECK (trackly_is_e164(phone)),
					   seen timestamptz DEFAULT trackly_iso8601('2025-11-15T14:30:00Z'));
INSERT INTO contacts (phone) VALUES ('+14155551234');

ALTER EXTENSION trackly_history UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'trackly_history';
-- This library under 0.2.0's SQL: its validators keep 0.2.0's verdicts.
SELECT trackly_is_iso8601('1998-12-31T23:59:60Z') AS leap_second_before_update;
-- History imported under 0.2.0: import ids from its sequence.
SELECT trackly_create_account('Upgraded Co') AS account \gset
SELECT trackly_import_sends(
	'{"records": [{"id": "u1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z"},
				  {"id": "u2", "to_number": "bad", "timestamp": "2025-11-15T14:30:00Z"}]}',
	:account) AS response;
-- 0.2.0's rule let in numbers written with a kept national prefix: in a
-- user's table, in list numbers, and in sends its library stored.
INSERT INTO contacts (phone) VALUES ('+4903012345678');
SELECT trackly_create_list(:account, '+4903012345678', 'Berlin, kept 0') AS berlin,
	   trackly_create_list(:account, '+810312345678', 'Tokyo, kept 0') AS tokyo,
	   trackly_create_list(:account, '+14155551234', 'San Francisco') AS sf;
INSERT INTO trackly.sends (account_id, id, to_number, sent_at, imported)
	VALUES (:account, 'stored-by-0.2.0', '+810312345678', '2025-11-15T14:30:00Z', true);
-- The same subscriber in two lists, and a number whose E.164 form keeps a
-- prefix too: the update stops and says which lists to fix.
SELECT trackly_create_list(:account, '+493012345678', 'Berlin, E.164') AS berlin_again,
	   trackly_create_list(:account, '+200000000000', 'No valid form') AS no_form;
CREATE TABLE before_update AS
	SELECT 'sends' AS t, s::text AS r FROM trackly.sends s
	UNION ALL SELECT 'imports', (i.account_id, i.id, i.source, i.success_count, i.error_count)::text FROM trackly.imports i
	UNION ALL SELECT 'import_errors', (e.account_id, e.import_id, e.index, e.id, e.code, e.error)::text FROM trackly.import_errors e
	UNION ALL SELECT 'accounts', (a.id, a.name, a.created_at)::text FROM trackly.accounts a
	UNION ALL SELECT 'lists', (l.account_id, l.id, l.name)::text FROM trackly.lists l;

ALTER EXTENSION trackly_history UPDATE;
UPDATE trackly.lists SET phone_number = NULL WHERE account_id = :account AND name = 'Berlin, E.164';
ALTER EXTENSION trackly_history UPDATE;
UPDATE trackly.lists SET phone_number = NULL WHERE account_id = :account AND name = 'No valid form';
ALTER EXTENSION trackly_history UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'trackly_history';

-- After the update the validators follow the new rule.
SELECT trackly_is_iso8601('1998-12-31T23:59:60Z') AS leap_second_after_update;
-- The user's table and data lived through the update, and the new version works.
INSERT INTO contacts (phone) VALUES ('+1 415');
SELECT phone, seen = '2025-11-15 14:30:00+00' AS seen_ok FROM contacts;
-- Every row of 0.2.0 is kept as it was.
SELECT count(*) AS rows_before,
	   count(*) FILTER (WHERE r IN (SELECT s::text FROM trackly.sends s
								   UNION ALL SELECT (i.account_id, i.id, i.source, i.success_count, i.error_count)::text FROM trackly.imports i
								   UNION ALL SELECT (e.account_id, e.import_id, e.index, e.id, e.code, e.error)::text FROM trackly.import_errors e
								   UNION ALL SELECT (a.id, a.name, a.created_at)::text FROM trackly.accounts a
								   UNION ALL SELECT (l.account_id, l.id, l.name)::text FROM trackly.lists l)) AS kept
  FROM before_update;
-- List numbers now hold their E.164 form; the send stored by 0.2.0 is kept
-- as it was, and the README's queries find it and the user's value.
SELECT id, name, phone_number FROM trackly.lists WHERE account_id = :account ORDER BY id;
SELECT account_id = :account AS own, id, to_number, trackly.phone_e164_form(to_number) AS e164_form
  FROM trackly.sends WHERE NOT trackly_is_e164(to_number);
SELECT phone, trackly.phone_e164_form(phone) AS e164_form FROM contacts WHERE NOT trackly_is_e164(phone);
-- The user's CHECK follows the new rule from now on.
INSERT INTO contacts (phone) VALUES ('+810312345678');
SELECT trackly_is_valid_phone('+14155551234') AS valid_phone_exists,
	   (SELECT phone_validation FROM trackly.accounts WHERE id = :account) AS mode;
DROP TABLE before_update;
-- A replay finds the old row; the new import id is of 0.3.0's kind, above 0.2.0's.
SELECT trackly_import_sends(
	'{"records": [{"id": "u1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z"},
				  {"id": "u3", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z"}]}',
	:account) - 'import_id' AS response;
SELECT count(*) AS imports, min(id) AS first_id, max(id) >= 4503599627370496 AS new_id_above_2_52
  FROM trackly.imports WHERE account_id = :account;
-- 0.6.0 on history made by 0.2.0: the errors of its import (id 1) page by
-- page, and a clear of a send it stored, logged.
SELECT trackly_import_errors('{"import_id": 1}', :account) AS errors_of_the_0_2_0_import;
-- The update filled the rollup from the sends stored before it, once each.
SELECT trackly_report('{"from": "2025-11-15T00:00:00Z", "to": "2025-11-16T00:00:00Z", "interval": "day"}', :account)->'totals'
	   AS report_of_the_history,
	   (SELECT count(*) FROM trackly.sends WHERE account_id = :account) AS sends,
	   (SELECT sum(sends) FROM trackly.send_stats WHERE account_id = :account AND NOT hourly) AS in_the_rollup;
-- 0.7.0 counts and answers a report in C: the same history by send type.
SELECT trackly_report('{"from": "2025-11-15T00:00:00Z", "to": "2025-11-16T00:00:00Z", "interval": "day", "group_by": ["send_type"]}', :account)->'rows'
	   AS report_by_send_type;
SELECT trackly_clear_history('{"import_id": 1, "ids": ["u1", "u3"]}', :account) AS cleared;
SELECT id FROM trackly.sends WHERE account_id = :account ORDER BY id;
SELECT source, filters, deleted_count FROM trackly.history_clears;

CREATE TABLE upgraded AS SELECT extension_catalog() AS fact;
DROP TABLE contacts;
SET client_min_messages = warning;
DROP EXTENSION trackly_history;
RESET client_min_messages;
CREATE EXTENSION trackly_history;
CREATE TABLE fresh AS SELECT extension_catalog() AS fact;

-- Both ways round, nothing differs.
SELECT 'only after the update: ' || fact AS difference FROM (TABLE upgraded EXCEPT TABLE fresh) x
UNION ALL
SELECT 'only in a fresh install: ' || fact FROM (TABLE fresh EXCEPT TABLE upgraded) y;
SELECT count(*) > 40 AS compared_enough FROM fresh;
DROP TABLE upgraded, fresh;
