"""Drives the console's compare and trend pages in headless Chromium as a person would, for the
Rust e2e test (tests/e2e/server/console.rs): on the runs page ticks BASE_RUN then TARGET_RUN and
presses Compare, reads the comparison; back on the runs page clicks a run named TREND_NAME,
reads the trend (the default metric), then asks the page's form for METRIC of REQUEST and reads
that trend too. Screenshots of the pages go to SHOT_DIR (runs.png, compare.png, trend.png,
trend-request.png), cut below the page's content.

usage: console_across_check.py BASE_URL TOKEN BASE_RUN TARGET_RUN TREND_NAME METRIC REQUEST SHOT_DIR

Prints ONE JSON object:
  compare_button  {disabled_before, disabled_after}: the Compare button before and after the ticks
  compare_url     the URL the button led to; compare_cards {field: card value}
  compare_rows    [{level, metric, verdict, fields: {field: cell text}}] (every row, shown or not)
  changed_shown   the rows shown with "regressions and improvements" chosen
  compare_links   {base, target}: the run links' text
  trend_url       the URL the name's link led to; trend_title, trend_cards, trend_rows, trend_chart
  trend2_url, trend2_title, trend2_rows, trend2_chart: after the form asked for METRIC of REQUEST
  shots           {name: {bytes, distinct_colors, nonwhite_fraction}} of the screenshots
  errors          console errors and page errors; blocked: requests elsewhere
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import os
import sys

from console_browser import TIMEOUT_MS, console_page, enter_token, shot, wait_ready

ROWS_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map(tr => ({
  run_id: tr.dataset.runId || null, level: tr.dataset.level || null, metric: tr.dataset.metric || null,
  verdict: tr.dataset.verdict || null, shown: !tr.hidden,
  fields: Object.fromEntries(Array.from(tr.querySelectorAll('[data-field]'))
    .map(td => [td.dataset.field, td.textContent.trim()]))}))"""
CARDS_JS = """(selector) => Object.fromEntries(Array.from(document.querySelectorAll(selector + ' [data-field]'))
  .map(d => [d.dataset.field, d.querySelector('b').textContent.trim()]))"""
CHART_JS = """() => ({
  points: Number(document.body.dataset.chartPoints),
  painted: Array.from(document.querySelectorAll('#chart canvas')).map(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
    return n;
  }).reduce((a, b) => a + b, 0)})"""


def read_trend(page, prefix, out):
    out[prefix + "_url"] = page.url
    out[prefix + "_title"] = page.text_content("#trend-title").strip()
    out[prefix + "_cards"] = page.evaluate(CARDS_JS, "#trend-cards")
    out[prefix + "_rows"] = page.evaluate(ROWS_JS, "#trend tbody tr")
    out[prefix + "_chart"] = page.evaluate(CHART_JS)


def main():
    if len(sys.argv) != 9:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, base_run, target_run, trend_name, metric, request, shots = sys.argv[1:]
    os.makedirs(shots, exist_ok=True)
    out = {"errors": [], "blocked": [], "shots": {}}

    with console_page(base, out) as page:
        page.goto(base + "/", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        wait_ready(page, "runs")
        button = "#compare-picked"
        out["compare_button"] = {"disabled_before": page.is_disabled(button)}
        page.check(f'#runs tr[data-run-id="{base_run}"] input.pick')
        page.check(f'#runs tr[data-run-id="{target_run}"] input.pick')
        out["compare_button"]["disabled_after"] = page.is_disabled(button)
        shot(page, out, shots, "runs")
        page.click(button)
        page.wait_for_url("**/compare?**", timeout=TIMEOUT_MS)
        wait_ready(page, "compare")
        out["compare_url"] = page.url
        out["compare_cards"] = page.evaluate(CARDS_JS, "#compare-cards")
        out["compare_links"] = {"base": page.text_content("#base-link"), "target": page.text_content("#target-link")}
        out["compare_rows"] = page.evaluate(ROWS_JS, "#compare tbody tr")
        page.check('#verdicts input[value="changed"]')
        out["changed_shown"] = [r for r in page.evaluate(ROWS_JS, "#compare tbody tr") if r["shown"]]
        shot(page, out, shots, "compare")

        page.goto(base + "/", wait_until="load", timeout=TIMEOUT_MS)
        wait_ready(page, "runs")
        page.click(f'#runs td[data-field="name"] a:text-is("{trend_name}")')
        page.wait_for_url("**/trend?**", timeout=TIMEOUT_MS)
        wait_ready(page, "trend")
        read_trend(page, "trend", out)
        shot(page, out, shots, "trend")

        page.select_option("#trend-form select[name=metric]", metric)
        page.fill("#trend-form input[name=request]", request)
        page.click("#trend-form button")
        page.wait_for_url(f"**/trend?**request=**", timeout=TIMEOUT_MS)
        wait_ready(page, "trend")
        read_trend(page, "trend2", out)
        shot(page, out, shots, "trend-request")
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
