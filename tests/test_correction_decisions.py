"""Corrections need a decision (docs/DOMAIN.md §6, issue 12 point 6): a contractor's time correction
leaves the findings it would clear open until a supervisor accepts it; the rules judge the times
in force until then; acceptance re-runs them with the corrected times, rejection changes nothing;
the visit page shows the correction beside the recorded times with its status and who decided."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from tests import support
from tests.test_verification import _a_reason, at, visits  # noqa: F401  (the visits fixture)

pytestmark = pytest.mark.usefixtures("own_queue")


def overlapping(visits):
    """Two visits of a-worker1 overlapping by ten minutes: V04 on both."""
    first = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    second = visits.record("a-worker1", "陈德福", at(9, 50), minutes=60)
    assert "V04" in visits.codes(first) and "V04" in visits.codes(second)
    return first, second


def correct_by_manager(visits, visit_id, check_out):
    from portal.accounts.models import User
    from portal.visits.models import Visit
    from portal.visits.recording import correct_times
    with visits.app.app_context(), visits.scope():
        manager = db.session.execute(select(User).where(User.username == "a-manager")).scalar_one()
        correction = correct_times(db.session.get(Visit, visit_id), reason_code=_a_reason(), user=manager,
                                   now=at(12), check_out_at=check_out.isoformat())
        db.session.commit()
        correction_id = correction.id
    visits.run_worker()
    return correction_id


def decide(visits, correction_id, decision):
    from portal.accounts.models import User
    from portal.visits import corrections
    from portal.visits.models import VisitCorrection
    with visits.app.app_context(), visits.scope():
        supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        corrections.decide(db.session.get(VisitCorrection, correction_id), decision, supervisor, "核实", at(13))
        db.session.commit()
    visits.run_worker()


def test_a_contractors_correction_leaves_v04_open_until_a_supervisor_accepts_it(visits):
    first, second = overlapping(visits)
    correction = correct_by_manager(visits, first, at(9, 45))
    # Pending: the rules still judge the recorded times; nothing is cleared, nothing verified.
    assert visits.exceptions(first)["V04"]["status"] == "open"
    assert visits.exceptions(second)["V04"]["status"] == "open"
    assert visits.status(first) == visits.status(second) == "exception"
    decide(visits, correction, "accept")
    assert "V04" not in visits.codes(first) | visits.codes(second)
    assert visits.status(first) == visits.status(second) == "verified"


def test_a_rejected_correction_changes_nothing(visits):
    first, second = overlapping(visits)
    correction = correct_by_manager(visits, first, at(9, 45))
    decide(visits, correction, "reject")
    assert visits.exceptions(first)["V04"]["status"] == "open"
    assert visits.exceptions(second)["V04"]["status"] == "open"
    assert visits.status(first) == visits.status(second) == "exception"
    from portal.core.errors import Conflict
    with pytest.raises(Conflict):  # decided once
        decide(visits, correction, "accept")


def test_a_supervisors_own_correction_is_in_force_at_once(visits):
    from portal.accounts.models import User
    from portal.visits.models import Visit
    from portal.visits.recording import correct_times
    first, second = overlapping(visits)
    with visits.app.app_context(), visits.scope():
        supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        correction = correct_times(db.session.get(Visit, first), reason_code=_a_reason(), user=supervisor,
                                   now=at(12), check_out_at=at(9, 45).isoformat())
        assert correction.status == "accepted" and correction.decided_by_id == supervisor.id
        db.session.commit()
    visits.run_worker()
    assert visits.status(first) == visits.status(second) == "verified"


def test_the_visit_page_shows_the_correction_its_status_and_who_decided(visits, login):
    first, second = overlapping(visits)
    correction = correct_by_manager(visits, first, at(9, 45))
    supervisor = login("gx-supervisor")
    html = supervisor.get(f"/supervision/visits/{first}").get_data(as_text=True)
    assert 'id="proposed-times"' in html and 'id="whose-move"' in html
    assert f'id="correction-{correction}"' in html and ">60<" in html and ">45<" in html
    assert f"/corrections/{correction}/accept" in html and f"/corrections/{correction}/reject" in html
    from tests.visit_world import exception_id
    v04 = supervisor.get(f"/supervision/exceptions/{exception_id(visits.app, first, 'V04')}").get_data(as_text=True)
    assert f"/supervision/visits/{first}#correction-{correction}" in v04
    queue = supervisor.get("/supervision/corrections").get_data(as_text=True)
    assert f"/supervision/visits/{first}#correction-{correction}" in queue
    manager = login("a-manager", tenant="ganxian")
    assert f"/corrections/{correction}/accept" not in manager.get(f"/supervision/visits/{first}").get_data(as_text=True)
    assert support.form_post(manager, f"/supervision/visits/{first}/corrections/{correction}/accept", {"note": ""},
                             token_url=f"/supervision/visits/{first}").status_code == 403
    done = support.form_post(supervisor, f"/supervision/visits/{first}/corrections/{correction}/accept",
                             {"note": "家属证实提前离开"}, token_url=f"/supervision/visits/{first}")
    assert done.status_code == 302
    visits.run_worker()
    html = supervisor.get(f"/supervision/visits/{first}").get_data(as_text=True)
    assert 'id="proposed-times"' not in html and "家属证实提前离开" in html
    assert ">45<" in html  # now the minutes in force
    assert visits.status(first) == visits.status(second) == "verified"


def test_the_api_decides_a_correction_and_shows_its_status(visits, client, api_token):
    first, second = overlapping(visits)
    correction = correct_by_manager(visits, first, at(9, 45))
    url = f"/api/v1/visits/{first}/corrections/{correction}/decision"
    shown = client.get(f"/api/v1/visits/{first}", headers=api_token("gx-supervisor")).get_json()
    assert shown["correction"]["status"] == "pending" and shown["status"] == "exception"
    assert client.post(url, json={"decision": "accept"},
                       headers=api_token("a-manager", tenant="ganxian")).status_code == 403
    assert client.post(url, json={"decision": "maybe"}, headers=api_token("gx-supervisor")).status_code == 422
    response = client.post(url, json={"decision": "accept", "note": "核实"}, headers=api_token("gx-supervisor"))
    assert response.status_code == 200 and response.get_json()["correction"]["status"] == "accepted"
    visits.run_worker()
    assert visits.status(first) == visits.status(second) == "verified"
    assert client.post(url, json={"decision": "reject"}, headers=api_token("gx-supervisor")).status_code == 409
    assert client.post(f"/api/v1/visits/{first}/corrections/{correction}/decision", json={"decision": "accept"},
                       headers=api_token("zg-officer")).status_code in (403, 404)
