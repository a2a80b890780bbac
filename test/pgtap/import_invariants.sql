-- import_invariants.sql: the invariants of the response (README), checked on
-- 30 generated requests (setseed, generate_series) of 1 to 1,000 records
-- mixing valid records of every shape, every kind of invalid record,
-- duplicates within a request and against stored rows, string and integer
-- ids (the string "42" and the integer 42 are one id), and list_id /
-- list_number references; most through trackly_import_sends(body, account),
-- some through the API form with a key, a few into a second account.
-- Requests 21 to 30 run after a user's CHECK constraint and trigger were
-- added to trackly.sends, so some valid records are refused (save_error:
-- 23514, P0001 and a class-22 error) while the rest of the request is stored.
--
-- For every response: the three buckets add up to the records; the stored
-- rows, the import_errors rows and the imports row agree with the counts;
-- invalid_phones counts the invalid_phone errors; errors lists the first
-- min(error_count, 100) failures in ascending index order.  Besides, as an
-- oracle, each record's expected outcome is known from how it was made:
-- the failures' codes and ids, which valid records are first of their id
-- (successes) and the stored rows' values.
BEGIN;
SELECT plan(324);

SET LOCAL timezone = 'UTC';
SELECT setseed(0.4242);

-- The accounts: A takes most requests, B a few; C owns lists that A and B must not see.
CREATE TEMP TABLE acct (name text PRIMARY KEY, id bigint NOT NULL, key text);
INSERT INTO acct (name, id) VALUES ('A', trackly_create_account('invariants A')),
								   ('B', trackly_create_account('invariants B')),
								   ('C', trackly_create_account('invariants C'));
UPDATE acct SET key = trackly_create_api_key(id) WHERE name = 'A';
-- A and B: lists 1 to 5 with the numbers +14155550001 to 5, lists 6 to 8 without number.  C: list 9, +14155550009.
SELECT count(trackly_create_list(a.id, CASE WHEN l <= 5 THEN '+1415555000' || l END, 'list ' || l, l))
  FROM acct a, generate_series(1, 8) l WHERE a.name IN ('A', 'B');
SELECT trackly_create_list((SELECT id FROM acct WHERE name = 'C'), '+14155550009', 'C''s list', 9);

-- Values the generator draws from.
CREATE TEMP TABLE pool (name text PRIMARY KEY, v text[] NOT NULL);
INSERT INTO pool VALUES
	('phone', ARRAY['+14155551234', '+447911123456', '+33612345678', '+61412345678', '+8613812345678', '+4915123456789', '+5511912345678']),
	('bad_phone', ARRAY['+4402071838750', '12345', '+1 415 555 1234', '+999123456', ' +14155551234', '+14155551234x', '+1415555123', '+', '14155551234']),
	('stamp', ARRAY['2025-11-15T14:30:00Z', '2025-11-15 14:30', '2024-02-29T23:59:59.999999+05:30',
					'2025-01-01t00:00:00,5-08:00', '1999-12-31T23:59Z', '2025-06-30T12:00:00.0000005-0130']),
	('bad_stamp', ARRAY['now', '2025-11-15', '2025-02-30T00:00:00Z', '2025-11-15T24:00:00Z', 'Nov 15 2025',
						'2025-11-15T14:30:60Z', ' 2025-11-15T14:30:00Z', 'epoch', '2025-11-15T14:30:00+25:00']);
CREATE FUNCTION pg_temp.pick(name text, u int) RETURNS text LANGUAGE sql AS $$
	SELECT v[1 + u % cardinality(v)] FROM pool p WHERE p.name = pick.name
$$;

-- One record: valid (code NULL) or failing with the code it must get.  u1..u3
-- are random; ids come from a pool of 700 (half of them, with fresh, from
-- another pool of 700 that the earlier requests did not use).
CREATE FUNCTION pg_temp.make_record(valid boolean, kind int, u1 int, u2 int, u3 int, fresh boolean,
									OUT body jsonb, OUT code text)
