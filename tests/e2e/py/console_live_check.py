"""Watches a live run on loadlake's console in headless Chromium, for the Rust e2e test
(tests/e2e/server/console.rs): opens the run's page, enters the token, reads the live sample
count as it changes, presses Stop, and reads the report the page shows once the run ended.

usage: console_live_check.py BASE_URL TOKEN RUN_ID

Prints ONE JSON object: counts (the distinct live sample counts seen, in order), states (the
live states seen), outline ({field: value} after the run ended), errors, blocked.
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import sys
import time

from console_browser import TIMEOUT_MS, console_page, enter_token, wait_ready
OUTLINE_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('#outline [data-field]'))
  .map(d => [d.dataset.field, d.querySelector('b').textContent.trim()]))"""


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, run_id = sys.argv[1:]

    out = {"errors": [], "blocked": [], "counts": [], "states": []}

    with console_page(base, out) as page:
        page.goto(f"{base}/runs/{run_id}", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        wait_ready(page, "live")
        deadline = time.time() + 20
        while time.time() < deadline and len(out["counts"]) < 4:
            count = page.evaluate("document.body.dataset.liveCount || ''")
            state = page.evaluate("document.body.dataset.liveState || ''")
            if state and state not in out["states"]:
                out["states"].append(state)
            if count and (not out["counts"] or out["counts"][-1] != int(count)):
                out["counts"].append(int(count))
            time.sleep(0.2)
        page.click("#stop")
        page.wait_for_function("() => document.body.dataset.ready === 'run' || !!document.body.dataset.errors",
                               timeout=45_000)
        out["states"].append(page.evaluate("document.body.dataset.liveState || ''"))
        out["outline"] = page.evaluate(OUTLINE_JS)
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


main()
