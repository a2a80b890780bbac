/*
 * e164.c
 *		E.164 phone number validation: "+", an assigned country calling code
 *		and a national significant number of a possible length, at most 15
 *		digits in all (see e164.h and the README's reference).
 *
 * Pure C with no PostgreSQL headers, no allocation and no locale: the
 * import, the SQL-callable validators, the unit tests and the fuzzer all
 * call the same e164_check.  The country calling codes and their lengths
 * come from the generated e164_table.c.
 */
#include <stdbool.h>
#include <string.h>

#include "e164.h"
#include "e164_table.h"

/* Numeric value of an ASCII digit, or a value above 9 for any other byte. */
#define DIGIT_VALUE(c)	((unsigned int) (unsigned char) (c) - '0')

/* Longest country calling code, in digits. */
#define MAX_CC_DIGITS	3

/*
 * Finds the assigned country calling code that the digits (at least one)
 * start with; the codes are prefix-free, so at most one of the 1, 2 and
 * 3-digit prefixes is assigned, and none starts with 0.  Returns its number
 * of digits (0: none) and sets *country_code.
 */
static int
find_country_code(const char *digits, size_t ndigits, int *country_code)
{
	int			code = 0;
	size_t		i;

	if (digits[0] == '0')
		return 0;
	for (i = 0; i < ndigits && i < MAX_CC_DIGITS; i++)
	{
		code = code * 10 + (int) DIGIT_VALUE(digits[i]);
		if (e164_region(code) != NULL)
		{
			*country_code = code;
			return (int) i + 1;
		}
	}
	return 0;
}

/* Walks an automaton of the table from state over the digits. */
static inline E164State
walk(E164State state, const char *digits, int ndigits)
{
	int			i;

	for (i = 0; i < ndigits; i++)
		state = e164_next[state][DIGIT_VALUE(digits[i])];
	return state;
}

/* Does the full-match automaton at root accept the digits? */
static inline int
accepts(E164State root, const char *digits, int ndigits)
{
	return (e164_labels[walk(root, digits, ndigits)] & E164_LABEL_VALUE) != 0;
}

/*
 * What libphonenumber's parse() makes of the national number of +cc nsn, as
 * its _maybe_strip_national_prefix_carrier_code and the length test after it
 * decide: when that is not nsn itself, writes it into parsed (NUL-terminated,
 * at least E164_FORM_SIZE - 4 bytes) and returns its length; returns 0 when
 * the parser keeps nsn as it is.  *stripped receives the number of digits a
 * plain national prefix took (0 for a transform rule).
 */
static int
parsed_national_number(const E164CountryCode *code, const char *nsn, int ndigits,
					   char *parsed, int *stripped)
{
	E164State	state = code->parsing;
	const E164ParseOutcome *outcome;
	const char *result;
	int			length;
	int			i;

	if (state == 0)
		return 0;
	for (i = 0; i < ndigits && (e164_labels[state] & E164_LABEL_SINK) == 0; i++)
		state = e164_next[state][DIGIT_VALUE(nsn[i])];
	outcome = &e164_outcomes[e164_labels[state] & E164_LABEL_VALUE];

	switch ((E164ParseKind) outcome->kind)
	{
		case E164_PARSE_KEEP:
			return 0;
		case E164_PARSE_STRIP:
			result = nsn + outcome->end;
			length = ndigits - outcome->end;
			*stripped = outcome->end;
			break;
		case E164_PARSE_TRANSFORM:
		default:
			{
				const char *piece;
				int			n = 0;

				for (piece = outcome->literal; *piece != '\0'; piece++)
					parsed[n++] = *piece;
				for (i = outcome->span_start; i < outcome->span_end; i++)
					parsed[n++] = nsn[i];
				for (piece = outcome->suffix; *piece != '\0'; piece++)
					parsed[n++] = *piece;
				for (i = outcome->end; i < ndigits; i++)
					parsed[n++] = nsn[i];
				result = parsed;
				length = n;
				*stripped = 0;
				break;
			}
	}

	/* A viable number is not made unviable by the stripping. */
	if (!accepts(code->general, result, length) &&
		accepts(code->general, nsn, ndigits))
		return 0;
	/* The parser keeps the result only at some lengths (not TOO_SHORT ...). */
	if (length >= 32 || ((code->kept_stripped >> length) & 1) == 0)
		return 0;
	if (length == ndigits)
	{
		for (i = 0; i < length && result[i] == nsn[i]; i++)
			;
		if (i == length)
			return 0;
	}
	if (result != parsed)
	{
		for (i = 0; i < length; i++)
			parsed[i] = result[i];
	}
	parsed[length] = '\0';
	return length;
}

