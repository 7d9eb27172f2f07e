#!/usr/bin/env python3
"""Tiny HTTP server used as the target of the JMeter fixture runs.

Usage: fixture-server.py [PORT] [MAX_LIFETIME_SECONDS]   (PORT 0: any free port, said on stderr)
       (defaults: 18213, 120)

Listens on 127.0.0.1 (or the address in FIXTURE_SERVER_HOST: the network-namespace tests use a
bridge that exists only on this machine) and exits by itself after MAX_LIFETIME_SECONDS.
Python 3 standard library only.

Endpoints (GET unless stated):
  /ok                200 text/plain, small body
  /json              200 application/json {"id":42,"name":"widget"}
  /slow?ms=N         sleeps N ms (default 100), then 200 text/plain
                     optional &fail=P: answers 500 with probability P percent
  /search?page=N     200 JSON; the result list is empty when N is a multiple of 3
                     (lets a Response Assertion fail on some requests)
  /flaky?every=N&ms=M  sleeps M ms (default 20); every N-th call (one global counter per N,
                     default 2) answers 500, the others 200
  /notfound          404
  /error             500
  /busy              503 with the non-standard reason phrase
                     "Service Unavailable, retry later" (comma in responseMessage)
  /hang?ms=N         sleeps N ms (default 5000) then 200; for response-timeout tests
  /login             POST: reads the form body, 200, sets a "session" cookie,
                     body {"user_id":"u-<user>"} where <user> is the "user" form field
  /order             GET/POST: 200 text/plain "ORDER: A-<n>, "gift wrap"" (n = global counter);
                     the value contains a comma and double quotes on purpose
  /page              200 text/html page referencing embedded resources
                     (/img/logo.png, /img/banner.png, /static/site.css, /img/missing.png)
  /img/*.png         200 image/png (a real 1x1 PNG); /img/missing.png gives 404
  /static/site.css   200 text/css
  /styled            200 text/html page referencing /static/refs.css (a stylesheet whose
                     url(...) names /img/missing.png), /static/app.js and /img/logo.png
  /static/refs.css   200 text/css "body { background: url(/img/missing.png) }"
  /static/app.js     200 application/javascript
  /echo?QUERY        GET/POST: 200 text/plain; the body is the URL-decoded query string
                     (for a POST with a body, "&" and the decoded form body are appended),
                     no trailing newline; response header "X-Echo: <raw query string>"
  /inc?n=N           200 text/plain "n=<N+1>" (N missing or not an integer counts as 0)
  /items?n=N         200 application/json {"items":[{"id":"i-101"},...,{"id":"i-<100+N>"}]}
                     (N default 3, at most 50); response header "X-Item-Count: N"
  /redirect?hops=N&to=PATH  302 Found, relative Location: "/redirect?hops=<N-1>&to=PATH"
                     while N > 1, else PATH (defaults: hops 1, to /ok); empty body
  /size?n=N          200 text/plain, a body of exactly N bytes "xxx..." (default 100, max 1e6)
  /cache?cc=C&etag=E&lm=1&exp=X  200 text/plain "cached thing" with the caching headers asked for:
                     Cache-Control: C; ETag: "E"; Last-Modified: Sat, 01 Jan 2000 00:00:00 GMT (lm=1);
                     Expires: Thu, 01 Jan 1970 00:00:00 GMT (exp=past) or Fri, 01 Jan 2100
                     00:00:00 GMT (exp=future). 304 Not Modified (no body) when If-None-Match is
                     the ETag, or (without an ETag) If-Modified-Since is the Last-Modified
  /basic-auth?user=U&pass=P  200 text/plain "auth ok: U" when the request carries
                     "Authorization: Basic base64(U:P)", else 401 Unauthorized with
                     'WWW-Authenticate: Basic realm="fixture"' (a client may then retry)
  /multipart         POST multipart/form-data: 200 text/plain, one line per part as Python's
                     email package parses it: "name|filename|content type|payload" (the payload
                     decoded as UTF-8, newlines as \n); 400 when the body is not multipart
  anything else      404
"""
import base64
import json
import os
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e2216bc3"
    "0000000049454e44ae426082"
)

