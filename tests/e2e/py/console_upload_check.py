"""Uploads a file through loadlake's console in headless Chromium, for the Rust e2e test
(tests/e2e/server/console_write.rs): opens the runs page, enters the token, names the run,
gives the file to the upload zone's file input (as the file picker would), waits for the upload
to end, and reads the progress bar, the message and the new run's row in the runs table; then
drops the same file on the zone twice (without, then with "import again").

usage: console_upload_check.py BASE_URL TOKEN FILE RUN_NAME SHOT_DIR

Prints ONE JSON object:
  uploaded     the run id the page says it made (body data-uploaded), or null
  upload_error what the page showed if the upload failed, else null
  progress     {value, max} of the progress bar after the upload
  status       the text next to the progress bar
  row          {run_id, marked (highlighted as new), fields: {field: cell text}} of that run
  drop_refused the page's message when the same file was then dropped on the zone
  dropped      the run id made by dropping it again with "import again" ticked; dropped_row its row
  login_url    where the runs page sent the browser before the token was given
  shots        {name: {bytes, distinct_colors, nonwhite_fraction}} of SHOT_DIR/login.png (the
               login page) and SHOT_DIR/runs-upload.png
  errors       console errors and page errors; blocked: requests elsewhere
Exits 0 whatever it saw (the caller asserts); 2 on usage errors only.
"""
import json
import os
import sys

from console_browser import TIMEOUT_MS, console_page, enter_token, shot, wait_ready

ROW_JS = """(id) => { const tr = document.querySelector('#runs tbody tr[data-run-id="' + CSS.escape(id) + '"]');
  return tr && {run_id: tr.dataset.runId, marked: tr.classList.contains('new'),
    fields: Object.fromEntries(Array.from(tr.querySelectorAll('[data-field]'))
      .map(td => [td.dataset.field, td.textContent.trim()]))}; }"""


def drop(page, content, name, outcome):
    """Drops a file of `content` named `name` on the upload zone (a drop event with a
    DataTransfer, as a drag from the desktop makes); waits for the page's `outcome` (body
    dataset key uploaded / uploadError) and returns it."""
    page.evaluate("() => { delete document.body.dataset.uploaded; delete document.body.dataset.uploadError; }")
    transfer = page.evaluate_handle(
        "([content, name]) => { const t = new DataTransfer(); t.items.add(new File([content], name)); return t; }",
        [content, name])
    page.dispatch_event("#drop", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    page.wait_for_function(
        "() => !!document.body.dataset.uploaded || !!document.body.dataset.uploadError", timeout=60_000)
    return page.evaluate(f"document.body.dataset.{outcome} || null")


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, token, path, name, shots = sys.argv[1:]
    os.makedirs(shots, exist_ok=True)
    out = {"errors": [], "blocked": [], "shots": {}, "uploaded": None, "upload_error": None}

    with console_page(base, out) as page:
        page.goto(base + "/", wait_until="load", timeout=TIMEOUT_MS)
        out["login_url"] = page.url
        shot(page, out, shots, "login")
        enter_token(page, token)
        wait_ready(page, "runs")
        page.fill("#upload-name", name)
        page.set_input_files("#upload-file", path)
        page.wait_for_function(
            "() => !!document.body.dataset.uploaded || !!document.body.dataset.uploadError"
            " || !!document.body.dataset.errors", timeout=60_000)
        out["uploaded"] = page.evaluate("document.body.dataset.uploaded || null")
        out["upload_error"] = page.evaluate("document.body.dataset.uploadError || null")
        out["progress"] = page.evaluate(
            "() => { const p = document.getElementById('upload-progress'); return {value: p.value, max: p.max}; }")
        out["status"] = page.text_content("#upload-status").strip()
        if out["uploaded"]:
            out["row"] = page.evaluate(ROW_JS, out["uploaded"])
        shot(page, out, shots, "runs-upload")
        # The same file dropped on the zone: refused as imported before, then, with "import
        # again" ticked, a second run.
        with open(path, "rb") as f:
            content = f.read().decode("utf-8")
        name_only = path.rsplit("/", 1)[-1]
        out["drop_refused"] = drop(page, content, name_only, "uploadError")
        page.check("#upload-force")
        out["dropped"] = drop(page, content, name_only, "uploaded")
        if out["dropped"]:
            out["dropped_row"] = page.evaluate(ROW_JS, out["dropped"])
        page_errors = page.evaluate("document.body.dataset.errors || ''")
        if page_errors:
            out["errors"].append(f"page: {page_errors}")
    print(json.dumps(out))


main()
