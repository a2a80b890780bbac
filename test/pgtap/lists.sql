-- lists.sql: trackly_create_list (README, Functions) and how the import
-- resolves list_id / list_number within the account (rule 8).
BEGIN;
SELECT plan(51);

-- Runs a statement; NULL when it succeeds, else "SQLSTATE: message".
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE TEMP TABLE acct (name text PRIMARY KEY, id bigint NOT NULL);
INSERT INTO acct VALUES ('a', trackly_create_account('lists A')), ('b', trackly_create_account('lists B')),
						('c', trackly_create_account('lists C')), ('d', trackly_create_account('lists D'));
CREATE FUNCTION pg_temp.acct(n text) RETURNS bigint LANGUAGE sql AS $$SELECT id FROM acct WHERE name = n$$;

-- 1. Ids: given ones are kept; otherwise a free one of the account.
SELECT is(trackly_create_list(pg_temp.acct('a'), '+14155550001', 'A one', 1), 1::bigint, 'a given id is kept (1)');
SELECT is(trackly_create_list(pg_temp.acct('a'), NULL, 'A seven', 7), 7::bigint, 'a given id is kept (7)');
SELECT is(trackly_create_list(pg_temp.acct('a'), NULL, 'A big', 9000000000000), 9000000000000::bigint,
		  'a given id beyond 32 bits is kept');
SELECT is(trackly_create_list(pg_temp.acct('b'), '+14155550002', 'B one', 1), 1::bigint,
		  'another account can have list 1 too: ids are per account');
SELECT is(trackly_create_list(pg_temp.acct('b'), '+14155550003', 'B three', 3), 3::bigint, 'B gets list 3');
SELECT results_eq(
	$$SELECT account_id, id, phone_number, name FROM trackly.lists ORDER BY account_id, id$$,
	format($$VALUES (%1$s::bigint, 1::bigint, '+14155550001'::text, 'A one'::text), (%1$s, 7, NULL, 'A seven'),
	                (%1$s, 9000000000000, NULL, 'A big'),
	                (%2$s, 1, '+14155550002', 'B one'), (%2$s, 3, '+14155550003', 'B three')$$,
		   pg_temp.acct('a'), pg_temp.acct('b')),
	'trackly.lists holds the lists with the given ids, numbers and names');

SELECT is(trackly_create_list(pg_temp.acct('c'), NULL, 'C first'), 1::bigint,
		  'without an id, the first list of an account gets id 1');
CREATE TEMP TABLE auto_ids AS
SELECT trackly_create_list(pg_temp.acct('c'), NULL, 'C auto ' || i) AS id FROM generate_series(1, 5) i;
SELECT is((SELECT count(DISTINCT id) FROM auto_ids WHERE id > 1), 5::bigint,
		  'five lists without an id get five distinct free ids');
SELECT is((SELECT count(*) FROM trackly.lists WHERE account_id = pg_temp.acct('c')), 6::bigint,
		  'account C has its six lists');
SELECT ok((SELECT id FROM trackly.lists WHERE account_id = pg_temp.acct('a') AND name = 'A seven') = 7
		  AND trackly_create_list(pg_temp.acct('a'), NULL, 'A auto') NOT IN (1, 7, 9000000000000),
		  'without an id, account A gets an id it does not use yet');
SELECT is(trackly_create_list(pg_temp.acct('b'), NULL, 'B auto') NOT IN (1, 3), true,
		  'without an id, account B gets an id free in B (ids of A do not matter)');
SELECT is(trackly_create_list(pg_temp.acct('d'), NULL, 'D max', 9223372036854775807), 9223372036854775807::bigint,
		  'the largest bigint is a valid list id');
SELECT ok((SELECT id BETWEEN 1 AND 9223372036854775806 FROM (SELECT trackly_create_list(pg_temp.acct('d'), NULL, 'D after max') AS id) x),
		  'with the largest bigint taken, a list without an id still gets a free id');
SELECT is((SELECT count(DISTINCT id) FROM trackly.lists WHERE account_id = pg_temp.acct('d')), 2::bigint,
		  'account D has two distinct lists');

-- 2. Phone numbers.
SELECT throws_ok(format($$SELECT trackly_create_list(%s, '+1415', 'too short')$$, pg_temp.acct('a')),
				 '22023', 'phone_number ''+1415'' is not a valid E.164 number: +1 (US) national numbers have 10 digits, not 3',
				 'an invalid list number is refused with the import''s explanation');
SELECT throws_ok($$SELECT trackly_create_account(NULL)$$, '22004', 'an account name is NULL',
				 'a NULL account name is 22004');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, '+4402071838750', 'national prefix')$$, pg_temp.acct('a')),
				 '22023', NULL, 'a number with a national prefix (+4402071838750) is refused with 22023');
