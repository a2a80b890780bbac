"""test_status.py: every request-level status through nginx, with its body.

400 (body not an object, records missing), 401 (key missing, key bad), 413
(too many records, body too large), 405 and 404, and 200 with per-record
errors; a request that fails imports and records nothing.  Also what nginx
does to a request before PostgREST sees it: the body is always read as JSON
(by the function, which answers invalid_body for anything else), the query
string and the headers that steer PostgREST are dropped, bodies up to the
limit (1,000 records of the largest allowed size, written without escapes)
go through, and the same records escaped as Python sends them are over the
default limit.
"""
import json
import os
import sys
import time

import requests

from httptest import (BASE, IMPORT_PATHS, IMPORT_URL, PAGE_BODY, PAGE_RESPONSE, Checks,
                      account_counts, failure_problems, new_account, parse_json,
                      response_problems, sql, sql_value)

# nginx's body limit (bin/http/stack.sh, TRACKLY_HTTP_MAX_BODY_MIB).
LIMIT_MIB = int(os.environ.get("TRACKLY_HTTP_MAX_BODY_MIB", "48"))
BODY_LIMIT = LIMIT_MIB * 1024 * 1024
BODY_TOO_LARGE = {
    "success_count": 0, "error_count": 0, "duplicates_skipped": 0, "invalid_phones": 0,
    "errors": [{"index": None, "id": None, "code": "body_too_large",
                "error": f"The request body is larger than {LIMIT_MIB} MiB, more than 1,000 records "
                         "of the largest allowed size take written without escapes. "
                         "Split it into several requests."}],
    "import_id": None,
}

checks = Checks("status")
session = requests.Session()


def record(i, prefix="r"):
    return {"id": f"{prefix}-{i}", "list_id": 42, "to_number": "+13105558888",
            "timestamp": "2025-11-15T14:31:00Z"}


def post(key=None, json_body=None, data=None, headers=None, url=IMPORT_URL):
    h = {"Content-Type": "application/json"}
    if key is not None:
        h["X-Api-Key"] = key
    h.update(headers or {})
    return session.post(url, json=json_body, data=data, headers=h, timeout=300)


def expect_failure(name, resp, status, code):
    body = parse_json(resp.text)
    problems = failure_problems(body, code)
    if resp.status_code != status:
        problems.insert(0, f"status {resp.status_code}, not {status}")
    checks.check(f"{name}: {status} {code}", not problems,
                 "\n".join(problems) + f"\nbody: {resp.text[:500]}")


def expect_success(name, resp, expected):
    body = parse_json(resp.text)
    problems = response_problems(body, expected)
    if resp.status_code != 200:
        problems.insert(0, f"status {resp.status_code}, not 200")
    checks.check(f"{name}: 200 {expected_summary(expected)}", not problems,
                 "\n".join(problems) + f"\nbody: {resp.text[:500]}")
    return body


def expected_summary(e):
    return f"({e['success_count']} ok, {e['error_count']} failed, {e['duplicates_skipped']} dup)"


def request_level_failures(account_id, key):
    imports_before = sql_value("SELECT count(*) FROM trackly.imports")

    # 400 invalid_body: PostgREST 12 hands a JSON scalar body over as [].
    for label, raw in [("a string", '"just a string"'), ("a number", "42"), ("null", "null"),
                       ("true", "true"), ("an empty array", "[]"),
                       ("an array of one body", json.dumps([PAGE_BODY]))]:
        expect_failure(f"body is {label}", post(key, data=raw), 400, "invalid_body")

    # 400 missing_records.
    for label, body in [("{}", {}), ("only imported", {"imported": True}),
                        ("records null", {"records": None}), ("records []", {"records": []}),
                        ("records a string", {"records": "hist_0001"}),
                        ("records an object", {"records": PAGE_BODY["records"][0]})]:
        expect_failure(f"records missing: {label}", post(key, body), 400, "missing_records")

    # 401: no key, an empty one, malformed, unknown, revoked.
    expect_failure("no X-Api-Key", post(None, PAGE_BODY), 401, "missing_api_key")
    expect_failure("empty X-Api-Key", post("", PAGE_BODY), 401, "missing_api_key")
    expect_failure("key in Authorization instead",
                   post(None, PAGE_BODY, headers={"Authorization": f"Bearer {key}"}),
                   401, "missing_api_key")
    expect_failure("malformed key", post("trk_short", PAGE_BODY), 401, "invalid_api_key")
    expect_failure("key one character too long", post(key + "x", PAGE_BODY), 401, "invalid_api_key")
    expect_failure("key with a character that is no letter or digit",
                   post(key[:-1] + "-", PAGE_BODY), 401, "invalid_api_key")
    expect_failure("unknown key", post("trk_" + "A" * 32, PAGE_BODY), 401, "invalid_api_key")
    expect_failure("the key in other case", post(key.swapcase(), PAGE_BODY), 401, "invalid_api_key")
    _, revoked = new_account("status revoked")
    sql("SELECT trackly_revoke_api_key(:'k')", k=revoked)
    expect_failure("revoked key", post(revoked, PAGE_BODY), 401, "invalid_api_key")
    # Authentication comes first.
    expect_failure("no key and a bad body", post(None, data="42"), 401, "missing_api_key")
    expect_failure("bad key and too many records",
                   post("trk_short", {"records": [record(i) for i in range(1001)]}),
                   401, "invalid_api_key")

    # 413 too_many_records, from the function.
    expect_failure("1,001 records", post(key, {"records": [record(i) for i in range(1001)]}),
                   413, "too_many_records")

    # 413 body_too_large, from nginx: one valid record padded with an unknown
    # field (which the function would ignore) to one byte over the limit.
    head = json.dumps({"records": [record(0, "large")], "padding": ""})[:-2]
    raw = head.encode() + b"x" * (BODY_LIMIT + 1 - len(head) - 2) + b'"}'
    checks.equal("the too-large body is one byte over the limit", len(raw), BODY_LIMIT + 1)
    resp = post(key, data=raw)
    expect_failure(f"a body one byte over {LIMIT_MIB} MiB", resp, 413, "body_too_large")
    checks.equal("the 413 body is nginx's, in the function's shape",
                 parse_json(resp.text), BODY_TOO_LARGE)
    checks.check("the 413 body is JSON", resp.headers.get("Content-Type", "").startswith("application/json"),
                 resp.headers.get("Content-Type"))

    checks.equal("failed requests imported and recorded nothing for the account",
                 account_counts(account_id), (0, 0, 0))
    checks.equal("failed requests recorded no import at all",
                 sql_value("SELECT count(*) FROM trackly.imports"), imports_before)


