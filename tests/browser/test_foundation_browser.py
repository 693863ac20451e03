"""The foundation seen through a real browser: Chinese sign-in, 关怀版, throttling, keyboard use."""
import re

import pytest
from limits import parse
from playwright.sync_api import expect

from tests.support import PASSWORD

pytestmark = pytest.mark.browser

THROTTLED = "登录失败次数过多，请15分钟后再试。"


def sign_in(page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    press(page, page.get_by_role("button", name="登录", exact=True))


def press(page, button):
    """Click a button that submits a form and wait until the next page has loaded (styles too)."""
    with page.expect_navigation(wait_until="load"):
        button.click()


def body_font_size(page):
    return page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")


def test_officer_signs_in_and_sees_the_chinese_dashboard(page, live_server, demo):
    sign_in(page, "gx-officer")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("工作台")
    expect(page.get_by_role("button", name="退出登录", exact=True)).to_be_visible()


def test_care_mode_is_switched_on_kept_across_pages_and_switched_off(page, live_server, demo):
    sign_in(page, "gx-officer")
    body = page.locator("body")
    expect(body).not_to_have_class(re.compile(r"\bcare-mode\b"))
    standard_size = body_font_size(page)

    press(page, page.get_by_role("button", name="关怀版", exact=True))
    expect(body).to_have_class(re.compile(r"\bcare-mode\b"))
    assert body_font_size(page) > standard_size
    expect(page.locator("#care-toggle")).to_have_attribute("aria-pressed", "true")
    assert {c["name"]: c["value"] for c in page.context.cookies()}.get("care") == "1"

    page.goto("/account")  # another page: the cookie keeps 关怀版 on
    expect(page).to_have_url(f"{live_server.url}/account")
    expect(body).to_have_class(re.compile(r"\bcare-mode\b"))
    assert body_font_size(page) > standard_size

    press(page, page.get_by_role("button", name="标准版", exact=True))
    expect(body).not_to_have_class(re.compile(r"\bcare-mode\b"))
    expect(page).to_have_url(f"{live_server.url}/account")  # back where the switch was pressed
    assert body_font_size(page) == standard_size
    expect(page.get_by_role("button", name="关怀版", exact=True)).to_have_attribute("aria-pressed", "false")


def test_too_many_wrong_passwords_throttle_even_the_right_one(page, app, live_server, demo):
    allowed = parse(app.config["LOGIN_THROTTLE_PAIR"]).amount
    username_error = page.locator("#username-error")
    for _ in range(allowed):
        sign_in(page, "gx-officer", "not-the-password")
        expect(page.locator("#password-error")).to_be_visible()
        expect(username_error).to_have_count(0)

    with page.expect_response(lambda r: r.request.method == "POST" and "/login" in r.url) as answer:
        sign_in(page, "gx-officer", PASSWORD)
    assert answer.value.status == 429
    expect(page).to_have_url(re.compile(r"/login$"))
    username = page.get_by_label("用户名", exact=True)
    expect(username_error).to_have_text(THROTTLED)
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_have_attribute("aria-describedby", "username-error")
    # next to the field: in the same form group, right after the input
    expect(page.locator(".field.has-error", has=username).locator(".field-error")).to_have_text(THROTTLED)
    expect(page.get_by_role("button", name="退出登录")).to_have_count(0)
    signed_out = page.request.get("/account", max_redirects=0)  # with the page's cookies
    assert signed_out.status == 302 and "/login" in signed_out.headers["location"]


def test_keyboard_skip_link_and_labelled_inputs(page, live_server):
    page.goto("/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("({cls: document.activeElement.className,"
                            " href: document.activeElement.getAttribute('href')})")
    assert "skip-link" in focused["cls"].split() and focused["href"] == "#main"
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_visible()  # shown when focused

    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    inputs = page.locator("main input:not([type=hidden]), main select, main textarea")
    assert inputs.count() >= 2
    for i in range(inputs.count()):
        control = inputs.nth(i)
        label = control.evaluate("el => el.labels && el.labels.length ? el.labels[0].textContent.trim() : ''")
        ident = control.get_attribute("id")
        assert label, f"input #{ident} has no label"
        by_label = page.get_by_label(label, exact=True)
        expect(by_label).to_have_count(1)
        assert by_label.get_attribute("id") == ident
    expect(page.get_by_label("用户名", exact=True)).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("密码", exact=True)).to_have_attribute("type", "password")


def test_harness_catches_csp_violations_and_script_errors(page, live_server, browser_problems):
    """The page fixture's watchdog itself: an inline script is refused by the portal's CSP, and an
    uncaught exception is reported; both would fail a test (cleared here, as they are on purpose)."""
    page.goto("/login")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineRan = true";
        document.body.appendChild(script);
        setTimeout(() => { throw new Error("deliberate probe error"); }, 0);
    }""")
    for _ in range(40):  # events arrive asynchronously: wait up to 2 s for both reports
        if len(browser_problems) >= 2 and any("probe error" in p for p in browser_problems):
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.inlineRan === undefined"), "the CSP let an inline script run"
    assert any(p.startswith("CSP violation") and "script-src" in p for p in browser_problems), browser_problems
    assert any("deliberate probe error" in p for p in browser_problems), browser_problems
    browser_problems.clear()
