-- save_error: records the database refuses (a user's CHECK, trigger or
-- foreign key) fail alone and the rest is stored; any other error propagates
-- and nothing of the call is kept.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
DROP SCHEMA IF EXISTS import_save_error CASCADE;
RESET client_min_messages;
CREATE SCHEMA import_save_error;
SET search_path = import_save_error, public;

SELECT trackly_create_account('Checked Co') AS a \gset

CREATE FUNCTION import(records text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT trackly_import_sends(('{"records": [' || records || ']}')::jsonb,
								(SELECT min(id) FROM trackly.accounts))
$$;
CREATE FUNCTION rec(id text, message text DEFAULT 'hello') RETURNS text LANGUAGE sql AS $$
	SELECT json_build_object('id', id, 'to_number', '+12025559876',
							 'timestamp', '2025-11-15T14:30:00Z', 'message', message)::text
$$;
CREATE FUNCTION summary(r jsonb) RETURNS TABLE (counts text, index int, id text, code text, error text)
LANGUAGE sql AS $$
	SELECT format('success %s, errors %s, duplicates %s', r->'success_count', r->'error_count',
				  r->'duplicates_skipped'),
		   (e->>'index')::int, e->>'id', e->>'code', e->>'error'
	  FROM jsonb_array_elements(r->'errors') e
	 UNION ALL
	SELECT format('success %s, errors %s, duplicates %s', r->'success_count', r->'error_count',
				  r->'duplicates_skipped'), NULL, NULL, NULL, NULL
	 WHERE jsonb_array_length(r->'errors') = 0
$$;

SELECT * FROM summary(import(rec('stored-first')));

-- A user's CHECK constraint.
ALTER TABLE trackly.sends ADD CONSTRAINT no_spam CHECK (message NOT LIKE '%spam%');
SELECT * FROM summary(import(
	rec('c1') || ',' || rec('c2', 'buy spam') || ',' || rec('c3') || ',' ||
	rec('c4', 'more spam') || ',' || rec('c5') || ',' ||
	-- a refused record leaves its id to the next record with it
	rec('c2', 'no longer refused') || ',' ||
	-- an id stored before is a duplicate, whatever the rest says
	rec('stored-first', 'spam again')));
SELECT id, message FROM trackly.sends ORDER BY id;
SELECT index, id, code, error FROM trackly.import_errors ORDER BY import_id, index;

-- Every record refused: each fails, the call still answers.
SELECT * FROM summary(import(rec('s1', 'spam') || ',' || rec('s2', 'spam') || ',' || rec('s3', 'spam')));

-- A user's trigger that raises (P0001) and one that fails on data (22012).
CREATE FUNCTION public.refuse_vip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.to_number = '+19995550100' THEN
		RAISE EXCEPTION 'VIP numbers may not be imported';
	END IF;
	IF NEW.message = 'divide' THEN
		NEW.length := 1 / 0;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER refuse_vip BEFORE INSERT ON trackly.sends
	FOR EACH ROW EXECUTE FUNCTION public.refuse_vip();
SELECT * FROM summary(import(
	rec('t1') || ',' ||
	'{"id": "t2", "to_number": "+19995550100", "timestamp": "2025-11-15T14:30:00Z"},' ||
	rec('t3', 'divide') || ',' || rec('t4')));

-- A user's foreign key (class 23): only numbers of an allowed set.
CREATE TABLE public.allowed_numbers (to_number text PRIMARY KEY);
INSERT INTO public.allowed_numbers VALUES ('+12025559876');
ALTER TABLE trackly.sends ADD CONSTRAINT allowed FOREIGN KEY (to_number)
	REFERENCES public.allowed_numbers NOT VALID;
SELECT * FROM summary(import(
	rec('k1') || ',' ||
	'{"id": "k2", "to_number": "+13105558888", "timestamp": "2025-11-15T14:30:00Z"}'));

-- Errors that do not belong to a row propagate: nothing of the call is kept.
SELECT count(*) AS imports_before FROM trackly.imports \gset
CREATE OR REPLACE FUNCTION public.refuse_vip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.message = 'internal' THEN
		RAISE EXCEPTION 'something broke' USING ERRCODE = 'XX000';
	END IF;
	IF NEW.message = 'cancel' THEN
		RAISE EXCEPTION 'canceling statement due to user request' USING ERRCODE = '57014';
	END IF;
	RETURN NEW;
END
$$;
\set VERBOSITY terse
SELECT * FROM summary(import(rec('x1') || ',' || rec('x2', 'internal')));
SELECT * FROM summary(import(rec('x3') || ',' || rec('x4', 'cancel')));
\set VERBOSITY default
SELECT count(*) - :imports_before AS new_imports FROM trackly.imports;
SELECT count(*) AS x_sends FROM trackly.sends WHERE id LIKE 'x%';

-- Without the user's additions the fast path is back.
DROP TRIGGER refuse_vip ON trackly.sends;
ALTER TABLE trackly.sends DROP CONSTRAINT no_spam, DROP CONSTRAINT allowed;
SELECT * FROM summary(import(rec('after', 'spam is fine now')));

SET client_min_messages = warning;
DROP SCHEMA import_save_error CASCADE;
