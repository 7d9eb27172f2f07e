"""An HTTP proxy in front of an S3 protocol server (moto) that injects the faults S3 gives.

Usage: s3_fault_proxy.py UPSTREAM MODE
  UPSTREAM  http://host:port of the real S3 server
  MODE      flaky   - every third request is answered 503 SlowDown (S3's throttling answer)
                      without reaching the server; the others are forwarded
            down    - every request is answered 503 ServiceUnavailable
            denied  - every request is answered 403 InvalidAccessKeyId (wrong credentials)
            slow    - every request is forwarded after a 250 ms delay (a slow, far bucket)
            stall   - PUTs of run manifests (`runs/<id>.json`) get no answer for 10 minutes;
                      everything else is forwarded

Prints `port <N>` on stdout once it listens on 127.0.0.1, then one line per request on stderr:
`<n> <method> <path> <status>`, so a test can count what the client sent. Stops when stdin
closes (its parent is gone).
"""

import http.client
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = urllib.parse.urlsplit(sys.argv[1])
MODE = sys.argv[2]
COUNT = 0
LOCK = threading.Lock()

ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "down": (503, "ServiceUnavailable", "Service is unable to handle request."),
    "denied": (403, "InvalidAccessKeyId",
               "The AWS Access Key Id you provided does not exist in our records."),
}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _fault(self, n):
        if MODE == "flaky" and n % 3 == 0:
            return ERRORS["slowdown"]
        if MODE in ("down", "denied"):
            return ERRORS[MODE]
        return None

    def _handle(self):
        global COUNT
        with LOCK:
            COUNT += 1
            n = COUNT
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if MODE == "slow":
            time.sleep(0.25)
        if MODE == "stall" and self.command == "PUT" and "/runs/" in self.path \
                and self.path.split("?")[0].endswith(".json"):
            print(f"{n} {self.command} {self.path} stalled", file=sys.stderr, flush=True)
            time.sleep(600)
            return
        fault = self._fault(n)
        if fault:
            status, code, message = fault
            xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                   f"<Message>{message}</Message><RequestId>fault-{n}</RequestId></Error>").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(xml)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(xml)
            print(f"{n} {self.command} {self.path} {status}", file=sys.stderr, flush=True)
            return
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        print(f"{n} {self.command} {self.path} {answer.status}", file=sys.stderr, flush=True)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"port {server.server_address[1]}", flush=True)
sys.stdin.read()
server.shutdown()
