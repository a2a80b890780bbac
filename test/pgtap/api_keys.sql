-- api_keys.sql: API keys (README, Functions and Decisions).
-- Their shape and randomness, that only their sha256 is stored, listing and
-- revoking them, the errors of the helpers (which never show a key), and
-- how the one-argument import finds and checks the key: request.headers'
-- x-api-key when that setting is set and not empty, else trackly.api_key.
BEGIN;
SELECT plan(80);

-- Runs a statement; NULL when it succeeds, else its SQLSTATE and every text of
-- the error (the context without its last line, this function's own EXECUTE).
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
	context text;
BEGIN
	EXECUTE sql;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT, context = PG_EXCEPTION_CONTEXT;
	-- The caller's own statement, which may hold a key it wrote itself, is not the error's.
	context := regexp_replace(context, E'(^|\n)SQL statement "[^\n]*"\nPL/pgSQL function pg_temp[^\n]*$', '');
	RETURN concat_ws(' | ', state, message, detail, hint, context);
END
$$;

-- The tables (of schema trackly) holding the text anywhere in a row.
CREATE FUNCTION pg_temp.tables_holding(needle text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	rel regclass;
	found boolean;
BEGIN
	FOR rel IN SELECT c.oid FROM pg_catalog.pg_class c
				WHERE c.relnamespace = 'trackly'::regnamespace AND c.relkind IN ('r', 'p') LOOP
		EXECUTE format('SELECT EXISTS (SELECT FROM %s t WHERE strpos(t::text, $1) > 0)', rel)
			INTO found USING needle;
		IF found THEN
			RETURN NEXT rel::text;
		END IF;
	END LOOP;
END
$$;

-- A request body with one valid record of that id.
CREATE FUNCTION pg_temp.body(id text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('records', jsonb_build_array(jsonb_build_object(
		'id', id, 'to_number', '+14155551234', 'timestamp', '2025-11-15T14:30:00Z')))
$$;

-- The API import of a one-record body, with the given key settings (NULL: leave as it is).
CREATE FUNCTION pg_temp.import_as(api_key text, headers text, id text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	IF api_key IS NOT NULL THEN
		PERFORM set_config('trackly.api_key', api_key, true);
	END IF;
	IF headers IS NOT NULL THEN
		PERFORM set_config('request.headers', headers, true);
	END IF;
	PERFORM set_config('response.status', '', true);
	RETURN trackly_import_sends(pg_temp.body(id));
END
$$;

-- The header object PostgREST would set for an X-Api-Key.
CREATE FUNCTION pg_temp.headers(key text) RETURNS text LANGUAGE sql AS $$
	SELECT jsonb_build_object('x-api-key', key, 'content-type', 'application/json', 'accept', '*/*')::text
$$;

CREATE TEMP TABLE t (name text PRIMARY KEY, value text);
INSERT INTO t VALUES ('account_a', trackly_create_account('keys A')::text),
					 ('account_b', trackly_create_account('keys B')::text),
					 ('account_c', trackly_create_account('keys C, no key')::text);
INSERT INTO t VALUES ('key_a', trackly_create_api_key((SELECT value FROM t WHERE name = 'account_a')::bigint)),
					 ('key_b', trackly_create_api_key((SELECT value FROM t WHERE name = 'account_b')::bigint));
CREATE FUNCTION pg_temp.v(n text) RETURNS text LANGUAGE sql AS $$SELECT value FROM t WHERE name = n$$;

-- 1. Shape and storage.
SELECT ok(pg_temp.v('key_a') ~ '^trk_[A-Za-z0-9]{32}$', 'a key is trk_ and 32 ASCII letters or digits');
SELECT is(octet_length(pg_temp.v('key_a')), 36, 'a key is 36 bytes long');
SELECT is_empty(format('SELECT pg_temp.tables_holding(%L)', pg_temp.v('key_a')),
				'no table of schema trackly holds the key text');
SELECT is_empty(format('SELECT pg_temp.tables_holding(%L)', substr(pg_temp.v('key_a'), 5)),
				'no table of schema trackly holds the key''s 32 random characters');
SELECT is_empty(format('SELECT pg_temp.tables_holding(%L)', encode(convert_to(pg_temp.v('key_a'), 'UTF8'), 'hex')),
				'no table of schema trackly holds the key in hex');
SELECT results_eq(
	format($$SELECT key_sha256 = sha256(convert_to(%L, 'UTF8')), prefix, created_at = now(), revoked_at
			   FROM trackly.api_keys WHERE account_id = %s$$, pg_temp.v('key_a'), pg_temp.v('account_a')),
	format($$VALUES (true, %L::text, true, NULL::timestamptz)$$, left(pg_temp.v('key_a'), 8)),
	'the stored row holds sha256(key), the first 8 characters as prefix, created_at now, not revoked');
SELECT is(length((SELECT prefix FROM trackly.api_keys WHERE account_id = pg_temp.v('account_a')::bigint)), 8,
		  'the prefix is trk_ and 4 characters');

-- 2. Randomness: 100 keys.
INSERT INTO t SELECT 'many_' || i, trackly_create_api_key(pg_temp.v('account_c')::bigint) FROM generate_series(1, 100) i;
SELECT is((SELECT count(DISTINCT value) FROM t WHERE name LIKE 'many\_%'), 100::bigint, '100 new keys are all distinct');
SELECT is((SELECT count(*) FROM t WHERE name LIKE 'many\_%' AND value ~ '^trk_[A-Za-z0-9]{32}$'), 100::bigint,
		  '100 new keys all have the right shape');
SELECT is((SELECT count(DISTINCT key_sha256) FROM trackly.api_keys WHERE account_id = pg_temp.v('account_c')::bigint),
		  100::bigint, '100 new keys have 100 distinct hashes');
SELECT is((SELECT count(DISTINCT c) FROM t, regexp_split_to_table(substr(value, 5), '') c WHERE name LIKE 'many\_%'),
		  62::bigint, 'the 3,200 random characters of 100 keys use all 62 letters and digits');
SELECT cmp_ok((SELECT max(n) FROM (SELECT count(*) n FROM t, regexp_split_to_table(substr(value, 5), '') c
									WHERE name LIKE 'many\_%' GROUP BY c) x), '<', 110::bigint,
			  'no character dominates the random part (each expected about 52 times in 3,200)');

-- 3. Listing.
SELECT is(pg_get_function_result('trackly_list_api_keys(bigint)'::regprocedure),
		  'TABLE(id bigint, prefix text, created_at timestamp with time zone, revoked_at timestamp with time zone)',
		  'trackly_list_api_keys returns id, prefix, created_at, revoked_at');
SELECT results_eq(
	format('SELECT id, prefix, created_at, revoked_at FROM trackly_list_api_keys(%s)', pg_temp.v('account_a')),
	format('SELECT id, prefix, created_at, revoked_at FROM trackly.api_keys WHERE account_id = %s ORDER BY id', pg_temp.v('account_a')),
	'trackly_list_api_keys shows the account''s key');
SELECT is((SELECT count(*) FROM trackly_list_api_keys(pg_temp.v('account_c')::bigint)), 100::bigint,
		  'trackly_list_api_keys shows every key of the account and no other account''s');
SELECT is((SELECT prefix FROM trackly_list_api_keys(pg_temp.v('account_b')::bigint)), left(pg_temp.v('key_b'), 8),
		  'trackly_list_api_keys shows the prefix, the first 8 characters of the key');
SELECT is_empty(format($$SELECT FROM trackly_list_api_keys(%s) k WHERE k::text LIKE '%%' || %L || '%%'$$,
					   pg_temp.v('account_b'), substr(pg_temp.v('key_b'), 9)),
				'trackly_list_api_keys never shows more of the key than its prefix');
SELECT is_empty(format('SELECT * FROM trackly_list_api_keys(%s)', trackly_create_account('keys D, none')),
				'an account without keys lists none');
SELECT throws_ok('SELECT * FROM trackly_list_api_keys(-1)', '22023', 'account -1 does not exist',
				 'trackly_list_api_keys of an unknown account raises 22023');
SELECT throws_ok('SELECT * FROM trackly_list_api_keys(NULL)', '22004', NULL,
				 'trackly_list_api_keys(NULL) raises 22004');

-- 4. Errors of the helpers, which never show a key.
SELECT throws_ok('SELECT trackly_create_api_key(-1)', '22023', 'account -1 does not exist',
				 'trackly_create_api_key of an unknown account raises 22023');
SELECT throws_ok('SELECT trackly_create_api_key(NULL)', '22004', NULL,
				 'trackly_create_api_key(NULL) raises 22004');
SELECT throws_ok('SELECT trackly_revoke_api_key(-1::bigint)', '22023', NULL,
				 'revoking an unknown key id raises 22023');
SELECT throws_ok('SELECT trackly_revoke_api_key(NULL::bigint)', '22004', NULL,
				 'revoking the key id NULL raises 22004');
INSERT INTO t VALUES ('unknown_key', 'trk_' || repeat('Zz9', 10) || 'Q7');
SELECT throws_ok(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('unknown_key')), '22023', NULL,
				 'revoking an unknown (well-formed) key raises 22023');
SELECT ok(strpos(pg_temp.error_of(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('unknown_key'))),
				 substr(pg_temp.v('unknown_key'), 5)) = 0,
		  'the error for an unknown key does not show it');
SELECT throws_ok(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('key_a') || 'x'), '22023', NULL,
				 'revoking a malformed key (37 characters) raises 22023');
SELECT ok(strpos(pg_temp.error_of(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('key_a') || 'x')),
				 substr(pg_temp.v('key_a'), 5)) = 0,
		  'the error for a malformed key does not show it');
