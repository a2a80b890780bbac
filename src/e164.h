/*
 * e164.h
 *		E.164 phone number validation, in pure C (no PostgreSQL headers).
 *
 * A number is "+", an assigned country calling code (1 to 3 digits; the set
 * is prefix-free) and a national significant number whose length is one of
 * the national possible lengths of the code's main region in
 * libphonenumber's metadata, with at most 15 digits in all; and it is
 * canonical: libphonenumber's parser gives it back unchanged (no national
 * prefix that its national_prefix_for_parsing rule would strip).  Optionally
 * it must also be valid in libphonenumber's sense: match a number type of
 * its region.  The tables live in the generated e164_table.c.
 */
#ifndef TRACKLY_E164_H
#define TRACKLY_E164_H

#include <stddef.h>
#include <stdint.h>

/* The verdict on one string; E164_VALID is the only good one. */
typedef enum E164Verdict
{
	E164_VALID = 0,
	E164_EMPTY,					/* the string is empty */
	E164_NO_PLUS,				/* the first character is not '+' */
	E164_NOT_DIGIT,				/* a character after '+' is not 0-9 */
	E164_NO_DIGITS,				/* "+" and nothing after it */
	E164_TOO_LONG,				/* more than 15 digits */
	E164_UNKNOWN_COUNTRY_CODE,	/* the digits start with no assigned code */
	E164_BAD_LENGTH,			/* national number of an impossible length */
	E164_NATIONAL_PREFIX,		/* libphonenumber reads it as another number
								 * (a national prefix kept): not canonical */
	E164_NOT_VALID_NUMBER		/* E164_RULE_VALID: it matches no number type */
} E164Verdict;

/*
 * The rules a number can be checked by.  E164_RULE_POSSIBLE is the contract's
 * (section 3) and the import's default; E164_RULE_VALID adds
 * libphonenumber's is_valid_number; E164_RULE_LENGTHS is the rule of 0.2.0
 * to 0.4.0 (a kept national prefix passes when the length fits), kept for
 * the SQL definitions of those versions.
 */
typedef enum E164Rule
{
	E164_RULE_POSSIBLE = 0,
	E164_RULE_VALID,
	E164_RULE_LENGTHS
} E164Rule;

/* Longest number E.164 allows, in digits (country code included). */
#define E164_MAX_DIGITS 15

/* Room for "+", the digits libphonenumber reads a number as, and a NUL. */
#define E164_FORM_SIZE 32

/*
 * The parts of a number, filled for E164_VALID, E164_BAD_LENGTH,
 * E164_NATIONAL_PREFIX and E164_NOT_VALID_NUMBER.
 */
typedef struct E164Number
{
	int			country_code;	/* e.g. 44 */
	int			cc_digits;		/* 1 to 3 */
	const char *nsn;			/* national significant number, in the input */
	int			nsn_digits;
	char		parsed[E164_FORM_SIZE]; /* E164_NATIONAL_PREFIX: what
										 * libphonenumber makes of it, "+4420..." */
	int			stripped_digits;	/* ... the national prefix it dropped (0: a
									 * transform rule rewrote the digits) */
} E164Number;

/*
 * Checks s[0 .. len-1] (no terminating NUL needed) by E164_RULE_POSSIBLE.
 * When out is not NULL, it receives the parts.
 */
extern E164Verdict e164_check(const char *s, size_t len, E164Number *out);

/* The same by any rule. */
extern E164Verdict e164_check_rule(const char *s, size_t len, E164Rule rule,
								   E164Number *out);

/*
 * Possible national lengths of an assigned country code as a bit set (bit n
 * set: n digits possible, already limited to 15 digits in all), or 0 when the
 * code is not assigned.  Any int is accepted.
 */
extern uint16_t e164_nsn_lengths(int country_code);

/* Main region of an assigned code ("GB"; "001" if non-geographic), or NULL. */
extern const char *e164_region(int country_code);

/*
 * Writes into buf (NUL-terminated, truncated to bufsize) a short clause that
 * tells a person why s is not valid by the rule, e.g. "+44 (GB) national
 * numbers have 7, 9 or 10 digits, not 11"; returns the length it wanted to
 * write, like snprintf.  For a valid number it writes "valid".
 */
extern size_t e164_explain(const char *s, size_t len, E164Rule rule,
						   char *buf, size_t bufsize);

#endif							/* TRACKLY_E164_H */
