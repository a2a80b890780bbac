"""test_examples.py: the original page's own clients against the real stack.

Each example of the page (examples/curl.sh, python.py, node.mjs: the page's
code as published) runs with only the host and the key replaced, for a fresh
account that has the page's list (+14155551234, id 42).  Each must print the
page's documented response plus an integer import_id, and the two records
must be stored as sent.  The curl command that bin/http-up printed (saved by
test/http/run) must work the same for the account http-up made.
"""
import ast
import json
import os
import re
import subprocess
import sys

from httptest import BASE, PAGE_RESPONSE, Checks, new_account, response_problems, sql

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE_HOST = "https://app.tracklysms.com"
PAGE_KEY = "trk_your_api_key_here"
WORK = os.path.join(os.environ["TRACKLY_HTTP_DIR"], "examples")
PYTHON = os.environ.get("TRACKLY_PYTHON", "/usr/bin/python3")

checks = Checks("examples")


def parse_python_print(out):
    """print(response.json()) prints a dict's repr."""
    return ast.literal_eval(out.strip())


def parse_node_log(out):
    """console.log(data) prints util.inspect's form: bare keys, single quotes."""
    text = re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*):", r'\1"\2":', out.strip())
    text = re.sub(r"'((?:[^'\\]|\\.)*)'", lambda m: json.dumps(m.group(1)), text)
    return json.loads(text)


def prepare(name, key):
    """A copy of the example with the local host and the key; fails (and
    returns None) unless each appears exactly once, as on the page."""
    with open(os.path.join(HERE, "examples", name), encoding="utf-8") as f:
        code = f.read()
    ok = checks.check(f"{name}: the page's host and key appear once each",
                      code.count(PAGE_HOST) == 1 and code.count(PAGE_KEY) == 1,
                      f"host {code.count(PAGE_HOST)} times, key {code.count(PAGE_KEY)} times")
    if not ok:
        return None
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(code.replace(PAGE_HOST, BASE).replace(PAGE_KEY, key))
    return path


def check_stored(label, account_id, import_id):
    """The page's two records, stored for the account as the page sent them."""
    rows = sql("""
        SELECT id, list_id, to_number, message, coalesce(creative_id::text, '-'),
               send_type, delivered, coalesce(length::text, '-'),
               to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               imported, import_id
          FROM trackly.sends WHERE account_id = :'a' ORDER BY id
        """, a=account_id)
    want = [
        ["hist_0001", "42", "+12025559876", "Check out this deal!", "-", "campaign", "t", "21",
         "2025-11-15T14:30:00Z", "t", str(import_id)],
        ["hist_0002", "42", "+13105558888", "Limited time offer", "101", "campaign", "t", "-",
         "2025-11-15T14:31:00Z", "t", str(import_id)],
    ]
    checks.equal(f"{label}: both records stored, as sent, imported = true", rows, want)


def run_example(label, command, parse, account_id):
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if not checks.check(f"{label}: runs", done.returncode == 0,
                        f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"):
        return
    try:
        body = parse(done.stdout)
    except (ValueError, SyntaxError) as e:
        checks.check(f"{label}: prints a response", False, f"{e}: {done.stdout!r}")
        return
    problems = response_problems(body, PAGE_RESPONSE)
    checks.check(f"{label}: prints the documented response plus an import_id",
                 not problems, "\n".join(problems) + f"\noutput: {done.stdout}")
    if not problems:
        check_stored(label, account_id, body["import_id"])


def main():
    examples = [
        ("curl.sh", lambda p: ["sh", p], json.loads),
        ("python.py", lambda p: [PYTHON, p], parse_python_print),
        ("node.mjs", lambda p: ["node", p], parse_node_log),
    ]
    for name, command, parse in examples:
        account_id, key = new_account(f"example {name}")
        path = prepare(name, key)
        if path:
            run_example(name, command(path), parse, account_id)

    # The command bin/http-up printed, for the account it created.
    printed = os.path.join(os.environ["TRACKLY_HTTP_DIR"], "http-up.out")
    env = {}
    with open(os.path.join(os.environ["TRACKLY_HTTP_DIR"], "demo.env")) as f:
        for line in f:
            name, _, value = line.strip().partition("=")
            env[name] = value
    run_example("bin/http-up's curl command", ["bash", printed], json.loads,
                int(env["TRACKLY_ACCOUNT_ID"]))
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
