#!/usr/bin/python3
"""Differential test of src/json_scan.c against Python's json module.

Usage: json_scan_diff.py <path to json_scan_cli>

Python's decoder (strict, its C scanner) reads the same grammar as
PostgreSQL's JSON lexer: the four whitespace bytes, RFC 8259's numbers and
escapes, no control characters in strings.  The scan must accept exactly the
texts Python accepts, less the ones it refuses on purpose (json_scan.h): a
string holding U+0000 or a surrogate that is not half of a pair, nesting
deeper than 64, a number longer than 1,000 bytes or with an exponent of more
than three digits, and NaN / Infinity (Python's extension).  For every text
both accept, the values must be the same: compared as the canonical form of
json_canon.h, members in order with duplicates kept, numbers as their text.

Inputs: hand-written edges, then random documents (strings of every kind of
character and escape, numbers of every form, deep and wide containers,
random whitespace) and random edits of them.  Exits 1 on any difference.
"""
import json
import random
import subprocess
import sys

SEED = 20261202
MAX_DEPTH = 64
MAX_NUMBER_BYTES = 1000


class Number:
    """A number as its text (parse_int and parse_float get the token)."""

    def __init__(self, text):
        self.text = text


class Pairs(list):
    """An object's members, in order, duplicates kept."""


class Refused(Exception):
    pass


def refuse_constant(name):
    raise Refused(name)


def canon_string(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def check_string(s):
    for ch in s:
        if ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF:
            raise Refused("string")


def canon(value, depth):
    """The canonical form, or Refused for what the scan refuses on purpose."""
    if isinstance(value, str):
        check_string(value)
        return canon_string(value)
    if isinstance(value, Number):
        text = value.text
        exponent = text.lower().partition("e")[2].lstrip("+-")
        if len(text) > MAX_NUMBER_BYTES or len(exponent) > 3:
            raise Refused("number")
        return text
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if depth + 1 > MAX_DEPTH:
        raise Refused("depth")
    if isinstance(value, Pairs):
        parts = []
        for key, item in value:
            check_string(key)
            parts.append(canon_string(key) + ":" + canon(item, depth + 1))
        return "{" + ",".join(parts) + "}"
    return "[" + ",".join(canon(item, depth + 1) for item in value) + "]"


def reference(text):
    """What the scan must print for text: ACCEPT <hex> or REJECT."""
    try:
        value = json.loads(text, parse_int=Number, parse_float=Number,
                           parse_constant=refuse_constant, object_pairs_hook=Pairs)
        return "ACCEPT " + canon(value, 0).encode("utf-8").hex()
    except (ValueError, RecursionError, Refused):
        return "REJECT"


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

HANDWRITTEN = [
    "", " ", "{}", "[]", " \t\n\r{ } \r\n", "\f{}", "{}\f", "\v[]", "\u00a0[]", "\ufeff{}",
    '"x"', "0", "-0", "01", "-", "1.", ".5", "1e", "1e+", "1E-07", "-0.0e0", "+1", "1x", "0x10",
    "1e999", "1e1000", "1" * 1000, "1" * 1001, "0." + "0" * 998, "0." + "0" * 999,
    "true", "false", "null", "tru", "truex", "nul", "nulls", "True", "NaN", "Infinity", "-Infinity",
    '"\\u0000"', '"\\u0001"', '"\\ud83d\\ude00"', '"\\ud83d"', '"\\ude00"', '"\\ude00\\ud83d"',
    '"\\ud83d\\u0041"', '"\\ud83dx"', '"\\ud83d\\n"', '"\\uDBFF\\uDFFF"', '"\\uD800\\uDC00"', '"\\uFFFF"',
    '"\\u12G4"', '"\\u12"', '"\\x"', '"\\\'"', '"\\/"', '"\\b\\f\\n\\r\\t\\"\\\\"', '"\t"', '"\x1f"', '"\x7f"',
    '"abc', '"\\', '"\\u', '"é€😀"', '{"a":1,}', "[1,]", "[,1]", "[1,,2]", "{,}", '{"a"}', '{"a":}',
    '{"a" 1}', '{1:2}', "{'a':1}", '{"a":1 "b":2}', "[1 2]", "[[[]]]", "[" * 64 + "]" * 64,
    "[" * 65 + "]" * 65, "{" * 3, "]", "}", '{"a":1}}', '{"a":[1,{"b":null}],"a":2}',
    '{"records":[{"id":"x","id":"y"}]}', '"\u2028\u2029"', '"\\u002F\\u005c"',
]

PIECES = ['"', "\\", "{", "}", "[", "]", ",", ":", " ", "\t", "\n", "\r", "\f", "\x00", "\x01", "\x1f",
          "0", "1", "9", "-", "+", ".", "e", "E", "x", "u", "n", "t", "f", "é", "😀", "\u2028",
          "\\u0000", "\\u00e9", "\\ud83d", "\\ude00", "\\uDBFF", "\\u", "\\n", '\\"', "\\\\", "\\/", "\\q",
          "true", "false", "null", "NaN", '"k"', "{}", "[]", "1e5", "1e1234", "123456789012345678901"]


def random_string(rng):
    out = []
    for _ in range(rng.choice((0, 1, 3, 8, 20))):
        roll = rng.random()
        if roll < 0.45:
            out.append(rng.choice("abcxyz019 +-:/_.{}[],"))
        elif roll < 0.55:
            out.append(rng.choice(['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]))
        elif roll < 0.65:
            out.append(rng.choice(["é", "€", "😀", "中", "\u2028", "\x7f", "\u00a0"]))
        elif roll < 0.80:
            cp = rng.choice((rng.randint(1, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0xFFFF)))
            out.append("\\u%04x" % cp if rng.random() < 0.5 else "\\u%04X" % cp)
        elif roll < 0.90:
            cp = rng.randint(0x10000, 0x10FFFF) - 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)))
        elif roll < 0.99:
            out.append(rng.choice("0123456789"))
        elif roll < 0.995:
            out.append(rng.choice(["\\ud800", "\\udfff", "\\u0000", "\x01", "\t", "\\x"]))
        else:
            out.append('"')
    return '"' + "".join(out) + '"'


def random_number(rng):
    text = rng.choice(["", "-"])
    text += rng.choice(["0", str(rng.randint(1, 9)) + "".join(rng.choice("0123456789")
                                                            for _ in range(rng.choice((0, 1, 5, 18, 19, 40))))])
    if rng.random() < 0.3:
        text += "." + "".join(rng.choice("0123456789") for _ in range(rng.choice((1, 2, 10))))
    if rng.random() < 0.2:
        text += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.choice((0, 5, 99, 999, 999, 1000, 12345)))
    return text


