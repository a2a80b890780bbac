#!/usr/bin/python3
"""
e164_diff.py
    Differential test of the E.164 validator against python3-phonenumbers
    (libphonenumber's metadata and parser).

    /usr/bin/python3 test/diff/e164_diff.py .run/build/validate      (make difftest)

Every case goes through one run of "validate e164" and its answer line is
compared with what the rule (README, E.164 numbers) says, computed here
straight from the metadata; numbers that libphonenumber's parser keeps as
they are must moreover get the verdict libphonenumber gives them
(is_possible_number_with_reason(n) == IS_POSSIBLE).

  (a) every code 1..999: the validator knows exactly the assigned codes,
      and a code written with leading zeros ("+01", "+0044") is none;
  (b) every assigned code, every total length 1..15: pseudo-random numbers
      and numbers whose national part starts with each digit 0-9;
  (c) 16 to 18 digits: always TOO_LONG;
  (d) malformed strings.

Exits non-zero on any mismatch, or when too few cases were compared for the
run to mean anything.
"""

import random
import subprocess
import sys

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata
from phonenumbers.phonenumberutil import ValidationResult

E164_MAX_DIGITS = 15
SEED = 20250164
RANDOM_NUMBERS_PER_LENGTH = 24
MISMATCHES_SHOWN = 20

CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE


def national_lengths(cc):
    """IS_POSSIBLE national lengths of a code's main region, read from the metadata."""
    region = CODES[cc][0]
    general = PhoneMetadata.metadata_for_region_or_calling_code(cc, region).general_desc
    local_only = set(general.possible_length_local_only)
    return {n for n in general.possible_length if n >= 0 and n not in local_only}


LENGTHS = {cc: national_lengths(cc) for cc in CODES}


def expected_by_rule(text):
    """The validator's answer line for a string, from the rule."""
    if text == b"":
        return "EMPTY"
    if not text.startswith(b"+"):
        return "NO_PLUS"
    digits = text[1:]
    if any(not 0x30 <= byte <= 0x39 for byte in digits):
        return "NOT_DIGIT"
    if not digits:
        return "NO_DIGITS"
    if len(digits) > E164_MAX_DIGITS:
        return "TOO_LONG"
    digits = digits.decode("ascii")
    for cc_digits in (1, 2, 3):
        prefix = digits[:cc_digits]
        if len(prefix) == cc_digits and prefix[0] != "0" and int(prefix) in CODES:
            nsn = digits[cc_digits:]
            if len(nsn) in LENGTHS[int(prefix)]:
                return "VALID %s %d" % (prefix, len(nsn))
            return "BAD_LENGTH"
    return "UNKNOWN_COUNTRY_CODE"


def expected_by_libphonenumber(cc, nsn):
    """libphonenumber's verdict as an answer line, or None when its parser
    does not keep +cc nsn as it is (strips a prefix, or refuses it)."""
    try:
        number = phonenumbers.parse("+%d%s" % (cc, nsn), None)
    except NumberParseException:
        return None
    if (number.country_code != cc
            or phonenumbers.national_significant_number(number) != nsn):
        return None
    if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE:
        return "VALID %d %d" % (cc, len(nsn))
    return "BAD_LENGTH"


class Case:
    """One input line, what it must give, and which part of the test made it."""

    def __init__(self, part, text, expected, by_libphonenumber):
        self.part = part
        self.text = text
        self.expected = expected
        self.by_libphonenumber = by_libphonenumber


def random_digits(rng, count):
    """A string of count pseudo-random decimal digits."""
    return "".join(rng.choice("0123456789") for _ in range(count))


def code_probe_cases():
    """(a) every 1-3 digit code, and every code written with leading zeros
    ("+01", "+0044"), followed by zeros of every length that fits."""
    cases = []
    written = ["%d" % cc for cc in range(1, 1000)]
    written += ["0" * zeros + "%d" % cc for zeros in (1, 2) for cc in range(0, 1000)]
    for code in written:
        for nsn_digits in range(0, E164_MAX_DIGITS - len(code) + 1):
            text = ("+" + code + "0" * nsn_digits).encode()
            cases.append(Case("a", text, expected_by_rule(text), False))
    return cases


