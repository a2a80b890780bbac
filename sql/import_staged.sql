-- trackly_import_sends_from: a staging table or view, one import.  Columns
-- matched by name and type; every per-record rule; duplicates within the
-- source and against stored rows; more rows than one batch; order_by; read as
-- the caller, written as the owner; a failure part-way keeps nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
DROP SCHEMA IF EXISTS import_staged CASCADE;
DROP ROLE IF EXISTS trackly_test_dba;
RESET client_min_messages;
CREATE SCHEMA import_staged;
SET search_path = import_staged, public;
SET TimeZone = 'UTC';
-- Progress notices come every few seconds of a long import: none here.
SET client_min_messages = warning;

SELECT trackly_create_account('Staged Co') AS account \gset
SELECT trackly_create_list(:account, '+14155551234', 'Main', 42) AS list_42;

-- A staging table as COPY ... FROM a CSV leaves it: text columns, empty strings.
CREATE TABLE staging (id text, list_id text, list_number text, to_number text, message text,
					  creative_id text, send_type text, delivered text, length text, timestamp text,
					  campaign text);
INSERT INTO staging VALUES
	('s1', '42', '', '+12025559876', 'hello', '101', 'campaign', 'true', '5', '2025-11-15T14:30:00Z', 'x'),
	('s2', '', '+14155551234', '+13105558888', '', '', '', 'f', '', '2025-11-15 14:31:00', NULL),
	('s3', '', '', '+12025559876', NULL, '', NULL, '', '', '2025-11-15T14:32:00+01:00', NULL),
	-- every rule, first failure wins
	('', '', '', '+12025559876', NULL, '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	('f2', '', '', '', NULL, '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	('f3', '', '', '+12025559876', NULL, '', NULL, '', '', '', NULL),
	('f4', '', '', '+1415', NULL, '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	('f5', '', '', '+12025559876', NULL, '', NULL, '', '', '2025-02-29T10:00:00Z', NULL),
	('f6', 'forty-two', '', '+12025559876', NULL, '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	('f7', '42.5', '', '+12025559876', NULL, '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	('f8', '', '', '+12025559876', NULL, '', NULL, 'maybe', '', '2025-11-15T14:30:00Z', NULL),
	('f9', '', '', '+12025559876', NULL, '', '', '', '', '2025-11-15T14:30:00Z', NULL),
	('f10', '', '', '+12025559876', NULL, '', NULL, '', '-1', '2025-11-15T14:30:00Z', NULL),
	('f11', '7', '', '+12025559876', NULL, '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	-- duplicates within the source: the first valid record of an id counts
	('s1', '', '', '+12025559876', 'again', '', NULL, '', '', '2025-11-15T14:30:00Z', NULL),
	('f4', '', '', '+12025559876', 'f4 the second time, valid', '', NULL, '', '', '2025-11-15T14:30:00Z', NULL);

SELECT r - 'errors' - 'import_id' AS counts, jsonb_array_length(r->'errors') AS listed
  FROM trackly_import_sends_from('staging', :account) r;
SELECT index, id, code, error FROM trackly.import_errors WHERE account_id = :account ORDER BY index;
SELECT id, list_id, to_number, message, creative_id, send_type, delivered, length, sent_at
  FROM trackly.sends WHERE account_id = :account ORDER BY id;
-- A failure keeps its source row, values as the source holds them.
SELECT source_row FROM trackly.import_errors WHERE account_id = :account AND id = 'f8';
SELECT source, success_count, error_count, duplicates_skipped, invalid_phones
  FROM trackly.imports WHERE account_id = :account;

-- Again: the stored rows are duplicates; order_by fixes the indexes.
SELECT r - 'errors' - 'import_id' AS counts, r->'errors'->0->'index' AS first_failure_index
  FROM trackly_import_sends_from('staging', :account, '{id, to_number}') r;

-- A view maps other names and types; domains count as their base types.
CREATE DOMAIN phone AS text;
CREATE TABLE legacy (msg_id bigint, phone phone, sent timestamptz, list numeric, ok boolean, body varchar(20));
INSERT INTO legacy VALUES
	(1001, '+12025559876', '2025-11-15 14:30:00+00', 42, true, 'typed'),
	(1002, '+12025559876', 'infinity', NULL, NULL, NULL),
	(1003, '+12025559876', '2025-11-15 14:30:00+00', 42.5, NULL, NULL),
	(1004, '+12025559876', '2025-11-15 14:30:00+00', 0, NULL, NULL);
CREATE VIEW legacy_sends AS
	SELECT msg_id AS id, phone AS to_number, sent AS timestamp, list AS list_id, ok AS delivered, body AS message
	  FROM legacy;
SELECT r - 'import_id' AS response FROM trackly_import_sends_from('legacy_sends', :account) r;
SELECT id, list_id, delivered, message, sent_at FROM trackly.sends WHERE account_id = :account AND id LIKE '100%';

-- A partitioned table and a materialized view are sources too.
CREATE TABLE parted (id text, to_number text, timestamp text, region int) PARTITION BY LIST (region);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2);
INSERT INTO parted SELECT 'p' || g, '+12025559876', '2025-11-15T14:30:00Z', 1 + g % 2 FROM generate_series(1, 10) g;
SELECT r - 'errors' - 'import_id' AS counts FROM trackly_import_sends_from('parted', :account) r;
CREATE MATERIALIZED VIEW frozen AS SELECT 'm' || g AS id, '+12025559876' AS to_number,
										  '2025-11-15T14:30:00Z'::timestamptz AS timestamp FROM generate_series(1, 5) g;
SELECT r - 'errors' - 'import_id' AS counts FROM trackly_import_sends_from('frozen', :account) r;

-- More rows than one batch (1,000), with duplicates across batches; a
-- progress notice after every batch (the rate is in its detail, hidden here).
CREATE TABLE big AS SELECT 'b' || (g % 2200) AS id, '+12025559876' AS to_number,
						   '2025-11-15T14:30:00Z' AS timestamp FROM generate_series(1, 2500) g;
ANALYZE big;
SET trackly.progress_seconds = 0;
SET client_min_messages = notice;
\set VERBOSITY terse
SELECT r - 'errors' - 'import_id' AS counts FROM trackly_import_sends_from('big', :account) r;
\set VERBOSITY default
SET client_min_messages = warning;
RESET trackly.progress_seconds;

-- Refused before anything is read: a missing or a wrongly typed column, an
-- unknown order_by column, an unknown account, NULLs, no SELECT right.
CREATE TABLE no_id (to_number text, timestamp text);
SELECT trackly_import_sends_from('no_id', :account);
CREATE TABLE bad_type (id text, to_number text, timestamp date);
SELECT trackly_import_sends_from('bad_type', :account);
CREATE TABLE bad_message (id text, to_number text, timestamp text, message integer);
SELECT trackly_import_sends_from('bad_message', :account);
SELECT trackly_import_sends_from('staging', :account, '{nope}');
SELECT trackly_import_sends_from('staging', 999999);
SELECT trackly_import_sends_from(NULL, :account);
CREATE SEQUENCE not_a_table;
SELECT trackly_import_sends_from('not_a_table', :account);

-- As a DBA role: reads as itself (no SELECT: refused), writes as the owner.
CREATE ROLE trackly_test_dba;
GRANT trackly_admin TO trackly_test_dba;
GRANT USAGE ON SCHEMA import_staged TO trackly_test_dba;
CREATE FUNCTION import_staged.who() RETURNS text LANGUAGE sql AS 'SELECT current_user::text';
CREATE VIEW whose AS SELECT 'w' || who() AS id, '+12025559876' AS to_number, '2025-11-15T14:30:00Z' AS timestamp;
SET ROLE trackly_test_dba;
SELECT trackly_import_sends_from('staging', :account);
RESET ROLE;
GRANT SELECT ON whose TO trackly_test_dba;
GRANT EXECUTE ON FUNCTION import_staged.who() TO trackly_test_dba;
SET ROLE trackly_test_dba;
SELECT r->'success_count' AS stored FROM trackly_import_sends_from('import_staged.whose', :account) r;
RESET ROLE;
-- The view's function ran as the caller, not as the owner.
SELECT id FROM trackly.sends WHERE account_id = :account AND id LIKE 'w%';

-- A cancelled import keeps nothing.
CREATE TABLE slow AS SELECT 'c' || g AS id, '+12025559876' AS to_number, '2025-11-15T14:30:00Z' AS timestamp
					   FROM generate_series(1, 20000) g;
SET statement_timeout = '5ms';
-- (terse: where the cancel lands, and so its CONTEXT, varies)
\set VERBOSITY terse
SELECT trackly_import_sends_from('slow', :account);
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS rows_kept FROM trackly.sends WHERE account_id = :account AND id LIKE 'c%';

-- A failure part-way (a row the view cannot compute) keeps nothing.
CREATE TABLE half (n int);
INSERT INTO half SELECT g FROM generate_series(1, 1500) g;
CREATE VIEW breaks AS SELECT 'h' || n AS id, '+12025559876' AS to_number,
							 '2025-11-15T14:30:00Z' AS timestamp, (1 / (1400 - n))::text AS message FROM half;
SELECT count(*) AS imports_before FROM trackly.imports WHERE account_id = :account \gset
SELECT trackly_import_sends_from('breaks', :account);
SELECT count(*) FILTER (WHERE id LIKE 'h%') AS rows_kept,
	   (SELECT count(*) FROM trackly.imports WHERE account_id = :account) - :imports_before AS imports_kept
  FROM trackly.sends WHERE account_id = :account;

-- The committing procedure: slices of batch_rows rows, each its own import,
-- indexes counted across the load.  Physical order for a plain table...
SELECT trackly_create_account('Loaded Co') AS loaded \gset
CALL trackly_load_sends('big', :loaded, batch_rows => 1000);
SELECT count(*) AS imports, sum(success_count) AS stored, sum(duplicates_skipped) AS duplicates,
	   bool_and(source = 'staged') AS staged
  FROM trackly.imports WHERE account_id = :loaded;
-- ... a key for a view; a failure part-way (an error that is not a row's,
-- from a trigger of the user's on trackly.sends, at the 1,499th row) keeps
-- the slices before it, and calling again finishes the load (stored rows
-- come back as duplicates).
CREATE VIEW numbered AS SELECT n, 'k' || n AS id, '+12025559876' AS to_number,
							   '2025-11-15T14:30:00Z' AS timestamp,
							   CASE WHEN n % 500 = 0 THEN 'bad' END AS list_id FROM half;
CREATE FUNCTION import_staged.stop_at_k1500() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.id = 'k1499' THEN
		RAISE EXCEPTION 'the disk is full (a stand-in)' USING ERRCODE = '53100';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER stop_at_k1500 BEFORE INSERT ON trackly.sends
	FOR EACH ROW EXECUTE FUNCTION import_staged.stop_at_k1500();
CALL trackly_load_sends('numbered', :loaded, '{n}', 1000);
SELECT count(*) AS rows_kept FROM trackly.sends WHERE account_id = :loaded AND id LIKE 'k%';
DROP TRIGGER stop_at_k1500 ON trackly.sends;
CALL trackly_load_sends('numbered', :loaded, '{n}', 1000);
SELECT count(*) AS rows_stored FROM trackly.sends WHERE account_id = :loaded AND id LIKE 'k%';
SELECT success_count, error_count, duplicates_skipped FROM trackly.imports i
 WHERE account_id = :loaded AND EXISTS (SELECT FROM trackly.sends s WHERE s.account_id = :loaded
											AND s.import_id = i.id AND s.id LIKE 'k%')
 ORDER BY created_at, success_count;
-- The failures' indexes count across the slices: n - 1.
SELECT DISTINCT index, id FROM trackly.import_errors WHERE account_id = :loaded AND id LIKE 'k%' ORDER BY index;
-- Refused: a view without order_by, a key that is not unique, an unknown column, batch_rows 0.
CALL trackly_load_sends('numbered', :loaded);
CALL trackly_load_sends('staging', :loaded, '{to_number}');
CALL trackly_load_sends('staging', :loaded, '{nope}');
CALL trackly_load_sends('big', :loaded, NULL, 0);
CALL trackly_load_sends('big', 999999);

-- The account's phone validation holds for staged rows too.
SELECT trackly_create_account('Strict Co') AS strict \gset
SELECT trackly_set_phone_validation(:strict, 'valid');
CREATE TABLE strict_staging (id text, to_number text, "timestamp" text);
INSERT INTO strict_staging VALUES ('s1', '+14155551234', '2025-11-15T14:30:00Z'),
	('s2', '+12001234567', '2025-11-15T14:30:00Z'), ('s3', '+810312345678', '2025-11-15T14:30:00Z');
SELECT r->'success_count' AS stored, jsonb_path_query_array(r, '$.errors[*].error') AS errors
  FROM trackly_import_sends_from('strict_staging', :strict) r;

SET client_min_messages = warning;
DROP SCHEMA import_staged CASCADE;
DROP ROLE trackly_test_dba;