SELECT throws_like(format($$SELECT trackly_create_list(%s, '+4402071838750', 'national prefix')$$, pg_temp.acct('a')),
				   '%+4402071838750%E.164%', 'the message names the number and E.164');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, '12345', 'no plus')$$, pg_temp.acct('a')),
				 '22023', NULL, 'a number without + (12345) is refused with 22023');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, ' +14155551234', 'space')$$, pg_temp.acct('a')),
				 '22023', NULL, 'a number with a leading space is refused with 22023');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, '+1 415 555 1234', 'spaces')$$, pg_temp.acct('a')),
				 '22023', NULL, 'a number with inner spaces is refused with 22023');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, '+999123456', 'unassigned')$$, pg_temp.acct('a')),
				 '22023', NULL, 'a number with an unassigned country code is refused with 22023');
SELECT is(trackly_create_list(pg_temp.acct('a'), NULL, 'A null number', 20), 20::bigint, 'a NULL number is accepted');
SELECT is(trackly_create_list(pg_temp.acct('a'), '', 'A empty number', 21), 21::bigint, 'an empty number is accepted');
SELECT results_eq(
	format('SELECT id, phone_number FROM trackly.lists WHERE account_id = %s AND id IN (20, 21) ORDER BY id', pg_temp.acct('a')),
	$$VALUES (20::bigint, NULL::text), (21, NULL)$$,
	'a NULL or empty number is stored as NULL: the list has no number');
SELECT is((SELECT count(*) FROM trackly.lists WHERE account_id = pg_temp.acct('a') AND phone_number IS NULL), 5::bigint,
		  'many lists of an account may have no number');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, '+14155550001', 'A again')$$, pg_temp.acct('a')),
				 '23505', NULL, 'a number already used by a list of the account is refused with 23505');
SELECT throws_like(format($$SELECT trackly_create_list(%s, '+14155550001', 'A again')$$, pg_temp.acct('a')),
				   '%+14155550001%', 'the message names the taken number');
SELECT is(trackly_create_list(pg_temp.acct('b'), '+14155550001', 'B with A''s number', 10), 10::bigint,
		  'the same number in another account is fine');
SELECT throws_ok(format($$INSERT INTO trackly.lists (account_id, id, phone_number, name) VALUES (%s, 99, '12345', 'x')$$,
						pg_temp.acct('a')),
				 '23514', NULL, 'trackly.lists itself refuses an invalid number (CHECK)');

-- 3. Other bad arguments.
SELECT throws_ok(format($$SELECT trackly_create_list(%s, NULL, 'dup', 7)$$, pg_temp.acct('a')),
				 '23505', NULL, 'a taken id is refused with 23505');
SELECT throws_like(format($$SELECT trackly_create_list(%s, NULL, 'dup', 7)$$, pg_temp.acct('a')),
				   '%7%', 'the message names the taken id');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, NULL, 'zero', 0)$$, pg_temp.acct('a')),
				 '22023', NULL, 'id 0 is refused with 22023');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, NULL, 'negative', -5)$$, pg_temp.acct('a')),
				 '22023', NULL, 'a negative id is refused with 22023');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, NULL, '')$$, pg_temp.acct('a')),
				 '22023', NULL, 'an empty name is refused with 22023');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, NULL, '   ')$$, pg_temp.acct('a')),
				 '22023', NULL, 'a blank name is refused with 22023');
SELECT ok(pg_temp.error_of(format($$SELECT trackly_create_list(%s, NULL, NULL)$$, pg_temp.acct('a'))) ~ '^(22023|22004):',
		  'a NULL name is refused with 22023 or 22004');
SELECT throws_ok($$SELECT trackly_create_list(-1, NULL, 'nobody''s')$$, '22023', NULL,
				 'an unknown account is refused with 22023');
SELECT throws_ok($$SELECT trackly_create_list(NULL, NULL, 'nobody''s')$$, '22004', NULL,
				 'a NULL account is refused with 22004');
SELECT throws_ok(format($$SELECT trackly_create_list(%s, NULL, 'D dup max', 9223372036854775807)$$, pg_temp.acct('d')),
				 '23505', NULL, 'the largest bigint, once taken, is refused with 23505');
SELECT is((SELECT count(*) FROM trackly.lists WHERE name IN ('dup', 'zero', 'negative', 'A again', 'nobody''s', 'D dup max')
			 OR name = '' OR btrim(name) = ''), 0::bigint,
		  'refused lists were not stored');

-- 4. The import resolves lists within the account.
-- A: 1 (+14155550001), 7, 20, 21 and others; B: 1 (+14155550002), 3 (+14155550003), 10 (+14155550001).
CREATE TEMP TABLE response (name text PRIMARY KEY, body jsonb);
INSERT INTO response SELECT 'a', trackly_import_sends(jsonb_build_object('records', jsonb_build_array(
	'{"id": "l-0", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 1}'::jsonb,
	'{"id": "l-1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 3}'::jsonb,
	'{"id": "l-2", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+14155550003"}'::jsonb,
	'{"id": "l-3", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+14155550001"}'::jsonb,
	'{"id": "l-4", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 7, "list_number": "+14155550001"}'::jsonb,
	'{"id": "l-5", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 1, "list_number": "+14155550001"}'::jsonb,
	'{"id": "l-6", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": ""}'::jsonb,
	'{"id": "l-7", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "12345"}'::jsonb,
	'{"id": "l-8", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 0}'::jsonb,
	'{"id": "l-9", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": "1"}'::jsonb,
	'{"id": "l-10", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 1.5}'::jsonb,
	'{"id": "l-11", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 2}'::jsonb,
	'{"id": "l-12", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 9000000000000}'::jsonb,
	'{"id": "l-13", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+14155550002"}'::jsonb,
	'{"id": "l-14", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": null, "list_number": null}'::jsonb,
	'{"id": "l-15", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 20, "list_number": ""}'::jsonb
	)), pg_temp.acct('a'));
