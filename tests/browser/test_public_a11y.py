"""The public site in a real browser: axe-core finds no serious or critical violation on any page
type, in the standard view and in 关怀版; at 200 % zoom nothing scrolls sideways; the keyboard
reaches the skip link first and then the search form. Screenshots of every page and mode are
kept under test-artifacts/screenshots/public/."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from tests import support
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

ARTIFACTS = SCREENSHOTS / "public"
AXE = Axe()


@pytest.fixture
def public_pages(app):
    """The demo world with its history; the URL of each public page type (feed excluded)."""
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    support.seed_demo(app, history=True)
    with app.app_context(), tenant_scope(support.World(app).tenant_id("ganxian")):
        notice_id = db.session.execute(select(Disclosure.id).where(Disclosure.kind == "tender_notice")
                                       .order_by(Disclosure.id)).scalars().first()
    return {
        "tenant-list": "/public/",
        "tenant-home": "/public/ganxian/",
        "search-results": "/public/ganxian/notices?q=%E6%9C%8D%E5%8A%A1&kind=&from=2000-01-01&to=",
        "notice": f"/public/ganxian/notices/{notice_id}",
        "policy": "/public/ganxian/policies/linshi",
    }


def _set_care(page, on):
    page.goto(f"/public/?care={'1' if on else '0'}")
    expect(page.locator("body")).to_have_class(re.compile(r"\bcare-mode\b") if on else re.compile(r"^public-site$"))


def _serious(results):
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                                                                       else str(n["target"]) for n in v["nodes"][:3])
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("care", [False, True], ids=["standard", "care"])
def test_axe_finds_no_serious_violation_on_any_public_page(page, live_server, public_pages, care):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _set_care(page, care)
    problems = {}
    for name, url in public_pages.items():
        response = page.goto(url)
        assert response.status == 200, url
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        for landmark in ("banner", "main", "contentinfo"):
            expect(page.get_by_role(landmark)).to_have_count(1)
        expect(page.locator("h1")).to_have_count(1)
        if care:
            assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
            expect(page.locator("#care-toggle")).to_have_text("标准版")
        else:
            expect(page.locator("#care-toggle")).to_have_text("关怀版")
        found = _serious(AXE.run(page))
        if found:
            problems[name] = found
        page.screenshot(path=str(ARTIFACTS / f"{name}-{'care' if care else 'standard'}.png"), full_page=True)
    assert not problems, problems


@pytest.mark.parametrize("care", [False, True], ids=["standard", "care"])
def test_no_sideways_scrolling_at_200_percent_zoom(browser, live_server, public_pages, care):
    """200 % zoom of a 1280-pixel window: 640 CSS pixels at a device scale factor of 2."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, viewport={"width": 640, "height": 800},
                                  device_scale_factor=2)
    try:
        page = context.new_page()
        _set_care(page, care)
        for name, url in public_pages.items():
            page.goto(url)
            widths = page.evaluate("({scroll: document.documentElement.scrollWidth,"
                                   " client: document.documentElement.clientWidth})")
            assert widths["scroll"] <= widths["client"], (name, widths)
            heading = page.locator("main h1")
            expect(heading).to_be_visible()
            box = heading.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= widths["client"] + 1, (name, box)
            expect(page.locator("#care-toggle")).to_be_visible()
            if name in ("tenant-home", "search-results"):
                button = page.locator("form[role=search] button")
                expect(button).to_be_visible()
                box = button.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= widths["client"] + 1, (name, box)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{'care' if care else 'standard'}-zoom200.png"),
                            full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("path", ["tenant-home", "search-results"])
def test_keyboard_reaches_the_skip_link_then_the_search_form(page, live_server, public_pages, path):
    page.goto(public_pages[path])
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    assert skip.get_attribute("href") == "#main"
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("Tab")
    words = page.locator("#q")
    expect(words).to_be_focused()
    assert page.evaluate("document.activeElement.closest('form').getAttribute('role')") == "search"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline  # the focus is visible
    # every field of the search form has a label of its own
    for control in page.locator("form[role=search] input, form[role=search] select").all():
        ident = control.get_attribute("id")
        assert page.locator(f"label[for='{ident}']").count() == 1, ident
    page.keyboard.type("服务")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/public/ganxian/notices\?q=%E6%9C%8D%E5%8A%A1"))
    expect(page.locator(".notice-item").first).to_be_visible()


def test_care_mode_link_switches_on_and_off(page, live_server, public_pages):
    page.goto(public_pages["notice"])
    standard = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    with page.expect_navigation():
        page.locator("#care-toggle").click()
    expect(page.locator("body")).to_have_class(re.compile(r"\bcare-mode\b"))
    expect(page).to_have_url(f"{live_server.url}{public_pages['notice']}")  # the same page, no switch in it
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= max(20, standard + 1)
    page.goto(public_pages["policy"])  # kept on the next page by its cookie
    expect(page.locator("body")).to_have_class(re.compile(r"\bcare-mode\b"))
    with page.expect_navigation():
        page.locator("#care-toggle").click()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bcare-mode\b"))
