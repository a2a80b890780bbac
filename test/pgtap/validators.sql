-- validators.sql: the SQL-callable validators (README, Functions).
-- trackly_is_e164(text), trackly_is_iso8601(text), trackly_iso8601(text):
-- IMMUTABLE STRICT PARALLEL SAFE, executable by everyone, usable in CHECK
-- constraints, domains, generated columns and indexes; trackly_iso8601 raises
-- 22007 naming the bad value.
BEGIN;
SELECT plan(47);

SET LOCAL timezone = 'UTC';

-- The three validators, found through the extension (not by search_path).
CREATE TEMP TABLE validator (name text PRIMARY KEY, fn regprocedure NOT NULL) ON COMMIT DROP;
INSERT INTO validator
SELECT p.proname, p.oid::regprocedure
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_proc p ON p.oid = d.objid AND d.classid = 'pg_catalog.pg_proc'::regclass
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'trackly_history')
   AND d.deptype = 'e'
   AND p.proname IN ('trackly_is_e164', 'trackly_is_iso8601', 'trackly_iso8601');

SELECT results_eq(
	$$SELECT name, fn::text FROM validator ORDER BY name$$,
	$$VALUES ('trackly_is_e164', 'trackly_is_e164(text)'),
	         ('trackly_is_iso8601', 'trackly_is_iso8601(text)'),
	         ('trackly_iso8601', 'trackly_iso8601(text)')$$,
	'the three validators belong to the extension, each taking one text');

-- Declared properties (pg_proc), one test per function and property.
SELECT is(p.provolatile, 'i', v.name || ' is IMMUTABLE')
  FROM validator v JOIN pg_catalog.pg_proc p ON p.oid = v.fn ORDER BY v.name;
SELECT ok(p.proisstrict, v.name || ' is STRICT')
  FROM validator v JOIN pg_catalog.pg_proc p ON p.oid = v.fn ORDER BY v.name;
SELECT is(p.proparallel, 's', v.name || ' is PARALLEL SAFE')
  FROM validator v JOIN pg_catalog.pg_proc p ON p.oid = v.fn ORDER BY v.name;
SELECT ok(NOT p.prosecdef, v.name || ' is not SECURITY DEFINER (it needs no privilege)')
  FROM validator v JOIN pg_catalog.pg_proc p ON p.oid = v.fn ORDER BY v.name;
SELECT is(p.prorettype::regtype, CASE v.name WHEN 'trackly_iso8601' THEN 'timestamptz'::regtype ELSE 'boolean'::regtype END,
		  v.name || ' returns ' || CASE v.name WHEN 'trackly_iso8601' THEN 'timestamptz' ELSE 'boolean' END)
  FROM validator v JOIN pg_catalog.pg_proc p ON p.oid = v.fn ORDER BY v.name;

-- Executable by everyone: a fresh role without any grant can run them.
CREATE ROLE trackly_test_nobody NOLOGIN;
SELECT ok(has_function_privilege('trackly_test_nobody', v.fn, 'EXECUTE'),
		  v.name || ' is executable by a fresh role (PUBLIC)')
  FROM validator v ORDER BY v.name;
