"""test_outage.py: with PostgREST gone, nginx answers 503 in the function's shape.

Runs last: it stops the PostgREST that bin/http-up started (by its pid file),
then posts the page's example through nginx.
"""
import os
import signal
import sys
import time

import requests

from httptest import IMPORT_URL, PAGE_BODY, Checks, failure_problems, parse_json

checks = Checks("outage")


def running(pid):
    """Is pid alive (not gone, not a zombie waiting to be reaped)?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def main():
    pidfile = os.path.join(os.environ["TRACKLY_HTTP_DIR"], "postgrest.pid")
    with open(pidfile) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not running(pid):
            break
        time.sleep(0.1)
    resp = requests.post(IMPORT_URL, json=PAGE_BODY, timeout=30,
                         headers={"X-Api-Key": "trk_" + "A" * 32})
    problems = failure_problems(parse_json(resp.text), "unavailable")
    if resp.status_code != 503:
        problems.insert(0, f"status {resp.status_code}")
    checks.check("PostgREST stopped: 503 unavailable, in the function's shape", not problems,
                 "\n".join(problems) + f"\nbody: {resp.text[:300]}")
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
