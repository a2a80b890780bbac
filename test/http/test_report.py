"""test_report.py: the send report through nginx.

POST /v2/reports/sends (and /api/v2/reports/sends), called with the page's
kinds of clients (curl, Python's requests, Node's fetch): a report of history
imported through the API, by day in a time zone and grouped (by list and send
type, read from trackly.sends; by send type, read from the rollup), equal to
the same query run over trackly.sends; a clear seen by the next report; another
account's key sees only its own sends; every status it answers (200, 400, 401,
405, and nginx's 413 and 411) in the report's shape.
"""
import json
import sys

from httptest import (BASE, IMPORT_URL, Checks, api_curl, api_node, api_post, error_problems, new_account,
                      parse_json, raw_request, session, sql)

REPORT_PATHS = ("/v2/reports/sends", "/api/v2/reports/sends")
REPORT_URL = BASE + REPORT_PATHS[0]
CLEAR_URL = BASE + "/v2/history/clear"

checks = Checks("report")


def failure_problems(body, code):
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r}"]
    problems = []
    if set(body) != {"rows", "totals", "errors"}:
        problems.append(f"keys {sorted(body)}")
    if body.get("rows") != [] or body.get("totals", 0) is not None:
        problems.append(f"rows {body.get('rows')!r}, totals {body.get('totals')!r}")
    return problems + error_problems(body.get("errors"), code)


def expect(name, resp, status, code):
    problems = failure_problems(parse_json(resp.text), code)
    if resp.status_code != status:
        problems.insert(0, f"status {resp.status_code}, not {status}")
    if not resp.headers.get("Content-Type", "").startswith("application/json"):
        problems.append(f"Content-Type {resp.headers.get('Content-Type')!r}")
    checks.check(f"{name}: {status} {code}", not problems, "\n".join(problems) + f"\nbody: {resp.text[:400]}")


def direct(account_id, request):
    """The same report as a query over trackly.sends, as the response's rows."""
    keys = request.get("group_by", [])
    cols = "".join(f", {k}" + (' COLLATE "C"' if k == "send_type" else "") for k in keys)
    rows = sql(f"""SELECT json_agg(json_build_object('period', period{''.join(f", '{k}', {k}" for k in keys)},
                                                     'sends', n, 'delivered', y, 'undelivered', u,
                                                     'unknown', n - y - u,
                                                     'delivery_rate', round(y::numeric / nullif(y + u, 0), 4))
                                   ORDER BY period{''.join(f', {k} NULLS LAST' for k in keys)})
                     FROM (SELECT date_trunc(:'interval', sent_at AT TIME ZONE :'tz')::date AS period{cols},
                                  count(*) AS n, count(*) FILTER (WHERE delivered) AS y,
                                  count(*) FILTER (WHERE NOT delivered) AS u
                             FROM trackly.sends
                            WHERE account_id = :'a' AND sent_at >= :'from' AND sent_at < :'to'
                            GROUP BY 1{''.join(f', {i + 2}' for i in range(len(keys)))}) g""",
               a=account_id, interval=request["interval"], tz=request.get("time_zone", "UTC"),
               **{"from": request["from"], "to": request["to"]})
    return json.loads(rows[0][0] or "[]")


def records(prefix, n):
    return [{"id": f"{prefix}{i}", "list_id": 42 if i % 3 else None,
             "send_type": ["campaign", "alert", "otp"][i % 3], "delivered": [True, False, None][i % 4 % 3],
             "to_number": "+13105558888",
             "timestamp": f"2025-11-{1 + i % 9:02d}T{(i * 7) % 24:02d}:{(i * 13) % 60:02d}:00Z"} for i in range(n)]


