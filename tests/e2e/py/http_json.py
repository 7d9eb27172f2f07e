"""An independent HTTP/1.1 client for the JSON API tests: fetches each PATH of BASE with
Python's urllib and prints one JSON list of {"path", "method", "status", "www_authenticate",
"content_type", "body"} (body parsed as JSON, else null).

usage: http_json.py BASE TOKEN|- [POST:|DELETE:]PATH ...
"""
import json
import sys
import urllib.error
import urllib.request

base, token, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
out = []
for spec in paths:
    method, path = ("GET", spec)
    for verb in ("POST", "DELETE"):
        if spec.startswith(verb + ":"):
            method, path = verb, spec[len(verb) + 1:]
    request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    if token != "-":
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    out.append({
        "path": path,
        "method": method,
        "status": status,
        "www_authenticate": headers.get("WWW-Authenticate"),
        "content_type": headers.get("Content-Type"),
        "body": body,
    })
print(json.dumps(out))
