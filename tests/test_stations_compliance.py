"""Monthly staffing compliance at its boundaries (docs/DOMAIN.md §6 "Stations and training", §8),
from real check-ins recorded through the check-in service and read through the API and the pages:
nobody present, partly, fully; public holidays and the bureau's own days off excluded, a 调休
working weekend counted; extra staff one day never making up another; a check-in of someone no
longer posted that day not counted; the staffing contract's dates limiting the days; a flagged
check-in counted only once accepted. October 2025 (the calendar knows it): 18 working days."""
from datetime import date

import pytest
from sqlalchemy import select

from tests import station_world as sw
from tests import support

MONTH = "2025-10"


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _month(app, world, code="TS-01"):
    from portal.extensions import db
    from portal.stations.compliance import station_month
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        found = station_month(db.session.get(Station, world["stations"][code]), sw.OCTOBER)
        return {"days": [d.day for d in found.days], "required": found.staff_days_required,
                "present": found.staff_days_present, "missing": found.staff_days_missing,
                "short": found.short_days, "compliance": found.compliance}


def test_nobody_present_is_zero_compliance_over_the_working_days_only(app, world, api_token, client):
    figures = _month(app, world)
    assert figures["days"] == sw.OCTOBER_WORKING_DAYS  # 1–8 October off, Saturday the 11th worked (调休)
    assert (figures["required"], figures["present"], figures["missing"]) == (36, 0, 36)
    assert len(figures["short"]) == 18 and figures["short"][0] == {"day": "2025-10-09", "present": 0, "required": 2}
    headers = api_token("gx-officer")
    found = client.get(f"/api/v1/stations?month={MONTH}", headers=headers).get_json()["items"]
    ts01 = next(i for i in found if i["id"] == world["stations"]["TS-01"])
    assert ts01 == {"id": world["stations"]["TS-01"], "name": "梅林镇社工站", "kind": "township", "required_staff": 2,
                    "staff_days_required": 36, "staff_days_present": 0, "compliance": 0.0}


def test_partial_and_full_presence_and_holidays_count_nothing(app, world, api_token, client):
    for day in (9, 10):
        sw.check_in(app, world, "a-worker1", sw.october(day))
    sw.check_in(app, world, "a-worker2", sw.october(9))
    sw.check_in(app, world, "a-worker1", sw.october(3))  # a public holiday: not a day counted
    sw.check_in(app, world, "a-worker2", sw.october(12))  # an ordinary Sunday
    figures = _month(app, world)
    assert (figures["required"], figures["present"], figures["missing"]) == (36, 3, 33)
    assert {"day": "2025-10-10", "present": 1, "required": 2} in figures["short"]
    assert all(s["day"] != "2025-10-09" for s in figures["short"])
    item = next(i for i in client.get(f"/api/v1/stations?month={MONTH}", headers=api_token("gx-officer"))
                .get_json()["items"] if i["id"] == world["stations"]["TS-01"])
    assert item["staff_days_present"] == 3 and item["compliance"] == round(3 / 36, 4) == 0.0833
    for day in sw.OCTOBER_WORKING_DAYS:
        for name in sw.WORKERS:
            if (name, day) not in (("a-worker1", 9), ("a-worker1", 10), ("a-worker2", 9)):
                sw.check_in(app, world, name, sw.october(day))
    figures = _month(app, world)
    assert (figures["present"], figures["missing"], figures["short"]) == (36, 0, [])
    assert figures["compliance"] == 1
    item = next(i for i in client.get(f"/api/v1/stations?month={MONTH}", headers=api_token("gx-officer"))
                .get_json()["items"] if i["id"] == world["stations"]["TS-01"])
    assert item["compliance"] == 1.0


def test_a_day_the_bureau_takes_off_is_excluded_and_the_tiaoxiu_saturday_counts(app, world):
    from portal.extensions import db
    from portal.tenancy.models import CalendarOverride
    sw.check_in(app, world, "a-worker1", sw.october(11))  # Saturday, a working day this year
    sw.check_in(app, world, "a-worker1", sw.october(20))
    with app.app_context(), sw.scope(app):
        db.session.add(CalendarOverride(day=sw.october(20), is_working=False, note="区里统一调休"))
        db.session.commit()
    figures = _month(app, world)
    assert 11 in figures["days"] and 20 not in figures["days"] and len(figures["days"]) == 17
    assert (figures["required"], figures["present"]) == (34, 1)


