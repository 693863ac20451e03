"""Issue 22 item 2 on the bureau's users page: the administrator's own row shows "disable" disabled
with the reason (the server refuses it all the same) and no password reset (a link to change one's
own instead); other rows keep both actions, each confirmation naming the account."""
import re

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from tests import support


def test_the_administrator_cannot_disable_themself_and_is_told_so_before_clicking(app, login, demo):
    admin = login("gx-admin")
    page = admin.get("/users").get_data(as_text=True)
    with app.app_context():
        own_id = db.session.execute(select(User.id).where(User.username == "gx-admin")).scalar_one()
        other_id = db.session.execute(select(User.id).where(User.username == "gx-officer")).scalar_one()
    assert 'id="disable-self" disabled' in page and 'id="disable-self-why"' in page
    assert f"/users/{own_id}/disable" not in page and f"/users/{own_id}/reset" not in page
    assert f"/users/{other_id}/disable" in page and f"/users/{other_id}/reset" in page
    own_row = page[page.index('id="disable-self"') - 600:page.index('id="disable-self"')]
    assert "gx-admin" in own_row
    # every question names the account it acts on
    questions = re.findall(r'data-confirm="([^"]*)"', page)
    assert questions and all(re.search(r"[a-z]+-[a-z0-9-]+", q) for q in questions), questions
    # the server refuses all the same
    refused = support.form_post(admin, f"/users/{own_id}/disable", {}, token_url="/users")
    assert refused.status_code in (302, 409, 422)
    with app.app_context():
        assert db.session.get(User, own_id).active