LANGUAGE plpgsql AS $$
DECLARE
	other_pool boolean := fresh AND u1 % 2 = 1;
	n int := u1 % 300 + CASE WHEN other_pool THEN 1000 ELSE 0 END;
	id jsonb := CASE u2 % 4
		WHEN 0 THEN to_jsonb(CASE WHEN other_pool THEN 'n' ELSE 'm' END || u1 % 400)	-- a string id
		WHEN 1 THEN to_jsonb(n)						-- an integer id
		WHEN 2 THEN to_jsonb(n::text)				-- the same ids as strings
		ELSE (n || 'e0')::jsonb						-- an integer written with an exponent
	END;
	base jsonb := jsonb_build_object('id', id, 'to_number', pg_temp.pick('phone', u3),
									 'timestamp', pg_temp.pick('stamp', u1 + u3));
	v int := u3 % 12;
BEGIN
	IF valid THEN
		code := NULL;
		body := CASE kind
			WHEN 0 THEN base
			WHEN 1 THEN base || jsonb_build_object('message', 'hello ' || u3, 'creative_id', 1 + u3,
					'send_type', 'promo', 'delivered', u3 % 2 = 0, 'length', u3, 'list_id', 1 + u3 % 8)
			WHEN 2 THEN base || jsonb_build_object('list_number', '+1415555000' || (1 + u3 % 5))
			WHEN 3 THEN base || jsonb_build_object('list_id', 1 + u3 % 5, 'list_number', '+1415555000' || (1 + u3 % 5))
			WHEN 4 THEN base || '{"list_number": "", "list_id": null, "message": null, "creative_id": null,
								  "send_type": null, "delivered": null, "length": null}'::jsonb
			WHEN 5 THEN base || jsonb_build_object('imported', false, 'unknown', u3, 'nested', '{"a": [1, {"b": null}]}'::jsonb)
			WHEN 6 THEN base || jsonb_build_object('message', '', 'length', 0, 'creative_id', 9223372036854775807,
					'send_type', 'x', 'delivered', false)
			ELSE base || jsonb_build_object('message', repeat('é', CASE WHEN u3 % 20 = 0 THEN 10000 ELSE 50 END),
					'send_type', repeat('t', 64), 'length', 2147483647, 'list_id', 8, 'list_number', NULL)
		END;
		RETURN;
	END IF;
	CASE kind
	WHEN 0 THEN
		code := 'invalid_record';
		body := (ARRAY[to_jsonb(u3), to_jsonb('a string'::text), '[1, 2]'::jsonb, 'null'::jsonb, 'true'::jsonb,
					   jsonb_build_array(base)])[1 + u3 % 6];
	WHEN 1 THEN
		code := 'missing_id';
		body := (ARRAY[base - 'id', base || '{"id": null}', base || '{"id": ""}',
					   base - 'id' || '{"to_number": "bad"}'])[1 + u3 % 4];
	WHEN 2 THEN
		code := 'missing_to_number';
		body := (ARRAY[base - 'to_number', base || '{"to_number": null}', base || '{"to_number": ""}',
					   base - 'to_number' || '{"timestamp": "now"}'])[1 + u3 % 4];
	WHEN 3 THEN
		code := 'missing_timestamp';
		body := (ARRAY[base - 'timestamp', base || '{"timestamp": null}', base || '{"timestamp": ""}',
					   base - 'timestamp' || '{"list_id": -1}'])[1 + u3 % 4];
	WHEN 4 THEN
		code := 'invalid_phone';
		body := base || jsonb_build_object('to_number', pg_temp.pick('bad_phone', u3));
		IF u1 % 3 = 0 THEN
			body := body || '{"timestamp": "not a time"}';		-- rule 5 comes before rule 6
		END IF;
	WHEN 5 THEN
		code := 'invalid_phone';
		body := base || (ARRAY['{"to_number": 14155551234}'::jsonb, '{"to_number": true}', '{"to_number": ["+14155551234"]}',
							   jsonb_build_object('list_number', pg_temp.pick('bad_phone', u3)),
							   '{"list_number": 14155550001}'])[1 + u3 % 5];
	WHEN 6 THEN
		code := 'invalid_timestamp';
		body := base || (ARRAY[jsonb_build_object('timestamp', pg_temp.pick('bad_stamp', u3)),
							   '{"timestamp": 1731680000}'::jsonb, '{"timestamp": {"at": "now"}}',
							   jsonb_build_object('timestamp', pg_temp.pick('bad_stamp', u3), 'list_id', 0)])[1 + u3 % 4];
	WHEN 7 THEN
		code := 'invalid_field';
		body := base || (ARRAY['{"id": 42.5}'::jsonb, '{"id": 42.01}', '{"id": true}', '{"id": {}}', '{"id": []}',
							   jsonb_build_object('id', repeat('i', 256)), '{"id": 9223372036854775808}',
							   '{"id": -9223372036854775809}', '{"id": 1e-1}', '{"id": 3.5e0}',
							   jsonb_build_object('id', repeat('i', 200) || u3, 'list_id', 'one'),
							   '{"id": 12.25}'])[1 + v];
	WHEN 8 THEN
		code := 'invalid_field';
		body := base || (ARRAY['{"list_id": 0}'::jsonb, '{"list_id": "1"}', '{"list_id": -3}', '{"creative_id": 0}',
							   '{"creative_id": 1.5}', '{"length": -1}', '{"length": 2147483648}', '{"message": 5}',
							   '{"send_type": ""}', jsonb_build_object('send_type', repeat('t', 65)),
							   '{"delivered": "yes"}', '{"delivered": 1, "list_id": 999}'])[1 + v];
		IF v = 7 AND u1 % 10 = 0 THEN
			body := base || jsonb_build_object('message', repeat('m', 10001));
		END IF;
	ELSE
		code := 'list_not_found';
		body := base || (ARRAY['{"list_id": 9}'::jsonb, '{"list_id": 999}', '{"list_number": "+14155550009"}',
							   '{"list_number": "+14155550099"}', '{"list_id": 1, "list_number": "+14155550002"}',
							   '{"list_id": 6, "list_number": "+14155550001"}', '{"list_id": 9223372036854775807}'])[1 + u3 % 7];
	END CASE;
