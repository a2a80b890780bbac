"""test_isolation.py: the anonymous role reaches nothing but the import.

In the database: the authenticator is a bare LOGIN NOINHERIT role that can
only become the anonymous role; the anonymous role holds no privilege on any
table or sequence and can execute no function of the extension's schemas but
trackly_import_sends(jsonb) and the validators (executable by PUBLIC, README
Functions), and every attempt to read a table or call an admin function as it
fails.  Through PostgREST itself: no table, no admin function, no other
schema, no OpenAPI description.  Through nginx: nothing but the two import
paths, however the path is written.
"""
import json
import sys

from httptest import Checks, parse_json, raw_request, sql, sql_as

ANON = "trackly_web"
AUTHENTICATOR = "trackly_authenticator"
TABLES = ["accounts", "api_keys", "lists", "sends", "imports", "import_errors", "history_clears", "send_stats"]
ALLOWED_FUNCTIONS = {"trackly_import_sends(jsonb)", "trackly_import_sends_body(bytea)",
                     "trackly_clear_history(jsonb)", "trackly_clear_history_body(bytea)",
                     "trackly_import_errors(jsonb)", "trackly_import_errors_body(bytea)",
                     "trackly_report(jsonb)", "trackly_report_body(bytea)",
                     "trackly_check_api_key()", "trackly_is_e164(text)",
                     "trackly_is_valid_phone(text)", "trackly_is_iso8601(text)", "trackly_iso8601(text)"}
ADMIN_CALLS = {
    "trackly_create_account": {"name": "intruder"},
    "trackly_create_api_key": {"account_id": 1},
    "trackly_list_api_keys": {"account_id": 1},
    "trackly_revoke_api_key": {"key_id": 1},
    "trackly_create_list": {"account_id": 1, "phone_number": "+14155551234", "name": "x", "id": 7},
    "trackly_set_phone_validation": {"account_id": 1, "mode": "valid"},
    "trackly_distribute": {},
    "trackly_purge_import_errors": {"older_than": "0 days"},
}

checks = Checks("isolation")


def database():
    role = sql("""
        SELECT r.rolcanlogin, r.rolinherit, r.rolsuper, r.rolcreaterole, r.rolcreatedb,
               r.rolbypassrls,
               (SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m
                  JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)
          FROM pg_roles r WHERE r.rolname = :'r'
        """, r=AUTHENTICATOR)
    checks.equal(f"{AUTHENTICATOR}: LOGIN NOINHERIT, nothing more, member of {ANON} only",
                 role, [["t", "f", "f", "f", "f", "f", ANON]])
    role = sql("""
        SELECT r.rolcanlogin, r.rolsuper,
               (SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m
                  JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)
          FROM pg_roles r WHERE r.rolname = :'r'
        """, r=ANON)
    checks.equal(f"{ANON}: NOLOGIN, member of trackly_api only", role, [["f", "f", "trackly_api"]])

    granted = sql("""
        SELECT c.oid::regclass, c.relkind FROM pg_class c
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
           AND c.relnamespace::regnamespace::text NOT LIKE 'pg_toast%'
           AND (has_table_privilege(:'r', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                OR (c.relkind = 'S' AND has_sequence_privilege(:'r', c.oid, 'USAGE, SELECT, UPDATE')))
        """, r=ANON)
    checks.equal(f"{ANON} holds no privilege on any table or sequence", granted, [])
    tables = sql("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'trackly'::regnamespace "
                 "AND c.relkind = 'r' ORDER BY 1")
    checks.equal("the trackly tables are the ones tried below", [t[0] for t in tables], sorted(TABLES))
    checks.equal(f"{ANON} has no USAGE on schema trackly",
                 sql("SELECT has_schema_privilege(:'r', 'trackly', 'USAGE')", r=ANON), [["f"]])

    executable = {row[0] for row in sql("""
        SELECT p.oid::regprocedure FROM pg_proc p
         WHERE p.pronamespace IN ('trackly'::regnamespace,
                                  (SELECT extnamespace FROM pg_extension WHERE extname = 'trackly_history'))
           AND has_function_privilege(:'r', p.oid, 'EXECUTE')
        """, r=ANON)}
    checks.equal(f"{ANON} executes only the API functions, the key check and the validators",
                 executable, ALLOWED_FUNCTIONS)

    for table in TABLES:
        ok, err = sql_as(ANON, f"SELECT count(*) FROM trackly.{table};")
        checks.check(f"as {ANON}: reading trackly.{table} is refused",
                     not ok and "permission denied" in err, err or "it worked")
    for call in ["SELECT trackly_create_account('intruder')",
                 "SELECT trackly_create_api_key(1)",
                 "SELECT * FROM trackly_list_api_keys(1)",
                 "SELECT trackly_revoke_api_key(1::bigint)",
                 "SELECT trackly_create_list(1, NULL, 'x')",
                 "SELECT trackly_import_sends('{\"records\": [1]}'::jsonb, 1)",
                 "SELECT trackly_clear_history('{\"all\": true}'::jsonb, 1)",
                 "SELECT trackly_import_errors('{\"import_id\": 1}'::jsonb, 1)",
                 "SELECT trackly_purge_import_errors('0 days')",
                 "CALL trackly_purge_import_errors_batched('0 days')",
                 "SELECT trackly.generate_api_key()"]:
        ok, err = sql_as(ANON, call + ";")
        checks.check(f"as {ANON}: {call} is refused", not ok and "permission denied" in err,
                     err or "it worked")


