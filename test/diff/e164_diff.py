#!/usr/bin/python3
"""
e164_diff.py
    Differential test of the phone number validators against
    python3-phonenumbers (libphonenumber's metadata and parser).

    /usr/bin/python3 test/diff/e164_diff.py .run/build/validate      (make difftest)

One corpus of strings goes through three runs of the driver, one per rule:

  e164          the contract's rule (trackly_is_e164, the import's default):
                libphonenumber's parse() gives the number back unchanged in
                E.164 and finds it IS_POSSIBLE, with at most 15 digits;
                when parse() reads another number (a national prefix kept),
                the driver must name that number exactly;
  phone         the same and is_valid_number() (trackly_is_valid_phone, the
                accounts in mode 'valid');
  e164-lengths  the rule of 0.2.0 to 0.4.0 (code and length only), still
                behind the SQL validators of those versions: checked against
                the metadata's lengths.

The corpus:
  (a) every code 1..999, also written with leading zeros, with zeros of
      every length that fits;
  (b) every assigned code at every total length 1..15: pseudo-random
      numbers and numbers whose national part starts with each digit;
  (c) libphonenumber's example number of every region (and non-geographic
      code) for every number type;
  (d) near misses of each example: a digit dropped, added or changed, the
      region's national prefix or a 0 written after the country code;
  (e) for every code with a national prefix rule, numbers that begin with
      strings its pattern matches (drawn from the pattern itself), so the
      rule's every branch, capture and transform is exercised;
  (f) 16 to 18 digits, and (g) malformed strings.

Exits non-zero on any mismatch, or when too few cases were compared for the
run to mean anything.
"""

import random
import re._constants as sre_c
import re._parser as sre_parse
import subprocess
import sys

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat
from phonenumbers.phonenumberutil import ValidationResult

E164_MAX_DIGITS = 15
SEED = 20250164
RANDOM_NUMBERS_PER_LENGTH = 24
RULE_SAMPLES_PER_CODE = 60
MISMATCHES_SHOWN = 20

CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
DESCS = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
         "personal_number", "voip", "pager", "uan", "voicemail")


def main_metadata(cc):
    return PhoneMetadata.metadata_for_region_or_calling_code(cc, CODES[cc][0])


def national_lengths(cc):
    """IS_POSSIBLE national lengths of a code's main region, read from the metadata."""
    general = main_metadata(cc).general_desc
    local_only = set(general.possible_length_local_only)
    return {n for n in general.possible_length if n >= 0 and n not in local_only}


LENGTHS = {cc: national_lengths(cc) for cc in CODES}


def split_code(digits):
    """(cc, nsn) for a digit string, or None when no assigned code starts it."""
    for cc_digits in (1, 2, 3):
        prefix = digits[:cc_digits]
        if len(prefix) == cc_digits and prefix[0] != "0" and int(prefix) in CODES:
            return int(prefix), digits[cc_digits:]
    return None


def shape(text):
    """The verdict on the string's form alone, or None for "+" and 1-15 digits."""
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
    return None


def expected_by_lengths(text):
    """0.2.0's rule, from the metadata: code and national length only."""
    verdict = shape(text)
    if verdict is not None:
        return verdict
    parts = split_code(text[1:].decode("ascii"))
    if parts is None:
        return "UNKNOWN_COUNTRY_CODE"
    cc, nsn = parts
    if len(nsn) in LENGTHS[cc]:
        return "VALID %d %d" % (cc, len(nsn))
    return "BAD_LENGTH"


def possible_here(cc, nsn):
    """Is +cc nsn of a possible length within E.164's 15 digits?"""
    return len(nsn) in LENGTHS[cc] and len(str(cc)) + len(nsn) <= E164_MAX_DIGITS


def expected_by_libphonenumber(text, valid):
    """The contract's rule (and, with valid, is_valid_number), from
    libphonenumber's own parse(), format_number() and checks."""
    verdict = shape(text)
    if verdict is not None:
        return verdict
    digits = text[1:].decode("ascii")
    parts = split_code(digits)
    if parts is None:
        return "UNKNOWN_COUNTRY_CODE"
    cc, nsn = parts
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return "BAD_LENGTH"
    if number.country_code != cc:
        raise SystemExit("libphonenumber reads %r with code %d" % (text, number.country_code))
    form = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if form != "+" + digits:
        parsed = phonenumbers.national_significant_number(number)
        if possible_here(cc, nsn) or possible_here(cc, parsed):
            return "NATIONAL_PREFIX " + form
        return "BAD_LENGTH"
    possible = (phonenumbers.is_possible_number_with_reason(number)
                == ValidationResult.IS_POSSIBLE and len(digits) <= E164_MAX_DIGITS)
    if not possible:
        return "BAD_LENGTH"
    if valid and not phonenumbers.is_valid_number(number):
        return "NOT_VALID_NUMBER"
    return "VALID %d %d" % (cc, len(nsn))


