/*
 * test_e164.c
 *		Unit tests of the E.164 validator: a table of strings with the verdict
 *		and parts each must give, then the explanations, the table accessors
 *		and the table's own invariants.
 */
#include <limits.h>
#include <string.h>

#include "e164.h"
#include "unit.h"

/* A string literal and its length, embedded NULs included. */
#define LIT(s)	s, sizeof(s) - 1

/* One string, the verdict it must get and, for VALID/BAD_LENGTH, its parts. */
typedef struct CheckCase
{
	const char *input;
	size_t		len;
	E164Verdict verdict;
	int			country_code;
	int			nsn_digits;
} CheckCase;

static const CheckCase check_cases[] = {
	/* the original API page's numbers */
	{LIT("+14155551234"), E164_VALID, 1, 10},
	{LIT("+12025559876"), E164_VALID, 1, 10},
	{LIT("+13105558888"), E164_VALID, 1, 10},

	/* +1 (US): 10 national digits; 7 is local-only */
	{LIT("+1415555123"), E164_BAD_LENGTH, 1, 9},
	{LIT("+141555512345"), E164_BAD_LENGTH, 1, 11},
	{LIT("+15551234"), E164_BAD_LENGTH, 1, 7},
	{LIT("+1"), E164_BAD_LENGTH, 1, 0},

	/* +44 (GB): 7, 9 or 10; the national prefix 0 is not stripped */
	{LIT("+442071838750"), E164_VALID, 44, 10},
	{LIT("+447911123456"), E164_VALID, 44, 10},
	{LIT("+44800123456"), E164_VALID, 44, 9},
	{LIT("+441234567"), E164_VALID, 44, 7},
	{LIT("+4412345678"), E164_BAD_LENGTH, 44, 8},
	{LIT("+4402071838750"), E164_BAD_LENGTH, 44, 11},
	{LIT("+44"), E164_BAD_LENGTH, 44, 0},

	/* +49 (DE): 4 to 15 in the metadata, cut to 13 by the 15-digit limit */
	{LIT("+4930123456"), E164_VALID, 49, 8},
	{LIT("+491234"), E164_VALID, 49, 4},
	{LIT("+49123"), E164_BAD_LENGTH, 49, 3},
	{LIT("+491234567890123"), E164_VALID, 49, 13},
	{LIT("+4912345678901234"), E164_TOO_LONG, 0, 0},
	{LIT("+49123456789012345"), E164_TOO_LONG, 0, 0},

	/* +7 (RU): 10 or 14 */
	{LIT("+79161234567"), E164_VALID, 7, 10},
	{LIT("+712345678901234"), E164_VALID, 7, 14},
	{LIT("+7916123456"), E164_BAD_LENGTH, 7, 9},
	{LIT("+7916123456789"), E164_BAD_LENGTH, 7, 12},

	/* +39 (IT): 6 to 12, the leading 0 belongs to the national number */
	{LIT("+390612345678"), E164_VALID, 39, 10},
	{LIT("+39061234"), E164_VALID, 39, 6},
	{LIT("+39312345678901"), E164_VALID, 39, 12},
	{LIT("+3906123"), E164_BAD_LENGTH, 39, 5},
	{LIT("+393123456789012"), E164_BAD_LENGTH, 39, 13},

	/* +81 (JP) and +234 (NG): metadata lengths beyond 15 digits in all */
	{LIT("+811234567890123"), E164_VALID, 81, 13},
	{LIT("+8112345678901234"), E164_TOO_LONG, 0, 0},
	{LIT("+234123456789012"), E164_VALID, 234, 12},
	{LIT("+2341234567890123"), E164_TOO_LONG, 0, 0},

	/* non-geographic codes */
	{LIT("+80012345678"), E164_VALID, 800, 8},
	{LIT("+800123456789"), E164_BAD_LENGTH, 800, 9},
	{LIT("+80812345678"), E164_VALID, 808, 8},
	{LIT("+870123456789"), E164_VALID, 870, 9},
	{LIT("+870123456789012"), E164_VALID, 870, 12},
	{LIT("+8701234567890"), E164_BAD_LENGTH, 870, 10},
	{LIT("+881123456789"), E164_VALID, 881, 9},
	{LIT("+8821234567"), E164_VALID, 882, 7},
	{LIT("+882123456789012"), E164_VALID, 882, 12},
	{LIT("+883123456789"), E164_VALID, 883, 9},
	{LIT("+88312345678901"), E164_BAD_LENGTH, 883, 11},
	{LIT("+88812345678901"), E164_VALID, 888, 11},
	{LIT("+979123456789"), E164_VALID, 979, 9},
	{LIT("+97912345678"), E164_BAD_LENGTH, 979, 8},

	/* 15 digits is the most E.164 allows */
	{LIT("+123456789012345"), E164_BAD_LENGTH, 1, 14},
	{LIT("+1234567890123456"), E164_TOO_LONG, 0, 0},
	{LIT("+999999999999999999999999"), E164_TOO_LONG, 0, 0},

	/* country calling codes */
	{LIT("+999123456789"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+28123456789"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+014155551234"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+0014155551234"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+0"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+2"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+21"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},
	{LIT("+80"), E164_UNKNOWN_COUNTRY_CODE, 0, 0},

	/* shape */
	{LIT(""), E164_EMPTY, 0, 0},
	{LIT("+"), E164_NO_DIGITS, 0, 0},
	{LIT("14155551234"), E164_NO_PLUS, 0, 0},
	{LIT(" +14155551234"), E164_NO_PLUS, 0, 0},
	{LIT("0014155551234"), E164_NO_PLUS, 0, 0},
	{LIT("\0+14155551234"), E164_NO_PLUS, 0, 0},
	{LIT("++14155551234"), E164_NOT_DIGIT, 0, 0},
	{LIT("+1 4155551234"), E164_NOT_DIGIT, 0, 0},
	{LIT("+1-415-555-1234"), E164_NOT_DIGIT, 0, 0},
	{LIT("+14155551234 "), E164_NOT_DIGIT, 0, 0},
	{LIT("+14155551234\n"), E164_NOT_DIGIT, 0, 0},
	{LIT("+1415555\0" "1234"), E164_NOT_DIGIT, 0, 0},
	{LIT("+14155551234\0"), E164_NOT_DIGIT, 0, 0},
	{LIT("+ "), E164_NOT_DIGIT, 0, 0},
	{LIT("+a"), E164_NOT_DIGIT, 0, 0},
	{LIT("+1415555123x"), E164_NOT_DIGIT, 0, 0},
	{LIT("+1234567890123456x"), E164_NOT_DIGIT, 0, 0},
	/* U+0661 ARABIC-INDIC DIGIT ONE, fullwidth digits, superscript two */
	{LIT("+\xd9\xa1\xd9\xa4\xd9\xa1\xd9\xa5"), E164_NOT_DIGIT, 0, 0},
	{LIT("+44\xd9\xa1"), E164_NOT_DIGIT, 0, 0},
	{LIT("+\xef\xbc\x91\xef\xbc\x94\xef\xbc\x91\xef\xbc\x95"), E164_NOT_DIGIT, 0, 0},
	{LIT("+1415555123\xc2\xb2"), E164_NOT_DIGIT, 0, 0},
	{LIT("\xef\xbc\x8b" "14155551234"), E164_NO_PLUS, 0, 0},
	{LIT("+\xff"), E164_NOT_DIGIT, 0, 0},
	{LIT("+/"), E164_NOT_DIGIT, 0, 0},
	{LIT("+:"), E164_NOT_DIGIT, 0, 0},
};

/* A string and the explanation it must get. */
typedef struct ExplainCase
{
	const char *input;
	size_t		len;
	const char *explanation;
} ExplainCase;

static const ExplainCase explain_cases[] = {
	{LIT("+14155551234"), "valid"},
	{LIT(""), "it is empty"},
	{LIT("4155551234"), "it must start with +, not '4'"},
	{LIT(" +14155551234"), "it must start with +, not a space"},
	{LIT("\0+1"), "it must start with +, not a NUL byte"},
	{LIT("+"), "there are no digits after the +"},
	{LIT("+1 415"), "it may hold only digits after the +, not a space"},
	{LIT("+1-415"), "it may hold only digits after the +, not '-'"},
	{LIT("+1'415"), "it may hold only digits after the +, not \"'\""},
	{LIT("+1\t415"), "it may hold only digits after the +, not a control character"},
	{LIT("+1\0" "415"), "it may hold only digits after the +, not a NUL byte"},
	{LIT("+\xd9\xa1"), "it may hold only digits after the +, not a non-ASCII character"},
	{LIT("+1234567890123456"), "it has 16 digits; E.164 allows at most 15"},
	{LIT("+0123"), "no country calling code starts with 0"},
	{LIT("+999123456"), "+999 is not an assigned country calling code"},
	{LIT("+28123456"), "no country calling code starts with 28"},
	{LIT("+80"), "+80 is not a complete country calling code"},
	{LIT("+4402071838750"), "+44 (GB) national numbers have 7, 9 or 10 digits, not 11"},
	{LIT("+44"), "+44 (GB) must be followed by a national number of 7, 9 or 10 digits"},
	{LIT("+800123456789"), "+800 (non-geographic) national numbers have 8 digits, not 9"},
	{LIT("+1415555123"), "+1 (US) national numbers have 10 digits, not 9"},
	{LIT("+49123"), "+49 (DE) national numbers have 4 to 13 digits, not 3"},
	{LIT("+8701234567890"),
	"+870 (non-geographic) national numbers have 9 or 12 digits, not 10"},
	{LIT("+2341234"), "+234 (NG) national numbers have 7, 8 or 10 to 12 digits, not 4"},
};

/* Number of decimal digits of a country calling code (1 to 999). */
static int
code_digits(int country_code)
{
	return country_code >= 100 ? 3 : country_code >= 10 ? 2 : 1;
}

/* True when e164_region gives exactly the expected region. */
static int
region_is(int country_code, const char *region)
{
	const char *found = e164_region(country_code);

	return found != NULL && strcmp(found, region) == 0;
}

/* Checks every row of check_cases, with and without the parts. */
static void
test_check_cases(void)
{
	size_t		i;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++)
	{
		const CheckCase *c = &check_cases[i];
		E164Number	n;
		E164Verdict v;

		memset(&n, 0x5a, sizeof(n));
		v = e164_check(c->input, c->len, &n);
		UNIT_CHECK(v == c->verdict, "row %zu \"%s\": verdict %d, expected %d",
				   i, c->input, (int) v, (int) c->verdict);
		UNIT_CHECK(e164_check(c->input, c->len, NULL) == v,
				   "row %zu \"%s\": verdict differs without parts", i, c->input);
		if (c->verdict == E164_VALID || c->verdict == E164_BAD_LENGTH)
		{
			int			cc_digits = code_digits(c->country_code);

			UNIT_CHECK(n.country_code == c->country_code && n.nsn_digits == c->nsn_digits,
					   "row %zu \"%s\": parts %d/%d, expected %d/%d", i, c->input,
					   n.country_code, n.nsn_digits, c->country_code, c->nsn_digits);
			UNIT_CHECK(n.cc_digits == cc_digits && n.nsn == c->input + 1 + cc_digits,
					   "row %zu \"%s\": cc_digits %d, nsn at offset %td", i, c->input,
					   n.cc_digits, n.nsn - c->input);
		}
	}
}