def number_cases(rng):
    """(b) numbers of every total length 1..15 for every assigned code."""
    cases = []
    for cc in sorted(CODES):
        code = str(cc)
        for total in range(1, E164_MAX_DIGITS + 1):
            nsn_digits = total - len(code)
            if nsn_digits < 0:
                texts = {"+" + code[:total]}
            else:
                texts = {"+" + code + random_digits(rng, nsn_digits)
                         for _ in range(RANDOM_NUMBERS_PER_LENGTH)}
                if nsn_digits > 0:
                    texts |= {"+" + code + lead + random_digits(rng, nsn_digits - 1)
                              for lead in "0123456789"}
            for text in sorted(texts):
                nsn = text[1 + len(code):] if nsn_digits >= 0 else None
                libphonenumber = (expected_by_libphonenumber(cc, nsn)
                                  if nsn is not None else None)
                by_rule = expected_by_rule(text.encode())
                if libphonenumber is not None:
                    cases.append(Case("b", text.encode(), libphonenumber, True))
                    if by_rule != libphonenumber:
                        cases.append(Case("b-rule", text.encode(), by_rule, False))
                else:
                    cases.append(Case("b", text.encode(), by_rule, False))
    return cases


def too_long_cases(rng):
    """(c) 16 to 18 digits, for every assigned code: always TOO_LONG."""
    cases = []
    for cc in sorted(CODES):
        for total in (16, 17, 18):
            text = ("+%d" % cc + random_digits(rng, total - len(str(cc)))).encode()
            cases.append(Case("c", text, "TOO_LONG", False))
    return cases


MALFORMED = [
    (b"", "EMPTY"),
    (b"+", "NO_DIGITS"),
    (b"14155551234", "NO_PLUS"),
    (b" +14155551234", "NO_PLUS"),
    (b"0014155551234", "NO_PLUS"),
    (b"++14155551234", "NOT_DIGIT"),
    (b"+14155551234 ", "NOT_DIGIT"),
    (b"+1 415 555 1234", "NOT_DIGIT"),
    (b"+1-415-555-1234", "NOT_DIGIT"),
    (b"+1(415)5551234", "NOT_DIGIT"),
    (b"+1.415.555.1234", "NOT_DIGIT"),
    (b"+1415555123x", "NOT_DIGIT"),
    (b"+14155551234\r", "NOT_DIGIT"),
    (b"+14155551234\t", "NOT_DIGIT"),
    (b"+1415555123\x7f", "NOT_DIGIT"),
    ("+\u0661\u0664\u0661\u0665\u0665\u0665\u0661\u0662\u0663\u0664".encode(), "NOT_DIGIT"),
    ("+\uff11\uff14\uff11\uff15\uff15\uff15\uff15\uff11\uff12\uff13\uff14".encode(), "NOT_DIGIT"),
    ("+1415555123\u00b2".encode(), "NOT_DIGIT"),
    (b"+1415555123\xff", "NOT_DIGIT"),
    (b"+\xc0\xb1", "NOT_DIGIT"),
    (b"+", "NO_DIGITS"),
    (b"+0", "UNKNOWN_COUNTRY_CODE"),
    (b"+014155551234", "UNKNOWN_COUNTRY_CODE"),
    (b"+0014155551234", "UNKNOWN_COUNTRY_CODE"),
    (b"+999123456789", "UNKNOWN_COUNTRY_CODE"),
    (b"+28123456789", "UNKNOWN_COUNTRY_CODE"),
    (b"+2", "UNKNOWN_COUNTRY_CODE"),
    (b"+1", "BAD_LENGTH"),
    (b"+44", "BAD_LENGTH"),
    (b"+4402071838750", "BAD_LENGTH"),
    (b"+442071838750", "VALID 44 10"),
    (b"+14155551234", "VALID 1 10"),
    (b"+12025559876", "VALID 1 10"),
    (b"+13105558888", "VALID 1 10"),
    (b"+123456789012345", "BAD_LENGTH"),
    (b"+1234567890123456", "TOO_LONG"),
    (b"+" + b"1" * 1000, "TOO_LONG"),
    (b"+" + b"1" * 1000 + b"x", "NOT_DIGIT"),
    (b"tel:+14155551234", "NO_PLUS"),
    (b"+1415555l234", "NOT_DIGIT"),
    (b"+1415555O234", "NOT_DIGIT"),
]


