"""The home pages' cards of issue 20 (portal/dashboard/services.py dashboard_for): officers and
supervisors see the public feedback due and overdue, each leading to its tab; finance the financial
reports awaiting its review and the months overdue; a contractor manager its returned reports and
its overdue months. The navigation leads the supervisor to the financial reports and the auditor
and the admin to the public feedback."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from portal.extensions import db
from tests import settlement_world as sw
from tests.test_finreports import _report
from tests.test_finreports_fixes import _decide


@pytest.fixture
def world(app, demo):
    return sw.care_contract(app)


def _card(client, href):
    """The value of the home page's card leading to ``href`` (None without such a card)."""
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'href="' + re.escape(href) + r'"><span class="card-value">(\d+)</span>', html)
    return None if found is None else int(found.group(1))


def _feedback(app, due_on, number):
    from portal.feedback.models import FeedbackItem
    with app.app_context(), sw.scope(app):
        db.session.add(FeedbackItem(tracking_number=number, topic="service", text="意见", due_on=due_on,
                                    received_at=datetime(2026, 1, 5, tzinfo=timezone.utc)))
        db.session.commit()


@pytest.mark.parametrize("username", ["gx-officer", "gx-supervisor"])
def test_officers_and_supervisors_see_feedback_due_and_overdue_leading_to_the_tabs(app, world, login, username):
    from portal.core.timeutil import local_today
    browser = login(username)
    due, overdue = _card(browser, "/feedback/?tab=due"), _card(browser, "/feedback/?tab=overdue")
    assert due is not None and overdue is not None
    today = local_today()
    _feedback(app, today, "FKHOMEDUE001")  # due today: due, not overdue
    assert (_card(browser, "/feedback/?tab=due"), _card(browser, "/feedback/?tab=overdue")) == (due + 1, overdue)
    _feedback(app, today - timedelta(days=1), "FKHOMELATE01")
    assert (_card(browser, "/feedback/?tab=due"), _card(browser, "/feedback/?tab=overdue")) == (due + 1, overdue + 1)
    assert "FKHOMELATE01" in browser.get("/feedback/?tab=overdue").get_data(as_text=True)
    for other in ("gx-finance", "gx-auditor", "a-manager"):
        assert _card(login(other, tenant="ganxian" if other != "gx-finance" else None),
                     "/feedback/?tab=overdue") is None, other


def test_finance_sees_reports_awaiting_review_and_the_manager_its_returned_ones(app, world, login):
    finance, manager = login("gx-finance"), login("a-manager", tenant="ganxian")
    waiting, returned = _card(finance, "/financial-reports/?status=submitted"), _card(manager, "/financial-reports/?status=returned")
    assert waiting is not None and returned is not None
    for path in ("/financial-reports/overdue",):
        assert _card(finance, path) is not None and _card(manager, path) is not None
    report_id = _report(app, world, period="2026-05", submit=True)
    assert _card(finance, "/financial-reports/?status=submitted") == waiting + 1
    _decide(app, report_id, "return")
    assert _card(finance, "/financial-reports/?status=submitted") == waiting
    assert _card(manager, "/financial-reports/?status=returned") == returned + 1
    # the other roles get neither card; a manager of another organisation does not see A's return
    assert _card(login("gx-officer"), "/financial-reports/?status=submitted") is None
    assert _card(manager, "/financial-reports/?status=submitted") is None
    assert _card(login("b-manager", tenant="ganxian"), "/financial-reports/?status=returned") == 0


def test_the_overdue_months_card_counts_the_overdue_list(app, world, login):
    from portal.finreports import overdue
    finance, manager = login("gx-finance"), login("a-manager", tenant="ganxian")
    with app.app_context(), sw.scope(app):
        everyone = len(overdue.overdue_months(sw.user("gx-finance")))
        own = len(overdue.overdue_months(sw.user("a-manager")))
    assert own > 0 and everyone >= own
    assert _card(finance, "/financial-reports/overdue") == everyone
    assert _card(manager, "/financial-reports/overdue") == own


def test_the_navigation_leads_supervisor_auditor_and_admin_where_they_may_go():
    from portal.accounts.permissions import roles_for
    from portal.dashboard.services import NAVIGATION

    def led(role, endpoint):
        return endpoint in [e for _label, e in NAVIGATION[role]]
    assert led("supervisor", "finreports.index")
    assert all(led(role, "feedback.index") for role in roles_for("feedback.handle") + ("auditor",))
    assert not led("field_worker", "feedback.index")