SELECT throws_ok($$SELECT trackly_revoke_api_key('hunter2-secret'::text)$$, '22023', NULL,
				 'revoking something that is no key raises 22023');
SELECT ok(strpos(pg_temp.error_of($$SELECT trackly_revoke_api_key('hunter2-secret'::text)$$), 'hunter2') = 0,
		  'the error for something that is no key does not show it');
SELECT ok(pg_temp.error_of('SELECT trackly_revoke_api_key(NULL::text)') ~ '^22004 ',
		  'revoking the key NULL raises 22004');
SELECT is((SELECT count(*) FROM trackly.api_keys WHERE revoked_at IS NOT NULL), 0::bigint,
		  'failed revocations revoked nothing');

-- 5. Authentication.  request.headers is not set yet in this session.
SELECT is(current_setting('request.headers', true), NULL, 'request.headers starts unset');
SELECT results_eq(
	$$SELECT r->>'success_count', r->>'error_count', r->'import_id' <> 'null'::jsonb
		FROM pg_temp.import_as(pg_temp.v('key_a'), NULL, 'auth-1') r$$,
	$$VALUES ('1', '0', true)$$,
	'without request.headers, the key of trackly.api_key is used');
SELECT is(coalesce(current_setting('response.status', true), ''), '', 'a successful import sets no response.status');
SELECT results_eq(
	$$SELECT i.source, i.api_key_id = k.id, s.id COLLATE "default"
		FROM trackly.sends s
		JOIN trackly.imports i ON i.account_id = s.account_id AND i.id = s.import_id
		JOIN trackly.api_keys k ON k.account_id = s.account_id
	   WHERE s.account_id = pg_temp.v('account_a')::bigint$$,
	$$VALUES ('api'::text, true, 'auth-1'::text)$$,
	'the send went to the key''s account, by an api import that records the key used');