PAGE_HTML = b"""<!DOCTYPE html>
<html><head><title>Fixture shop</title>
<link rel="stylesheet" href="/static/site.css">
</head><body>
<h1>Fixture shop</h1>
<img src="/img/logo.png" alt="logo">
<img src="/img/banner.png" alt="banner">
<img src="/img/missing.png" alt="missing">
<p>widget in stock</p>
</body></html>
"""

CSS = b"body { font-family: sans-serif; }\n"

STYLED_HTML = b"""<!DOCTYPE html>
<html><head><title>Styled</title>
<link rel="stylesheet" href="/static/refs.css">
<script src="/static/app.js"></script>
</head><body>
<img src="/img/logo.png" alt="logo">
</body></html>
"""

REFS_CSS = b"body { background: url(/img/missing.png) }\n"

APP_JS = b"var fixture = 1;\n"

_order_lock = threading.Lock()
_order_counter = [1000]
_flaky_counters = {}


def _multipart_parts(content_type, body):
    """(code, text) for /multipart: the parts as the standard library's email parser reads them."""
    import email
    import email.policy
    msg = email.message_from_bytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body,
                                   policy=email.policy.HTTP)
    if not msg.is_multipart():
        return 400, "not multipart: %s\n" % content_type
    lines = []
    for p in msg.iter_parts():
        payload = (p.get_payload(decode=True) or b"").decode("utf-8", "replace").replace("\n", "\\n")
        lines.append("%s|%s|%s|%s" % (p.get_param("name", header="content-disposition"),
                                      p.get_filename(), p.get_content_type(), payload))
    return 200, "\n".join(lines)