def random_digits(rng, count):
    """A string of count pseudo-random decimal digits."""
    return "".join(rng.choice("0123456789") for _ in range(count))


class Corpus:
    """Strings in the order first added, each with the part that added it."""

    def __init__(self):
        self.parts = {}

    def add(self, part, text):
        if isinstance(text, str):
            text = text.encode()
        self.parts.setdefault(text, part)

    def texts(self):
        return list(self.parts)


def code_probes(corpus):
    """(a) every 1-3 digit code, and every code written with leading zeros
    ("+01", "+0044"), followed by zeros of every length that fits."""
    written = ["%d" % cc for cc in range(1, 1000)]
    written += ["0" * zeros + "%d" % cc for zeros in (1, 2) for cc in range(0, 1000)]
    for code in written:
        for nsn_digits in range(0, E164_MAX_DIGITS - len(code) + 1):
            corpus.add("a", "+" + code + "0" * nsn_digits)


def numbers_by_length(corpus, rng):
    """(b) numbers of every total length 1..15 for every assigned code."""
    for cc in sorted(CODES):
        code = str(cc)
        for total in range(1, E164_MAX_DIGITS + 1):
            nsn_digits = total - len(code)
            if nsn_digits < 0:
                corpus.add("b", "+" + code[:total])
                continue
            for _ in range(RANDOM_NUMBERS_PER_LENGTH):
                corpus.add("b", "+" + code + random_digits(rng, nsn_digits))
            if nsn_digits > 0:
                for lead in "0123456789":
                    corpus.add("b", "+" + code + lead + random_digits(rng, nsn_digits - 1))


def example_numbers():
    """(c) libphonenumber's example numbers: every region, every type."""
    examples = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        for desc in DESCS + ("general_desc",):
            example = getattr(metadata, desc)
            if example is not None and example.example_number:
                examples.add((metadata.country_code, example.example_number))
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        metadata = PhoneMetadata.metadata_for_nongeo_region(cc)
        for desc in DESCS + ("general_desc",):
            example = getattr(metadata, desc)
            if example is not None and example.example_number:
                examples.add((cc, example.example_number))
    return sorted(examples)


def examples_and_near_misses(corpus, rng):
    """(c) and (d)."""
    for cc, nsn in example_numbers():
        code = str(cc)
        corpus.add("c", "+" + code + nsn)
        metadata = main_metadata(cc)
        prefixes = {"0", "1", metadata.national_prefix or "0"}
        misses = [nsn[:-1], nsn + "0", nsn + str(rng.randrange(10)),
                  nsn[:-1] + str((int(nsn[-1]) + 1) % 10),
                  nsn[:1] + nsn[2:], str(rng.randrange(10)) + nsn]
        misses += [prefix + nsn for prefix in sorted(prefixes)]
        misses += [prefix + nsn[:-1] for prefix in sorted(prefixes)]
        for miss in misses:
            corpus.add("d", "+" + code + miss)


def sample_pattern(items, rng):
    """A random string the parsed regular expression matches."""
    text = []
    for op, arg in items:
        if op is sre_c.LITERAL:
            text.append(chr(arg))
        elif op is sre_c.IN:
            choices = []
            for kind, value in arg:
                if kind is sre_c.LITERAL:
                    choices.append(chr(value))
                elif kind is sre_c.RANGE:
                    choices += [chr(c) for c in range(value[0], value[1] + 1)]
                elif kind is sre_c.CATEGORY:
                    choices += list("0123456789")
            text.append(rng.choice(choices))
        elif op is sre_c.ANY:
            text.append(rng.choice("0123456789"))
        elif op is sre_c.SUBPATTERN:
            text.append(sample_pattern(arg[3], rng))
        elif op is sre_c.BRANCH:
            text.append(sample_pattern(rng.choice(arg[1]), rng))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, high, body = arg
            high = min(high, low + 3)
            for _ in range(rng.randint(low, high)):
                text.append(sample_pattern(body, rng))
    return "".join(text)


