"""Times how long a loadlake HTML report takes to open in headless Chromium (Debian's, driven by
playwright): from navigation start to every chart drawn (`document.body.dataset.chartsReady`),
with every network request blocked. Prints JSON: {bytes, runs_ms: [...], median_ms, charts}.

usage: html_open_time.py PAGE.html [REPEAT]
"""
import json
import os
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

page_path, repeat = os.path.abspath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5
args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
times, charts = [], None
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        start = time.perf_counter()
        page.goto("file://" + page_path)
        page.wait_for_function("document.body.dataset.chartsReady !== undefined", timeout=30000)
        times.append((time.perf_counter() - start) * 1000)
        charts = page.evaluate("document.body.dataset.chartsReady")
        page.close()
    browser.close()
print(json.dumps({"bytes": os.path.getsize(page_path), "runs_ms": [round(t, 1) for t in times],
                  "median_ms": round(statistics.median(times), 1), "charts": charts}))