-- request.headers set: only its x-api-key counts.
SELECT is(pg_temp.import_as(pg_temp.v('key_a'), pg_temp.headers(pg_temp.v('key_b')), 'auth-2')->>'success_count', '1',
		  'with request.headers, its x-api-key is used');
SELECT is((SELECT account_id FROM trackly.sends WHERE id = 'auth-2')::text, pg_temp.v('account_b'),
		  'x-api-key wins over trackly.api_key: the send went to the header key''s account');
SELECT is(pg_temp.import_as(pg_temp.v('key_a'), '{"content-type": "application/json"}', 'auth-3')->'errors'->0->>'code',
		  'missing_api_key',
		  'with request.headers set but no x-api-key, a valid trackly.api_key is ignored: missing_api_key');
SELECT is(current_setting('response.status', true), '401', 'missing_api_key sets response.status 401');
SELECT is(pg_temp.import_as(NULL, '{"x-api-key": ""}', 'auth-4')->'errors'->0->>'code', 'missing_api_key',
		  'an empty x-api-key is missing_api_key');
SELECT is(pg_temp.import_as(NULL, pg_temp.headers('trk_short'), 'auth-5')->'errors'->0->>'code', 'invalid_api_key',
		  'a malformed x-api-key is invalid_api_key');
SELECT is(pg_temp.import_as(pg_temp.v('key_a'), '', 'auth-6')->>'success_count', '1',
		  'an empty request.headers falls back to trackly.api_key');
