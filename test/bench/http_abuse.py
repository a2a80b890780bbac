#!/usr/bin/python3
"""http_abuse.py: what hostile and worst-case requests cost the HTTP stack.

Run by `test/bench/run http-abuse`, which brings up a stack of its own
(bin/http-up on port 18090, database trackly_bench_http) and stops it after.
Loopback only; every loop is bounded.  It measures, it asserts nothing:

- time to the refusal of keyless requests: a 20 MB body of nested arrays
  (sent whole), a 120 MB one (declared, then refused on its length);
- PostgREST's resident memory before and after those;
- the worst case per request with a live key, for nginx (its workers'
  resident memory), PostgREST (resident) and the backend that runs the
  import (private memory, RssAnon): a body of 1,000 records of the largest
  allowed size at the limit, and a body at the limit holding one string.

Memory is sampled from /proc every 5 ms while the request runs; each figure
is the median of --rounds requests, with the spread.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse

BASE = os.environ["TRACKLY_HTTP_BASE"]
URL = urllib.parse.urlsplit(BASE)
PATH = "/v2/history/sends"
HTTP_DIR = os.environ["TRACKLY_HTTP_DIR"]
LIMIT = int(os.environ.get("TRACKLY_HTTP_MAX_BODY_MIB", "48")) * 1024 * 1024


def proc_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_of(pattern):
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def postgrest_pid():
    return int(open(os.path.join(HTTP_DIR, "postgrest.pid")).read())


def nginx_workers():
    master = int(open(os.path.join(HTTP_DIR, "nginx", "nginx.pid")).read())
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def backends():
    out = subprocess.run(["psql", "-X", "-tAc", "SELECT pid FROM pg_stat_activity"
                          " WHERE application_name = 'trackly_postgrest'"],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Peak:
    """Samples the peak of a /proc field summed over processes while a request runs."""

    def __init__(self, pids_fn, field):
        self.pids_fn, self.field = pids_fn, field
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        pids = self.pids_fn()
        while not self.stop.is_set():
            total = sum(proc_kb(p, self.field) for p in pids)
            self.peak = max(self.peak, total)
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def send(headers, body=b"", declare=None):
    """One POST over a raw socket; returns (status, seconds to the status line)."""
    s = socket.create_connection((URL.hostname, URL.port), timeout=600)
    length = declare if declare is not None else len(body)
    head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\nConnection: close\r\n" + \
        "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    start = time.perf_counter()
    s.sendall(head.encode())
    sender = threading.Thread(target=lambda: _send_quietly(s, body))
    sender.start()
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    seconds = time.perf_counter() - start
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
    sender.join()
    s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
    return status, seconds


def _send_quietly(s, body):
    try:
        s.sendall(body)
    except OSError:
        pass  # nginx answered and closed: the rest of the body was not wanted


def median_spread(values):
    m = statistics.median(values)
    return m, (max(values) - min(values)) / m if m else 0.0


def new_key():
    out = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c",
                          "SELECT trackly_create_api_key(trackly_create_account('http abuse bench'))"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    key = new_key()
    rows = []

    nested = b"[" * 10_000_000 + b"]" * 10_000_000
    rss_before = proc_kb(postgrest_pid(), "VmRSS")
    times = [send({"Content-Type": "application/json"}, nested)[1] for _ in range(args.rounds)]
    m, spread = median_spread(times)
    rows.append(("no key, 20 MB of nested arrays sent whole", "401", f"{m * 1000:.1f} ms ({spread:.0%})", "-", "-", "-"))
    times = [send({"Content-Type": "application/json"}, b"", declare=120_000_000)[1] for _ in range(args.rounds)]
    m, spread = median_spread(times)
    rows.append(("no key, 120 MB declared", "413", f"{m * 1000:.1f} ms ({spread:.0%})", "-", "-", "-"))
    rss_after = proc_kb(postgrest_pid(), "VmRSS")

    emoji = "\U0001F600"
    largest = {"records": [{"id": f"{i:04d}" + emoji * 251, "to_number": "+491234567890123",
                            "message": emoji * 10000, "send_type": emoji * 64,
                            "timestamp": "2025-11-15T14:30:00Z"} for i in range(1000)]}
    bodies = [("live key, 1,000 largest records as UTF-8", json.dumps(largest, ensure_ascii=False).encode()),
              ("live key, one string filling the limit", b'{"records": [{"id": "s", "message": "' +
               b"m" * (LIMIT - 100) + b'"}]}')]
    for label, body in bodies:
        results = {"status": [], "seconds": [], "nginx": [], "postgrest": [], "backend": []}
        for r in range(args.rounds):
            # A fresh account each round: the largest records are new every time.
            key = new_key()
            base_pg = proc_kb(postgrest_pid(), "VmRSS")
            base_be = {p: proc_kb(p, "RssAnon") for p in backends()}
            with Peak(nginx_workers, "VmRSS") as ng, Peak(lambda: [postgrest_pid()], "VmRSS") as pg, \
                    Peak(backends, "RssAnon") as be:
                status, seconds = send({"X-Api-Key": key}, body)
            results["status"].append(status)
            results["seconds"].append(seconds)
            results["nginx"].append(ng.peak)
            results["postgrest"].append(pg.peak - base_pg)
            results["backend"].append(be.peak - sum(base_be.values()))
        fmt = lambda k: "%.0f MB (%.0f%%)" % (median_spread(results[k])[0] / 1024, 100 * median_spread(results[k])[1])
        m, spread = median_spread(results["seconds"])
        rows.append((f"{label} ({len(body) / 1e6:.1f} MB)", "/".join(sorted({str(s) for s in results["status"]})),
                     f"{m * 1000:.0f} ms ({spread:.0%})",
                     "%.0f MB (%.0f%%)" % (median_spread(results["nginx"])[0] / 1024, 100 * median_spread(results["nginx"])[1]),
                     "+" + fmt("postgrest"), "+" + fmt("backend")))

    print("| request | status | time to the answer (spread) | nginx workers, resident peak | PostgREST, resident peak above idle | backend, private peak above idle |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"PostgREST's resident memory: {rss_before / 1024:.0f} MB before the keyless requests, "
          f"{rss_after / 1024:.0f} MB after. Medians of {args.rounds} requests; spread (max-min)/median.")


if __name__ == "__main__":
    main()
