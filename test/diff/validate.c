/*
 * validate.c
 *		Command-line driver for the differential tests: reads one string per
 *		line on standard input and prints the verdict of the project's own
 *		validator on it, one line each.
 *
 *   validate e164      -> "VALID <cc> <nsn digits>" or the verdict's name
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
};

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
	int			is_e164;

	if (argc != 2 || (strcmp(argv[1], "e164") != 0 && strcmp(argv[1], "iso8601") != 0))
	{
		fprintf(stderr, "usage: %s e164|iso8601 < lines\n", argv[0]);
		return 2;
	}
	is_e164 = strcmp(argv[1], "e164") == 0;

	while (fgets(line, sizeof(line), stdin) != NULL)
	{
		size_t		len = strcspn(line, "\n");

		if (is_e164)
		{
			E164Number	n;
			E164Verdict v = e164_check(line, len, &n);

			if (v == E164_VALID)
				printf("VALID %d %d\n", n.country_code, n.nsn_digits);
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
