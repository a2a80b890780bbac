#!/usr/bin/python3
"""load.py: concurrent imports under load, for as long as you like.

K clients make M calls of trackly_import_sends between them, each call a
transaction of its own (autocommit, as PostgREST and psql run them), mixing:

  window      new ids from a window that moves forward, shared with the other
              clients' windows, in random order, some twice in one request
  pool        20 to 50 ids drawn at random from a pool of 2,000 that all
              clients draw from (a new pool every 150 such calls)
  retry       a request another client sent recently, sent again verbatim
              (a client retrying while the first attempt may still run)
  converge    a few hot ids that every concurrent call of this kind holds
  chunks      1,000 records with long messages: the bulk write's chunks
  descending  a window in descending order
  replay      old ids, mostly stored already
  cancel      a chunks request under a statement_timeout of a few ms
  staged      1,100 to 1,800 rows of a window put in the client's staging
              table and imported with trackly_import_sends_from (several
              batches in one transaction, holding the earlier ones' ids)

over two accounts (the same ids in both), through both forms (the API key and
the explicit account), with some records invalid.  The last part of the calls
(--checked-share) runs after a CHECK constraint is added to trackly.sends,
which sends every import down the isolating write, with some records it
refuses.

Every error is counted by SQLSTATE; any but the cancels the tool caused
itself (57014) is a failure.  After the run the tables are checked: every
valid id of an answered call is stored, once; nothing else is; each answer's
counts are its trackly.imports row and add up to what trackly.sends and
trackly.import_errors hold; cancelled calls left nothing; the report's
rollup (trackly.send_stats, written by the import's direct write and by the
triggers of its SQL path) adds up to trackly.sends.

    /usr/bin/python3 test/stress/load.py --clients 8 --calls 200000

It talks only to the cluster the PG* environment names (bin/cluster env).
With --prepared it uses a database made beforehand, as the citus suite
does with a Citus coordinator's (test/citus/run).
"""
import argparse
import collections
import random
import sys
import threading
import time

import psycopg

import stresslib as sl

PATTERNS = [("window", 25), ("pool", 25), ("retry", 12), ("converge", 12), ("chunks", 4),
            ("descending", 6), ("replay", 8), ("cancel", 8), ("staged", 2)]
POOL_IDS = 2000           # a pool's size
POOL_CALLS = 150          # pool calls before the next pool
HOT_IDS = 6


