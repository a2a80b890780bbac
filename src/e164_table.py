#!/usr/bin/python3
"""
e164_table.py
    Writes src/e164_table.c, the tables of the E.164 validator, from the
    libphonenumber metadata of python3-phonenumbers.

Run it with Debian's interpreter, which has the module:

    /usr/bin/python3 src/e164_table.py > src/e164_table.c     (make e164-table)

For every assigned country calling code the table holds:

  - its main region (the first region libphonenumber lists for it; "001" for
    non-geographic codes) and the national significant number lengths that
    libphonenumber calls IS_POSSIBLE for that region, as a bit set, cut to
    E.164's 15 digits in all;
  - what libphonenumber's parser does with the national number of "+cc..."
    (the main region's national_prefix_for_parsing, its transform rule, the
    region's general pattern, which decides whether a stripped prefix is kept
    stripped, and the lengths that decide it too), so that the validator can
    tell whether parse() gives the number back unchanged;
  - libphonenumber's is_valid_number(): the number matches a number type of
    the region its digits select (for shared codes such as +1 and +7, the
    first region whose leading digits or number types claim it).

The regular expressions of the metadata are compiled here, at generation
time, into deterministic automata over the digits 0-9; no regular expression
runs in the validator.  Full-match patterns (number types, general patterns)
become plain DFAs.  The national prefix rule is a prefix match with Python's
leftmost-first semantics and capture groups; it becomes a DFA whose states
carry the outcome libphonenumber's re.match() would give if the number ended
there (consumed digits, captured span), built by simulating the pattern's
ordered NFA (a Pike machine) over every digit string up to the longest
national number.  All automata share one table, minimised together.

Every automaton is checked against Python's own re on pseudo-random and
boundary inputs before anything is written; a disagreement stops the run.
"""

import random
import re
import re._constants as sre_c
import re._parser as sre_parse
import sys
import textwrap

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers.phonenumberutil import ValidationResult, _test_number_length

E164_MAX_DIGITS = 15

# Longest national number worth asking libphonenumber about; its parser
# refuses longer ones, and the E.164 limit cuts far below this anyway.
LONGEST_PROBED_NSN = 17

# Bits of a state's label in the C table.
LABEL_SINK = 0x8000            # every digit leads back to the state itself

DIGITS = "0123456789"
ALL_DIGITS = (1 << 10) - 1


# ---------------------------------------------------------------------------
# Regular expressions -> ordered NFA (a Pike machine program)
# ---------------------------------------------------------------------------

class Program:
    """An NFA whose splits are ordered (the first branch is preferred), as
    Python's backtracking engine tries them.  Instructions:
        ("set", mask, next)     consume a digit whose bit is in mask
        ("split", first, second)
        ("save", slot, next)    record the position in a capture slot
        ("end", next)           only at the end of the input ($)
        ("match",)
    """

    def __init__(self, pattern):
        self.pattern = pattern
        self.code = []
        parsed = sre_parse.parse(pattern)
        self.groups = parsed.state.groups - 1
        match = self.emit(("match",))
        self.start = self.compile_sequence(list(parsed), match)

    def emit(self, instruction):
        self.code.append(instruction)
        return len(self.code) - 1

    def compile_sequence(self, items, following):
        for item in reversed(items):
            following = self.compile_item(item, following)
        return following

    def digit_mask(self, items):
        mask = 0
        negate = False
        for op, arg in items:
            if op is sre_c.NEGATE:
                negate = True
            elif op is sre_c.LITERAL:
                mask |= self.literal_mask(arg)
            elif op is sre_c.RANGE:
                for code in range(arg[0], arg[1] + 1):
                    mask |= self.literal_mask(code)
            elif op is sre_c.CATEGORY and arg is sre_c.CATEGORY_DIGIT:
                mask |= ALL_DIGITS
            else:
                raise SystemExit("unsupported class item %r in %r" % ((op, arg), self.pattern))
        return (~mask & ALL_DIGITS) if negate else mask

    def literal_mask(self, code):
        char = chr(code)
        return 1 << int(char) if char in DIGITS else 0

    def compile_item(self, item, following):
        op, arg = item
        if op is sre_c.LITERAL:
            return self.emit(("set", self.literal_mask(arg), following))
        if op is sre_c.NOT_LITERAL:
            return self.emit(("set", ~self.literal_mask(arg) & ALL_DIGITS, following))
        if op is sre_c.IN:
            return self.emit(("set", self.digit_mask(arg), following))
        if op is sre_c.ANY:
            return self.emit(("set", ALL_DIGITS, following))
        if op is sre_c.SUBPATTERN:
            group, add_flags, del_flags, items = arg
            if add_flags or del_flags:
                raise SystemExit("inline flags in %r" % self.pattern)
            if group is None:
                return self.compile_sequence(list(items), following)
            close = self.emit(("save", 2 * group + 1, following))
            body = self.compile_sequence(list(items), close)
            return self.emit(("save", 2 * group, body))
        if op is sre_c.BRANCH:
            starts = [self.compile_sequence(list(alt), following) for alt in arg[1]]
            result = starts[-1]
            for start in reversed(starts[:-1]):
                result = self.emit(("split", start, result))
            return result
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, high, items = arg
            greedy = op is sre_c.MAX_REPEAT
            result = following
            if high is sre_c.MAXREPEAT:
                loop = self.emit(None)
                body = self.compile_sequence(list(items), loop)
                self.code[loop] = (("split", body, following) if greedy
                                   else ("split", following, body))
                result = loop
            else:
                for _ in range(high - low):
                    body = self.compile_sequence(list(items), result)
                    result = self.emit(("split", body, following) if greedy
                                       else ("split", following, body))
            for _ in range(low):
                result = self.compile_sequence(list(items), result)
            return result
        if op is sre_c.AT and arg is sre_c.AT_END:
            return self.emit(("end", following))
        raise SystemExit("unsupported construct %r in %r" % (op, self.pattern))


