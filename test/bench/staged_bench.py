#!/usr/bin/python3
"""staged_bench.py: the staging-table import against COPY and plain SQL.

Run by `test/bench/run staged`.  In a database of its own (trackly_bench_staged,
recreated), it builds a staging table of --rows rows (default 1,000,000) as
`COPY ... FROM` a CSV leaves them (every column text), and the same rows with
typed columns, and writes the CSV the COPY way loads.  Then, in --rounds
interleaved rounds, each on emptied tables after a CHECKPOINT:

  copy    COPY of the CSV (rows already converted) into a table made
          LIKE trackly.sends INCLUDING ALL
  staged  SELECT trackly_import_sends_from('staging', account)       (text columns)
  typed   SELECT trackly_import_sends_from('staging_typed', account) (typed columns)
  sql     INSERT ... SELECT from the staging table with regular-expression
          checks of the phone and the timestamp, ON CONFLICT DO NOTHING

and reports medians with the spread of the rounds.  Then the backend's
private memory (RssAnon, sampled every 0.2 s from another connection) while
one call imports --memory-rows rows (default 10,000,000), and the committing
procedure trackly_load_sends over the same rows: time and rows a second.
Last (--wait-rows, default 2,000,000; 0 skips it), how long an API import
waits behind a staged one: while the staged import of --wait-rows rows runs,
in one call and then through trackly_load_sends (slices of 100,000), another
client sends one-record API imports every 20 ms whose ids the staged import
is writing, and their latencies are reported (median, 99th percentile, max).
It measures; it asserts nothing.
"""
import argparse
import json
import random
import statistics
import threading
import time

import psycopg

DB = "trackly_bench_staged"


def connect(db=DB):
    return psycopg.connect(dbname=db, autocommit=True)


def rows_sql(n):
    return f"""
        SELECT 'hist_' || lpad(g::text, 9, '0') AS id,
               CASE WHEN g % 5 = 0 THEN '42' ELSE '' END AS list_id,
               '+1202555' || lpad((g % 10000)::text, 4, '0') AS to_number,
               'Message number ' || g || ' of the history' AS message,
               'campaign' AS send_type,
               CASE WHEN g % 2 = 0 THEN 'true' ELSE 'false' END AS delivered,
               (20 + g % 40)::text AS length,
               '2025-11-15T14:' || lpad((g % 60)::text, 2, '0') || ':00Z' AS timestamp
          FROM generate_series(1, {int(n)}) g"""


def setup(rows):
    with connect("postgres") as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    with connect() as conn:
        conn.execute("CREATE EXTENSION trackly_history")
        account = conn.execute("SELECT trackly_create_account('Staged bench')").fetchone()[0]
        conn.execute("SELECT trackly_create_list(%s, '+14155551234', 'Main', 42)", (account,))
        conn.execute("CREATE TABLE staging (id text, list_id text, to_number text, message text,"
                     " send_type text, delivered text, length text, timestamp text)")
        conn.execute(f"INSERT INTO staging {rows_sql(rows)}")
        conn.execute("CREATE TABLE staging_typed AS SELECT id, nullif(list_id, '')::bigint AS list_id,"
                     " to_number, message, send_type, delivered::boolean AS delivered, length::int AS length,"
                     " timestamp::timestamptz AS timestamp FROM staging")
        conn.execute("CREATE TABLE copy_sends (LIKE trackly.sends INCLUDING ALL)")
        conn.execute("CREATE TABLE sql_sends (LIKE trackly.sends INCLUDING ALL)")
        # The CSV COPY loads: the rows already converted, as a client would send them.
        conn.execute(f"COPY (SELECT {account}, id, nullif(list_id, '')::bigint, to_number, message, NULL, send_type,"
                     " delivered::boolean, length::int, timestamp::timestamptz, true, 1 FROM staging)"
                     " TO '/tmp/trackly_staged_bench.csv' (FORMAT csv)")
        for t in ("staging", "staging_typed", "copy_sends", "sql_sends", "trackly.sends",
                  "trackly.imports", "trackly.import_errors"):
            conn.execute(f"ALTER TABLE {t} SET (autovacuum_enabled = off)")
        conn.execute("VACUUM ANALYZE staging")
        conn.execute("VACUUM ANALYZE staging_typed")
    return account


