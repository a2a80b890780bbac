/* trackly_history--0.1.0.sql: the validators */

\echo Use "CREATE EXTENSION trackly_history" to load this file. \quit

CREATE FUNCTION trackly_is_e164(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'trackly_is_e164'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly_is_e164(text) IS
	'true when the text is a valid E.164 phone number: +, an assigned country code, a possible national length, at most 15 digits';

CREATE FUNCTION trackly_is_iso8601(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'trackly_is_iso8601'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly_is_iso8601(text) IS
	'true when the text is a valid ISO 8601 date-time as the import accepts it';

CREATE FUNCTION trackly_iso8601(text) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'trackly_iso8601'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION trackly_iso8601(text) IS
	'the instant an ISO 8601 date-time names (no offset means UTC); raises 22007 when it is not valid';

GRANT EXECUTE ON FUNCTION trackly_is_e164(text), trackly_is_iso8601(text),
	trackly_iso8601(text) TO PUBLIC;
