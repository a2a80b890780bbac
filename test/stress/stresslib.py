"""stresslib.py: what the load tool (load.py) and the fault test (faults.py) share.

A fresh database with the extension and two accounts; requests whose records
carry numbered ids (sent as JSON integers or as their decimal text, which are
the same id); a ledger of what the clients sent and what the database
answered; and the checks, run against the tables after the clients stop,
that every id is stored once and everything adds up.

Only the loopback server named by the PG* environment is ever contacted.
"""
import array
import json
import os
import threading
import time

import psycopg

VALID_PHONE = "+12025559876"
VALID_TIMESTAMP = "2025-11-15T14:30:00Z"
# Records that fail a rule, each with the code it must get.
INVALID_KINDS = [
    ("invalid_phone", lambda r: r.update(to_number="+1202555")),
    ("invalid_timestamp", lambda r: r.update(timestamp="2025-13-01T00:00:00Z")),
    ("missing_to_number", lambda r: r.pop("to_number")),
    ("invalid_field", lambda r: r.update(length=-1)),
]
# The CHECK constraint a user adds in the checked phase, and the message it refuses.
CHECK_SQL = "ALTER TABLE trackly.sends ADD CONSTRAINT stress_no_spam CHECK (message <> 'spam')"
SPAM = "spam"


def connect(dbname, autocommit=True, **kwargs):
    """A connection to the cluster the PG* environment names."""
    return psycopg.connect(dbname=dbname, autocommit=autocommit, **kwargs)


def fresh_database(dbname):
    """Recreates dbname with the extension; returns its two accounts as [(id, key)]."""
    with connect("postgres") as admin:
        admin.execute("SET client_min_messages = warning")
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    with connect(dbname) as conn:
        conn.execute("CREATE EXTENSION trackly_history")
    return make_accounts(dbname)


def make_accounts(dbname):
    """Two new accounts with a key each in dbname (the extension made, for a
    Citus cluster distributed, and no other account); returns [(id, key)]."""
    accounts = []
    with connect(dbname) as conn:
        if conn.execute("SELECT count(*) FROM trackly.accounts").fetchone()[0] != 0:
            raise SystemExit(f"{dbname} has accounts already: the checks need a database of its own")
        for name in ("Stress One", "Stress Two"):
            account = conn.execute("SELECT trackly_create_account(%s)", (name,)).fetchone()[0]
            key = conn.execute("SELECT trackly_create_api_key(%s)", (account,)).fetchone()[0]
            accounts.append((account, key))
    return accounts


def drop_database(dbname):
    with connect("postgres") as admin:
        admin.execute("SET client_min_messages = warning")
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


class Bitmap:
    """A set of small non-negative integers, one bit each."""

    def __init__(self):
        self.bits = bytearray()

    def add(self, n):
        if n < 0:
            raise ValueError(f"a Bitmap holds integers >= 0, not {n}")
        byte = n >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        self.bits[byte] |= 1 << (n & 7)

    def __contains__(self, n):
        byte = n >> 3
        return byte < len(self.bits) and bool(self.bits[byte] & (1 << (n & 7)))

    def as_int(self):
        """The set as one integer's bits (fast to intersect and compare)."""
        return int.from_bytes(self.bits, "little")


class Request:
    """One request: its body, its account, and what a correct answer implies."""

    def __init__(self, account, key, records, stored_if_answered, pattern, timeout_ms=0):
        self.account = account
        self.key = key
        self.records = records
        self.body = json.dumps({"records": records})
        # Ids (numbers) that an answered call of this request must leave stored.
        self.stored_if_answered = stored_if_answered
        self.pattern = pattern
        self.timeout_ms = timeout_ms


def make_record(n, rng, message="hello", as_integer=None):
    """A valid record with id n, sent as a JSON integer or as its decimal text."""
    if as_integer is None:
        as_integer = rng.random() < 0.3
    return {"id": n if as_integer else str(n), "to_number": VALID_PHONE,
            "timestamp": VALID_TIMESTAMP, "message": message}


