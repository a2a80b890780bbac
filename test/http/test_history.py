"""test_history.py: Clear History and an import's errors through nginx.

POST /v2/history/clear and POST /v2/history/import-errors (and their /api/...
forms), called with the page's kinds of clients (curl, Python's requests,
Node's fetch): every status each answers (200, 400, 401, 404, 405), another
account's key, the shapes of their refusals, paging through an import's
errors with next_offset, a clear that leaves live sends and other accounts
alone, records imported again after a clear, and the clear log.
"""
import sys

from httptest import (BASE, IMPORT_URL, Checks, api_curl, api_node, api_post, error_problems, new_account,
                      parse_json, raw_request, session, sql, sql_value)

CLEAR_PATHS = ("/v2/history/clear", "/api/v2/history/clear")
ERRORS_PATHS = ("/v2/history/import-errors", "/api/v2/history/import-errors")
CLEAR_URL = BASE + CLEAR_PATHS[1]
ERRORS_URL = BASE + ERRORS_PATHS[1]

checks = Checks("history")


def clear_failure_problems(body, code):
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r}"]
    problems = []
    if set(body) != {"deleted_count", "errors"}:
        problems.append(f"keys {sorted(body)}")
    if body.get("deleted_count") != 0:
        problems.append(f"deleted_count {body.get('deleted_count')!r}")
    problems += error_problems(body.get("errors"), code)
    return problems


def errors_failure_problems(body, code):
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r}"]
    problems = []
    if set(body) != {"import_id", "errors", "next_offset"}:
        problems.append(f"keys {sorted(body)}")
    if body.get("import_id", 0) is not None or body.get("next_offset", 0) is not None:
        problems.append(f"import_id {body.get('import_id')!r}, next_offset {body.get('next_offset')!r}")
    problems += error_problems(body.get("errors"), code)
    return problems


def expect(name, resp, status, code, shape):
    problems = shape(parse_json(resp.text), code)
    if resp.status_code != status:
        problems.insert(0, f"status {resp.status_code}, not {status}")
    if not resp.headers.get("Content-Type", "").startswith("application/json"):
        problems.append(f"Content-Type {resp.headers.get('Content-Type')!r}")
    if "X-Trackly-Code" in resp.headers:
        problems.append("X-Trackly-Code reached the client")
    checks.check(f"{name}: {status} {code}", not problems, "\n".join(problems) + f"\nbody: {resp.text[:400]}")


def stored(account_id):
    return [r[0] for r in sql("SELECT id FROM trackly.sends WHERE account_id = :'a' ORDER BY id", a=account_id)]


def records(prefix, n, bad=()):
    return [{"id": f"{prefix}{i}", "list_id": 42, "send_type": "campaign" if i % 2 else "alert",
             "to_number": "bad" if i in bad else "+13105558888",
             "timestamp": f"2025-11-{10 + i % 10:02d}T12:00:00Z"} for i in range(n)]


