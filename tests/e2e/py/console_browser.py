"""What the console tests (console_*_check.py) share: a headless Chromium
page (Debian's /usr/bin/chromium driven by playwright) on the console at BASE, with every request
elsewhere aborted and listed in out["blocked"], console and page errors in out["errors"]."""
import contextlib
import os

from html_check import png_stats

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000


@contextlib.contextmanager
def console_page(base, out):
    """Yields the page; an exception inside is recorded in out["errors"], not raised."""
    from playwright.sync_api import sync_playwright

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            out["blocked"].append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.on("console", lambda m: out["errors"].append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: out["errors"].append(f"pageerror: {e}"))
            yield page
        except Exception as e:  # what went wrong is the caller's to assert on
            out["errors"].append(f"driver: {e}")
        finally:
            browser.close()


def wait_ready(page, what):
    """Waits until the page says it has shown `what` (body data-ready) or has errors."""
    page.wait_for_function(f"() => document.body.dataset.ready === '{what}' || !!document.body.dataset.errors",
                           timeout=TIMEOUT_MS)


def enter_token(page, token):
    """Waits for the login page the console sent the browser to and logs in with the token;
    returns once the browser is back on the page it came from."""
    page.wait_for_selector("#token-form:not([hidden])", timeout=TIMEOUT_MS)
    page.fill("#token", token)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("#token-form button")


def shot(page, out, directory, name):
    """A full-page screenshot, and how much it holds (html_check.py's PNG reader: colours and
    the non-white fraction; a blank page has one colour)."""
    path = os.path.join(directory, name + ".png")
    bottom = page.evaluate("() => Math.ceil(document.querySelector('main').getBoundingClientRect().bottom) + 8")
    width = page.viewport_size["width"]
    page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": width, "height": bottom})
    out["shots"][name] = png_stats(path)
