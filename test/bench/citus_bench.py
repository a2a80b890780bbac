#!/usr/bin/python3
"""citus_bench.py: the import through a Citus coordinator against Citus's own COPY.

Run by `test/bench/run citus`, which first runs test/citus/run (it builds
Citus when missing and leaves a coordinator and two workers running on
127.0.0.1:54340-54342, the extension distributed).  It measures, it asserts
nothing but the counts.

Two accounts whose shards are on different workers; --records records (the
import benchmark's, without lists) split between them, in requests of 1,000;
two clients, one per account, at once.  Ways, interleaved over --rounds
rounds, each on emptied tables:

  import   trackly_import_sends(body, account) through the coordinator
  copy     COPY ... FROM STDIN through the coordinator into a table made like
           trackly.sends and distributed the same way (the rows converted by
           the client beforehand), 1,000 rows per COPY

Figure: the median over the rounds of each round's import time over its COPY
time.  Target (the Citus issue): at most 2 x (aim 1.5 x).
"""
import argparse
import json
import os
import statistics
import sys
import time

import psycopg

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402
from import_bench import SEND_COLUMNS, copy_data, generate_records  # noqa: E402

PORT = int(os.environ.get("TRACKLY_CITUS_PORT", "54340"))
DB = "trackly_citus"
TARGET = 2.0


def connect():
    return psycopg.connect(host="127.0.0.1", port=PORT, dbname=DB, user="postgres", autocommit=True,
                           prepare_threshold=None)


def two_accounts(conn):
    """Two new accounts whose rows live on different workers."""
    by_port = {}
    while len(by_port) < 2:
        account = conn.execute("SELECT trackly_create_account('citus bench')").fetchone()[0]
        port = conn.execute("SELECT p.nodeport FROM pg_dist_shard_placement p"
                            " WHERE p.shardid = get_shard_id_for_distribution_column('trackly.sends', %s)",
                            (account,)).fetchone()[0]
        by_port.setdefault(port, account)
    return sorted(by_port.values())


def requests_for(records, account, run):
    bodies, copies = [], []
    for start in range(0, len(records), 1000):
        chunk = [dict(r, id="%s_%s" % (run, r["id"])) for r in records[start:start + 1000]]
        bodies.append(json.dumps({"records": chunk}))
        copies.append(copy_data(chunk, account, 0))
    return bodies, copies


def import_client(account, bodies, stored):
    with connect() as conn:
        for body in bodies:
            stored.append(conn.execute("SELECT trackly_import_sends(%s::jsonb, %s)",
                                       (body, account)).fetchone()[0]["success_count"])


def copy_client(copies):
    with connect() as conn:
        with conn.cursor() as cur:
            for data in copies:
                with cur.copy("COPY bench_copy_sends (%s) FROM STDIN" % ", ".join(SEND_COLUMNS)) as copy:
                    copy.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200000, help="records per run, both accounts (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()

    conn = connect()
    conn.execute("SET client_min_messages = warning")
    conn.execute("DROP TABLE IF EXISTS bench_copy_sends")
    conn.execute("CREATE TABLE bench_copy_sends (LIKE trackly.sends INCLUDING ALL)")
    conn.execute("SELECT create_distributed_table('bench_copy_sends', 'account_id', colocate_with => 'trackly.sends')")
    accounts = two_accounts(conn)
    records = [{k: v for k, v in r.items() if k not in ("list_id", "list_number")}
               for r in generate_records(args.records // 2, 20251202)]
    stamp = int(time.time())

    seconds = {"import": [], "copy": []}
    for r in range(args.rounds):
        for way in (("import", "copy") if r % 2 == 0 else ("copy", "import")):
            conn.execute("TRUNCATE bench_copy_sends")
            conn.execute("DELETE FROM trackly.sends WHERE account_id = ANY (%s)", (accounts,))
            work = []
            stored = []
            for a in accounts:
                bodies, copies = requests_for(records, a, "r%d_%d" % (stamp, r))
                if way == "import":
                    work.append((import_client, (a, bodies, stored)))
                else:
                    work.append((copy_client, (copies,)))
            conn.execute("CHECKPOINT")
            seconds[way].append(benchlib.run_at_once(work))
            if way == "import" and sum(stored) != 2 * len(records):
                raise SystemExit("the import stored %d of %d records" % (sum(stored), 2 * len(records)))
        print("round %d/%d done (%s)" % (r + 1, args.rounds, time.strftime("%H:%M:%S")), file=sys.stderr)

    n = 2 * len(records)
    ratios = [i / c for i, c in zip(seconds["import"], seconds["copy"])]
    ratio = statistics.median(ratios)
    print("## Citus benchmark: %d records into two accounts on two workers, two clients, requests of 1,000,"
          " median of %d interleaved rounds\n" % (n, args.rounds))
    print(benchlib.markdown_table(
        ["way", "records/s", "every round (records/s)"],
        [["trackly_import_sends through the coordinator", "{:,.0f}".format(n / statistics.median(seconds["import"])),
          " / ".join("{:,.0f}".format(n / s) for s in seconds["import"])],
         ["COPY through the coordinator", "{:,.0f}".format(n / statistics.median(seconds["copy"])),
          " / ".join("{:,.0f}".format(n / s) for s in seconds["copy"])]], "lrl"))
    print()
    print("import time / COPY time, paired by round: %.2f x (rounds %s); target at most %.1f x: %s"
          % (ratio, ", ".join("%.2f" % x for x in ratios), TARGET, "met" if ratio <= TARGET else "NOT met"))
    print("\nnproc %d; %s" % (os.cpu_count() or 0, conn.execute("SELECT version()").fetchone()[0]))
    conn.execute("DROP TABLE bench_copy_sends")


if __name__ == "__main__":
    main()
