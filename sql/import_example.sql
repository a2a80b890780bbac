-- The original API page's example, through both forms of trackly_import_sends.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
DROP SCHEMA IF EXISTS import_example CASCADE;
RESET client_min_messages;
CREATE SCHEMA import_example;
SET search_path = import_example, public;
SET TimeZone = 'UTC';

SELECT trackly_create_account('Example Co') AS account \gset
SELECT trackly_create_list(:account, '+14155551234', 'Main number') AS list_by_number;
SELECT trackly_create_list(:account, NULL, 'Campaigns', 42) AS list_42;
SELECT trackly_create_api_key(:account) AS api_key \gset

-- The page's request body, word for word (its "imported": true is ignored).
\set body '{"records": [{"id": "hist_0001", "list_number": "+14155551234", "to_number": "+12025559876", "message": "Check out this deal!", "send_type": "campaign", "delivered": true, "length": 21, "timestamp": "2025-11-15T14:30:00Z"}, {"id": "hist_0002", "list_id": 42, "to_number": "+13105558888", "message": "Limited time offer", "creative_id": 101, "send_type": "campaign", "delivered": true, "timestamp": "2025-11-15T14:31:00Z"}], "imported": true}'

-- The API form, with the key as a psql session gives it.  The import id is
-- a number in [2^52, 2^53) that tells nothing about other accounts: shown
-- here as the range it lies in.
SET trackly.api_key = :'api_key';
SELECT jsonb_set(r, '{import_id}', to_jsonb(CASE WHEN (r->>'import_id')::bigint BETWEEN 2^52 AND 2^53 - 1
												 THEN '[2^52, 2^53)' END)) AS response
  FROM trackly_import_sends(:'body') r;

-- The page's documented response, plus import_id.
SELECT trackly_import_sends(:'body') - 'import_id' =
	   '{"success_count": 0, "error_count": 0, "duplicates_skipped": 2, "invalid_phones": 0, "errors": []}' AS replay_is_all_duplicates;

SELECT s.account_id = :account AS own_account, s.id, list_id, to_number, message, creative_id,
	   send_type, delivered, length, sent_at, imported, i.success_count AS its_import_stored
  FROM trackly.sends s JOIN trackly.imports i ON i.account_id = s.account_id AND i.id = s.import_id
 ORDER BY s.id;
SELECT account_id = :account AS own_account, source, api_key_id, success_count,
	   error_count, duplicates_skipped, invalid_phones
  FROM trackly.imports ORDER BY created_at, duplicates_skipped;

-- The two-argument form: an explicit account, no key.
RESET trackly.api_key;
SELECT trackly_import_sends(replace(:'body', 'hist_', 'sql_')::jsonb, :account) - 'import_id' AS response;
SELECT source, api_key_id, success_count FROM trackly.imports ORDER BY created_at, duplicates_skipped;

SET client_min_messages = warning;
DROP SCHEMA import_example CASCADE;
