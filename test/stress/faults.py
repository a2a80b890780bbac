#!/usr/bin/python3
"""faults.py: imports that are cancelled, or whose server process is killed,
keep nothing, and clients that retry finish with every id stored once.

1. Cancel: an import that has written rows and waits for an id another
   transaction holds is cancelled (pg_cancel_backend): 57014, and none of its
   rows, imports row or import_errors rows is kept.
2. Kill: while --clients clients import overlapping ids, a backend in the
   middle of a large import is killed with SIGKILL, --kills times.
   PostgreSQL then ends every session and recovers: the clients see 57P02 or
   a dropped connection, and 57P03 while recovery runs; no other error is
   allowed.  Right after recovery none of the killed import's rows is
   stored.  Every client retries what failed until it is answered; then
   every valid id of an answered call is stored once, only ids of valid
   records sent are stored, and each import's counts add up to what
   trackly.sends and trackly.import_errors hold.

Needs the right to send SIGKILL to the server's processes (root, or the
server's user).  It talks only to the cluster the PG* environment names.
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time

import psycopg

import stresslib as sl

# Errors a client may see while the server crashes and recovers.
CRASH_CODES = {"57P02", "57P03", "connection-lost", "08000", "08003", "08006", "08001"}
VICTIM_BASE = 10 ** 7      # the victim's ids lie above every other client's


def kill_backend(pid):
    """SIGKILL to a server process, as this user or as the server's."""
    try:
        os.kill(pid, signal.SIGKILL)
    except PermissionError:
        subprocess.run(["runuser", "-u", "postgres", "--", "kill", "-KILL", str(pid)], check=True)


def wait_until_waiting(db, pid, seconds=30):
    """Waits until backend pid waits for a lock; false if it does not within seconds."""
    with sl.connect(db) as watcher:
        for _ in range(seconds * 20):
            row = watcher.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                  (pid,)).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.05)
    return False


def test_cancel(checks, db, accounts):
    account, _ = accounts[0]
    rng = random.Random(7)
    holder = sl.connect(db, autocommit=False)
    victim = sl.connect(db)
    try:
        # The holder takes id 5000 and keeps its transaction open.
        holder.execute("SELECT trackly_import_sends(%s::jsonb, %s)",
                       (sl.make_request(account, None, [5000], rng, "hold", 0).body, account))
        req = sl.make_request(account, None, range(4001, 5001), rng, "cancel", 0, message_len=300)
        result = {}

        def run():
            try:
                result["response"] = sl.call(victim, req)
            except psycopg.Error as e:
                result["code"] = sl.sqlstate_of(e)

        t = threading.Thread(target=run)
        t.start()
        pid = victim.info.backend_pid
        with sl.connect(db) as watcher:
            # It has written the ids below 5000 when it waits for the holder.
            checks.ok(wait_until_waiting(db, pid), "the import waits for the id another transaction holds")
            watcher.execute("SELECT pg_cancel_backend(%s)", (pid,))
            t.join(60)
            checks.ok(result.get("code") == "57014", "the cancelled import fails with 57014",
                      f"{result}")
            holder.rollback()
            kept = watcher.execute(
                "SELECT (SELECT count(*) FROM trackly.sends WHERE account_id = %s),"
                "       (SELECT count(*) FROM trackly.imports WHERE account_id = %s),"
                "       (SELECT count(*) FROM trackly.import_errors WHERE account_id = %s)",
                (account, account, account)).fetchone()
            checks.ok(kept == (0, 0, 0), "the cancelled import kept no row of sends, imports or import_errors",
                      f"{kept}")
    finally:
        holder.close()
        victim.close()


class Crashes:
    """The errors the clients saw, shared."""

    def __init__(self):
        self.lock = threading.Lock()
        self.codes = {}
        self.unexpected = []

    def saw(self, code, what):
        with self.lock:
            self.codes[code] = self.codes.get(code, 0) + 1
            if code not in CRASH_CODES:
                self.unexpected.append(f"{code} {what[:200]}")


def call_until_answered(db, conn_box, req, ledger, crashes, stop_time):
    """Sends req until it is answered, reconnecting after a crash."""
    while time.monotonic() < stop_time:
        try:
            if conn_box[0] is None or conn_box[0].closed or conn_box[0].broken:
                conn_box[0] = sl.connect(db, connect_timeout=5)
            response = sl.call(conn_box[0], req)
            ledger.answer(req, response)
            return True
        except psycopg.Error as e:
            crashes.saw(sl.sqlstate_of(e), str(e))
            time.sleep(0.1)
    return False


def worker(number, db, accounts, calls, frontier, ledger, crashes, stop_time, kills_done):
    """Imports windows of overlapping ids: at least `calls` calls, and on until the kills are done."""
    rng = random.Random(number)
    conn_box = [None]
    made = 0
    while made < calls or not kills_done.is_set():
        made += 1
        with frontier["lock"]:
            base = frontier["next"]
            frontier["next"] += 20
        account, key = rng.choice(accounts)
        ids = rng.sample(range(base - 60, base + 60), rng.randint(20, 80))
        req = sl.make_request(account, key if rng.random() < 0.3 else None, ids, rng, "window")
        ledger.attempt(req)
        if not call_until_answered(db, conn_box, req, ledger, crashes, stop_time):
            return
    if conn_box[0] is not None:
        conn_box[0].close()


