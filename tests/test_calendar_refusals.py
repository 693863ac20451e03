"""A year with no known calendar never makes a server error (issue 16 point 1): with the 2027
schedule gone, the demo (whose deadlines fall in 2027) still answers every page, the officer's
agenda shows the deadlines it cannot count as warnings, and the actions that count refuse with the
year named."""
import pytest
from sqlalchemy import delete

from portal.extensions import db
from portal.tenancy.models import CalendarDay, CalendarYear
from tests import route_walk as walk
from tests import support


def _forget_2027(app):
    with app.app_context():
        db.session.execute(delete(CalendarDay))
        db.session.execute(delete(CalendarYear))
        db.session.commit()


@pytest.fixture
def history_without_2027(app):
    support.seed_demo(app, history=True)
    _forget_2027(app)


def test_no_page_is_a_server_error_when_2027_is_unknown(app, history_without_2027):
    walkers = walk.clients(app, ("gx-officer", "gx-admin", "city-auditor", "a-manager", "platform"))
    failures = []
    for rule in walk.walked_rules(app):
        if "GET" not in rule.methods:
            continue
        for value in ("1", "2", "3"):
            path = walk.path_for(rule, value, text="x")
            for role, client in walkers.items():
                try:
                    status = client.get(path).status_code
                except Exception as exc:  # noqa: BLE001
                    status = repr(exc)[:120]
                if status == 500 or isinstance(status, str):
                    failures.append((path, role, status))
            if path == walk.path_for(rule, "2", text="x"):
                break
    assert not failures, failures[:40]


def _officer_tender(app, **kwargs):
    from tests.tender_world import make_tender
    return make_tender(app, **kwargs)


def test_publishing_a_notice_with_a_deadline_in_an_unknown_year_is_refused_by_name(app, demo, login):
    from datetime import datetime, timezone

    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Tender
    deadline = datetime(2028, 3, 1, 1, 30, tzinfo=timezone.utc)
    ids = _officer_tender(app, status="intention_published", deadline=deadline)
    response = support.form_post(login("gx-officer"), f"/tenders/{ids['tender']}/publish", {})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2028" in body and "国务院" in body
    assert 'type="submit" class="button" disabled' in body  # the confirmation page again, with the reasons
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.get(Tender, ids["tender"]).status == "intention_published"   # nothing saved


def test_a_clarification_counted_into_an_unknown_year_is_a_form_error(app, demo, login):
    from datetime import datetime, timezone

    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Clarification
    deadline = datetime(2028, 3, 1, 1, 30, tzinfo=timezone.utc)
    ids = _officer_tender(app, method="competitive_negotiation", deadline=deadline)
    response = support.form_post(login("gx-officer"), f"/tenders/{ids['tender']}/clarify",
                                 {"body": "补充说明", "changes_documents": "y"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2028" in body and "<form" in body
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.execute(db.select(Clarification)).first() is None


def test_the_agenda_warns_of_a_deadline_it_cannot_count(app, demo, login):
    """An award confirmed on the last working day of 2027 (its result due 2 working days later,
    in 2028): the officer's list shows it with the refusal instead of breaking."""
    from datetime import date

    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Award, Tender
    from tests.tender_world import add_opened_bid, make_contractor
    ids = _officer_tender(app, status="evaluation")
    contractor = make_contractor(app, name="赣州测试服务中心", manager="t-manager")["id"]
    bid_id = add_opened_bid(app, ids["lots"][0], contractor, 100_00)
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        db.session.add(Award(lot_id=ids["lots"][0], bid_id=bid_id, contractor_id=contractor, amount_fen=100_00,
                             total_centipoints=9000, confirmed_on=date(2027, 12, 31),
                             challenge_until=date(2027, 12, 31)))
        db.session.get(Tender, ids["tender"]).status = "awarded"
        db.session.commit()
    page = login("gx-officer").get("/tenders/due")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2028" in body and 'role="alert"' in body


@pytest.mark.usefixtures("own_queue")
def test_the_monthly_job_in_an_unknown_year_fails_visibly_naming_the_year(app, demo, run_worker, login):
    """Whether 1 February 2028 is the first working day cannot be known: the job fails with the
    refusal as its error (shown to the administrator), nothing prepared."""
    from sqlalchemy import func, select

    from portal.billing.models import Statement
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        run_id = enqueue("billing.prepare_previous_month", on="2028-02-01").id
        db.session.commit()
    run_worker()
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        run = db.session.get(JobRun, run_id)
        assert run.status == "failed" and "2028" in run.error
        assert db.session.execute(select(func.count()).select_from(Statement)).scalar_one() == 0
    assert "2028" in login("gx-admin").get("/jobs/").get_data(as_text=True)