# ---------------------------------------------------------------------------
# Deterministic automata
# ---------------------------------------------------------------------------

class Dfa:
    """States 0..n-1, start 0; next[s][d] for each digit; a label per state."""

    def __init__(self):
        self.next = []
        self.labels = []

    def __len__(self):
        return len(self.labels)


def explore(start_key, step, label):
    """A DFA from a start key, step(key, digit) -> key and label(key)."""
    dfa = Dfa()
    index = {start_key: 0}
    keys = [start_key]
    dfa.next.append(None)
    dfa.labels.append(label(start_key))
    position = 0
    while position < len(keys):
        key = keys[position]
        row = []
        for digit in range(10):
            target = step(key, digit)
            if target not in index:
                index[target] = len(keys)
                keys.append(target)
                dfa.next.append(None)
                dfa.labels.append(label(target))
            row.append(index[target])
        dfa.next[position] = row
        position += 1
    return dfa


def closure_set(program, pcs, at_end):
    """The consuming, end-of-input and match instructions reachable from pcs."""
    seen = set()
    stack = list(pcs)
    result = set()
    while stack:
        pc = stack.pop()
        if pc in seen:
            continue
        seen.add(pc)
        instruction = program.code[pc]
        kind = instruction[0]
        if kind == "split":
            stack.extend(instruction[1:])
        elif kind == "save":
            stack.append(instruction[2])
        elif kind == "end":
            if at_end:
                stack.append(instruction[1])
            else:
                result.add(pc)
        else:
            result.add(pc)
    return frozenset(result)


def full_match_dfa(pattern):
    """A DFA accepting exactly the digit strings the pattern matches whole."""
    program = Program(pattern)

    def step(key, digit):
        targets = [program.code[pc][2] for pc in key
                   if program.code[pc][0] == "set" and program.code[pc][1] >> digit & 1]
        return closure_set(program, targets, False)

    def label(key):
        return int(any(program.code[pc][0] == "match"
                       for pc in closure_set(program, key, True)))

    return explore(closure_set(program, [program.start], False), step, label)


def constant_dfa(accept):
    dfa = Dfa()
    dfa.next.append([0] * 10)
    dfa.labels.append(int(accept))
    return dfa


def lengths_dfa(lengths):
    """Accepts the digit strings whose length is in lengths."""
    longest = max(lengths)

    def step(key, digit):
        return min(key + 1, longest + 1)

    return explore(0, step, lambda key: int(key in lengths))


def combine(dfas, formula):
    """The product of DFAs; a state's label is formula(labels of the parts)."""

    def step(key, digit):
        return tuple(dfa.next[state][digit] for dfa, state in zip(dfas, key))

    def label(key):
        return formula([dfa.labels[state] for dfa, state in zip(dfas, key)])

    return minimise(explore(tuple(0 for _ in dfas), step, label))