/*
 * The first failing test decides the verdict: the shape of the whole string
 * (empty, "+", only ASCII digits after it), then the 15-digit limit, then
 * the country calling code, then (but for E164_RULE_LENGTHS) whether
 * libphonenumber reads it as another number, then the national length, then
 * (E164_RULE_VALID) the number types.  A kept national prefix is reported
 * before a bad length when what the parser reads is possible itself.  The
 * parts in *out are zero for the verdicts that have none.
 */
E164Verdict
e164_check_rule(const char *s, size_t len, E164Rule rule, E164Number *out)
{
	const E164CountryCode *code;
	const char *digits;
	size_t		ndigits;
	size_t		i;
	int			country_code = 0;
	int			cc_digits;
	int			nsn_digits;
	int			length_ok;
	char		parsed[E164_FORM_SIZE];
	int			parsed_digits = 0;
	int			stripped = 0;

	if (out != NULL)
	{
		out->country_code = 0;
		out->cc_digits = 0;
		out->nsn = NULL;
		out->nsn_digits = 0;
		out->parsed[0] = '\0';
		out->stripped_digits = 0;
	}
	if (len == 0)
		return E164_EMPTY;
	if (s[0] != '+')
		return E164_NO_PLUS;

	digits = s + 1;
	ndigits = len - 1;
	for (i = 0; i < ndigits; i++)
	{
		if (DIGIT_VALUE(digits[i]) > 9)
			return E164_NOT_DIGIT;
	}
	if (ndigits == 0)
		return E164_NO_DIGITS;
	if (ndigits > E164_MAX_DIGITS)
		return E164_TOO_LONG;

	cc_digits = find_country_code(digits, ndigits, &country_code);
	if (cc_digits == 0)
		return E164_UNKNOWN_COUNTRY_CODE;
	nsn_digits = (int) ndigits - cc_digits;
	code = &e164_country_codes[country_code];

	if (out != NULL)
	{
		out->country_code = country_code;
		out->cc_digits = cc_digits;
		out->nsn = digits + cc_digits;
		out->nsn_digits = nsn_digits;
	}
	length_ok = (code->nsn_lengths & (1u << nsn_digits)) != 0;
	if (rule != E164_RULE_LENGTHS)
		parsed_digits = parsed_national_number(code, digits + cc_digits, nsn_digits,
											   parsed, &stripped);
	if (parsed_digits > 0 &&
		(length_ok ||
		 (cc_digits + parsed_digits <= E164_MAX_DIGITS &&
		  (code->nsn_lengths & (1u << parsed_digits)) != 0)))
	{
		if (out != NULL)
		{
			int			n = 0;
			int			k;

			out->parsed[n++] = '+';
			for (k = 0; k < cc_digits; k++)
				out->parsed[n++] = digits[k];
			for (k = 0; k <= parsed_digits; k++)
				out->parsed[n++] = parsed[k];
			out->stripped_digits = stripped;
		}
		return E164_NATIONAL_PREFIX;
	}
	if (!length_ok)
		return E164_BAD_LENGTH;
	if (parsed_digits > 0)
		return E164_NATIONAL_PREFIX;
	if (rule == E164_RULE_VALID &&
		!accepts(code->valid, digits + cc_digits, nsn_digits))
		return E164_NOT_VALID_NUMBER;
	return E164_VALID;
}

E164Verdict
e164_check(const char *s, size_t len, E164Number *out)
{
	return e164_check_rule(s, len, E164_RULE_POSSIBLE, out);
}

/* The possible national lengths of a code, or 0 when it is not assigned. */
uint16_t
e164_nsn_lengths(int country_code)
{
	if (country_code < 1 || country_code > 999)
		return 0;
	return e164_country_codes[country_code].nsn_lengths;
}

/* The main region of a code ("001": non-geographic), or NULL. */
const char *
e164_region(int country_code)
{
	if (country_code < 1 || country_code > 999 ||
		e164_country_codes[country_code].region[0] == '\0')
		return NULL;
	return e164_country_codes[country_code].region;
}

/*
 * The explanation being written: buf receives what fits (always
 * NUL-terminated when size > 0), length counts everything wanted.
 */
typedef struct ExplainBuffer
{
	char	   *buf;
	size_t		size;
	size_t		length;
} ExplainBuffer;

/* Appends a NUL-terminated string, truncating silently. */
static void
explain_add_text(ExplainBuffer *eb, const char *text)
{
	for (; *text != '\0'; text++)
	{
		if (eb->length + 1 < eb->size)
		{
			eb->buf[eb->length] = *text;
			eb->buf[eb->length + 1] = '\0';
		}
		eb->length++;
	}
}

/* Appends a non-negative number in decimal. */
static void
explain_add_number(ExplainBuffer *eb, size_t number)
{
	char		digits[24];
	int			n = (int) sizeof(digits) - 1;

	digits[n] = '\0';
	do
	{
		digits[--n] = (char) ('0' + number % 10);
		number /= 10;
	} while (number > 0);
	explain_add_text(eb, digits + n);
}