def per_record_errors(key):
    ok = {"id": "mix-ok", "list_number": "+14155551234", "to_number": "+12025559876",
          "timestamp": "2025-11-15T14:30:00Z"}
    records = [
        ok,
        dict(ok, id="mix-phone", to_number="+1415555123"),
        dict(ok, id=None),
        dict(ok, id="mix-to", to_number=""),
        {"id": "mix-ts", "to_number": "+12025559876"},
        dict(ok, id="mix-bad-ts", timestamp="Nov 15 2025"),
        dict(ok, id="mix-long", message="x" * 10001),
        dict(ok, id="mix-list", list_id=999),
        dict(ok, message="same id, other text"),
        17,
    ]
    want_errors = [(1, "mix-phone", "invalid_phone"), (2, None, "missing_id"),
                   (3, "mix-to", "missing_to_number"), (4, "mix-ts", "missing_timestamp"),
                   (5, "mix-bad-ts", "invalid_timestamp"), (6, "mix-long", "invalid_field"),
                   (7, "mix-list", "list_not_found"), (9, None, "invalid_record")]
    resp = post(key, {"records": records})
    body = parse_json(resp.text) or {}
    checks.equal("per-record errors: 200", resp.status_code, 200)
    checks.equal("per-record errors: the counts",
                 [body.get(k) for k in ("success_count", "error_count", "duplicates_skipped",
                                        "invalid_phones")], [1, 8, 1, 1])
    got = [(e.get("index"), e.get("id"), e.get("code")) for e in body.get("errors", [])]
    checks.equal("per-record errors: index, id and code of each, in input order", got, want_errors)
    checks.check("per-record errors: each has a message",
                 all(isinstance(e.get("error"), str) and e["error"] for e in body.get("errors", [])),
                 body.get("errors"))
    checks.check("per-record errors: an import_id", type(body.get("import_id")) is int,
                 body.get("import_id"))


def boundaries(account_id, key):
    resp = post(key, {"records": [record(i, "thousand") for i in range(1000)]})
    expect_success("1,000 records", resp, {"success_count": 1000, "error_count": 0,
                                           "duplicates_skipped": 0, "invalid_phones": 0,
                                           "errors": []})

    # 1,000 records of the largest allowed size, every character an emoji.
    emoji = "\U0001F600"
    largest = [{"id": f"{i:04d}" + emoji * 251,
                "list_id": 42, "list_number": "+14155551234", "to_number": "+491234567890123",
                "message": emoji * 10000, "creative_id": 9223372036854775807,
                "send_type": emoji * 64, "delivered": False, "length": 2147483647,
                "timestamp": "2025-11-15T14:30:00.123456789+00:00"} for i in range(1000)]
    body = {"records": largest, "imported": True}
    # Written as UTF-8 (4 bytes a character), as curl or JSON.stringify send it: under the limit.
    raw = json.dumps(body, ensure_ascii=False).encode()
    checks.check("the largest allowed body written as UTF-8 is over 41 MB and under the limit",
                 41_000_000 < len(raw) <= BODY_LIMIT, len(raw))
    start = time.monotonic()
    resp = post(key, data=raw)
    expect_success(f"1,000 records of the largest size as UTF-8 ({len(raw):,} bytes, "
                   f"{time.monotonic() - start:.1f} s)", resp,
                   {"success_count": 1000, "error_count": 0, "duplicates_skipped": 0,
                    "invalid_phones": 0, "errors": []})
    checks.equal("the largest records are stored whole",
                 sql("SELECT count(*), min(char_length(message)), min(char_length(id)), "
                     "min(char_length(send_type)) FROM trackly.sends "
                     "WHERE account_id = :'a' AND id NOT LIKE 'thousand-%'", a=account_id),
                 [["1000", "10000", "255", "64"]])
    # Escaped as requests' json= does (a 12-byte surrogate pair a character):
    # over 124 MB, over the default limit; TRACKLY_HTTP_MAX_BODY_MIB=128 admits it.
    size = len(json.dumps(body))
    resp = post(key, body)
    if size > BODY_LIMIT:
        expect_failure(f"the same records escaped ({size:,} bytes) are over the {LIMIT_MIB} MiB limit",
                       resp, 413, "body_too_large")
    else:
        expect_success(f"the same records escaped ({size:,} bytes)", resp,
                       {"success_count": 0, "error_count": 0, "duplicates_skipped": 1000,
                        "invalid_phones": 0, "errors": []})


