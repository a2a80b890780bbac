#!/usr/bin/python3
"""validators_sql.py: per-row cost of the SQL-callable validators.

    /usr/bin/python3 test/bench/validators_sql.py [--rows 1000000] [--rounds 7]

Compares, over tables of generated strings (default 1M rows each):

  - trackly_is_e164(s)  with the regex a user would otherwise write,
    s ~ '^\\+[1-9][0-9]{1,14}$', over phone numbers (about 90 % valid, the
    rest of the kinds a real import meets);
  - trackly_iso8601(s) and trackly_is_iso8601(s) with PostgreSQL's own
    s::timestamptz, over valid ISO 8601 date-times only (the cast raises on
    anything invalid).

Each expression is measured as `SELECT count(*) FILTER (WHERE expr) FROM t`;
the baseline `count(*) FILTER (WHERE s IS NOT NULL)`, which reads and deforms
the same column, is subtracted, leaving the expression's cost per row.  The
queries run in one backend without parallel workers or JIT, on tables that
are vacuumed and already in shared_buffers; every round runs every query
once, in an order that rotates from round to round, and medians are
reported.  It measures; it asserts nothing.
"""

import argparse
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
import benchlib  # noqa: E402

# The regex a user would write instead of trackly_is_e164.
E164_REGEX = r"^\+[1-9][0-9]{1,14}$"

PHONES_SQL = r"""
CREATE TABLE bench.v_phones AS
SELECT CASE
         WHEN r < 0.90 THEN
           CASE
             WHEN c < 0.70 THEN '+1' || (2 + floor(random() * 8))::int
                                || lpad(floor(random() * 1e9)::bigint::text, 9, '0')
             WHEN c < 0.80 THEN '+447' || lpad(floor(random() * 1e9)::bigint::text, 9, '0')
             WHEN c < 0.86 THEN '+4915' || lpad(floor(random() * 1e9)::bigint::text, 9, '0')
             WHEN c < 0.92 THEN '+336' || lpad(floor(random() * 1e8)::bigint::text, 8, '0')
             ELSE '+919' || lpad(floor(random() * 1e9)::bigint::text, 9, '0')
           END
         ELSE
           CASE floor(c * 6)::int
             WHEN 0 THEN '415' || lpad(floor(random() * 1e7)::bigint::text, 7, '0')       -- no +
             WHEN 1 THEN '+1 415 ' || lpad(floor(random() * 1e3)::int::text, 3, '0')
                         || ' ' || lpad(floor(random() * 1e4)::int::text, 4, '0')       -- spaces
             WHEN 2 THEN '+1415' || lpad(floor(random() * 1e6)::bigint::text, 6, '0')     -- 1 digit short
             WHEN 3 THEN '+999' || lpad(floor(random() * 1e8)::bigint::text, 8, '0')      -- unassigned code
             WHEN 4 THEN '+44' || lpad(floor(random() * 1e13)::bigint::text, 13, '0')     -- 16 digits
             ELSE '(415) 555-' || lpad(floor(random() * 1e4)::int::text, 4, '0')
           END
       END AS s
  FROM (SELECT random() AS r, random() AS c FROM generate_series(1, %(rows)s)) g
"""

STAMPS_SQL = r"""
CREATE TABLE bench.v_stamps AS
SELECT CASE
         WHEN shape < 0.70 THEN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
         WHEN shape < 0.82 THEN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
         WHEN shape < 0.92 THEN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS') || '+02:00'
         WHEN shape < 0.96 THEN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.US') || '-05:30'
         ELSE to_char(t, 'YYYY-MM-DD HH24:MI:SS"Z"')
       END AS s
  FROM (SELECT timestamp '2020-01-01' + random() * interval '6 years' AS t, random() AS shape
          FROM generate_series(1, %(rows)s)) g
"""

# (name, table, expression); the baselines only read the column.
QUERIES = [
    ("baseline phones", "bench.v_phones", "s IS NOT NULL"),
    ("trackly_is_e164(s)", "bench.v_phones", "trackly_is_e164(s)"),
    ("s ~ '%s'" % E164_REGEX, "bench.v_phones", "s ~ '%s'" % E164_REGEX),
    ("baseline stamps", "bench.v_stamps", "s IS NOT NULL"),
    ("trackly_iso8601(s)", "bench.v_stamps", "trackly_iso8601(s) IS NOT NULL"),
    ("trackly_is_iso8601(s)", "bench.v_stamps", "trackly_is_iso8601(s)"),
    ("s::timestamptz", "bench.v_stamps", "s::timestamptz IS NOT NULL"),
]