/*
 * Appends "+44 (GB)" or "+800 (non-geographic)" for an assigned code; with
 * others, the other regions that share it too: "+1 (US and 24 other regions)".
 */
static void
explain_add_code(ExplainBuffer *eb, int country_code, bool others)
{
	const char *region = e164_region(country_code);
	int			nothers = e164_country_codes[country_code].regions - 1;

	explain_add_text(eb, "+");
	explain_add_number(eb, (size_t) country_code);
	explain_add_text(eb, " (");
	if (region == NULL || (region[0] >= '0' && region[0] <= '9'))
		explain_add_text(eb, "non-geographic");
	else
		explain_add_text(eb, region);
	if (others && nothers > 0)
	{
		explain_add_text(eb, " and ");
		explain_add_number(eb, (size_t) nothers);
		explain_add_text(eb, nothers > 1 ? " other regions" : " other region");
	}
	explain_add_text(eb, ")");
}

/*
 * Appends a length set as "7, 9 or 10", writing runs of three or more
 * consecutive lengths as "4 to 13".
 */
static void
explain_add_lengths(ExplainBuffer *eb, uint16_t lengths)
{
	int			first[16];		/* each item: first .. last digits */
	int			last[16];
	int			nitems = 0;
	int			n;
	int			end;
	int			i;

	for (n = 0; n < 16; n = end + 1)
	{
		end = n;
		if ((lengths & (1u << n)) == 0)
			continue;
		while (end + 1 < 16 && (lengths & (1u << (end + 1))) != 0)
			end++;
		if (end - n >= 2)
		{
			first[nitems] = n;
			last[nitems++] = end;
		}
		else
		{
			for (i = n; i <= end; i++)
			{
				first[nitems] = i;
				last[nitems++] = i;
			}
		}
	}

	for (i = 0; i < nitems; i++)
	{
		if (i > 0)
			explain_add_text(eb, i == nitems - 1 ? " or " : ", ");
		explain_add_number(eb, (size_t) first[i]);
		if (last[i] != first[i])
		{
			explain_add_text(eb, " to ");
			explain_add_number(eb, (size_t) last[i]);
		}
	}
}

/* Appends n digits as they are. */
static void
explain_add_digits(ExplainBuffer *eb, const char *digits, int n)
{
	char		one[2];
	int			i;

	one[1] = '\0';
	for (i = 0; i < n; i++)
	{
		one[0] = digits[i];
		explain_add_text(eb, one);
	}
}

/* Appends a description of an unexpected byte: "'-'", "a space" ... */
static void
explain_add_byte(ExplainBuffer *eb, unsigned char c)
{
	char		quoted[4];

	if (c == ' ')
		explain_add_text(eb, "a space");
	else if (c == '\0')
		explain_add_text(eb, "a NUL byte");
	else if (c >= 0x80)
		explain_add_text(eb, "a non-ASCII character");
	else if (c < 0x20 || c == 0x7f)
		explain_add_text(eb, "a control character");
	else
	{
		/* Quote it; a quote mark itself goes between double quotes. */
		quoted[0] = c == '\'' ? '"' : '\'';
		quoted[1] = (char) c;
		quoted[2] = quoted[0];
		quoted[3] = '\0';
		explain_add_text(eb, quoted);
	}
}

/*
 * True when some assigned code starts with the prefix_digits digits of
 * prefix (whose first digit is not 0).
 */
static int
is_code_prefix(int prefix, int prefix_digits)
{
	int			extra;
	int			scale = 1;

	for (extra = 0; prefix_digits + extra <= MAX_CC_DIGITS; extra++)
	{
		int			code;

		for (code = prefix * scale; code < (prefix + 1) * scale; code++)
		{
			if (e164_region(code) != NULL)
				return 1;
		}
		scale *= 10;
	}
	return 0;
}

/*
 * Explains why the digits start with no assigned code: names the shortest
 * prefix no code starts with, or says the digits stop inside a code.
 */
static void
explain_unknown_code(ExplainBuffer *eb, const char *digits, size_t ndigits)
{
	int			prefix = 0;
	size_t		i;

	if (digits[0] == '0')
	{
		explain_add_text(eb, "no country calling code starts with 0");
		return;
	}
	for (i = 0; i < ndigits && i < MAX_CC_DIGITS; i++)
	{
		prefix = prefix * 10 + (int) DIGIT_VALUE(digits[i]);
		if (i + 1 == MAX_CC_DIGITS)
		{
			explain_add_text(eb, "+");
			explain_add_number(eb, (size_t) prefix);
			explain_add_text(eb, " is not an assigned country calling code");
			return;
		}
		if (!is_code_prefix(prefix, (int) i + 1))
		{
			explain_add_text(eb, "no country calling code starts with ");
			explain_add_number(eb, (size_t) prefix);
			return;
		}
	}
	explain_add_text(eb, "+");
	explain_add_number(eb, (size_t) prefix);
	explain_add_text(eb, " is not a complete country calling code");
}

