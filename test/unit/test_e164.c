/*
 * test_e164.c
 *		Unit tests of the E.164 validator: a table of strings with the verdict
 *		each must get by each rule and the parts it must give, then the
 *		explanations, the table accessors and the table's own invariants.
 *
 * Every expectation of the tables comes from python3-phonenumbers (8.12.57,
 * libphonenumber's metadata and parser), not from the validator's output:
 * E164_RULE_POSSIBLE is parse() giving the number back unchanged by
 * format_number(E164) and is_possible_number_with_reason() IS_POSSIBLE (at
 * most 15 digits); when parse() reads another number, that number is the
 * expected parsed form, and the digits it dropped are the match of the
 * region's national_prefix_for_parsing (0 when its transform rule rewrote
 * them); E164_RULE_VALID adds is_valid_number(); E164_RULE_LENGTHS is the
 * code and the metadata's national lengths alone (0.2.0 to 0.4.0), and its
 * verdicts are those this file expected of e164_check before 0.5.0.
 */
#include <limits.h>
#include <string.h>

#include "e164.h"
#include "unit.h"

/* A string literal and its length, embedded NULs included. */
#define LIT(s)	s, sizeof(s) - 1

/* Short names for the verdicts the three rules disagree on. */
#define VALID		E164_VALID
#define LENGTH		E164_BAD_LENGTH
#define PREFIX		E164_NATIONAL_PREFIX
#define NOT_VALID	E164_NOT_VALID_NUMBER

/* The same verdict by every rule. */
#define ALL3(v)		v, v, v

/* The rest of a row: no parts; the parts; the parts and the parsed form. */
#define NONE		0, 0, NULL, 0
#define PARTS(cc, nsn_digits)	cc, nsn_digits, NULL, 0
#define READS(cc, nsn_digits, parsed, stripped)	cc, nsn_digits, parsed, stripped

/* The rules, in the order of the verdicts of a CheckCase. */
static const E164Rule rules[] = {E164_RULE_POSSIBLE, E164_RULE_VALID, E164_RULE_LENGTHS};
static const char *const rule_names[] = {"possible", "valid", "lengths"};

#define NRULES	((int) (sizeof(rules) / sizeof(rules[0])))

/*
 * One string, the verdict each rule must give and, when the string has an
 * assigned code (VALID, LENGTH, PREFIX, NOT_VALID), its parts; for PREFIX
 * the number libphonenumber reads and the prefix digits it dropped.
 */
typedef struct CheckCase
{
	const char *input;
	size_t		len;
	E164Verdict possible;		/* by E164_RULE_POSSIBLE (e164_check) */
	E164Verdict valid;			/* by E164_RULE_VALID */
	E164Verdict lengths;		/* by E164_RULE_LENGTHS */
	int			country_code;
	int			nsn_digits;
	const char *parsed;			/* PREFIX only: out->parsed */
	int			stripped_digits;	/* PREFIX only: 0 for a transform rule */
} CheckCase;