def prefix_dfa(dfa):
    """Accepts the strings that have a prefix dfa accepts (re.match's test)."""
    accepted = {s for s in range(len(dfa)) if dfa.labels[s]}

    def step(key, digit):
        return key if key in accepted else dfa.next[key][digit]

    return minimise(explore(0, step, lambda key: int(key in accepted)))


def minimise(dfa, roots=(0,)):
    """Moore's partition refinement; returns the DFA of the classes reachable
    from roots, the first root's class as state 0.  Labels are kept."""
    classes = {}
    block = [classes.setdefault(label, len(classes)) for label in dfa.labels]
    while True:
        signatures = {}
        refined = []
        for state in range(len(dfa)):
            signature = (block[state],) + tuple(block[t] for t in dfa.next[state])
            refined.append(signatures.setdefault(signature, len(signatures)))
        if len(signatures) == len(set(block)):
            block = refined
            break
        block = refined
    representative = {}
    for state in range(len(dfa)):
        representative.setdefault(block[state], state)
    order = {}
    queue = [block[root] for root in roots]
    for b in queue:
        order.setdefault(b, len(order))
    position = 0
    queue = list(order)
    while position < len(queue):
        state = representative[queue[position]]
        for target in dfa.next[state]:
            if block[target] not in order:
                order[block[target]] = len(order)
                queue.append(block[target])
        position += 1
    result = Dfa()
    result.next = [None] * len(order)
    result.labels = [None] * len(order)
    for b, new in order.items():
        state = representative[b]
        result.next[new] = [order[block[t]] for t in dfa.next[state]]
        result.labels[new] = dfa.labels[state]
    result.roots = [order[block[root]] for root in roots]
    return result


def walk(dfa, state, digits):
    for char in digits:
        state = dfa.next[state][ord(char) - 48]
    return state


# ---------------------------------------------------------------------------
# The national prefix rule: leftmost-first prefix match with captures
# ---------------------------------------------------------------------------

class PrefixRule:
    """national_prefix_for_parsing as a DFA whose labels are outcomes: what
    re.match(pattern, nsn) gives (consumed digits, captured spans) when the
    input ends in that state.  Inputs are at most `longest` digits long."""

    def __init__(self, pattern, transform, longest):
        self.pattern = pattern
        self.transform = transform or ""
        self.program = Program(pattern)
        self.longest = longest
        self.template = parse_template(self.transform) if self.transform else None
        self.outcomes = {}
        self.dfa = explore(self.start_key(), self.step, self.label)

    def closure(self, pc, captures, position, at_end, threads, seen, state):
        """Pike machine closure in priority order; a match found ends it."""
        if state["cut"] or pc in seen:
            return
        seen.add(pc)
        instruction = self.program.code[pc]
        kind = instruction[0]
        if kind == "split":
            self.closure(instruction[1], captures, position, at_end, threads, seen, state)
            self.closure(instruction[2], captures, position, at_end, threads, seen, state)
        elif kind == "save":
            slot = instruction[1]
            updated = captures[:slot] + (position,) + captures[slot + 1:]
            self.closure(instruction[2], updated, position, at_end, threads, seen, state)
        elif kind == "end":
            if at_end:
                self.closure(instruction[1], captures, position, at_end, threads, seen, state)
            else:
                threads.append((pc, captures))
        elif kind == "match":
            state["match"] = (position, captures)
            state["cut"] = True
        else:
            threads.append((pc, captures))

    def start_key(self):
        threads = []
        state = {"cut": False, "match": None}
        empty = (None,) * (2 * self.program.groups + 2)
        self.closure(self.program.start, empty, 0, False, threads, set(), state)
        return self.make_key(0, threads, state["match"])

    def make_key(self, position, threads, best):
        if not threads or position >= self.longest:
            # Nothing can change the outcome any more (or no longer input
            # exists): a sink.
            return ("sink", self.outcome_at_end(position, threads, best))
        return ("live", position, tuple(threads), best)

    def outcome_at_end(self, position, threads, best):
        for pc, captures in threads:
            instruction = self.program.code[pc]
            if instruction[0] == "end":
                state = {"cut": False, "match": None}
                self.closure(instruction[1], captures, position, True, [], set(), state)
                if state["match"] is not None:
                    return self.outcome(state["match"])
        return self.outcome(best)

    def step(self, key, digit):
        if key[0] == "sink":
            return key
        _, position, threads, best = key
        following = []
        seen = set()
        state = {"cut": False, "match": None}
        for pc, captures in threads:
            instruction = self.program.code[pc]
            if instruction[0] == "set" and instruction[1] >> digit & 1:
                self.closure(instruction[2], captures, position + 1, False, following, seen, state)
                if state["cut"]:
                    break
        if state["match"] is not None:
            best = state["match"]
        return self.make_key(position + 1, following, best)

    def label(self, key):
        if key[0] == "sink":
            return self.outcome_id(key[1]) | LABEL_SINK
        _, position, threads, best = key
        return self.outcome_id(self.outcome_at_end(position, threads, best))

    def outcome(self, match):
        """(kind, end, literal, span) of a match: kind "none", "strip" or
        "transform", like libphonenumber's _maybe_strip_national_prefix_carrier_code."""
        if match is None:
            return ("none", 0, "", None)
        end, captures = match
        groups = self.program.groups
        last_group_start = captures[2 * groups] if groups > 0 else None
        if self.template is None or groups == 0 or last_group_start is None:
            if end == 0:
                return ("none", 0, "", None)
            return ("strip", end, "", None)
        literal, group, suffix = self.template
        span = (captures[2 * group], captures[2 * group + 1])
        if span[0] is None:
            span = (0, 0)
        return ("transform", end, literal, span, suffix)

    def outcome_id(self, outcome):
        return outcome_table.setdefault(outcome, len(outcome_table))


