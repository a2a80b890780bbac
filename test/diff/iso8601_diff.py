#!/usr/bin/python3
"""
iso8601_diff.py
    Differential test of the strict ISO 8601 parser (src/iso8601.c) against an
    independent reference written here in Python.

Usage: /usr/bin/python3 test/diff/iso8601_diff.py .run/build/validate

The reference shares no code or method with the C parser: a full-match
regular expression decides the shape, the calendar module the days of a
month, fractions.Fraction and round() (ties to even) the microseconds, and
date.toordinal() the days since 2000-01-01, so the carry into year 10000,
which datetime cannot hold, is plain integer arithmetic.  It applies the same
documented precedence of verdicts (empty, then shape, then the ranges left
to right), so the verdict names are compared too, not only valid/invalid.

With a fixed seed it builds valid strings across the whole range (every year
0001-9999 at least once, leap days, month ends, every separator and offset
form, fractions of 1 to 20 digits with exact ties and carries) and invalid
ones by mutating valid ones (deleting, inserting, replacing, duplicating a
character, swapping fields, values out of range, white space, digits that
are not ASCII), pipes them all through one run of `validate iso8601`, and
exits non-zero on any mismatch or when too few strings were checked.
"""

import calendar
import random
import re
import subprocess
import sys
from datetime import date
from fractions import Fraction

SEED = 20251115
RANDOM_VALID = 60000
MUTANTS = 90000
MIN_VALID = 50000
MIN_INVALID = 50000

DAYS_BEFORE_2000 = date(2000, 1, 1).toordinal()

SHAPE = re.compile(
    rb"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt ]"
    rb"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    rb"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?"
    rb"(?:[Zz]|(?P<sign>[+-])(?P<offset_hour>[0-9]{2})(?::?(?P<offset_minute>[0-9]{2}))?)?"
)
DATE_ALONE = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]?")


def reference(text):
    """The expected output line of `validate iso8601` for the bytes text."""
    if not text:
        return "EMPTY"
    m = SHAPE.fullmatch(text)
    if m is None:
        return "NO_TIME" if DATE_ALONE.fullmatch(text) else "SYNTAX"

    def field(name):
        value = m.group(name)
        return int(value) if value is not None else 0

    year, month, day = field("year"), field("month"), field("day")
    hour, minute, second = field("hour"), field("minute"), field("second")
    offset_hour, offset_minute = field("offset_hour"), field("offset_minute")
    if year == 0:
        return "BAD_YEAR"
    if not 1 <= month <= 12:
        return "BAD_MONTH"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return "BAD_DAY"
    if hour > 23:
        return "BAD_HOUR"
    if minute > 59:
        return "BAD_MINUTE"
    if second > 60:
        return "BAD_SECOND"
    if offset_hour > 23 or offset_minute > 59:
        return "BAD_OFFSET"
    offset_minutes = offset_hour * 60 + offset_minute
    if m.group("sign") == b"-":
        offset_minutes = -offset_minutes
    if second == 60 and (hour * 60 + minute - offset_minutes) % 1440 != 23 * 60 + 59:
        return "BAD_SECOND"     # a leap second is 23:59:60 in UTC (RFC 3339)

    fraction = m.group("fraction")
    microseconds = 0
    if fraction is not None:
        microseconds = round(Fraction(int(fraction), 10 ** len(fraction)) * 1000000)
    offset = (offset_hour * 60 + offset_minute) * 60
    if m.group("sign") == b"-":
        offset = -offset
    days = date(year, month, day).toordinal() - DAYS_BEFORE_2000
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    return "VALID %d" % (seconds * 1000000 + microseconds)


def two(n):
    return "%02d" % n


def random_date(rng, year):
    """A valid date of year, often a month end or a leap day."""
    month = rng.randint(1, 12)
    last = calendar.monthrange(year, month)[1]
    kind = rng.random()
    if kind < 0.15:
        day = last
    elif kind < 0.2 and calendar.isleap(year):
        month, day = 2, 29
    elif kind < 0.25:
        day = 1
    else:
        day = rng.randint(1, last)
    return "%04d-%s-%s" % (year, two(month), two(day))


def random_fraction(rng):
    """1 to 20 fraction digits: random, an exact tie, a near tie or all nines."""
    length = rng.randint(1, 20)
    kind = rng.random()
    if kind < 0.15 and length >= 7:
        head = "".join(rng.choice("0123456789") for _ in range(6))
        return head + "5" + "0" * (length - 7)
    if kind < 0.25 and length >= 8:
        head = "".join(rng.choice("0123456789") for _ in range(6))
        tail = "0" * (length - 8) + rng.choice("123456789")
        return head + rng.choice("45") + tail
    if kind < 0.35:
        return "9" * length
    return "".join(rng.choice("0123456789") for _ in range(length))


