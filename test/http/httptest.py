"""httptest.py: what the end-to-end tests of the HTTP stack share.

Checks that count and report, the database through psql, fresh accounts with
the original page's list and a key, PostgREST reached directly (behind nginx's
back), and the shape of the import's answers.  test/http/run sets the
environment: TRACKLY_HTTP_BASE (nginx), TRACKLY_POSTGREST_SOCKET or
TRACKLY_POSTGREST_URL (PostgREST itself) and the PG* variables of the cluster.
"""
import http.client
import json
import os
import socket
import subprocess
import sys

import requests
import urllib.parse

BASE = os.environ["TRACKLY_HTTP_BASE"]
IMPORT_PATHS = ("/v2/history/sends", "/api/v2/history/sends")
IMPORT_URL = BASE + "/api/v2/history/sends"
RESPONSE_KEYS = {"success_count", "error_count", "duplicates_skipped",
                 "invalid_phones", "errors", "import_id"}

# The original page's example body.
PAGE_BODY = {
    "records": [
        {"id": "hist_0001", "list_number": "+14155551234", "to_number": "+12025559876",
         "message": "Check out this deal!", "send_type": "campaign", "delivered": True,
         "length": 21, "timestamp": "2025-11-15T14:30:00Z"},
        {"id": "hist_0002", "list_id": 42, "to_number": "+13105558888",
         "message": "Limited time offer", "creative_id": 101, "send_type": "campaign",
         "delivered": True, "timestamp": "2025-11-15T14:31:00Z"},
    ],
    "imported": True,
}
# The page's documented response; the function adds import_id.
PAGE_RESPONSE = {"success_count": 2, "error_count": 0, "duplicates_skipped": 0,
                 "invalid_phones": 0, "errors": []}


class Checks:
    """Named checks: each prints ok or not ok; finish() prints the count."""

    def __init__(self, suite):
        self.suite = suite
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok - {name}", flush=True)
            if detail:
                for line in str(detail)[:2000].splitlines():
                    print(f"    {line}", flush=True)
        return bool(ok)

    def equal(self, name, got, want):
        return self.check(name, got == want, f"got:  {got!r}\nwant: {want!r}")

    def finish(self):
        print(f"{self.suite}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


def sql(query, **params):
    """Runs query in the test database as the superuser; returns its rows as
    lists of text.  Parameters go in as psql variables (:'name')."""
    args = ["psql", "-X", "-q", "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for name, value in params.items():
        args += ["-v", f"{name}={value}"]
    done = subprocess.run(args, input=query, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}\n{query}")
    return [line.split("\t") for line in done.stdout.splitlines() if line != ""]


def sql_value(query, **params):
    rows = sql(query, **params)
    return rows[0][0] if rows else None


def sql_as(role, query):
    """Runs query as role (SET ROLE); returns (succeeded, psql's stderr)."""
    done = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"],
                          input=f"SET ROLE {role};\n{query}\n",
                          capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip()


def new_account(name):
    """Creates an account with the page's list (+14155551234, id 42) and a
    key; returns (account_id, key)."""
    rows = sql("""
        SELECT trackly_create_account(:'name') AS account_id \\gset
        SELECT trackly_create_list(:account_id, '+14155551234', 'the page''s list', 42) \\g /dev/null
        SELECT :account_id, trackly_create_api_key(:account_id);
        """, name=name)
    return int(rows[0][0]), rows[0][1]


def account_counts(account_id):
    """(sends, imports, import_errors) rows of an account."""
    row = sql("""
        SELECT (SELECT count(*) FROM trackly.sends WHERE account_id = :'a'),
               (SELECT count(*) FROM trackly.imports WHERE account_id = :'a'),
               (SELECT count(*) FROM trackly.import_errors WHERE account_id = :'a')
        """, a=account_id)[0]
    return tuple(int(x) for x in row)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def raw_request(method, path, body=None, headers=None, postgrest=False):
    """One request with the path sent exactly as given, to nginx or (with
    postgrest) to PostgREST itself; returns (status, headers, body text)."""
    if postgrest:
        if os.environ.get("TRACKLY_POSTGREST_SOCKET"):
            conn = _UnixHTTPConnection(os.environ["TRACKLY_POSTGREST_SOCKET"])
        else:
            url = urllib.parse.urlsplit(os.environ["TRACKLY_POSTGREST_URL"])
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    else:
        url = urllib.parse.urlsplit(BASE)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def parse_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def failure_problems(body, code):
    """What is wrong with body as a request-level failure with this code
    (README, Codes): all counts 0, one error with null index and id, a null
    import_id.  An empty list when nothing is."""
    problems = []
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r}"]
    if set(body) != RESPONSE_KEYS:
        problems.append(f"keys {sorted(body)}")
    for key in ("success_count", "error_count", "duplicates_skipped", "invalid_phones"):
        if body.get(key) != 0:
            problems.append(f"{key} is {body.get(key)!r}")
    if body.get("import_id", "absent") is not None:
        problems.append(f"import_id is {body.get('import_id')!r}")
    errors = body.get("errors")
    if not (isinstance(errors, list) and len(errors) == 1 and isinstance(errors[0], dict)):
        problems.append(f"errors is {errors!r}")
    else:
        e = errors[0]
        if e.get("code") != code:
            problems.append(f"code is {e.get('code')!r}, not {code!r}")
        if e.get("index", "absent") is not None or e.get("id", "absent") is not None:
            problems.append(f"index/id not null: {e!r}")
        if not (isinstance(e.get("error"), str) and e["error"]):
            problems.append(f"no error message: {e!r}")
    return problems


def response_problems(body, expected):
    """What is wrong with body as a 200 response equal to expected plus a
    positive integer import_id.  An empty list when nothing is."""
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r}"]
    problems = []
    rest = {k: v for k, v in body.items() if k != "import_id"}
    if rest != expected:
        problems.append(f"got {rest!r}, want {expected!r}")
    import_id = body.get("import_id")
    if not (type(import_id) is int and import_id > 0):
        problems.append(f"import_id is {import_id!r}, not a positive integer")
    return problems


