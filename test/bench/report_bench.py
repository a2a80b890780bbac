#!/usr/bin/python3
"""report_bench.py: the send report against the plain GROUP BY over trackly.sends.

Run by `test/bench/run report`.  For each size (--sizes, default 1,000,000
and 10,000,000 sends), a fresh database holds one account with a year of
sends (2025, evenly spread; 5 send types, 3 lists, 3 creatives, delivered
true, false and unknown), written with INSERT ... SELECT generate_series in
statements of 1,000,000 rows, so that the rollup's trigger counts them as any
writer's rows are counted; then trackly_compact_send_stats() and VACUUM
ANALYZE, as a scheduled compaction and autovacuum leave the tables, and a
CHECKPOINT, so that the load's dirty pages are not written during the timed
rounds.

Queries, warm (each run once before timing), interleaved over --rounds rounds:

  report                trackly_report(body, account): a year by day, in UTC
                        (the rollup's hour rows)
  report by type        the same grouped by send_type
  report, Kathmandu     the same in Asia/Kathmandu (+05:45: hour rows, and the
                        quarter-hour rows of the hour each day begins inside)
  report by type, Kathmandu
  report by list        grouped by list_id (read from trackly.sends)
  GROUP BY              the same counts as one GROUP BY over trackly.sends
  GROUP BY type         ... grouped by send_type too
  (the report by list and the GROUP BY ways run --direct-rounds rounds: they
  take seconds)

Each report is checked against its GROUP BY over trackly.sends (same rows).
Figures: the median and the spread (min to max) of the elapsed time of each
query, as the client sees it: until the answer's text has arrived (each query
is timed as SELECT (...)::text, so that psycopg's decoding of a 250 kB JSON
answer into Python objects, the client's own work, is not counted).  Target: each report without list or creative
at most 50 ms at both sizes (the report by list has none: it reads the sends).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402

DB = "trackly_bench_report"
TARGET_MS = 50.0
BODY = {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "day"}

LOAD = """
INSERT INTO trackly.sends (account_id, id, list_id, to_number, creative_id, send_type, delivered, sent_at, imported)
SELECT %(account)s, 'b' || i, 1 + i %% 3, '+14155551234', 1 + (i / 7) %% 3,
       (ARRAY['campaign', 'alert', 'otp', 'news', 'survey'])[1 + i %% 5],
       CASE i %% 10 WHEN 0 THEN NULL WHEN 1 THEN false ELSE true END,
       '2025-01-01T00:00:00Z'::timestamptz + (i - 1) * (interval '365 days' / %(size)s), true
  FROM generate_series(%(first)s, %(last)s) i
"""

DIRECT = """
SELECT jsonb_agg(jsonb_build_object('period', g.period%(fields)s, 'sends', g.n, 'delivered', g.y,
                                    'undelivered', g.u, 'unknown', g.n - g.y - g.u,
                                    'delivery_rate', round(g.y::numeric / nullif(g.y + g.u, 0), 4))
                 ORDER BY g.period%(order)s)
  FROM (SELECT date_trunc('day', sent_at AT TIME ZONE '%(zone)s')::date AS period%(columns)s, count(*) AS n,
               count(*) FILTER (WHERE delivered) AS y, count(*) FILTER (WHERE NOT delivered) AS u
          FROM trackly.sends
         WHERE account_id = %%s AND sent_at >= '2025-01-01T00:00:00Z' AND sent_at < '2026-01-01T00:00:00Z'
         GROUP BY 1%(columns)s) g
