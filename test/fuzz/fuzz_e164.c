/*
 * fuzz_e164.c
 *		libFuzzer target for the E.164 validator: feeds arbitrary bytes to
 *		e164_check, e164_check_rule by all three rules and e164_explain, and
 *		traps when a property breaks.
 *
 * Properties, by every rule: a VALID number re-serialises to itself; the
 * parts agree with each other and with the table; a NATIONAL_PREFIX verdict
 * comes with the number libphonenumber reads, "+", the same code and digits
 * only, another number than the input, of a possible length when the input
 * is not, and a stripped prefix leaves the rest of the national number; the verdict does not change between calls nor
 * without the parts; e164_check is E164_RULE_POSSIBLE.  Between the rules:
 * VALID by E164_RULE_VALID implies VALID by E164_RULE_POSSIBLE, which
 * implies VALID by E164_RULE_LENGTHS; E164_RULE_POSSIBLE differs from
 * E164_RULE_LENGTHS only by NATIONAL_PREFIX, and E164_RULE_VALID from
 * E164_RULE_POSSIBLE only by NOT_VALID_NUMBER for a possible number.
 * Explanations say "valid" exactly for a VALID verdict of their rule and fit
 * any buffer: a size gets the sentence's start and a NUL and nothing outside
 * it (the buffer ends where its heap block ends, so AddressSanitizer sees a
 * write past it).  One rule, picked from the input's bytes, gets every size
 * from 0 to one past its sentence; the other two get 0, 1, 2, 9 and the
 * sentence's length and one more (every size for all three makes the run
 * several times slower for no other path).  The input is copied into a buffer
 * of exactly its size, so AddressSanitizer catches any read past the length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e164.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run, so that libFuzzer saves the input that got here. */
#define REQUIRE(cond) \
	do { \
		if (!(cond)) \
			__builtin_trap(); \
	} while (0)

static const E164Rule rules[] = {E164_RULE_POSSIBLE, E164_RULE_VALID, E164_RULE_LENGTHS};

#define NRULES	((int) (sizeof(rules) / sizeof(rules[0])))

/* Decimal digits of a positive number. */
static int
decimal_digits(int number)
{
	int			digits = 1;

	while (number >= 10)
	{
		number /= 10;
		digits++;
	}
	return digits;
}

/* True for the verdicts that come with the parts of the number. */
static int
has_parts(E164Verdict verdict)
{
	return verdict == E164_VALID || verdict == E164_BAD_LENGTH ||
		verdict == E164_NATIONAL_PREFIX || verdict == E164_NOT_VALID_NUMBER;
}

/* Checks that the parts hang together, and are empty when there are none. */
static void
check_parts(const char *s, size_t len, E164Verdict verdict, const E164Number *n)
{
	uint16_t	lengths;
	int			i;

	if (!has_parts(verdict))
	{
		REQUIRE(n->country_code == 0 && n->cc_digits == 0);
		REQUIRE(n->nsn == NULL && n->nsn_digits == 0);
		REQUIRE(n->parsed[0] == '\0' && n->stripped_digits == 0);
		return;
	}

	lengths = e164_nsn_lengths(n->country_code);
	REQUIRE(n->cc_digits >= 1 && n->cc_digits <= 3);
	REQUIRE(decimal_digits(n->country_code) == n->cc_digits);
	REQUIRE(e164_region(n->country_code) != NULL);
	REQUIRE(n->nsn_digits >= 0);
	REQUIRE(n->cc_digits + n->nsn_digits <= E164_MAX_DIGITS);
	REQUIRE((size_t) (1 + n->cc_digits + n->nsn_digits) == len);
	REQUIRE(n->nsn == s + 1 + n->cc_digits);
	if (verdict == E164_VALID || verdict == E164_NOT_VALID_NUMBER)
		REQUIRE(((lengths >> n->nsn_digits) & 1) == 1);
	if (verdict == E164_BAD_LENGTH)
		REQUIRE(((lengths >> n->nsn_digits) & 1) == 0);

	/* "+" + decimal code + national digits gives back the input. */
	if (verdict == E164_VALID)
	{
		char		rebuilt[E164_MAX_DIGITS + 2];
		int			code = n->country_code;

		rebuilt[0] = '+';
		for (i = n->cc_digits; i >= 1; i--)
		{
			rebuilt[i] = (char) ('0' + code % 10);
			code /= 10;
		}
		memcpy(rebuilt + 1 + n->cc_digits, n->nsn, (size_t) n->nsn_digits);
		REQUIRE(memcmp(rebuilt, s, len) == 0);
	}

	if (verdict == E164_NATIONAL_PREFIX)
	{
		size_t		plen = 0;
		int			parsed_nsn;

		while (plen < E164_FORM_SIZE && n->parsed[plen] != '\0')
			plen++;

		/* "+", the input's code, digits only, NUL-terminated in the field */
		REQUIRE(plen < E164_FORM_SIZE);
		REQUIRE(plen >= (size_t) (1 + n->cc_digits));
		REQUIRE(memcmp(n->parsed, s, (size_t) (1 + n->cc_digits)) == 0);
		for (i = 1; i < (int) plen; i++)
			REQUIRE(n->parsed[i] >= '0' && n->parsed[i] <= '9');
		parsed_nsn = (int) plen - 1 - n->cc_digits;
		REQUIRE(parsed_nsn >= 1);
		/* another number than the input */
		REQUIRE(plen != len || memcmp(n->parsed, s, len) != 0);
		/* one of the two is of a possible length (else it is BAD_LENGTH) */
		REQUIRE(((lengths >> n->nsn_digits) & 1) == 1 ||
				(n->cc_digits + parsed_nsn <= E164_MAX_DIGITS &&
				 ((lengths >> parsed_nsn) & 1) == 1));
		/* a stripped prefix: the rest of the national number, as it is */
		REQUIRE(n->stripped_digits >= 0 && n->stripped_digits < n->nsn_digits);
		if (n->stripped_digits > 0)
		{
			REQUIRE(parsed_nsn == n->nsn_digits - n->stripped_digits);
			REQUIRE(memcmp(n->parsed + 1 + n->cc_digits, n->nsn + n->stripped_digits,
						   (size_t) parsed_nsn) == 0);
		}
	}
	else
		REQUIRE(n->parsed[0] == '\0' && n->stripped_digits == 0);
}