def malformed_cases():
    """(d) hand-written strings; the rule must agree with the table above."""
    cases = []
    for text, expected in MALFORMED:
        if expected_by_rule(text) != expected:
            raise SystemExit("e164 differential: the reference rule says %s for %r, "
                             "the malformed list %s" % (expected_by_rule(text), text, expected))
        cases.append(Case("d", text, expected, False))
    return cases


def run_validator(validator, cases):
    """Pipes every case through one run of the driver; returns its lines."""
    stdin = b"".join(case.text + b"\n" for case in cases)
    result = subprocess.run([validator, "e164"], input=stdin,
                            stdout=subprocess.PIPE, check=True)
    lines = result.stdout.decode("ascii").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(cases):
        raise SystemExit("e164 differential: %d answers for %d lines"
                         % (len(lines), len(cases)))
    return lines


def codes_seen_assigned(cases, answers):
    """Codes the validator called VALID for some probe of part (a)."""
    seen = set()
    for case, answer in zip(cases, answers):
        if case.part == "a" and answer.startswith("VALID "):
            seen.add(int(answer.split()[1]))
    return seen


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: e164_diff.py path/to/validate")
    rng = random.Random(SEED)
    cases = (code_probe_cases() + number_cases(rng) + too_long_cases(rng)
             + malformed_cases())
    answers = run_validator(sys.argv[1], cases)

    mismatches = [(case, answer) for case, answer in zip(cases, answers)
                  if answer != case.expected]
    with_lengths = {cc for cc in CODES if any(
        n + len(str(cc)) <= E164_MAX_DIGITS for n in LENGTHS[cc])}
    seen = codes_seen_assigned(cases, answers)
    code_problems = sorted(seen ^ with_lengths)

    compared = sum(1 for case in cases if case.by_libphonenumber)
    by_metadata = sum(1 for case in cases if case.part == "b" and not case.by_libphonenumber)
    valid_compared = sum(1 for case in cases
                         if case.by_libphonenumber and case.expected.startswith("VALID"))
    rule_disagrees = sum(1 for case in cases if case.part == "b-rule")
    others = sum(1 for case in cases if case.part in ("a", "c", "d"))

    print("e164 differential: %d numbers compared with libphonenumber (%d possible), "
          "%d checked by metadata, %d probes and malformed strings, %d mismatches"
          % (compared, valid_compared, by_metadata, others, len(mismatches)))
    print("  python3-phonenumbers %s, %d assigned codes, %d of them seen as assigned"
          % (phonenumbers.__version__, len(CODES), len(seen)))
    for case, answer in mismatches[:MISMATCHES_SHOWN]:
        print("  MISMATCH (%s%s) %r: validator %s, expected %s"
              % (case.part, ", libphonenumber" if case.by_libphonenumber else ", rule",
                 case.text, answer, case.expected))
    if code_problems:
        print("  codes assigned on one side only: %s"
              % ", ".join(str(cc) for cc in code_problems[:MISMATCHES_SHOWN]))
    if rule_disagrees:
        print("  note: the metadata rule and libphonenumber disagree on %d kept numbers"
              % rule_disagrees)

    plausible = (compared >= 20000 and valid_compared >= 2000 and by_metadata >= 2000
                 and len(CODES) >= 200 and len(seen) >= 200 and others >= 5000)
    if not plausible:
        print("e164 differential: too few cases to mean anything")
        return 1
    return 1 if mismatches or code_problems else 0


if __name__ == "__main__":
    sys.exit(main())
