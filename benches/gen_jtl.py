#!/usr/bin/env python3
"""Generate a realistic, deterministic JMeter 5.x JTL (CSV or XML) for ingest benchmarks.

The data imitates a one-hour HTTP test with one thread group of 100 threads (`Thread Group 1-N`,
ramp-up over the first 5 minutes) hitting 20 labels:

* CSV: the JMeter 5.0-5.6.3 default header (17 columns, see shared/design/jmeter-notes.md §1.2),
  `\\n` line ends, fields quoted only when they contain `,`, `"`, CR or LF, with `"` doubled,
  exactly as JMeter's CSVSaveService writes them.
* XML: `<testResults version="1.2">` with one `<httpSample .../>` per line, attributes in JMeter's
  write order (t it lt ct ts s lb rc rm tn dt by sby ng na); assertion failures, and every
  sample of the one label that carries a passing Response Assertion, get `<assertionResult>`
  children (jmeter-notes.md §2).

Row model:
* `timeStamp` is the sample *start* (JMeter's shipped default).  Rows are written in completion
  order, so timestamps are only roughly increasing, as in a real file.
* `elapsed` is exponential around a per-label mean, plus ~0.1 % spikes of 5-36x.
  `Latency <= elapsed`, `Connect <= Latency` (Connect is 0 on a reused keep-alive connection).
* ~1 % failures: HTTP 500, HTTP 404, `Non HTTP response code: java.net.SocketTimeoutException`
  (`Non HTTP response message: Read timed out`), and assertion failures with a failureMessage
  (some of which contain `,` or `"`, so they are quoted in CSV).
* ~0.16 % of the rows have a quoted CSV field containing a comma: 0.04 % a URL whose query string
  has one, 0.12 % an assertion failureMessage.  Another 0.06 % carry a failureMessage with `"`
  (quoted, the quotes doubled).

The same seed gives byte-identical output on any CPython >= 3.2.

Usage:  gen_jtl.py [ROWS] [-o OUT] [--format csv|xml] [--seed N] [--xml-url]
Prints the output path and its size in bytes.
"""

import argparse
import math
import os
import random
import sys
import time

CSV_HEADER = (
    "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"
    "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n"
)

HOST = "https://shop.example.com"

# (label, URL path, mean elapsed ms, min elapsed ms, mean received bytes, sent bytes, weight)
LABELS = [
    ("Home page", "/", 180, 20, 48213, 612, 10),
    ("Login page", "/login", 95, 10, 12044, 598, 5),
    ("Login submit", "/login", 260, 40, 1830, 845, 5),
    ("Search products", "/search?q=shoes", 320, 30, 35120, 640, 9),
    ("Search & filter", "/search?q=shoes&size=42&sort=price", 410, 40, 33877, 671, 6),
    ("Product detail", "/product/1042", 150, 15, 27650, 625, 12),
    ("Product reviews", "/product/1042/reviews", 210, 20, 15432, 633, 5),
    ("Add to cart", "/cart/add", 230, 25, 2140, 903, 7),
    ("View cart", "/cart", 140, 15, 9876, 601, 6),
    ("Update cart", "/cart/update", 190, 20, 2290, 915, 3),
    ("Checkout start", "/checkout", 380, 40, 18760, 652, 4),
    ("Checkout shipping", "/checkout/shipping", 290, 30, 6540, 1120, 3),
    ("Checkout payment", "/checkout/payment", 720, 80, 4320, 1388, 3),
    ("Order confirmation", "/order/confirm", 330, 35, 11230, 640, 3),
    ("Order history", "/account/orders", 260, 25, 21450, 615, 3),
    ("API get items", "/api/v1/items?page=1", 85, 8, 7820, 410, 6),
    ("API create item", "/api/v1/items", 216, 0, 512, 1204, 4),
    ("API update item", "/api/v1/items/77", 175, 10, 498, 1180, 2),
    ("Static assets", "/static/app.js", 35, 2, 184320, 540, 3),
    ("Logout", "/logout", 70, 8, 1024, 590, 1),
]
assert len(LABELS) == 20

# The one label whose samples carry a (passing) Response Assertion in XML.
ASSERTED_LABEL = "Login submit"

# Assertion failures: (assertion name, failureMessage).  Some contain ',' or '"' (quoted in CSV).
ASSERTION_FAILURES = [
    ("Response Assertion", "Test failed: text expected to contain /Welcome back/"),
    ("Response Assertion", 'Test failed: text expected to contain /"status":"ok"/'),
    ("Duration Assertion",
     "The operation lasted too long: It took 2,345 milliseconds, "
     "but should not have lasted longer than 2,000 milliseconds."),
    ("JSON Assertion", "Value expected to be 'ok', but found 'error'"),
    ("Size Assertion", "The result was the wrong size: It was 0 bytes, but should be > 100 bytes."),
]