def what_nginx_changes(key):
    # Whatever the Content-Type, the body is read as JSON.
    for i, ct in enumerate(["text/plain", "application/x-www-form-urlencoded", None]):
        h = {"X-Api-Key": key}
        if ct:
            h["Content-Type"] = ct
        resp = session.post(IMPORT_URL, data=json.dumps({"records": [record(i, "ct")]}),
                            headers=h, timeout=60)
        expect_success(f"Content-Type {ct or 'absent'} is read as JSON", resp,
                       {"success_count": 1, "error_count": 0, "duplicates_skipped": 0,
                        "invalid_phones": 0, "errors": []})
    # Bodies that are not JSON: the function's own 400 invalid_body.
    for label, raw in [("not JSON", "records=1"), ("truncated JSON", '{"records": ['),
                       ("empty", ""), ("not UTF-8", b'{"records": "\xff"}')]:
        expect_failure(f"a body that is {label}", post(key, data=raw), 400, "invalid_body")
    # The query string and the headers that would steer PostgREST are dropped.
    resp = session.post(
        IMPORT_URL + "?select=success_count&columns=records&limit=0",
        data=json.dumps({"records": [record(0, "steer")]}),
        headers={"X-Api-Key": key, "Content-Type": "application/json",
                 "Authorization": "Bearer not.a.jwt", "Prefer": "tx=rollback, return=minimal",
                 "Accept": "text/csv", "Accept-Profile": "trackly",
                 "Content-Profile": "trackly", "Range": "0-0"}, timeout=60)
    expect_success("a query string and PostgREST's own headers are ignored", resp,
                   {"success_count": 1, "error_count": 0, "duplicates_skipped": 0,
                    "invalid_phones": 0, "errors": []})
    checks.check("the answer is JSON, without PostgREST's Content-Range",
                 resp.headers.get("Content-Type", "").startswith("application/json")
                 and "Content-Range" not in resp.headers, dict(resp.headers))
    # Header names are case-insensitive; both paths work.
    for path in IMPORT_PATHS:
        resp = session.post(BASE + path, data=json.dumps({"records": [record(0, path)]}),
                            headers={"x-api-key": key, "content-type": "application/json"},
                            timeout=60)
        expect_success(f"POST {path} with lower-case header names", resp,
                       {"success_count": 1, "error_count": 0, "duplicates_skipped": 0,
                        "invalid_phones": 0, "errors": []})
    # Replaying the page's example: duplicates.
    _, fresh = new_account("status replay")
    expect_success("the page's example", post(fresh, PAGE_BODY), PAGE_RESPONSE)
    expect_success("the page's example again", post(fresh, PAGE_BODY),
                   dict(PAGE_RESPONSE, success_count=0, duplicates_skipped=2))


def other_methods():
    for path in IMPORT_PATHS:
        for method in ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]:
            resp = session.request(method, BASE + path, timeout=30,
                                   data=None if method in ("GET", "HEAD") else "{}")
            problems = [] if method == "HEAD" else failure_problems(parse_json(resp.text),
                                                                     "method_not_allowed")
            if resp.status_code != 405:
                problems.insert(0, f"status {resp.status_code}")
            if resp.headers.get("Allow") != "POST":
                problems.append(f"Allow: {resp.headers.get('Allow')!r}")
            checks.check(f"{method} {path}: 405 method_not_allowed, Allow: POST", not problems,
                         "\n".join(problems) + f"\nbody: {resp.text[:300]}")


def main():
    account_id, key = new_account("status")
    request_level_failures(account_id, key)
    per_record_errors(key)
    what_nginx_changes(key)
    other_methods()
    account_id, key = new_account("status large")
    boundaries(account_id, key)
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