static const CheckCase check_cases[] = {
	/* the original API page's numbers */
	{LIT("+14155551234"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+12025559876"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+13105558888"), VALID, VALID, VALID, PARTS(1, 10)},

	/* +1 (US): 10 national digits; 7 is local-only */
	{LIT("+1415555123"), LENGTH, LENGTH, LENGTH, PARTS(1, 9)},
	{LIT("+141555512345"), LENGTH, LENGTH, LENGTH, PARTS(1, 11)},
	{LIT("+15551234"), LENGTH, LENGTH, LENGTH, PARTS(1, 7)},
	{LIT("+1"), LENGTH, LENGTH, LENGTH, PARTS(1, 0)},

	/*
	 * +44 (GB): 7, 9 or 10; a kept national prefix 0 passes the old rule
	 * when the length fits, here it does not (11 digits)
	 */
	{LIT("+442071838750"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+447911123456"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+44800123456"), VALID, VALID, VALID, PARTS(44, 9)},
	{LIT("+441234567"), VALID, NOT_VALID, VALID, PARTS(44, 7)},
	{LIT("+4412345678"), LENGTH, LENGTH, LENGTH, PARTS(44, 8)},
	{LIT("+4402071838750"), PREFIX, PREFIX, LENGTH, READS(44, 11, "+442071838750", 1)},
	{LIT("+44"), LENGTH, LENGTH, LENGTH, PARTS(44, 0)},

	/* +49 (DE): 4 to 15 in the metadata, cut to 13 by the 15-digit limit */
	{LIT("+4930123456"), VALID, VALID, VALID, PARTS(49, 8)},
	{LIT("+491234"), VALID, NOT_VALID, VALID, PARTS(49, 4)},
	{LIT("+49123"), LENGTH, LENGTH, LENGTH, PARTS(49, 3)},
	{LIT("+491234567890123"), VALID, NOT_VALID, VALID, PARTS(49, 13)},
	{LIT("+4912345678901234"), ALL3(E164_TOO_LONG), NONE},
	{LIT("+49123456789012345"), ALL3(E164_TOO_LONG), NONE},

	/* +7 (RU): 10 or 14 */
	{LIT("+79161234567"), VALID, VALID, VALID, PARTS(7, 10)},
	{LIT("+712345678901234"), VALID, NOT_VALID, VALID, PARTS(7, 14)},
	{LIT("+7916123456"), LENGTH, LENGTH, LENGTH, PARTS(7, 9)},
	{LIT("+7916123456789"), LENGTH, LENGTH, LENGTH, PARTS(7, 12)},

	/* +39 (IT): 6 to 12, the leading 0 belongs to the national number */
	{LIT("+390612345678"), VALID, VALID, VALID, PARTS(39, 10)},
	{LIT("+39061234"), VALID, VALID, VALID, PARTS(39, 6)},
	{LIT("+39312345678901"), VALID, NOT_VALID, VALID, PARTS(39, 12)},
	{LIT("+3906123"), LENGTH, LENGTH, LENGTH, PARTS(39, 5)},
	{LIT("+393123456789012"), LENGTH, LENGTH, LENGTH, PARTS(39, 13)},

	/* +81 (JP) and +234 (NG): metadata lengths beyond 15 digits in all */
	{LIT("+811234567890123"), VALID, NOT_VALID, VALID, PARTS(81, 13)},
	{LIT("+8112345678901234"), ALL3(E164_TOO_LONG), NONE},
	{LIT("+234123456789012"), VALID, NOT_VALID, VALID, PARTS(234, 12)},
	{LIT("+2341234567890123"), ALL3(E164_TOO_LONG), NONE},

	/* non-geographic codes */
	{LIT("+80012345678"), VALID, VALID, VALID, PARTS(800, 8)},
	{LIT("+800123456789"), LENGTH, LENGTH, LENGTH, PARTS(800, 9)},
	{LIT("+80812345678"), VALID, VALID, VALID, PARTS(808, 8)},
	{LIT("+870123456789"), VALID, NOT_VALID, VALID, PARTS(870, 9)},
	{LIT("+870123456789012"), VALID, NOT_VALID, VALID, PARTS(870, 12)},
	{LIT("+8701234567890"), LENGTH, LENGTH, LENGTH, PARTS(870, 10)},
	{LIT("+881123456789"), VALID, VALID, VALID, PARTS(881, 9)},
	{LIT("+8821234567"), VALID, NOT_VALID, VALID, PARTS(882, 7)},
	{LIT("+882123456789012"), VALID, NOT_VALID, VALID, PARTS(882, 12)},
	{LIT("+883123456789"), VALID, NOT_VALID, VALID, PARTS(883, 9)},
	{LIT("+88312345678901"), LENGTH, LENGTH, LENGTH, PARTS(883, 11)},
	{LIT("+88812345678901"), VALID, VALID, VALID, PARTS(888, 11)},
	{LIT("+979123456789"), VALID, VALID, VALID, PARTS(979, 9)},
	{LIT("+97912345678"), LENGTH, LENGTH, LENGTH, PARTS(979, 8)},

	/* 15 digits is the most E.164 allows */
	{LIT("+123456789012345"), LENGTH, LENGTH, LENGTH, PARTS(1, 14)},
	{LIT("+1234567890123456"), ALL3(E164_TOO_LONG), NONE},
	{LIT("+999999999999999999999999"), ALL3(E164_TOO_LONG), NONE},

	/* country calling codes */
	{LIT("+999123456789"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+28123456789"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+014155551234"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+0014155551234"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+0"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+2"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+21"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},
	{LIT("+80"), ALL3(E164_UNKNOWN_COUNTRY_CODE), NONE},

	/* shape */
	{LIT(""), ALL3(E164_EMPTY), NONE},
	{LIT("+"), ALL3(E164_NO_DIGITS), NONE},
	{LIT("14155551234"), ALL3(E164_NO_PLUS), NONE},
	{LIT(" +14155551234"), ALL3(E164_NO_PLUS), NONE},
	{LIT("0014155551234"), ALL3(E164_NO_PLUS), NONE},
	{LIT("\0+14155551234"), ALL3(E164_NO_PLUS), NONE},
	{LIT("++14155551234"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+1 4155551234"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+1-415-555-1234"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+14155551234 "), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+14155551234\n"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+1415555\0" "1234"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+14155551234\0"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+ "), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+a"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+1415555123x"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+1234567890123456x"), ALL3(E164_NOT_DIGIT), NONE},
	/* U+0661 ARABIC-INDIC DIGIT ONE, fullwidth digits, superscript two */
	{LIT("+\xd9\xa1\xd9\xa4\xd9\xa1\xd9\xa5"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+44\xd9\xa1"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+\xef\xbc\x91\xef\xbc\x94\xef\xbc\x91\xef\xbc\x95"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+1415555123\xc2\xb2"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("\xef\xbc\x8b" "14155551234"), ALL3(E164_NO_PLUS), NONE},
	{LIT("+\xff"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+/"), ALL3(E164_NOT_DIGIT), NONE},
	{LIT("+:"), ALL3(E164_NOT_DIGIT), NONE},

	/*
	 * The six regions with a national prefix transform rule.  For each: a
	 * canonical number, numbers the rule rewrites (PREFIX, the rewritten
	 * form and 0 stripped digits), and numbers the rule matches but the
	 * parser keeps as they are, because the result would not fit the
	 * region's general pattern when the original does, or its length is
	 * TOO_SHORT, INVALID_LENGTH or IS_POSSIBLE_LOCAL_ONLY.
	 *
	 * +54 (AR): 0?(area code)15 becomes 9(area code); a lone 0 is stripped.
	 */
	{LIT("+541123456789"), VALID, VALID, VALID, PARTS(54, 10)},
	{LIT("+5491123456789"), VALID, VALID, VALID, PARTS(54, 11)},
	{LIT("+54111523456789"), PREFIX, PREFIX, LENGTH, READS(54, 12, "+5491123456789", 0)},
	{LIT("+540111523456789"), PREFIX, PREFIX, LENGTH, READS(54, 13, "+5491123456789", 0)},
	{LIT("+5435115123456"), PREFIX, PREFIX, VALID, READS(54, 11, "+549351123456", 0)},
	{LIT("+5401123456789"), PREFIX, PREFIX, VALID, READS(54, 11, "+541123456789", 1)},
	/* kept: 1115672279 fits the general pattern, 911672279 would not */
	{LIT("+541115672279"), VALID, VALID, VALID, PARTS(54, 10)},
	/* kept: 923758282 would be TOO_SHORT */
	{LIT("+5402371558282"), VALID, NOT_VALID, VALID, PARTS(54, 11)},
	/* kept: 9115475 would be local-only, and 11155475 is no length */
	{LIT("+5411155475"), LENGTH, LENGTH, LENGTH, PARTS(54, 8)},

	/*
	 * +55 (BR): 0 or 90 is stripped; 0 or 90, a carrier code and 10 or 11
	 * digits become those digits.
	 */
	{LIT("+551123456789"), VALID, VALID, VALID, PARTS(55, 10)},
	{LIT("+5511961234567"), VALID, VALID, VALID, PARTS(55, 11)},
	{LIT("+550151123456789"), PREFIX, PREFIX, LENGTH, READS(55, 13, "+551123456789", 0)},
	{LIT("+5501123456789"), PREFIX, PREFIX, VALID, READS(55, 11, "+551123456789", 1)},
	/* carrier code 21, but 9 digits after it: the 0 alone is stripped */
	{LIT("+55021123456789"), PREFIX, PREFIX, LENGTH, READS(55, 12, "+5521123456789", 1)},
	/* kept: 900271180 fits the general pattern, 0271180 would not */
	{LIT("+55900271180"), VALID, VALID, VALID, PARTS(55, 9)},
	/* kept: 159982 would be TOO_SHORT */
	{LIT("+5590159982"), VALID, NOT_VALID, VALID, PARTS(55, 8)},

	/*
	 * +241 (GA): no national prefix; 0 and 8 digits of some ranges become
	 * the 8 digits.  The rule needs 9 digits and gives 8 or more: no input
	 * of at most 15 digits makes the parser keep the number once the rule
	 * matched (a longer result is TOO_LONG, which the parser keeps too).
	 */
	{LIT("+24106031234"), VALID, VALID, VALID, PARTS(241, 8)},
	{LIT("+24174123456"), VALID, VALID, VALID, PARTS(241, 8)},
	{LIT("+241074123456"), PREFIX, PREFIX, LENGTH, READS(241, 9, "+24174123456", 0)},
	{LIT("+241011441234"), PREFIX, PREFIX, LENGTH, READS(241, 9, "+24111441234", 0)},
	/* rewritten to 741234567, TOO_LONG as well: neither form is possible */
	{LIT("+2410741234567"), LENGTH, LENGTH, LENGTH, PARTS(241, 10)},
	/* 006... is no range of the rule */
	{LIT("+2410060312345"), LENGTH, LENGTH, LENGTH, PARTS(241, 10)},

	/* +261 (MG): 0 is stripped; exactly 7 digits [24-9]xxxxxx become 20xxxxxxx */
	{LIT("+261202123456"), VALID, VALID, VALID, PARTS(261, 9)},
	{LIT("+261321234567"), VALID, VALID, VALID, PARTS(261, 9)},
	{LIT("+2612345678"), PREFIX, PREFIX, LENGTH, READS(261, 7, "+261202345678", 0)},
	{LIT("+2612212345"), PREFIX, PREFIX, LENGTH, READS(261, 7, "+261202212345", 0)},
	{LIT("+2610202123456"), PREFIX, PREFIX, LENGTH, READS(261, 10, "+261202123456", 1)},
	/* kept: 97367751 would be TOO_SHORT */
	{LIT("+261097367751"), VALID, NOT_VALID, VALID, PARTS(261, 9)},
	/* kept: 1234567 would be local-only, and 01234567 is no length */
	{LIT("+26101234567"), LENGTH, LENGTH, LENGTH, PARTS(261, 8)},
	/* 1 is no range of the rule */
	{LIT("+2611234567"), LENGTH, LENGTH, LENGTH, PARTS(261, 7)},

	/*
	 * +378 (SM): exactly 6 digits [89]xxxxx become 0549 and the 6 digits.
	 * The result always has 10 digits and fits, a 6-digit original never:
	 * once the rule matches, the parser never keeps the number.
	 */
	{LIT("+3780549886377"), VALID, VALID, VALID, PARTS(378, 10)},
	{LIT("+37866661212"), VALID, VALID, VALID, PARTS(378, 8)},
	{LIT("+378886377"), PREFIX, PREFIX, LENGTH, READS(378, 6, "+3780549886377", 0)},
	/* 7 and 5 digits: the rule's $ does not match */
	{LIT("+3788863770"), LENGTH, LENGTH, LENGTH, PARTS(378, 7)},
	{LIT("+37888637"), LENGTH, LENGTH, LENGTH, PARTS(378, 5)},
	/* 5 is no range of the rule */
	{LIT("+378566123"), LENGTH, LENGTH, LENGTH, PARTS(378, 6)},

	/*
	 * +672 (NF): exactly 5 digits [0-258]xxxx become 3 and the 5 digits; as
	 * for SM, the parser never keeps a number the rule matches.
	 */
	{LIT("+672106609"), VALID, VALID, VALID, PARTS(672, 6)},
	{LIT("+672381234"), VALID, VALID, VALID, PARTS(672, 6)},
	{LIT("+67206609"), PREFIX, PREFIX, LENGTH, READS(672, 5, "+672306609", 0)},
	/* 4 is no range of the rule; 4 digits: the rule's $ does not match */
	{LIT("+67246609"), LENGTH, LENGTH, LENGTH, PARTS(672, 5)},
	{LIT("+6720660"), LENGTH, LENGTH, LENGTH, PARTS(672, 4)},

	/*
	 * Plain national prefixes (and carrier codes) that the parser strips.
	 *
	 * +44 (GB): 0.
	 */
	{LIT("+447400123456"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+4407400123456"), PREFIX, PREFIX, LENGTH, READS(44, 11, "+447400123456", 1)},
	{LIT("+440800123456"), PREFIX, PREFIX, VALID, READS(44, 10, "+44800123456", 1)},
	{LIT("+4402200332"), PREFIX, PREFIX, LENGTH, READS(44, 8, "+442200332", 1)},
	/* one 0 is stripped, the next one stays */
	{LIT("+440070293137"), PREFIX, PREFIX, VALID, READS(44, 10, "+44070293137", 1)},
	/* kept: 70293137 and 12345678 would be local-only */
	{LIT("+44070293137"), VALID, NOT_VALID, VALID, PARTS(44, 9)},
	{LIT("+44012345678"), VALID, NOT_VALID, VALID, PARTS(44, 9)},

	/* +81 (JP): 0 */
	{LIT("+81312345678"), VALID, VALID, VALID, PARTS(81, 9)},
	{LIT("+810312345678"), PREFIX, PREFIX, VALID, READS(81, 10, "+81312345678", 1)},
	{LIT("+8109012345678"), PREFIX, PREFIX, VALID, READS(81, 11, "+819012345678", 1)},
	/* kept: 1234567 would be TOO_SHORT */
	{LIT("+8101234567"), VALID, NOT_VALID, VALID, PARTS(81, 8)},

	/* +49 (DE): 0 */
	{LIT("+493012345678"), VALID, VALID, VALID, PARTS(49, 10)},
	{LIT("+4903012345678"), PREFIX, PREFIX, VALID, READS(49, 11, "+493012345678", 1)},
	{LIT("+49015123456789"), PREFIX, PREFIX, VALID, READS(49, 12, "+4915123456789", 1)},
	{LIT("+4901234"), PREFIX, PREFIX, VALID, READS(49, 5, "+491234", 1)},
	/* parse() strips one 0: the number it reads is not canonical itself */
	{LIT("+49003012345678"), PREFIX, PREFIX, VALID, READS(49, 12, "+4903012345678", 1)},
	/* kept: 954 would be local-only */
	{LIT("+490954"), VALID, NOT_VALID, VALID, PARTS(49, 4)},

	/* +1 (US): 1 */
	{LIT("+12015550123"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+112015550123"), PREFIX, PREFIX, LENGTH, READS(1, 11, "+12015550123", 1)},
	/* kept: 234567890 would be TOO_SHORT */
	{LIT("+11234567890"), VALID, NOT_VALID, VALID, PARTS(1, 10)},

	/* +7 (RU): 8 */
	{LIT("+79123456789"), VALID, VALID, VALID, PARTS(7, 10)},
	{LIT("+789123456789"), PREFIX, PREFIX, LENGTH, READS(7, 11, "+79123456789", 1)},
	/* kept: 8001234567 fits the general pattern, 001234567 would not */
	{LIT("+78001234567"), VALID, VALID, VALID, PARTS(7, 10)},

	/* +36 (HU): 06 */
	{LIT("+3612345678"), VALID, VALID, VALID, PARTS(36, 8)},
	{LIT("+360612345678"), PREFIX, PREFIX, LENGTH, READS(36, 10, "+3612345678", 2)},
	{LIT("+3606201234567"), PREFIX, PREFIX, LENGTH, READS(36, 11, "+36201234567", 2)},
	/* kept: 1234567 would be local-only */
	{LIT("+36061234567"), VALID, NOT_VALID, VALID, PARTS(36, 9)},

	/* +52 (MX): 01, 02, 044, 045 or 1 */
	{LIT("+522221234567"), VALID, VALID, VALID, PARTS(52, 10)},
	{LIT("+5212221234567"), PREFIX, PREFIX, VALID, READS(52, 11, "+522221234567", 1)},
	{LIT("+52012221234567"), PREFIX, PREFIX, LENGTH, READS(52, 12, "+522221234567", 2)},
	{LIT("+520452221234567"), PREFIX, PREFIX, LENGTH, READS(52, 13, "+522221234567", 3)},
	/* kept: 287757447 would be TOO_SHORT */
	{LIT("+521287757447"), VALID, NOT_VALID, VALID, PARTS(52, 10)},

	/* +57 (CO): 0, with a carrier code 5, 7, 9, 414, 444 or 456 */
	{LIT("+573211234567"), VALID, VALID, VALID, PARTS(57, 10)},
	{LIT("+576012345678"), VALID, VALID, VALID, PARTS(57, 10)},
	{LIT("+5706012345678"), PREFIX, PREFIX, VALID, READS(57, 11, "+576012345678", 1)},
	{LIT("+57053211234567"), PREFIX, PREFIX, LENGTH, READS(57, 12, "+573211234567", 2)},
	/* kept: 224154 would be TOO_SHORT */
	{LIT("+570456224154"), VALID, NOT_VALID, VALID, PARTS(57, 10)},

	/* +82 (KR): 0, with a carrier code 8x or 85xx */
	{LIT("+8222123456"), VALID, VALID, VALID, PARTS(82, 8)},
	{LIT("+821020000000"), VALID, VALID, VALID, PARTS(82, 10)},
	{LIT("+82022123456"), PREFIX, PREFIX, VALID, READS(82, 9, "+8222123456", 1)},
	{LIT("+820811020000000"), PREFIX, PREFIX, VALID, READS(82, 13, "+821020000000", 3)},
	{LIT("+8208576299447"), PREFIX, PREFIX, VALID, READS(82, 11, "+82299447", 5)},
	/* kept: 3034511 would be local-only */
	{LIT("+8203034511"), VALID, NOT_VALID, VALID, PARTS(82, 8)},

	/* +86 (CN): 0, or a carrier code 1[12]xxx or 179xx */
	{LIT("+861012345678"), VALID, VALID, VALID, PARTS(86, 10)},
	{LIT("+8613123456789"), VALID, VALID, VALID, PARTS(86, 11)},
	{LIT("+8601012345678"), PREFIX, PREFIX, VALID, READS(86, 11, "+861012345678", 1)},
	{LIT("+861201212345678"), PREFIX, PREFIX, LENGTH, READS(86, 13, "+8612345678", 5)},
	/* kept: 12012212345 fits the general pattern, 212345 would not */
	{LIT("+8612012212345"), VALID, NOT_VALID, VALID, PARTS(86, 11)},

	/* +61 (AU): 0, or 1831 or 1832 */
	{LIT("+61412345678"), VALID, VALID, VALID, PARTS(61, 9)},
	{LIT("+611800123456"), VALID, VALID, VALID, PARTS(61, 10)},
	{LIT("+610412345678"), PREFIX, PREFIX, VALID, READS(61, 10, "+61412345678", 1)},
	{LIT("+611831412345678"), PREFIX, PREFIX, LENGTH, READS(61, 13, "+61412345678", 4)},
	{LIT("+6118326200753"), PREFIX, PREFIX, LENGTH, READS(61, 11, "+616200753", 4)},
	/* kept: 18317140 fits the general pattern, 7140 would not */
	{LIT("+6118317140"), VALID, NOT_VALID, VALID, PARTS(61, 8)},

	/* +375 (BY): 0, 8 or 80 */
	{LIT("+375294911911"), VALID, VALID, VALID, PARTS(375, 9)},
	{LIT("+3750294911911"), PREFIX, PREFIX, VALID, READS(375, 10, "+375294911911", 1)},
	{LIT("+3758294911911"), PREFIX, PREFIX, VALID, READS(375, 10, "+375294911911", 1)},
	{LIT("+37580294911911"), PREFIX, PREFIX, VALID, READS(375, 11, "+375294911911", 2)},
	/* kept: 8011234567 fits the general pattern, 11234567 would not */
	{LIT("+3758011234567"), VALID, VALID, VALID, PARTS(375, 10)},

	/*
	 * E164_RULE_VALID on shared codes: any region of the code will do.
	 *
	 * +1: the US (+12015550123 above), Canada, Jamaica, the Bahamas,
	 * Puerto Rico, a toll-free number; 200-123 and 900-123 are in no range of
	 * any of them.
	 */
	{LIT("+15062345678"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+18765230123"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+12423456789"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+17872345678"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+18002345678"), VALID, VALID, VALID, PARTS(1, 10)},
	{LIT("+12001234567"), VALID, NOT_VALID, VALID, PARTS(1, 10)},
	{LIT("+19001234567"), VALID, NOT_VALID, VALID, PARTS(1, 10)},

	/* +7: Russia, Kazakhstan (77..., 71...), neither (76..., 70...) */
	{LIT("+73011234567"), VALID, VALID, VALID, PARTS(7, 10)},
	{LIT("+77710009998"), VALID, VALID, VALID, PARTS(7, 10)},
	{LIT("+77123456789"), VALID, VALID, VALID, PARTS(7, 10)},
	{LIT("+76123456789"), VALID, NOT_VALID, VALID, PARTS(7, 10)},
	{LIT("+70123456789"), VALID, NOT_VALID, VALID, PARTS(7, 10)},

	/* +44: GB, Guernsey, the Isle of Man, Jersey (land lines and mobiles) */
	{LIT("+441212345678"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+442012345678"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+441481256789"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+447781123456"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+441624756789"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+447624123456"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+441534456789"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+447797712345"), VALID, VALID, VALID, PARTS(44, 10)},
	{LIT("+445012345678"), VALID, NOT_VALID, VALID, PARTS(44, 10)},

	/* a non-geographic code */
	{LIT("+80001234567"), VALID, NOT_VALID, VALID, PARTS(800, 8)},
};

/* A string, the rule it is explained by and the explanation it must get. */
typedef struct ExplainCase
{
	const char *input;
	size_t		len;
	E164Rule	rule;
	const char *explanation;
} ExplainCase;

static const ExplainCase explain_cases[] = {
	/* the sentences of 0.4.0, by its rule */
	{LIT("+14155551234"), E164_RULE_LENGTHS, "valid"},
	{LIT(""), E164_RULE_LENGTHS, "it is empty"},
	{LIT("4155551234"), E164_RULE_LENGTHS, "it must start with +, not '4'"},
	{LIT(" +14155551234"), E164_RULE_LENGTHS, "it must start with +, not a space"},
	{LIT("\0+1"), E164_RULE_LENGTHS, "it must start with +, not a NUL byte"},
	{LIT("+"), E164_RULE_LENGTHS, "there are no digits after the +"},
	{LIT("+1 415"), E164_RULE_LENGTHS, "it may hold only digits after the +, not a space"},
	{LIT("+1-415"), E164_RULE_LENGTHS, "it may hold only digits after the +, not '-'"},
	{LIT("+1'415"), E164_RULE_LENGTHS, "it may hold only digits after the +, not \"'\""},
	{LIT("+1\t415"), E164_RULE_LENGTHS,
	"it may hold only digits after the +, not a control character"},
	{LIT("+1\0" "415"), E164_RULE_LENGTHS,
	"it may hold only digits after the +, not a NUL byte"},
	{LIT("+\xd9\xa1"), E164_RULE_LENGTHS,
	"it may hold only digits after the +, not a non-ASCII character"},
	{LIT("+1234567890123456"), E164_RULE_LENGTHS, "it has 16 digits; E.164 allows at most 15"},
	{LIT("+0123"), E164_RULE_LENGTHS, "no country calling code starts with 0"},
	{LIT("+999123456"), E164_RULE_LENGTHS, "+999 is not an assigned country calling code"},
	{LIT("+28123456"), E164_RULE_LENGTHS, "no country calling code starts with 28"},
	{LIT("+80"), E164_RULE_LENGTHS, "+80 is not a complete country calling code"},
	{LIT("+4402071838750"), E164_RULE_LENGTHS,
	"+44 (GB) national numbers have 7, 9 or 10 digits, not 11"},
	{LIT("+44"), E164_RULE_LENGTHS,
	"+44 (GB) must be followed by a national number of 7, 9 or 10 digits"},
	{LIT("+800123456789"), E164_RULE_LENGTHS,
	"+800 (non-geographic) national numbers have 8 digits, not 9"},
	{LIT("+1415555123"), E164_RULE_LENGTHS, "+1 (US) national numbers have 10 digits, not 9"},
	{LIT("+49123"), E164_RULE_LENGTHS, "+49 (DE) national numbers have 4 to 13 digits, not 3"},
	{LIT("+8701234567890"), E164_RULE_LENGTHS,
	"+870 (non-geographic) national numbers have 9 or 12 digits, not 10"},
	{LIT("+2341234"), E164_RULE_LENGTHS,
	"+234 (NG) national numbers have 7, 8 or 10 to 12 digits, not 4"},
	/* a kept national prefix passes the old rule when the length fits */
	{LIT("+810312345678"), E164_RULE_LENGTHS, "valid"},
	{LIT("+2612345678"), E164_RULE_LENGTHS, "+261 (MG) national numbers have 9 digits, not 7"},

	/* the same sentences by the contract's rule, where the verdict is the same */
	{LIT("+14155551234"), E164_RULE_POSSIBLE, "valid"},
	{LIT("+1415555123"), E164_RULE_POSSIBLE, "+1 (US) national numbers have 10 digits, not 9"},
	{LIT("+12001234567"), E164_RULE_POSSIBLE, "valid"},

	/* a national prefix the parser strips: the digits it took */
	{LIT("+4402071838750"), E164_RULE_POSSIBLE,
		"+44 (GB) national numbers do not start with the national prefix 0: "
	"the E.164 form is +442071838750"},
	{LIT("+810312345678"), E164_RULE_POSSIBLE,
		"+81 (JP) national numbers do not start with the national prefix 0: "
	"the E.164 form is +81312345678"},
	{LIT("+360612345678"), E164_RULE_POSSIBLE,
		"+36 (HU) national numbers do not start with the national prefix 06: "
	"the E.164 form is +3612345678"},
	{LIT("+520452221234567"), E164_RULE_POSSIBLE,
		"+52 (MX) national numbers do not start with 045, a prefix libphonenumber's "
	"parser drops (a carrier or dialling code): the E.164 form is +522221234567"},
	{LIT("+611831412345678"), E164_RULE_POSSIBLE,
		"+61 (AU) national numbers do not start with 1831, a prefix libphonenumber's "
	"parser drops (a carrier or dialling code): the E.164 form is +61412345678"},
	/* the parser strips once: what it reads keeps a prefix too */
	{LIT("+49003012345678"), E164_RULE_POSSIBLE,
		"+49 (DE) national numbers do not start with the national prefix 0: "
	"libphonenumber reads it as +4903012345678, which is not valid either"},
	{LIT("+2610202123456"), E164_RULE_POSSIBLE,
		"+261 (MG) national numbers do not start with the national prefix 0: "
	"the E.164 form is +261202123456"},
	/* a transform rule: the national number and what the parser makes of it */
	{LIT("+2612345678"), E164_RULE_POSSIBLE,
		"+261 (MG) reads the national number 2345678 as 202345678: "
	"the E.164 form is +261202345678"},
	{LIT("+54111523456789"), E164_RULE_POSSIBLE,
		"+54 (AR) reads the national number 111523456789 as 91123456789: "
	"the E.164 form is +5491123456789"},
	{LIT("+550151123456789"), E164_RULE_POSSIBLE,
		"+55 (BR) reads the national number 0151123456789 as 1123456789: "
	"the E.164 form is +551123456789"},
	{LIT("+241074123456"), E164_RULE_POSSIBLE,
		"+241 (GA) reads the national number 074123456 as 74123456: "
	"the E.164 form is +24174123456"},
	{LIT("+378886377"), E164_RULE_POSSIBLE,
		"+378 (SM) reads the national number 886377 as 0549886377: "
	"the E.164 form is +3780549886377"},
	{LIT("+67206609"), E164_RULE_POSSIBLE,
		"+672 (NF) reads the national number 06609 as 306609: "
	"the E.164 form is +672306609"},

	/* E164_RULE_VALID: the kept prefix comes first, then the number ranges */
	{LIT("+4402071838750"), E164_RULE_VALID,
		"+44 (GB) national numbers do not start with the national prefix 0: "
	"the E.164 form is +442071838750"},
	{LIT("+2612345678"), E164_RULE_VALID,
		"+261 (MG) reads the national number 2345678 as 202345678: "
	"the E.164 form is +261202345678"},
	{LIT("+1415555123"), E164_RULE_VALID, "+1 (US) national numbers have 10 digits, not 9"},
	{LIT("+441481256789"), E164_RULE_VALID, "valid"},
	{LIT("+12001234567"), E164_RULE_VALID,
		"it has a possible length, but no number range of +1 (US and 24 other regions) "
	"in libphonenumber's metadata holds it"},
	{LIT("+76123456789"), E164_RULE_VALID,
		"it has a possible length, but no number range of +7 (RU and 1 other region) "
	"in libphonenumber's metadata holds it"},
	{LIT("+445012345678"), E164_RULE_VALID,
		"it has a possible length, but no number range of +44 (GB and 3 other regions) "
	"in libphonenumber's metadata holds it"},
	{LIT("+80001234567"), E164_RULE_VALID,
		"it has a possible length, but no number range of +800 (non-geographic) "
	"in libphonenumber's metadata holds it"},
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

/* The verdict a row expects by rule number r (an index of rules[]). */
static E164Verdict
expected_verdict(const CheckCase *c, int r)
{
	return r == 0 ? c->possible : r == 1 ? c->valid : c->lengths;
}

/* True for the verdicts that come with the parts of the number. */
static int
has_parts(E164Verdict v)
{
	return v == E164_VALID || v == E164_BAD_LENGTH ||
		v == E164_NATIONAL_PREFIX || v == E164_NOT_VALID_NUMBER;
}

/*
 * Checks every row of check_cases by every rule, with and without the parts:
 * the verdict, the parts, the parsed form of a kept national prefix (and
 * nothing in it otherwise), and that e164_check is E164_RULE_POSSIBLE.
 */
static void
test_check_cases(void)
{
	size_t		i;
	int			r;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++)
	{
		const CheckCase *c = &check_cases[i];

		for (r = 0; r < NRULES; r++)
		{
			E164Verdict expected = expected_verdict(c, r);
			E164Number	n;
			E164Verdict v;

			memset(&n, 0x5a, sizeof(n));
			v = e164_check_rule(c->input, c->len, rules[r], &n);
			UNIT_CHECK(v == expected, "row %zu \"%s\" by %s: verdict %d, expected %d",
					   i, c->input, rule_names[r], (int) v, (int) expected);
			UNIT_CHECK(e164_check_rule(c->input, c->len, rules[r], NULL) == v,
					   "row %zu \"%s\" by %s: verdict differs without parts",
					   i, c->input, rule_names[r]);
			if (has_parts(expected))
			{
				int			cc_digits = code_digits(c->country_code);

				UNIT_CHECK(n.country_code == c->country_code &&
						   n.nsn_digits == c->nsn_digits,
						   "row %zu \"%s\" by %s: parts %d/%d, expected %d/%d",
						   i, c->input, rule_names[r], n.country_code, n.nsn_digits,
						   c->country_code, c->nsn_digits);
				UNIT_CHECK(n.cc_digits == cc_digits && n.nsn == c->input + 1 + cc_digits,
						   "row %zu \"%s\" by %s: cc_digits %d, nsn at offset %td",
						   i, c->input, rule_names[r], n.cc_digits, n.nsn - c->input);
			}
			else
			{
				UNIT_CHECK(n.country_code == 0 && n.cc_digits == 0 && n.nsn == NULL &&
						   n.nsn_digits == 0,
						   "row %zu \"%s\" by %s: parts for verdict %d",
						   i, c->input, rule_names[r], (int) v);
			}
			if (expected == E164_NATIONAL_PREFIX)
			{
				UNIT_CHECK(strcmp(n.parsed, c->parsed) == 0 &&
						   n.stripped_digits == c->stripped_digits,
						   "row %zu \"%s\" by %s: parsed \"%s\" (%d stripped), expected \"%s\" (%d)",
						   i, c->input, rule_names[r], n.parsed, n.stripped_digits,
						   c->parsed, c->stripped_digits);
			}
			else
			{
				UNIT_CHECK(n.parsed[0] == '\0' && n.stripped_digits == 0,
						   "row %zu \"%s\" by %s: parsed \"%.*s\", stripped %d",
						   i, c->input, rule_names[r], E164_FORM_SIZE - 1, n.parsed,
						   n.stripped_digits);
			}
		}

		UNIT_CHECK(e164_check(c->input, c->len, NULL) == c->possible,
				   "row %zu \"%s\": e164_check is not E164_RULE_POSSIBLE", i, c->input);
		/* the table itself: a row's parsed form belongs to PREFIX rows */
		UNIT_CHECK((c->parsed != NULL) == (c->possible == E164_NATIONAL_PREFIX),
				   "row %zu \"%s\": parsed form and verdict disagree", i, c->input);
	}
}

/*
 * Checks the explanations, and that every row gets a real one by every rule:
 * "valid" exactly when the rule finds it valid, the same sentence when two
 * rules give the same verdict.
 */
static void
test_explain_cases(void)
{
	size_t		i;
	int			r;
	char		buf[200];

	for (i = 0; i < sizeof(explain_cases) / sizeof(explain_cases[0]); i++)
	{
		const ExplainCase *c = &explain_cases[i];
		size_t		wanted = e164_explain(c->input, c->len, c->rule, buf, sizeof(buf));

		UNIT_CHECK(strcmp(buf, c->explanation) == 0,
				   "explain \"%s\" by rule %d: \"%s\", expected \"%s\"",
				   c->input, (int) c->rule, buf, c->explanation);
		UNIT_CHECK(wanted == strlen(c->explanation),
				   "explain \"%s\" by rule %d: returned %zu", c->input, (int) c->rule, wanted);
	}

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++)
	{
		const CheckCase *c = &check_cases[i];
		char		sentences[3][256];

		for (r = 0; r < NRULES; r++)
		{
			E164Verdict expected = expected_verdict(c, r);
			size_t		wanted = e164_explain(c->input, c->len, rules[r],
											  sentences[r], sizeof(sentences[r]));
			const char *s = sentences[r];
			int			other;

			UNIT_CHECK(wanted == strlen(s) && wanted > 0 && wanted < 256,
					   "row %zu \"%s\" by %s: explanation \"%s\"",
					   i, c->input, rule_names[r], s);
			UNIT_CHECK((strcmp(s, "valid") == 0) == (expected == E164_VALID),
					   "row %zu \"%s\" by %s: explanation \"%s\" for verdict %d",
					   i, c->input, rule_names[r], s, (int) expected);
			UNIT_CHECK(wanted > 0 && s[wanted - 1] != '.' && !(s[0] >= 'A' && s[0] <= 'Z'),
					   "row %zu: \"%s\" is not a lower-case clause", i, s);
			if (expected == E164_NATIONAL_PREFIX)
			{
				size_t		plen = strlen(c->parsed);

				UNIT_CHECK(wanted > plen && strstr(s, c->parsed) != NULL,
						   "row %zu: \"%s\" does not name \"%s\"", i, s, c->parsed);
			}
			for (other = 0; other < r; other++)
			{
				if (expected_verdict(c, other) == expected)
					UNIT_CHECK(strcmp(sentences[other], s) == 0,
							   "row %zu \"%s\": \"%s\" by %s, \"%s\" by %s", i, c->input,
							   sentences[other], rule_names[other], s, rule_names[r]);
			}
		}
	}
}

/* Checks that explanations truncate like snprintf and never overflow. */
static void
test_explain_truncation(void)
{
	const char *input = "+4402071838750";
	const char *full = "+44 (GB) national numbers have 7, 9 or 10 digits, not 11";
	const char *prefix_full = "+44 (GB) national numbers do not start with the national "
		"prefix 0: the E.164 form is +442071838750";
	char		buf[16];
	char		big[128];
	size_t		n = strlen(prefix_full);
	size_t		wanted;

	memset(buf, '#', sizeof(buf));
	wanted = e164_explain(input, strlen(input), E164_RULE_LENGTHS, buf, 0);
	UNIT_CHECK(wanted == strlen(full) && buf[0] == '#', "bufsize 0 wrote or miscounted");

	wanted = e164_explain(input, strlen(input), E164_RULE_LENGTHS, buf, 1);
	UNIT_CHECK(wanted == strlen(full) && buf[0] == '\0' && buf[1] == '#',
			   "bufsize 1: \"%s\"", buf);

	memset(buf, '#', sizeof(buf));
	wanted = e164_explain(input, strlen(input), E164_RULE_LENGTHS, buf, 9);
	UNIT_CHECK(wanted == strlen(full) && strcmp(buf, "+44 (GB)") == 0 && buf[9] == '#',
			   "bufsize 9: \"%s\"", buf);

	/* the kept prefix's sentence, cut inside the form it ends with */
	memset(buf, '#', sizeof(buf));
	wanted = e164_explain(input, strlen(input), E164_RULE_POSSIBLE, buf, 9);
	UNIT_CHECK(wanted == n && strcmp(buf, "+44 (GB)") == 0 && buf[9] == '#',
			   "prefix, bufsize 9: \"%s\"", buf);
	memset(big, '#', sizeof(big));
	wanted = e164_explain(input, strlen(input), E164_RULE_POSSIBLE, big, n - 3);
	UNIT_CHECK(wanted == n && strlen(big) == n - 4 && strncmp(big, prefix_full, n - 4) == 0 &&
			   big[n - 3] == '#', "prefix, bufsize %zu: \"%s\"", n - 3, big);
	memset(big, '#', sizeof(big));
	wanted = e164_explain(input, strlen(input), E164_RULE_POSSIBLE, big, n + 1);
	UNIT_CHECK(wanted == n && strcmp(big, prefix_full) == 0 && big[n + 1] == '#',
			   "prefix, bufsize %zu: \"%s\"", n + 1, big);
	memset(big, '#', sizeof(big));
	wanted = e164_explain(input, strlen(input), E164_RULE_POSSIBLE, big, n);
	UNIT_CHECK(wanted == n && strlen(big) == n - 1 && big[n] == '#',
			   "prefix, bufsize %zu: \"%s\"", n, big);

	UNIT_CHECK(e164_explain(NULL, 0, E164_RULE_POSSIBLE, NULL, 0) == strlen("it is empty"),
			   "NULL string and buffer of length 0");
	UNIT_CHECK(e164_explain("+2612345678", 11, E164_RULE_VALID, NULL, 0) ==
			   strlen("+261 (MG) reads the national number 2345678 as 202345678: "
					  "the E.164 form is +261202345678"),
			   "a transform rule's sentence counted into no buffer");
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
	UNIT_CHECK(e164_check_rule(NULL, 0, E164_RULE_VALID, &n) == E164_EMPTY &&
			   e164_check_rule(NULL, 0, E164_RULE_LENGTHS, NULL) == E164_EMPTY,
			   "NULL with length 0, other rules");

	/* MG's rule wants exactly 7 digits: the 8th, past len, must not count */
	UNIT_CHECK(e164_check("+26123456789", 11, &n) == E164_NATIONAL_PREFIX &&
			   strcmp(n.parsed, "+261202345678") == 0,
			   "MG's transform on a prefix of the buffer: \"%s\"", n.parsed);
	UNIT_CHECK(e164_check("+26123456789", 12, &n) == E164_BAD_LENGTH,
			   "MG's transform rule with 8 digits");
	UNIT_CHECK(e164_check_rule("+4402071838750", 13, E164_RULE_VALID, &n) ==
			   E164_NATIONAL_PREFIX && strcmp(n.parsed, "+44207183875") == 0,
			   "GB's prefix on a prefix of the buffer: \"%s\"", n.parsed);
	UNIT_CHECK(e164_check_rule("+4402071838750", 13, E164_RULE_LENGTHS, &n) == E164_VALID,
			   "the same by the old rule");
	UNIT_CHECK(e164_check_rule("+442071838750", 13, E164_RULE_VALID, NULL) == E164_VALID &&
			   e164_check_rule("+442071838750", 12, E164_RULE_VALID, NULL) ==
			   E164_NOT_VALID_NUMBER,
			   "E164_RULE_VALID reads len bytes");
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
	UNIT_CHECK(e164_nsn_lengths(261) == 1u << 9, "+261: %#x", e164_nsn_lengths(261));
	UNIT_CHECK(e164_nsn_lengths(378) == ((1u << 8) | (1u << 10)),
			   "+378: %#x", e164_nsn_lengths(378));
	UNIT_CHECK(e164_nsn_lengths(672) == 1u << 6, "+672: %#x", e164_nsn_lengths(672));

	UNIT_CHECK(region_is(1, "US"), "+1 is US");
	UNIT_CHECK(region_is(7, "RU"), "+7 is RU");
	UNIT_CHECK(region_is(44, "GB"), "+44 is GB");
	UNIT_CHECK(region_is(39, "IT"), "+39 is IT");
	UNIT_CHECK(region_is(49, "DE"), "+49 is DE");
	UNIT_CHECK(region_is(54, "AR"), "+54 is AR");
	UNIT_CHECK(region_is(55, "BR"), "+55 is BR");
	UNIT_CHECK(region_is(241, "GA"), "+241 is GA");
	UNIT_CHECK(region_is(261, "MG"), "+261 is MG");
	UNIT_CHECK(region_is(378, "SM"), "+378 is SM");
	UNIT_CHECK(region_is(672, "NF"), "+672 is NF");
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
 * within 15 digits in all, and each valid length passes by the old rule.
 * By the other two rules, numbers of every code and length made of one
 * digit repeated: no verdict but VALID, BAD_LENGTH, NATIONAL_PREFIX (and
 * NOT_VALID_NUMBER by E164_RULE_VALID); the rules agree but where the
 * header says they may differ; a parsed form is "+", the same code and
 * digits.
 */
static void
test_table_invariants(void)
{
	int			code;
	int			assigned = 0;
	int			problems = 0;
	int			rule_problems = 0;

	for (code = 1; code <= 999; code++)
	{
		int			cc_digits = code_digits(code);
		uint16_t	lengths = e164_nsn_lengths(code);
		int			nsn_digits;
		char		digit;

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
			for (digit = '0'; digit <= '9'; digit++)
			{
				char		number[E164_MAX_DIGITS + 2];
				char		code_text[8];
				E164Number	n;
				E164Verdict by_lengths;
				E164Verdict possible;
				E164Verdict valid;
				int			k;

				k = snprintf(number, sizeof(number), "+%d", code);
				memset(number + k, digit, (size_t) nsn_digits);
				by_lengths = e164_check_rule(number, (size_t) (k + nsn_digits),
											 E164_RULE_LENGTHS, &n);
				problems += by_lengths != ((lengths >> nsn_digits) & 1 ? E164_VALID
										   : E164_BAD_LENGTH);
				problems += n.country_code != code || n.nsn_digits != nsn_digits;

				possible = e164_check_rule(number, (size_t) (k + nsn_digits),
										   E164_RULE_POSSIBLE, &n);
				rule_problems += possible != by_lengths && possible != E164_NATIONAL_PREFIX;
				rule_problems += n.country_code != code || n.nsn_digits != nsn_digits;
				if (possible == E164_NATIONAL_PREFIX)
				{
					snprintf(code_text, sizeof(code_text), "+%d", code);
					rule_problems += strncmp(n.parsed, code_text, (size_t) k) != 0;
					rule_problems += strspn(n.parsed + 1, "0123456789") !=
						strlen(n.parsed + 1);
					rule_problems += strcmp(n.parsed, number) == 0;
				}
				valid = e164_check_rule(number, (size_t) (k + nsn_digits),
										E164_RULE_VALID, NULL);
				rule_problems += valid != possible &&
					!(possible == E164_VALID && valid == E164_NOT_VALID_NUMBER);
			}
		}
	}
	UNIT_CHECK(assigned >= 200, "only %d assigned codes", assigned);
	UNIT_CHECK(problems == 0, "%d problems in the table", problems);
	UNIT_CHECK(rule_problems == 0, "%d problems between the rules", rule_problems);
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