def random_offset(rng):
    kind = rng.randrange(9)
    hour = rng.choice([0, 23, rng.randint(0, 23), rng.randint(0, 23)])
    minute = rng.choice([0, 59, 30, 45, rng.randint(0, 59)])
    sign = rng.choice("+-")
    if kind == 0:
        return ""
    if kind == 1:
        return "Z"
    if kind == 2:
        return "z"
    if kind == 3:
        return sign + two(hour)
    if kind == 4:
        return sign + two(hour) + two(minute)
    return sign + two(hour) + ":" + two(minute)


def random_valid(rng, year=None):
    if year is None:
        year = rng.choice([rng.randint(1, 9999), rng.randint(1900, 2100),
                           rng.choice([1, 4, 100, 400, 1600, 1900, 2000, 2100, 9999])])
    hour = rng.choice([0, 23, rng.randint(0, 23), rng.randint(0, 23)])
    minute = rng.choice([0, 59, rng.randint(0, 59), rng.randint(0, 59)])
    text = random_date(rng, year) + rng.choice("Tt ") + two(hour) + ":" + two(minute)
    if rng.random() < 0.8:
        text += ":" + two(rng.choice([0, 59, rng.randint(0, 59)]))
        if rng.random() < 0.6:
            text += rng.choice(".,") + random_fraction(rng)
    return text + random_offset(rng)


EDGE_CASES = [
    "2025-11-15T14:30:00Z", "2025-11-15T14:31:00Z",
    "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999995Z",
    "9999-12-31T23:59:59.99999949999999999999Z", "9999-12-31T23:59:59.9999999-23:59",
    "9999-12-31T23:59:59.9999999+23:59", "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00-23:59", "0001-01-01T00:00:00.0000005Z",
    "2000-01-01T00:00:00Z", "1999-12-31T23:59:59.9999995Z",
    "2024-02-29T23:59:59.9999999Z", "2100-02-28T23:59:59.9999999Z",
    "2000-02-29 00:00", "1900-03-01t00:00-00",
    "2025-11-15T14:30:00.0000005Z", "2025-11-15T14:30:00.0000015Z",
    "2025-11-15T14:30:00.00000050000001Z", "2025-11-15T14:30:00,9999995",
    "", "2025-11-15", "2025-11-15T", "2025-11-15 ", "now", "epoch", "1731681000",
    "Nov 15 2025", "2025-11-15 14:30:00+00 BC", "0000-01-01T00:00:00Z",
    "2025-11-15T24:00", "2025-11-15T23:60", "2025-11-15T23:59:60Z",
    "1998-12-31T23:59:60Z", "1998-12-31T15:59:60.123-08:00", "2025-11-15T23:58:60Z",
    "1999-01-01T00:59:60+01:00", "2025-11-15T23:59:60+01:00", "9999-12-31T23:59:60.9999999Z",
    "2025-11-15T23:59:61Z", "2025-11-15T23:59:60+24:00",
    "2025-11-15T14:30:00+24:00", "2025-11-15T14:30:00+05:60",
    "2025-11-15T14:30:00+5", "2025-11-15T14:30:00+055", "2025-11-15T14:30:00+05:",
    "2025-11-15T14:30:00Z+01", "2025-11-15T14:30:00.Z", "2100-02-29T00:00Z",
]

# Bytes the mutations insert or put in place of another: the grammar's own
# characters, letters, white space, and digits that are not ASCII.
INSERTS = [c.encode() for c in "0123456789-:T t.,Z+zxW/"] + [
    b"\t", b"\r", b"\x0b", b"\x0c", b"\x01", b"\x7f", b"\xff", b"\x80",
    "\u00a0".encode(), "\u0662".encode(), "\uff12".encode(), "\u0968".encode(),
    "\u00b2".encode(), "\u2212".encode(), "\u2010".encode(),
]
UNICODE_DIGITS = ["\u0660", "\uff10", "\u0966", "\u09e6", "\U0001d7ce"]
JUNK = [" BC", " UTC", "Z", "z", "+01", " ", "\t", ".5", ":00", "00", "x", " +05:00"]