def make_request(account, key, ids, rng, pattern, invalid_share=0.05, spam_share=0.0,
                 message_len=0, timeout_ms=0):
    """A request with a record for each id, in the order given; some records
    are made invalid (any rule) or spam (refused by the checked phase's CHECK);
    the ids of the others must be stored once the call is answered."""
    records = []
    stored = []
    for n in ids:
        message = "m" * message_len if message_len else "hello"
        roll = rng.random()
        if roll < invalid_share:
            record = make_record(n, rng, message)
            rng.choice(INVALID_KINDS)[1](record)
        elif roll < invalid_share + spam_share:
            record = make_record(n, rng, SPAM)
        else:
            record = make_record(n, rng, message)
            stored.append(n)
        records.append(record)
    return Request(account, key, records, stored, pattern, timeout_ms)


def call(conn, req):
    """Sends one request, in a transaction of its own; returns the response.
    A request with a timeout sets statement_timeout for the rest of the
    connection's life: give such requests a connection of their own (a timer
    that fires as a statement ends cancels the next statement, so resetting
    the setting on a shared connection is not safe)."""
    if req.key is not None:
        conn.execute("SELECT set_config('trackly.api_key', %s, false)", (req.key,))
        sql, params = "SELECT trackly_import_sends(%s::jsonb)", (req.body,)
    else:
        sql, params = "SELECT trackly_import_sends(%s::jsonb, %s)", (req.body, req.account)
    if req.timeout_ms:
        conn.execute(f"SET statement_timeout = {int(req.timeout_ms)}")
    return conn.execute(sql, params).fetchone()[0]


class Ledger:
    """What the clients sent and what they were answered, shared by threads."""

    def __init__(self, accounts):
        self.lock = threading.Lock()
        self.answered = {a: Bitmap() for a, _ in accounts}   # ids an answered call stored or found
        self.sent = {a: Bitmap() for a, _ in accounts}       # ids of valid records ever sent
        self.responses = []                                  # (account, response, records)
        self.sqlstates = {}                                  # SQLSTATE -> count
        self.unexpected = []                                 # descriptions of unexpected errors
        self.calls = 0
        self.attempts = 0
        # Every attempt, compactly, to explain a failed check: [account,
        # pattern, ids of its valid records, ids of the others, outcome (the
        # import id, or the SQLSTATE)]; each thread's latest one.
        self.journal = []
        self.latest = threading.local()

    def attempt(self, req):
        """Notes a request before an attempt (a retry sends the same request again)."""
        valid = set(req.stored_if_answered)
        others = [int(r["id"]) for r in req.records if int(r["id"]) not in valid]
        with self.lock:
            self.attempts += 1
            for n in req.stored_if_answered:
                self.sent[req.account].add(n)
            self.latest.entry = len(self.journal)
            self.journal.append([req.account, req.pattern, array.array("q", req.stored_if_answered),
                                 array.array("q", others), None])

    def answer(self, req, response):
        with self.lock:
            self.calls += 1
            self.responses.append((req.account, response, len(req.records)))
            for n in req.stored_if_answered:
                self.answered[req.account].add(n)
            if getattr(self.latest, "entry", None) is not None:
                self.journal[self.latest.entry][4] = response.get("import_id")

    def error(self, sqlstate, expected, what):
        with self.lock:
            self.calls += 1
            self.sqlstates[sqlstate] = self.sqlstates.get(sqlstate, 0) + 1
            if not expected:
                self.unexpected.append(what)
            if getattr(self.latest, "entry", None) is not None:
                self.journal[self.latest.entry][4] = sqlstate


