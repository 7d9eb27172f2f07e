"""Drives the console's "times in ms / µs" switches in headless Chromium as a person would, for
the Rust e2e test (tests/e2e/server/console_micros.rs): opens RUN_A's page (in ms), reads it,
ticks µs and reads it again; opens the comparison of RUN_A → RUN_B, picks µs in its form and
reads it; opens the trend of TREND_NAME's p95 of REQUEST, picks µs and reads it. Screenshots go
to SHOT_DIR (run-us.png, compare-us.png, trend-us.png).

usage: console_micros_check.py BASE_URL TOKEN RUN_A RUN_B TREND_NAME REQUEST SHOT_DIR

Prints ONE JSON object:
  run_ms, run_us   {url, time_unit (body data-time-unit), avg_head (the details' mean column
                   header), outline_avg_label, chart_series (the chart legend's labels), details:
                   [{level, fields: {field: cell text}}]}: the run page before and after the tick
  compare_url, compare_cards {field: card value}, compare_rows [{level, metric, verdict, fields}]
  trend_url, trend_title, value_head, trend_rows [{run_id, fields}], trend_links [href of each
                   row's "compare with previous" link]
  shots, errors, blocked as the other console checks
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import os
import sys

from console_across_check import CARDS_JS, ROWS_JS
from console_browser import TIMEOUT_MS, console_page, enter_token, shot, wait_ready

RUN_JS = """() => ({
  url: location.href,
  time_unit: document.body.dataset.timeUnit || null,
  avg_head: document.querySelector('#details th[data-unit-label]').textContent.trim(),
  outline_avg_label: (document.querySelector('#outline [data-field="average_resp_time"]') || {}).lastChild.textContent,
  chart_series: Array.from(document.querySelectorAll('#chart .u-legend .u-label')).map(l => l.textContent.trim()),
})"""


def read_run(page):
    seen = page.evaluate(RUN_JS)
    seen["details"] = page.evaluate(ROWS_JS, "#details tbody tr")
    return seen


def in_micros(page, url, what):
    """Opens `url` (the compare or trend page, `what`), picks µs in its form and submits it."""
    page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
    wait_ready(page, what)
    page.select_option(f"#{what}-form select[name=resolution]", "us")
    page.click(f"#{what}-form button")
    page.wait_for_url(f"**/{what}?**resolution=us**", timeout=TIMEOUT_MS)
    wait_ready(page, what)


def main():
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, run_a, run_b, trend_name, request, shots = sys.argv[1:]
    os.makedirs(shots, exist_ok=True)
    out = {"errors": [], "blocked": [], "shots": {}}

    with console_page(base, out) as page:
        page.goto(f"{base}/runs/{run_a}", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        wait_ready(page, "run")
        out["run_ms"] = read_run(page)
        with page.expect_navigation(timeout=TIMEOUT_MS):
            page.check('#unit input[value="us"]')
        wait_ready(page, "run")
        out["run_us"] = read_run(page)
        shot(page, out, shots, "run-us")

        in_micros(page, f"{base}/compare?base={run_a}&target={run_b}", "compare")
        out["compare_url"] = page.url
        out["compare_cards"] = page.evaluate(CARDS_JS, "#compare-cards")
        out["compare_rows"] = page.evaluate(ROWS_JS, "#compare tbody tr")
        shot(page, out, shots, "compare-us")

        in_micros(page, f"{base}/trend?name={trend_name}&metric=tp95&request={request}", "trend")
        out["trend_url"] = page.url
        out["trend_title"] = page.text_content("#trend-title").strip()
        out["value_head"] = page.text_content("#value-head").strip()
        out["trend_rows"] = page.evaluate(ROWS_JS, "#trend tbody tr")
        out["trend_links"] = page.evaluate(
            "() => Array.from(document.querySelectorAll('#trend tbody tr td:last-child a')).map(a => a.getAttribute('href'))")
        shot(page, out, shots, "trend-us")
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
