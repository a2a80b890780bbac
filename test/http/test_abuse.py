"""test_abuse.py: what an attacker on this machine can and cannot do to the stack.

Over loopback only, each loop bounded.  It asserts what does not depend on
the machine's speed:
- a request without a live key is refused (401, the function's JSON shape)
  before any byte of its body is read: the answer comes while the body has
  not even been sent; a declared length over the limit answers 413 first;
- bodies PostgREST used to choke on (huge, nested 100,000 deep, bytes that
  are not UTF-8 in any header) get a JSON answer in the documented shape;
  PostgREST's resident memory stays within a generous bound;
- a response is bounded whatever the request (ids of 131,072 digits);
- nginx's own refusals (a %00 in the path, headers over 8 kB) are JSON;
- concurrent large bodies from one address beyond the limit answer 429
  with Retry-After;
- the local stack is private: file modes, PostgREST's socket out of other
  users' reach, the cluster asks for a password, PostgREST does not listen
  for NOTIFY.
"""
import json
import os
import pwd
import socket
import stat
import subprocess
import time
import urllib.parse

from httptest import (BASE, IMPORT_URL, Checks, failure_problems, new_account, parse_json,
                      raw_request, sql_value)

checks = Checks("abuse")
URL = urllib.parse.urlsplit(BASE)
PATH = "/v2/history/sends"
HTTP_DIR = os.environ["TRACKLY_HTTP_DIR"]
SOCKET = os.environ.get("TRACKLY_POSTGREST_SOCKET", "")


def headers_only(headers, read_seconds=10):
    """Sends a POST's headers (whose Content-Length promises a body) and no
    body at all; returns (status, body) of the answer, or (None, why) if none
    comes within read_seconds: an answer proves the body was not needed."""
    s = socket.create_connection((URL.hostname, URL.port), timeout=read_seconds)
    try:
        lines = [f"POST {PATH} HTTP/1.1", f"Host: {URL.hostname}"] + \
                [f"{k}: {v}" for k, v in headers.items()]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 4 + _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
        return status, body.decode("utf-8", "replace")
    except socket.timeout:
        return None, "no answer while the body was held back"
    finally:
        s.close()


def _length(data):
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 0


def postgrest_rss_kb():
    pid = int(open(os.path.join(HTTP_DIR, "postgrest.pid")).read())
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def shape_ok(name, status, text, want_status, code):
    body = parse_json(text)
    checks.check(f"{name}: {want_status} {code}, in the documented shape",
                 status == want_status and not failure_problems(body, code),
                 f"status {status}: {text[:300]} {failure_problems(body, code)}")