def main():
    a, key_a = new_account("report A")
    b, key_b = new_account("report B")
    _, revoked = new_account("report revoked")
    sql("SELECT trackly_revoke_api_key(:'k')", k=revoked)
    resp = api_post(IMPORT_URL, key_a, {"records": records("r", 500)})
    checks.equal("A's history is imported", parse_json(resp.text).get("success_count"), 500)
    resp = api_post(IMPORT_URL, key_b, {"records": records("r", 40)})
    checks.equal("B's history is imported", parse_json(resp.text).get("success_count"), 40)

    # --- 200 with each kind of client; equal to the query over trackly.sends.
    request = {"from": "2025-11-01T00:00:00Z", "to": "2025-11-10T00:00:00Z", "interval": "day",
               "group_by": ["send_type", "list_id"], "time_zone": "Asia/Kathmandu"}
    resp = api_post(REPORT_URL, key_a, request)
    body = parse_json(resp.text) or {}
    checks.equal("report with requests: 200, rows, totals, no errors",
                 (resp.status_code, sorted(body), body.get("errors"), body.get("totals", {}).get("sends")),
                 (200, ["errors", "rows", "totals"], [], 500))
    checks.equal("... its rows equal the GROUP BY over trackly.sends", body.get("rows"), direct(a, request))
    request = dict(request, group_by=["send_type"], to="2025-11-09T12:30:00Z")
    resp = api_post(REPORT_URL, key_a, request)
    checks.equal("report by send type in Kathmandu, from the rollup's hours and quarter hours: the GROUP BY's rows",
                 (resp.status_code, (parse_json(resp.text) or {}).get("rows")), (200, direct(a, request)))
    request = {"from": "2025-11-03T10:07:00Z", "to": "2025-11-08T00:00:00.5Z", "interval": "week",
               "time_zone": "America/New_York"}
    status, body = api_curl(BASE + REPORT_PATHS[1], key_a, request)
    checks.equal("report with curl, edges inside a quarter hour, by week in New York",
                 (status, body.get("rows")), (200, direct(a, request)))
    request = {"from": "2025-10-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "month",
               "group_by": ["list_id"], "time_zone": "asia/tokyo"}
    status, body = api_node(REPORT_URL, key_b, request)
    checks.equal("report with Node's fetch, B's key: only B's sends",
                 (status, body.get("rows"), body.get("totals", {}).get("sends")),
                 (200, direct(b, dict(request, time_zone="Asia/Tokyo")), 40))

    # --- a clear is in the next report.
    before = parse_json(api_post(REPORT_URL, key_a, {"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z",
                                                 "interval": "month"}).text)
    resp = api_post(CLEAR_URL, key_a, {"send_type": "otp"})
    cleared = parse_json(resp.text).get("deleted_count")
    after = parse_json(api_post(REPORT_URL, key_a, {"from": "2025-11-01T00:00:00Z", "to": "2025-12-01T00:00:00Z",
                                                "interval": "month"}).text)
    checks.equal("a clear is subtracted by the next report",
                 after["totals"]["sends"], before["totals"]["sends"] - cleared)

    # --- every refusal, in the report's shape.
    good = {"from": "2025-11-01T00:00:00Z", "to": "2025-11-02T00:00:00Z", "interval": "day"}
    for path in REPORT_PATHS:
        expect(f"report {path}: no key", api_post(BASE + path, None, good), 401, "missing_api_key")
    expect("report: malformed key", api_post(REPORT_URL, "trk_short", good), 401, "invalid_api_key")
    expect("report: unknown key", api_post(REPORT_URL, "trk_" + "E" * 32, good), 401, "invalid_api_key")
    expect("report: revoked key", api_post(REPORT_URL, revoked, good), 401, "invalid_api_key")
    expect("report: not JSON", api_post(REPORT_URL, key_a, data="from=today"), 400, "invalid_body")
    expect("report: not UTF-8", api_post(REPORT_URL, key_a, data=b'{"from": "\xff"}'), 400, "invalid_body")
    expect("report: an array", api_post(REPORT_URL, key_a, [good]), 400, "invalid_body")
    expect("report: an unknown key", api_post(REPORT_URL, key_a, dict(good, account_id=b)), 400, "invalid_filter")
    expect("report: a bad interval", api_post(REPORT_URL, key_a, dict(good, interval="hour")), 400, "invalid_filter")
    expect("report: a POSIX time zone", api_post(REPORT_URL, key_a, dict(good, time_zone="UTC+5")), 400, "invalid_filter")
    expect("report: a bad date-time", api_post(REPORT_URL, key_a, dict(good, to="tomorrow")), 400, "invalid_filter")
    expect("report: to before from", api_post(REPORT_URL, key_a, dict(good, to="2025-10-01T00:00:00Z")),
           400, "invalid_range")
    expect("report: 426 days by day", api_post(REPORT_URL, key_a, dict(good, to="2027-01-01T00:00:00Z")), 400, "invalid_range")
    resp = session.get(REPORT_URL, headers={"X-Api-Key": key_a}, timeout=30)
    expect("report: GET", resp, 405, "method_not_allowed")
    checks.equal("report: GET answers Allow: POST", resp.headers.get("Allow"), "POST")
    status, _, text = raw_request("POST", REPORT_PATHS[0], body="{}", headers={
        "X-Api-Key": key_a, "Content-Type": "application/json", "Content-Length": "999999999999"})
    problems = failure_problems(parse_json(text), "body_too_large") + ([] if status == 413 else [f"status {status}"])
    checks.check("report: a declared length over the limit: 413 body_too_large", not problems,
                 "\n".join(problems) + f"\nbody: {text[:300]}")
    resp = session.post(REPORT_URL, data=iter([b"{}"]), timeout=30,
                        headers={"X-Api-Key": key_a, "Content-Type": "application/json"})
    expect("report: a chunked body", resp, 411, "length_required")
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