/* Checks the explanations, and that every rejected row gets a real one. */
static void
test_explain_cases(void)
{
	size_t		i;
	char		buf[200];

	for (i = 0; i < sizeof(explain_cases) / sizeof(explain_cases[0]); i++)
	{
		const ExplainCase *c = &explain_cases[i];
		size_t		wanted = e164_explain(c->input, c->len, buf, sizeof(buf));

		UNIT_CHECK(strcmp(buf, c->explanation) == 0,
				   "explain \"%s\": \"%s\", expected \"%s\"",
				   c->input, buf, c->explanation);
		UNIT_CHECK(wanted == strlen(c->explanation),
				   "explain \"%s\": returned %zu", c->input, wanted);
	}

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++)
	{
		const CheckCase *c = &check_cases[i];
		size_t		wanted = e164_explain(c->input, c->len, buf, sizeof(buf));

		UNIT_CHECK(wanted == strlen(buf) && wanted > 0 && wanted < 100,
				   "row %zu \"%s\": explanation \"%s\"", i, c->input, buf);
		UNIT_CHECK((strcmp(buf, "valid") == 0) == (c->verdict == E164_VALID),
				   "row %zu \"%s\": explanation \"%s\" for verdict %d",
				   i, c->input, buf, (int) c->verdict);
		UNIT_CHECK(wanted > 0 && buf[wanted - 1] != '.' &&
				   !(buf[0] >= 'A' && buf[0] <= 'Z'),
				   "row %zu: \"%s\" is not a lower-case clause", i, buf);
	}
}