# Outcomes of every prefix rule; index 0 is "no match".
outcome_table = {("none", 0, "", None): 0}


def parse_template(rule):
    """A transform rule "lit\\N lit" as (literal, group, suffix)."""
    found = re.fullmatch(r"([0-9]*)\\([1-9])([0-9]*)", rule)
    if found is None:
        raise SystemExit("unsupported transform rule %r" % rule)
    if len(found.group(1)) > 5 or len(found.group(3)) > 5:
        raise SystemExit("transform rule %r writes more than the table holds" % rule)
    return found.group(1), int(found.group(2)), found.group(3)


def apply_outcome(outcome, nsn):
    """The national number after the rule, as the C code computes it."""
    kind = outcome[0]
    if kind == "none":
        return None
    if kind == "strip":
        return nsn[outcome[1]:]
    _, end, literal, span, suffix = outcome
    return literal + nsn[span[0]:span[1]] + suffix + nsn[end:]


# ---------------------------------------------------------------------------
# The metadata
# ---------------------------------------------------------------------------

def possible_nsn_lengths(metadata):
    """Lengths libphonenumber's length test calls IS_POSSIBLE (not local-only)."""
    return [n for n in range(0, LONGEST_PROBED_NSN + 1)
            if _test_number_length("0" * n, metadata, PhoneNumberType.UNKNOWN)
            == ValidationResult.IS_POSSIBLE]


def metadata_lengths_as_read(metadata):
    """The same lengths read straight from the metadata, as a cross-check."""
    general = metadata.general_desc
    local_only = set(general.possible_length_local_only)
    return [n for n in sorted(set(general.possible_length))
            if n >= 0 and n not in local_only]


def kept_stripped_lengths(metadata):
    """Lengths at which parse() keeps a stripped national number: its length
    test gives neither TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY nor INVALID_LENGTH."""
    refused = (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
               ValidationResult.INVALID_LENGTH)
    bits = 0
    for n in range(32):
        if _test_number_length("0" * n, metadata) not in refused:
            bits |= 1 << n
    return bits


def describe_lengths(lengths):
    """Human-readable list of lengths for a comment: "7, 9, 10"."""
    return ", ".join(str(n) for n in lengths) if lengths else "none"


def assert_prefix_free(codes):
    """Fails unless no assigned code is a proper prefix of another one."""
    texts = [str(cc) for cc in codes]
    for short in texts:
        for long in texts:
            if long != short and long.startswith(short):
                raise SystemExit("country calling codes are not prefix-free: %s and %s"
                                 % (short, long))