SELECT is((SELECT account_id FROM trackly.sends WHERE id = 'auth-6')::text, pg_temp.v('account_a'),
		  'the fallback imported into trackly.api_key''s account');

-- A request.headers that is not JSON is refused without quoting it (jsonb's
-- own error would show the text around the bad token, key included).
SELECT ok(strpos(coalesce(pg_temp.error_of(format(
			  $$SELECT set_config('request.headers', %L, true), trackly_import_sends(pg_temp.body('bad-headers'))$$,
			  '{"x-api-key": "' || pg_temp.v('key_a') || '", oops}')), 'no error'),
				 substr(pg_temp.v('key_a'), 5)) = 0,
		  'a request.headers that is not JSON does not get its x-api-key echoed in the error');
SELECT set_config('request.headers', '', true);

-- The refused requests: code, import_id null, counts 0, one error with null index and id, 401.
CREATE TEMP TABLE refused (label text PRIMARY KEY, key text, response jsonb, status text);
CREATE FUNCTION pg_temp.refuse(label text, api_key text, headers text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := pg_temp.import_as(api_key, headers, 'refused-' || label);
BEGIN
	INSERT INTO refused VALUES (label, coalesce(api_key, headers), r, current_setting('response.status', true));
END
$$;
SELECT pg_temp.refuse('no key', '', '');
SELECT pg_temp.refuse('short', 'trk_abc', '');
SELECT pg_temp.refuse('long', pg_temp.v('key_a') || 'X', '');
SELECT pg_temp.refuse('lower prefix', 'TRK_' || substr(pg_temp.v('key_a'), 5), '');
SELECT pg_temp.refuse('trailing space', pg_temp.v('key_a') || ' ', '');
SELECT pg_temp.refuse('leading space', ' ' || pg_temp.v('key_a'), '');
SELECT pg_temp.refuse('non ascii', 'trk_' || repeat('é', 32), '');
SELECT pg_temp.refuse('punctuation', 'trk_' || repeat('a-', 16), '');
SELECT pg_temp.refuse('unknown', pg_temp.v('unknown_key'), '');
SELECT pg_temp.refuse('unknown header', pg_temp.v('unknown_key'), pg_temp.headers(pg_temp.v('unknown_key')));

SELECT results_eq(
	$$SELECT label, response->'errors'->0->>'code' FROM refused ORDER BY label$$,
	$$VALUES ('leading space', 'invalid_api_key'), ('long', 'invalid_api_key'), ('lower prefix', 'invalid_api_key'),
	         ('no key', 'missing_api_key'), ('non ascii', 'invalid_api_key'), ('punctuation', 'invalid_api_key'),
	         ('short', 'invalid_api_key'), ('trailing space', 'invalid_api_key'), ('unknown', 'invalid_api_key'),
	         ('unknown header', 'invalid_api_key')$$,
	'missing, malformed and unknown keys get missing_api_key or invalid_api_key');
SELECT is_empty($$SELECT label FROM refused WHERE status IS DISTINCT FROM '401'$$,
				'every refused key sets response.status 401');
SELECT is_empty($$SELECT label, response FROM refused
				   WHERE response - 'errors' <> '{"success_count": 0, "error_count": 0, "duplicates_skipped": 0,
													 "invalid_phones": 0, "import_id": null}'::jsonb$$,
				'every refused key answers all counts 0 and import_id null');
