"""Drives loadlake's web console in headless Chromium as a person would, for the Rust e2e test
(tests/e2e/server/console.rs): opens the runs page, enters the token the page asks for, reads
the runs table, filters by name, opens one run and reads its outline and details.

usage: console_check.py BASE_URL TOKEN NAME_FILTER RUN_ID LABEL

Uses Python playwright driving Debian's /usr/bin/chromium. Requests to anything but BASE_URL
are aborted and listed. Prints ONE JSON object:
  token_form   whether the page asked for the token before showing runs
  token_form_after  whether that form is still visible once the token was taken
  runs         [{run_id, fields: {field: cell text}}] after the token was entered (and the
               p95 column filled)
  by_name, by_name_reversed   the same after one and two clicks on the name header
  filtered     the same after filtering by NAME_FILTER
  run_url      the URL the run's link led to
  outline      {field: card value} of the run page
  details      [{level, fields: {field: cell text}}] of the run page
  ranges, jmeter, apdex, sla   the same of its response-time ranges, JMeter statistics, APDEX
               and SLA tables; sla_shown, sla_verdict: the SLA section's visibility and verdict
  run_chart    the whole run's curve: {title, points, requests, painted} (painted: canvas pixels)
  label_chart  the same after clicking LABEL's row; shared_chart: opening the URL it made
  errors       console errors and page errors; blocked: requests elsewhere
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import sys

from console_browser import TIMEOUT_MS, console_page, enter_token, wait_ready

ROWS_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map(tr => ({
  run_id: tr.dataset.runId || null, level: tr.dataset.level || null,
  fields: Object.fromEntries(Array.from(tr.querySelectorAll('[data-field]'))
    .map(td => [td.dataset.field, td.textContent.trim()]))}))"""
OUTLINE_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('#outline [data-field]'))
  .map(d => [d.dataset.field, d.querySelector('b').textContent.trim()]))"""


CHART_JS = """() => ({
  title: document.body.dataset.chartTitle, points: Number(document.body.dataset.chartPoints),
  requests: Number(document.body.dataset.chartRequests),
  painted: Array.from(document.querySelectorAll('#chart canvas')).map(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
    return n;
  }).reduce((a, b) => a + b, 0)})"""


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, name_filter, run_id, label = sys.argv[1:]

    out = {"errors": [], "blocked": []}

    with console_page(base, out) as page:
        page.goto(base + "/", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        out["token_form"] = True
        wait_ready(page, "runs")
        out["token_form_after"] = page.is_visible("#token-form")
        # The p95 column is filled after the table is drawn (/api/v1/run-headlines).
        page.wait_for_function("() => Number(document.body.dataset.headlines || 0) >= 1",
                               timeout=TIMEOUT_MS)
        out["runs"] = page.evaluate(ROWS_JS, "#runs tbody tr")
        page.evaluate("document.body.dataset.ready = ''")
        page.fill("#filters input[name=name]", name_filter)
        page.click("#filters button")
        wait_ready(page, "runs")
        out["filtered"] = page.evaluate(ROWS_JS, "#runs tbody tr")
        page.evaluate("document.body.dataset.ready = ''")
        page.fill("#filters input[name=name]", "")
        page.click("#filters button")
        wait_ready(page, "runs")
        # The name header orders by name, largest first; a second click reverses it.
        for key in ("by_name", "by_name_reversed"):
            page.evaluate("document.body.dataset.ready = ''")
            page.click('#runs th[data-order="name"]')
            wait_ready(page, "runs")
            out[key] = page.evaluate(ROWS_JS, "#runs tbody tr")
        page.click(f'#runs tr[data-run-id="{run_id}"] td[data-field="run_id"] a')
        page.wait_for_url(f"**/runs/{run_id}", timeout=TIMEOUT_MS)
        wait_ready(page, "run")
        out["run_url"] = page.url
        out["outline"] = page.evaluate(OUTLINE_JS)
        out["details"] = page.evaluate(ROWS_JS, "#details tbody tr")
        out["run_chart"] = page.evaluate(CHART_JS)
        out["ranges"] = page.evaluate(ROWS_JS, "#ranges tbody tr")
        out["jmeter"] = page.evaluate(ROWS_JS, "#jmeter-statistics tbody tr")
        out["apdex"] = page.evaluate(ROWS_JS, "#apdex tbody tr")
        out["sla_shown"] = page.is_visible("#sla-section")
        out["sla_verdict"] = page.text_content("#sla-verdict")
        out["sla"] = page.evaluate(ROWS_JS, "#sla tbody tr")
        page.click(f'#details tbody tr[data-level="request"]:has(td[data-field="name"]:text-is("{label}"))')
        page.wait_for_function(f"() => (document.body.dataset.chartTitle || '').endsWith(' / {label}')",
                               timeout=TIMEOUT_MS)
        out["label_chart"] = page.evaluate(CHART_JS)
        shared = page.url
        page.goto("about:blank")
        page.goto(shared, wait_until="load", timeout=TIMEOUT_MS)
        wait_ready(page, "run")
        out["shared_chart"] = page.evaluate(CHART_JS)
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


main()
