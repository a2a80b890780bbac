/*
 * fuzz_e164.c
 *		libFuzzer target for the E.164 validator: feeds arbitrary bytes to
 *		e164_check and e164_explain and traps when a property breaks.
 *
 * Properties: a valid number re-serialises to itself; the parts agree with
 * each other and with the table; the verdict does not change between calls;
 * explanations fit any buffer and are NUL-terminated.  The input is copied
 * into a buffer of exactly its size, so AddressSanitizer catches any read
 * past the length.
 */
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

/* Checks that the parts of a VALID or BAD_LENGTH number hang together. */
static void
check_parts(const char *s, size_t len, E164Verdict verdict, const E164Number *n)
{
	uint16_t	lengths = e164_nsn_lengths(n->country_code);
	int			i;

	REQUIRE(n->cc_digits >= 1 && n->cc_digits <= 3);
	REQUIRE(decimal_digits(n->country_code) == n->cc_digits);
	REQUIRE(e164_region(n->country_code) != NULL);
	REQUIRE(n->nsn_digits >= 0);
	REQUIRE(n->cc_digits + n->nsn_digits <= E164_MAX_DIGITS);
	REQUIRE((size_t) (1 + n->cc_digits + n->nsn_digits) == len);
	REQUIRE(n->nsn == s + 1 + n->cc_digits);
	REQUIRE(((lengths >> n->nsn_digits) & 1) == (verdict == E164_VALID));

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
}

/*
 * Checks the explanation written into a buffer of bufsize bytes: the start of
 * the full one, NUL-terminated, and nothing written past the buffer.
 */
static void
check_explain(const char *s, size_t len, size_t bufsize, const char *full)
{
	char		buf[256];
	size_t		wanted;
	size_t		i;

	memset(buf, '#', sizeof(buf));
	wanted = e164_explain(s, len, buf, bufsize);
	REQUIRE(wanted == strlen(full));
	for (i = bufsize; i < sizeof(buf); i++)
		REQUIRE(buf[i] == '#');
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
	E164Number	n;
	E164Verdict verdict;
	char		full[256];
	size_t		wanted;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);

	verdict = e164_check(s, size, &n);
	REQUIRE(verdict >= E164_VALID && verdict <= E164_BAD_LENGTH);
	REQUIRE(e164_check(s, size, NULL) == verdict);
	if (verdict == E164_VALID || verdict == E164_BAD_LENGTH)
		check_parts(s, size, verdict, &n);

	wanted = e164_explain(s, size, full, sizeof(full));
	REQUIRE(wanted > 0 && wanted < 200);
	REQUIRE(strlen(full) == wanted);
	REQUIRE((strcmp(full, "valid") == 0) == (verdict == E164_VALID));
	check_explain(s, size, 0, full);
	check_explain(s, size, 1, full);
	check_explain(s, size, 7, full);
	check_explain(s, size, 200, full);

	free(s);
	return 0;
}
