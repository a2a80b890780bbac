/* trackly_history--0.1.0--0.2.0.sql: accounts, API keys, lists, sends, the import audit, roles */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.2.0'" to load this file. \quit

-- Roles are cluster-wide: create them only when missing; DROP EXTENSION keeps them.
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'trackly_api') THEN
		CREATE ROLE trackly_api NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'trackly_admin') THEN
		CREATE ROLE trackly_admin NOLOGIN;
	END IF;
END
$roles$;

CREATE SCHEMA trackly;
COMMENT ON SCHEMA trackly IS 'Trackly SMS send history: accounts, API keys, lists, sends and the import audit';
REVOKE ALL ON SCHEMA trackly FROM PUBLIC;

-- Small tables (Citus reference tables): accounts and their API keys.

CREATE TABLE trackly.accounts (
	id			bigserial PRIMARY KEY,
	name		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE trackly.accounts IS 'customers of the platform';

CREATE TABLE trackly.api_keys (
	account_id	bigint NOT NULL REFERENCES trackly.accounts (id),
	id			bigserial,
	key_sha256	bytea NOT NULL UNIQUE CHECK (pg_catalog.length(key_sha256) = 32),
	prefix		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	revoked_at	timestamptz,
	PRIMARY KEY (account_id, id)
);
COMMENT ON TABLE trackly.api_keys IS 'API keys: the sha256 of each key (never the key) and its display prefix';

-- Tables that grow with traffic: every key includes account_id (Citus distribution column).

CREATE TABLE trackly.lists (
	account_id	bigint NOT NULL REFERENCES trackly.accounts (id),
	id			bigint NOT NULL CHECK (id > 0),
	phone_number text CHECK (@extschema@.trackly_is_e164(phone_number)),
	name		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (account_id, id),
	UNIQUE (account_id, phone_number)
);
COMMENT ON TABLE trackly.lists IS 'sending lists; phone_number is the list''s sending number';

CREATE TABLE trackly.sends (
	account_id	bigint NOT NULL,
	id			text COLLATE "C" NOT NULL,
	list_id		bigint,
	to_number	text NOT NULL,
	message		text,
	creative_id bigint,
	send_type	text,
	delivered	boolean,
	length		integer,
	sent_at		timestamptz NOT NULL,
	imported	boolean NOT NULL DEFAULT false,
	import_id	bigint,
	PRIMARY KEY (account_id, id)
);
COMMENT ON TABLE trackly.sends IS 'send history; id is the message id, unique per account';

CREATE TABLE trackly.imports (
	account_id	bigint NOT NULL,
	id			bigserial,
	source		text NOT NULL CHECK (source IN ('api', 'sql', 'staged')),
	api_key_id	bigint,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	success_count integer NOT NULL,
	error_count integer NOT NULL,
	duplicates_skipped integer NOT NULL,
	invalid_phones integer NOT NULL,
	PRIMARY KEY (account_id, id)
);
COMMENT ON TABLE trackly.imports IS 'one row per import call, with its counts';

CREATE TABLE trackly.import_errors (
	account_id	bigint NOT NULL,
	import_id	bigint NOT NULL,
	index		integer NOT NULL,
	id			text,
	code		text NOT NULL,
	error		text NOT NULL,
	PRIMARY KEY (account_id, import_id, index)
);
COMMENT ON TABLE trackly.import_errors IS 'every failed record of every import: its position, id, code and message';
-- No foreign key to imports: the import writes both in one call, and a key
-- check per failed record would cost more than writing it.

-- pg_dump keeps the rows of every table and the position of every sequence.
SELECT pg_catalog.pg_extension_config_dump('trackly.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.accounts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.api_keys', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.api_keys_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.lists', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.sends', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.imports', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.imports_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('trackly.import_errors', '');

-- A fresh API key (not stored anywhere): trk_ and 32 letters or digits.
CREATE FUNCTION trackly.generate_api_key() RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_generate_api_key'
	LANGUAGE C VOLATILE;

-- The account a function was asked about, or an error that says it is missing.
CREATE FUNCTION trackly.require_account(account_id bigint) RETURNS bigint
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF account_id IS NULL THEN
		RAISE EXCEPTION 'account_id must not be NULL' USING ERRCODE = '22004';
	END IF;
	PERFORM FROM trackly.accounts a WHERE a.id = require_account.account_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'account % does not exist', account_id
			USING ERRCODE = '22023',
				  HINT = 'Create it with trackly_create_account(name), which returns its id.';
	END IF;
	RETURN account_id;
END
$$;

-- A name for an account or a list, or an error that says what is wrong with it.
CREATE FUNCTION trackly.require_name(what text, name text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF name IS NULL OR btrim(name) = '' THEN
		RAISE EXCEPTION '% name must not be empty', what USING ERRCODE = '22023';
	END IF;
	IF char_length(name) > 200 THEN
		RAISE EXCEPTION '% name may have at most 200 characters, this one has %', what, char_length(name)
			USING ERRCODE = '22023';
	END IF;
	RETURN name;
END
$$;

CREATE FUNCTION trackly_create_account(name text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id bigint;
BEGIN
	INSERT INTO trackly.accounts (name) VALUES (trackly.require_name('an account', name))
		RETURNING id INTO new_id;
	RETURN new_id;
END
$$;
COMMENT ON FUNCTION trackly_create_account(text) IS 'creates an account and returns its id';

CREATE FUNCTION trackly_create_api_key(account_id bigint) RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_key text := trackly.generate_api_key();
BEGIN
	PERFORM trackly.require_account(account_id);
	INSERT INTO trackly.api_keys (account_id, key_sha256, prefix)
		VALUES (account_id, sha256(convert_to(new_key, 'UTF8')), left(new_key, 8));
	RETURN new_key;
END
$$;
COMMENT ON FUNCTION trackly_create_api_key(bigint) IS
	'creates an API key for the account and returns it; this is the only time it is shown, only its sha256 is stored';

CREATE FUNCTION trackly_list_api_keys(account_id bigint)
	RETURNS TABLE (id bigint, prefix text, created_at timestamptz, revoked_at timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM trackly.require_account(account_id);
	RETURN QUERY
		SELECT k.id, k.prefix, k.created_at, k.revoked_at
		  FROM trackly.api_keys k
		 WHERE k.account_id = trackly_list_api_keys.account_id
		 ORDER BY k.id;
END
$$;
COMMENT ON FUNCTION trackly_list_api_keys(bigint) IS 'the API keys of an account: id, display prefix, creation and revocation times';

CREATE FUNCTION trackly_revoke_api_key(key_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF key_id IS NULL THEN
		RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
	END IF;
	UPDATE trackly.api_keys k SET revoked_at = coalesce(k.revoked_at, now())
	 WHERE k.id = key_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'API key % does not exist', key_id
			USING ERRCODE = '22023',
				  HINT = 'trackly_list_api_keys(account_id) lists the keys of an account.';
	END IF;
END
$$;
COMMENT ON FUNCTION trackly_revoke_api_key(bigint) IS 'revokes the API key with that id; revoking twice keeps the first time';

CREATE FUNCTION trackly_revoke_api_key(key text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF key IS NULL OR key !~ '^trk_[A-Za-z0-9]{32}$' THEN
		RAISE EXCEPTION 'not an API key'
			USING ERRCODE = '22023',
				  DETAIL = 'An API key is trk_ followed by 32 ASCII letters or digits.';
	END IF;
	UPDATE trackly.api_keys k SET revoked_at = coalesce(k.revoked_at, now())
	 WHERE k.key_sha256 = sha256(convert_to(key, 'UTF8'));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such API key' USING ERRCODE = '22023';
	END IF;
END
$$;
COMMENT ON FUNCTION trackly_revoke_api_key(text) IS 'revokes the given API key; revoking twice keeps the first time';

CREATE FUNCTION trackly_create_list(account_id bigint, phone_number text, name text, id bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	number text := nullif(phone_number, '');
	list_id bigint := id;
	taken bigint;
BEGIN
	PERFORM trackly.require_account(account_id);
	PERFORM trackly.require_name('a list', name);
	IF number IS NOT NULL AND NOT @extschema@.trackly_is_e164(number) THEN
		RAISE EXCEPTION 'phone_number % is not a valid E.164 number', quote_literal(left(number, 40))
			USING ERRCODE = '22023',
				  HINT = 'Write + then the country code and the national number, digits only, for example +14155551234; pass NULL for a list without a number.';
	END IF;
	IF list_id IS NOT NULL AND list_id < 1 THEN
		RAISE EXCEPTION 'a list id must be at least 1, not %', list_id USING ERRCODE = '22023';
	END IF;

	-- One list creation at a time per account, so the checks below hold.
	PERFORM FROM trackly.accounts a WHERE a.id = account_id FOR NO KEY UPDATE;

	IF number IS NOT NULL THEN
		SELECT l.id INTO taken FROM trackly.lists l
		 WHERE l.account_id = trackly_create_list.account_id AND l.phone_number = number;
		IF FOUND THEN
			RAISE EXCEPTION 'account % already has a list with phone number %', account_id, number
				USING ERRCODE = '23505', DETAIL = format('It is list %s.', taken);
		END IF;
	END IF;

	IF list_id IS NULL THEN
		-- The next id after the account's highest, or the lowest free one when that is the largest bigint.
		SELECT coalesce(max(l.id), 0) INTO taken FROM trackly.lists l
		 WHERE l.account_id = trackly_create_list.account_id;
		IF taken < 9223372036854775807 THEN
			list_id := taken + 1;
		ELSE
			SELECT min(candidate) INTO list_id
			  FROM (SELECT 1::bigint AS candidate
					UNION ALL
					SELECT l.id + 1 FROM trackly.lists l
					 WHERE l.account_id = trackly_create_list.account_id
					   AND l.id < 9223372036854775807) c
			 WHERE NOT EXISTS (SELECT FROM trackly.lists l
								WHERE l.account_id = trackly_create_list.account_id
								  AND l.id = c.candidate);
		END IF;
	ELSIF EXISTS (SELECT FROM trackly.lists l
				   WHERE l.account_id = trackly_create_list.account_id AND l.id = list_id) THEN
		RAISE EXCEPTION 'account % already has a list with id %', account_id, list_id
			USING ERRCODE = '23505',
				  HINT = 'Pass NULL as id to have a free id chosen.';
	END IF;

	INSERT INTO trackly.lists (account_id, id, phone_number, name)
		VALUES (account_id, list_id, number, name);
	RETURN list_id;
END
$$;
COMMENT ON FUNCTION trackly_create_list(bigint, text, text, bigint) IS
	'creates a sending list and returns its id: the given one (to keep the old platform''s), or a free one of the account';

CREATE FUNCTION trackly_import_sends(jsonb) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_import_sends_api'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION trackly_import_sends(jsonb) IS
	'imports up to 1,000 send records for the account of the API key (x-api-key of request.headers, else trackly.api_key); returns the response body';

CREATE FUNCTION trackly_import_sends(jsonb, bigint) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'trackly_import_sends_sql'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION trackly_import_sends(jsonb, bigint) IS
	'imports up to 1,000 send records for the given account, without an API key; returns the response body';

-- Privileges: PUBLIC runs only the validators; trackly_admin runs the rest and reads every table.
REVOKE ALL ON FUNCTION trackly.generate_api_key(), trackly.require_account(bigint),
	trackly.require_name(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION trackly_import_sends(jsonb), trackly_import_sends(jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_import_sends(jsonb) TO trackly_api, trackly_admin;
GRANT EXECUTE ON FUNCTION trackly_import_sends(jsonb, bigint) TO trackly_admin;
REVOKE ALL ON FUNCTION trackly_create_account(text), trackly_create_api_key(bigint),
	trackly_list_api_keys(bigint), trackly_revoke_api_key(bigint), trackly_revoke_api_key(text),
	trackly_create_list(bigint, text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_create_account(text), trackly_create_api_key(bigint),
	trackly_list_api_keys(bigint), trackly_revoke_api_key(bigint), trackly_revoke_api_key(text),
	trackly_create_list(bigint, text, text, bigint) TO trackly_admin;
GRANT USAGE ON SCHEMA trackly TO trackly_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA trackly TO trackly_admin;
