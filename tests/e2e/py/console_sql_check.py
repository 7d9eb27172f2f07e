"""Drives the console's SQL page in headless Chromium, for tests/e2e/server/console.rs: opens
/sql, gives the token it asks for, runs SQL, reads the result table, then runs WRITE (a
statement the server must refuse) and reads the error the page shows.

usage: console_sql_check.py BASE_URL TOKEN SQL WRITE

Prints ONE JSON object: columns (header texts), rows ([{column: cell text}]), summary,
refused (the error text shown for WRITE), errors, blocked (as console_browser.py says).
"""
import json
import sys

from console_browser import TIMEOUT_MS, console_page, enter_token, wait_ready

ROWS_JS = """() => Array.from(document.querySelectorAll('#result tbody tr')).map(tr =>
  Object.fromEntries(Array.from(tr.querySelectorAll('[data-field]'))
    .map(td => [td.dataset.field, td.textContent])))"""


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, sql, write = sys.argv[1:]
    out = {"errors": [], "blocked": []}
    with console_page(base, out) as page:
        page.goto(base + "/sql", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        page.wait_for_function("() => document.body.dataset.ready === 'sql-page'", timeout=TIMEOUT_MS)
        page.fill("#sql", sql)
        page.click("#query button")
        wait_ready(page, "sql")
        out["columns"] = page.evaluate("() => Array.from(document.querySelectorAll('#result th')).map(t => t.textContent)")
        out["rows"] = page.evaluate(ROWS_JS)
        out["summary"] = page.text_content("#summary")
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
        page.fill("#sql", write)
        page.click("#query button")
        page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
        out["refused"] = page.text_content("#error")
    print(json.dumps(out))


main()
