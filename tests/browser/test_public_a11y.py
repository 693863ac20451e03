"""The public site in a real browser: axe-core finds no serious or critical violation on any page
type, in the standard view and in 关怀版; at 200 % zoom nothing scrolls sideways; the keyboard
reaches the skip link first and then the search form; in 关怀版 at phone and desktop sizes every
target is at least 44×44 px, the home page's entry tiles 60 px high with the bureau's tap-to-call
number, and the switch is reached and worked by the keyboard and kept by its cookie. Screenshots
of every page and mode are kept under test-artifacts/screenshots/public/."""
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
        "guide": "/public/ganxian/policies/dibao",
        "guides": "/public/ganxian/guides",
        "subscribe": "/public/ganxian/subscribe",
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


SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# Every visible target people press: links, buttons and fields of the header, the bureau's
# sections, the page and the footer (the skip link is off screen until focused).
TARGETS = """() => [...document.querySelectorAll(
    'header a, nav a, main a, main button, main input:not([type=checkbox]):not([type=radio]), main select, footer a')]
  .filter(e => !e.classList.contains('skip-link'))
  .map(e => { const r = e.getBoundingClientRect(); return {text: (e.textContent || e.name || '').trim().slice(0, 30),
              width: r.width, height: r.height, visible: r.width > 0 && r.height > 0}; })
  .filter(t => t.visible)"""


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("care", [False, True], ids=["standard", "care"])
def test_home_notice_and_guide_at_phone_and_desktop_size(browser, live_server, public_pages, care, size):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, viewport=SIZES[size])
    try:
        page = context.new_page()
        _set_care(page, care)
        problems = {}
        for name in ("tenant-home", "notice", "guide"):
            assert page.goto(public_pages[name]).status == 200
            found = _serious(AXE.run(page))
            if found:
                problems[name] = found
            if care:
                assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
                assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('main h1')).fontSize)") >= 28
                small = [t for t in page.evaluate(TARGETS) if t["width"] < 44 or t["height"] < 44]
                assert not small, (name, small[:5])
                assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{'care' if care else 'standard'}-{size}.png"), full_page=True)
        assert not problems, problems
        page.goto(public_pages["tenant-home"])
        tiles = page.locator(".care-tiles .tile")
        if not care:
            expect(tiles).to_have_count(0)
            expect(page.locator("footer a[href^='tel:']")).to_have_attribute("href", "tel:07974441234")
            return
        expect(tiles).to_have_count(4)
        expect(page.locator(".care-tiles .tile-label")).to_have_text(["通知公告", "办事指南", "意见反馈", "联系电话"])
        phone = page.locator(".care-tiles a.tile-phone")
        expect(phone).to_have_attribute("href", "tel:07974441234")
        expect(phone).to_contain_text("0797-4441234")
        for box in (tiles.nth(i).bounding_box() for i in range(4)):
            assert box["height"] >= 60 and box["width"] >= 60, box
        # single column: the tiles and the notices share the page's width, no side column
        expect(page.locator(".public-columns")).to_have_count(0)
        with page.expect_navigation():
            page.get_by_role("link", name="办事指南").click()
        expect(page.locator("main h1")).to_have_text("办事指南")
        expect(page.locator(".guide-link")).to_have_count(3)
        expect(page.locator(".phone-box a[href='tel:07974441234']")).to_be_visible()
    finally:
        context.close()


def test_the_care_switch_is_reached_by_keyboard_and_kept(page, live_server, public_pages):
    page.goto(public_pages["tenant-home"])
    for _press in range(8):  # the skip link, the bureau's links, then the switch
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "care-toggle":
            break
    expect(page.locator("#care-toggle")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_class(re.compile(r"\bcare-mode\b"))
    cookie = [c for c in page.context.cookies() if c["name"] == "care"]
    assert cookie and cookie[0]["value"] == "1" and cookie[0]["expires"] > 0  # persistent, not per session
    page.goto(public_pages["notice"])
    expect(page.locator("body")).to_have_class(re.compile(r"\bcare-mode\b"))
    expect(page.locator(".care-tiles")).to_have_count(0)  # tiles on the home page only
    expect(page.locator(".notice-section h2").first).to_contain_text("一、")
    expect(page.locator(".back-link a")).to_have_attribute("href", "/public/ganxian/notices")


def test_the_subscribe_link_opens_a_page_that_explains_the_feed(page, live_server, public_pages):
    """The visible link does not open raw XML: it explains what a subscription is and gives the
    feed's address to copy (the feed itself stays Atom, found by readers through the page's head)."""
    page.goto(public_pages["tenant-home"])
    with page.expect_navigation():
        page.locator("footer").get_by_role("link", name="订阅（Atom）").click()
    expect(page).to_have_url(f"{live_server.url}/public/ganxian/subscribe")
    expect(page.locator("main h1")).to_have_text("订阅公告")
    expect(page.locator(".feed-explained")).to_contain_text("订阅阅读器")
    expect(page.locator("#feed-address")).to_have_value(f"{live_server.url}/public/ganxian/feed.atom")
    assert _serious(AXE.run(page)) == []
    head = page.locator("head link[rel=alternate][type='application/atom+xml']")
    expect(head).to_have_attribute("href", "/public/ganxian/feed.atom")
