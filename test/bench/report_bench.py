#!/usr/bin/python3
"""report_bench.py: the send report against the plain GROUP BY over trackly.sends.

Run by `test/bench/run report`.  For each size (--sizes, default 1,000,000
and 10,000,000 sends), a fresh database holds one account with a year of
sends (2025, evenly spread; 5 send types, 3 lists, 3 creatives, delivered
true, false and unknown), written with INSERT ... SELECT generate_series in
statements of 1,000,000 rows, so that the rollup's trigger counts them as any
writer's rows are counted; then trackly_compact_send_stats() and VACUUM
ANALYZE, as a scheduled compaction and autovacuum leave the tables.

Queries, warm (each run once before timing), interleaved over --rounds rounds:

  report           trackly_report(body, account): a year by day, in UTC
  report by type   the same grouped by send_type
  GROUP BY         the same counts as one GROUP BY over trackly.sends
  GROUP BY type    ... grouped by send_type too
  (the GROUP BY ways run --direct-rounds rounds: they take seconds)

Each report is checked against its GROUP BY (same rows).  Figures: the
median and the spread (min to max) of the elapsed time of each query, as the
client sees it.  Target: each report at most 50 ms at both sizes.
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
  FROM (SELECT date_trunc('day', sent_at AT TIME ZONE 'UTC')::date AS period%(columns)s, count(*) AS n,
               count(*) FILTER (WHERE delivered) AS y, count(*) FILTER (WHERE NOT delivered) AS u
          FROM trackly.sends
         WHERE account_id = %%s AND sent_at >= '2025-01-01T00:00:00Z' AND sent_at < '2026-01-01T00:00:00Z'
         GROUP BY 1%(columns)s) g
"""


def direct_query(group_by):
    if not group_by:
        return DIRECT % {"fields": "", "order": "", "columns": ""}
    return DIRECT % {"fields": ", 'send_type', g.send_type", "order": ', g.send_type COLLATE "C"',
                     "columns": ", send_type"}


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
        cur.execute("SELECT count(*), count(*) FILTER (WHERE NOT detailed) FROM trackly.send_stats")
        rows, summary_rows = cur.fetchone()
    print(f"{size:,} sends: loaded in {loaded:.1f} s (the trigger counting them), compacted in {compacted:.1f} s"
          f" ({removed:,} rollup rows removed); the rollup holds {rows:,} rows, {summary_rows:,} of them"
          " without list and creative", flush=True)
    return conn, account


def measure(conn, account, rounds, direct_rounds):
    ways = {
        "report": ("SELECT trackly_report(%s, %s)", [json.dumps(BODY), account]),
        "report by send_type": ("SELECT trackly_report(%s, %s)",
                                [json.dumps(dict(BODY, group_by=["send_type"])), account]),
        "GROUP BY over sends": (direct_query(False), [account]),
        "GROUP BY send_type over sends": (direct_query(True), [account]),
    }
    answers = {}
    with conn.cursor() as cur:
        for name, (query, params) in ways.items():
            cur.execute(query, params)
            answers[name] = cur.fetchone()[0]
    for report, direct in (("report", "GROUP BY over sends"), ("report by send_type", "GROUP BY send_type over sends")):
        rows = answers[report]["rows"]
        if rows != answers[direct]:
            raise SystemExit(f"{report} differs from {direct}")
        print(f"  {report}: {len(rows)} rows, equal to the {direct}", flush=True)
    times = {name: [] for name in ways}
    with conn.cursor() as cur:
        for r in range(rounds):
            for name, (query, params) in ways.items():
                if name.startswith("GROUP BY") and r >= direct_rounds:
                    continue
                elapsed, _ = benchlib.timed(lambda: (cur.execute(query, params), cur.fetchone()))
                times[name].append(elapsed * 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="sends per run, comma-separated")
    parser.add_argument("--rounds", type=int, default=21, help="rounds of the report queries")
    parser.add_argument("--direct-rounds", type=int, default=3, help="rounds of the GROUP BY queries")
    args = parser.parse_args()
    rows = []
    conn = None
    for size in [int(s) for s in args.sizes.split(",")]:
        conn, account = load(size)
        times = measure(conn, account, args.rounds, args.direct_rounds)
        for name, values in times.items():
            median = benchlib.median(values)
            verdict = ""
            if name.startswith("report"):
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