def _int(qs, name, default):
    try:
        return int(qs.get(name, [default])[0])
    except (TypeError, ValueError):
        return default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    server_version = "fixture-server/1.0"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK
        # would add ~40 ms to every keep-alive response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet unless FIXTURE_SERVER_VERBOSE is set
        if os.environ.get("FIXTURE_SERVER_VERBOSE"):
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def _send(self, code, body, ctype="text/plain; charset=utf-8", reason=None, headers=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            self.send_response(code, reason)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. JMeter response timeout on /hang).
            self.close_connection = True

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _route(self):
        url = urlsplit(self.path)
        path, qs = url.path, parse_qs(url.query)
        body = self._read_body() if self.command in ("POST", "PUT") else b""

        if path == "/ok":
            return self._send(200, "OK: fixture server says hello\n")
        if path == "/json":
            return self._send(200, json.dumps({"id": 42, "name": "widget"}, separators=(",", ":")),
                              "application/json")
        if path == "/slow":
            time.sleep(max(0, _int(qs, "ms", 100)) / 1000.0)
            fail = _int(qs, "fail", 0)
            if fail > 0 and random.random() * 100 < fail:
                return self._send(500, "slow backend failed\n")
            return self._send(200, "slow OK: widget in stock\n")
        if path == "/search":
            page = _int(qs, "page", 1)
            results = [] if page % 3 == 0 else [{"id": 42, "name": "widget"}]
            return self._send(200, json.dumps({"page": page, "results": results}, separators=(",", ":")),
                              "application/json")
        if path == "/flaky":
            every = max(1, _int(qs, "every", 2))
            with _order_lock:
                n = _flaky_counters.get(every, 0) + 1
                _flaky_counters[every] = n
            time.sleep(max(0, _int(qs, "ms", 20)) / 1000.0)
            if n % every == 0:
                return self._send(500, "flaky backend failed\n")
            return self._send(200, "payment accepted\n")
        if path == "/notfound":
            return self._send(404, "not found\n")
        if path == "/error":
            return self._send(500, "internal error\n")
        if path == "/busy":
            return self._send(503, "busy\n", reason="Service Unavailable, retry later")
        if path == "/hang":
            time.sleep(max(0, _int(qs, "ms", 5000)) / 1000.0)
            return self._send(200, "finally\n")
        if path == "/login":
            if self.command != "POST":
                return self._send(405, "use POST\n", headers=[("Allow", "POST")])
            form = parse_qs(body.decode("utf-8", "replace"))
            user = form.get("user", ["anonymous"])[0]
            sid = "s%08x" % random.getrandbits(32)
            return self._send(200, json.dumps({"user_id": "u-%s" % user}, separators=(",", ":")),
                              "application/json", headers=[("Set-Cookie", "session=%s; Path=/" % sid)])
        if path == "/order":
            with _order_lock:
                _order_counter[0] += 1
                n = _order_counter[0]
            return self._send(200, 'ORDER: A-%d, "gift wrap"\n' % n)
        if path == "/page":
            return self._send(200, PAGE_HTML, "text/html; charset=utf-8")
        if path.startswith("/img/") and path.endswith(".png") and path != "/img/missing.png":
            return self._send(200, PNG_1X1, "image/png")
        if path == "/static/site.css":
            return self._send(200, CSS, "text/css")
        if path == "/styled":
            return self._send(200, STYLED_HTML, "text/html; charset=utf-8")
        if path == "/static/refs.css":
            return self._send(200, REFS_CSS, "text/css")
        if path == "/static/app.js":
            return self._send(200, APP_JS, "application/javascript")
        # ---- endpoints of the runner fidelity corpus (tests/data/runner/fidelity/)
        if path == "/echo":
            text = unquote_plus(url.query)
            if body:
                form = unquote_plus(body.decode("utf-8", "replace"))
                text = text + "&" + form if text else form
            return self._send(200, text, headers=[("X-Echo", url.query)])
        if path == "/multipart":
            return self._send(*_multipart_parts(self.headers.get("Content-Type", ""), body))
        if path == "/inc":
            return self._send(200, "n=%d" % (_int(qs, "n", 0) + 1))
        if path == "/items":
            n = min(50, max(0, _int(qs, "n", 3)))
            items = [{"id": "i-%d" % (100 + i)} for i in range(1, n + 1)]
            return self._send(200, json.dumps({"items": items}, separators=(",", ":")),
                              "application/json", headers=[("X-Item-Count", str(n))])
        if path == "/redirect":
            hops = _int(qs, "hops", 1)
            to = qs.get("to", ["/ok"])[0]
            if not to.startswith("/"):
                to = "/" + to
            loc = "/redirect?hops=%d&to=%s" % (hops - 1, quote(to, safe="/")) if hops > 1 else to
            return self._send(302, "", headers=[("Location", loc)])
        if path == "/cache":
            lm = "Sat, 01 Jan 2000 00:00:00 GMT"
            etag = qs.get("etag", [""])[0]
            headers = []
            if qs.get("cc"):
                headers.append(("Cache-Control", qs["cc"][0]))
            if etag:
                headers.append(("ETag", '"%s"' % etag))
            if qs.get("lm"):
                headers.append(("Last-Modified", lm))
            exp = qs.get("exp", [""])[0]
            if exp:
                headers.append(("Expires", "Thu, 01 Jan 1970 00:00:00 GMT" if exp == "past"
                                else "Fri, 01 Jan 2100 00:00:00 GMT"))
            if etag and self.headers.get("If-None-Match") == '"%s"' % etag or \
                    not etag and qs.get("lm") and self.headers.get("If-Modified-Since") == lm:
                return self._send(304, b"", headers=headers)
            return self._send(200, "cached thing", headers=headers)
        if path == "/basic-auth":
            user, password = qs.get("user", [""])[0], qs.get("pass", [""])[0]
            want = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            if self.headers.get("Authorization", "") == want:
                return self._send(200, "auth ok: %s" % user)
            return self._send(401, "authorization required\n",
                              headers=[("WWW-Authenticate", 'Basic realm="fixture"')])
        if path == "/size":
            n = min(1000000, max(0, _int(qs, "n", 100)))
            return self._send(200, b"x" * n)
        return self._send(404, "no such endpoint\n")

    do_GET = _route
    do_POST = _route
    do_HEAD = _route


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18213
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    host = os.environ.get("FIXTURE_SERVER_HOST", "127.0.0.1")
    httpd = Server((host, port), Handler)

    def expire():
        sys.stderr.write("fixture-server: max lifetime %.0fs reached, exiting\n" % lifetime)
        sys.stderr.flush()
        os._exit(0)

    t = threading.Timer(lifetime, expire)
    t.daemon = True
    t.start()
    sys.stderr.write("fixture-server: listening on http://%s:%d/ for at most %.0fs\n" % (host, httpd.server_address[1], lifetime))
    sys.stderr.flush()
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