SELECT ok(EXISTS (SELECT FROM pg_catalog.pg_proc p, aclexplode(p.proacl) a
				   WHERE p.oid = v.fn AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'),
		  v.name || ' grants EXECUTE to PUBLIC explicitly')
  FROM validator v ORDER BY v.name;

SET LOCAL ROLE trackly_test_nobody;
SELECT is(trackly_is_e164('+14155551234'), true, 'a fresh role calls trackly_is_e164');
SELECT is(trackly_is_iso8601('2025-11-15T14:30:00Z'), true, 'a fresh role calls trackly_is_iso8601');
SELECT is(trackly_iso8601('2025-11-15T14:30:00Z'), '2025-11-15 14:30:00+00'::timestamptz,
		  'a fresh role calls trackly_iso8601');
RESET ROLE;

-- STRICT: NULL in, NULL out.
SELECT is(trackly_is_e164(NULL), NULL, 'trackly_is_e164(NULL) is NULL');
SELECT is(trackly_is_iso8601(NULL), NULL, 'trackly_is_iso8601(NULL) is NULL');
SELECT is(trackly_iso8601(NULL), NULL, 'trackly_iso8601(NULL) is NULL');

-- Results on a handful of values.
SELECT results_eq(
	$$SELECT v, trackly_is_e164(v) FROM unnest(ARRAY[
		'+14155551234', '+447911123456', '+33612345678', '+442071838750',
		'+4402071838750', '12345', '+1415555123', '+999123456', '',
		' +14155551234', '+14155551234 ', '+1 415 555 1234', '+１4155551234',
		'+1234567890123456']) WITH ORDINALITY AS u(v, i) ORDER BY i$$,
	$$VALUES ('+14155551234', true), ('+447911123456', true), ('+33612345678', true),
	         ('+442071838750', true), ('+4402071838750', false), ('12345', false),
	         ('+1415555123', false), ('+999123456', false), ('', false),
	         (' +14155551234', false), ('+14155551234 ', false), ('+1 415 555 1234', false),
	         ('+１4155551234', false), ('+1234567890123456', false)$$,
	'trackly_is_e164: E.164 as the README defines it (no national prefix, no spaces, ASCII only)');

SELECT results_eq(
	$$SELECT v, trackly_is_iso8601(v) FROM unnest(ARRAY[
		'2025-11-15T14:30:00Z', '2025-11-15 14:30', '2025-11-15t14:30:00,5+01:30',
		'2024-02-29T00:00:00Z', '2025-11-15T14:30:00.123456789-0530', '0001-01-01T00:00Z',
		'2025-11-15', 'now', 'epoch', 'Nov 15 2025', '2023-02-29T00:00:00Z',
		'2025-11-15T24:00:00Z', '2025-11-15T23:58:60Z', ' 2025-11-15T14:30:00Z',
		'2025-11-15T14:30:00Z ', '1731680000', '0000-01-01T00:00Z', '2025-11-15T14:30:00+24:00'
		]) WITH ORDINALITY AS u(v, i) ORDER BY i$$,
	$$VALUES ('2025-11-15T14:30:00Z', true), ('2025-11-15 14:30', true),
	         ('2025-11-15t14:30:00,5+01:30', true), ('2024-02-29T00:00:00Z', true),
	         ('2025-11-15T14:30:00.123456789-0530', true), ('0001-01-01T00:00Z', true),
	         ('2025-11-15', false), ('now', false), ('epoch', false), ('Nov 15 2025', false),
	         ('2023-02-29T00:00:00Z', false), ('2025-11-15T24:00:00Z', false),
	         ('2025-11-15T23:58:60Z', false), (' 2025-11-15T14:30:00Z', false),
	         ('2025-11-15T14:30:00Z ', false), ('1731680000', false),
	         ('0000-01-01T00:00Z', false), ('2025-11-15T14:30:00+24:00', false)$$,
	'trackly_is_iso8601: the README''s ISO 8601, not PostgreSQL''s lenient input');

SELECT results_eq(
	$$SELECT trackly_iso8601(v) FROM unnest(ARRAY[
		'2025-11-15T14:30:00Z', '2025-11-15 14:30', '2025-11-15t14:30:00,5+01:30',
		'2025-11-15T14:30:00-0530', '2025-11-15T14:30:00.0000005Z', '2025-11-15T14:30:00.0000015Z',
		'2025-11-15T14:30:00.9999996Z', '2025-11-15T14:30+05']) WITH ORDINALITY AS u(v, i) ORDER BY i$$,
	$$VALUES ('2025-11-15 14:30:00+00'::timestamptz), ('2025-11-15 14:30:00+00'),
	         ('2025-11-15 13:00:00.5+00'), ('2025-11-15 20:00:00+00'),
	         ('2025-11-15 14:30:00+00'), ('2025-11-15 14:30:00.000002+00'),
	         ('2025-11-15 14:30:01+00'), ('2025-11-15 09:30:00+00')$$,
	'trackly_iso8601: offsets applied, no offset is UTC, fractions rounded to the microsecond ties to even');

-- trackly_iso8601 raises 22007 and names the value.
SELECT throws_ok($$SELECT trackly_iso8601('Nov 15 2025')$$, '22007',
				 'invalid ISO 8601 date-time: "Nov 15 2025"',
				 'trackly_iso8601 raises 22007 naming the value');
SELECT throws_ok($$SELECT trackly_iso8601('now')$$, '22007',
				 'invalid ISO 8601 date-time: "now"',
				 'trackly_iso8601(''now'') raises 22007: PostgreSQL''s special values are not ISO 8601');
SELECT throws_ok($$SELECT trackly_iso8601('2025-02-29T10:00:00Z')$$, '22007',
				 'invalid ISO 8601 date-time: "2025-02-29T10:00:00Z"',
				 'trackly_iso8601 raises 22007 for a day that does not exist');
SELECT throws_ok($$SELECT trackly_iso8601('')$$, '22007', NULL,
				 'trackly_iso8601('''') raises 22007');
SELECT throws_like($$SELECT trackly_iso8601(repeat('x', 100))$$,
				   'invalid ISO 8601 date-time: "' || repeat('x', 40) || '"...',
				   'trackly_iso8601 names a long bad value shortened to 40 characters');

-- Usable in CHECK constraints.
CREATE TABLE public.trackly_test_checked (
	phone text CHECK (trackly_is_e164(phone)),
	at text CHECK (trackly_is_iso8601(at))
);
SELECT lives_ok($$INSERT INTO public.trackly_test_checked VALUES ('+14155551234', '2025-11-15T14:30:00Z')$$,
				'a CHECK constraint with the validators accepts valid values');
SELECT throws_ok($$INSERT INTO public.trackly_test_checked VALUES ('+4402071838750', NULL)$$, '23514', NULL,
				 'a CHECK constraint with trackly_is_e164 refuses an invalid number');
SELECT throws_ok($$INSERT INTO public.trackly_test_checked VALUES (NULL, 'now')$$, '23514', NULL,
				 'a CHECK constraint with trackly_is_iso8601 refuses an invalid date-time');

-- Usable in domains.
CREATE DOMAIN public.trackly_test_e164 AS text CHECK (trackly_is_e164(VALUE));
CREATE DOMAIN public.trackly_test_iso8601 AS text CHECK (trackly_is_iso8601(VALUE));
SELECT is('+14155551234'::public.trackly_test_e164::text, '+14155551234',
		  'a domain over trackly_is_e164 accepts a valid number');
SELECT throws_ok($$SELECT '12345'::public.trackly_test_e164$$, '23514', NULL,
				 'a domain over trackly_is_e164 refuses an invalid number');
SELECT is('2025-11-15T14:30:00Z'::public.trackly_test_iso8601::text, '2025-11-15T14:30:00Z',
		  'a domain over trackly_is_iso8601 accepts a valid date-time');
SELECT throws_ok($$SELECT '2025-11-15'::public.trackly_test_iso8601$$, '23514', NULL,
				 'a domain over trackly_is_iso8601 refuses a date alone');

-- IMMUTABLE for real: a generated column and an expression index accept them.
SELECT lives_ok($$CREATE TABLE public.trackly_test_generated (
	raw text NOT NULL,
	at timestamptz GENERATED ALWAYS AS (trackly_iso8601(raw)) STORED)$$,
	'trackly_iso8601 can compute a stored generated column');
INSERT INTO public.trackly_test_generated (raw) VALUES ('2025-11-15T14:30:00+01:00');
SELECT is((SELECT at FROM public.trackly_test_generated), '2025-11-15 13:30:00+00'::timestamptz,
		  'the generated column holds the instant');
SELECT throws_ok($$INSERT INTO public.trackly_test_generated (raw) VALUES ('yesterday')$$, '22007', NULL,
				 'an invalid date-time in the generated column raises 22007');
SELECT lives_ok($$CREATE INDEX ON public.trackly_test_checked (trackly_is_e164(phone), trackly_iso8601(at))$$,
				'the validators can be used in an expression index');

SELECT * FROM finish();
ROLLBACK;