def space(rng):
    return "".join(rng.choice(" \t\n\r") for _ in range(rng.choice((0, 0, 0, 1, 2))))


def random_value(rng, depth):
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        kind = rng.random()
        if kind < 0.5:
            return random_string(rng)
        if kind < 0.8:
            return random_number(rng)
        return rng.choice(["true", "false", "null"])
    items = [random_value(rng, depth + 1) for _ in range(rng.choice((0, 1, 2, 3, 5)))]
    if roll < 0.7:
        return "[" + space(rng) + ("," + space(rng)).join(items) + space(rng) + "]"
    return "{" + space(rng) + ("," + space(rng)).join(
        random_string(rng) + space(rng) + ":" + space(rng) + item for item in items) + space(rng) + "}"


def edited(rng, text):
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        roll = rng.random()
        if roll < 0.3 and text:
            text = text[:at] + text[at + 1:]
        elif roll < 0.7:
            text = text[:at] + rng.choice(PIECES) + text[at:]
        else:
            text = text[:at] + rng.choice(PIECES) + text[at + 1:]
    return text


def deep(rng):
    depth = rng.choice((63, 64, 65, 100))
    opens = "".join(rng.choice("[{") for _ in range(depth))
    inner = "1"
    for ch in reversed(opens):
        inner = "[" + inner + "]" if ch == "[" else '{"k":' + inner + "}"
    return inner


def build_inputs():
    rng = random.Random(SEED)
    inputs = list(HANDWRITTEN)
    documents = [random_value(rng, 0) for _ in range(10000)]
    inputs += documents
    inputs += [edited(rng, rng.choice(documents)) for _ in range(20000)]
    inputs += [deep(rng) for _ in range(200)]
    return inputs


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: json_scan_diff.py <json_scan_cli>")
    inputs = build_inputs()
    encoded = [text.encode("utf-8", "surrogatepass") for text in inputs]
    run = subprocess.run([sys.argv[1]], input=b"".join(e.hex().encode() + b"\n" for e in encoded),
                         stdout=subprocess.PIPE, check=True)
    got = run.stdout.decode().splitlines()
    if len(got) != len(inputs):
        sys.exit("json_scan_cli printed %d lines for %d inputs" % (len(got), len(inputs)))
    failures = 0
    accepted = 0
    for text, line in zip(inputs, got):
        want = reference(text)
        accepted += want.startswith("ACCEPT")
        if line != want:
            failures += 1
            if failures <= 10:
                print("DIFFERENT on %r:\n  scan:   %s\n  python: %s" % (text[:200], line[:200], want[:200]))
    print("json_scan: %d inputs, %d accepted, %d refused, %d different"
          % (len(inputs), accepted, len(inputs) - accepted, failures))
    # A run that accepts (or refuses) almost nothing tests nothing.
    if accepted < len(inputs) // 5 or accepted > len(inputs) * 4 // 5:
        print("json_scan: the inputs are lopsided; the test would not tell much")
        failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
