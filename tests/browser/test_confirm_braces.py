"""The browser's question before a step (portal.js, data-confirm) fills in only the fields its form
lists in data-confirm-fields: a contractor whose name holds "{reason}" keeps its name in the
question to suspend it, rather than showing the reason typed into the form in its place."""
import pytest
from sqlalchemy import select

from tests import contract_world as cw
from tests.browser.test_foundation_browser import sign_in

pytestmark = pytest.mark.browser
ODD = "福寿{reason}养老服务社"


def test_a_name_with_braces_is_shown_as_written_in_the_question(app, page, live_server, demo):
    from portal.accounts.models import User
    from portal.contractors.models import Contractor
    from portal.extensions import db
    with app.app_context(), cw.scope(app):
        contractor_id = db.session.execute(select(User.contractor_id).where(User.username == "a-manager")).scalar_one()
        contractor = db.session.get(Contractor, contractor_id)
        name, contractor.name = contractor.name, ODD
        db.session.commit()
    try:
        asked = []
        page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        sign_in(page, "gx-officer")
        page.goto(f"/contractors/{contractor_id}")
        form = page.locator("form[action$='/suspend']")
        form.locator("input[name=reason]").fill("擅自转包")
        form.locator("button[type=submit]").click()
        page.wait_for_timeout(300)
        assert len(asked) == 1, asked
        assert ODD in asked[0] and "擅自转包" not in asked[0], asked[0]
    finally:
        with app.app_context(), cw.scope(app):
            db.session.get(Contractor, contractor_id).name = name
            db.session.commit()
