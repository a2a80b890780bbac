-- Per-record rules, in their documented order (first failure wins), and what a
-- stored record holds.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
DROP SCHEMA IF EXISTS import_records CASCADE;
RESET client_min_messages;
CREATE SCHEMA import_records;
SET search_path = import_records, public;
SET TimeZone = 'UTC';

SELECT trackly_create_account('Records Co') AS account \gset
SELECT trackly_create_account('Other Co') AS other \gset
SELECT trackly_create_list(:account, '+14155551234', 'Main', 42) AS list_42;
SELECT trackly_create_list(:account, '+14155550000', 'Second', 7) AS list_7;
SELECT trackly_create_list(:other, '+14155559999', 'Not ours', 99) AS list_99;

-- The failed records of a response, one row each.
CREATE FUNCTION failures(r jsonb) RETURNS TABLE (index int, id text, code text, error text)
LANGUAGE sql AS $$
	SELECT (e->>'index')::int, e->>'id', e->>'code', e->>'error'
	  FROM jsonb_array_elements(r->'errors') e
$$;
-- Long values, cut for display.
CREATE FUNCTION cut(s text) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN char_length(s) > 24 THEN left(s, 21) || '...' ELSE s END
$$;
CREATE FUNCTION import(records text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT trackly_import_sends(('{"records": [' || records || ']}')::jsonb,
								(SELECT min(id) FROM trackly.accounts))
$$;

-- Every rule, one record each, mostly with a later rule broken too so the
-- order shows.  {ok} stands for the fields of a valid record.
\set ok '"to_number": "+12025559876", "timestamp": "2025-11-15T14:30:00Z"'
CREATE TEMP TABLE response AS SELECT import(
	-- 1 the record is a JSON object
	'"just a string", 42, null, true, [1, 2], ' ||
	-- 2 id present, not null, not ""
	'{"to_number": "bad"}, {"id": null, "to_number": "bad"}, {"id": "", "to_number": "bad"}, ' ||
	-- 3 to_number present, not null, not ""
	'{"id": "r3a", "timestamp": "bad"}, {"id": "r3b", "to_number": null}, {"id": "r3c", "to_number": ""}, ' ||
	-- 4 timestamp present, not null, not ""
	'{"id": "r4a", "to_number": "bad"}, {"id": "r4b", "to_number": "bad", "timestamp": ""}, ' ||
	-- 5 E.164 to_number, then list_number when given
	'{"id": "r5a", "to_number": "+4402071838750", "timestamp": "bad"}, ' ||
	'{"id": "r5b", "to_number": 14155551234, "timestamp": "bad"}, ' ||
	'{"id": "r5c", "to_number": "+1 415 555 1234", "timestamp": "2025-11-15T14:30:00Z"}, ' ||
	'{"id": "r5d", "to_number": "+12025559876", "list_number": "14155551234", "timestamp": "bad"}, ' ||
	'{"id": "r5e", "to_number": "+12025559876", "list_number": 42, "timestamp": "bad"}, ' ||
	-- 6 ISO 8601 timestamp
	'{"id": "r6a", "to_number": "+12025559876", "timestamp": "2025-02-29T10:00:00Z", "list_id": "x"}, ' ||
	'{"id": "r6b", "to_number": "+12025559876", "timestamp": "Nov 15 2025"}, ' ||
	'{"id": "r6c", "to_number": "+12025559876", "timestamp": 1731681000}, ' ||
	'{"id": "r6d", "to_number": "+12025559876", "timestamp": "now"}, ' ||
	-- 7 field types
	'{"id": true, ' || :'ok' || '}, ' ||
	'{"id": 42.5, ' || :'ok' || '}, ' ||
	'{"id": 9223372036854775808, ' || :'ok' || '}, ' ||
	'{"id": "' || repeat('x', 256) || '", ' || :'ok' || '}, ' ||
	'{"id": "r7a", "list_id": 0, ' || :'ok' || '}, ' ||
	'{"id": "r7b", "list_id": "42", ' || :'ok' || '}, ' ||
	'{"id": "r7c", "list_id": 42.5, ' || :'ok' || '}, ' ||
	'{"id": "r7d", "creative_id": -1, ' || :'ok' || '}, ' ||
	'{"id": "r7e", "length": 2147483648, ' || :'ok' || '}, ' ||
	'{"id": "r7f", "length": -1, ' || :'ok' || '}, ' ||
	'{"id": "r7g", "message": 5, ' || :'ok' || '}, ' ||
	'{"id": "r7h", "message": "' || repeat('é', 10001) || '", ' || :'ok' || '}, ' ||
	'{"id": "r7i", "send_type": "", ' || :'ok' || '}, ' ||
	'{"id": "r7j", "send_type": "' || repeat('s', 65) || '", ' || :'ok' || '}, ' ||
	'{"id": "r7k", "delivered": "yes", ' || :'ok' || '}, ' ||
	'{"id": "r7l", "delivered": 1, "list_id": 999, ' || :'ok' || '}, ' ||
	-- 8 lists of this account; both given: the same list
	'{"id": "r8a", "list_id": 999, ' || :'ok' || '}, ' ||
	'{"id": "r8b", "list_number": "+14155557777", ' || :'ok' || '}, ' ||
	'{"id": "r8c", "list_id": 99, ' || :'ok' || '}, ' ||
	'{"id": "r8d", "list_number": "+14155559999", ' || :'ok' || '}, ' ||
	'{"id": "r8e", "list_id": 42, "list_number": "+14155550000", ' || :'ok' || '}, ' ||
	'{"id": "r8f", "list_id": 7, "list_number": "+14155557777", ' || :'ok' || '}'
) AS r;

SELECT r - 'errors' - 'import_id' AS counts FROM response;
SELECT index, cut(id) AS id, code, error FROM failures((SELECT r FROM response));
-- Every failed record is recorded with the same index, id, code and message.
SELECT count(*) AS recorded,
	   count(*) FILTER (WHERE (e.index, e.id, e.code, e.error) IS NOT DISTINCT FROM (f.index, f.id, f.code, f.error)) AS same
  FROM trackly.import_errors e
  JOIN failures((SELECT r FROM response)) f USING (index)
 WHERE e.import_id = ((SELECT r FROM response)->>'import_id')::bigint;
SELECT count(*) AS sends FROM trackly.sends;

-- What passes: limits at their edges, integer ids, list_number "" and nulls
-- as not given, unknown fields and "imported" ignored, strings counted in
-- characters.
SELECT import(
	'{"id": "full", "list_id": 42, "list_number": "+14155551234", "to_number": "+12025559876",' ||
	' "message": "Check out this deal!", "creative_id": 101, "send_type": "campaign",' ||
	' "delivered": false, "length": 21, "timestamp": "2025-11-15T14:30:00.1234565+01:00",' ||
	' "imported": false, "campaign": {"nested": [1, 2]}}, ' ||
	'{"id": "by_number", "list_number": "+14155550000", ' || :'ok' || '}, ' ||
	'{"id": "empty_number", "list_number": "", "list_id": null, "message": null, "creative_id": null,' ||
	' "send_type": null, "delivered": null, "length": null, ' || :'ok' || '}, ' ||
	'{"id": 1e3, ' || :'ok' || '}, ' ||
	-- whole-valued numbers are integers (JSON Schema): 42.0, 4.2e1, 4200e-2
	'{"id": 4300e-2, "list_id": 42.0, "creative_id": 4.2e1, "length": 4200e-2, ' || :'ok' || '}, ' ||
	'{"id": -9223372036854775808, ' || :'ok' || '}, ' ||
	'{"id": 9223372036854775807, "creative_id": 9223372036854775807, "list_id": 7, ' || :'ok' || '}, ' ||
	'{"id": "' || repeat('é', 255) || '", "message": "' || repeat('é', 10000) || '", ' ||
	' "send_type": "' || repeat('ü', 64) || '", "length": 2147483647, ' || :'ok' || '}, ' ||
	'{"id": " ", "message": "", "length": 0, "to_number": "+442071838750", "timestamp": "2025-11-15 14:30"}, ' ||
	-- a record with a hundred keys besides its fields
	(SELECT jsonb_object_agg('extra_' || g, g)
			|| '{"id": "many_keys", "to_number": "+12025559876", "timestamp": "2025-11-15T14:30:00Z",
				 "message": "found among many", "length": 7, "delivered": true}'
	   FROM generate_series(1, 100) g)::text
) - 'import_id' AS response;
SELECT cut(id) AS id, list_id, to_number, cut(message) AS message, char_length(message) AS message_chars,
	   creative_id, cut(send_type) AS send_type, delivered, length, sent_at, imported
  FROM trackly.sends ORDER BY id COLLATE "C";