# A client of the APIs beside the import (Clear History, an import's errors,
# the report), as the page's kinds of clients call them.
session = requests.Session()


def api_post(url, key, body=None, data=None):
    """POST as a JSON API client: the key (None: none) and a body as JSON, or raw data."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Api-Key"] = key
    return session.post(url, json=body, data=data, headers=headers, timeout=60)


def api_curl(url, key, body):
    """curl as the page's example calls the API; returns (status, parsed body)."""
    done = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-X", "POST", url,
                           "-H", f"X-Api-Key: {key}", "-H", "Content-Type: application/json",
                           "-d", json.dumps(body)], capture_output=True, text=True, timeout=60)
    text, _, status = done.stdout.rpartition("\n")
    return int(status or 0), parse_json(text)


NODE = """
const [url, key, body] = process.argv.slice(1);
const response = await fetch(url, {
  method: "POST",
  headers: {"X-Api-Key": key, "Content-Type": "application/json"},
  body,
});
console.log(JSON.stringify({status: response.status, body: await response.json()}));
"""


def api_node(url, key, body):
    """Node's fetch, as the page's Node.js example; returns (status, parsed body)."""
    done = subprocess.run(["node", "--input-type=module", "-e", NODE, url, key, json.dumps(body)],
                          capture_output=True, text=True, timeout=60)
    out = parse_json(done.stdout) or {}
    return out.get("status"), out.get("body")


def error_problems(errors, code):
    """What is wrong with the errors of a request-level refusal: one error, this
    code, null index and id, a sentence.  An empty list when nothing is."""
    if not (isinstance(errors, list) and len(errors) == 1 and isinstance(errors[0], dict)):
        return [f"errors is {errors!r}"]
    e = errors[0]
    problems = []
    if e.get("code") != code:
        problems.append(f"code {e.get('code')!r}, not {code!r}")
    if e.get("index", 0) is not None or e.get("id", 0) is not None:
        problems.append(f"index/id not null: {e!r}")
    if not (isinstance(e.get("error"), str) and e["error"]):
        problems.append(f"no sentence: {e!r}")
    return problems
