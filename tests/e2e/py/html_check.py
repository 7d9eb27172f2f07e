"""Opens one of loadlake's HTML pages in headless Chromium with the network blocked and reports
what a person would see, for the Rust e2e tests (tests/e2e/html.rs) to assert on.

usage: html_check.py PAGE.html --screenshot OUT.png [--expect-charts N]

Uses Python playwright driving Debian's /usr/bin/chromium (no `playwright install`). Every request
whose URL is not file: or data: is aborted and listed. Prints ONE JSON object:
  errors            console errors, page errors and the page's own document.body.dataset.errors
  blocked_requests  URLs the page tried to load from the network (must be none)
  charts_ready      document.body.dataset.chartsReady as a number (null if never set in 15 s)
  canvases          [{w, h, painted_pixels}] for each chart canvas (pixels with alpha > 0)
  screenshot        {bytes, distinct_colors, nonwhite_fraction} of the full-page PNG
  details           run page: [{level, case, name, fields: {jsonField: cell text}}]
  statistics        run page: [{label, fields: {jsonField: cell text}}] (JMeter Statistics)
  outline           run page: {jsonField: card text}
  axes              {chart name: {x_label, y_label, y_ticks}} of each drawn chart, from its uPlot
                    (the y axis' label and the tick texts it last drew)
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import argparse
import json
import os
import pathlib
import struct
import sys
import zlib

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000

# Read from the DOM: chart canvases and the tables' cells, keyed by their data-* attributes.
CANVASES_JS = """() => Array.from(document.querySelectorAll('canvas')).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
  return {w: c.width, h: c.height, painted_pixels: n};
})"""
TABLES_JS = """() => {
  const fields = el => Object.fromEntries(Array.from(el.querySelectorAll('[data-field]'))
    .map(td => [td.dataset.field, td.textContent.trim()]));
  return {
    details: Array.from(document.querySelectorAll('#details tbody tr[data-level]')).map(tr =>
      ({level: tr.dataset.level, case: tr.dataset.case, name: tr.dataset.name, fields: fields(tr)})),
    statistics: Array.from(document.querySelectorAll('#jmeter-statistics tbody tr[data-label]')).map(tr =>
      ({label: tr.dataset.label, fields: fields(tr)})),
    outline: document.querySelector('#outline') ? fields(document.querySelector('#outline')) : {},
    page_errors: JSON.parse(document.body.dataset.errors || '[]'),
  };
}"""
# Each chart's axes as uPlot drew them: the figure's `uplot` (report.js), axis.label and the tick
# texts of its last draw (axis._values).
AXES_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('figure[data-chart]'))
  .filter(f => f.uplot).map(f => {
    const [x, y] = f.uplot.axes;
    return [f.dataset.chart, {x_label: x.label ?? null, y_label: y.label ?? null,
                              y_ticks: (y._values || []).map(String)}];
  }))"""


def swar_add(a, b, mask7, mask8):
    """Bytewise (a + b) mod 256 of two little-endian byte strings held as Python ints."""
    return ((a & mask7) + (b & mask7)) ^ ((a ^ b) & mask8)


def png_stats(path):
    """Decodes an 8-bit RGB/RGBA, non-interlaced PNG with zlib only; counts colours and non-white."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert depth == 8 and ctype in (2, 6) and interlace == 0, f"PNG type {depth}/{ctype}/{interlace}"
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    raw = zlib.decompress(b"".join(idat))
    full = (1 << (8 * stride)) - 1
    m7, m8 = int.from_bytes(b"\x7f" * stride, "little"), int.from_bytes(b"\x80" * stride, "little")
    prev = bytes(stride)
    colors, white = set(), 0
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if ftype in (1, 2):  # Sub (a prefix sum per channel, by doubling) and Up, as big-int SWAR
            x = int.from_bytes(line, "little")
            if ftype == 2:
                x = swar_add(x, int.from_bytes(prev, "little"), m7, m8)
            else:
                shift = bpp
                while shift < stride:
                    x = swar_add(x, (x << (8 * shift)) & full, m7, m8)
                    shift *= 2
            cur = x.to_bytes(stride, "little")
        elif ftype in (3, 4):  # Average and Paeth: byte by byte
            out = bytearray(line)
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                b = prev[i]
                if ftype == 3:
                    out[i] = (out[i] + ((a + b) >> 1)) & 255
                else:
                    c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = bytes(out)
        else:
            cur = line
        prev = cur
        r, g, b = cur[0::bpp], cur[1::bpp], cur[2::bpp]
        colors.update(zip(r, g, b))
        white += (int.from_bytes(r, "big") & int.from_bytes(g, "big") & int.from_bytes(b, "big")).to_bytes(w, "big").count(255)
    return {"bytes": len(data), "distinct_colors": len(colors), "nonwhite_fraction": round(1 - white / (w * h), 4)}


def check(page_path, shot, expect_charts):
    from playwright.sync_api import sync_playwright

    out = {"errors": [], "blocked_requests": [], "charts_ready": None, "canvases": [], "screenshot": None,
           "details": [], "statistics": [], "outline": {}, "axes": {}, "expect_charts": expect_charts}
    errors, blocked = out["errors"], out["blocked_requests"]

    def route(r):  # file: and data: load; anything else is the network: abort and list it
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            if url not in blocked:
                blocked.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) or r.url in blocked
                    else blocked.append(r.url))
            page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.goto(pathlib.Path(page_path).resolve().as_uri(), wait_until="load", timeout=TIMEOUT_MS)
            try:
                page.wait_for_function("() => document.body && document.body.dataset.chartsReady !== undefined",
                                       timeout=TIMEOUT_MS)
                ready = page.evaluate("() => document.body.dataset.chartsReady")
                out["charts_ready"] = int(ready) if ready.lstrip("-").isdigit() else ready
            except Exception as e:  # noqa: BLE001 - reported, not raised
                errors.append(f"checker: chartsReady never set: {e}".splitlines()[0])
            page.wait_for_timeout(100)  # let the last frame reach the canvases
            out["canvases"] = page.evaluate(CANVASES_JS)
            out["axes"] = page.evaluate(AXES_JS)
            tables = page.evaluate(TABLES_JS)
            for e in tables.pop("page_errors"):
                if not any(e in seen for seen in errors):
                    errors.append(f"page: {e}")
            out.update(tables)
            page.screenshot(path=shot, full_page=True)
        finally:
            browser.close()
    out["screenshot"] = png_stats(shot)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page")
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--expect-charts", type=int, default=None)
    args = ap.parse_args()  # exits 2 on usage errors
    if not os.path.isfile(args.page):
        print(f"html_check.py: no such page: {args.page}", file=sys.stderr)
        sys.exit(2)
    try:
        out = check(args.page, args.screenshot, args.expect_charts)
    except Exception as e:  # noqa: BLE001 - the caller asserts on errors
        out = {"errors": [f"checker: {type(e).__name__}: {e}"], "blocked_requests": [], "charts_ready": None,
               "canvases": [], "screenshot": None, "details": [], "statistics": [], "outline": {}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