END
$$;

-- The id the response shows for a record: a non-empty string, or an integer's decimal text.
CREATE FUNCTION pg_temp.shown_id(body jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN jsonb_typeof(body) <> 'object' THEN NULL
		WHEN jsonb_typeof(body->'id') = 'string' THEN nullif(body->>'id', '')
		WHEN jsonb_typeof(body->'id') = 'number' AND body->>'id' !~ '[.eE]' THEN body->>'id'
	END
$$;

-- The requests: r, account, how it is called, how many records, the share of invalid ones.
CREATE TEMP TABLE req AS
SELECT r,
	   CASE WHEN r % 10 = 5 THEN 'B' ELSE 'A' END AS account,
	   CASE WHEN r % 7 = 3 THEN 'api' ELSE 'sql' END AS via,
	   CASE r WHEN 1 THEN 300 WHEN 2 THEN 1 WHEN 3 THEN 1000 ELSE 1 + floor(random() * 300)::int END AS n,
	   CASE r WHEN 1 THEN 0.95 WHEN 2 THEN 0.0 WHEN 4 THEN 0.0 WHEN 6 THEN 1.0 ELSE random() END AS p_invalid
  FROM generate_series(1, 30) r;
CREATE TEMP TABLE raw AS
SELECT q.r, i, random() AS u_invalid, floor(random() * 10)::int AS u_kind,
	   floor(random() * 100000)::int AS u1, floor(random() * 100000)::int AS u2, floor(random() * 100000)::int AS u3
  FROM req q, generate_series(0, q.n - 1) i;
CREATE TEMP TABLE rec AS
SELECT w.r, w.i, m.body, m.code, pg_temp.shown_id(m.body) AS id
  FROM raw w JOIN req q USING (r),
	   LATERAL pg_temp.make_record(w.u_invalid >= q.p_invalid, w.u_kind % CASE WHEN w.u_invalid >= q.p_invalid THEN 8 ELSE 10 END,
								   w.u1, w.u2, w.u3, w.r > 20) m;
-- Request 2 (one record) repeats request 1's first valid record: a duplicate of a stored row.
UPDATE rec SET body = (SELECT body FROM rec WHERE r = 1 AND code IS NULL ORDER BY i LIMIT 1),
			   id = (SELECT id FROM rec WHERE r = 1 AND code IS NULL ORDER BY i LIMIT 1)
 WHERE r = 2;

-- Runs requests first..last in order, each as it says, keeping the responses.
CREATE TEMP TABLE resp (r int PRIMARY KEY, account text, via text, n int, body jsonb, import_id bigint);
CREATE FUNCTION pg_temp.run_requests(first int, last int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	q record;
	request jsonb;
	response jsonb;
BEGIN
	FOR q IN SELECT * FROM req WHERE r BETWEEN first AND last ORDER BY r LOOP
		SELECT jsonb_build_object('records', jsonb_agg(body ORDER BY i)) INTO request FROM rec WHERE r = q.r;
		IF q.r % 4 = 0 THEN
			request := request || '{"imported": false}';	-- ignored at the top level
		END IF;
		IF q.via = 'api' THEN
			PERFORM set_config('trackly.api_key', (SELECT key FROM acct WHERE name = q.account), true);
			response := trackly_import_sends(request);
		ELSE
			response := trackly_import_sends(request, (SELECT id FROM acct WHERE name = q.account));
		END IF;
		INSERT INTO resp VALUES (q.r, q.account, q.via, q.n, response, (response->>'import_id')::bigint);
	END LOOP;
END
$$;

-- Would the database refuse this row once the user's rules below are in place?
CREATE FUNCTION public.trackly_test_refused(to_number text, message text, creative_id bigint, list_id bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT (message ~ '^hello [0-9]*7$') IS TRUE											-- CHECK: 23514
		OR (creative_id = 9223372036854775807 AND to_number = '+5511912345678') IS TRUE		-- trigger: P0001
		OR (to_number = '+61412345678' AND message IS NULL AND list_id IS NULL) IS TRUE		-- trigger: 22023
$$;
CREATE FUNCTION public.trackly_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.creative_id = 9223372036854775807 AND NEW.to_number = '+5511912345678' THEN
		RAISE EXCEPTION 'no such creative for this number';
	END IF;
	IF NEW.to_number = '+61412345678' AND NEW.message IS NULL AND NEW.list_id IS NULL THEN
		RAISE EXCEPTION 'an Australian send needs a message or a list' USING ERRCODE = '22023';
	END IF;
	RETURN NEW;
END
$$;

-- Requests 1 to 20 meet trackly.sends as the extension made it; 21 to 30 meet a user's
-- CHECK and trigger, which refuse some valid records (save_error, rule 9).
SELECT pg_temp.run_requests(1, 20);
ALTER TABLE trackly.sends ADD CONSTRAINT trackly_test_no_hello_7
	CHECK (message IS NULL OR message !~ '^hello [0-9]*7$') NOT VALID;
CREATE TRIGGER trackly_test_refuse BEFORE INSERT ON trackly.sends
	FOR EACH ROW EXECUTE FUNCTION public.trackly_test_refuse();
SELECT pg_temp.run_requests(21, 30);

-- The oracle.  The row each valid record would store; a valid record is
-- storable unless refused (only from request 21 on).  The first storable
-- record of an id (in its account, in request then index order) succeeds;
-- a refused record before it is a save_error (it claims no id); every
-- other valid record is a duplicate.
CREATE TEMP TABLE expected AS
SELECT rec.r, rec.i, rec.code AS invalid_code, rec.id, rec.body, q.account, a.id AS account_id,
	   CASE WHEN rec.code IS NULL THEN
		   coalesce((rec.body->>'list_id')::bigint,
					(SELECT l.id FROM trackly.lists l WHERE l.account_id = a.id
						AND l.phone_number = nullif(rec.body->>'list_number', ''))) END AS list_id
  FROM rec JOIN req q USING (r) JOIN acct a ON a.name = q.account;
ALTER TABLE expected ADD refused boolean, ADD storable boolean, ADD success boolean, ADD code text;
UPDATE expected SET refused = public.trackly_test_refused(body->>'to_number', body->>'message',
														  (body->>'creative_id')::bigint, list_id)
 WHERE invalid_code IS NULL;
UPDATE expected SET storable = NOT (refused AND r > 20) WHERE invalid_code IS NULL;
UPDATE expected e SET
	success = e.storable AND f.r = e.r AND f.i = e.i,
	code = CASE WHEN NOT e.storable AND (f.r IS NULL OR (e.r, e.i) < (f.r, f.i)) THEN 'save_error' END
  FROM (SELECT DISTINCT ON (x.account, x.id) x.account, x.id, y.r, y.i
		  FROM expected x LEFT JOIN LATERAL (SELECT z.r, z.i FROM expected z
											  WHERE z.account = x.account AND z.id = x.id AND z.storable
											  ORDER BY z.r, z.i LIMIT 1) y ON true
		 WHERE x.invalid_code IS NULL) f
 WHERE e.invalid_code IS NULL AND f.account = e.account AND f.id = e.id;
UPDATE expected SET success = coalesce(success, false), code = coalesce(invalid_code, code);

-- 0. The generator's pools are what they claim, and it made what was asked.
SELECT is((SELECT count(*) FROM unnest((SELECT v FROM pool WHERE name = 'phone')) p WHERE NOT trackly_is_e164(p)), 0::bigint,
		  'the generator''s valid phones are valid');
SELECT is((SELECT count(*) FROM unnest((SELECT v FROM pool WHERE name = 'bad_phone')) p WHERE trackly_is_e164(p)), 0::bigint,
		  'the generator''s invalid phones are invalid');
SELECT is((SELECT count(*) FROM unnest((SELECT v FROM pool WHERE name = 'stamp')) p WHERE NOT trackly_is_iso8601(p)), 0::bigint,
		  'the generator''s valid timestamps are valid');
SELECT is((SELECT count(*) FROM unnest((SELECT v FROM pool WHERE name = 'bad_stamp')) p WHERE trackly_is_iso8601(p)), 0::bigint,
		  'the generator''s invalid timestamps are invalid');
SELECT set_eq($$SELECT DISTINCT code FROM rec WHERE code IS NOT NULL$$,
			  $$VALUES ('invalid_record'), ('missing_id'), ('missing_to_number'), ('missing_timestamp'), ('invalid_phone'),
					   ('invalid_timestamp'), ('invalid_field'), ('list_not_found')$$,
			  'the requests hold every kind of invalid record');
SELECT ok((SELECT count(*) FROM expected WHERE code IS NULL AND NOT success) > 100,
		  'the requests hold many duplicate records');
SELECT ok((SELECT count(*) FROM expected WHERE code = 'save_error') > 10,
		  'the requests from 21 on hold records the database refuses');
SELECT set_eq($$SELECT DISTINCT substring(e.error FROM '(check constraint|creative|Australian)')
				  FROM trackly.import_errors e JOIN acct a ON a.id = e.account_id WHERE e.code = 'save_error'$$,
			  $$VALUES ('check constraint'), ('creative'), ('Australian')$$,
			  'the refusals include a CHECK (23514), a trigger''s RAISE (P0001) and a trigger''s 22023');
SELECT ok((SELECT count(*) FROM expected WHERE invalid_code IS NULL AND refused AND r > 20 AND code IS NULL) > 0,
		  'some refused records are duplicates of a stored id, not save_errors');
SELECT ok((SELECT count(*) FROM expected e WHERE e.code IS NULL AND NOT e.success
			AND NOT EXISTS (SELECT FROM expected f WHERE f.r = e.r AND f.i < e.i AND f.id = e.id AND f.code IS NULL)) > 20,
		  'many duplicates are of rows stored by an earlier request');
SELECT ok((SELECT count(*) FROM rec WHERE jsonb_typeof(body->'id') = 'number' AND code IS NULL) > 50
		  AND (SELECT count(*) FROM rec WHERE jsonb_typeof(body->'id') = 'string' AND id ~ '^[0-9]+$' AND code IS NULL) > 50,
		  'the requests hold integer ids and the same ids as strings');
SELECT ok((SELECT count(*) FROM resp WHERE (body->>'error_count')::int > 100) >= 1,
		  'at least one request has more than 100 errors');
SELECT is((SELECT count(*) FROM resp WHERE body->'import_id' = 'null'::jsonb OR NOT body ? 'import_id'), 0::bigint,
		  'every request was accepted (all have an import_id)');

-- 1. The buckets add up to the records.
SELECT is((body->>'success_count')::int + (body->>'error_count')::int + (body->>'duplicates_skipped')::int, n,
		  format('request %s (%s records): success + error + duplicates = records', r, n))
  FROM resp ORDER BY r;

-- 2. The stored rows of the import are its successes.
SELECT is((SELECT count(*)::int FROM trackly.sends s WHERE s.import_id = resp.import_id), (body->>'success_count')::int,
		  format('request %s: rows stored with its import_id = success_count', r))
  FROM resp ORDER BY r;

-- 3. invalid_phones counts the invalid_phone errors, no more than error_count.
SELECT ok((body->>'invalid_phones')::int <= (body->>'error_count')::int
		  AND (body->>'invalid_phones')::int = (SELECT count(*) FROM trackly.import_errors e
												 WHERE e.import_id = resp.import_id AND e.code = 'invalid_phone'),
		  format('request %s: invalid_phones (%s) <= error_count and = its invalid_phone errors', r, body->>'invalid_phones'))
  FROM resp ORDER BY r;

-- 4. import_errors holds every failed record, uncapped.
SELECT is((SELECT count(*)::int FROM trackly.import_errors e WHERE e.import_id = resp.import_id), (body->>'error_count')::int,
		  format('request %s: import_errors holds error_count (%s) rows', r, body->>'error_count'))
  FROM resp ORDER BY r;

-- 5. errors lists the first min(error_count, 100) failures, in ascending index order, as import_errors has them.
SELECT is(jsonb_array_length(body->'errors'), least((body->>'error_count')::int, 100),
		  format('request %s: errors has min(error_count, 100) elements', r))
  FROM resp ORDER BY r;
SELECT is((SELECT array_agg((e->>'index')::int ORDER BY o) FROM jsonb_array_elements(body->'errors') WITH ORDINALITY x(e, o)),
		  (SELECT array_agg(index::int ORDER BY index) FROM (SELECT index FROM trackly.import_errors ie
														  WHERE ie.import_id = resp.import_id ORDER BY index LIMIT 100) y),
		  format('request %s: errors are the first failures in ascending index order', r))
  FROM resp ORDER BY r;
SELECT is((SELECT count(*) FROM jsonb_array_elements(body->'errors') WITH ORDINALITY x(e, o)
			LEFT JOIN trackly.import_errors ie ON ie.import_id = resp.import_id AND ie.index = (e->>'index')::int
		   WHERE ie.index IS NULL OR e->>'id' IS DISTINCT FROM ie.id OR e->>'code' IS DISTINCT FROM ie.code
			  OR e->>'error' IS DISTINCT FROM ie.error OR ie.account_id <> (SELECT id FROM acct WHERE name = resp.account)),
		  0::bigint, format('request %s: each listed error equals its import_errors row', r))
  FROM resp ORDER BY r;

-- 6. The imports row agrees with the response.
SELECT is((SELECT jsonb_build_object('success_count', i.success_count, 'error_count', i.error_count,
									 'duplicates_skipped', i.duplicates_skipped, 'invalid_phones', i.invalid_phones,
									 'source', i.source, 'account', a.name, 'keyed', i.api_key_id IS NOT NULL)
			 FROM trackly.imports i JOIN acct a ON a.id = i.account_id WHERE i.id = resp.import_id),
		  (body - 'errors' - 'import_id') || jsonb_build_object('source', via, 'account', account, 'keyed', via = 'api'),
		  format('request %s: the imports row has the response''s counts, source %s and account %s', r, via, account))
  FROM resp ORDER BY r;

-- 7. The oracle: every record got the outcome it was made for.
SELECT is((SELECT count(*) FROM (
			  (SELECT i, code, left(id, 255) FROM expected e WHERE e.r = resp.r AND e.code IS NOT NULL
			   EXCEPT ALL SELECT index, code, id FROM trackly.import_errors ie WHERE ie.import_id = resp.import_id)
			  UNION ALL
			  (SELECT index, code, id FROM trackly.import_errors ie WHERE ie.import_id = resp.import_id
			   EXCEPT ALL SELECT i, code, left(id, 255) FROM expected e WHERE e.r = resp.r AND e.code IS NOT NULL)) d),
		  0::bigint, format('request %s: each failed record has the expected index, code and id', r))
  FROM resp ORDER BY r;
SELECT is(jsonb_build_array(body->'success_count', body->'duplicates_skipped'),
		  (SELECT jsonb_build_array(count(*) FILTER (WHERE success), count(*) FILTER (WHERE code IS NULL AND NOT success))
			 FROM expected e WHERE e.r = resp.r),
		  format('request %s: successes are the first records of new ids, the rest duplicates', r))
  FROM resp ORDER BY r;

-- 8. What was stored is each id's first valid record, field by field.
SELECT bag_eq(
	$$SELECT e.account_id, e.id, e.list_id, e.body->>'to_number' AS to_number, e.body->>'message' AS message,
			 (e.body->>'creative_id')::bigint AS creative_id, e.body->>'send_type' AS send_type,
			 (e.body->>'delivered')::boolean AS delivered, (e.body->>'length')::int AS length,
			 trackly_iso8601(e.body->>'timestamp') AS sent_at, true AS imported, p.import_id
		FROM expected e JOIN resp p ON p.r = e.r
	   WHERE e.success$$,
	$$SELECT s.account_id, s.id COLLATE "default", s.list_id, s.to_number, s.message, s.creative_id, s.send_type,
			 s.delivered, s.length, s.sent_at, s.imported, s.import_id
		FROM trackly.sends s JOIN acct a ON a.id = s.account_id$$,
	'trackly.sends holds exactly the first valid record of every id, with every field as sent');
SELECT is((SELECT count(*) FROM trackly.sends WHERE account_id = (SELECT id FROM acct WHERE name = 'C')), 0::bigint,
		  'account C, whose list was referenced, got nothing');
SELECT is_empty($$SELECT e.* FROM trackly.import_errors e JOIN acct a ON a.id = e.account_id
				   WHERE e.code = 'save_error' AND (e.error !~* 'refused|database' OR e.error !~ '(check constraint|creative|Australian)')$$,
				'a save_error says the database refused the record and why');
SELECT is((SELECT count(*) FROM trackly.imports i JOIN acct a ON a.id = i.account_id), 30::bigint,
		  'one imports row per request');
SELECT is((SELECT sum(error_count) FROM trackly.imports i JOIN acct a ON a.id = i.account_id)::bigint,
		  (SELECT count(*) FROM expected WHERE code IS NOT NULL),
		  'all requests together: as many import_errors as failed records');

-- 9. Replaying every request of A imports nothing new.
CREATE TEMP TABLE replay (r int PRIMARY KEY, n int, body jsonb);
DO $$
DECLARE
	q record;
BEGIN
	FOR q IN SELECT * FROM req WHERE account = 'A' ORDER BY r LOOP
		INSERT INTO replay SELECT q.r, q.n, trackly_import_sends(jsonb_build_object('records', jsonb_agg(body ORDER BY i)),
																  (SELECT id FROM acct WHERE name = 'A'))
		  FROM rec WHERE r = q.r;
	END LOOP;
END
$$;
SELECT is((SELECT count(*) FROM replay WHERE (body->>'success_count')::int <> 0), 0::bigint,
		  'replaying the requests of A stores nothing');
SELECT is_empty($$SELECT p.r, p.body - 'errors' FROM replay p
				   WHERE (p.body->>'duplicates_skipped')::int <> (SELECT count(*) FROM expected e WHERE e.r = p.r AND e.invalid_code IS NULL
																	AND e.id IN (SELECT id FROM expected WHERE account = 'A' AND success))
					  OR (p.body->>'error_count')::int <> (SELECT count(*) FROM expected e WHERE e.r = p.r AND (e.invalid_code IS NOT NULL
																	OR e.id NOT IN (SELECT id FROM expected WHERE account = 'A' AND success)))
					  OR (p.body->>'invalid_phones')::int <> (SELECT count(*) FROM expected e WHERE e.r = p.r AND e.code = 'invalid_phone')$$,
				'a replay reports every valid record with a stored id as a duplicate, the others (refused) and the invalid ones as errors');

-- 10. Request-level failures record nothing.
CREATE TEMP TABLE before_counts AS
SELECT (SELECT count(*) FROM trackly.imports) AS imports, (SELECT count(*) FROM trackly.sends) AS sends,
	   (SELECT count(*) FROM trackly.import_errors) AS errors;
CREATE TEMP TABLE refused (label text PRIMARY KEY, body jsonb, status text);
CREATE FUNCTION pg_temp.refuse(label text, request jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('response.status', '', true);
	INSERT INTO refused VALUES (label, trackly_import_sends(request, (SELECT id FROM acct WHERE name = 'A')),
								current_setting('response.status', true));
END
$$;
SELECT pg_temp.refuse('sql null', NULL);
SELECT pg_temp.refuse('array', '[{"id": "x", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z"}]');
SELECT pg_temp.refuse('string', '"records"');
SELECT pg_temp.refuse('json null', 'null');
SELECT pg_temp.refuse('no records', '{"record": []}');
SELECT pg_temp.refuse('records object', '{"records": {"id": "x"}}');
SELECT pg_temp.refuse('records null', '{"records": null}');
SELECT pg_temp.refuse('records empty', '{"records": []}');
SELECT pg_temp.refuse('1001 records', jsonb_build_object('records', (SELECT jsonb_agg(jsonb_build_object('id', 'big-' || g,
	'to_number', '+14155551234', 'timestamp', '2025-11-15T14:30:00Z')) FROM generate_series(1, 1001) g)));
SELECT results_eq(
	$$SELECT label, body->'errors'->0->>'code', status FROM refused ORDER BY label$$,
	$$VALUES ('1001 records', 'too_many_records', '413'), ('array', 'invalid_body', '400'), ('json null', 'invalid_body', '400'),
	         ('no records', 'missing_records', '400'), ('records empty', 'missing_records', '400'),
	         ('records null', 'missing_records', '400'), ('records object', 'missing_records', '400'),
	         ('sql null', 'invalid_body', '400'), ('string', 'invalid_body', '400')$$,
	'request-level failures: their codes and response.status');
SELECT is_empty($$SELECT label FROM refused
				   WHERE body - 'errors' <> '{"success_count": 0, "error_count": 0, "duplicates_skipped": 0,
											  "invalid_phones": 0, "import_id": null}'::jsonb
					  OR jsonb_array_length(body->'errors') <> 1
					  OR body->'errors'->0->'index' <> 'null'::jsonb OR body->'errors'->0->'id' <> 'null'::jsonb$$,
				'request-level failures: all counts 0, import_id null, one error with null index and id');
SELECT results_eq(
	$$SELECT (SELECT count(*) FROM trackly.imports), (SELECT count(*) FROM trackly.sends), (SELECT count(*) FROM trackly.import_errors)$$,
	$$SELECT imports, sends, errors FROM before_counts$$,
	'request-level failures store no send and record no import or error');
SELECT pg_temp.refuse('1000 records', jsonb_build_object('records', (SELECT jsonb_agg(jsonb_build_object('id', 'big-' || g,
	'to_number', '+14155551234', 'timestamp', '2025-11-15T14:30:00Z')) FROM generate_series(1, 1000) g)));
SELECT is((SELECT body - 'errors' - 'import_id' FROM refused WHERE label = '1000 records'),
		  '{"success_count": 1000, "error_count": 0, "duplicates_skipped": 0, "invalid_phones": 0}'::jsonb,
		  'exactly 1,000 records are accepted');

SELECT * FROM finish();
ROLLBACK;