INSERT INTO response SELECT 'b', trackly_import_sends(jsonb_build_object('records', jsonb_build_array(
	'{"id": "l-0", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 1}'::jsonb,
	'{"id": "l-1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 3}'::jsonb,
	'{"id": "l-2", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+14155550003"}'::jsonb,
	'{"id": "l-3", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+14155550001"}'::jsonb,
	'{"id": "l-4", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 7}'::jsonb,
	'{"id": "l-5", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 3, "list_number": "+14155550001"}'::jsonb
	)), pg_temp.acct('b'));

SELECT results_eq(
	$$SELECT (e->>'index')::int, e->>'id', e->>'code' FROM response, jsonb_array_elements(body->'errors') e WHERE name = 'a'$$,
	$$VALUES (1, 'l-1', 'list_not_found'), (2, 'l-2', 'list_not_found'), (4, 'l-4', 'list_not_found'),
	         (7, 'l-7', 'invalid_phone'), (8, 'l-8', 'invalid_field'), (9, 'l-9', 'invalid_field'),
	         (10, 'l-10', 'invalid_field'), (11, 'l-11', 'list_not_found'), (13, 'l-13', 'list_not_found')$$,
	'account A: B''s lists (by id or number), a mismatched pair, a bad number or id, an unknown id fail');
SELECT results_eq(
	$$SELECT id COLLATE "default", list_id FROM trackly.sends WHERE account_id = pg_temp.acct('a') ORDER BY list_id NULLS FIRST, id$$,
	$$VALUES ('l-14'::text, NULL::bigint), ('l-6', NULL), ('l-0', 1), ('l-3', 1), ('l-5', 1), ('l-15', 20), ('l-12', 9000000000000)$$,
	'account A: its own lists by id, by number, by both, and "" or null as no list');
SELECT is((SELECT body - 'errors' - 'import_id' FROM response WHERE name = 'a'),
		  '{"success_count": 7, "error_count": 9, "duplicates_skipped": 0, "invalid_phones": 1}'::jsonb,
		  'account A: the counts');
SELECT results_eq(
	$$SELECT (e->>'index')::int, e->>'code' FROM response, jsonb_array_elements(body->'errors') e WHERE name = 'b'$$,
	$$VALUES (4, 'list_not_found'), (5, 'list_not_found')$$,
	'account B: A''s list 7 is not found, and B''s list 3 is not the list of number +14155550001');
SELECT results_eq(
	$$SELECT id COLLATE "default", list_id FROM trackly.sends WHERE account_id = pg_temp.acct('b') ORDER BY id$$,
	$$VALUES ('l-0'::text, 1::bigint), ('l-1', 3), ('l-2', 3), ('l-3', 10)$$,
	'account B: the same ids resolve to B''s lists (B''s +14155550001 is its list 10)');
SELECT ok((SELECT body->'errors'->2->>'error' FROM response WHERE name = 'a') ~ 'list_id|list_number',
		  'a list_not_found message names the field');
SELECT ok((SELECT body->'errors'->0->>'error' FROM response WHERE name = 'a') ~ '3',
		  'a list_not_found message names the list id');

-- A list created later is found by the next import; its number too.
SELECT is(trackly_create_list(pg_temp.acct('a'), '+14155550003', 'A now has B''s number', 3), 3::bigint,
		  'A creates its own list 3 with the number of B''s list 3');
SELECT is(trackly_import_sends(jsonb_build_object('records', jsonb_build_array(
	'{"id": "l-1", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_id": 3}'::jsonb,
	'{"id": "l-2", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+14155550003"}'::jsonb
	)), pg_temp.acct('a')) - 'errors' - 'import_id',
	'{"success_count": 2, "error_count": 0, "duplicates_skipped": 0, "invalid_phones": 0}'::jsonb,
	'the failed records of A succeed once A has the list (a failed record does not claim its id)');
SELECT results_eq(
	$$SELECT id COLLATE "default", list_id FROM trackly.sends WHERE account_id = pg_temp.acct('a') AND id IN ('l-1', 'l-2') ORDER BY id$$,
	$$VALUES ('l-1'::text, 3::bigint), ('l-2', 3)$$,
	'both point to A''s list 3');

SELECT * FROM finish();
ROLLBACK;