def desc_dfa(desc):
    """What _is_number_matching_desc accepts: the desc's lengths (when it
    lists any) and a full match of its pattern."""
    if desc is None or not desc.national_number_pattern:
        return constant_dfa(False)
    pattern = full_match_dfa(desc.national_number_pattern)
    if len(desc.possible_length) == 0:
        return pattern
    return combine([pattern, lengths_dfa(set(desc.possible_length))], all)


TYPE_DESCS = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
              "pager", "uan", "voicemail", "fixed_line")


def valid_for_region_dfa(metadata):
    """_number_type_helper(nsn, metadata) != UNKNOWN."""
    parts = [desc_dfa(metadata.general_desc)]
    parts += [desc_dfa(getattr(metadata, name)) for name in TYPE_DESCS]
    if not metadata.same_mobile_and_fixed_line_pattern:
        parts.append(desc_dfa(metadata.mobile))
    return combine(parts, lambda labels: int(labels[0] and any(labels[1:])))


def region_metadata(cc, region):
    if region == "001":
        return PhoneMetadata.metadata_for_nongeo_region(cc)
    return PhoneMetadata.metadata_for_region(region)


def valid_number_dfa(cc):
    """is_valid_number for +cc: the region region_code_for_number picks (the
    first whose leading digits prefix-match, or whose number types match),
    then that region's types."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]
    if len(regions) == 1:
        return valid_for_region_dfa(region_metadata(cc, regions[0]))
    parts = []
    plan = []
    for region in regions:
        metadata = region_metadata(cc, region)
        if metadata is None:
            continue
        valid = valid_for_region_dfa(metadata)
        if metadata.leading_digits is not None:
            plan.append(("leading", len(parts), len(parts) + 1))
            parts += [prefix_dfa(full_match_dfa(metadata.leading_digits)), valid]
        else:
            plan.append(("types", len(parts)))
            parts.append(valid)

    def formula(labels):
        for step in plan:
            if step[0] == "leading":
                if labels[step[1]]:
                    return labels[step[2]]
            elif labels[step[1]]:
                return 1
        return 0

    return combine(parts, formula)


class CountryCode:
    """Everything the C table holds about one assigned code."""

    def __init__(self, cc):
        self.cc = cc
        self.region = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc][0]
        if not (len(self.region) in (2, 3) and self.region.isascii()
                and self.region.isalnum()):
            raise SystemExit("unexpected region code %r for %d" % (self.region, cc))
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(cc, self.region)
        if metadata is None:
            raise SystemExit("no metadata for country calling code %d (%s)" % (cc, self.region))
        self.metadata = metadata
        lengths = possible_nsn_lengths(metadata)
        if lengths != metadata_lengths_as_read(metadata):
            raise SystemExit("length test and metadata disagree for %d: %r vs %r"
                             % (cc, lengths, metadata_lengths_as_read(metadata)))
        if lengths and min(lengths) < 2:
            raise SystemExit("+%d has national numbers shorter than the parser's minimum" % cc)
        room = E164_MAX_DIGITS - len(str(cc))
        self.room = room
        self.kept = [n for n in lengths if n <= room]
        self.cut = [n for n in lengths if n > room]
        self.kept_stripped = kept_stripped_lengths(metadata)
        self.national_prefix = metadata.national_prefix or ""
        if not (len(self.national_prefix) <= 3 and self.national_prefix.isdigit() or not self.national_prefix):
            raise SystemExit("unexpected national prefix %r for %d" % (self.national_prefix, cc))
        self.regions = len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc])
        self.general = full_match_dfa(metadata.general_desc.national_number_pattern)
        self.valid = valid_number_dfa(cc)
        self.rule = None
        if metadata.national_prefix_for_parsing:
            self.rule = PrefixRule(metadata.national_prefix_for_parsing,
                                   metadata.national_prefix_transform_rule, room)


# ---------------------------------------------------------------------------
# Checks against Python's re, then the shared table
# ---------------------------------------------------------------------------

def sample_inputs(rng, longest):
    """Boundary and pseudo-random digit strings up to longest digits."""
    samples = {""}
    for n in range(1, longest + 1):
        for lead in range(100):
            head = "%02d" % lead
            samples.add((head + "".join(rng.choice(DIGITS) for _ in range(n)))[:n])
        samples.update("".join(rng.choice(DIGITS) for _ in range(n)) for _ in range(200))
        samples.update(d * n for d in DIGITS)
    return sorted(samples)


def expected_prefix_outcome(code, nsn):
    """What libphonenumber's code computes from re, for the self-check."""
    metadata = code.metadata
    pattern = re.compile(metadata.national_prefix_for_parsing)
    match = pattern.match(nsn)
    if not match:
        return None
    groups = len(match.groups())
    rule = metadata.national_prefix_transform_rule
    if not rule or match.groups()[groups - 1] is None:
        return nsn[match.end():] if match.end() > 0 else None
    return re.sub(pattern, rule, nsn, count=1)