-- Bounded answers: an id shown in errors is at most 255 characters, in the
-- response and in import_errors, and the sentence says it was cut; a long
-- string id, an integer id of 131,072 digits, one whose phone fails first.
SELECT import(
	'{"id": "' || repeat('é', 300) || '", ' || :'ok' || '}, ' ||
	'{"id": 1e131071, ' || :'ok' || '}, ' ||
	'{"id": "' || repeat('x', 256) || '", "to_number": "bad", "timestamp": "2025-11-15T14:30:00Z"}, ' ||
	'{"id": "' || repeat('y', 255) || '", "to_number": "bad", "timestamp": "2025-11-15T14:30:00Z"}') AS cut_ids \gset
SELECT index, char_length(id) AS id_chars, left(id, 12) AS id_starts, code, error
  FROM failures(:'cut_ids');
SELECT index, char_length(id) AS id_chars, code, right(error, 45) AS error_ends
  FROM trackly.import_errors
 WHERE account_id = :account AND import_id = (:'cut_ids'::jsonb->>'import_id')::bigint
 ORDER BY index;
-- A thousand such records: the response stays small.
SELECT (r->>'error_count')::int AS errors, jsonb_array_length(r->'errors') AS listed,
	   length(r::text) < 100 * (255 + 300) AS bounded
  FROM import((SELECT string_agg('{"id": 1e131071, ' || :'ok' || '}', ', ') FROM generate_series(1, 1000))) r;