class Checks:
    """TAP-like lines and the closing count."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, condition, what, detail=""):
        if condition:
            self.passed += 1
            print(f"ok - {what}", flush=True)
        else:
            self.failed += 1
            print(f"not ok - {what}" + (f": {detail}" if detail else ""), flush=True)
        return condition

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def check_response_shape(checks, ledger):
    """Each answered call put every record in exactly one bucket."""
    bad = []
    for account, r, n in ledger.responses:
        if (r.get("success_count", -1) + r.get("error_count", -1) + r.get("duplicates_skipped", -1) != n
                or not 0 <= r.get("invalid_phones", -1) <= r["error_count"]
                or len(r.get("errors", ())) != min(r["error_count"], 100)
                or not isinstance(r.get("import_id"), int)):
            bad.append(r)
    checks.ok(not bad, "every response puts each record in exactly one bucket",
              f"{len(bad)} do not, e.g. {json.dumps(bad[0])[:300] if bad else ''}")


def check_tables(checks, dbname, ledger, exact_calls=True):
    """Compares the tables with the ledger.  exact_calls: every call that
    committed was answered (no fault lost an answer), so the imports rows are
    exactly the answered calls."""
    with connect(dbname) as conn:
        imports = {(a, i): (s, e, d, p) for a, i, s, e, d, p in conn.execute(
            "SELECT account_id, id, success_count, error_count, duplicates_skipped, invalid_phones"
            " FROM trackly.imports")}
        per_import_sends = dict(((a, i), n) for a, i, n in conn.execute(
            "SELECT account_id, import_id, count(*) FROM trackly.sends GROUP BY 1, 2"))
        per_import_errors = dict(((a, i), n) for a, i, n in conn.execute(
            "SELECT account_id, import_id, count(*) FROM trackly.import_errors GROUP BY 1, 2"))
        stored = {}
        for account in ledger.answered:
            stored[account] = [row[0] for row in conn.execute(
                "SELECT id FROM trackly.sends WHERE account_id = %s", (account,))]
        # The rollup (both grains) against a count of the rows themselves.
        rollup_off = conn.execute(
            "WITH r AS (SELECT account_id, hourly, bucket, imported, send_type, sum(sends) AS n,"
            "                  sum(delivered) AS d, sum(undelivered) AS u"
            "             FROM trackly.send_stats GROUP BY 1, 2, 3, 4, 5 HAVING sum(sends) <> 0),"
            "     t AS (SELECT s.account_id, g.hourly,"
            "                  date_bin(CASE WHEN g.hourly THEN interval '1 hour' ELSE interval '15 minutes' END,"
            "                           s.sent_at, '2000-01-01 00:00:00+00') AS bucket,"
            "                  s.imported, s.send_type COLLATE \"C\" AS send_type, count(*) AS n,"
            "                  count(*) FILTER (WHERE s.delivered) AS d, count(*) FILTER (WHERE NOT s.delivered) AS u"
            "             FROM trackly.sends s, (VALUES (false), (true)) g(hourly) GROUP BY 1, 2, 3, 4, 5)"
            " SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT ALL SELECT * FROM t) x)"
            "      + (SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM r) x)").fetchone()[0]
        bad_numbers = conn.execute(
            "SELECT count(*) FROM trackly.sends WHERE NOT trackly_is_e164(to_number)"
            " OR sent_at <> %s::timestamptz OR message = %s OR NOT imported",
            (VALID_TIMESTAMP, SPAM)).fetchone()[0]

    answered = {}
    mismatched = []
    for account, r, _ in ledger.responses:
        answered[(account, r["import_id"])] = r
        row = imports.get((account, r["import_id"]))
        if row != (r["success_count"], r["error_count"], r["duplicates_skipped"], r["invalid_phones"]):
            mismatched.append((account, r["import_id"], row))
    checks.ok(not mismatched, "each answered call's counts are its trackly.imports row",
              f"{len(mismatched)} differ, e.g. {mismatched[:3]}")
    if exact_calls:
        extra = [k for k in imports if k not in answered]
        checks.ok(not extra, "trackly.imports holds only the answered calls (a cancelled one left nothing)",
                  f"{len(extra)} rows of calls nobody was answered, e.g. {extra[:3]}")
    wrong_sends = [k for k, row in imports.items() if per_import_sends.get(k, 0) != row[0]]
    checks.ok(not wrong_sends, "each import's success_count is the rows it stored",
              f"{len(wrong_sends)} differ, e.g. {wrong_sends[:3]}")
    wrong_errors = [k for k, row in imports.items() if per_import_errors.get(k, 0) != row[1]]
    checks.ok(not wrong_errors, "each import's error_count is its rows in trackly.import_errors",
              f"{len(wrong_errors)} differ, e.g. {wrong_errors[:3]}")
    orphans = [k for k in list(per_import_sends) + list(per_import_errors) if k not in imports]
    checks.ok(not orphans, "every stored row and recorded failure belongs to a recorded import",
              f"{len(orphans)} do not, e.g. {orphans[:3]}")

    for account, ids in stored.items():
        stored_bits = Bitmap()
        for i in ids:
            stored_bits.add(int(i))
        stored_set, answered, sent = stored_bits.as_int(), ledger.answered[account].as_int(), ledger.sent[account].as_int()
        lost = answered & ~stored_set
        if not checks.ok(lost == 0, f"account {account}: every valid id of an answered call is stored",
                         f"{lost.bit_count()} are not, e.g. {_some(lost)}"):
            explain(dbname, ledger, account, _some(lost, 3))
        strays = stored_set & ~sent
        if not checks.ok(strays == 0, f"account {account}: only ids of valid records sent are stored",
                         f"{strays.bit_count()} others, e.g. {_some(strays)}"):
            explain(dbname, ledger, account, _some(strays, 3))
        if exact_calls:
            unanswered = stored_set & ~answered
            if not checks.ok(unanswered == 0, f"account {account}: no id of an unanswered call is stored",
                             f"{unanswered.bit_count()} are, e.g. {_some(unanswered)}"):
                explain(dbname, ledger, account, _some(unanswered & sent, 3))
    checks.ok(bad_numbers == 0, "nothing invalid is stored (numbers, timestamps, refused messages)",
              f"{bad_numbers} rows")
    checks.ok(rollup_off == 0, "the report's rollup (trackly.send_stats) adds up to trackly.sends",
              f"{rollup_off} groups differ")
    return sum(len(ids) for ids in stored.values())


def explain(dbname, ledger, account, ids):
    """Prints, for each id, every attempt that carried it and what the tables
    hold for it: what a failed check needs to be understood."""
    with connect(dbname) as conn:
        for n in ids:
            print(f"#   id {n} of account {account}:", flush=True)
            for acc, pattern, valid, others, outcome in ledger.journal:
                if n in valid or n in others:
                    print(f"#     sent to account {acc} by a {pattern} call, {'valid' if n in valid else 'not valid'};"
                          f" outcome {outcome}", flush=True)
            for row in conn.execute(
                    "SELECT s.account_id, s.import_id, s.length, left(s.message, 10), i.source,"
                    " i.success_count, i.error_count, i.duplicates_skipped"
                    " FROM trackly.sends s LEFT JOIN trackly.imports i"
                    "   ON i.account_id = s.account_id AND i.id = s.import_id WHERE s.id = %s",
                    (str(n),)):
                print(f"#     stored: {row}", flush=True)
            for row in conn.execute(
                    "SELECT account_id, import_id, index, code FROM trackly.import_errors WHERE id = %s",
                    (str(n),)):
                print(f"#     failed: {row}", flush=True)


def _some(bits, n=5):
    """The lowest n members of a set held as an int's bits."""
    found = []
    while bits and len(found) < n:
        low = bits & -bits
        found.append(low.bit_length() - 1)
        bits ^= low
    return found


def sqlstate_of(error):
    """The SQLSTATE of a psycopg error, or a name for a lost connection."""
    if getattr(error, "sqlstate", None):
        return error.sqlstate
    return "connection-lost"


def wait_for_server(dbname, seconds=120):
    """Waits until the server accepts connections again; returns the codes it answered meanwhile."""
    codes = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with connect(dbname, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
                return codes
        except psycopg.Error as e:
            code = sqlstate_of(e)
            codes[code] = codes.get(code, 0) + 1
            time.sleep(0.2)
    raise RuntimeError(f"the server did not come back within {seconds} s")


def positive_int(value):
    n = int(value)
    if n < 1:
        raise ValueError(value)
    return n


def env_int(name, default):
    return int(os.environ.get(name, default))