def test_kill(checks, args, accounts):
    ledger = sl.Ledger(accounts)
    crashes = Crashes()
    frontier = {"lock": threading.Lock(), "next": 100}
    stop_time = time.monotonic() + args.seconds
    kills_done = threading.Event()
    workers = [threading.Thread(target=worker, args=(c, args.db, accounts, args.calls, frontier,
                                                     ledger, crashes, stop_time, kills_done))
               for c in range(args.clients)]
    for t in workers:
        t.start()

    rng = random.Random(11)
    account, _ = accounts[1]
    killed_clean = []
    recovery_codes = {}
    for k in range(args.kills):
        ids = range(VICTIM_BASE + k * 1000, VICTIM_BASE + k * 1000 + 1000)
        req = sl.make_request(account, None, ids, rng, "victim", message_len=2000)
        ledger.attempt(req)
        victim = sl.connect(args.db)
        pid = victim.info.backend_pid
        outcome = {}
        # Every other kill, another transaction holds the last id: the import
        # writes the others, waits for it, and is killed there.  The others
        # are killed a few milliseconds in, wherever the import then is.
        holder = None
        if k % 2 == 0:
            holder = sl.connect(args.db, autocommit=False)
            holder.execute("SELECT trackly_import_sends(%s::jsonb, %s)",
                           (sl.make_request(account, None, [ids[-1]], rng, "hold", 0).body, account))

        def run():
            try:
                outcome["response"] = sl.call(victim, req)
            except psycopg.Error as e:
                outcome["code"] = sl.sqlstate_of(e)

        time.sleep(rng.uniform(0.2, 1.0))     # let the clients get going
        t = threading.Thread(target=run)
        t.start()
        if holder is not None:
            wait_until_waiting(args.db, pid)
        else:
            time.sleep(rng.uniform(0.02, 0.15))
        kill_backend(pid)
        t.join(60)
        victim.close()
        if holder is not None:
            holder.close()
        for code, n in sl.wait_for_server(args.db).items():
            recovery_codes[code] = recovery_codes.get(code, 0) + n
        with sl.connect(args.db) as conn:
            left = conn.execute("SELECT count(*) FROM trackly.sends WHERE account_id = %s"
                                " AND id >= %s AND id < %s AND length(id) = 8",
                                (account, str(ids[0]), str(ids[-1] + 1))).fetchone()[0]
        if "response" in outcome:
            ledger.answer(req, outcome["response"])   # it finished before the signal
        else:
            killed_clean.append(left)
            # The client retries what failed.
            if not call_until_answered(args.db, [None], req, ledger, crashes, stop_time):
                killed_clean.append(-1)
    kills_done.set()
    for t in workers:
        t.join()

    checks.ok(len(killed_clean) > 0, "at least one import was killed in its middle",
              f"{args.kills} kills, every import finished first")
    checks.ok(all(n == 0 for n in killed_clean),
              "after recovery, no row of a killed import is stored", f"rows left: {killed_clean}")
    checks.ok(not crashes.unexpected, "the clients saw only 57P02, 57P03 and dropped connections",
              "; ".join(crashes.unexpected[:5]))
    checks.ok(set(recovery_codes) <= CRASH_CODES, "reconnecting during recovery saw only 57P03 or a refusal",
              f"{recovery_codes}")
    answered = len(ledger.responses)
    want = ledger.attempts
    checks.ok(answered == want, "every call was answered in the end (retries included)",
              f"{answered} of {want}")
    sl.check_response_shape(checks, ledger)
    stored = sl.check_tables(checks, args.db, ledger, exact_calls=False)
    print(f"faults: {args.kills} kills, {len(killed_clean)} in the middle of an import, "
          f"{answered} calls answered, {stored} ids stored, "
          f"client errors by SQLSTATE: {dict(sorted(crashes.codes.items()))}, "
          f"while reconnecting: {recovery_codes}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=sl.positive_int, default=4)
    parser.add_argument("--calls", type=sl.positive_int, default=150, help="calls per client")
    parser.add_argument("--kills", type=sl.positive_int, default=3)
    parser.add_argument("--seconds", type=sl.positive_int, default=240, help="longest a client retries")
    parser.add_argument("--db", default="trackly_faults")
    args = parser.parse_args()

    checks = sl.Checks("faults")
    accounts = sl.fresh_database(args.db)
    test_cancel(checks, args.db, accounts)
    accounts = sl.fresh_database(args.db)
    # The throwaway cluster commits asynchronously; a crash may then lose the
    # last commits, answered or not.  Here every commit waits for its WAL.
    with sl.connect(args.db) as conn:
        conn.execute(f'ALTER DATABASE "{args.db}" SET synchronous_commit = on')
    test_kill(checks, args, accounts)
    sl.drop_database(args.db)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