SELECT is_empty($$SELECT label, response FROM refused
				   WHERE jsonb_array_length(response->'errors') <> 1
					  OR response->'errors'->0->'index' <> 'null'::jsonb
					  OR response->'errors'->0->'id' <> 'null'::jsonb
					  OR coalesce(response->'errors'->0->>'error', '') = ''$$,
				'every refused key answers one error with null index and id and a message');
SELECT is_empty($$SELECT label FROM refused
				   WHERE length(trim(key)) > 4 AND strpos(response::text, substr(trim(key), 5)) > 0$$,
				'no refusal echoes the key');
SELECT is_empty($$SELECT label FROM refused r WHERE strpos(r.response::text, substr(pg_temp.v('key_a'), 5)) > 0$$,
				'no refusal echoes the valid key it was derived from');
SELECT is((SELECT count(*) FROM trackly.sends WHERE id LIKE 'refused-%'), 0::bigint, 'refused requests store no send');
SELECT is((SELECT count(*) FROM trackly.imports), 3::bigint, 'refused requests record no import (3 accepted so far)');

-- Authentication comes before the body.
SELECT set_config('request.headers', '', true);
SELECT set_config('trackly.api_key', '', true);
SELECT is(trackly_import_sends(NULL)->'errors'->0->>'code', 'missing_api_key',
		  'a NULL body without key is missing_api_key, not invalid_body');
SELECT is(trackly_import_sends('[1, 2]')->'errors'->0->>'code', 'missing_api_key',
		  'a non-object body without key is missing_api_key');
SELECT set_config('trackly.api_key', 'trk_nope', true);
SELECT is(trackly_import_sends('{"records": []}')->'errors'->0->>'code', 'invalid_api_key',
		  'an empty records array with a malformed key is invalid_api_key');
SELECT set_config('trackly.api_key', pg_temp.v('key_a'), true);
SELECT set_config('response.status', '', true);
SELECT is(trackly_import_sends(NULL)->'errors'->0->>'code', 'invalid_body', 'with a valid key, a NULL body is invalid_body');
SELECT is(current_setting('response.status', true), '400', 'invalid_body sets response.status 400');

-- 6. Revocation by id.
INSERT INTO t VALUES ('key_a2', trackly_create_api_key(pg_temp.v('account_a')::bigint));
INSERT INTO t SELECT 'key_a2_id', id::text FROM trackly.api_keys
			   WHERE key_sha256 = sha256(convert_to(pg_temp.v('key_a2'), 'UTF8'));
SELECT is(pg_temp.import_as(pg_temp.v('key_a2'), '', 'rev-1')->>'success_count', '1', 'a second key of the account works');
SELECT lives_ok(format('SELECT trackly_revoke_api_key(%s::bigint)', pg_temp.v('key_a2_id')), 'revoking a key by id');
SELECT is((SELECT revoked_at FROM trackly.api_keys WHERE id = pg_temp.v('key_a2_id')::bigint), now(),
		  'the key is revoked now');
SELECT is((SELECT revoked_at FROM trackly_list_api_keys(pg_temp.v('account_a')::bigint) WHERE id = pg_temp.v('key_a2_id')::bigint),
		  now(), 'trackly_list_api_keys shows revoked_at');