def main():
    account_id, key = new_account("abuse")
    unknown_key = "trk_" + "A" * 32

    # 1. No live key: refused before the body is read (it is never sent).
    status, text = headers_only({"Content-Type": "application/json", "Content-Length": "20000000"})
    shape_ok("no key, 20 MB promised, no byte sent", status, text, 401, "missing_api_key")
    status, text = headers_only({"Content-Length": "20000000", "X-Api-Key": "trk_short"})
    shape_ok("malformed key, 20 MB promised", status, text, 401, "invalid_api_key")
    status, text = headers_only({"Content-Length": "20000000", "X-Api-Key": unknown_key})
    shape_ok("unknown well-formed key (looked up), 20 MB promised", status, text, 401, "invalid_api_key")
    status, text = headers_only({"Content-Length": "60000000", "X-Api-Key": key})
    shape_ok("a live key, 60 MB declared (over the 48 MiB limit)", status, text, 413, "body_too_large")
    status, text = headers_only({"Content-Length": "60000000"})
    shape_ok("no key, 60 MB declared: the length is checked first", status, text, 413, "body_too_large")
    status, text = headers_only({"Transfer-Encoding": "chunked", "X-Api-Key": key})
    shape_ok("a chunked body", status, text, 411, "length_required")

    # Keyless bodies actually sent: refused, and PostgREST never sees them.
    rss_before = postgrest_rss_kb()
    nested = b"[" * 10_000_000 + b"]" * 10_000_000
    for _ in range(3):
        status, _, text = raw_request("POST", PATH, body=nested, headers={"Content-Type": "application/json"})
    shape_ok("no key, a 20 MB body of nested arrays, three times", status, text, 401, "missing_api_key")

    # 2. Bodies with a live key that PostgREST could not take before.
    status, _, text = raw_request("POST", PATH, body=b"[" * 100_000 + b"]" * 100_000,
                                  headers={"X-Api-Key": key, "Content-Type": "application/json"})
    shape_ok("nested 100,000 deep", status, text, 400, "invalid_body")
    checks.check("... and the answer names the nesting limit, not a server setting",
                 "64" in text and "max_stack_depth" not in text, text[:300])
    status, _, text = raw_request("POST", PATH, body=b"{\"records\": [\xff]}",
                                  headers={"X-Api-Key": key})
    shape_ok("a body that is not UTF-8", status, text, 400, "invalid_body")
    status, _, text = raw_request("POST", PATH, body=b"not json",
                                  headers={"X-Api-Key": key})
    shape_ok("a body that is not JSON", status, text, 400, "invalid_body")
    good = json.dumps({"records": [{"id": "abuse-1", "to_number": "+12025559876",
                                    "timestamp": "2025-11-15T14:30:00Z"}]}).encode()
    status, _, text = raw_request("POST", PATH, body=good,
                                  headers={"X-Api-Key": key, "Content-Type": "application/json",
                                           "User-Agent": b"\xff\xfe bytes".decode("latin-1"),
                                           "X-Other": b"caf\xe9".decode("latin-1")})
    checks.check("bytes that are not UTF-8 in other headers: the import still runs (200)",
                 status == 200 and (parse_json(text) or {}).get("success_count") == 1, f"{status} {text[:300]}")
    status, _, text = raw_request("POST", PATH, body=good,
                                  headers={"X-Api-Key": key[:-1] + "\u00e9".encode().decode("latin-1")})
    shape_ok("a key with bytes that are not ASCII", status, text, 401, "invalid_api_key")

    # 3. Bounded responses.
    huge_ids = "{\"records\": [" + ", ".join(
        '{"id": 1e131071, "to_number": "+12025559876", "timestamp": "2025-11-15T14:30:00Z"}'
        for _ in range(1000)) + "]}"
    status, _, text = raw_request("POST", PATH, body=huge_ids.encode(), headers={"X-Api-Key": key})
    body = parse_json(text) or {}
    checks.check("1,000 ids of 131,072 digits: 200, every record failed",
                 status == 200 and body.get("error_count") == 1000, f"{status} {text[:300]}")
    checks.check(f"... and the response is small ({len(text)} bytes < 100 x (255 + 300))",
                 len(text) < 100 * (255 + 300), len(text))
    checks.check("... each id shown is 255 characters, and the sentence says it was cut",
                 all(len(e["id"]) == 255 and "first 255 characters" in e["error"] for e in body.get("errors", [])),
                 (body.get("errors") or [{}])[0])
    longest = sql_value("SELECT max(length(id)) FROM trackly.import_errors WHERE account_id = :'a'", a=account_id)
    checks.equal("... and so in trackly.import_errors", longest, "255")

    rss_after = postgrest_rss_kb()
    checks.check(f"PostgREST's resident memory stayed within 100 MB of where it was "
                 f"({rss_before} kB before, {rss_after} kB after)",
                 rss_after - rss_before < 100 * 1024, f"{rss_before} -> {rss_after}")

    # 4. nginx's own refusals, in JSON.
    status, _, text = raw_request("POST", "/v2/history/sends%00", body=good, headers={"X-Api-Key": key})
    shape_ok("%00 in the path", status, text, 400, "bad_request")
    status, _, text = raw_request("POST", PATH, body=good, headers={"X-Api-Key": key, "X-Big": "x" * 9000})
    shape_ok("a header over 8 kB", status, text, 400, "bad_request")
    status, _, text = raw_request("GET", "/rpc/trackly_import_sends", headers={"X-Api-Key": key})
    shape_ok("PostgREST's own paths", status, text, 404, "not_found")

    # 5. At most 2 large bodies at once per address: the third waits for nothing.
    held = []
    try:
        for _ in range(2):
            s = socket.create_connection((URL.hostname, URL.port), timeout=10)
            s.sendall((f"POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Api-Key: {key}\r\n"
                       f"Content-Length: 2000000\r\n\r\n").encode() + b"{" * 1000)
            held.append(s)
        time.sleep(0.5)
        status, text = headers_only({"Content-Length": "2000000", "X-Api-Key": key})
        shape_ok("a third large body at once from one address", status, text, 429, "rate_limited")
        s = socket.create_connection((URL.hostname, URL.port), timeout=10)
        s.sendall((f"POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Api-Key: {key}\r\n"
                   f"Content-Length: 2000000\r\n\r\n").encode())
        head = s.recv(4096).decode("latin-1")
        s.close()
        checks.check("... with Retry-After", "\r\nretry-after: 1" in head.lower(), head[:300])
    finally:
        for s in held:
            s.close()

    # 6. The local stack is private.
    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    for name in ("demo.env", "postgrest.conf"):
        path = os.path.join(HTTP_DIR, name)
        checks.check(f"{name} is mode 600", os.path.exists(path) and mode(path) == 0o600,
                     oct(mode(path)) if os.path.exists(path) else "missing")
    checks.check("the stack's folder is closed to other users",
                 mode(HTTP_DIR) & 0o007 == 0, oct(mode(HTTP_DIR)))
    pgpass = os.environ.get("PGPASSFILE", "")
    checks.check("the cluster's password file is mode 600", pgpass and mode(pgpass) == 0o600,
                 pgpass and oct(mode(pgpass)))
    if os.geteuid() == 0 and SOCKET:
        reach = subprocess.run(["runuser", "-u", "nobody", "--", "curl", "-s", "-o", "/dev/null",
                                "-w", "%{http_code}", "--unix-socket", SOCKET, "http://localhost/"],
                               capture_output=True, text=True)
        checks.check("another user cannot reach PostgREST's socket", reach.stdout in ("", "000"),
                     f"{reach.stdout} {reach.stderr[:200]}")
        nobody_home = pwd.getpwnam("nobody").pw_dir
        for host in (os.environ["PGHOST"], "127.0.0.1"):
            env = {"PATH": os.environ["PATH"], "HOME": nobody_home, "PGPORT": os.environ["PGPORT"]}
            tried = subprocess.run(["runuser", "-u", "nobody", "--", "psql", "-X", "-w", "-h", host,
                                    "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"],
                                   capture_output=True, text=True, env=env)
            checks.check(f"another user cannot log in to the cluster as postgres via {'the socket' if host != '127.0.0.1' else 'TCP'}",
                         tried.returncode != 0, tried.stdout + tried.stderr[:200])
    tried = subprocess.run(["psql", "-X", "-w", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
                            "-c", "SELECT 1"], capture_output=True, text=True,
                           env={**os.environ, "PGPASSFILE": "/dev/null"})
    checks.check("without the password, the cluster refuses even this user",
                 tried.returncode != 0 and "password" in tried.stderr, tried.stderr[:200])
    listeners = sql_value("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'trackly_postgrest'"
                          " AND query ILIKE 'LISTEN%'")
    checks.equal("PostgREST does not listen for NOTIFY (no schema reloads by any login role)", listeners, "0")

    # 7. The rate limit, on a stack restarted with 2 requests a second and a
    # burst of 3; then the stack as it was, for the suites after this one.
    rate_limit(key, good)
    checks.finish()


def restart_stack(**settings):
    up = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "http-up")
    done = subprocess.run([up], env={**os.environ, **settings}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bin/http-up failed: {done.stderr[-2000:]}")


def rate_limit(key, good):
    restart_stack(TRACKLY_HTTP_RATE="2", TRACKLY_HTTP_BURST="3")
    try:
        answers = [raw_request("POST", PATH, body=good, headers={"X-Api-Key": key}) for _ in range(12)]
    finally:
        restart_stack()
    statuses = [a[0] for a in answers]
    limited = [a for a in answers if a[0] == 429]
    # At most 1 + 3 pass (bin/http-up's own readiness check may have used one).
    passed = statuses.count(200)
    checks.check("at 2 requests a second with a burst of 3, 12 requests at once: at most the "
                 "first 4 pass, then 429", 1 <= passed <= 4 and statuses == [200] * passed + [429] * (12 - passed),
                 statuses)
    if limited:
        status, headers, text = limited[0]
        shape_ok("the rate limit", status, text, 429, "rate_limited")
        checks.equal("... with Retry-After", headers.get("Retry-After"), "1")


if __name__ == "__main__":
    main()
