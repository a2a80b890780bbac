/* trackly_history--0.4.0--0.5.0.sql: canonical E.164 numbers, and full validity per account */

\echo Use "ALTER EXTENSION trackly_history UPDATE TO '0.5.0'" to load this file. \quit

-- The rules of contract section 3 (src/e164.h).  Internal helpers first:
-- the E.164 form of a number written with a kept national prefix, and the
-- import's sentence for a number that fails a rule.
CREATE FUNCTION trackly.phone_e164_form(text) RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_phone_e164_form'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.phone_e164_form(text) IS
	'the E.164 form of a number libphonenumber reads as another (a kept national prefix), NULL for any other string';
REVOKE ALL ON FUNCTION trackly.phone_e164_form(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly.phone_e164_form(text) TO trackly_admin;

CREATE FUNCTION trackly.explain_phone(text, valid_only boolean) RETURNS text
	AS 'MODULE_PATHNAME', 'trackly_explain_phone'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly.explain_phone(text, boolean) IS
	'why a string fails the phone rule (valid_only: the full validity), the import''s sentence; NULL when it passes';
REVOKE ALL ON FUNCTION trackly.explain_phone(text, boolean) FROM PUBLIC;

-- Full validity: libphonenumber's is_valid_number on a canonical number.
CREATE FUNCTION trackly_is_valid_phone(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'trackly_is_valid_phone'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly_is_valid_phone(text) IS
	'true when the text is a valid E.164 number (as trackly_is_e164) that also matches a number type of its region in libphonenumber''s metadata';
GRANT EXECUTE ON FUNCTION trackly_is_valid_phone(text) TO PUBLIC;

-- Each account's import rule for phone numbers.
ALTER TABLE trackly.accounts
	ADD COLUMN phone_validation text NOT NULL DEFAULT 'possible'
		CONSTRAINT accounts_phone_validation_check CHECK (phone_validation IN ('possible', 'valid'));
COMMENT ON COLUMN trackly.accounts.phone_validation IS
	'the rule its imports check phone numbers by: possible (E.164, canonical, a possible length) or valid (and a number type of its region)';

CREATE FUNCTION trackly_set_phone_validation(account_id bigint, mode text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM trackly.require_account(account_id);
	IF mode IS NULL THEN
		RAISE EXCEPTION 'the phone validation mode is NULL; pass ''possible'' or ''valid''' USING ERRCODE = '22004';
	END IF;
	IF mode NOT IN ('possible', 'valid') THEN
		RAISE EXCEPTION 'unknown phone validation mode %', quote_literal(left(mode, 40))
			USING ERRCODE = '22023',
				  HINT = 'The modes are ''possible'' (E.164, canonical, a possible length: the default) and ''valid'' (also a number type of its region).';
	END IF;
	UPDATE trackly.accounts a SET phone_validation = mode WHERE a.id = account_id;
END
$$;
COMMENT ON FUNCTION trackly_set_phone_validation(bigint, text) IS
	'sets the rule an account''s imports check phone numbers by: possible (the default) or valid';
REVOKE ALL ON FUNCTION trackly_set_phone_validation(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_set_phone_validation(bigint, text) TO trackly_admin;

-- A list's number follows its account's rule, with the import's sentence.
CREATE OR REPLACE FUNCTION trackly_create_list(account_id bigint, phone_number text, name text, id bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	number text := nullif(phone_number, '');
	list_id bigint := id;
	valid_only boolean;
	taken bigint;
BEGIN
	PERFORM trackly.require_account(account_id);
	PERFORM trackly.require_name('a list', name);
	SELECT a.phone_validation = 'valid' INTO valid_only FROM trackly.accounts a WHERE a.id = account_id;
	IF number IS NOT NULL AND trackly.explain_phone(number, valid_only) IS NOT NULL THEN
		IF trackly.explain_phone(number, false) IS NULL THEN
			RAISE EXCEPTION 'phone_number % is not a valid phone number, which account % requires (phone validation ''valid''): %',
				quote_literal(left(number, 40)), account_id, trackly.explain_phone(number, true)
				USING ERRCODE = '22023',
					  HINT = 'Pass NULL for a list without a number, or set the account''s phone validation to ''possible''.';
		END IF;
		RAISE EXCEPTION 'phone_number % is not a valid E.164 number: %', quote_literal(left(number, 40)),
			trackly.explain_phone(number, false)
			USING ERRCODE = '22023',
				  HINT = 'Write + then the country code and the national number without its national prefix, digits only, for example +14155551234; pass NULL for a list without a number.';
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
DROP FUNCTION trackly.explain_e164(text);

-- List numbers written with a kept national prefix become their E.164 form
-- (the same subscriber), before trackly_is_e164, which their CHECK uses,
-- starts refusing them.  Two lists of an account that turn out to hold the
-- same subscriber, or a number whose form is not valid either, stop the
-- update: which list keeps the number is the user's choice.  The reports
-- are WARNINGs: PostgreSQL raises client_min_messages to WARNING while it
-- runs an extension script, so a NOTICE would never be seen.
DO $lists$
DECLARE
	clashes text;
	unfixable text;
	rewritten bigint;
	shown text;
	refused_sends bigint;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.format('account %s: lists %s', g.account_id, g.lists), '; ')
	  INTO clashes
	  FROM (SELECT l.account_id,
				   pg_catalog.string_agg(pg_catalog.format('%s (%s)', l.id, l.phone_number), ', ' ORDER BY l.id) AS lists
			  FROM trackly.lists l
			 WHERE l.phone_number IS NOT NULL
			 GROUP BY l.account_id, coalesce(trackly.phone_e164_form(l.phone_number), l.phone_number)
			HAVING pg_catalog.count(*) > 1) g;
	IF clashes IS NOT NULL THEN
		RAISE EXCEPTION 'lists hold the same subscriber under two spellings: %', clashes
			USING ERRCODE = '23505',
				  DETAIL = '0.5.0 stores only the E.164 form of a number (no national prefix), so these would become equal.',
				  HINT = 'Give all but one of each group another number or none (UPDATE trackly.lists SET phone_number = NULL WHERE account_id = ... AND id = ...), then update again.';
	END IF;

	SELECT pg_catalog.string_agg(pg_catalog.format('account %s list %s (%s): %s', l.account_id, l.id, l.phone_number,
												   trackly.explain_phone(l.phone_number, false)), '; ' ORDER BY l.account_id, l.id)
	  INTO unfixable
	  FROM trackly.lists l
	 WHERE l.phone_number IS NOT NULL
	   AND trackly.explain_phone(l.phone_number, false) IS NOT NULL
	   AND trackly.phone_e164_form(l.phone_number) IS NULL;
	IF unfixable IS NOT NULL THEN
		RAISE EXCEPTION 'list numbers that 0.5.0''s rule refuses and that have no valid E.164 form: %', unfixable
			USING ERRCODE = '23514',
				  HINT = 'Give these lists a valid number or none (UPDATE trackly.lists SET phone_number = ...), then update again.';
	END IF;

	WITH changed AS (
		UPDATE trackly.lists l SET phone_number = trackly.phone_e164_form(l.phone_number)
		 WHERE l.phone_number IS NOT NULL AND trackly.phone_e164_form(l.phone_number) IS NOT NULL
		RETURNING l.account_id, l.id, l.phone_number
	)
	SELECT pg_catalog.count(*),
		   pg_catalog.string_agg(pg_catalog.format('account %s list %s now %s', c.account_id, c.id, c.phone_number), '; '
								 ORDER BY c.account_id, c.id)
	  INTO rewritten, shown
	  FROM changed c;

	SELECT pg_catalog.count(*) INTO refused_sends
	  FROM trackly.sends s
	 WHERE trackly.explain_phone(s.to_number, false) IS NOT NULL;

	-- A fresh install (CREATE EXTENSION runs this script too) has nothing to report.
	IF NOT EXISTS (SELECT FROM trackly.lists) AND NOT EXISTS (SELECT FROM trackly.sends) THEN
		RETURN;
	END IF;
	RAISE WARNING 'phone numbers are now canonical E.164 (no national prefix kept): % list numbers rewritten to their E.164 form%; % stored sends have a to_number the new rule refuses',
		rewritten, CASE WHEN rewritten > 0 THEN ' (' || left(shown, 2000) || ')' ELSE '' END, refused_sends
		USING HINT = CASE WHEN refused_sends > 0
						  THEN 'Stored sends are kept as they are; SELECT account_id, id, to_number, trackly.phone_e164_form(to_number) FROM trackly.sends WHERE NOT trackly_is_e164(to_number) lists them with their E.164 form.'
						  ELSE 'Nothing stored needs attention.' END;
END
$lists$;

-- The validator's verdicts change: the older versions' definition keeps
-- pointing at the old rule (a kept national prefix passes when the length
-- fits) until this update repoints it.  The user's objects that use it are
-- listed (a WARNING, as above): values they hold may now be refused
-- (README, Upgrading).
CREATE OR REPLACE FUNCTION trackly_is_e164(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'trackly_is_e164_v2'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly_is_e164(text) IS
	'true when the text is a valid E.164 phone number: +, an assigned country code, a possible national length, at most 15 digits, and no national prefix kept';
DO $users$
DECLARE
	users text;
BEGIN
	SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), '; ')
	  INTO users
	  FROM pg_catalog.pg_depend d
	 WHERE d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
	   AND d.refobjid = '@extschema@.trackly_is_e164(text)'::pg_catalog.regprocedure
	   AND d.deptype = 'n'
	   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint c
						 JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
						 JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
						WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
						  AND c.oid = d.objid AND n.nspname = 'trackly');
	IF users IS NOT NULL THEN
		RAISE WARNING 'trackly_is_e164 now refuses numbers written with a kept national prefix (+4402071838750, +810312345678); these use it: %', users
			USING HINT = 'Values they already hold are not checked again; the README (Upgrading to 0.5.0) gives the query that finds the ones the new rule refuses.';
	END IF;
END
$users$;

-- Scaling out with Citus: run once on the coordinator after CREATE EXTENSION
-- and citus_add_node.  Idempotent.  Not SECURITY DEFINER: Citus wants the
-- tables' owner (a superuser, as the extension's tables are owned by the
-- one who created it).  The foreign keys to accounts are dropped for the
-- conversion and made again: with them in place, Citus would turn lists and
-- api_keys into Citus local tables first and create them on the workers,
-- where the extension made them already.
CREATE FUNCTION trackly_distribute() RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	workers bigint;
	t record;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'Citus is not installed in this database'
			USING ERRCODE = '55000',
				  HINT = 'Put citus in shared_preload_libraries, CREATE EXTENSION citus, add the workers with citus_add_node, then call trackly_distribute() again.';
	END IF;
	EXECUTE 'SELECT count(*) FROM pg_dist_node WHERE noderole = ''primary'' AND isactive AND groupid <> 0'
		INTO workers;
	IF workers = 0 THEN
		RAISE EXCEPTION 'no Citus worker is known'
			USING ERRCODE = '55000',
				  HINT = 'Add the workers with citus_add_node(host, port) on this coordinator first.';
	END IF;
	-- Foreign keys to a reference table want one connection per node for
	-- everything the transaction does to the distributed tables.
	PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);

	IF EXISTS (SELECT FROM pg_constraint c
				WHERE c.contype = 'f' AND c.confrelid = 'trackly.accounts'::regclass
				  AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.conrelid)) THEN
		ALTER TABLE trackly.lists DROP CONSTRAINT IF EXISTS lists_account_id_fkey;
		ALTER TABLE trackly.api_keys DROP CONSTRAINT IF EXISTS api_keys_account_id_fkey;
		-- The workers' copies of the extension's tables (Citus created the
		-- extension there too) become the shells of the Citus tables: the
		-- keys are made again below through the coordinator, for all.
		PERFORM run_command_on_workers(
			'ALTER TABLE trackly.lists DROP CONSTRAINT IF EXISTS lists_account_id_fkey;'
			' ALTER TABLE trackly.api_keys DROP CONSTRAINT IF EXISTS api_keys_account_id_fkey');
	END IF;

	FOR t IN SELECT * FROM (VALUES
			(1, 'trackly.accounts', 'reference'),
			(2, 'trackly.api_keys', 'reference'),
			(3, 'trackly.imports', 'distributed'),
			(4, 'trackly.sends', 'distributed'),
			(5, 'trackly.lists', 'distributed'),
			(6, 'trackly.import_errors', 'distributed')) AS x(n, relation, kind)
		ORDER BY n
	LOOP
		CONTINUE WHEN EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = t.relation::regclass);
		IF t.kind = 'reference' THEN
			PERFORM create_reference_table(t.relation::regclass);
		ELSIF t.relation = 'trackly.imports' THEN
			PERFORM create_distributed_table(t.relation::regclass, 'account_id');
		ELSE
			PERFORM create_distributed_table(t.relation::regclass, 'account_id', colocate_with => 'trackly.imports');
		END IF;
	END LOOP;

	IF NOT EXISTS (SELECT FROM pg_constraint c
					WHERE c.contype = 'f' AND c.conrelid = 'trackly.lists'::regclass) THEN
		ALTER TABLE trackly.lists ADD CONSTRAINT lists_account_id_fkey
			FOREIGN KEY (account_id) REFERENCES trackly.accounts (id);
	END IF;
	IF NOT EXISTS (SELECT FROM pg_constraint c
					WHERE c.contype = 'f' AND c.conrelid = 'trackly.api_keys'::regclass) THEN
		ALTER TABLE trackly.api_keys ADD CONSTRAINT api_keys_account_id_fkey
			FOREIGN KEY (account_id) REFERENCES trackly.accounts (id);
	END IF;
END
$$;
COMMENT ON FUNCTION trackly_distribute() IS
	'makes accounts and api_keys Citus reference tables and lists, sends, imports, import_errors distributed by account_id (run on the coordinator)';
REVOKE ALL ON FUNCTION trackly_distribute() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trackly_distribute() TO trackly_admin;
