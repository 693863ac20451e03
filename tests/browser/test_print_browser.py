"""The statement's print view in Chromium, emulating print media at the width of an A4 page's
printable area: no heading is broken over two lines, headings keep with what follows, rows are
never split over pages, numbers are right-aligned, the net amount is written in capitals (大写金额)
and the signature and seal block is there; the page is printed to an A4 PDF kept under
test-artifacts/, and axe finds no serious or critical violation."""
from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests import settlement_world as sw
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_foundation_browser import sign_in
from tests.browser.test_public_a11y import _serious

pytestmark = pytest.mark.browser
MONTH = "2026-10"
A4_PRINTABLE_PX = 680  # 210 mm − 2 × 15 mm margins (@page) at 96 px per inch

# Lines each heading's text takes: the distinct tops of its text's boxes.
HEADING_LINES = """() => [...document.querySelectorAll("main h1, main h2, main h3")].map((h) => {
  const range = document.createRange(); range.selectNodeContents(h);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  const style = getComputedStyle(h);
  return {text: h.textContent.trim(), lines: tops.size, after: style.breakAfter, wordBreak: style.wordBreak};
})"""
ROWS_BREAK_INSIDE = """() => [...document.querySelectorAll("main tr")].map((r) => getComputedStyle(r).breakInside)"""
NUM_ALIGN = """() => [...document.querySelectorAll("#statement-lines td.num, #statement-deductions td.num")]
  .map((c) => getComputedStyle(c).textAlign)"""
# Words (runs between spaces, at most 16 characters) that the layout broke over two lines, in
# headings, row and column headings, names, numbers and the lines' descriptions (prose may wrap).
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest("h1, h2, h3, th, dt, .name, .num, .keep-words")) continue;
    for (const match of node.data.matchAll(/\\S{2,16}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index); range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""
NAME_LINES = """() => [...document.querySelectorAll("main td.name")].map((c) => {
  const range = document.createRange(); range.selectNodeContents(c);
  return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
})"""


def test_the_statement_prints_on_a4_with_whole_headings_capitals_and_a_seal_block(app, page, live_server, demo):
    world = sw.care_contract(app)
    sw.add_visits(app, world, MONTH, 20)  # 20 × 80.00 yuan
    sw.violation(app, world, date(2026, 10, 5))  # a deduction line as well
    statement_id = sw.prepare(app, world, MONTH)
    with app.app_context(), sw.scope(app):
        from portal.billing.models import Statement
        from portal.core.money import amount_in_words
        from portal.extensions import db
        net_fen = db.session.get(Statement, statement_id).net_fen
    sign_in(page, "gx-officer")
    page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1000})
    page.emulate_media(media="print")
    page.goto(f"/billing/{statement_id}/print")
    page.evaluate("document.fonts.ready.then(() => true)")  # measured once the text's fonts are in

    headings = page.evaluate(HEADING_LINES)
    assert len(headings) >= 5, headings
    for heading in headings:
        assert heading["lines"] == 1, heading  # not broken over two lines at A4 width
        assert heading["after"] == "avoid", heading
        assert heading["wordBreak"] == "keep-all", heading
    assert page.evaluate(BROKEN_WORDS) == []  # "上门照料护理服务", never "上门照料护理服/务"
    assert set(page.evaluate(ROWS_BREAK_INSIDE)) == {"avoid"}
    aligned = page.evaluate(NUM_ALIGN)
    assert aligned and set(aligned) == {"right"}
    assert page.evaluate(NAME_LINES) and set(page.evaluate(NAME_LINES)) == {1}

    assert page.locator("#amount-in-words").inner_text() == amount_in_words(net_fen) == "壹仟壹佰元整"
    assert "¥1,100.00" in page.locator("#statement-totals").inner_text()  # thousands separated
    for role in ("编制人", "审核人", "财务审核", "承接主体已确认"):
        assert role in page.locator("#signatures").inner_text()
    seals = page.locator("#seals .seal-box")
    assert seals.count() == 2
    box = seals.first.bounding_box()
    assert box["width"] > 100 and box["height"] > 100  # room for a round seal (42 mm)
    assert page.locator(".site-nav, .toolbar").evaluate_all("els => els.every(e => !e.offsetParent)")

    pdf = page.pdf(format="A4", print_background=False, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 1
    (SCREENSHOTS.parent / "statement-print.pdf").write_bytes(pdf)

    page.emulate_media(media="screen")
    found = _serious(Axe().run(page))
    assert not found, found