class Workload:
    """Makes the requests; what the clients share (the moving frontier of new
    ids, the recent requests to retry) is behind a lock."""

    def __init__(self, accounts, patterns):
        self.accounts = accounts
        self.patterns = [(p, w) for p, w in PATTERNS if p in patterns]
        self.lock = threading.Lock()
        # Above the widest reach below the frontier (a staged request's 1,800
        # ids), so that no id is negative: the ledger's bitmaps hold ids >= 0.
        self.frontier = 2000
        self.recent = collections.deque(maxlen=32)
        self.pool_calls = 0
        self.pool_base = 0

    def advance(self, step):
        with self.lock:
            base = self.frontier
            self.frontier += step
            return base

    def remember(self, req):
        if req.pattern != "cancel":
            with self.lock:
                self.recent.append(req)

    def request(self, rng, checked):
        pattern = rng.choices([p for p, _ in self.patterns], [w for _, w in self.patterns])[0]
        account, key = rng.choice(self.accounts)
        if rng.random() < 0.7:
            key = None                      # the two-argument form
        spam = 0.04 if checked else 0.0
        if pattern == "retry":
            with self.lock:
                if self.recent:
                    return rng.choice(self.recent)
            pattern = "window"
        if pattern in ("window", "descending"):
            size = rng.randint(10, 100)
            base = self.advance(size // 2)
            ids = rng.sample(range(base - size, base + size), size)
            if pattern == "descending":
                ids.sort(reverse=True)
            elif rng.random() < 0.2:
                # The same id twice in one request (the first may fail, the second then counts).
                ids.insert(rng.randrange(len(ids) + 1), rng.choice(ids))
            return sl.make_request(account, key, ids, rng, pattern, spam_share=spam)
        if pattern == "pool":
            with self.lock:
                if self.pool_calls % POOL_CALLS == 0:
                    self.pool_base = self.frontier
                    self.frontier += POOL_IDS
                self.pool_calls += 1
                base = self.pool_base
            ids = rng.sample(range(base, base + POOL_IDS), rng.randint(20, 50))
            return sl.make_request(account, key, ids, rng, pattern, spam_share=spam)
        if pattern == "converge":
            with self.lock:
                hot = list(range(self.frontier - HOT_IDS, self.frontier))
            ids = hot + rng.sample(range(hot[0] - 200, hot[0]), rng.randint(5, 30))
            rng.shuffle(ids)
            return sl.make_request(account, key, ids, rng, pattern, spam_share=spam)
        if pattern == "staged":
            size = rng.randint(1100, 1800)
            base = self.advance(size // 2)
            ids = rng.sample(range(base - size, base + size), size)
            req = sl.make_request(account, None, ids, rng, pattern, spam_share=spam)
            return req
        if pattern in ("chunks", "cancel"):
            base = self.advance(500)
            ids = rng.sample(range(base - 1000, base + 500), 1000)
            return sl.make_request(account, key, ids, rng, pattern, spam_share=spam,
                                   message_len=rng.randint(200, 600),
                                   timeout_ms=rng.randint(1, 40) if pattern == "cancel" else 0)
        # replay: old ids, most of them stored already
        with self.lock:
            top = max(self.frontier - 2000, 100)
        ids = rng.sample(range(0, top), min(50, top))
        return sl.make_request(account, key, ids, rng, pattern, spam_share=spam)


def staged_call(conn, number, req):
    """Puts the request's records in the client's staging table (text columns,
    as COPY leaves a CSV) and imports them with trackly_import_sends_from."""
    table = f"stress_stage_{number}"
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id text, to_number text, timestamp text,"
                 " message text, length text)")
    conn.execute(f"TRUNCATE {table}")
    with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        for r in req.records:
            length = r.get("length")
            copy.write_row((str(r["id"]), r.get("to_number"), r.get("timestamp"), r.get("message"),
                            None if length is None else str(length)))
    return conn.execute(f"SELECT trackly_import_sends_from('{table}', %s)", (req.account,)).fetchone()[0]


def client(number, args, workload, ledger, budget, checked, stop):
    rng = random.Random(args.seed * 1000 + number + (500 if checked else 0))
    conn = sl.connect(args.db)
    cancel_conn = None
    try:
        while not stop.is_set():
            with budget["lock"]:
                if budget["left"] == 0:
                    return
                budget["left"] -= 1
            req = workload.request(rng, checked)
            ledger.attempt(req)
            # Cancels go on a connection of their own, which keeps a short
            # statement_timeout (a timer firing as a statement ends cancels
            # the next statement on its connection).
            if req.timeout_ms and cancel_conn is None:
                cancel_conn = sl.connect(args.db)
            try:
                if req.pattern == "staged":
                    response = staged_call(conn, number, req)
                else:
                    response = sl.call(cancel_conn if req.timeout_ms else conn, req)
            except psycopg.Error as e:
                code = sl.sqlstate_of(e)
                expected = code == "57014" and req.pattern == "cancel"
                ledger.error(code, expected, f"{req.pattern}: {code} {str(e).strip()[:200]}")
                if conn.broken or conn.closed:
                    conn = sl.connect(args.db)
                if cancel_conn is not None and (cancel_conn.broken or cancel_conn.closed):
                    cancel_conn = None
                continue
            ledger.answer(req, response)
            workload.remember(req)
    finally:
        conn.close()
        if cancel_conn is not None:
            cancel_conn.close()


def run_phase(args, workload, ledger, calls, checked):
    budget = {"lock": threading.Lock(), "left": calls}
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(c, args, workload, ledger, budget, checked, stop))
               for c in range(args.clients)]
    for t in threads:
        t.start()
    last = time.monotonic()
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        if time.monotonic() - last >= args.progress:
            last = time.monotonic()
            with ledger.lock:
                print(f"load: {ledger.calls} calls, errors by SQLSTATE {dict(ledger.sqlstates)}",
                      flush=True)
    for t in threads:
        t.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=sl.positive_int, default=8)
    parser.add_argument("--calls", type=sl.positive_int, default=20000)
    parser.add_argument("--checked-share", type=float, default=0.25,
                        help="share of the calls made with a CHECK constraint on trackly.sends")
    parser.add_argument("--patterns", default=",".join(p for p, _ in PATTERNS),
                        help="the patterns to mix (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="trackly_stress", help="database to recreate and use")
    parser.add_argument("--progress", type=float, default=15, help="seconds between progress lines")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--prepared", action="store_true",
                        help="use --db as it is (the extension created in it, and for a Citus cluster "
                             "distributed, no account yet): only its two accounts are made, and it is kept")
    args = parser.parse_args()

    accounts = sl.make_accounts(args.db) if args.prepared else sl.fresh_database(args.db)
    patterns = args.patterns.split(",")
    unknown = set(patterns) - {p for p, _ in PATTERNS}
    if unknown:
        parser.error(f"unknown patterns {sorted(unknown)}; they are {[p for p, _ in PATTERNS]}")
    workload = Workload(accounts, patterns)
    ledger = sl.Ledger(accounts)
    checked_calls = round(args.calls * args.checked_share)
    start = time.monotonic()
    print(f"load: {args.clients} clients, {args.calls} calls "
          f"({checked_calls} with a CHECK constraint on trackly.sends)", flush=True)
    run_phase(args, workload, ledger, args.calls - checked_calls, checked=False)
    if checked_calls:
        with sl.connect(args.db) as conn:
            conn.execute(sl.CHECK_SQL)
        run_phase(args, workload, ledger, checked_calls, checked=True)
    elapsed = time.monotonic() - start

    checks = sl.Checks("load")
    checks.ok(ledger.calls == args.calls, f"all {args.calls} calls were made", f"{ledger.calls}")
    checks.ok(not ledger.unexpected, "no error but the cancels the tool caused (57014)",
              f"{len(ledger.unexpected)}: " + "; ".join(ledger.unexpected[:5]))
    checks.ok(ledger.sqlstates.get("40P01", 0) == 0, "no deadlock (40P01)",
              f"{ledger.sqlstates.get('40P01', 0)}")
    sl.check_response_shape(checks, ledger)
    stored = sl.check_tables(checks, args.db, ledger)
    deadlocks = ledger.sqlstates.get("40P01", 0)
    errors = sum(n for code, n in ledger.sqlstates.items() if code != "57014")
    print(f"load: {ledger.calls} calls in {elapsed:.0f} s ({ledger.calls / elapsed:.0f} calls/s), "
          f"{stored} ids stored, {len(ledger.responses)} answered, "
          f"{ledger.sqlstates.get('57014', 0)} cancelled on purpose (57014), "
          f"errors: {errors}, deadlocks: {deadlocks}, "
          f"by SQLSTATE: {dict(sorted(ledger.sqlstates.items())) or 'none'}", flush=True)
    if not args.keep and not args.prepared:
        sl.drop_database(args.db)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