def test_extra_staff_one_day_never_make_up_a_short_day(app, world):
    from portal.extensions import db
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        db.session.get(Station, world["stations"]["TS-01"]).required_staff = 1
        db.session.commit()
    for name in sw.WORKERS:  # two people the 9th, nobody the 10th
        sw.check_in(app, world, name, sw.october(9))
    sw.check_in(app, world, "a-worker1", sw.october(9), hour=15)  # twice the same day: one staff-day
    figures = _month(app, world)
    assert (figures["required"], figures["present"]) == (18, 1)
    assert {"day": "2025-10-10", "present": 0, "required": 1} in figures["short"]


def test_a_check_in_of_someone_no_longer_posted_that_day_is_not_counted(app, world):
    from portal.extensions import db
    from portal.stations import postings
    from portal.stations.models import StationPosting
    for name in sw.WORKERS:
        sw.check_in(app, world, name, sw.october(16))
    with app.app_context(), sw.scope(app):  # a-worker2's posting is found to have ended on the 15th
        posting = db.session.execute(select(StationPosting).where(
            StationPosting.staff_id == world["staff"]["a-worker2"])).scalar_one()
        postings.end_posting(posting, sw.october(15))
        db.session.commit()
    assert _month(app, world)["present"] == 1


def test_the_contract_dates_limit_the_days(app, world):
    from portal.contracts.models import Contract
    from portal.extensions import db
    with app.app_context(), sw.scope(app):
        db.session.get(Contract, world["contract"]).starts_on = date(2025, 10, 15)
        db.session.commit()
    sw.check_in(app, world, "a-worker1", sw.october(14))  # posted, but before the contract's first day
    sw.check_in(app, world, "a-worker1", sw.october(15))
    figures = _month(app, world)
    assert figures["days"] == [d for d in sw.OCTOBER_WORKING_DAYS if d >= 15]
    assert (figures["required"], figures["present"]) == (2 * 13, 1)


def test_a_flagged_check_in_counts_only_once_accepted(app, world, login):
    checkin_id, status = sw.check_in(app, world, "a-worker1", sw.october(9), offset_m=500)
    assert status == "flagged"
    assert _month(app, world)["present"] == 0
    supervisor = login("gx-supervisor")
    token = support.csrf_token_from(supervisor.get(f"/stations/check-ins/{checkin_id}/decision").get_data(as_text=True))
    form = {"csrf_token": token, "decision": "accept", "reason": "定位漂移，站内监控可见本人在岗"}
    confirm = supervisor.post(f"/stations/check-ins/{checkin_id}/decision", data=form)
    assert confirm.status_code == 200 and 'id="decision-confirmation"' in confirm.get_data(as_text=True)
    assert _month(app, world)["present"] == 0  # not before the decision is confirmed
    done = supervisor.post(f"/stations/check-ins/{checkin_id}/decision", data={**form, "confirmed": "yes"})
    assert done.status_code == 302
    assert _month(app, world)["present"] == 1
    for again in (form, {**form, "confirmed": "yes"}, {**form, "decision": "reject", "confirmed": "yes"}):
        late = supervisor.post(f"/stations/check-ins/{checkin_id}/decision", data=again)
        assert late.status_code == 409 and "这条签到已处理过。" in late.get_data(as_text=True)
    assert _month(app, world)["present"] == 1
    from portal.audit.models import AuditEntry
    from portal.extensions import db
    with app.app_context(), sw.scope(app):  # the decision is in the audit trail, the position is not
        entries = db.session.execute(select(AuditEntry).where(AuditEntry.object_type == "StationCheckIn",
                                                              AuditEntry.object_id == str(checkin_id))).scalars().all()
        decided = [e for e in entries if (e.after or {}).get("status") == "accepted"]
        assert decided and decided[0].actor == "gx-supervisor"
        created = [e for e in entries if e.action == "insert"]
        assert created and created[0].after["lat"] == "[redacted]" and created[0].after["lon"] == "[redacted]"
    other_id, _status = sw.check_in(app, world, "a-worker2", sw.october(9), offset_m=800)
    supervisor.post(f"/stations/check-ins/{other_id}/decision",
                    data={**form, "decision": "reject", "reason": "不在站点", "confirmed": "yes"})
    assert _month(app, world)["present"] == 1


def test_a_year_the_calendar_does_not_know_is_a_422_problem_and_a_message_on_the_pages(app, world, api_token, client,
                                                                                        login):
    response = client.get("/api/v1/stations?month=2003-05", headers=api_token("gx-officer"))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "month" in response.get_json()["errors"]
    officer = login("gx-officer")
    for path in ("/stations/compliance?month=2003-05", f"/stations/{world['stations']['TS-01']}?month=2003-05",
                 "/stations/compliance.xlsx?month=2003-05"):
        assert officer.get(path).status_code == 200, path
    assert "2003" in officer.get("/stations/compliance?month=2003-05").get_data(as_text=True)
