"""Drives the run page's error-class drill-down in headless Chromium, for the Rust e2e test
(tests/e2e/server/console.rs): opens RUN_ID's page, enters the token, reads the error classes,
then for each CLASS clicks it and presses "More samples" until there is no more, reading every
sample row; then opens the URL the last click made (a shared link) and reads it again.
A screenshot of the page goes to SHOT.

usage: console_samples_check.py BASE_URL TOKEN RUN_ID SHOT CLASS...

Prints ONE JSON object:
  classes   [{fields: {error_class, samples, percent}}] of the error-class table
  samples   {class: {rows: [{field: cell text}], pages: pages read, url: the page's URL after}}
  shared    {class, rows: count} after opening the last class's URL afresh
  errors    console errors and page errors; blocked: requests elsewhere
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import sys

from console_browser import TIMEOUT_MS, console_page, enter_token, wait_ready

ROWS_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map(tr =>
  Object.fromEntries(Array.from(tr.querySelectorAll('[data-field]')).map(td => [td.dataset.field, td.textContent.trim()])))"""


def wait_samples(page, cls, previous):
    """Waits until the drill-down shows CLASS with a row count other than `previous`."""
    page.wait_for_function(
        """([cls, previous]) => { const r = document.body.dataset.samplesReady || '';
             return (r.startsWith(cls + ':') && r !== cls + ':' + previous) || !!document.body.dataset.errors; }""",
        arg=[cls, previous], timeout=TIMEOUT_MS)


def main():
    if len(sys.argv) < 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, run_id, shot, classes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    out = {"errors": [], "blocked": [], "samples": {}}
    with console_page(base, out) as page:
        page.goto(f"{base}/runs/{run_id}", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        wait_ready(page, "run")
        out["classes"] = page.evaluate(ROWS_JS, "#error-classes tbody tr")
        for cls in classes:
            page.evaluate("delete document.body.dataset.samplesReady")
            page.click(f'#error-classes tr[data-error-class="{cls}"] a')
            wait_samples(page, cls, -1)
            pages = 1
            while page.is_visible("#more-samples"):
                shown = page.evaluate("document.querySelectorAll('#samples tbody tr').length")
                page.click("#more-samples")
                wait_samples(page, cls, shown)
                pages += 1
            out["samples"][cls] = {"rows": page.evaluate(ROWS_JS, "#samples tbody tr"), "pages": pages,
                                   "url": page.url}
        page.screenshot(path=shot, full_page=True)
        last = classes[-1]
        url = page.url
        page.goto("about:blank")
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        wait_samples(page, last, -1)
        out["shared"] = {"class": last, "rows": page.evaluate("document.querySelectorAll('#samples tbody tr').length")}
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


main()