def main():
    a, key_a = new_account("history A")
    b, key_b = new_account("history B")
    _, revoked = new_account("history revoked")
    sql("SELECT trackly_revoke_api_key(:'k')", k=revoked)

    # History for A (one import with 150 failures) and the same ids for B.
    resp = api_post(IMPORT_URL, key_a, {"records": records("h", 300, bad=set(range(0, 300, 2)))})
    imp_a = parse_json(resp.text)["import_id"]
    checks.equal("A's import: 150 stored, 150 failed", [parse_json(resp.text)[k] for k in
                                                        ("success_count", "error_count")], [150, 150])
    resp = api_post(IMPORT_URL, key_b, {"records": records("h", 10)})
    imp_b = parse_json(resp.text)["import_id"]
    sql("""INSERT INTO trackly.sends (account_id, id, to_number, sent_at, imported)
           VALUES (:'a', 'live-1', '+13105558888', '2025-11-12T12:00:00Z', false)""", a=a)

    # --- import-errors: 200 and paging, with each kind of client.
    resp = api_post(ERRORS_URL, key_a, {"import_id": imp_a})
    body = parse_json(resp.text) or {}
    checks.equal("import-errors: 200, the first 100 by index, next_offset 100",
                 (resp.status_code, body.get("import_id"), len(body.get("errors", [])),
                  body.get("errors", [{}])[0].get("index"), body.get("next_offset")),
                 (200, imp_a, 100, 0, 100))
    checks.equal("import-errors: each error in the import response's shape",
                 sorted(body.get("errors", [{}])[0]), ["code", "error", "id", "index"])
    status, page2 = api_curl(BASE + ERRORS_PATHS[0], key_a, {"import_id": imp_a, "offset": 100})
    checks.equal("import-errors with curl: offset 100 gives the last 50, next_offset null",
                 (status, len(page2.get("errors", [])), page2["errors"][0]["index"], page2.get("next_offset")),
                 (200, 50, 200, None))
    status, page = api_node(ERRORS_URL, key_a, {"import_id": imp_a, "offset": 10, "limit": 5})
    checks.equal("import-errors with Node's fetch: offset 10, limit 5",
                 (status, [e["index"] for e in page.get("errors", [])], page.get("next_offset")),
                 (200, [20, 22, 24, 26, 28], 15))
    indexes, offset = [], 0
    while offset is not None:
        page = parse_json(api_post(ERRORS_URL, key_a, {"import_id": imp_a, "offset": offset, "limit": 40}).text)
        indexes += [e["index"] for e in page["errors"]]
        offset = page["next_offset"]
    checks.equal("import-errors: following next_offset gives every failure once, in order",
                 indexes, list(range(0, 300, 2)))

    # --- import-errors: every refusal.
    for path in ERRORS_PATHS:
        expect(f"import-errors {path}: no key", api_post(BASE + path, None, {"import_id": imp_a}),
               401, "missing_api_key", errors_failure_problems)
    expect("import-errors: malformed key", api_post(ERRORS_URL, "trk_short", {"import_id": imp_a}),
           401, "invalid_api_key", errors_failure_problems)
    expect("import-errors: unknown key", api_post(ERRORS_URL, "trk_" + "B" * 32, {"import_id": imp_a}),
           401, "invalid_api_key", errors_failure_problems)
    expect("import-errors: revoked key", api_post(ERRORS_URL, revoked, {"import_id": imp_a}),
           401, "invalid_api_key", errors_failure_problems)
    expect("import-errors: B's key, A's import", api_post(ERRORS_URL, key_b, {"import_id": imp_a}),
           404, "import_not_found", errors_failure_problems)
    expect("import-errors: an import that does not exist", api_post(ERRORS_URL, key_a, {"import_id": 1}),
           404, "import_not_found", errors_failure_problems)
    expect("import-errors: not JSON", api_post(ERRORS_URL, key_a, data="import_id=1"),
           400, "invalid_body", errors_failure_problems)
    expect("import-errors: a JSON string", api_post(ERRORS_URL, key_a, data='"x"'),
           400, "invalid_body", errors_failure_problems)
    expect("import-errors: no import_id", api_post(ERRORS_URL, key_a, {"offset": 0}),
           400, "invalid_filter", errors_failure_problems)
    expect("import-errors: limit 1001", api_post(ERRORS_URL, key_a, {"import_id": imp_a, "limit": 1001}),
           400, "invalid_filter", errors_failure_problems)
    resp = session.get(ERRORS_URL, headers={"X-Api-Key": key_a}, timeout=30)
    expect("import-errors: GET", resp, 405, "method_not_allowed", errors_failure_problems)
    checks.equal("import-errors: GET answers Allow: POST", resp.headers.get("Allow"), "POST")
    # nginx's own refusals come in the shape of the API asked.
    for path, shape in [(CLEAR_PATHS[0], clear_failure_problems), (ERRORS_PATHS[0], errors_failure_problems)]:
        status, _, text = raw_request("POST", path, body="{}", headers={
            "X-Api-Key": key_a, "Content-Type": "application/json", "Content-Length": "999999999999"})
        problems = shape(parse_json(text), "body_too_large") + ([] if status == 413 else [f"status {status}"])
        checks.check(f"{path}: a declared length over the limit: 413 body_too_large", not problems,
                     "\n".join(problems) + f"\nbody: {text[:300]}")
        resp = session.post(BASE + path, data=iter([b"{}"]), timeout=30,
                            headers={"X-Api-Key": key_a, "Content-Type": "application/json"})
        expect(f"{path}: a chunked body", resp, 411, "length_required", shape)
    status, body = api_node(ERRORS_URL, key_b, {"import_id": imp_b})
    checks.equal("import-errors: B's own import has no failures",
                 (status, body), (200, {"import_id": imp_b, "errors": [], "next_offset": None}))

    # --- clear: every refusal first; nothing is deleted by any.
    before = stored(a)
    for path in CLEAR_PATHS:
        expect(f"clear {path}: no key", api_post(BASE + path, None, {"all": True}),
               401, "missing_api_key", clear_failure_problems)
    expect("clear: malformed key", api_post(CLEAR_URL, "trk_" + "!" * 32, {"all": True}),
           401, "invalid_api_key", clear_failure_problems)
    expect("clear: unknown key", api_post(CLEAR_URL, "trk_" + "C" * 32, {"all": True}),
           401, "invalid_api_key", clear_failure_problems)
    expect("clear: revoked key", api_post(CLEAR_URL, revoked, {"all": True}),
           401, "invalid_api_key", clear_failure_problems)
    expect("clear: not JSON", api_post(CLEAR_URL, key_a, data="all=true"), 400, "invalid_body", clear_failure_problems)
    expect("clear: not UTF-8", api_post(CLEAR_URL, key_a, data=b'{"ids": ["\xff"]}'),
           400, "invalid_body", clear_failure_problems)
    expect("clear: an array", api_post(CLEAR_URL, key_a, [{"all": True}]), 400, "invalid_body", clear_failure_problems)
    expect("clear: no filter", api_post(CLEAR_URL, key_a, {}), 400, "missing_filter", clear_failure_problems)
    expect("clear: an unknown key", api_post(CLEAR_URL, key_a, {"everything": True}),
           400, "invalid_filter", clear_failure_problems)
    expect("clear: a bad date-time", api_post(CLEAR_URL, key_a, {"after": "yesterday"}),
           400, "invalid_filter", clear_failure_problems)
    expect("clear: B's key, A's import", api_post(CLEAR_URL, key_b, {"import_id": imp_a}),
           404, "import_not_found", clear_failure_problems)
    resp = session.put(CLEAR_URL, data="{}", headers={"X-Api-Key": key_a}, timeout=30)
    expect("clear: PUT", resp, 405, "method_not_allowed", clear_failure_problems)
    status, body = api_curl(CLEAR_URL, "trk_" + "D" * 32, {"all": True})
    checks.check("clear with curl, unknown key: 401 in the clear's shape",
                 status == 401 and not clear_failure_problems(body, "invalid_api_key"), f"{status} {body}")
    checks.equal("no refused clear deleted anything", stored(a), before)
    checks.equal("no refused clear was logged", sql_value("SELECT count(*) FROM trackly.history_clears"), "0")

    # --- clear: 200 with each kind of client; B's key only reaches B.
    status, body = api_curl(BASE + CLEAR_PATHS[0], key_b, {"ids": ["h1", "h3"]})
    checks.equal("clear with curl, B's key: 200, B's two sends", (status, body),
                 (200, {"deleted_count": 2, "errors": []}))
    checks.equal("A's sends are untouched by B's clear", stored(a), before)
    status, body = api_node(CLEAR_URL, key_a, {"ids": ["h1", "h3", "live-1"], "send_type": "campaign"})
    checks.equal("clear with Node's fetch: 200, only imported sends go", (status, body),
                 (200, {"deleted_count": 2, "errors": []}))
    resp = api_post(CLEAR_URL, key_a, {"import_id": imp_a, "after": "2025-11-15T00:00:00Z",
                                   "before": "2025-11-17T00:00:00Z"})
    checks.equal("clear with requests: import_id and a time range",
                 (resp.status_code, parse_json(resp.text)), (200, {"deleted_count": 30, "errors": []}))
    resp = api_post(CLEAR_URL, key_a, {"all": True})
    checks.equal("clear all: every imported send of A", (resp.status_code, parse_json(resp.text)),
                 (200, {"deleted_count": 150 - 2 - 30, "errors": []}))
    checks.equal("the live send stays", stored(a), ["live-1"])
    checks.equal("B keeps the rest of its sends", len(stored(b)), 8)

    # Cleared records can be imported again.
    resp = api_post(IMPORT_URL, key_a, {"records": records("h", 4)})
    checks.equal("the cleared ids import again", [parse_json(resp.text)[k] for k in
                                                  ("success_count", "duplicates_skipped")], [4, 0])
    checks.equal("the clear log: one row a clear that ran, by key, as PostgREST's role",
                 sql("""SELECT source, called_by, deleted_count FROM trackly.history_clears
                         WHERE account_id IN (:'a', :'b') ORDER BY id""", a=a, b=b),
                 [["api", "trackly_web", "2"], ["api", "trackly_web", "2"], ["api", "trackly_web", "30"],
                  ["api", "trackly_web", "118"]])
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
