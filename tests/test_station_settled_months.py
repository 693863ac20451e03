"""A month whose statement is sent is closed to check-ins (the tester's walk of issue 19): a
check-in dated in such a month is refused (422, the month named), and a flagged one of such a
day is not accepted — the month's staffing deduction is fixed; rejecting it still is allowed."""
import pytest
from sqlalchemy import select

from tests import settlement_world as settle
from tests import station_world as sw
from tests import support


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _sent(app, world, month="2025-10"):
    from portal.billing import workflow
    from portal.billing.models import Statement
    from portal.extensions import db
    statement_id = settle.prepare(app, world, month, by="gx-officer")
    with app.app_context(), sw.scope(app):
        workflow.send_to_contractor(db.session.get(Statement, statement_id), sw.user("gx-officer"))
        db.session.commit()
    return statement_id


def test_a_check_in_in_a_month_whose_statement_is_sent_is_refused(app, world, client, api_token):
    headers = api_token("a-worker1")
    before = client.post("/api/v1/station-checkins", headers=headers,
                         json=sw.body(world, when=sw.at(sw.october(9)), device_id="phone-a-worker1"))
    assert before.status_code == 201  # a draft statement, or none: still accepted (flagged as late)
    _sent(app, world)
    refused = client.post("/api/v1/station-checkins", headers=headers,
                          json=sw.body(world, when=sw.at(sw.october(10)), device_id="phone-a-worker1"))
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert "2025-10" in refused.get_json()["errors"]["at"][0] and "结算单已送出" in refused.get_json()["errors"]["at"][0]
    from portal.extensions import db
    from portal.stations.models import StationCheckIn
    with app.app_context(), sw.scope(app):
        assert [c.day for c in db.session.scalars(select(StationCheckIn))] == [sw.october(9)]
    # another month of the same station is open
    november = client.post("/api/v1/station-checkins", headers=headers,
                           json=sw.body(world, when=sw.at(sw.october(9).replace(month=11, day=3)),
                                        device_id="phone-a-worker1"))
    assert november.status_code == 201


def test_a_flagged_check_in_of_a_sent_month_is_not_accepted_but_may_be_rejected(app, world, login):
    flagged_id, status = sw.check_in(app, world, "a-worker1", sw.october(9), offset_m=500)
    assert status == "flagged"
    _sent(app, world)
    supervisor = login("gx-supervisor")
    url = f"/stations/check-ins/{flagged_id}/decision"
    token = support.csrf_token_from(supervisor.get(url).get_data(as_text=True))
    form = {"csrf_token": token, "decision": "accept", "reason": "定位漂移"}
    for data in (form, {**form, "confirmed": "yes"}):
        refused = supervisor.post(url, data=data)
        assert refused.status_code == 422 and "2025-10 的结算单已送出" in refused.get_data(as_text=True)
    from portal.core.errors import DomainError
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.stations import checkins
    with app.app_context(), sw.scope(app):
        with pytest.raises(DomainError):
            checkins.decide(checkins.checkin_of_bureau(flagged_id), "accept", "定位漂移", sw.user("gx-supervisor"),
                            utcnow())
        db.session.rollback()
        assert checkins.checkin_of_bureau(flagged_id).status == "flagged"
    done = supervisor.post(url, data={**form, "decision": "reject", "reason": "不在站点", "confirmed": "yes"})
    assert done.status_code == 302
