"""V01 — work by someone on no roster of the contractor that day — is subcontracting and never
payable (docs/DOMAIN.md §6–§8, issue 12 point 2): the contractor's answer is recorded, but a supervisor
can never accept it into a verified visit (service, web page, bulk, API); the supervisor confirms
the violation, or re-checks a roster corrected with employment evidence, and V01 then goes only
because the rule no longer finds it."""
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.extensions import db
from tests import support
from tests.beneficiary_world import care_world, staff_of
from tests.visit_world import DAY, at, exception_id, record, scope, visit_state

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


def edit_staff(app, username, **values):
    from portal.contractors.models import StaffMember
    with app.app_context(), scope(app):
        member = db.session.get(StaffMember, staff_of(app, username))
        for name, value in values.items():
            setattr(member, name, value)
        db.session.commit()


def set_evidence(app, username, month, present):
    """Employment evidence of the worker for ``month``: a labour contract, insured by the contractor."""
    from portal.contractors.models import StaffEmployment, StaffMember
    staff_id = staff_of(app, username)
    with app.app_context(), scope(app):
        db.session.execute(delete(StaffEmployment).where(StaffEmployment.staff_id == staff_id,
                                                         StaffEmployment.month == month))
        if present:
            member = db.session.get(StaffMember, staff_id)
            db.session.add(StaffEmployment(staff_id=staff_id, month=month, labour_contract=True,
                                           insured_by_credit_code=member.contractor.credit_code))
        db.session.commit()


def v01_visit(app, world, hour=9):
    """a-worker1 left the roster the day before the visit: V01 open, a violation recorded."""
    edit_staff(app, "a-worker1", left_on=DAY - timedelta(days=1))
    visit_id = record(app, world["people"]["刘桂英"], start=at(DAY, hour))
    assert visit_state(app, visit_id) == ("exception", {"V01": "open"})
    return visit_id


def violation_status(app, visit_id):
    from portal.violations.models import Violation
    with app.app_context(), scope(app):
        return db.session.execute(select(Violation.status).where(
            Violation.dedupe_key == f"unlisted_worker:visit:{visit_id}")).scalar_one()


def answer(client, exception):
    return support.form_post(client, f"/supervision/exceptions/{exception}/answer",
                             {"reason": "roster_error", "text": "名册漏报，已补录。"},
                             token_url=f"/supervision/exceptions/{exception}")


def test_an_answered_v01_accepted_by_a_supervisor_is_refused_and_the_visit_not_verified(app, login, world):
    visit = v01_visit(app, world)
    v01 = exception_id(app, visit, "V01")
    assert answer(login("a-manager", tenant="ganxian"), v01).status_code == 302
    assert visit_state(app, visit) == ("exception", {"V01": "answered"})  # the answer is recorded
    supervisor = login("gx-supervisor")
    page = supervisor.get(f"/supervision/exceptions/{v01}").get_data(as_text=True)
    assert f"/supervision/exceptions/{v01}/accept" not in page  # no accept button for V01
    assert f"/supervision/exceptions/{v01}/reject" in page and f"/exceptions/{v01}/recheck-roster" in page
    assert 'id="next-move"' in page
    # Posting the acceptance anyway is refused, and so is the service and the bulk acceptance.
    refused = support.form_post(supervisor, f"/supervision/exceptions/{v01}/accept", {"note": "同意"},
                                token_url=f"/supervision/exceptions/{v01}")
    assert refused.status_code == 302
    assert visit_state(app, visit) == ("exception", {"V01": "answered"})
    from portal.accounts.models import User
    from portal.core.errors import Conflict, DomainError
    from portal.visits import exceptions
    from portal.visits.models import VisitException
    with app.app_context(), scope(app):
        user = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        with pytest.raises(Conflict):
            exceptions.accept(db.session.get(VisitException, v01), user, "同意")
        with pytest.raises(DomainError):  # nothing acceptable in the selection
            exceptions.bulk_decide([str(v01)], "accept", user, "")
        db.session.rollback()
    token = support.csrf_token_from(supervisor.get("/supervision/exceptions").get_data(as_text=True))
    first = supervisor.post("/supervision/exceptions/bulk",
                            data={"ids": [str(v01)], "bulk_action": "accept", "csrf_token": token})
    assert first.status_code == 302  # nothing left to accept: back to the queue
    assert visit_state(app, visit) == ("exception", {"V01": "answered"})
    assert violation_status(app, visit) == "open"


