"""Deletes runs through loadlake's console in headless Chromium, for the Rust e2e test
(tests/e2e/server/console_write.rs): on the runs page, presses LIST_RUN's Delete button and
dismisses the confirmation, then presses it again and accepts; then opens PAGE_RUN's page,
presses "Delete run" and accepts.

usage: console_delete_check.py BASE_URL TOKEN LIST_RUN PAGE_RUN

Prints ONE JSON object:
  dialogs        the confirmation texts, in order
  after_cancel   the run ids listed after the first (dismissed) confirmation
  after_delete   the run ids listed after the accepted one
  page_url       where the run page went after its run was deleted
  after_page     the run ids that page lists
  errors, blocked
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import sys

from console_browser import TIMEOUT_MS, console_page, enter_token, wait_ready

IDS_JS = "() => Array.from(document.querySelectorAll('#runs tbody tr')).map(tr => tr.dataset.runId)"


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, list_run, page_run = sys.argv[1:]
    out = {"errors": [], "blocked": [], "dialogs": []}
    answers = []

    def on_dialog(dialog):
        out["dialogs"].append(dialog.message)
        if answers and answers.pop(0):
            dialog.accept()
        else:
            dialog.dismiss()

    with console_page(base, out) as page:
        page.on("dialog", on_dialog)
        page.goto(base + "/", wait_until="load", timeout=TIMEOUT_MS)
        enter_token(page, token)
        wait_ready(page, "runs")
        button = f'#runs tr[data-run-id="{list_run}"] button.delete'
        answers.append(False)
        page.click(button)
        page.wait_for_timeout(500)
        out["after_cancel"] = page.evaluate(IDS_JS)
        answers.append(True)
        page.evaluate("document.body.dataset.ready = ''")
        page.click(button)
        wait_ready(page, "runs")
        out["after_delete"] = page.evaluate(IDS_JS)
        page.goto(f"{base}/runs/{page_run}", wait_until="load", timeout=TIMEOUT_MS)
        wait_ready(page, "run")
        answers.append(True)
        page.click("#delete-run")
        page.wait_for_url(base + "/", timeout=TIMEOUT_MS)
        wait_ready(page, "runs")
        out["page_url"] = page.url
        out["after_page"] = page.evaluate(IDS_JS)
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


main()
