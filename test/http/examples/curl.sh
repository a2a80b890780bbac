#!/bin/sh
# curl.sh: the original API page's cURL example, exactly as published;
# test/http/test_examples.py runs it with the local host and a real key.
curl -X POST https://app.tracklysms.com/api/v2/history/sends \
  -H "X-Api-Key: trk_your_api_key_here" \
  -H "Content-Type: application/json" \
  -d '{
    "records": [
      {
        "id": "hist_0001",
        "list_number": "+14155551234",
        "to_number": "+12025559876",
        "message": "Check out this deal!",
        "send_type": "campaign",
        "delivered": true,
        "length": 21,
        "timestamp": "2025-11-15T14:30:00Z"
      },
      {
        "id": "hist_0002",
        "list_id": 42,
        "to_number": "+13105558888",
        "message": "Limited time offer",
        "creative_id": 101,
        "send_type": "campaign",
        "delivered": true,
        "timestamp": "2025-11-15T14:31:00Z"
      }
    ],
    "imported": true
  }'