WAYS = {
    "copy": "COPY copy_sends FROM '/tmp/trackly_staged_bench.csv' (FORMAT csv)",
    "staged": "SELECT trackly_import_sends_from('staging', {account}) - 'errors'",
    "typed": "SELECT trackly_import_sends_from('staging_typed', {account}) - 'errors'",
    "sql": """INSERT INTO sql_sends (account_id, id, list_id, to_number, message, send_type, delivered,
                                     length, sent_at, imported, import_id)
              SELECT {account}, s.id, nullif(s.list_id, '')::bigint, s.to_number, s.message, s.send_type,
                     nullif(s.delivered, '')::boolean, nullif(s.length, '')::int, s.timestamp::timestamptz, true, 1
                FROM staging s
               WHERE s.to_number ~ '^\\+[1-9][0-9]{{7,14}}$'
                 AND s.timestamp ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[Tt ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]+)?)?(Z|z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)?$'
                 AND (s.list_id = '' OR EXISTS (SELECT FROM trackly.lists l WHERE l.account_id = {account}
                                                   AND l.id = s.list_id::bigint))
              ON CONFLICT (account_id, id) DO NOTHING""",
}
TABLES = {"copy": "copy_sends", "staged": "trackly.sends, trackly.imports, trackly.import_errors",
          "typed": "trackly.sends, trackly.imports, trackly.import_errors", "sql": "sql_sends"}


def rounds(account, n_rounds, ways):
    times = {w: [] for w in ways}
    with connect() as conn:
        for r in range(n_rounds):
            order = ways[r % len(ways):] + ways[:r % len(ways)]
            for way in (order if r % 2 == 0 else order[::-1]):
                conn.execute(f"TRUNCATE {TABLES[way]}")
                conn.execute("CHECKPOINT")
                start = time.perf_counter()
                conn.execute(WAYS[way].format(account=account))
                times[way].append(time.perf_counter() - start)
            print(f"round {r + 1}/{n_rounds} done", flush=True)
    return times


def rss_anon_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def memory_run(account, rows):
    with connect() as conn:
        conn.execute("TRUNCATE staging")
        conn.execute(f"INSERT INTO staging {rows_sql(rows)}")
        conn.execute("VACUUM ANALYZE staging")
        conn.execute("TRUNCATE trackly.sends, trackly.imports, trackly.import_errors")
        conn.execute("CHECKPOINT")
    peak = {"start": 0, "max": 0}
    with connect() as conn:
        pid = conn.info.backend_pid
        conn.execute("SELECT 1")
        peak["start"] = rss_anon_kb(pid)
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak["max"] = max(peak["max"], rss_anon_kb(pid))
                time.sleep(0.2)

        t = threading.Thread(target=sample)
        t.start()
        start = time.perf_counter()
        result = conn.execute(f"SELECT trackly_import_sends_from('staging', {account}) - 'errors'").fetchone()[0]
        seconds = time.perf_counter() - start
        done.set()
        t.join()
    print(f"\n{rows:,} rows in one call: {seconds:.1f} s ({rows / seconds:,.0f} rows a second),"
          f" {result['success_count']:,} stored; the backend's private memory (RssAnon) "
          f"{peak['start'] / 1024:.1f} MB before, {peak['max'] / 1024:.1f} MB at its peak (target: under 100 MB).",
          flush=True)
    with connect() as conn:
        conn.execute("TRUNCATE trackly.sends, trackly.imports, trackly.import_errors")
        conn.execute("CHECKPOINT")
        conn.execute("SET client_min_messages = warning")
        start = time.perf_counter()
        conn.execute(f"CALL trackly_load_sends('staging', {account})")
        proc_seconds = time.perf_counter() - start
        stored = conn.execute("SELECT count(*) FROM trackly.sends").fetchone()[0]
    print(f"trackly_load_sends over the same {rows:,} rows (slices of 100,000, each committed): "
          f"{proc_seconds:.1f} s ({rows / proc_seconds:,.0f} rows a second), {stored:,} stored.", flush=True)