def mutate(rng, text):
    """An (usually) invalid variant of the valid string text, as bytes."""
    data = text.encode()
    kind = rng.randrange(12)
    pos = rng.randrange(len(data))
    if kind == 0:
        return data[:pos] + data[pos + 1:]
    if kind == 1:
        return data[:pos] + rng.choice(INSERTS) + data[pos:]
    if kind == 2:
        return data[:pos] + rng.choice(INSERTS) + data[pos + 1:]
    if kind == 3:
        return data[:pos] + data[pos:pos + 1] + data[pos:]
    if kind == 4:
        return data[:pos]
    if kind == 5:
        return (data + rng.choice(JUNK).encode()) if rng.random() < 0.5 else \
            (rng.choice([" ", "\t", "+", "-", "0"]).encode() + data)
    if kind == 6:
        digits = [i for i, c in enumerate(text) if c.isdigit()]
        i = rng.choice(digits)
        other = chr(ord(rng.choice(UNICODE_DIGITS)) + int(text[i]))
        return (text[:i] + other + text[i + 1:]).encode()
    if kind == 7:
        return swap_fields(rng, text).encode()
    return out_of_range(rng, text).encode()


def swap_fields(rng, text):
    """text with two of its parts exchanged: month and day, date and time ..."""
    date_part, time_part = text[:10], text[11:]
    kind = rng.randrange(3)
    if kind == 0:
        return date_part[:5] + date_part[8:10] + "-" + date_part[5:7] + text[10:]
    if kind == 1:
        return time_part + text[10] + date_part
    return text[:11] + text[14:16] + ":" + text[11:13] + text[16:]


def out_of_range(rng, text):
    """text with one field set to a value its range does not have."""
    kind = rng.randrange(7)
    if kind == 0:
        return "0000" + text[4:]
    if kind == 1:
        return text[:5] + two(rng.choice([0, 13, rng.randint(13, 99)])) + text[7:]
    if kind == 2:
        year, month = int(text[:4]), int(text[5:7])
        last = calendar.monthrange(year, month)[1]
        day = rng.choice([0, last + 1, rng.randint(last + 1, 99)])
        if last == 28 and rng.random() < 0.5:
            day = 29
        return text[:8] + two(day) + text[10:]
    if kind == 3:
        return text[:11] + two(rng.randint(24, 99)) + text[13:]
    if kind == 4:
        return text[:14] + two(rng.randint(60, 99)) + text[16:]
    if kind == 5:
        if len(text) > 16 and text[16] == ":":
            return text[:17] + two(rng.choice([60, rng.randint(60, 99)])) + text[19:]
        return text[:16] + ":" + two(rng.randint(60, 99))
    base = re.sub(r"([Zz]|[+-][0-9:]*)$", "", text)
    bad_hour = two(rng.randint(24, 99))
    bad_minute = two(rng.randint(60, 99))
    return base + rng.choice(["+" + bad_hour, "-" + bad_hour + ":00",
                              "+05:" + bad_minute, "-12" + bad_minute])


def build_inputs():
    rng = random.Random(SEED)
    valid = [random_valid(rng, year) for year in range(1, 10000)]
    valid += [random_valid(rng) for _ in range(RANDOM_VALID)]
    inputs = [s.encode() for s in EDGE_CASES + valid]
    inputs += [mutate(rng, rng.choice(valid)) for _ in range(MUTANTS)]
    for s in inputs:
        assert b"\n" not in s and b"\0" not in s, s
    return inputs


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s path/to/validate\n" % sys.argv[0])
        return 2
    inputs = build_inputs()
    run = subprocess.run([sys.argv[1], "iso8601"], input=b"\n".join(inputs) + b"\n",
                         stdout=subprocess.PIPE, check=True)
    outputs = run.stdout.decode().split("\n")[:-1]
    if len(outputs) != len(inputs):
        print("iso8601 differential: %d strings in, %d lines out" % (len(inputs), len(outputs)))
        return 1

    mismatches = []
    valid = invalid = 0
    for text, got in zip(inputs, outputs):
        expected = reference(text)
        if expected.startswith("VALID"):
            valid += 1
        else:
            invalid += 1
        if got != expected:
            mismatches.append((text, expected, got))

    print("iso8601 differential: %d valid and %d invalid strings, %d mismatches"
          % (valid, invalid, len(mismatches)))
    for text, expected, got in mismatches[:20]:
        print("  %r: reference %s, C %s" % (text, expected, got))
    if valid < MIN_VALID or invalid < MIN_INVALID:
        print("too few strings checked (at least %d valid and %d invalid wanted)"
              % (MIN_VALID, MIN_INVALID))
        return 1
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
