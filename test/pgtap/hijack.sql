-- hijack.sql: objects a caller creates cannot hijack a SECURITY DEFINER
-- function (README, Functions: SET search_path = pg_catalog, pg_temp and
-- schema-qualified references).
--
-- An unprivileged role with CREATE on public, holding trackly_admin and
-- trackly_api, puts look-alikes of what the functions use in public
-- (sha256, convert_to, left, btrim, char_length, now, unnest, max, and the
-- = operators of bigint and text, all answering wrongly), temp tables named
-- like the trackly tables (with bait rows), and pg_temp functions; then,
-- with search_path = public, pg_catalog (so its objects win over
-- pg_catalog's for its own queries), it calls every helper and the import.
--
-- The look-alikes would also fool pgTAP itself (its comparisons use = on
-- the session's search_path), so the calls run through pg_temp.outcome_of()
-- and their results are stored in a temp table; the assertions run
-- afterwards as the superuser with a clean search_path.
BEGIN;
SELECT plan(47);

CREATE ROLE trackly_test_attacker NOLOGIN;
GRANT USAGE, CREATE ON SCHEMA public TO trackly_test_attacker;
GRANT trackly_admin, trackly_api TO trackly_test_attacker;

SET LOCAL ROLE trackly_test_attacker;

-- The look-alikes in public.
CREATE FUNCTION public.sha256(bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
	AS $$SELECT '\x00000000000000000000000000000000000000000000000000000000000000ff'::bytea$$;
CREATE FUNCTION public.convert_to(text, name) RETURNS bytea LANGUAGE sql IMMUTABLE
	AS $$SELECT '\x00'::bytea$$;
CREATE FUNCTION public.left(text, integer) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$SELECT 'HIJACKED'$$;
CREATE FUNCTION public.btrim(text) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$SELECT 'not empty'$$;
CREATE FUNCTION public.char_length(text) RETURNS integer LANGUAGE sql IMMUTABLE
	AS $$SELECT 1$$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql STABLE
	AS $$SELECT '2000-01-01 00:00:00+00'::timestamptz$$;
CREATE FUNCTION public.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql IMMUTABLE
	AS $$SELECT $1[1] WHERE false$$;
CREATE AGGREGATE public.max(bigint) (sfunc = pg_catalog.int8smaller, stype = bigint);
CREATE FUNCTION public.always_true(bigint, bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT true$$;
CREATE OPERATOR public.= (leftarg = bigint, rightarg = bigint, function = public.always_true);
CREATE FUNCTION public.always_true(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT true$$;
CREATE OPERATOR public.= (leftarg = text, rightarg = text, function = public.always_true);
CREATE FUNCTION public.always_false(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT false$$;
CREATE OPERATOR public.!~ (leftarg = text, rightarg = text, function = public.always_false);

-- pg_temp is in the functions' search_path: functions there must never be picked.
CREATE FUNCTION pg_temp.sha256(bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
	AS $$SELECT '\x00000000000000000000000000000000000000000000000000000000000000ee'::bytea$$;
CREATE FUNCTION pg_temp.trackly_is_e164(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT true$$;

-- Temp tables named like the trackly tables.
CREATE TEMP TABLE accounts (id bigint, name text, created_at timestamptz);
CREATE TEMP TABLE api_keys (account_id bigint, id bigint, key_sha256 bytea, prefix text,
	created_at timestamptz, revoked_at timestamptz);
CREATE TEMP TABLE lists (account_id bigint, id bigint, phone_number text, name text, created_at timestamptz);
CREATE TEMP TABLE sends (account_id bigint, id text, list_id bigint, to_number text, message text,
	creative_id bigint, send_type text, delivered boolean, length integer, sent_at timestamptz,
	imported boolean, import_id bigint);
CREATE TEMP TABLE imports (account_id bigint, id bigint, source text, api_key_id bigint,
	created_at timestamptz, success_count integer, error_count integer,
	duplicates_skipped integer, invalid_phones integer);
CREATE TEMP TABLE import_errors (account_id bigint, import_id bigint, index integer, id text,
	code text, error text);
-- Bait: an account, a list and a forged key that exist only in the temp tables.
INSERT INTO accounts VALUES (999999999, 'fake account', '2000-01-01');

-- Runs a statement; its first column as text, or ERROR and the SQLSTATE.
CREATE FUNCTION pg_temp.outcome_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	EXECUTE sql INTO result;
	RETURN coalesce(result, '<null>');
EXCEPTION WHEN OTHERS THEN
	RETURN 'ERROR ' || SQLSTATE;
END
$$;
CREATE TEMP TABLE outcome (step serial, label text NOT NULL, result text);

SET LOCAL search_path = public, pg_catalog;

-- The look-alikes work on the attacker's own queries.
INSERT INTO outcome (label, result) VALUES
	('sanity bigint =', pg_temp.outcome_of($$SELECT (1::bigint = 2::bigint)::text$$)),
	('sanity text =', pg_temp.outcome_of($$SELECT ('a'::text = 'b'::text)::text$$)),
	('sanity now', pg_temp.outcome_of($$SELECT now()::text$$)),
	('sanity max', pg_temp.outcome_of($$SELECT max(x)::text FROM (VALUES (5::bigint), (10)) v(x)$$)),
	('sanity left', pg_temp.outcome_of($$SELECT left('trk_abcdefgh', 8)$$)),
	('sanity accounts', pg_temp.outcome_of($$SELECT name FROM accounts$$));

-- Admin helpers.
SELECT set_config('trackly_test.account', pg_temp.outcome_of($$SELECT trackly_create_account('hijack test')$$), true);
INSERT INTO lists VALUES (current_setting('trackly_test.account')::bigint, 999, '+14155559999', 'fake list', NULL);
INSERT INTO api_keys VALUES (current_setting('trackly_test.account')::bigint, 1,
	pg_catalog.sha256(pg_catalog.convert_to('trk_' || pg_catalog.repeat('A', 32), 'UTF8')), 'trk_AAAA', NULL, NULL);
SELECT set_config('trackly_test.key', pg_temp.outcome_of(
	$$SELECT trackly_create_api_key(current_setting('trackly_test.account')::bigint)$$), true);
SELECT set_config('trackly_test.key2', pg_temp.outcome_of(
	$$SELECT trackly_create_api_key(current_setting('trackly_test.account')::bigint)$$), true);
INSERT INTO outcome (label, result) VALUES
	('create_account blank name', pg_temp.outcome_of($$SELECT trackly_create_account('   ')$$)),
	('create_account long name', pg_temp.outcome_of($$SELECT trackly_create_account(repeat('x', 201))$$)),
	('create_api_key fake account', pg_temp.outcome_of($$SELECT trackly_create_api_key(999999999)$$)),
	('list 5', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, '+14155550100', 'five', 5)$$)),
	('list 10', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, NULL, 'ten', 10)$$)),
	('list auto', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, '', 'auto')$$)),
	('list other number', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, '+14155550101', 'other number')$$)),
	('list free id 20', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, NULL, 'twenty', 20)$$)),
	('list taken number', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, '+14155550100', 'again')$$)),
	('list taken id', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, NULL, 'again', 5)$$)),
	('list bad number', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, '+4402071838750', 'bad')$$)),
	('list blank name', pg_temp.outcome_of($$SELECT trackly_create_list(current_setting('trackly_test.account')::bigint, NULL, '  ')$$)),
	('list fake account', pg_temp.outcome_of($$SELECT trackly_create_list(999999999, NULL, 'x')$$)),
	('list_api_keys', pg_temp.outcome_of($$SELECT string_agg(prefix, ',' ORDER BY id) FROM trackly_list_api_keys(current_setting('trackly_test.account')::bigint)$$)),
	('is_e164 national prefix', pg_temp.outcome_of($$SELECT trackly_is_e164('+4402071838750')::text$$)),
	('is_e164 valid', pg_temp.outcome_of($$SELECT trackly_is_e164('+14155551234')::text$$)),
	('revoke malformed key', pg_temp.outcome_of($$SELECT trackly_revoke_api_key('not a key'::text)::text$$));