def wait_run(account, rows):
    """API imports' latencies behind a staged import, one call then slices."""
    with connect() as conn:
        conn.execute("TRUNCATE staging")
        conn.execute(f"INSERT INTO staging {rows_sql(rows)}")
        conn.execute("VACUUM ANALYZE staging")
    for label, statement in (("one call", f"SELECT trackly_import_sends_from('staging', {account}) - 'errors'"),
                             ("trackly_load_sends, slices of 100,000", f"CALL trackly_load_sends('staging', {account})")):
        with connect() as conn:
            conn.execute("TRUNCATE trackly.sends, trackly.imports, trackly.import_errors")
            conn.execute("CHECKPOINT")
        latencies = []
        done = threading.Event()

        def api_client():
            rng = random.Random(5)
            with connect() as c:
                while not done.is_set():
                    n = rng.randint(1, rows)
                    body = json.dumps({"records": [{"id": f"hist_{n:09d}", "to_number": "+12025559876",
                                                    "timestamp": "2025-11-15T14:30:00Z"}]})
                    start = time.perf_counter()
                    c.execute("SELECT trackly_import_sends(%s::jsonb, %s)", (body, account))
                    latencies.append(time.perf_counter() - start)
                    time.sleep(0.02)

        with connect() as conn:
            conn.execute("SET client_min_messages = warning")
            t = threading.Thread(target=api_client)
            t.start()
            time.sleep(0.2)
            start = time.perf_counter()
            conn.execute(statement)
            seconds = time.perf_counter() - start
            done.set()
            t.join()
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"API imports behind a staged import of {rows:,} rows ({label}, {seconds:.1f} s): "
              f"{len(latencies)} calls, latency median {1000 * statistics.median(latencies):.1f} ms, "
              f"99th percentile {1000 * p99:.0f} ms, max {1000 * latencies[-1]:.0f} ms.", flush=True)


def med(values):
    m = statistics.median(values)
    return m, (max(values) - min(values)) / m


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ways", default="copy,staged,typed,sql")
    parser.add_argument("--memory-rows", type=int, default=10_000_000, help="0: skip")
    parser.add_argument("--wait-rows", type=int, default=2_000_000, help="0: skip")
    args = parser.parse_args()
    ways = args.ways.split(",")
    account = setup(args.rows)
    if args.rounds == 0:
        if args.memory_rows:
            memory_run(account, args.memory_rows)
        if args.wait_rows:
            wait_run(account, args.wait_rows)
        return
    times = rounds(account, args.rounds, ways)
    copy_median = med(times["copy"])[0] if "copy" in times else None
    print(f"\n## Staged import: {args.rows:,} rows, medians of {args.rounds} interleaved rounds\n")
    print("| way | seconds (spread) | rows a second | time / COPY's | rounds |")
    print("|---|---:|---:|---:|---|")
    for way in ways:
        m, spread = med(times[way])
        ratio = f"{m / copy_median:.2f} x" if copy_median else "n/a"
        print(f"| {way} | {m:.2f} ({spread:.0%}) | {args.rows / m:,.0f} | {ratio} | "
              + " / ".join(f"{t:.2f}" for t in times[way]) + " |")
    if "sql" in times and "staged" in times:
        print(f"\nstaged import {med(times['sql'])[0] / med(times['staged'])[0]:.1f} x faster than plain SQL;"
              f" targets: staged <= 1.25 x COPY, >= 3 x faster than plain SQL.")
    if args.memory_rows:
        memory_run(account, args.memory_rows)
    if args.wait_rows:
        wait_run(account, args.wait_rows)


if __name__ == "__main__":
    main()