-- Phone validation per account: 'possible' (the default) takes a possible
-- number that matches no number type; 'valid' refuses it, to_number and
-- list_number alike, and its sentence names the rule; a kept national
-- prefix fails both with the E.164 form.  Lists follow the mode too.
SELECT phone_validation FROM trackly.accounts WHERE id = :other;
SELECT trackly_create_list(:other, '+12001234567', 'Possible, not valid', 5) AS list_5;
SELECT trackly_import_sends('{"records": [
	{"id": "p1", "to_number": "+12001234567", "timestamp": "2025-11-15T14:30:00Z"},
	{"id": "p2", "to_number": "+810312345678", "timestamp": "2025-11-15T14:30:00Z"},
	{"id": "p3", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+12001234567"}]}',
	:other) - 'import_id' AS possible_mode;
SELECT trackly_set_phone_validation(:other, 'valid');
SELECT phone_validation FROM trackly.accounts WHERE id = :other;
SELECT index, id, code, error FROM failures(trackly_import_sends('{"records": [
	{"id": "v1", "to_number": "+12001234567", "timestamp": "2025-11-15T14:30:00Z"},
	{"id": "v2", "to_number": "+810312345678", "timestamp": "2025-11-15T14:30:00Z"},
	{"id": "v3", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z", "list_number": "+12001234567"},
	{"id": "v4", "to_number": "+14155551234", "timestamp": "2025-11-15T14:30:00Z"}]}',
	:other));
SELECT id, to_number FROM trackly.sends WHERE account_id = :other ORDER BY id;
SELECT trackly_create_list(:other, '+12001234568', 'Possible, not valid');
SELECT trackly_create_list(:other, '+4402071838750', 'Kept prefix');
SELECT trackly_set_phone_validation(:other, 'possible');
SELECT phone_validation FROM trackly.accounts WHERE id = :other;
-- Admin errors: NULL is 22004, an unknown account or mode 22023; Citus
-- functions without Citus 55000.
CREATE FUNCTION fails_with(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SELECT s AS statement, fails_with(s) AS outcome
  FROM unnest(ARRAY[
	'SELECT trackly_set_phone_validation(NULL, ''valid'')',
	'SELECT trackly_set_phone_validation(' || :other || ', NULL)',
	'SELECT trackly_set_phone_validation(-1, ''valid'')',
	'SELECT trackly_set_phone_validation(' || :other || ', ''strict'')',
	'SELECT trackly_set_phone_validation(' || :other || ', ''VALID'')',
	'SELECT trackly_distribute()']) s;

SET client_min_messages = warning;
DROP SCHEMA import_records CASCADE;
