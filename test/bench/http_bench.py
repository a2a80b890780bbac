#!/usr/bin/python3
"""http_bench.py: the API import over HTTP against the same call over SQL.

Run by `test/bench/run http`, which brings up a stack of its own (bin/http-up
on port 18090, database trackly_bench_http) and stops it after.  Loopback
only.  It measures, it asserts nothing but the counts.

Every way loads the same fresh 1,000-record requests (the import
benchmark's records, ids new to every run) with one key:

  sql        SELECT trackly_import_sends($1::jsonb), the key in trackly.api_key:
             the API form over SQL, as a database client calls it (psycopg 3,
             the body bound as text)
  body       SELECT trackly_import_sends_body($1::bytea), the body bound as
             bytes: the function PostgREST calls, over SQL
  postgrest  POST /rpc/trackly_import_sends_body straight to PostgREST's unix
             socket, application/octet-stream, as nginx sends it on
  nginx      POST /v2/history/sends to nginx on 127.0.0.1: the whole path an
             API client takes (the key checked by a subrequest first)

with 1 and with 4 clients (each its own connection, kept alive; the
requests split between them), the ways and client counts interleaved over
--rounds rounds.  Each figure is the median of the rounds, with the spread
(max - min) / median.  Target (the performance issue): the HTTP path at
least 0.8 x the direct SQL call's throughput, with 1 client and with 4.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402
from import_bench import generate_records, setup_account  # noqa: E402

BASE = urllib.parse.urlsplit(os.environ.get("TRACKLY_HTTP_BASE", "http://127.0.0.1:18090"))
HTTP_DIR = os.environ.get("TRACKLY_HTTP_DIR", os.path.join(benchlib.ROOT, ".run", "http-bench"))
DB = os.environ.get("PGDATABASE", "trackly_bench_http")
TARGET = 0.8


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a unix socket (PostgREST's)."""

    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class Way:
    key = ""
    title = ""

    def open(self, api_key):
        """One client's connection."""
        raise NotImplementedError

    def send(self, conn, body):
        """Sends one body; returns the parsed response."""
        raise NotImplementedError

    def close(self, conn):
        conn.close()


class SqlWay(Way):
    key = "sql"
    title = "SQL: trackly_import_sends(jsonb)"
    query = "SELECT trackly_import_sends(%s::jsonb)"

    def open(self, api_key):
        conn = benchlib.connect(DB)
        conn.execute("SELECT set_config('trackly.api_key', %s, false)", (api_key,))
        return conn

    def send(self, conn, body):
        return conn.execute(self.query, (self.param(body),)).fetchone()[0]

    def param(self, body):
        return body.decode()


class BodyWay(SqlWay):
    key = "body"
    title = "SQL: trackly_import_sends_body(bytea)"
    query = "SELECT trackly_import_sends_body(%b)"

    def param(self, body):
        return body