# Index of the Duration Assertion failure, whose elapsed must match its message.
DURATION_FAILURE = 2
assert ASSERTION_FAILURES[DURATION_FAILURE][0] == "Duration Assertion"

THREADS = 100
RAMP_UP_MS = 300_000
DURATION_MS = 3_600_000
START_MS = 1_763_798_400_000  # 2025-11-22T08:00:00Z
CHUNK = 100_000  # rows per write


def csv_field(s):
    """Quote a string field the way JMeter's CSVSaveService.quoteDelimiters does."""
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def xml_attr(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def label_picker():
    """A 4096-entry table mapping 12 random bits to a label index, by weight."""
    total = sum(l[6] for l in LABELS)
    table = []
    for i, l in enumerate(LABELS):
        table += [i] * round(4096 * l[6] / total)
    table = (table + [0] * 4096)[:4096]
    return table


def exp_table():
    """-ln(u) for 65536 evenly spaced u in (0,1): an exponential variate from 16 random bits."""
    return [-math.log((k + 0.5) / 65536.0) for k in range(65536)]


def samples(n, seed):
    """Yield n tuples (kind, label_idx, ts, elapsed, latency, connect, thread_idx, active,
    bytes, sent, extra); kind: 0 ok, 1 http 500, 2 http 404, 3 timeout, 4 assertion failure,
    5 ok with a comma in the URL.  `extra` is the assertion index for kind 4."""
    rng = random.Random(seed)
    rand = rng.random
    bits = rng.getrandbits
    pick = label_picker()
    expo = exp_table()
    means = [l[2] for l in LABELS]
    mins = [l[3] for l in LABELS]
    rbytes = [l[4] for l in LABELS]
    sbytes = [l[5] for l in LABELS]
    step = DURATION_MS / max(n, 1)
    n_assert = len(ASSERTION_FAILURES)
    for i in range(n):
        rel = i * step  # completion time, ms since start
        active = THREADS if rel >= RAMP_UP_MS else 1 + int(rel * THREADS / RAMP_UP_MS)
        li = pick[bits(12)]
        r = rand()
        el = mins[li] + int(means[li] * expo[bits(16)])
        kind = 0
        extra = 0
        if r < 0.0114:
            if r < 0.003:
                kind = 1
            elif r < 0.005:
                kind = 2
            elif r < 0.007:
                kind = 3
                el = 30_000 + bits(6)
            elif r < 0.010:
                kind = 4
                extra = bits(8) % n_assert
                if extra == DURATION_FAILURE:
                    el = 2345  # what its message says
            elif r < 0.0104:
                kind = 5  # 0.04 %, plus 0.12 % assertion messages with a comma = ~0.16 % quoted
            else:
                el *= 5 + bits(5)  # spike
        lt = el - ((el * bits(7)) >> 8)  # el/2 .. el
        ct = 0
        if bits(5) == 0:  # a new connection for ~3 % of samples
            ct = 1 + bits(5)
            if ct > lt:
                ct = lt
        if kind == 3:  # no response byte ever arrived; the connection was reused
            lt = 0
            ct = 0
        ts = START_MS + int(rel) - el
        yield (kind, li, ts, el, lt, ct, 1 + int(rand() * active), active,
               rbytes[li] + bits(8), sbytes[li] + bits(3), extra)


def write_csv(out, n, seed):
    # Per label: the text between `elapsed,` and `threadName`, and the URL field, per kind.
    mids = []
    for (name, path, *_rest) in LABELS:
        lab = csv_field(name)
        url = csv_field(HOST + path)
        comma_url = csv_field(HOST + path + ("&" if "?" in path else "?") + "tags=red,blue")
        mids.append({
            0: (lab + ",200,OK,", ",text,true,,", url),
            1: (lab + ",500,Internal Server Error,", ",text,false,,", url),
            2: (lab + ",404,Not Found,", ",text,false,,", url),
            3: (lab + ",Non HTTP response code: java.net.SocketTimeoutException,"
                "Non HTTP response message: Read timed out,", ",text,false,,", url),
            5: (lab + ",200,OK,", ",text,true,,", comma_url),
        })
    assert_mids = [[(csv_field(name) + ",200,OK,", ",text,false," + csv_field(msg) + ",",
                     csv_field(HOST + path)) for (_a, msg) in ASSERTION_FAILURES]
                   for (name, path, *_r) in LABELS]
    threads = ["Thread Group 1-%d" % k for k in range(THREADS + 1)]
    timeout_bytes = 2245  # the stack trace JMeter stores as response data
    buf = [CSV_HEADER]
    for (kind, li, ts, el, lt, ct, th, act, by, sby, extra) in samples(n, seed):
        if kind == 4:
            a, b, url = assert_mids[li][extra]
        else:
            a, b, url = mids[li][kind]
            if kind == 3:
                by, sby = timeout_bytes, 0
        buf.append(f"{ts},{el},{a}{threads[th]}{b}{by},{sby},{act},{act},{url},{lt},0,{ct}\n")
        if len(buf) >= CHUNK:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


def write_xml(out, n, seed, with_url):
    heads = []  # per label: ' lb="…" ' fragments and URL element
    for (name, path, *_rest) in LABELS:
        heads.append((xml_attr(name), xml_text(HOST + path),
                      xml_text(HOST + path + ("&" if "?" in path else "?") + "tags=red,blue")))
    rcrm = {
        0: ('200', 'OK'), 5: ('200', 'OK'), 4: ('200', 'OK'),
        1: ('500', 'Internal Server Error'), 2: ('404', 'Not Found'),
        3: ('Non HTTP response code: java.net.SocketTimeoutException',
            'Non HTTP response message: Read timed out'),
    }
    threads = ["Thread Group 1-%d" % k for k in range(THREADS + 1)]
    passing = ("  <assertionResult>\n    <name>Response Assertion</name>\n"
               "    <failure>false</failure>\n    <error>false</error>\n  </assertionResult>\n")
    failing = [("  <assertionResult>\n    <name>%s</name>\n    <failure>true</failure>\n"
                "    <error>false</error>\n    <failureMessage>%s</failureMessage>\n"
                "  </assertionResult>\n") % (xml_text(a), xml_text(m))
               for (a, m) in ASSERTION_FAILURES]
    asserted = [name == ASSERTED_LABEL for (name, *_r) in LABELS]
    buf = ['<?xml version="1.0" encoding="UTF-8"?>\n<testResults version="1.2">\n']
    for (kind, li, ts, el, lt, ct, th, act, by, sby, extra) in samples(n, seed):
        lb, url, comma_url = heads[li]
        rc, rm = rcrm[kind]
        ok = "true" if kind in (0, 5) else "false"
        if kind == 3:
            by, sby = 2245, 0
        attrs = (f'<httpSample t="{el}" it="0" lt="{lt}" ct="{ct}" ts="{ts}" s="{ok}" lb="{lb}" '
                 f'rc="{rc}" rm="{rm}" tn="{threads[th]}" dt="text" by="{by}" sby="{sby}" '
                 f'ng="{act}" na="{act}"')
        children = ""
        if kind == 4:
            children = failing[extra]
        elif asserted[li]:
            children = passing
        if with_url:
            children += "  <java.net.URL>%s</java.net.URL>\n" % (comma_url if kind == 5 else url)
        if children:
            buf.append(f"{attrs}>\n{children}</httpSample>\n")
        else:
            buf.append(attrs + "/>\n")
        if len(buf) >= CHUNK:
            out.write("".join(buf))
            buf.clear()
    buf.append("</testResults>\n")
    out.write("".join(buf))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rows", nargs="?", default="10_000_000",
                   help="number of samples (default 10_000_000; underscores allowed)")
    p.add_argument("-o", "--output", help="output file (default jtl-ROWS.csv / .xml)")
    p.add_argument("--format", choices=("csv", "xml"), default="csv")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--xml-url", action="store_true",
                   help="XML: add the <java.net.URL> child JMeter 5.x writes by default")
    args = p.parse_args(argv)
    n = int(args.rows)
    if n < 0:
        p.error("ROWS must be >= 0")
    path = args.output or "jtl-%d.%s" % (n, args.format)
    t0 = time.perf_counter()
    # Write to a temporary name so an interrupted run never leaves a plausible-looking file.
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 22) as out:
        if args.format == "csv":
            write_csv(out, n, args.seed)
        else:
            write_xml(out, n, args.seed, args.xml_url)
    os.replace(tmp, path)
    dt = time.perf_counter() - t0
    size = os.path.getsize(path)
    print("%s %d bytes" % (path, size))
    print("generated %d %s rows in %.1f s (%.0f rows/s, %.1f MB/s)"
          % (n, args.format, dt, n / dt if dt else 0, size / dt / 1e6 if dt else 0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
