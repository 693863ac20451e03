"""Issue 22 item 2 on the care plans: the bureau sees a draft's approval disabled with the reason
(the contractor has not submitted it yet) and enabled once it is submitted; a role that never
approves is not shown it at all."""
import pytest

from tests import support
from tests.careplan_world import careplan_world, draft

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return careplan_world(app)




def test_a_draft_shows_the_approval_disabled_to_the_bureau_until_it_is_submitted(app, world, login):
    person = world["people"]["陈德福"]
    plan_id = draft(app, person, {"daily_watch": 4})
    officer = login("gx-officer")
    page = officer.get(f"/care-plans/{plan_id}").get_data(as_text=True)
    assert 'id="approve-plan" disabled' in page
    reason = support.zh_html(app, "This version has not been submitted yet.")
    assert f'<span class="why" id="approve-plan-why">{reason}</span>' in page and page.count(reason) == 1
    assert f"/care-plans/{plan_id}/approve" not in page
    auditor = login("gx-auditor").get(f"/care-plans/{plan_id}").get_data(as_text=True)
    assert 'id="approve-plan"' not in auditor  # never the auditor's to take
    from portal.careplans import plans
    from portal.careplans.models import CarePlan
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from tests.careplan_world import _user, scope
    with app.app_context(), scope(app):
        plans.submit(db.session.get(CarePlan, plan_id), _user("a-manager"), utcnow())
        db.session.commit()
    page = officer.get(f"/care-plans/{plan_id}").get_data(as_text=True)
    assert f'href="/care-plans/{plan_id}/approve" id="approve-plan"' in page and 'id="approve-plan" disabled' not in page
