"""An independent HTTP/1.1 client for the console's auth tests: sends each request of a JSON
list with Python's http.client — redirects are not followed, headers are sent as given (Cookie,
Origin, Authorization, …) — and prints one JSON list of answers {"status", "location",
"set_cookie", "content_type", "body"} (body parsed as JSON when it is, else the text).

usage: http_exchange.py HOST:PORT '[{"method": "GET", "path": "/", "headers": {…}, "body": "…"}, …]'
"""
import http.client
import json
import sys

address, requests = sys.argv[1], json.loads(sys.argv[2])
host, port = address.rsplit(":", 1)
out = []
for r in requests:
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    body = r.get("body")
    connection.request(r.get("method", "GET"), r["path"], body=body.encode() if body is not None else None,
                       headers=r.get("headers", {}))
    response = connection.getresponse()
    raw = response.read().decode("utf-8", "replace")
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    out.append({
        "status": response.status,
        "location": response.getheader("Location"),
        "set_cookie": response.getheader("Set-Cookie"),
        "content_type": response.getheader("Content-Type"),
        "body": parsed,
    })
    connection.close()
print(json.dumps(out))
