"""test_concurrency.py: 8 clients x 50 requests, overlapping ids, one account.

Each request holds 18 valid records whose ids come from a pool of 400 that
the clients walk through in overlapping windows, in shuffled order, plus 2
records with an invalid phone number.  Every request must answer 200 with
its records in exactly one bucket; afterwards every valid id is stored once,
no invalid one is, and the responses' counts add up to what is stored and to
what trackly.imports and trackly.import_errors recorded.
"""
import json
import random
import sys
import threading
import time

import requests

from httptest import BASE, IMPORT_PATHS, Checks, new_account, sql

CLIENTS = 8
REQUESTS = 50
VALID = 18
INVALID = 2
POOL = 400

checks = Checks("concurrency")


def request_records(client, n, rng):
    start = client * 50 + n * 9
    ids = [f"c-{(start + j) % POOL:03d}" for j in range(VALID)]
    records = [{"id": i, "list_id": 42, "to_number": "+12025559876", "message": f"from {client}",
                "timestamp": "2025-11-15T14:30:00Z"} for i in ids]
    records += [{"id": f"bad-{client}-{n}-{j}", "list_id": 42, "to_number": "+1415555123",
                 "timestamp": "2025-11-15T14:30:00Z"} for j in range(INVALID)]
    rng.shuffle(records)
    return ids, records


def client_run(client, key, results):
    rng = random.Random(client)
    session = requests.Session()
    url = BASE + IMPORT_PATHS[client % 2]
    for n in range(REQUESTS):
        ids, records = request_records(client, n, rng)
        try:
            resp = session.post(url, data=json.dumps({"records": records}), timeout=120,
                                headers={"X-Api-Key": key, "Content-Type": "application/json"})
            results.append((client, n, ids, len(records), resp.status_code, resp.text))
        except requests.RequestException as e:
            results.append((client, n, ids, len(records), None, str(e)))


def main():
    account_id, key = new_account("concurrency")
    results = []
    threads = [threading.Thread(target=client_run, args=(c, key, results)) for c in range(CLIENTS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    print(f"# {len(results)} requests of {VALID + INVALID} records in {elapsed:.1f} s")

    checks.equal("every request got an answer", len(results), CLIENTS * REQUESTS)
    bad = [r for r in results if r[4] != 200]
    checks.check("every request answered 200", not bad,
                 "\n".join(f"client {c} request {n}: {s} {t[:300]}" for c, n, _, _, s, t in bad[:5]))
    bodies = [json.loads(r[5]) for r in results if r[4] == 200]
    unbalanced = [b for b, r in zip(bodies, [r for r in results if r[4] == 200])
                  if b["success_count"] + b["error_count"] + b["duplicates_skipped"] != r[3]
                  or b["error_count"] != INVALID or b["invalid_phones"] != INVALID]
    checks.check("each response: success + errors + duplicates = records sent, "
                 "the 2 invalid records as errors", not unbalanced, unbalanced[:3])

    sent_ids = set()
    for r in results:
        sent_ids.update(r[2])
    total_success = sum(b["success_count"] for b in bodies)
    total_errors = sum(b["error_count"] for b in bodies)
    total_dups = sum(b["duplicates_skipped"] for b in bodies)
    stored = sql("SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id LIKE 'bad-%') "
                 "FROM trackly.sends WHERE account_id = :'a'", a=account_id)[0]
    stored_rows, stored_distinct, stored_bad = (int(x) for x in stored)
    checks.equal("every valid id sent is stored", stored_distinct, len(sent_ids))
    checks.equal("every id is stored once", stored_rows, stored_distinct)
    checks.equal("no invalid record is stored", stored_bad, 0)
    checks.equal("the responses' success_count add up to the rows stored", total_success, stored_rows)
    checks.equal("success + errors + duplicates add up to the records sent",
                 total_success + total_errors + total_dups, sum(r[3] for r in results))
    audit = sql("""
        SELECT count(*), sum(success_count), sum(error_count), sum(duplicates_skipped),
               sum(invalid_phones),
               (SELECT count(*) FROM trackly.import_errors WHERE account_id = :'a')
          FROM trackly.imports WHERE account_id = :'a'
        """, a=account_id)[0]
    checks.equal("trackly.imports and import_errors match the responses",
                 [int(x) for x in audit],
                 [len(bodies), total_success, total_errors, total_dups,
                  sum(b["invalid_phones"] for b in bodies), total_errors])
    stored_ids = {row[0] for row in sql("SELECT id FROM trackly.sends WHERE account_id = :'a'",
                                        a=account_id)}
    checks.equal("the stored ids are exactly the valid ids sent", stored_ids, sent_ids)
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