/* Room for any explanation, and the heap block the sizes are cut from. */
#define EXPLAIN_ROOM 256

/* Bytes before the buffer that must stay as they were. */
#define EXPLAIN_GUARD 16

/*
 * Checks the explanation written into the last bufsize bytes of a heap block
 * of EXPLAIN_ROOM bytes, so that AddressSanitizer catches a write past them
 * (and a guard of '#'s one just before them): the start of the full one,
 * NUL-terminated.
 */
static void
check_explain(const char *s, size_t len, E164Rule rule, size_t bufsize, const char *full,
			  char *block)
{
	char	   *buf = block + EXPLAIN_ROOM - bufsize;
	size_t		wanted;
	size_t		i;

	memset(buf - EXPLAIN_GUARD, '#', EXPLAIN_GUARD + bufsize);
	wanted = e164_explain(s, len, rule, bufsize > 0 ? buf : NULL, bufsize);
	REQUIRE(wanted == strlen(full));
	for (i = 1; i <= EXPLAIN_GUARD; i++)
		REQUIRE(buf[-(ptrdiff_t) i] == '#');
	if (bufsize > 0)
	{
		size_t		written = wanted < bufsize - 1 ? wanted : bufsize - 1;

		REQUIRE(buf[written] == '\0');
		REQUIRE(memcmp(buf, full, written) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size > 0 ? size : 1);
	char	   *block = malloc(EXPLAIN_ROOM);
	E164Number	numbers[NRULES];
	E164Verdict verdicts[NRULES];
	E164Number	again;
	int			r;
	unsigned	sweep = 0;
	size_t		i;

	if (s == NULL || block == NULL)
	{
		free(s);
		free(block);
		return 0;
	}
	memcpy(s, data, size);
	/* the rule whose explanation gets every buffer size, from the input */
	for (i = 0; i < size; i++)
		sweep += (unsigned char) s[i];
	sweep %= NRULES;

	for (r = 0; r < NRULES; r++)
	{
		E164Verdict verdict;
		char		full[256];
		size_t		wanted;
		size_t		bufsize;

		memset(&numbers[r], 0x5a, sizeof(numbers[r]));
		verdict = e164_check_rule(s, size, rules[r], &numbers[r]);
		verdicts[r] = verdict;
		REQUIRE(verdict >= E164_VALID && verdict <= E164_NOT_VALID_NUMBER);
		REQUIRE(e164_check_rule(s, size, rules[r], NULL) == verdict);
		REQUIRE(e164_check_rule(s, size, rules[r], &again) == verdict);
		REQUIRE(again.country_code == numbers[r].country_code &&
				again.cc_digits == numbers[r].cc_digits &&
				again.nsn == numbers[r].nsn && again.nsn_digits == numbers[r].nsn_digits &&
				again.stripped_digits == numbers[r].stripped_digits);
		REQUIRE(strcmp(again.parsed, numbers[r].parsed) == 0);
		check_parts(s, size, verdict, &numbers[r]);
		if (rules[r] != E164_RULE_VALID)
			REQUIRE(verdict != E164_NOT_VALID_NUMBER);
		if (rules[r] == E164_RULE_LENGTHS)
			REQUIRE(verdict != E164_NATIONAL_PREFIX);

		memset(full, '#', sizeof(full));
		wanted = e164_explain(s, size, rules[r], full, sizeof(full));
		REQUIRE(wanted > 0 && wanted < 200);
		REQUIRE(strlen(full) == wanted);
		REQUIRE((strcmp(full, "valid") == 0) == (verdict == E164_VALID));
		if ((unsigned) r == sweep)
		{
			for (bufsize = 0; bufsize <= wanted + 1; bufsize++)
				check_explain(s, size, rules[r], bufsize, full, block);
		}
		else
		{
			static const size_t sizes[] = {0, 1, 2, 9};

			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
				check_explain(s, size, rules[r], sizes[i], full, block);
			check_explain(s, size, rules[r], wanted, full, block);
			check_explain(s, size, rules[r], wanted + 1, full, block);
		}
	}

	/* e164_check is the contract's rule */
	REQUIRE(e164_check(s, size, NULL) == verdicts[0]);

	/* VALID by VALID => VALID by POSSIBLE => VALID by LENGTHS */
	if (verdicts[1] == E164_VALID)
		REQUIRE(verdicts[0] == E164_VALID);
	if (verdicts[0] == E164_VALID)
		REQUIRE(verdicts[2] == E164_VALID);
	/* the rules differ only where the header says they may */
	if (verdicts[0] != verdicts[2])
		REQUIRE(verdicts[0] == E164_NATIONAL_PREFIX);
	if (verdicts[1] != verdicts[0])
		REQUIRE(verdicts[0] == E164_VALID && verdicts[1] == E164_NOT_VALID_NUMBER);
	/* the same reading of the number by the two rules that read it */
	if (verdicts[0] == E164_NATIONAL_PREFIX)
	{
		REQUIRE(strcmp(numbers[0].parsed, numbers[1].parsed) == 0);
		REQUIRE(numbers[0].stripped_digits == numbers[1].stripped_digits);
	}

	free(s);
	free(block);
	return 0;
}
