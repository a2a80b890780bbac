#!/usr/bin/python3
"""import_bench.py: the import benchmark of trackly_history.

    /usr/bin/python3 test/bench/import_bench.py [--records 200000] [--rounds 5]
        [--memory-calls 3000] [--only a,b,c,d,e] [--ways import,body,copy,sql,parse,upsert,literal,send,json,norollup]
        [--profile import,body,copy,sql] [--keep-db]

Loads the same generated send records several ways into tables of the same
shape and indexes, from one Python client (psycopg 3, over the cluster's Unix
socket), one transaction per request of 1,000 records:

  import  SELECT trackly_import_sends($1::jsonb, $2): the request body bound
          as JSON text and cast to jsonb on the server, so parsing counts;
          into trackly.sends, with the imports / import_errors audit rows.
  copy    COPY ... FROM STDIN (text format) of the same rows already converted
          by the client (list_number resolved to list_id, timestamps as
          timestamptz text, invalid records left out), 1,000 rows per COPY,
          into bench.copy_sends (LIKE trackly.sends INCLUDING ALL): the floor.
  sql     SELECT bench.sql_import_sends($1::jsonb, $2), the same import
          written in plain SQL (sql_import_sends.sql), into bench.sql_sends
          and its own audit tables; same bound bodies as the import.
  body    SELECT trackly_import_sends_body($1::bytea): the HTTP entry point
          PostgREST calls, the body bound as bytes, the account by its key
          (trackly.api_key, set once per connection); it reads the records
          straight from the text (src/import_text.c).

and references, which only show where the time of a JSON import goes:

  parse   SELECT jsonb_typeof($1::jsonb): sending the body and parsing it,
          nothing stored (a).
  upsert  INSERT INTO bench.upsert_sends ... SELECT ... FROM
          jsonb_to_recordset($3::jsonb -> 'records') ON CONFLICT DO NOTHING:
          the bare JSON-to-table upsert, with no check, list or audit (a, b).
  literal the import with the body pasted into the SQL text as a quoted
          literal (psycopg.sql.Literal) and no parameter, sent as one
          simple-protocol query, as psycopg2 and other client-side formatting
          drivers send it: what the SQL lexer costs on a 220 kB literal
          (a, b, c; only when named in --ways).
  send    SELECT length($1): the body sent, nothing parsed (a; only when
          named in --ways).
  json    SELECT json_typeof($1::json): json_in checks the text but builds
          nothing (a; only when named in --ways).
  norollup the import into a database of its own whose trackly.sends has
          no rollup triggers, so nothing is counted into trackly.send_stats:
          what the report's rollup costs the import (only when named in
          --ways).

psycopg 3 binds parameters server-side, as PostgREST and modern drivers do:
the body travels in the Bind message and never goes through the SQL lexer
(but for the literal way).  Every connection has prepare_threshold=None, so
no way runs a named prepared statement: each statement with parameters is an
unnamed Parse/Bind/Execute, every time, for every way; COPY is COPY FROM
STDIN.

Scenarios, each a separate number per way:

  (a) fresh     N new records into empty tables
  (b) replay    every request of (a) again: all duplicates (COPY cannot skip
                duplicates: not run)
  (c) mixed     N records of which 10 % fail (bad phone numbers, bad
                timestamps); COPY loads the 90 % valid rows
  (d) 2 clients two connections at once: (d1) each sends half the requests
                (disjoint ids); (d2) both send every request at the same time
                (overlapping ids, as in a retry storm; not for COPY)
  (e) memory    one backend runs --memory-calls imports (the mixed requests
                again and again: fresh, then replays), its memory sampled
                from /proc/<pid>/status, /proc/<pid>/smaps_rollup and
                pg_backend_memory_contexts

Every round runs every way once per scenario on truncated tables, in an order
that changes from round to round; the tables are truncated and a CHECKPOINT
taken before each measured run, and autovacuum is off on the benchmark's
tables so it cannot land on one way only.  Medians of the rounds are
reported.  A benchmark measures; it asserts nothing: the targets are printed
with the measured value beside them.

Adding a way (the staging-table import, say): write a subclass of Way
(its tables, setup, send; prebuild for what it sends that the Request lacks;
skips for the scenarios it cannot run) and add it to WAYS; every scenario,
table and ratio picks it up.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
import benchlib  # noqa: E402
from psycopg import sql  # noqa: E402

REQUEST_SIZE = 1000
ACCOUNT_NAME = "import benchmark"
# The lists of the benchmark's account: (id, sending number, name).
LISTS = [(42, "+14155550142", "Black Friday"), (43, "+14155550143", "Newsletter"),
         (44, "+14155550144", "Winback"), (45, "+14155550145", "VIP"),
         (46, "+14155550146", "Transactional")]
LIST_BY_NUMBER = {number: list_id for list_id, number, _ in LISTS}
SEND_COLUMNS = ("account_id", "id", "list_id", "to_number", "message", "creative_id",
                "send_type", "delivered", "length", "sent_at", "imported", "import_id")
WORDS = ("deal offer today only save your order shipped new arrivals limited time "
         "reply STOP to opt out flash sale free shipping on all orders code VIP20 "
         "thanks for shopping with us your cart is waiting back in stock").split()


# ---------------------------------------------------------------------------
# Workload: the records, and each request as a JSON body and as COPY data
# ---------------------------------------------------------------------------

class Request:
    """One request of up to 1,000 records, in every form a way needs."""

    def __init__(self, number, chunk, account_id):
        self.number = number
        self.records = [{k: v for k, v in r.items() if k != "_bad"} for r in chunk]
        self.body = json.dumps({"records": self.records, "imported": True})
        self.copy = copy_data(chunk, account_id, number).encode()
        self.literal = None  # the import's statement with the body pasted in, built by the literal way
        self.valid = sum(1 for r in chunk if record_is_valid(r))

    def __len__(self):
        return len(self.records)


def us_number(rng):
    """A US number in E.164 form: +1, an area code and a line."""
    return "+1%d%02d%d%02d%04d" % (rng.randint(2, 9), rng.randint(0, 99), rng.randint(2, 9),
                                    rng.randint(0, 99), rng.randint(0, 9999))


def message_text(rng):
    """A message of 20 to 60 characters."""
    target = rng.randint(20, 60)
    words = []
    while len(" ".join(words)) < target:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:target].rstrip().capitalize() + "!"


def generate_records(n, seed):
    """n records like the API page's example, ids hist_00000001 on."""
    rng = random.Random(seed)
    start = datetime(2025, 11, 15, 14, 30, tzinfo=timezone.utc)
    records = []
    for i in range(n):
        message = message_text(rng)
        rec = {
            "id": "hist_%08d" % (i + 1),
            "to_number": us_number(rng),
            "message": message,
            "send_type": rng.choices(("campaign", "flow", "manual", "api"), (70, 20, 5, 5))[0],
            "delivered": rng.random() < 0.93,
            "timestamp": (start + timedelta(seconds=7 * i + rng.randint(0, 6))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if rng.random() < 0.8:
            rec["length"] = len(message)
        if rng.random() < 0.4:
            rec["creative_id"] = rng.randint(100, 160)
        which = rng.random()
        if which < 0.5:
            rec["list_id"] = rng.choice(LISTS)[0]
        elif which < 0.8:
            rec["list_number"] = rng.choice(LISTS)[1]
        records.append(rec)
    return records


# Invalid numbers that the pure-SQL way's regex rejects too (it lets "+1415555012"
# or "+99912345678" pass), so that every way stores the same rows.
BAD_PHONES = ("415-555-0100", "+1 415 555 0100", "14155550100", "+1415555O100", "+141555501001234567")
BAD_TIMESTAMPS = ("2025-02-30T10:00:00Z", "11/15/2025 14:30", "2025-11-15", "2025-11-15T24:00:00Z",
                  "now")


def spoil(records, fraction, seed):
    """A copy of records in which fraction of them have a bad phone or timestamp."""
    rng = random.Random(seed)
    out = []
    for rec in records:
        rec = dict(rec)
        if rng.random() < fraction:
            if rng.random() < 0.5:
                rec["to_number"] = rng.choice(BAD_PHONES)
                rec["_bad"] = "invalid_phone"
            else:
                rec["timestamp"] = rng.choice(BAD_TIMESTAMPS)
                rec["_bad"] = "invalid_timestamp"
        out.append(rec)
    return out


def record_is_valid(rec):
    return "_bad" not in rec


def copy_escape(value):
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_data(records, account_id, import_id):
    """The valid records of a request as COPY text rows of the sends columns."""
    lines = []
    for rec in records:
        if not record_is_valid(rec):
            continue
        sent_at = datetime.strptime(rec["timestamp"], "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M:%S+00")
        list_id = rec.get("list_id") or LIST_BY_NUMBER.get(rec.get("list_number"))
        row = (account_id, rec["id"], list_id, rec["to_number"], rec.get("message"),
               rec.get("creative_id"), rec.get("send_type"), rec.get("delivered"),
               rec.get("length"), sent_at, True, import_id)
        lines.append("\t".join(copy_escape(v) for v in row))
    return "\n".join(lines) + "\n"


def make_requests(records, account_id):
    """Cuts records into requests of REQUEST_SIZE."""
    return [Request(1 + start // REQUEST_SIZE, records[start:start + REQUEST_SIZE], account_id)
            for start in range(0, len(records), REQUEST_SIZE)]


# ---------------------------------------------------------------------------
# Ways: each loads requests into its own tables
# ---------------------------------------------------------------------------

class Outcome:
    """What a run stored and answered, summed over its requests, and its CPU time."""

    def __init__(self):
        self.success = 0
        self.errors = 0
        self.duplicates = 0
        self.latencies = []
        self.backend_cpu = 0.0  # seconds of CPU of the backends that served the run
        self.client_cpu = 0.0  # seconds of CPU of this Python process
        self.wal_bytes = 0  # WAL the cluster wrote during the run

    def add(self, other):
        self.success += other.success
        self.errors += other.errors
        self.duplicates += other.duplicates
        self.latencies += other.latencies


class Way:
    """A way of loading the records: its tables, setup (when it needs more) and send."""

    key = ""  # command-line name
    title = ""  # column title
    tables = ()  # its tables, truncated by reset
    skips = ()  # scenarios it does not run
    reference = False  # a diagnostic floor, not an implementation of the import

    def setup(self, conn, account_id):
        """Creates what the way needs (once per run of the benchmark)."""
        self.account_id = account_id
        with conn.cursor() as cur:
            for table in self.tables:
                cur.execute("ALTER TABLE %s SET (autovacuum_enabled = off)" % table)

    def prebuild(self, conn, requests):
        """Builds what the way sends of each request, once, before anything is timed."""

    def reset(self, conn):
        """Empties the way's tables so that every run starts equal."""
        if self.tables:
            with conn.cursor() as cur:
                cur.execute("TRUNCATE %s" % ", ".join(self.tables))

    def send(self, cur, request, outcome):
        """Loads one request in one transaction; adds its counts to outcome."""
        raise NotImplementedError

    def connections(self, conns):
        """The connections the way uses in place of conns (the benchmark database's)."""
        return conns


class ImportWay(Way):
    key = "import"
    title = "trackly_import_sends"
    tables = ("trackly.sends", "trackly.import_errors", "trackly.imports")
    function = "trackly_import_sends"

    def send(self, cur, request, outcome):
        # Both values are bound: $1 (the body, JSON text of type unknown, read by jsonb_in) and $2.
        self.call(cur, "SELECT %s(%%s::jsonb, %%s)" % self.function, (request.body, self.account_id), outcome)

    def call(self, cur, query, params, outcome):
        """Runs the import's call; adds the counts of its jsonb response to outcome."""
        cur.execute(query, params)
        response = cur.fetchone()[0]
        outcome.success += response["success_count"]
        outcome.errors += response["error_count"]
        outcome.duplicates += response["duplicates_skipped"]


class BodyWay(ImportWay):
    """The HTTP entry point over SQL: the body as the bytes a client sent, the account by its key."""
    key = "body"
    title = "trackly_import_sends_body"

    def setup(self, conn, account_id):
        super().setup(conn, account_id)
        with conn.cursor() as cur:
            cur.execute("SELECT trackly_create_api_key(%s)", (account_id,))
            self.api_key = cur.fetchone()[0]
        self.keyed = set()

    def prebuild(self, conn, requests):
        for request in requests:
            request.raw = request.body.encode()

    def send(self, cur, request, outcome):
        # The key once per connection, as PostgREST's session setting would be; the body bound as bytea.
        if id(cur.connection) not in self.keyed:
            cur.execute("SELECT set_config('trackly.api_key', %s, false)", (self.api_key,))
            self.keyed.add(id(cur.connection))
        self.call(cur, "SELECT trackly_import_sends_body(%s::bytea)", (request.raw,), outcome)


class LiteralImportWay(ImportWay):
    """Reference: the import with the body pasted into the SQL text, as client-side formatting sends it."""
    key = "literal"
    title = "import, literal body"
    skips = ("disjoint", "overlap")
    reference = True

    def prebuild(self, conn, requests):
        # The whole statement, the body a quoted literal in it, built once like the body and the
        # COPY text, so the client's quoting is not timed.
        for request in requests:
            request.literal = sql.SQL("SELECT " + self.function + "({}::jsonb, {})").format(
                sql.Literal(request.body), sql.Literal(self.account_id)).as_string(conn)

    def send(self, cur, request, outcome):
        # No parameters: psycopg sends the text as it is, in one simple-protocol Query message, as
        # psycopg2 did, and the SQL lexer reads the 220 kB literal.
        self.call(cur, request.literal, None, outcome)


class SqlWay(ImportWay):
    key = "sql"
    title = "pure SQL"
    tables = ("bench.sql_sends", "bench.sql_import_errors", "bench.sql_imports")
    function = "bench.sql_import_sends"

    def setup(self, conn, account_id):
        with open(os.path.join(os.path.dirname(__file__), "sql_import_sends.sql")) as f:
            script = f.read()
        with conn.cursor() as cur:
            cur.execute("SET client_min_messages = warning")
            cur.execute(script)
            cur.execute("RESET client_min_messages")
        super().setup(conn, account_id)


class CopyWay(Way):
    key = "copy"
    title = "COPY"
    tables = ("bench.copy_sends",)
    skips = ("replay", "overlap")  # COPY cannot skip duplicates

    def setup(self, conn, account_id):
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench.copy_sends")
            cur.execute("CREATE TABLE bench.copy_sends (LIKE trackly.sends INCLUDING ALL)")
        super().setup(conn, account_id)

    def send(self, cur, request, outcome):
        with cur.copy("COPY bench.copy_sends (%s) FROM STDIN" % ", ".join(SEND_COLUMNS)) as copy:
            copy.write(request.copy)
        outcome.success += cur.rowcount
        outcome.errors += len(request) - request.valid


class ParseWay(Way):
    """Reference: only sends the body and parses it into jsonb; stores nothing."""
    key = "parse"
    title = "parse only"
    skips = ("replay", "mixed", "disjoint", "overlap")
    reference = True

    query = "SELECT jsonb_typeof(%s::jsonb)"

    def send(self, cur, request, outcome):
        cur.execute(self.query, (request.body,))
        cur.fetchone()


class SendWay(ParseWay):
    """Reference: only sends the body as a bound text parameter (not parsed as JSON)."""
    key = "send"
    title = "send only"
    query = "SELECT length(%s)"


class JsonWay(ParseWay):
    """Reference: sends the body and checks it as json (json_in validates, builds nothing)."""
    key = "json"
    title = "parse as json"
    query = "SELECT json_typeof(%s::json)"


class UpsertWay(Way):
    """Reference: the body into INSERT ... ON CONFLICT DO NOTHING with no checks at all."""
    key = "upsert"
    title = "bare upsert"
    tables = ("bench.upsert_sends",)
    skips = ("mixed", "disjoint", "overlap")
    reference = True

    def setup(self, conn, account_id):
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench.upsert_sends")
            cur.execute("CREATE TABLE bench.upsert_sends (LIKE trackly.sends INCLUDING ALL)")
        super().setup(conn, account_id)

    def send(self, cur, request, outcome):
        cur.execute("INSERT INTO bench.upsert_sends (%s)"
                    " SELECT %%s, r.id, r.list_id, r.to_number, r.message, r.creative_id, r.send_type,"
                    "        r.delivered, r.length, r.timestamp, true, %%s"
                    "   FROM jsonb_to_recordset(%%s::jsonb -> 'records') AS r(id text, list_id bigint,"
                    "        to_number text, message text, creative_id bigint, send_type text,"
                    "        delivered boolean, length int, timestamp timestamptz)"
                    " ON CONFLICT (account_id, id) DO NOTHING" % ", ".join(SEND_COLUMNS),
                    (self.account_id, request.number, request.body))
        outcome.success += cur.rowcount
        outcome.duplicates += len(request) - cur.rowcount


class BaselineWay(ImportWay):
    """The import of another build (0.2.0 by default), installed beside this one as the extension
    trackly_history_base (test/bench/run import --baseline REV does that), in a database of its own,
    with connections of its own: two builds of one library never share a backend."""
    key = "baseline"
    title = "baseline import"
    extension = "trackly_history_base"

    def __init__(self):
        self.peers = {}
        self.db = None

    def setup(self, conn, account_id):
        self.db = conn.info.dbname + "_baseline"
        base = benchlib.ensure_database(self.db, fresh=True, extension=self.extension)
        with base.cursor() as cur:
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (self.extension,))
            self.title = "baseline %s import" % cur.fetchone()[0]
        self.peers[id(conn)] = base
        super().setup(base, setup_account(base))

    def connections(self, conns):
        for c in conns:
            if id(c) not in self.peers:
                self.peers[id(c)] = benchlib.connect(self.db)
        return [self.peers[id(c)] for c in conns]


class NoRollupWay(BaselineWay):
    """The import of this build into a database of its own whose trackly.sends has no rollup
    triggers, so that no import counts its rows into trackly.send_stats: what the rollup costs."""
    key = "norollup"
    title = "import, no rollup"
    extension = "trackly_history"

    def setup(self, conn, account_id):
        self.db = conn.info.dbname + "_norollup"
        base = benchlib.ensure_database(self.db, fresh=True, extension=self.extension)
        with base.cursor() as cur:
            for event in ("insert", "update", "delete", "truncate"):
                cur.execute("DROP TRIGGER IF EXISTS trackly_send_stats_%s ON trackly.sends" % event)
        self.peers[id(conn)] = base
        ImportWay.setup(self, base, setup_account(base))


# The ways: the three implementations, then the diagnostic references.
WAYS = [ImportWay(), BodyWay(), CopyWay(), SqlWay(), ParseWay(), UpsertWay(), LiteralImportWay(), SendWay(), JsonWay(),
        BaselineWay(), NoRollupWay()]
DEFAULT_WAYS = "import,body,copy,sql,parse,upsert,norollup"


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def run_client(way, conn, requests, outcome, barrier=None):
    """Sends requests one after the other on conn (autocommit: one transaction each)."""
    with conn.cursor() as cur:
        if barrier is not None:
            barrier.wait()
        for request in requests:
            start = time.perf_counter()
            way.send(cur, request, outcome)
            outcome.latencies.append(time.perf_counter() - start)


def run(way, conns, plan):
    """Runs plan (one list of requests per client) at once; (seconds, Outcome)."""
    conns = way.connections(conns)
    pids = [c.info.backend_pid for c in conns[:len(plan)]]
    wal = wal_position(conns[0])
    backend_cpu = sum(benchlib.proc_cpu_seconds(pid) for pid in pids)
    client_cpu = time.process_time()
    seconds, outcome = run_clients(way, conns, plan)
    outcome.backend_cpu = sum(benchlib.proc_cpu_seconds(pid) for pid in pids) - backend_cpu
    outcome.client_cpu = time.process_time() - client_cpu
    outcome.wal_bytes = wal_position(conns[0]) - wal
    return seconds, outcome


def wal_position(conn):
    """The cluster's WAL insert position in bytes (every database's writes count)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint")
        return cur.fetchone()[0]


def run_clients(way, conns, plan):
    """Runs plan on one connection, or on one thread per client."""
    if len(plan) == 1:
        outcome = Outcome()
        seconds, _ = benchlib.timed(run_client, way, conns[0], plan[0], outcome)
        return seconds, outcome
    outcomes = [Outcome() for _ in plan]
    barrier = threading.Barrier(len(plan) + 1)
    errors = []

    def client(i):
        try:
            run_client(way, conns[i], plan[i], outcomes[i], barrier)
        except Exception as e:  # reported below, with the way and the scenario
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(plan))]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    total = Outcome()
    for o in outcomes:
        total.add(o)
    return seconds, total


def prepare_run(way, conn):
    """Empties the way's tables and flushes dirty buffers before a measured run."""
    conn = way.connections([conn])[0]
    way.reset(conn)
    with conn.cursor() as cur:
        cur.execute("CHECKPOINT")


class Scenario:
    """A scenario's results: per way, the seconds and outcome of each round."""

    def __init__(self, key, title, records_per_run, expect):
        self.key = key
        self.title = title
        self.records = records_per_run  # records submitted per run
        self.expect = expect  # way -> (success, errors, duplicates)
        self.seconds = {}
        self.outcomes = {}

    def record(self, way, seconds, outcome):
        self.seconds.setdefault(way.key, []).append(seconds)
        self.outcomes.setdefault(way.key, []).append(outcome)

    def rate(self, way):
        """Median records per second, or None when the way did not run."""
        if way.key not in self.seconds:
            return None
        return self.records / benchlib.median(self.seconds[way.key])

    def latency_ms(self, way):
        if way.key not in self.outcomes:
            return None
        return 1000 * benchlib.median([x for o in self.outcomes[way.key] for x in o.latencies])

    def per_thousand_ms(self, way, what):
        """Median wall, backend CPU or client CPU milliseconds per 1,000 records submitted."""
        if way.key not in self.outcomes:
            return None
        if what == "wall":
            values = self.seconds[way.key]
        else:
            values = [getattr(o, what) for o in self.outcomes[way.key]]
        return 1000 * benchlib.median(values) / (self.records / 1000)


def rotate(ways, r):
    """The order of the ways in round r: rotated, reversed every other round."""
    order = ways[r % len(ways):] + ways[:r % len(ways)]
    return order[::-1] if r % 2 else order


def run_rounds(args, ways, conns, base, mixed):
    n = sum(len(r) for r in base)
    bad = sum(len(r) - r.valid for r in mixed)

    def everyone(success, errors, duplicates):
        return {w.key: (success, errors, duplicates) for w in ways}

    scenarios = {
        "fresh": Scenario("fresh", "(a) fresh import", n, everyone(n, 0, 0)),
        "replay": Scenario("replay", "(b) replay, all duplicates", n, everyone(0, 0, n)),
        "mixed": Scenario("mixed", "(c) 10 % failing records", n, everyone(n - bad, bad, 0)),
        "disjoint": Scenario("disjoint", "(d1) 2 clients, disjoint ids", n, everyone(n, 0, 0)),
        "overlap": Scenario("overlap", "(d2) 2 clients, same requests at once", 2 * n, everyone(n, 0, n)),
    }
    wanted = set(args.only)
    # Each scenario: its key, its letter, the requests of each client.  A replay runs
    # right after the fresh import of the same way, on the tables it filled.
    plans = [("fresh", "a", [base]), ("mixed", "c", [mixed]),
             ("disjoint", "d", [base[0::2], base[1::2]]), ("overlap", "d", [base, base])]
    if "b" in wanted:
        wanted.add("a")  # a replay replays the fresh import of the same round
    for r in range(args.rounds):
        order = rotate(ways, r)
        for key, letter, plan in plans:
            if letter not in wanted:
                continue
            for way in order:
                if key in way.skips:
                    continue
                prepare_run(way, conns[0])
                scenarios[key].record(way, *run(way, conns, plan))
                if key == "fresh" and "b" in wanted and "replay" not in way.skips:
                    with conns[0].cursor() as cur:
                        cur.execute("CHECKPOINT")
                    scenarios["replay"].record(way, *run(way, conns, [base]))
        print("round %d/%d done (%s)" % (r + 1, args.rounds, time.strftime("%H:%M:%S")), file=sys.stderr)
    return [s for s in scenarios.values() if s.seconds]


def memory_test(args, way, account_id, requests):
    """Runs way many times in one fresh backend; samples its memory."""
    conn = benchlib.connect(args.db)
    prepare_run(way, conn)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    samples = []

    def sample(calls):
        mem = benchlib.proc_memory(pid)
        with conn.cursor() as cur:
            cur.execute("SELECT sum(total_bytes), sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext'"
                        " OR parent = 'CacheMemoryContext') FROM pg_backend_memory_contexts")
            total, cache = cur.fetchone()
        mem["contexts"] = int(total) // 1024
        mem["cache"] = int(cache or 0) // 1024
        samples.append((calls, mem))

    outcome = Outcome()
    start = time.perf_counter()
    with conn.cursor() as cur:
        # The first call loads the library and prepares the plans: sample after it.
        way.send(cur, requests[0], outcome)
        sample(1)
        for call in range(2, args.memory_calls + 1):
            way.send(cur, requests[(call - 1) % len(requests)], outcome)
            if call % args.memory_every == 0 or call == args.memory_calls:
                sample(call)
    seconds = time.perf_counter() - start
    conn.close()
    return pid, samples, seconds, outcome


# Functions whose inclusive share shows the stages of a request (those absent are left out).
PROFILE_STAGES = [
    ("raw_parser", "lexing and parsing the SQL text (the body is in it only for the literal way)"),
    ("jsonb_in", "parsing the body's JSON text into jsonb"),
    ("import_read_jsonb", "import: reading the records out of the jsonb"),
    ("import_read_text", "import: reading the records straight from the body's text (body)"),
    ("import_validate", "import: rules 1 to 7"),
    ("import_resolve_lists", "import: rule 8"),
    ("import_write", "import: duplicates and the INSERT"),
    ("insert_sends", "import: building the arrays and running the INSERT"),
    ("ExecMakeTableFunctionResult", "set-returning functions materialized (unnest, jsonb_array_elements...)"),
    ("ExecCheckIndexConstraints", "ON CONFLICT's probe of the unique index before each row"),
    ("heap_insert", "heap, one row at a time (INSERT)"),
    ("heap_multi_insert", "heap, rows in batches (COPY)"),
    ("ExecInsertIndexTuples", "index insertion"),
    ("NextCopyFrom", "COPY: reading and converting the text rows"),
    ("RE_compile_and_execute", "regular expressions"),
    ("import_record_audit", "import: the imports and import_errors rows"),
    ("AfterTriggerEndQuery", "after-row triggers: foreign-key checks, one query per row"),
    ("import_response", "import: the response"),
    ("CommitTransactionCommand", "commit"),
    ("XLogInsert", "WAL records"),
    ("asm_exc_page_fault", "page faults (first touch of shared buffers, fresh malloc'd memory)"),
]


def profile(args, way, requests):
    """perf record (DWARF call graphs) of a new backend during a fresh load."""
    # A new backend maps the library as it is now on disk, so perf finds its symbols.
    conns = [benchlib.connect(args.db)]
    prepare_run(way, conns[0])
    run(way, conns, [requests[:10]])
    prepare_run(way, conns[0])
    pid = conns[0].info.backend_pid
    data = tempfile.NamedTemporaryFile(prefix="trackly_perf_", suffix=".data", delete=False).name
    try:
        perf = subprocess.Popen(["perf", "record", "-F", "2999", "--call-graph", "dwarf,16384", "-p", str(pid),
                                 "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        return pid, 0, ["perf is not available: %s" % e], []
    time.sleep(1)
    seconds, _ = run(way, conns, [requests])
    perf.send_signal(signal.SIGINT)
    perf.wait()

    def report(*options):
        out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "symbol", "-g", "none",
                              "--percent-limit", "0"] + list(options), capture_output=True, text=True).stdout
        return [l for l in out.splitlines() if l.strip() and not l.startswith("#")]

    top = [re.sub(r"\s+-\s+-\s*$", "", l) for l in report("--no-children")[:args.profile_lines]]
    inclusive = {}
    for line in report("--children"):
        parts = line.split()
        if len(parts) >= 4 and parts[0].endswith("%"):
            inclusive.setdefault(parts[3], float(parts[0].rstrip("%")))
    os.unlink(data)
    conns[0].close()
    stages = [(name, what, inclusive[name]) for name, what in PROFILE_STAGES if name in inclusive]
    return pid, seconds, top, stages


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def fmt_rate(x):
    return "n/a" if x is None else "{:,.0f}".format(x)


def fmt_ratio(a, b):
    return "n/a" if a is None or b is None else "%.2f x" % (a / b)


def by_key(ways):
    return {w.key: w for w in ways}


def print_results(args, ways, scenarios, n):
    keyed = by_key(ways)
    print("## Import benchmark: %s records per run, %d-record requests, median of %d interleaved rounds\n"
          % ("{:,}".format(n), REQUEST_SIZE, args.rounds))

    # Throughput, and the time ratios: each way's time against COPY's and the import's.
    # The references are compared with COPY, and the import with them.
    ratio_columns = []
    main_ways = [w for w in ways if not w.reference]
    if "copy" in keyed:
        ratio_columns += [(w, keyed["copy"]) for w in main_ways if w.key != "copy"]
    if "import" in keyed:
        ratio_columns += [(w, keyed["import"]) for w in main_ways if w.key not in ("copy", "import")]
    for ref in (w for w in ways if w.reference):
        if "copy" in keyed:
            ratio_columns.append((ref, keyed["copy"]))
        if "import" in keyed:
            ratio_columns.append((keyed["import"], ref))
    header = ["scenario"] + ["%s rec/s" % w.title for w in ways] + \
             ["%s / %s (time)" % (a.title, b.title) for a, b in ratio_columns]
    rows = []
    for s in scenarios:
        row = [s.title] + [fmt_rate(s.rate(w)) for w in ways]
        # time ratio a/b = rate b / rate a
        row += [fmt_ratio(s.rate(b), s.rate(a)) if s.rate(a) and s.rate(b) else "n/a" for a, b in ratio_columns]
        rows.append(row)
    print("### Throughput (records per second; (d2) counts the records both clients submit)\n")
    print(benchlib.markdown_table(header, rows))
    print()

    print("### Median latency of one request (ms)\n")
    rows = [[s.title] + ["n/a" if s.latency_ms(w) is None else "%.1f" % s.latency_ms(w) for w in ways]
            for s in scenarios]
    print(benchlib.markdown_table(["scenario"] + [w.title for w in ways], rows))
    print()

    print("### Where the time goes (median milliseconds per 1,000 records: wall / backend CPU / client CPU)\n")
    rows = []
    for s in scenarios:
        row = [s.title]
        for w in ways:
            parts = [s.per_thousand_ms(w, what) for what in ("wall", "backend_cpu", "client_cpu")]
            row.append("n/a" if parts[0] is None else " / ".join("%.1f" % x for x in parts))
        rows.append(row)
    print(benchlib.markdown_table(["scenario"] + [w.title for w in ways], rows))
    print("\nBackend CPU is the user+system time of the server process(es) that ran the requests"
          " (/proc/<pid>/stat, 10 ms ticks); client CPU is this Python process's (JSON and COPY text"
          " are prebuilt, so it is mostly psycopg sending, waiting and reading the response).  With 2 cores,"
          " backend + client CPU near the wall time means the run was CPU-bound.\n")

    print("### WAL written per record (bytes, median of the rounds; cluster-wide, so other sessions' writes count too)\n")
    rows = []
    for s in scenarios:
        row = [s.title]
        for w in ways:
            if w.key in s.outcomes:
                row.append("%.0f" % (benchlib.median([o.wal_bytes for o in s.outcomes[w.key]]) / s.records))
            else:
                row.append("n/a")
        rows.append(row)
    print(benchlib.markdown_table(["scenario"] + [w.title for w in ways], rows))
    print()

    print("### Every round (records per second, in the order run)\n")
    rows = []
    for s in scenarios:
        for w in ways:
            if w.key in s.seconds:
                rates = ["{:,.0f}".format(s.records / x) for x in s.seconds[w.key]]
                spread = (max(s.seconds[w.key]) - min(s.seconds[w.key])) / benchlib.median(s.seconds[w.key])
                rows.append([s.title, w.title, " / ".join(rates), "%.0f %%" % (100 * spread)])
    print(benchlib.markdown_table(["scenario", "way", "rounds", "spread (max-min)/median"], rows, "llll"))
    print()

    print("### Counts (summed over a run: stored / failed / duplicates; expected in brackets)\n")
    rows = []
    for s in scenarios:
        for w in ways:
            if w.key not in s.outcomes or w.reference:
                continue
            got = {(o.success, o.errors, o.duplicates) for o in s.outcomes[w.key]}
            expect = s.expect[w.key]
            if w.key == "copy":  # COPY reports no duplicates
                expect = (expect[0], expect[1], 0)
            verdict = "ok" if got == {expect} else "UNEXPECTED"
            rows.append([s.title, w.title, "; ".join("%d / %d / %d" % g for g in sorted(got)),
                         "(%d / %d / %d)" % expect, verdict])
    print(benchlib.markdown_table(["scenario", "way", "got", "expected", ""], rows, "lllll"))
    print()


def paired_ratio(a_seconds, b_seconds):
    """The median over the rounds of a's time / b's time in the same round, and the
    range of those ratios.  The ways of a round run back to back, so a slow spell of
    this shared machine weighs on both sides of a pair: the paired ratio is steadier
    than the ratio of two medians taken apart."""
    ratios = [a / b for a, b in zip(a_seconds, b_seconds)]
    return benchlib.median(ratios), min(ratios), max(ratios)


# The performance issue's targets: import time / COPY time, and a replay's time /
# the fresh import's.
TIME_TARGETS = (("fresh", "fresh", 1.5), ("mixed", "10 %-failing", 1.6), ("disjoint", "2-client", 1.35))
REPLAY_TARGET = 0.7


def print_targets(scenarios, memory):
    by = {s.key: s for s in scenarios}
    imp, cp, pure, literal, body = ImportWay(), CopyWay(), SqlWay(), LiteralImportWay(), BodyWay()
    rows = []

    def add(target, value, met):
        rows.append([target, value, "met" if met else "NOT met"])

    for way, how in ((imp, ""), (body, ", HTTP entry point (bytes)"),
                     (literal, ", body as a literal in the SQL (reference)")):
        for key, what, limit in TIME_TARGETS:
            s = by.get(key)
            if s and way.key in s.seconds and cp.key in s.seconds:
                ratio, low, high = paired_ratio(s.seconds[way.key], s.seconds[cp.key])
                add("%s import%s: time <= %.2f x COPY's" % (what, how, limit),
                    "%.2f x (rounds %.2f to %.2f)" % (ratio, low, high), ratio <= limit)
    for key in ("fresh", "replay", "mixed", "disjoint", "overlap"):
        s = by.get(key)
        if s and s.rate(imp) and s.rate(pure):
            ratio = s.rate(imp) / s.rate(pure)
            add("%s: import >= 3 x faster than pure SQL" % s.title, "%.2f x" % ratio, ratio >= 3)
    norollup = NoRollupWay()
    for key in ("fresh", "mixed"):
        s = by.get(key)
        if s and imp.key in s.seconds and norollup.key in s.seconds:
            ratio, low, high = paired_ratio(s.seconds[imp.key], s.seconds[norollup.key])
            add("%s: the rollup costs the import <= 10 %% of its time" % s.title,
                "%.2f x (rounds %.2f to %.2f)" % (ratio, low, high), ratio <= 1.10)
    for way, how in ((imp, ""), (body, ", HTTP entry point (bytes)")):
        if "replay" in by and way.key in by["replay"].seconds and way.key in by["fresh"].seconds:
            ratio, low, high = paired_ratio(by["replay"].seconds[way.key], by["fresh"].seconds[way.key])
            add("replay%s: time <= %.1f x the fresh import's" % (how, REPLAY_TARGET),
                "%.2f x (rounds %.2f to %.2f)" % (ratio, low, high), ratio <= REPLAY_TARGET)
    if memory:
        _, samples, _, _ = memory
        # The first calls warm caches and malloc's arenas: judge from the tenth of the run on.
        settled = next(m for c, m in samples if c >= samples[-1][0] // 10)
        last = samples[-1][1]
        growth = last["RssAnon"] - settled["RssAnon"]
        contexts = last["contexts"] - settled["contexts"]
        add("flat memory over %d calls (RssAnon and memory contexts, from call %d to the last)"
            % (samples[-1][0], next(c for c, m in samples if c >= samples[-1][0] // 10)),
            "RssAnon %+d kB (%d -> %d kB), contexts %+d kB (%d -> %d kB)"
            % (growth, settled["RssAnon"], last["RssAnon"], contexts, settled["contexts"], last["contexts"]),
            growth <= 1024 and contexts <= 256)
    if rows:
        print("### Targets\n")
        print(benchlib.markdown_table(["target", "measured", ""], rows, "lll"))
        print()


def print_memory(memory, way):
    pid, samples, seconds, outcome = memory
    calls = samples[-1][0]
    print("### (e) Memory of one backend over %d calls of %s (pid %d, %.0f s; %d stored, %d failed, %d duplicates)\n"
          % (calls, way.title, pid, seconds, outcome.success, outcome.errors, outcome.duplicates))
    picks = [samples[0], samples[len(samples) // 2], samples[-1]]
    keys = ["VmRSS", "RssAnon", "RssShmem", "Pss", "Pss_Anon", "contexts", "cache"]
    rows = [["after call %d" % c] + [str(m.get(k, "?")) for k in keys] for c, m in picks]
    print(benchlib.markdown_table(["sample"] + ["%s kB" % k for k in keys[:5]] +
                                  ["memory contexts kB", "CacheMemoryContext kB"], rows))
    print("\nRssShmem grows as the backend touches more of shared_buffers (not a leak); RssAnon and the"
          " memory contexts are the backend's own memory.  Every sample (call: RssAnon kB / contexts kB): " +
          ", ".join("%d: %d/%d" % (c, m["RssAnon"], m["contexts"]) for c, m in samples))
    print()


# ---------------------------------------------------------------------------

def setup_account(conn):
    """The benchmark's account and lists (created once)."""
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM trackly.accounts WHERE name = %s ORDER BY id LIMIT 1", (ACCOUNT_NAME,))
        row = cur.fetchone()
        if row:
            account_id = row[0]
        else:
            cur.execute("SELECT trackly_create_account(%s)", (ACCOUNT_NAME,))
            account_id = cur.fetchone()[0]
        for list_id, number, name in LISTS:
            cur.execute("SELECT 1 FROM trackly.lists WHERE account_id = %s AND id = %s", (account_id, list_id))
            if cur.fetchone() is None:
                cur.execute("SELECT trackly_create_list(%s, %s, %s, %s)", (account_id, number, name, list_id))
    return account_id


def main():
    parser = argparse.ArgumentParser(description="The import benchmark of trackly_history.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--records", type=int, default=200000, help="records per run (default 200000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--only", default="a,b,c,d,e", help="scenarios to run (default a,b,c,d,e)")
    parser.add_argument("--ways", default=DEFAULT_WAYS,
                        help="ways to compare (default %%(default)s; also: %s)"
                        % ",".join(w.key for w in WAYS if w.key not in DEFAULT_WAYS.split(",")))
    parser.add_argument("--memory-calls", type=int, default=3000, help="calls of scenario (e) (default 3000)")
    parser.add_argument("--memory-every", type=int, default=100, help="sample every n calls (default 100)")
    parser.add_argument("--memory-way", default="import", help="the way scenario (e) runs (default import)")
    parser.add_argument("--profile", default="", help="ways to profile with perf during a fresh load, e.g. import,sql")
    parser.add_argument("--profile-lines", type=int, default=25, help="top symbols shown per profile (default 25)")
    parser.add_argument("--profile-requests", type=int, default=100,
                        help="requests of the profiled load (default 100)")
    parser.add_argument("--profile-data", choices=("fresh", "mixed"), default="fresh",
                        help="profile the load of the valid records (default) or of the 10 %%-failing ones")
    parser.add_argument("--db", default=benchlib.DEFAULT_DB, help="database (default trackly_bench)")
    parser.add_argument("--keep-db", action="store_true",
                        help="reuse the database as it is; by default it is dropped and recreated, so that "
                             "the extension's tables are those of the installed version")
    parser.add_argument("--seed", type=int, default=20251115, help="seed of the generated records")
    args = parser.parse_args()
    args.only = args.only.split(",")
    known = by_key(WAYS)
    unknown = [k for k in args.ways.split(",") + args.profile.split(",") + [args.memory_way]
               if k and k not in known]
    if unknown:
        parser.error("unknown way %s; the ways are %s" % (", ".join(unknown), ", ".join(known)))
    ways = [known[k] for k in args.ways.split(",") if k]

    conn = benchlib.ensure_database(args.db, fresh=not args.keep_db)
    facts = benchlib.machine_facts(conn)
    library = benchlib.library_fingerprint()
    account_id = setup_account(conn)
    used = [way for way in WAYS
            if way in ways or way.key == args.memory_way or way.key in args.profile.split(",")]
    for way in used:
        way.setup(conn, account_id)

    print("generating %d records ..." % args.records, file=sys.stderr)
    records = generate_records(args.records, args.seed)
    base = make_requests(records, account_id)
    mixed = make_requests(spoil(records, 0.10, args.seed + 1), account_id)
    for way in used:
        way.prebuild(conn, base + mixed)
    conns = [benchlib.connect(args.db), benchlib.connect(args.db)]

    # Warm-up: every backend loads the library and prepares its plans.
    for way in ways:
        for c in conns:
            prepare_run(way, c)
            run(way, [c], [base[:10]])
        prepare_run(way, conns[0])

    scenarios = []
    if set(args.only) & set("abcd"):
        scenarios = run_rounds(args, ways, conns, base, mixed)
    memory = None
    if "e" in args.only:
        print("memory test: %d calls ..." % args.memory_calls, file=sys.stderr)
        memory = memory_test(args, known[args.memory_way], account_id, mixed)
    profiles = []
    for key in [k for k in args.profile.split(",") if k]:
        print("profiling %s ..." % key, file=sys.stderr)
        data = mixed if args.profile_data == "mixed" else base
        profiles.append((known[key],) + profile(args, known[key], data[:args.profile_requests]))

    print()
    if scenarios:
        print_results(args, ways, scenarios, args.records)
    print_targets(scenarios, memory)
    if memory:
        print_memory(memory, known[args.memory_way])
    for way, pid, seconds, top, stages in profiles:
        print("### perf profile of %s (backend %d, load of %d %s records into empty tables in %.1f s)\n"
              % (way.title, pid, sum(len(r) for r in base[:args.profile_requests]),
                 "valid" if args.profile_data == "fresh" else "10 %-failing", seconds))
        if stages:
            print("Inclusive share of the backend's samples (a function and all it calls; stages nest):\n")
            print(benchlib.markdown_table(["function", "what", "inclusive %"],
                                          [[n, w, "%.1f" % p] for n, w, p in stages], "llr"))
            print()
        if way.key == "import" and not any(n.startswith("import_") for n, _, _ in stages):
            print("(perf resolved no symbol of trackly_history.so: was the library reinstalled"
                  " while the backend ran?)\n")
        print("Top symbols by self time:\n")
        print("```")
        print("\n".join(top))
        print("```\n")
    print("### Machine\n")
    print("\n".join(facts))
    if benchlib.library_fingerprint() != library:
        print("- WARNING: trackly_history.so was reinstalled during the run (now %s): connections opened"
              " later (memory test, profiles) ran another build than the rounds" % benchlib.library_fingerprint())
    print("- benchmark: %d records (%d requests), account %d, lists %s; autovacuum off on the benchmark's tables"
          % (args.records, len(base), account_id, ", ".join(str(l[0]) for l in LISTS)))
    print("- example record: %s" % json.dumps(base[0].records[0]))
    for c in conns:
        c.close()


if __name__ == "__main__":
    main()
