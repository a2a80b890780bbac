-- The SQL-callable validators: trackly_is_e164, trackly_is_valid_phone,
-- trackly_is_iso8601, trackly_iso8601.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS trackly_history CASCADE;
CREATE EXTENSION trackly_history;
RESET client_min_messages;
SET TimeZone = 'UTC';

-- E.164: "+", an assigned country code, a possible national length, at most
-- 15 digits, no national prefix kept (libphonenumber's parser gives it back
-- unchanged); trackly_is_valid_phone also wants a number type of its region.
SELECT v AS value, trackly_is_e164(v) AS is_e164, trackly_is_valid_phone(v) AS is_valid_phone
  FROM unnest(ARRAY[
	'+14155551234',           -- the original page's numbers
	'+12025559876',
	'+13105558888',
	'+442071838750',          -- GB, 10 national digits
	'+4402071838750',         -- GB with the national prefix kept: invalid
	'+810312345678',          -- JP with its national prefix kept, length fits: invalid
	'+81312345678',           -- ... its E.164 form
	'+4903012345678',         -- DE likewise
	'+493012345678',
	'+390612345678',          -- IT keeps its leading zero
	'+2612345678',            -- MG: the parser reads a 7-digit number as 20 + it
	'+261202345678',          -- ... which is the E.164 form
	'+3780549912345',         -- SM with its 0549 area code
	'+12001234567',           -- US: possible (10 digits), no 200 area code: not valid
	'+5491112345678',         -- AR mobile, written with its 9
	'+80012345678',           -- non-geographic +800, 8 digits
	'+800123456789',          -- +800 with 9 digits
	'+4912345678901',         -- DE, 11 national digits
	'+491234567890123',       -- DE, 13 national digits: 15 in all
	'+4912345678901234',      -- 16 digits
	'+1415555123',            -- US, 9 national digits
	'+999123456789',          -- unassigned country code
	'+0123456789',            -- no code starts with 0
	'14155551234',            -- no +
	'+1 415 555 1234',        -- spaces
	'+1-415-555-1234',        -- punctuation
	'+1415555123４',          -- a fullwidth digit
	' +14155551234',          -- white space around
	'+14155551234 ',
	'+',
	'++14155551234',
	''
  ]) AS v;
SELECT trackly_is_e164(NULL) IS NULL AS null_in_null_out,
	   trackly_is_valid_phone(NULL) IS NULL AS valid_null_in_null_out;

-- ISO 8601: date, T/t/space, time, optional seconds and fraction, optional offset.
SELECT v AS value, trackly_is_iso8601(v) AS valid,
	   CASE WHEN trackly_is_iso8601(v) THEN trackly_iso8601(v) END AS instant
  FROM unnest(ARRAY[
	'2025-11-15T14:30:00Z',             -- the original page's timestamps
	'2025-11-15T14:31:00Z',
	'2025-11-15t14:30:00z',             -- lower case
	'2025-11-15 14:30',                 -- space, no seconds, no offset: UTC
	'2025-11-15T14:30:00.123456Z',
	'2025-11-15T14:30:00,5Z',           -- comma fraction
	'2025-11-15T14:30:00.0000005Z',     -- a tie rounds to even: down
	'2025-11-15T14:30:00.0000015Z',     -- a tie rounds to even: up
	'2025-11-15T14:30:00.00000050001Z', -- above the tie: up
	'2025-12-31T23:59:59.9999999Z',     -- rounding carries into the next year
	'2025-11-15T14:30:00+05:30',
	'2025-11-15T14:30:00+0530',
	'2025-11-15T14:30:00-08',
	'2025-11-15T14:30:00-00:00',
	'2024-02-29T12:00:00Z',             -- leap day
	'2000-02-29T12:00:00Z',
	'0001-01-01T00:00:00Z',
	'9999-12-31T23:59:59Z'
  ]) AS v;

SELECT v AS value, trackly_is_iso8601(v) AS valid
  FROM unnest(ARRAY[
	'2025-02-29T12:00:00Z',             -- not a leap year
	'2100-02-29T12:00:00Z',
	'2025-04-31T12:00:00Z',
	'2025-13-01T12:00:00Z',
	'0000-01-01T00:00:00Z',
	'2025-11-15T24:00:00Z',
	'2025-11-15T23:60:00Z',
	'2025-11-15T23:59:60Z',             -- a leap second: 23:59:60 in UTC
	'2025-11-15T23:58:60Z',             -- not one
	'2025-11-15T23:59:60+01:00',        -- 22:59:60 in UTC: not one
	'2025-11-15T14:30:00+24:00',
	'2025-11-15T14:30:00+05:60',
	'2025-11-15T14:30:00+5',
	'2025-11-15T14:30:00+05:',
	'2025-11-15T14:30:00.Z',
	'2025-11-15T14:30.5Z',
	'2025-11-15',                       -- a date alone
	'2025-11-15T14',
	'25-11-15T14:30:00Z',
	'2025-1-15T14:30:00Z',
	'12025-11-15T14:30:00Z',
	' 2025-11-15T14:30:00Z',
	'2025-11-15T14:30:00Z ',
	'2025-11-15T14:30:00 Z',
	'2025-11-15T14:30:00UTC',
	'Nov 15 2025',                      -- PostgreSQL takes these; the import does not
	'now',
	'epoch',
	'today',
	'1731681000',
	''
  ]) AS v;