-- The import, by key and by account.
SELECT set_config('trackly.api_key', current_setting('trackly_test.key'), true);
INSERT INTO outcome (label, result) VALUES
	('import api', pg_temp.outcome_of($$SELECT trackly_import_sends('{"records": [
		{"id": "h-1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 5},
		{"id": "h-2", "to_number": "+14155551234", "timestamp": "2025-11-15T14:31:00Z", "list_number": "+14155550101"},
		{"id": "h-3", "to_number": "+4402071838750", "timestamp": "2025-11-15T14:32:00Z"},
		{"id": "h-1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:33:00Z"},
		{"id": "h-4", "to_number": "+14155551234", "timestamp": "2025-11-15T14:34:00Z", "list_id": 999},
		{"id": "h-5", "to_number": "+14155551234", "timestamp": "2025-11-15T14:35:00Z", "list_number": "+14155559999"},
		{"id": 6, "to_number": "+14155551234", "timestamp": "2025-11-15T14:36:00Z", "list_id": 5, "list_number": "+14155550100"}
	]}'::jsonb)::text$$)),
	('import sql', pg_temp.outcome_of($$SELECT trackly_import_sends('{"records": [
		{"id": "h-1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z"},
		{"id": "h-7", "to_number": "+14155551234", "timestamp": "2025-11-15T14:37:00Z", "list_id": 20}
	]}'::jsonb, current_setting('trackly_test.account')::bigint)::text$$)),
	('import sql fake account', pg_temp.outcome_of($$SELECT trackly_import_sends('{"records": [
		{"id": "h-8", "to_number": "+14155551234", "timestamp": "2025-11-15T14:38:00Z"}
	]}'::jsonb, 999999999)::text$$));
SELECT set_config('trackly.api_key', 'trk_' || repeat('A', 32), true);
INSERT INTO outcome (label, result) VALUES
	('import forged key', pg_temp.outcome_of($$SELECT trackly_import_sends('{"records": [
		{"id": "h-9", "to_number": "+14155551234", "timestamp": "2025-11-15T14:39:00Z"}]}'::jsonb)::text$$));

-- Revocation, by key text and by id.
INSERT INTO outcome (label, result) VALUES
	('revoke by key', pg_temp.outcome_of($$SELECT trackly_revoke_api_key(current_setting('trackly_test.key'))::text$$)),
	('revoke by id', pg_temp.outcome_of($$SELECT trackly_revoke_api_key(k.id)::text FROM trackly_list_api_keys(current_setting('trackly_test.account')::bigint) k ORDER BY k.id DESC LIMIT 1$$));
SELECT set_config('trackly.api_key', current_setting('trackly_test.key'), true);
INSERT INTO outcome (label, result) VALUES
	('import revoked key', pg_temp.outcome_of($$SELECT trackly_import_sends('{"records": [
		{"id": "h-10", "to_number": "+14155551234", "timestamp": "2025-11-15T14:40:00Z"}]}'::jsonb)::text$$));

RESET search_path;
RESET ROLE;
SET LOCAL search_path = pg_catalog, public;

CREATE FUNCTION pg_temp.result_of(l text) RETURNS text LANGUAGE sql
	AS $$SELECT result FROM pg_temp.outcome WHERE label = l$$;
CREATE FUNCTION pg_temp.response_of(l text) RETURNS jsonb LANGUAGE sql
	AS $$SELECT CASE WHEN result LIKE '{%' THEN result::jsonb END FROM pg_temp.outcome WHERE label = l$$;

-- The look-alikes were in force for the attacker's own queries (else this test proves nothing).
SELECT is(pg_temp.result_of('sanity bigint ='), 'true', 'the attacker''s bigint = hijacks its own queries');
SELECT is(pg_temp.result_of('sanity text ='), 'true', 'the attacker''s text = hijacks its own queries');
SELECT is(pg_temp.result_of('sanity now'), '2000-01-01 00:00:00+00', 'the attacker''s now() hijacks its own queries');
SELECT is(pg_temp.result_of('sanity max'), '5', 'the attacker''s max(bigint) hijacks its own queries');
SELECT is(pg_temp.result_of('sanity left'), 'HIJACKED', 'the attacker''s left() hijacks its own queries');
SELECT is(pg_temp.result_of('sanity accounts'), 'fake account', 'the attacker''s temp table accounts shadows by name');

-- Admin helpers behaved.
SELECT ok(current_setting('trackly_test.account') ~ '^[0-9]+$', 'trackly_create_account returned an id');
SELECT results_eq(
	$$SELECT name, created_at = pg_catalog.now() FROM trackly.accounts WHERE id = current_setting('trackly_test.account')::bigint$$,
	$$VALUES ('hijack test'::text, true)$$,
	'the account is in trackly.accounts with the real now() as created_at');
SELECT is(pg_temp.result_of('create_account blank name'), 'ERROR 22023', 'a blank account name is refused (btrim not hijacked)');
SELECT is(pg_temp.result_of('create_account long name'), 'ERROR 22023', 'a 201-character account name is refused (char_length not hijacked)');
SELECT is(pg_temp.result_of('create_api_key fake account'), 'ERROR 22023', 'an account only in the temp table does not exist for trackly_create_api_key');
SELECT ok(current_setting('trackly_test.key') ~ '^trk_[A-Za-z0-9]{32}$', 'trackly_create_api_key returned a real key');
SELECT results_eq(
	$$SELECT key_sha256 = sha256(convert_to(current_setting('trackly_test.key'), 'UTF8')),
	         prefix = left(current_setting('trackly_test.key'), 8)
		FROM trackly.api_keys WHERE account_id = current_setting('trackly_test.account')::bigint ORDER BY id LIMIT 1$$,
	$$VALUES (true, true)$$,
	'the stored hash is the real sha256 of the key and the prefix its first 8 characters');
SELECT is(pg_temp.result_of('list 5'), '5', 'a list with a given id keeps it');
SELECT is(pg_temp.result_of('list 10'), '10', 'a second list with a given id keeps it');
SELECT is(pg_temp.result_of('list auto'), '11', 'without an id the list gets the next id after the highest (max not hijacked)');
SELECT is(pg_temp.result_of('list other number'), '12', 'a different number is not taken (text = not hijacked)');
SELECT is(pg_temp.result_of('list free id 20'), '20', 'a free id is not taken (bigint = not hijacked)');
SELECT is(pg_temp.result_of('list taken number'), 'ERROR 23505', 'a taken number is still refused');
SELECT is(pg_temp.result_of('list taken id'), 'ERROR 23505', 'a taken id is still refused');
SELECT is(pg_temp.result_of('list bad number'), 'ERROR 22023', 'an invalid number is still refused (pg_temp.trackly_is_e164 not used)');
SELECT is(pg_temp.result_of('list blank name'), 'ERROR 22023', 'a blank list name is still refused');
SELECT is(pg_temp.result_of('list fake account'), 'ERROR 22023', 'an account only in the temp table does not exist for trackly_create_list');
SELECT is(pg_temp.result_of('list_api_keys'),
		  left(current_setting('trackly_test.key'), 8) || ',' || left(current_setting('trackly_test.key2'), 8),
		  'trackly_list_api_keys shows the real prefixes of the two keys (left not hijacked, temp api_keys ignored)');
SELECT is(pg_temp.result_of('is_e164 national prefix'), 'false', 'trackly_is_e164 still refuses +4402071838750');
SELECT is(pg_temp.result_of('is_e164 valid'), 'true', 'trackly_is_e164 still accepts +14155551234');
SELECT is(pg_temp.result_of('revoke malformed key'), 'ERROR 22023', 'a malformed key is still refused by trackly_revoke_api_key (!~ not hijacked)');
SELECT results_eq(
	$$SELECT id, phone_number, name FROM trackly.lists WHERE account_id = current_setting('trackly_test.account')::bigint ORDER BY id$$,
	$$VALUES (5::bigint, '+14155550100'::text, 'five'::text), (10, NULL, 'ten'), (11, NULL, 'auto'),
	         (12, '+14155550101', 'other number'), (20, NULL, 'twenty')$$,
	'trackly.lists holds exactly the five lists created');

-- The import behaved.
SELECT is(pg_temp.response_of('import api') - 'errors' - 'import_id',
		  '{"success_count": 3, "error_count": 3, "duplicates_skipped": 1, "invalid_phones": 1}'::jsonb,
		  'the API import counts right under the attacker''s search_path');
SELECT results_eq(
	$$SELECT (e->>'index')::int, e->>'code' FROM jsonb_array_elements(pg_temp.response_of('import api')->'errors') e$$,
	$$VALUES (2, 'invalid_phone'), (4, 'list_not_found'), (5, 'list_not_found')$$,
	'the API import finds the invalid phone and ignores the lists of the temp table');
SELECT results_eq(
	$$SELECT s.id COLLATE "default", s.list_id, s.imported FROM trackly.sends s
	   WHERE s.account_id = current_setting('trackly_test.account')::bigint ORDER BY s.id$$,
	$$VALUES ('6'::text, 5::bigint, true), ('h-1', 5, true), ('h-2', 12, true), ('h-7', 20, true)$$,
	'trackly.sends holds exactly the records that succeeded, with their lists');
SELECT is(pg_temp.response_of('import sql') - 'errors' - 'import_id',
		  '{"success_count": 1, "error_count": 0, "duplicates_skipped": 1, "invalid_phones": 0}'::jsonb,
		  'the two-argument import sees the stored id as a duplicate');
SELECT is((SELECT result FROM outcome WHERE label = 'import sql fake account'), 'ERROR 22023',
		  'an account only in the temp table is unknown to the two-argument import: ERROR 22023');
SELECT is(pg_temp.response_of('import forged key')->'errors'->0->>'code', 'invalid_api_key',
		  'a key whose hash is only in the temp api_keys is invalid');
SELECT results_eq(
	$$SELECT source, success_count::int, error_count::int, duplicates_skipped::int, invalid_phones::int
		FROM trackly.imports WHERE account_id = current_setting('trackly_test.account')::bigint ORDER BY source$$,
	$$VALUES ('api'::text, 3, 3, 1, 1), ('sql', 1, 0, 1, 0)$$,
	'trackly.imports holds one row per accepted import call');
SELECT results_eq(
	$$SELECT import_id = (pg_temp.response_of('import api')->>'import_id')::bigint, index::int, code
		FROM trackly.import_errors WHERE account_id = current_setting('trackly_test.account')::bigint ORDER BY import_id, index$$,
	$$VALUES (true, 2, 'invalid_phone'::text), (true, 4, 'list_not_found'), (true, 5, 'list_not_found')$$,
	'trackly.import_errors holds the failed records of the API import');
SELECT is((SELECT created_at FROM trackly.imports WHERE account_id = current_setting('trackly_test.account')::bigint ORDER BY id LIMIT 1),
		  pg_catalog.now(), 'the imports row has the real now() as created_at');

-- Revocation behaved.
SELECT is(pg_temp.result_of('revoke by key'), '', 'revoking by key text works');
SELECT is(pg_temp.result_of('revoke by id'), '', 'revoking by id works');
SELECT is((SELECT count(*) FROM trackly.api_keys
			WHERE account_id = current_setting('trackly_test.account')::bigint AND revoked_at = pg_catalog.now()),
		  2::bigint, 'both keys are revoked, at the real now()');
SELECT is(pg_temp.response_of('import revoked key')->'errors'->0->>'code', 'invalid_api_key',
		  'the revoked key is refused');

-- Nothing was written to, or read from, the temp tables.
SELECT is((SELECT count(*) FROM pg_temp.accounts), 1::bigint, 'the temp accounts table holds only its bait');
SELECT is((SELECT count(*) FROM pg_temp.api_keys), 1::bigint, 'the temp api_keys table holds only its bait');
SELECT is((SELECT count(*) FROM pg_temp.lists), 1::bigint, 'the temp lists table holds only its bait');
SELECT is((SELECT count(*) FROM pg_temp.sends), 0::bigint, 'the temp sends table is empty');
SELECT is((SELECT count(*) FROM pg_temp.imports), 0::bigint, 'the temp imports table is empty');
SELECT is((SELECT count(*) FROM pg_temp.import_errors), 0::bigint, 'the temp import_errors table is empty');

SELECT * FROM finish();
ROLLBACK;