/* Checks that explanations truncate like snprintf and never overflow. */
static void
test_explain_truncation(void)
{
	const char *input = "+4402071838750";
	const char *full = "+44 (GB) national numbers have 7, 9 or 10 digits, not 11";
	char		buf[16];
	size_t		wanted;

	memset(buf, '#', sizeof(buf));
	wanted = e164_explain(input, strlen(input), buf, 0);
	UNIT_CHECK(wanted == strlen(full) && buf[0] == '#', "bufsize 0 wrote or miscounted");

	wanted = e164_explain(input, strlen(input), buf, 1);
	UNIT_CHECK(wanted == strlen(full) && buf[0] == '\0' && buf[1] == '#',
			   "bufsize 1: \"%s\"", buf);

	memset(buf, '#', sizeof(buf));
	wanted = e164_explain(input, strlen(input), buf, 9);
	UNIT_CHECK(wanted == strlen(full) && strcmp(buf, "+44 (GB)") == 0 && buf[9] == '#',
			   "bufsize 9: \"%s\"", buf);

	UNIT_CHECK(e164_explain(NULL, 0, NULL, 0) == strlen("it is empty"),
			   "NULL string and buffer of length 0");
}

/* Checks that only len bytes count and that s may be NULL when len is 0. */
static void
test_length_bound(void)
{
	E164Number	n;

	UNIT_CHECK(e164_check("+14155551234xyz", 12, &n) == E164_VALID && n.nsn_digits == 10,
			   "a valid prefix of a longer buffer");
	UNIT_CHECK(e164_check("+14155551234", 11, NULL) == E164_BAD_LENGTH,
			   "one digit short of a valid number");
	UNIT_CHECK(e164_check("+14155551234", 1, NULL) == E164_NO_DIGITS, "just the +");
	UNIT_CHECK(e164_check(NULL, 0, &n) == E164_EMPTY, "NULL with length 0");
}