def postgrest():
    for table in TABLES:
        for path, headers in [(f"/{table}", {}), (f"/{table}", {"Accept-Profile": "trackly"}),
                              (f"/trackly.{table}", {})]:
            status, _, text = raw_request("GET", path, headers=headers, postgrest=True)
            body = parse_json(text)
            checks.check(f"PostgREST: GET {path} {json.dumps(headers) if headers else ''}"
                         f" shows no rows", status in (404, 406) and isinstance(body, dict)
                         and "code" in body, f"{status} {text[:300]}")
    for function, args in ADMIN_CALLS.items():
        status, _, text = raw_request("POST", f"/rpc/{function}", body=json.dumps(args),
                                      headers={"Content-Type": "application/json"}, postgrest=True)
        body = parse_json(text) or {}
        checks.check(f"PostgREST: POST /rpc/{function} is refused (permission denied)",
                     status == 401 and body.get("code") == "42501", f"{status} {text[:300]}")
    status, _, text = raw_request("GET", "/", postgrest=True)
    checks.check("PostgREST: no OpenAPI description at /", status == 404 and "paths" not in text,
                 f"{status} {text[:300]}")
    leaked = sql("SELECT count(*) FROM trackly.accounts WHERE name = 'intruder'")
    checks.equal("no account was created through PostgREST", leaked, [["0"]])


def nginx():
    paths = ["/", "/rpc/trackly_import_sends", "/rpc/trackly_create_account", "/accounts",
             "/trackly.accounts", "/sends", "/v2/history/sends/", "/v2/history",
             "/api/v2/history/sends/extra", "/api/v2/history", "/v1/history/sends",
             "/v2/history/sends.json", "/xv2/history/sends", "/api/api/v2/history/sends",
             "/v2/history/sends/../../rpc/trackly_create_account",
             "/v2/history/sends/%2e%2e/%2e%2e/rpc/trackly_import_sends",
             "/rpc/trackly_import_sends?x=1", "/v2/history/sends%00", "/index.html",
             "/v2/history/clear/", "/v2/history/import_errors", "/api/v2/history/clear/extra",
             "/v2/history/clear/%2e%2e/%2e%2e/rpc/trackly_clear_history", "/rpc/trackly_clear_history",
             "/rpc/trackly_import_errors_body", "/v2/history/Clear", "/v2/reports/sends/",
             "/v2/reports", "/v2/reports/Sends", "/api/v2/reports/sends/extra", "/rpc/trackly_report_body",
             "/v2/reports/sends/%2e%2e/%2e%2e/rpc/trackly_report"]
    for path in paths:
        for method in ["GET", "POST"]:
            status, headers, text = raw_request(method, path, body="{}" if method == "POST" else None,
                                                headers={"Content-Type": "application/json"})
            body = parse_json(text)
            ok = status == 404 and isinstance(body, dict) and \
                body.get("errors", [{}])[0].get("code") == "not_found"
            if "%00" in path:
                # nginx refuses a NUL in the path outright, in JSON.
                ok = status == 400 and isinstance(body, dict) and \
                    body.get("errors", [{}])[0].get("code") == "bad_request"
            checks.check(f"nginx: {method} {path}: 404 not_found", ok, f"{status} {text[:300]}")


def main():
    database()
    postgrest()
    nginx()
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