SELECT set_config('response.status', '', true);
SELECT is(pg_temp.import_as(pg_temp.v('key_a2'), '', 'rev-2')->'errors'->0->>'code', 'invalid_api_key',
		  'a key revoked by id is invalid_api_key');
SELECT is(current_setting('response.status', true), '401', 'a revoked key sets response.status 401');
SELECT ok(strpos(pg_temp.import_as(pg_temp.v('key_a2'), '', 'rev-2')::text, substr(pg_temp.v('key_a2'), 5)) = 0,
		  'the answer to a revoked key does not echo it');
SELECT is(pg_temp.import_as(pg_temp.v('key_a'), '', 'rev-3')->>'success_count', '1',
		  'revoking one key leaves the account''s other key working');
-- Revoking twice keeps the first time (set it back, as if revoked earlier).
UPDATE trackly.api_keys SET revoked_at = '2020-01-01 00:00:00+00' WHERE id = pg_temp.v('key_a2_id')::bigint;
SELECT lives_ok(format('SELECT trackly_revoke_api_key(%s::bigint)', pg_temp.v('key_a2_id')),
				'revoking a revoked key by id again succeeds');
SELECT is((SELECT revoked_at FROM trackly.api_keys WHERE id = pg_temp.v('key_a2_id')::bigint),
		  '2020-01-01 00:00:00+00'::timestamptz, 'revoking by id twice keeps the first revoked_at');
SELECT lives_ok(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('key_a2')),
				'revoking a revoked key by key text again succeeds');
SELECT is((SELECT revoked_at FROM trackly.api_keys WHERE id = pg_temp.v('key_a2_id')::bigint),
		  '2020-01-01 00:00:00+00'::timestamptz, 'revoking by key text after by id keeps the first revoked_at');

-- 7. Revocation by key text.
SELECT lives_ok(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('key_b')), 'revoking a key by its text');
SELECT is((SELECT revoked_at FROM trackly.api_keys WHERE account_id = pg_temp.v('account_b')::bigint), now(),
		  'the key is revoked now');
SELECT is(pg_temp.import_as(pg_temp.v('key_b'), '', 'rev-4')->'errors'->0->>'code', 'invalid_api_key',
		  'a key revoked by text is invalid_api_key through trackly.api_key');
SELECT is(pg_temp.import_as('', pg_temp.headers(pg_temp.v('key_b')), 'rev-5')->'errors'->0->>'code', 'invalid_api_key',
		  'a key revoked by text is invalid_api_key through x-api-key');
UPDATE trackly.api_keys SET revoked_at = '2021-06-01 00:00:00+00' WHERE account_id = pg_temp.v('account_b')::bigint;
SELECT lives_ok(format('SELECT trackly_revoke_api_key(%L::text)', pg_temp.v('key_b')), 'revoking by text twice succeeds');
SELECT is((SELECT revoked_at FROM trackly.api_keys WHERE account_id = pg_temp.v('account_b')::bigint),
		  '2021-06-01 00:00:00+00'::timestamptz, 'revoking by text twice keeps the first revoked_at');
SELECT is((SELECT count(*) FROM trackly.api_keys WHERE revoked_at IS NOT NULL), 2::bigint,
		  'only the two keys asked for are revoked');
SELECT is((SELECT count(*) FROM trackly.sends WHERE id LIKE 'rev-%'), 2::bigint,
		  'only the imports with unrevoked keys stored sends');

-- 8. A revoked key stays out of every table in clear, too.
SELECT is_empty(format('SELECT pg_temp.tables_holding(%L)', substr(pg_temp.v('key_b'), 5)),
				'no table holds a revoked key''s random characters');
SELECT is_empty(format($$SELECT pg_temp.tables_holding(v) FROM (SELECT substr(value, 5) v FROM t WHERE name LIKE 'many\_%%') x$$),
				'no table holds any of the 100 keys'' random characters');

SELECT * FROM finish();
ROLLBACK;
