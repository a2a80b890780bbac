/*
 * validate.c
 *		Command-line driver for the differential tests: reads one string per
 *		line on standard input and prints the verdict of the project's own
 *		validator on it, one line each.
 *
 *   validate e164          -> by the contract's rule (E164_RULE_POSSIBLE):
 *                             "VALID <cc> <nsn digits>", "NATIONAL_PREFIX
 *                             <the number libphonenumber reads>" or the
 *                             verdict's name
 *   validate e164-lengths  -> the same by the rule of 0.2.0 to 0.4.0
 *   validate phone         -> the same by E164_RULE_VALID
 *   validate iso8601   -> "VALID <microseconds since 2000-01-01 UTC>" or the
 *                         verdict's name
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e164.h"
#include "iso8601.h"

static const char *const e164_names[] = {
	[E164_VALID] = "VALID",
	[E164_EMPTY] = "EMPTY",
	[E164_NO_PLUS] = "NO_PLUS",
	[E164_NOT_DIGIT] = "NOT_DIGIT",
	[E164_NO_DIGITS] = "NO_DIGITS",
	[E164_TOO_LONG] = "TOO_LONG",
	[E164_UNKNOWN_COUNTRY_CODE] = "UNKNOWN_COUNTRY_CODE",
	[E164_BAD_LENGTH] = "BAD_LENGTH",
	[E164_NATIONAL_PREFIX] = "NATIONAL_PREFIX",
	[E164_NOT_VALID_NUMBER] = "NOT_VALID_NUMBER",
};

/* The E.164 rule a mode names, or -1 for iso8601; exits on an unknown mode. */
static int
mode_rule(const char *mode, const char *program)
{
	if (strcmp(mode, "e164") == 0)
		return E164_RULE_POSSIBLE;
	if (strcmp(mode, "e164-lengths") == 0)
		return E164_RULE_LENGTHS;
	if (strcmp(mode, "phone") == 0)
		return E164_RULE_VALID;
	if (strcmp(mode, "iso8601") == 0)
		return -1;
	fprintf(stderr, "usage: %s e164|e164-lengths|phone|iso8601 < lines\n", program);
	exit(2);
}

static const char *const iso8601_names[] = {
	[ISO8601_VALID] = "VALID",
	[ISO8601_EMPTY] = "EMPTY",
	[ISO8601_SYNTAX] = "SYNTAX",
	[ISO8601_NO_TIME] = "NO_TIME",
	[ISO8601_BAD_YEAR] = "BAD_YEAR",
	[ISO8601_BAD_MONTH] = "BAD_MONTH",
	[ISO8601_BAD_DAY] = "BAD_DAY",
	[ISO8601_BAD_HOUR] = "BAD_HOUR",
	[ISO8601_BAD_MINUTE] = "BAD_MINUTE",
	[ISO8601_BAD_SECOND] = "BAD_SECOND",
	[ISO8601_BAD_OFFSET] = "BAD_OFFSET",
};

int
main(int argc, char **argv)
{
	static char line[1 << 16];
	int			rule;

	if (argc != 2)
		mode_rule("", argv[0]);
	rule = mode_rule(argv[1], argv[0]);

	while (fgets(line, sizeof(line), stdin) != NULL)
	{
		size_t		len = strcspn(line, "\n");

		if (rule >= 0)
		{
			E164Number	n;
			E164Verdict v = e164_check_rule(line, len, (E164Rule) rule, &n);

			if (v == E164_VALID)
				printf("VALID %d %d\n", n.country_code, n.nsn_digits);
			else if (v == E164_NATIONAL_PREFIX)
				printf("NATIONAL_PREFIX %s\n", n.parsed);
			else
				printf("%s\n", e164_names[v]);
		}
		else
		{
			Iso8601Time t;
			Iso8601Verdict v = iso8601_parse(line, len, &t);

			if (v == ISO8601_VALID)
				printf("VALID %lld\n", (long long) t.pg_usec);
			else
				printf("%s\n", iso8601_names[v]);
		}
	}
	return ferror(stdin) ? 1 : 0;
}