def national_prefix_cases(corpus, rng):
    """(e) numbers starting with what each national prefix rule matches."""
    for cc in sorted(CODES):
        metadata = main_metadata(cc)
        rule = metadata.national_prefix_for_parsing
        if not rule:
            continue
        parsed = list(sre_parse.parse(rule))
        room = E164_MAX_DIGITS - len(str(cc))
        for _ in range(RULE_SAMPLES_PER_CODE):
            head = sample_pattern(parsed, rng)[:room]
            lengths = ({len(head), room, rng.randint(len(head), room)}
                       | {n for n in LENGTHS[cc] if len(head) <= n <= room}
                       | {n + len(head) for n in LENGTHS[cc] if n + len(head) <= room})
            for length in sorted(lengths):
                corpus.add("e", "+%d" % cc + head + random_digits(rng, length - len(head)))


def too_long(corpus, rng):
    """(f) 16 to 18 digits, for every assigned code: always TOO_LONG."""
    for cc in sorted(CODES):
        for total in (16, 17, 18):
            corpus.add("f", "+%d" % cc + random_digits(rng, total - len(str(cc))))


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


def build_corpus():
    rng = random.Random(SEED)
    corpus = Corpus()
    code_probes(corpus)
    numbers_by_length(corpus, rng)
    examples_and_near_misses(corpus, rng)
    national_prefix_cases(corpus, rng)
    too_long(corpus, rng)
    for text, expected in MALFORMED:
        if expected_by_lengths(text) != expected:
            raise SystemExit("e164 differential: the reference says %s for %r, "
                             "the malformed list %s" % (expected_by_lengths(text), text, expected))
        corpus.add("g", text)
    return corpus


def run_validator(validator, mode, texts):
    """Pipes every string through one run of the driver; returns its lines."""
    stdin = b"".join(text + b"\n" for text in texts)
    result = subprocess.run([validator, mode], input=stdin,
                            stdout=subprocess.PIPE, check=True)
    lines = result.stdout.decode("ascii").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(texts):
        raise SystemExit("e164 differential: %d answers for %d lines" % (len(lines), len(texts)))
    return lines


def compare(validator, corpus, mode, reference):
    """Runs one mode; returns (mismatches, expected answers)."""
    texts = corpus.texts()
    expected = [reference(text) for text in texts]
    answers = run_validator(validator, mode, texts)
    mismatches = [(text, answer, wanted) for text, answer, wanted
                  in zip(texts, answers, expected) if answer != wanted]
    print("  %-13s %6d strings, %6d valid, %4d national prefixes, %d mismatches"
          % (mode, len(texts), sum(a.startswith("VALID") for a in expected),
             sum(a.startswith("NATIONAL_PREFIX") for a in expected), len(mismatches)))
    for text, answer, wanted in mismatches[:MISMATCHES_SHOWN]:
        print("    MISMATCH (%s) %r: validator %s, expected %s"
              % (corpus.parts[text], text, answer, wanted))
    return mismatches, expected


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: e164_diff.py path/to/validate")
    corpus = build_corpus()
    texts = corpus.texts()
    counts = {}
    for part in corpus.parts.values():
        counts[part] = counts.get(part, 0) + 1
    print("e164 differential: python3-phonenumbers %s, %d strings (%s)"
          % (phonenumbers.__version__, len(texts),
             ", ".join("%s %d" % item for item in sorted(counts.items()))))

    failed = False
    bad, possible = compare(sys.argv[1], corpus, "e164",
                            lambda text: expected_by_libphonenumber(text, False))
    failed |= bool(bad)
    bad, valid = compare(sys.argv[1], corpus, "phone",
                         lambda text: expected_by_libphonenumber(text, True))
    failed |= bool(bad)
    bad, lengths = compare(sys.argv[1], corpus, "e164-lengths", expected_by_lengths)
    failed |= bool(bad)

    changed = sum((a.startswith("VALID")) != (b.startswith("VALID"))
                  for a, b in zip(lengths, possible))
    print("  verdicts that changed from 0.4.0's rule to the contract's: %d" % changed)

    plausible = (len(texts) >= 30000 and len(CODES) >= 200
                 and sum(a.startswith("VALID") for a in valid) >= 3000
                 and sum(a.startswith("NATIONAL_PREFIX") for a in possible) >= 1000
                 and all(counts.get(part, 0) >= 100 for part in "abcdefg"[:6]))
    if not plausible:
        print("e164 differential: too few cases to mean anything")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