class HttpWay(Way):
    key = "nginx"
    title = "HTTP through nginx"
    path = "/v2/history/sends"
    content_type = "application/json"

    def open(self, api_key):
        conn = http.client.HTTPConnection(BASE.hostname, BASE.port)
        conn.api_key = api_key
        return conn

    def send(self, conn, body):
        conn.request("POST", self.path, body=body,
                     headers={"X-Api-Key": conn.api_key, "Content-Type": self.content_type,
                              "Accept": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise SystemExit("%s answered %d: %s" % (self.title, response.status, data[:300]))
        return json.loads(data)


class PostgrestWay(HttpWay):
    key = "postgrest"
    title = "HTTP straight to PostgREST"
    path = "/rpc/trackly_import_sends_body"
    content_type = "application/octet-stream"

    def open(self, api_key):
        conn = UnixHTTPConnection(os.path.join(HTTP_DIR, "sock", "postgrest.sock"))
        conn.api_key = api_key
        return conn


WAYS = [SqlWay(), BodyWay(), PostgrestWay(), HttpWay()]


def bodies(records, run, size):
    """The records with ids new to this run, as request bodies (bytes)."""
    out = []
    for start in range(0, len(records), size):
        chunk = [dict(r, id="%s_%s" % (run, r["id"])) for r in records[start:start + size]]
        out.append(json.dumps({"records": chunk}).encode())
    return out


def load(way, api_key, requests, clients):
    """Sends the requests over `clients` connections at once; returns (seconds, stored)."""
    conns = [way.open(api_key) for _ in range(clients)]
    stored = [0] * clients

    def client(i):
        for body in requests[i::clients]:
            stored[i] += way.send(conns[i], body)["success_count"]

    seconds = benchlib.run_at_once([(client, (i,)) for i in range(clients)])
    for conn in conns:
        way.close(conn)
    return seconds, sum(stored)


def new_key(conn, account_id):
    return conn.execute("SELECT trackly_create_api_key(%s)", (account_id,)).fetchone()[0]


def median_spread(values):
    m = statistics.median(values)
    return m, (max(values) - min(values)) / m if m else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=48, help="1,000-record requests per run (default 48)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--clients", default="1,4", help="client counts (default 1,4)")
    parser.add_argument("--ways", default=",".join(w.key for w in WAYS),
                        help="ways (default %s)" % ",".join(w.key for w in WAYS))
    args = parser.parse_args()
    ways = [w for w in WAYS if w.key in args.ways.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]

    conn = benchlib.connect(DB)
    account_id = setup_account(conn)
    api_key = new_key(conn, account_id)
    records = generate_records(args.requests * 1000, 20251201)
    stamp = int(time.time())

    # One warm-up load per way (connections, caches), not counted.
    for way in ways:
        load(way, api_key, bodies(records[:4000], "warm%d%s" % (stamp, way.key), 1000), 1)

    rates = {(w.key, c): [] for w in ways for c in client_counts}
    for r in range(args.rounds):
        for clients in client_counts:
            for k in range(len(ways)):
                way = ways[(k + r) % len(ways)]
                requests = bodies(records, "r%d_%d_%d_%s" % (stamp, r, clients, way.key), 1000)
                seconds, stored = load(way, api_key, requests, clients)
                if stored != len(records):
                    raise SystemExit("%s stored %d of %d records" % (way.title, stored, len(records)))
                rates[(way.key, clients)].append(len(records) / seconds)
        print("round %d/%d done (%s)" % (r + 1, args.rounds, time.strftime("%H:%M:%S")), flush=True)

    print()
    print("## HTTP benchmark: %d fresh 1,000-record requests per run, median of %d interleaved rounds"
          % (args.requests, args.rounds))
    print()
    base = "sql"
    for clients in client_counts:
        print("### %d client%s" % (clients, "" if clients == 1 else "s"))
        print()
        rows = []
        sql_rate = median_spread(rates[(base, clients)])[0] if (base, clients) in rates else None
        for way in ways:
            rate, spread = median_spread(rates[(way.key, clients)])
            rows.append([way.title, "{:,.0f}".format(rate), "%.1f" % (1e6 * clients / rate),
                         "%d %%" % round(100 * spread),
                         "%.2f x" % (rate / sql_rate) if sql_rate else "n/a",
                         " / ".join("{:,.0f}".format(x) for x in rates[(way.key, clients)])])
        print(benchlib.markdown_table(["way", "records/s", "ms a request", "spread",
                                       "throughput / SQL's", "every round"], rows,
                                      ["l", "r", "r", "r", "r", "l"]))
        print()
    if ("nginx", client_counts[0]) in rates and (base, client_counts[0]) in rates:
        print("### Targets")
        print()
        rows = []
        for clients in client_counts:
            ratio = (median_spread(rates[("nginx", clients)])[0]
                     / median_spread(rates[(base, clients)])[0])
            rows.append(["HTTP through nginx >= %.1f x the SQL call's throughput, %d client%s"
                         % (TARGET, clients, "" if clients == 1 else "s"),
                         "%.2f x" % ratio, "met" if ratio >= TARGET else "NOT met"])
        print(benchlib.markdown_table(["target", "measured", ""], rows, ["l", "r", "l"]))
        print()
    print("### Machine")
    print()
    for fact in benchlib.machine_facts(conn):
        print(fact)


if __name__ == "__main__":
    main()
