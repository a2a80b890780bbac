// node.mjs: the original API page's Node.js example, exactly as published;
// test/http/test_examples.py runs it with the local host and a real key.
const response = await fetch("https://app.tracklysms.com/api/v2/history/sends", {
  method: "POST",
  headers: {
    "X-Api-Key": "trk_your_api_key_here",
    "Content-Type": "application/json",
  },
  body: JSON.stringify({
    records: [
      {
        id: "hist_0001",
        list_number: "+14155551234",
        to_number: "+12025559876",
        message: "Check out this deal!",
        send_type: "campaign",
        delivered: true,
        length: 21,
        timestamp: "2025-11-15T14:30:00Z",
      },
      {
        id: "hist_0002",
        list_id: 42,
        to_number: "+13105558888",
        message: "Limited time offer",
        creative_id: 101,
        send_type: "campaign",
        delivered: true,
        timestamp: "2025-11-15T14:31:00Z",
      },
    ],
    imported: true,
  }),
});

const data = await response.json();
console.log(data);