/* Checks e164_nsn_lengths and e164_region on known and out-of-range codes. */
static void
test_table_accessors(void)
{
	static const int outside[] = {
		0, -1, -44, 1000, 1044, 4444, INT_MAX, INT_MIN, 999, 28, 2
	};
	size_t		i;

	UNIT_CHECK(e164_nsn_lengths(1) == 1u << 10, "+1: %#x", e164_nsn_lengths(1));
	UNIT_CHECK(e164_nsn_lengths(44) == ((1u << 7) | (1u << 9) | (1u << 10)),
			   "+44: %#x", e164_nsn_lengths(44));
	UNIT_CHECK(e164_nsn_lengths(7) == ((1u << 10) | (1u << 14)),
			   "+7: %#x", e164_nsn_lengths(7));
	UNIT_CHECK(e164_nsn_lengths(49) == 0x3ff0,
			   "+49 (4 to 13): %#x", e164_nsn_lengths(49));
	UNIT_CHECK(e164_nsn_lengths(81) == 0x3f00,
			   "+81 (8 to 13): %#x", e164_nsn_lengths(81));
	UNIT_CHECK(e164_nsn_lengths(800) == 1u << 8, "+800: %#x", e164_nsn_lengths(800));
	UNIT_CHECK(e164_nsn_lengths(979) == 1u << 9, "+979: %#x", e164_nsn_lengths(979));

	UNIT_CHECK(region_is(1, "US"), "+1 is US");
	UNIT_CHECK(region_is(7, "RU"), "+7 is RU");
	UNIT_CHECK(region_is(44, "GB"), "+44 is GB");
	UNIT_CHECK(region_is(39, "IT"), "+39 is IT");
	UNIT_CHECK(region_is(49, "DE"), "+49 is DE");
	UNIT_CHECK(region_is(800, "001"), "+800 is non-geographic");
	UNIT_CHECK(region_is(888, "001"), "+888 is non-geographic");

	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
	{
		UNIT_CHECK(e164_nsn_lengths(outside[i]) == 0 && e164_region(outside[i]) == NULL,
				   "code %d should not be assigned", outside[i]);
	}
}

/*
 * Checks the whole table: prefix-free, every assigned code has lengths
 * within 15 digits in all, and each valid length passes e164_check.
 */
static void
test_table_invariants(void)
{
	int			code;
	int			assigned = 0;
	int			problems = 0;

	for (code = 1; code <= 999; code++)
	{
		int			cc_digits = code_digits(code);
		uint16_t	lengths = e164_nsn_lengths(code);
		int			nsn_digits;

		if (e164_region(code) == NULL)
		{
			problems += lengths != 0;
			continue;
		}
		assigned++;
		problems += lengths == 0;
		problems += (lengths >> (E164_MAX_DIGITS - cc_digits + 1)) != 0;
		problems += code >= 10 && e164_region(code / 10) != NULL;
		problems += code >= 100 && e164_region(code / 100) != NULL;

		for (nsn_digits = 0; nsn_digits <= E164_MAX_DIGITS - cc_digits; nsn_digits++)
		{
			char		number[E164_MAX_DIGITS + 2];
			E164Number	n;
			E164Verdict v;
			int			k;

			k = snprintf(number, sizeof(number), "+%d", code);
			memset(number + k, '5', (size_t) nsn_digits);
			v = e164_check(number, (size_t) (k + nsn_digits), &n);
			problems += v != ((lengths >> nsn_digits) & 1 ? E164_VALID : E164_BAD_LENGTH);
			problems += n.country_code != code || n.nsn_digits != nsn_digits;
		}
	}
	UNIT_CHECK(assigned >= 200, "only %d assigned codes", assigned);
	UNIT_CHECK(problems == 0, "%d problems in the table", problems);
}

int
main(void)
{
	test_check_cases();
	test_explain_cases();
	test_explain_truncation();
	test_length_bound();
	test_table_accessors();
	test_table_invariants();
	return unit_report("e164");
}
