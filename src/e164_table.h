/*
 * e164_table.h
 *		The tables that src/e164_table.py generates into e164_table.c from
 *		libphonenumber's metadata, for e164.c alone (pure C, no PostgreSQL
 *		headers).
 *
 * Every pattern of the metadata that the validator needs is compiled into a
 * deterministic automaton over the digits 0-9.  All automata share one state
 * table, e164_next; a walk starts at a root state named in the code's row and
 * reads one national digit per step.  A state's label says what the input
 * read so far gives: for a full-match pattern (a region's general pattern, or
 * is_valid_number) whether it matches, for a national prefix rule which entry
 * of e164_outcomes applies.  State 0 rejects everything and is never left.
 */
#ifndef TRACKLY_E164_TABLE_H
#define TRACKLY_E164_TABLE_H

#include <stdint.h>

typedef uint16_t E164State;

/* Label bits: the value (match or outcome index), and "no digit changes it". */
#define E164_LABEL_VALUE	0x7fff
#define E164_LABEL_SINK		0x8000

/* What libphonenumber's parser does with a national number's first digits. */
typedef enum E164ParseKind
{
	E164_PARSE_KEEP = 0,		/* the national prefix rule does not match */
	E164_PARSE_STRIP,			/* drop the first `end` digits */
	E164_PARSE_TRANSFORM		/* replace them: literal, span, suffix */
} E164ParseKind;

/* One outcome of a national prefix rule, for the input that reached it. */
typedef struct E164ParseOutcome
{
	uint8_t		kind;			/* an E164ParseKind */
	uint8_t		end;			/* digits the rule's match covers */
	uint8_t		span_start;		/* transform: the captured group copied */
	uint8_t		span_end;
	char		literal[6];		/* transform: written before the group */
	char		suffix[6];		/* transform: written after it */
} E164ParseOutcome;

/* What the table knows about one country calling code. */
typedef struct E164CountryCode
{
	uint16_t	nsn_lengths;	/* bit n set: n national digits possible */
	uint32_t	kept_stripped;	/* bit n: a parsed-away prefix stays away
								 * when n digits remain */
	E164State	general;		/* the main region's general pattern */
	E164State	valid;			/* is_valid_number */
	E164State	parsing;		/* the national prefix rule; 0: none */
	char		region[4];		/* main region, "" when not assigned */
	char		national_prefix[4]; /* the main region's trunk prefix, "" if none */
	uint8_t		regions;		/* regions that share the code (+1: 25) */
} E164CountryCode;

extern const E164ParseOutcome e164_outcomes[];
extern const E164State e164_next[][10];
extern const uint16_t e164_labels[];
extern const E164CountryCode e164_country_codes[1000];

#endif							/* TRACKLY_E164_TABLE_H */