def test_confirming_the_violation_rejects_the_visit_and_confirms_its_violation(app, login, world):
    visit = v01_visit(app, world)
    v01 = exception_id(app, visit, "V01")
    supervisor = login("gx-supervisor")
    page = supervisor.get(f"/supervision/exceptions/{v01}/reject").get_data(as_text=True)
    assert "data-confirm" not in page and 'type="submit"' in page  # this page is the one confirmation
    done = support.form_post(supervisor, f"/supervision/exceptions/{v01}/reject", {"note": "转包"})
    assert done.status_code == 302
    assert visit_state(app, visit) == ("rejected", {"V01": "rejected"})
    assert violation_status(app, visit) == "confirmed"


def recheck(client, exception):
    return support.form_post(client, f"/supervision/exceptions/{exception}/recheck-roster", {"note": "名册已更正"},
                             token_url=f"/supervision/exceptions/{exception}")


def test_v01_goes_only_when_the_corrected_roster_passes_the_rule_with_employment_evidence(app, login, world):
    visit = v01_visit(app, world)
    v01 = exception_id(app, visit, "V01")
    answer(login("a-manager", tenant="ganxian"), v01)
    supervisor = login("gx-supervisor")
    # The roster still says the worker had left: the finding stands.
    assert recheck(supervisor, v01).status_code == 302
    assert visit_state(app, visit) == ("exception", {"V01": "answered"})
    # Back on the roster that day, but without employment evidence for the month: still refused.
    edit_staff(app, "a-worker1", left_on=None)
    set_evidence(app, "a-worker1", DAY.replace(day=1), present=False)
    recheck(supervisor, v01)
    assert visit_state(app, visit) == ("exception", {"V01": "answered"})
    assert violation_status(app, visit) == "open"
    # With the evidence the rules run again: V01 is gone, the violation dismissed, the visit verified.
    set_evidence(app, "a-worker1", DAY.replace(day=1), present=True)
    assert recheck(supervisor, v01).status_code == 302
    assert visit_state(app, visit) == ("verified", {})
    assert violation_status(app, visit) == "dismissed"
    # Only a supervisor re-checks.
    other = v01_visit(app, world, hour=14)
    assert support.form_post(login("a-manager", tenant="ganxian"),
                             f"/supervision/exceptions/{exception_id(app, other, 'V01')}/recheck-roster",
                             {"note": "x"}, token_url="/supervision/exceptions").status_code == 403


def test_the_api_refuses_to_accept_v01_with_a_clear_detail(app, world, client, api_token):
    visit = v01_visit(app, world)
    v01 = exception_id(app, visit, "V01")
    manager = api_token("a-manager", tenant="ganxian")
    answered = client.post(f"/api/v1/exceptions/{v01}/answer", json={"reason_code": "roster_error"}, headers=manager)
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    response = client.post(f"/api/v1/exceptions/{v01}/decision", json={"decision": "accept"},
                           headers=api_token("gx-supervisor"))
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert "V01" in response.get_json()["detail"]
    assert visit_state(app, visit) == ("exception", {"V01": "answered"})
    confirmed = client.post(f"/api/v1/exceptions/{v01}/decision", json={"decision": "reject", "note": "转包"},
                            headers=api_token("gx-supervisor"))
    assert confirmed.status_code == 200 and confirmed.get_json()["visit_status"] == "rejected"


def test_an_open_v01_is_not_cleared_by_a_back_dated_roster_entry_when_the_rules_run_again(app, login, world):
    """The contractor puts the worker back on the roster for the day (with evidence) and the rules run
    again (a new photo, an accepted correction, the daily sweep): V01 stays open until a supervisor
    re-checks the roster."""
    from portal.visits import verification
    visit = v01_visit(app, world)
    edit_staff(app, "a-worker1", left_on=None)
    set_evidence(app, "a-worker1", DAY.replace(day=1), present=True)
    with app.app_context(), scope(app):
        verification.verify_visit(visit, at(DAY, 12))
        db.session.commit()
    assert visit_state(app, visit) == ("exception", {"V01": "open"})
    assert violation_status(app, visit) == "open"
    # The supervisor's re-check is what clears it.
    assert recheck(login("gx-supervisor"), exception_id(app, visit, "V01")).status_code == 302
    assert visit_state(app, visit) == ("verified", {})
