"""An assessment recorded far from the home (V02) with long notes: the notes box leaves room for the
reason (maxlength 3500 of the schema's 4000), and what is queued never exceeds 4000 characters even
when the typed notes are longer (cut, the reason kept whole), so it is accepted rather than refused
later, offline. The reason reaches the home visit's notes, which the supervisor sees on the V02
exception's page."""
import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_field_warnings import far_assessment_card
from tests.browser.test_foundation_browser import sign_in

pytestmark = pytest.mark.browser


def test_long_notes_and_a_far_reason_fit_and_reach_the_exception_page(app, page, live_server):
    from portal.assessments.models import Assessment
    from portal.extensions import db
    from portal.visits.models import Visit, VisitException
    from tests.assessment_world import scope
    world, card, posted = far_assessment_card(app, page, live_server)
    notes_box = card.locator("textarea.assessment-notes")
    assert int(notes_box.get_attribute("maxlength")) <= 3600
    notes_box.fill("能" * 3990)  # as a draft kept from before the limit: more than leaves room
    card.locator("button.record-assessment").click()
    dialog = page.locator("#warning-dialog")
    dialog.get_by_label("登记的住址已过时").check()
    dialog.locator("#warning-proceed").click()
    expect(card.locator(".assessment-row")).to_have_attribute("data-state", "sent", timeout=15_000)
    assert len(posted) == 1
    body = json.loads(posted[0])
    notes = body["notes"]
    assert len(notes) <= 4000 and notes.startswith("能能能") and notes.endswith("登记的住址已过时") and "1.2 公里" in notes
    with app.app_context(), scope(app):
        assessment = db.session.execute(select(Assessment).where(Assessment.client_id == body["client_id"])).scalar_one()
        assert assessment.notes == notes
        visit = db.session.get(Visit, assessment.visit_id)
        assert "登记的住址已过时" in visit.notes
        exception_id = db.session.execute(select(VisitException.id).where(
            VisitException.visit_id == visit.id, VisitException.code == "V02")).scalar_one()
    page.context.clear_cookies()
    sign_in(page, "gx-supervisor")
    page.goto(f"/supervision/exceptions/{exception_id}")
    expect(page.locator("#visit-notes")).to_contain_text("登记的住址已过时")