def build_tables(conn, rows, rebuild):
    """Creates the two tables of strings, unless they already have rows rows."""
    with conn.cursor() as cur:
        for table, sql in (("bench.v_phones", PHONES_SQL), ("bench.v_stamps", STAMPS_SQL)):
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            exists = cur.fetchone()[0]
            if exists and not rebuild:
                cur.execute("SELECT count(*) FROM " + table)
                if cur.fetchone()[0] == rows:
                    continue
            cur.execute("DROP TABLE IF EXISTS " + table)
            cur.execute("SELECT setseed(0.42)")
            cur.execute(sql % {"rows": int(rows)})
            cur.execute("VACUUM (FREEZE, ANALYZE) " + table)


def describe_data(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE trackly_is_e164(s)),"
                    " count(*) FILTER (WHERE s ~ %s) FROM bench.v_phones", (E164_REGEX,))
        n, valid, regex = cur.fetchone()
        cur.execute("SELECT count(*), count(*) FILTER (WHERE trackly_is_iso8601(s)),"
                    " pg_size_pretty(pg_total_relation_size('bench.v_stamps')),"
                    " pg_size_pretty(pg_total_relation_size('bench.v_phones'))"
                    " FROM bench.v_stamps")
        ns, svalid, ssize, psize = cur.fetchone()
        cur.execute("SELECT s FROM bench.v_phones LIMIT 3")
        phone_examples = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT s FROM bench.v_stamps LIMIT 3")
        stamp_examples = [r[0] for r in cur.fetchall()]
    return [
        "- bench.v_phones: %d rows (%s); %.1f %% valid for trackly_is_e164, %.1f %% match the regex; e.g. %s"
        % (n, psize, 100.0 * valid / n, 100.0 * regex / n, ", ".join(phone_examples)),
        "- bench.v_stamps: %d rows (%s); %.1f %% valid for trackly_is_iso8601 (all valid for the cast); e.g. %s"
        % (ns, ssize, 100.0 * svalid / ns, ", ".join(stamp_examples)),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000000, help="strings per table (default 1000000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--db", default=benchlib.DEFAULT_DB, help="database (default trackly_bench)")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the tables of strings")
    args = parser.parse_args()

    conn = benchlib.ensure_database(args.db)
    facts = benchlib.machine_facts(conn)  # the server's settings, before this session's SETs
    build_tables(conn, args.rows, args.rebuild)
    with conn.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute("SET jit = off")
        cur.execute("SET TimeZone = 'UTC'")

    def run(expr, table):
        with conn.cursor() as cur:
            seconds, _ = benchlib.timed(cur.execute, "SELECT count(*) FILTER (WHERE %s) FROM %s" % (expr, table))
            cur.fetchall()
        return seconds

    for _, table, expr in QUERIES:  # warm-up: shared_buffers, regex cache
        run(expr, table)
    times = {name: [] for name, _, _ in QUERIES}
    for r in range(args.rounds):
        order = QUERIES[r % len(QUERIES):] + QUERIES[:r % len(QUERIES)]
        if r % 2:
            order.reverse()
        for name, table, expr in order:
            times[name].append(run(expr, table))
        print("round %d/%d done" % (r + 1, args.rounds), file=sys.stderr)

    ns = {name: benchlib.median(t) * 1e9 / args.rows for name, t in times.items()}
    base = {"bench.v_phones": ns["baseline phones"], "bench.v_stamps": ns["baseline stamps"]}
    net = {name: ns[name] - base[table] for name, table, _ in QUERIES}

    print("## SQL validators: cost per row (%d rows, median of %d interleaved rounds)\n"
          % (args.rows, args.rounds))
    rows = []
    for name, table, _ in QUERIES:
        if name.startswith("baseline"):
            rows.append(["`count(*) FILTER (WHERE s IS NOT NULL)` on %s (baseline)" % table,
                         "%.1f" % ns[name], "", ""])
        else:
            rows.append(["`%s`" % name, "%.1f" % ns[name], "%.1f" % net[name], ""])
    regex_name = QUERIES[2][0]
    rows[2][3] = "%.2f x trackly_is_e164" % (net[regex_name] / net["trackly_is_e164(s)"])
    rows[6][3] = "%.2f x trackly_iso8601" % (net["s::timestamptz"] / net["trackly_iso8601(s)"])
    rows[5][3] = "%.2f x trackly_iso8601" % (net["trackly_is_iso8601(s)"] / net["trackly_iso8601(s)"])
    print(benchlib.markdown_table(["query", "ns/row", "ns/row minus baseline", "ratio"], rows, "lrrl"))
    print()
    print("Data:")
    print("\n".join(describe_data(conn)))
    print()
    print("Machine:")
    print("\n".join(facts))
    print("- this benchmark: max_parallel_workers_per_gather=0, jit=off, TimeZone=UTC in its session")


if __name__ == "__main__":
    main()