def self_check(codes):
    """Every automaton agrees with Python's re on sample inputs."""
    rng = random.Random(164)
    inverse = {v: k for k, v in outcome_table.items()}
    for code in codes:
        samples = sample_inputs(rng, code.room)
        general = re.compile(code.metadata.general_desc.national_number_pattern)
        for nsn in samples:
            got = code.general.labels[walk(code.general, 0, nsn)]
            if got != int(general.fullmatch(nsn) is not None):
                raise SystemExit("general pattern of +%d disagrees on %r" % (code.cc, nsn))
            if code.rule is not None:
                label = code.rule.dfa.labels[walk(code.rule.dfa, 0, nsn)] & ~LABEL_SINK
                got = apply_outcome(inverse[label], nsn)
                if got != expected_prefix_outcome(code, nsn):
                    raise SystemExit("national prefix rule of +%d disagrees on %r: %r vs %r"
                                     % (code.cc, nsn, got, expected_prefix_outcome(code, nsn)))
            number = phonenumbers.PhoneNumber(country_code=code.cc,
                                              national_number=int(nsn) if nsn else 0)
            if nsn.startswith("0") and len(nsn) > 1:
                number.italian_leading_zero = True
                zeros = len(nsn) - len(nsn.lstrip("0"))
                number.number_of_leading_zeros = min(zeros, len(nsn) - 1)
            if nsn and phonenumbers.national_significant_number(number) == nsn:
                got = code.valid.labels[walk(code.valid, 0, nsn)]
                if got != int(phonenumbers.is_valid_number(number)):
                    raise SystemExit("is_valid_number of +%d disagrees on %r" % (code.cc, nsn))


class SharedTable:
    """All automata in one state table, minimised together; state 0 rejects
    everything."""

    def __init__(self, codes):
        dfa = Dfa()
        dfa.next.append([0] * 10)
        dfa.labels.append(LABEL_SINK)
        roots = [0]

        def add(part):
            offset = len(dfa)
            for row in part.next:
                dfa.next.append([offset + t for t in row])
            dfa.labels.extend(part.labels)
            roots.append(offset)
            return len(roots) - 1

        handles = []
        for code in codes:
            general = add(mark_sinks(code.general))
            valid = add(mark_sinks(code.valid))
            rule = add(code.rule.dfa) if code.rule is not None else 0
            handles.append((general, valid, rule))
        shared = minimise(dfa, roots)
        if shared.roots[0] != 0 or shared.labels[0] != LABEL_SINK:
            raise SystemExit("the rejecting state is not state 0")
        self.dfa = shared
        self.roots = [tuple(shared.roots[h] for h in handle) for handle in handles]


def mark_sinks(dfa):
    """Labels a plain DFA's self-looping states as sinks."""
    result = Dfa()
    result.next = dfa.next
    result.labels = [label | (LABEL_SINK if all(t == s for t in dfa.next[s]) else 0)
                     for s, label in enumerate(dfa.labels)]
    return result


# ---------------------------------------------------------------------------
# The C file
# ---------------------------------------------------------------------------

def bit_set(lengths):
    """The lengths as a bit set (bit n: n digits possible)."""
    bits = 0
    for n in lengths:
        bits |= 1 << n
    return bits


def comment_paragraph(text):
    """Text wrapped as lines of a C block comment."""
    return "".join(" * %s\n" % line for line in textwrap.wrap(text, 74))


def c_string(text):
    return '"%s"' % text


