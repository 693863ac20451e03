"""Browser tests: Debian's Chromium driven by Playwright against the app on a live server.

Fixtures:

- ``live_server``: the session ``app`` served by werkzeug on 127.0.0.1 and a free port, in a daemon
  thread; its ``url`` attribute is the base URL ("http://127.0.0.1:PORT").
- ``browser``: one headless Chromium for the whole run (/usr/bin/chromium; never `playwright
  install`). Missing Chromium skips the browser tests, or fails them under CI=true.
- ``page``: a fresh browser context per test (locale zh-CN, base URL of the live server, so
  ``page.goto("/login")`` works). After each test a full-page screenshot goes to
  test-artifacts/screenshots/<test name>.png, and the test fails if the browser reported a
  Content-Security-Policy violation, a JavaScript error (uncaught, or console.error) or a script
  or stylesheet that failed to load. HTTP errors of pages themselves are left to the tests.
- ``browser_problems``: the list of such reports for the current test (a test that provokes one
  on purpose may inspect and clear it).

Mark every browser test with ``@pytest.mark.browser``.
"""
import os
import re
import socket
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_CI = os.environ.get("CI", "").lower() == "true"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PROBLEMS_KEY = pytest.StashKey[list]()

# Reports every securitypolicyviolation event to Python as well, in case the console wording changes.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  if (window.__portalReportCsp) {
    window.__portalReportCsp(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
  }
}, true);
"""


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server
        with socket.socket() as probe:  # a free port, picked by the OS
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app):
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = (f"Chromium not found at {CHROMIUM}: install Debian's package "
                  f"(apt-get install -y chromium); `playwright install` is not used here")
        if IN_CI:
            pytest.fail(f"browser tests cannot run under CI=true. {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_problems(request):
    problems = []
    request.node.stash[PROBLEMS_KEY] = problems
    return problems


def _is_csp_report(text):
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def page(request, browser, live_server, browser_problems):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url,
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5_000)
    context.expose_function("__portalReportCsp", lambda text: browser_problems.append(f"CSP violation: {text}"))
    context.add_init_script(CSP_LISTENER)

    def on_response(response):
        # a page whose script or stylesheet is missing is broken even if no error is thrown
        if response.request.resource_type in ("script", "stylesheet") and response.status >= 400:
            browser_problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    def on_console(message):
        if message.type != "error":
            return
        text = message.text
        if _is_csp_report(text):
            browser_problems.append(f"CSP violation (console): {text}")
        elif text.startswith("Failed to load resource"):
            return  # an HTTP status (a 429 page, the browser's own /favicon.ico); not a JS error
        else:
            browser_problems.append(f"console error: {text} at {message.location.get('url')}")

    def on_page_error(error):
        browser_problems.append(f"JavaScript error: {error}")

    page = context.new_page()
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield page
    finally:
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.\-\[\]]+", "_", request.node.name)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        finally:
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that passed still fails if its page reported a CSP violation or a JS error."""
    result = yield
    problems = item.stash.get(PROBLEMS_KEY, None)
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if problems is not None and page is not None and not page.is_closed():
        try:
            page.evaluate("0")  # a round trip, so that console events already sent are dispatched
        except Exception:
            pass
    if problems:
        pytest.fail("the browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)
    return result