SELECT trackly_is_iso8601(NULL) IS NULL AS null_in_null_out,
	   trackly_iso8601(NULL) IS NULL AS null_in_null_out;

-- The same instant in every offset form.
SELECT count(DISTINCT trackly_iso8601(v)) AS instants
  FROM unnest(ARRAY['2025-11-15T14:30:00Z', '2025-11-15T15:30:00+01:00',
					'2025-11-15T15:30:00+0100', '2025-11-15T15:30+01',
					'2025-11-15T06:30:00-08:00', '2025-11-15 14:30:00.0000004']) AS v;

-- trackly_iso8601 raises 22007 with the value and the reason.
\set VERBOSITY default
SELECT trackly_iso8601('2025-02-29T12:00:00Z');
SELECT trackly_iso8601('now');
SELECT trackly_iso8601('2025-11-15T24:00:00Z');
SELECT trackly_iso8601('');
SELECT trackly_iso8601(repeat('9', 100));
\set VERBOSITY terse
DO $$
BEGIN
	PERFORM trackly_iso8601('2025-11-15');
EXCEPTION WHEN invalid_datetime_format THEN
	RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END
$$;

-- The string cases of the JSON Schema Test Suite's date-time format tests
-- (draft 2020-12, optional/format/date-time.json), with the verdicts it
-- expects: every one agrees, leap seconds included.
SELECT count(*) AS suite_cases,
	   count(*) FILTER (WHERE trackly_is_iso8601(v) = expected) AS agree
  FROM (VALUES
	('1963-06-19T08:30:06.283185Z', true),
	('1963-06-19T08:30:06Z', true),
	('1937-01-01T12:00:27.87+00:20', true),
	('1990-12-31T15:59:50.123-08:00', true),
	('1998-12-31T23:59:60Z', true),
	('1998-12-31T15:59:60.123-08:00', true),
	('1998-12-31T23:59:61Z', false),
	('1998-12-31T23:58:60Z', false),
	('1998-12-31T22:59:60Z', false),
	('1990-02-31T15:59:59.123-08:00', false),
	('1990-12-31T15:59:59-24:00', false),
	('1963-06-19T08:30:06.28123+01:00Z', false),
	('1990-12-31T24:00:00Z', false),
	('1990-12-31T15:60:00Z', false),
	('1990-12-31T10:00:00+10:60', false),
	('06/19/1963 08:30:06 PST', false),
	('1963-06-19t08:30:06.283185z', true),
	('2013-350T01:01:01', false),
	('1963-6-19T08:30:06.283185Z', false),
	('1963-06-1T08:30:06.283185Z', false),
	('1963-06-1৪T00:00:00Z', false),
	('1963-06-11T0৪:00:00Z', false),
	('+11963-06-19T08:30:06.283185Z', false),
	('1985-04-12T00:59:59.999999999999999Z', true)) AS suite(v, expected);

-- Leap seconds name the next second (RFC 3339, as PostgreSQL reads them).
SELECT trackly_iso8601('1998-12-31T23:59:60Z') AS utc_leap_second,
	   trackly_iso8601('1998-12-31T15:59:60.123-08:00') AS with_offset_and_fraction;
SELECT trackly_iso8601('2025-11-15T14:30:60+01:00');

-- Usable in constraints and domains: they are immutable.
CREATE DOMAIN e164 AS text CHECK (trackly_is_e164(VALUE));
CREATE TABLE contacts (phone e164, seen text CHECK (trackly_is_iso8601(seen)),
					   verified text CHECK (trackly_is_valid_phone(verified)));
INSERT INTO contacts VALUES ('+14155551234', '2025-11-15T14:30:00Z');
INSERT INTO contacts VALUES ('+4402071838750', '2025-11-15T14:30:00Z');
INSERT INTO contacts VALUES ('+14155551234', '2025-11-15T14:30:00Z', '+12001234567');
INSERT INTO contacts VALUES ('+1 415 555 1234', '2025-11-15T14:30:00Z');
INSERT INTO contacts VALUES ('+14155551234', 'now');
SELECT * FROM contacts;
DROP TABLE contacts;
DROP DOMAIN e164;

SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef
  FROM pg_proc p
 WHERE p.proname IN ('trackly_is_e164', 'trackly_is_valid_phone', 'trackly_is_iso8601', 'trackly_iso8601')
 ORDER BY p.proname;