def write_table(out, codes, table):
    no_lengths = [c.cc for c in codes if not c.kept]
    with_cuts = [(c.cc, c.cut) for c in codes if c.cut]
    rules = [c for c in codes if c.rule is not None]
    transforms = [c for c in rules if c.rule.transform]
    if len(table.dfa) > 0xffff:
        raise SystemExit("%d states do not fit E164State" % len(table.dfa))

    out.write("""\
/*
 * e164_table.c
 *		Assigned country calling codes, their main regions, the possible
 *		lengths of their national significant numbers, and libphonenumber's
 *		national prefix rules and number patterns compiled into automata.
 *
 * generated by src/e164_table.py from python3-phonenumbers %s; do not edit
 *
""" % phonenumbers.__version__)
    summary = ("%d assigned codes.  Lengths are libphonenumber's IS_POSSIBLE "
               "lengths for the main region (local-only lengths excluded), "
               "limited to 15 digits in all." % len(codes))
    if with_cuts:
        summary += ("  Lengths cut by the 15-digit limit: %s."
                    % "; ".join("+%d: %s" % (cc, describe_lengths(cut))
                                for cc, cut in with_cuts))
    if no_lengths:
        summary += ("  Codes with no possible length (every number is refused): %s."
                    % ", ".join("+%d" % cc for cc in no_lengths))
    else:
        summary += "  Every code has at least one possible length."
    summary += ("  %d codes have a national prefix rule; %d of them a transform "
                "rule (%s).  The automata of all codes share %d states."
                % (len(rules), len(transforms),
                   ", ".join("+%d %s" % (c.cc, c.region) for c in transforms),
                   len(table.dfa)))
    out.write(comment_paragraph(summary))
    out.write("""\
 */
#include "e164_table.h"

""")
    out.write("const E164ParseOutcome e164_outcomes[%d] = {\n" % len(outcome_table))
    for outcome, index in sorted(outcome_table.items(), key=lambda item: item[1]):
        if outcome[0] == "none":
            out.write("\t[%d] = {E164_PARSE_KEEP, 0, 0, 0, \"\", \"\"},\n" % index)
        elif outcome[0] == "strip":
            out.write("\t[%d] = {E164_PARSE_STRIP, %d, 0, 0, \"\", \"\"},\n" % (index, outcome[1]))
        else:
            _, end, literal, span, suffix = outcome
            out.write("\t[%d] = {E164_PARSE_TRANSFORM, %d, %d, %d, %s, %s},\n"
                      % (index, end, span[0], span[1], c_string(literal), c_string(suffix)))
    out.write("};\n\n")

    out.write("const E164State e164_next[%d][10] = {\n" % len(table.dfa))
    for row in table.dfa.next:
        out.write("\t{%s},\n" % ", ".join(str(t) for t in row))
    out.write("};\n\n")
    out.write("const uint16_t e164_labels[%d] = {\n" % len(table.dfa))
    labels = table.dfa.labels
    for start in range(0, len(labels), 12):
        out.write("\t%s,\n" % ", ".join("0x%04x" % label for label in labels[start:start + 12]))
    out.write("};\n\n")

    out.write("""\
/*
 * Indexed by the code's value: 1-digit codes are 1..9, 3-digit 100..999.
 * Lengths, lengths at which a stripped prefix stays stripped, the roots of
 * the general pattern, of is_valid_number and of the national prefix rule,
 * the main region, its national (trunk) prefix, the number of regions.
 */
const E164CountryCode e164_country_codes[1000] = {
""")
    for code, (general, valid, rule) in zip(codes, table.roots):
        note = describe_lengths(code.kept)
        if code.cut:
            note += " (cut: %s)" % describe_lengths(code.cut)
        if code.rule is not None:
            note += "; prefix %s" % code.rule.pattern[:40].replace("*/", "*\\/")
            if code.rule.transform:
                note += " -> %s" % code.rule.transform
        out.write("\t[%d] = {0x%04x, 0x%08x, %d, %d, %d, \"%s\", \"%s\", %d},\t/* %s */\n"
                  % (code.cc, bit_set(code.kept), code.kept_stripped, general, valid,
                     rule, code.region, code.national_prefix, code.regions, note))
    out.write("};\n")


def main():
    codes_numbers = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    assert_prefix_free(codes_numbers)
    for cc in codes_numbers:
        if not 1 <= cc <= 999:
            raise SystemExit("country calling code %d does not have 1 to 3 digits" % cc)
    codes = [CountryCode(cc) for cc in codes_numbers]
    self_check(codes)
    table = SharedTable(codes)
    if len(outcome_table) > 255:
        raise SystemExit("too many prefix rule outcomes: %d" % len(outcome_table))
    write_table(sys.stdout, codes, table)


if __name__ == "__main__":
    main()
