"""Postings of roster members to stations (docs/DOMAIN.md §6): the staffing contract's manager
(its own stations) or an officer posts a member of the contract's contractor over dates within the
contract, on the roster over all of them; one person is never posted twice on one day; a posting
ends on its last day. Through the station's page and its forms."""
from datetime import date

import pytest
from sqlalchemy import select

from tests import station_world as sw
from tests import support


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _post(client, world, station, staff, from_on, until_on=""):
    path = f"/stations/{world['stations'][station]}"
    return support.form_post(client, f"{path}/postings", {"staff": str(staff), "from_on": from_on,
                                                          "until_on": until_on}, token_url=path)


def _postings(app, staff_id):
    from portal.extensions import db
    from portal.stations.models import StationPosting
    with app.app_context(), sw.scope(app):
        return [(p.station_id, p.from_on, p.until_on) for p in db.session.execute(
            select(StationPosting).where(StationPosting.staff_id == staff_id)
            .order_by(StationPosting.from_on)).scalars()]


def test_a_person_posted_to_two_stations_on_overlapping_days_is_refused(app, world, login):
    manager = login("a-manager", tenant="ganxian")
    worker = world["staff"]["a-worker1"]
    refused = _post(manager, world, "TS-HUB", worker, "2025-06-01", "2025-06-30")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "梅林镇社工站" in page and 'class="field-error"' in page
    assert _postings(app, worker) == [(world["stations"]["TS-01"], sw.POSTED_FROM, None)]
    # once the township posting ends on 31 May, the hub from 1 June is no overlap
    path = f"/stations/{world['stations']['TS-01']}"
    posting_id = _posting_id(app, world, worker)
    ended = support.form_post(manager, f"{path}/postings/end", {"posting": str(posting_id), "last_day": "2025-05-31"},
                              token_url=path)
    assert ended.status_code == 302
    assert _post(manager, world, "TS-HUB", worker, "2025-06-01").status_code == 302
    assert _postings(app, worker) == [(world["stations"]["TS-01"], sw.POSTED_FROM, date(2025, 5, 31)),
                                      (world["stations"]["TS-HUB"], date(2025, 6, 1), None)]
    # touching the hub's first day from the other side overlaps again
    assert _post(manager, world, "TS-01", worker, "2025-05-20", "2025-06-01").status_code == 422
    assert _post(manager, world, "TS-01", worker, "2025-05-20", "2025-05-31").status_code == 422  # its own old days


def _posting_id(app, world, staff_id):
    from portal.extensions import db
    from portal.stations.models import StationPosting
    with app.app_context(), sw.scope(app):
        return db.session.execute(select(StationPosting.id).where(StationPosting.staff_id == staff_id)).scalar_one()


def test_dates_outside_the_contract_are_refused(app, world, login):
    officer = login("gx-officer")
    worker = world["staff"]["a-worker2"]
    path = f"/stations/{world['stations']['TS-01']}"
    support.form_post(officer, f"{path}/postings/end", {"posting": str(_posting_id(app, world, worker)),
                                                        "last_day": "2025-01-31"}, token_url=path)
    for from_on, until_on in (("2024-12-01", "2025-03-01"), ("2027-12-01", "2028-01-31"), ("2028-02-01", "")):
        response = _post(officer, world, "TS-HUB", worker, from_on, until_on)
        assert response.status_code == 422, (from_on, until_on)
        assert "2025-01-01" in response.get_data(as_text=True)  # the contract's period is named
    assert _post(officer, world, "TS-HUB", worker, "2025-02-01", "2027-12-31").status_code == 302
    assert _post(officer, world, "TS-HUB", worker, "2025-01-15", "2025-01-10").status_code == 422  # ends before it starts


def test_only_the_contractors_roster_members_on_the_roster_over_the_dates(app, world, login):
    from portal.contractors.models import StaffMember
    from portal.extensions import db
    officer = login("gx-officer")
    assert _post(officer, world, "TS-HUB", world["staff"]["b-worker1"], "2025-06-01").status_code == 422
    worker = world["staff"]["a-worker2"]
    path = f"/stations/{world['stations']['TS-01']}"
    support.form_post(officer, f"{path}/postings/end", {"posting": str(_posting_id(app, world, worker)),
                                                        "last_day": "2025-01-31"}, token_url=path)
    with app.app_context():
        db.session.get(StaffMember, worker).left_on = date(2026, 6, 30)
        db.session.commit()
    assert _post(officer, world, "TS-HUB", worker, "2026-01-01").status_code == 422  # open-ended past leaving
    assert _post(officer, world, "TS-HUB", worker, "2026-01-01", "2026-07-31").status_code == 422
    assert _post(officer, world, "TS-HUB", worker, "2026-01-01", "2026-06-30").status_code == 302


def test_who_may_post_and_end(app, world, login):
    worker = world["staff"]["a-worker1"]
    # another contractor's manager does not see A's stations at all; a supervisor may not post
    assert login("b-manager", tenant="ganxian").get(f"/stations/{world['stations']['TS-01']}").status_code == 404
    assert _post(login("gx-supervisor"), world, "TS-01", worker, "2025-06-01").status_code == 403
    # a station without a staffing contract takes no posting, whoever asks
    officer = login("gx-officer")
    refused = _post(officer, world, "TS-02", worker, "2025-06-01")
    assert refused.status_code == 422
    page = login("a-manager", tenant="ganxian").get(f"/stations/{world['stations']['TS-01']}").get_data(as_text=True)
    assert 'action="/stations/%s/postings"' % world["stations"]["TS-01"] in page and "陈晓红" in page
    assert 'action="/stations/' not in login("gx-finance").get(
        f"/stations/{world['stations']['TS-01']}").get_data(as_text=True)


def test_ending_a_posting_keeps_its_days_and_is_audited(app, world, login):
    from portal.audit.models import AuditEntry
    from portal.extensions import db
    manager = login("a-manager", tenant="ganxian")
    worker = world["staff"]["a-worker1"]
    posting_id = _posting_id(app, world, worker)
    path = f"/stations/{world['stations']['TS-01']}"
    early = support.form_post(manager, f"{path}/postings/end", {"posting": str(posting_id), "last_day": "2024-12-31"},
                              token_url=path)
    assert early.status_code == 422 and "2025-01-01" in early.get_data(as_text=True)
    assert support.form_post(manager, f"{path}/postings/end", {"posting": str(posting_id), "last_day": "2026-03-31"},
                             token_url=path).status_code == 302
    later = support.form_post(manager, f"{path}/postings/end", {"posting": str(posting_id), "last_day": "2026-04-30"},
                              token_url=path)
    assert later.status_code == 422  # a posting is lengthened by a new one, not by moving its end
    assert _postings(app, worker) == [(world["stations"]["TS-01"], sw.POSTED_FROM, date(2026, 3, 31))]
    assert support.form_post(manager, f"{path}/postings/end", {"posting": "999999", "last_day": "2026-03-01"},
                             token_url=path).status_code == 404
    with app.app_context(), sw.scope(app):
        entries = db.session.execute(select(AuditEntry).where(AuditEntry.object_type == "StationPosting")).scalars().all()
        assert any(e.action == "update" for e in entries), [(e.action, e.object_type) for e in entries]