/*
 * Explains E164_NATIONAL_PREFIX: which prefix the parser drops (the region's
 * trunk prefix, or another code its rule drops, such as a carrier code) or
 * how a transform rule rewrites the number, then the number it reads, called
 * the E.164 form only when that is valid itself (the parser strips once:
 * +49003012345678 reads as +4903012345678, which keeps a prefix too).
 */
static void
explain_national_prefix(ExplainBuffer *eb, const E164Number *number)
{
	const char *trunk = e164_country_codes[number->country_code].national_prefix;
	int			n = number->stripped_digits;
	bool		valid_form;

	explain_add_code(eb, number->country_code, false);
	if (n > 0 && (int) strlen(trunk) == n && memcmp(trunk, number->nsn, n) == 0)
	{
		explain_add_text(eb, " national numbers do not start with the national prefix ");
		explain_add_text(eb, trunk);
	}
	else if (n > 0)
	{
		explain_add_text(eb, " national numbers do not start with ");
		explain_add_digits(eb, number->nsn, n);
		explain_add_text(eb, ", a prefix libphonenumber's parser drops (a carrier or dialling code)");
	}
	else
	{
		explain_add_text(eb, " reads the national number ");
		explain_add_digits(eb, number->nsn, number->nsn_digits);
		explain_add_text(eb, " as ");
		explain_add_text(eb, number->parsed + 1 + number->cc_digits);
	}
	valid_form = e164_check(number->parsed, strlen(number->parsed), NULL) == E164_VALID;
	explain_add_text(eb, valid_form ? ": the E.164 form is " : ": libphonenumber reads it as ");
	explain_add_text(eb, number->parsed);
	if (!valid_form)
		explain_add_text(eb, ", which is not valid either");
}

size_t
e164_explain(const char *s, size_t len, E164Rule rule, char *buf, size_t bufsize)
{
	ExplainBuffer eb;
	E164Number	number;
	E164Verdict verdict;
	size_t		i;

	eb.buf = buf;
	eb.size = bufsize;
	eb.length = 0;
	if (bufsize > 0)
		buf[0] = '\0';

	verdict = e164_check_rule(s, len, rule, &number);
	switch (verdict)
	{
		case E164_VALID:
			explain_add_text(&eb, "valid");
			break;
		case E164_EMPTY:
			explain_add_text(&eb, "it is empty");
			break;
		case E164_NO_PLUS:
			explain_add_text(&eb, "it must start with +, not ");
			explain_add_byte(&eb, (unsigned char) s[0]);
			break;
		case E164_NOT_DIGIT:
			i = 1;
			while (i < len && DIGIT_VALUE(s[i]) <= 9)
				i++;
			explain_add_text(&eb, "it may hold only digits after the +, not ");
			explain_add_byte(&eb, (unsigned char) s[i]);
			break;
		case E164_NO_DIGITS:
			explain_add_text(&eb, "there are no digits after the +");
			break;
		case E164_TOO_LONG:
			explain_add_text(&eb, "it has ");
			explain_add_number(&eb, len - 1);
			explain_add_text(&eb, " digits; E.164 allows at most 15");
			break;
		case E164_UNKNOWN_COUNTRY_CODE:
			explain_unknown_code(&eb, s + 1, len - 1);
			break;
		case E164_BAD_LENGTH:
			explain_add_code(&eb, number.country_code, false);
			if (e164_nsn_lengths(number.country_code) == 0)
				explain_add_text(&eb, " has no possible national number length");
			else if (number.nsn_digits == 0)
			{
				explain_add_text(&eb, " must be followed by a national number of ");
				explain_add_lengths(&eb, e164_nsn_lengths(number.country_code));
				explain_add_text(&eb, " digits");
			}
			else
			{
				explain_add_text(&eb, " national numbers have ");
				explain_add_lengths(&eb, e164_nsn_lengths(number.country_code));
				explain_add_text(&eb, " digits, not ");
				explain_add_number(&eb, (size_t) number.nsn_digits);
			}
			break;
		case E164_NATIONAL_PREFIX:
			explain_national_prefix(&eb, &number);
			break;
		case E164_NOT_VALID_NUMBER:
			explain_add_text(&eb, "it has a possible length, but no number range of ");
			explain_add_code(&eb, number.country_code, true);
			explain_add_text(&eb, " in libphonenumber's metadata holds it");
			break;
	}
	return eb.length;
}