"""


def direct_query(key=None, zone="UTC"):
    if key is None:
        return DIRECT % {"fields": "", "order": "", "columns": "", "zone": zone}
    return DIRECT % {"fields": f", '{key}', g.{key}", "order": f', g.{key} COLLATE "C" NULLS LAST'
                     if key == "send_type" else f", g.{key} NULLS LAST", "columns": f", {key}", "zone": zone}


def load(size):
    benchlib.ensure_database(DB, fresh=True)
    conn = benchlib.connect(DB)
    with conn.cursor() as cur:
        cur.execute("SELECT trackly_create_account('Report bench')")
        account = cur.fetchone()[0]
        started = time.perf_counter()
        for first in range(1, size + 1, 1_000_000):
            cur.execute(LOAD % {"account": account, "size": size, "first": first,
                                "last": min(size, first + 999_999)})
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        cur.execute("SELECT trackly_compact_send_stats()")
        removed = cur.fetchone()[0]
        compacted = time.perf_counter() - started
        cur.execute("VACUUM ANALYZE trackly.sends")
        cur.execute("VACUUM ANALYZE trackly.send_stats")
        # The load's dirty pages written now, not by the checkpointer during the timed rounds.
        cur.execute("CHECKPOINT")
        cur.execute("SELECT count(*) FILTER (WHERE NOT hourly), count(*) FILTER (WHERE hourly) FROM trackly.send_stats")
        quarter_rows, hour_rows = cur.fetchone()
    print(f"{size:,} sends: loaded in {loaded:.1f} s (the trigger counting them), compacted in {compacted:.1f} s"
          f" ({removed:,} rollup rows removed); the rollup holds {quarter_rows:,} quarter-hour rows and"
          f" {hour_rows:,} hour rows", flush=True)
    return conn, account


KATHMANDU = "Asia/Kathmandu"


def report(body):
    return ("SELECT trackly_report(%s, %s)", body)


def measure(conn, account, rounds, direct_rounds):
    # name: (query, body or None, the direct query its rows must equal, timed every round)
    ways = {
        "report": (*report(BODY), direct_query(), True),
        "report by send_type": (*report(dict(BODY, group_by=["send_type"])), direct_query("send_type"), True),
        "report, Asia/Kathmandu": (*report(dict(BODY, time_zone=KATHMANDU)), direct_query(zone=KATHMANDU), True),
        "report by send_type, Asia/Kathmandu": (*report(dict(BODY, group_by=["send_type"], time_zone=KATHMANDU)),
                                                direct_query("send_type", KATHMANDU), True),
        "report by list_id (from sends)": (*report(dict(BODY, group_by=["list_id"])), direct_query("list_id"), False),
        "GROUP BY over sends": (direct_query(), None, None, False),
        "GROUP BY send_type over sends": (direct_query("send_type"), None, None, False),
    }
    with conn.cursor() as cur:
        for name, (query, body, direct, _) in ways.items():
            cur.execute(query, [json.dumps(body), account] if body is not None else [account])
            answer = cur.fetchone()[0]
            if direct is None:
                continue
            cur.execute(direct, [account])
            if answer["rows"] != cur.fetchone()[0]:
                raise SystemExit(f"{name} differs from the GROUP BY over trackly.sends")
            print(f"  {name}: {len(answer['rows'])} rows, equal to the GROUP BY over trackly.sends", flush=True)
    times = {name: [] for name in ways}
    with conn.cursor() as cur:
        for r in range(rounds):
            for name, (query, body, _, every_round) in ways.items():
                params = [json.dumps(body), account] if body is not None else [account]
                if not every_round and r >= direct_rounds:
                    continue
                # The answer as its text, as an HTTP client receives it: the
                # time until it has arrived, without this client's JSON decoding.
                elapsed, _ = benchlib.timed(lambda: (cur.execute("SELECT (%s)::text" % query, params),
                                                     cur.fetchone()))
                times[name].append(elapsed * 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="sends per run, comma-separated")
    parser.add_argument("--rounds", type=int, default=21, help="rounds of the report queries")
    parser.add_argument("--direct-rounds", type=int, default=3,
                        help="rounds of the report by list and the GROUP BY queries")
    args = parser.parse_args()
    rows = []
    conn = None
    for size in [int(s) for s in args.sizes.split(",")]:
        conn, account = load(size)
        times = measure(conn, account, args.rounds, args.direct_rounds)
        for name, values in times.items():
            median = benchlib.median(values)
            verdict = ""
            if name.startswith("report") and "list_id" not in name:
                verdict = "met" if median <= TARGET_MS else "NOT met"
            rows.append([f"{size:,}", name, len(values), f"{median:.1f}", f"{min(values):.1f} – {max(values):.1f}",
                         verdict])
    print()
    print(benchlib.markdown_table(["sends", "query (a year by day)", "runs", "median ms", "spread ms",
                                   f"target {TARGET_MS:.0f} ms"], rows, "lllrrl"))
    print()
    for line in benchlib.machine_facts(conn):
        print(line)


if __name__ == "__main__":
    main()
