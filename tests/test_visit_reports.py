"""The supervisor's visit pages (docs/DOMAIN.md §6–7): the verified and live shares per contract and
month (corrected and hand-entered visits are not live), exception counts per code, the timeline,
one visit with its distance and photos for those allowed, units delivered from verified visits
only, and the demo's month of visits (idempotent, every rule V01–V11 present)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.visits import reports
from tests import support
from tests.beneficiary_world import care_world
from tests.visit_world import DAY, at, record, scope, update_visit


pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


def correct(app, visit_id, minutes_later):
    from portal.accounts.models import User
    from portal.visits import recording
    from portal.visits.models import Visit
    with app.app_context(), scope(app):
        visit = db.session.get(Visit, visit_id)
        supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        recording.correct_times(visit, reason_code="left_early", user=supervisor, now=visit.check_out_at,
                                check_out_at=(visit.check_out_at - timedelta(minutes=minutes_later)).isoformat())
        db.session.commit()


def test_the_live_share_leaves_out_corrected_and_hand_entered_visits(app, login, world):
    people = world["people"]
    live_app = record(app, people["刘桂英"], start=at(DAY, 8))
    live_web = record(app, people["陈德福"], start=at(DAY, 11))
    corrected = record(app, people["黄秀兰"], username="a-worker2", start=at(DAY, 8), device="p2")
    by_hand = record(app, people["黄秀兰"], username="a-worker2", start=at(DAY - timedelta(days=1), 8), device="p2")
    typed = record(app, people["刘桂英"], start=at(DAY - timedelta(days=1), 14))
    update_visit(app, live_web, source="web")
    update_visit(app, by_hand, source="manual")
    update_visit(app, typed, source="web", recorded_live=False)
    correct(app, corrected, 10)
    for visit_id in (live_app, live_web, corrected, by_hand, typed):
        update_visit(app, visit_id, status="verified")
    update_visit(app, typed, status="exception")
    month = DAY.replace(day=1)
    with app.app_context(), scope(app):
        rows = reports.shares(month)
        other_months = reports.shares(DAY - timedelta(days=1)) if (DAY - timedelta(days=1)).month != DAY.month else []
    total = sum(r["total"] for r in rows + other_months)
    live = sum(r["live"] for r in rows + other_months)
    assert (total, live) == (5, 2)
    if not other_months:
        [row] = rows
        assert row["contract"].id == world["a_contract"]
        assert (row["verified"], row["verified_share"], row["live_share"]) == (4, 80.0, 40.0)
    page = login("gx-supervisor").get(f"/supervision/visits/shares?month={month.strftime('%Y-%m')}")
    assert page.status_code == 200 and "%" in page.get_data(as_text=True)
    assert login("a-manager", tenant="ganxian").get("/supervision/visits/shares").status_code == 403


def test_exception_counts_per_code(app, login, world):
    people = world["people"]
    record(app, people["刘桂英"], minutes=20, start=at(DAY, 8))                        # V03
    record(app, people["陈德福"], minutes=20, photo=False, start=at(DAY, 10))          # V03, V11
    record(app, people["黄秀兰"], username="a-worker2", device="p2", start=at(DAY, 9))  # clean
    with app.app_context(), scope(app):
        counts = reports.exception_counts(DAY, DAY)
        later = reports.exception_counts(DAY + timedelta(days=1))
        other = reports.exception_counts(contract_id=world["b_contract"])
    assert counts["V03"]["total"] == 2 and counts["V03"]["open"] == 2
    assert counts["V11"]["total"] == 1
    assert sum(e["total"] for code, e in counts.items() if code not in ("V03", "V11")) == 0
    assert list(counts) == [f"V{n:02d}" for n in range(1, 12)]
    assert all(e["total"] == 0 for e in later.values()) and all(e["total"] == 0 for e in other.values())
    chart = reports.counts_chart(counts)
    widths = {row["code"]: row["fill_width"] for row in chart["rows"]}
    assert widths["V03"] == chart["bar_width"] and widths["V11"] == chart["bar_width"] // 2 and widths["V01"] == 0
    page = login("gx-supervisor").get(f"/supervision/visits/exception-counts?date_from={DAY}&date_to={DAY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and f'width="{chart["bar_width"]}"' in html


def test_units_delivered_counts_verified_visits_only(app, world):
    from portal.contracts.dashboard import quota_rows, units_delivered
    from portal.contracts.models import Contract
    people = world["people"]
    ids = [record(app, people["刘桂英"], start=at(DAY - timedelta(days=n), 9)) for n in range(5)]
    for visit_id, status in zip(ids, ("verified", "verified", "exception", "rejected", "pending")):
        update_visit(app, visit_id, status=status)
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, world["a_contract"])
        assert units_delivered(contract, contract.items[0]) == 2
        assert quota_rows(contract)[0]["used"] == 2
        other = db.session.get(Contract, world["b_contract"])
        assert units_delivered(other, other.items[0]) == 0


def test_the_timeline_places_each_visit_by_its_times(app, login, world):
    people = world["people"]
    morning = record(app, people["刘桂英"], start=at(DAY, 8), minutes=120)
    record(app, people["黄秀兰"], username="a-worker2", device="p2", start=at(DAY, 14), minutes=60)
    with app.app_context(), scope(app):
        timeline = reports.timeline(DAY)
    assert len(timeline["rows"]) == 2 and timeline["count"] == 2
    block = next(b for row in timeline["rows"] for b in row["blocks"] if b["visit"].id == morning)
    assert (block["left"], block["width"], block["minutes"]) == (12.5, 12.5, 120)  # 08–10 on a 06–22 window
    page = login("gx-supervisor").get(f"/supervision/visits/timeline?day={DAY.isoformat()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'x="12.5%"' in html and 'width="12.5%"' in html
    assert "<script" not in html.split("</main>")[0].split("<main")[-1] and "style=" not in html
    assert login("gx-supervisor").get("/supervision/visits/timeline?day=garbage").status_code == 200


def test_the_visit_page_shows_distance_times_and_photos_only_to_those_allowed(app, login, world):
    visit_id = record(app, world["people"]["刘桂英"], minutes=100)
    correct(app, visit_id, 15)
    from portal.visits.models import Visit
    with app.app_context(), scope(app):
        visit = db.session.get(Visit, visit_id)
        photo_id, distance = visit.photos[0].id, visit.distance_from_home_m
    supervisor = login("gx-supervisor")
    html = supervisor.get(f"/supervision/visits/{visit_id}").get_data(as_text=True)
    assert f"{distance} m" in html or f"{distance} 米" in html
    assert ">100<" in html and ">85<" in html  # minutes as recorded and in force
    photo_url = f"/supervision/visits/{visit_id}/photos/{photo_id}"
    assert photo_url in html
    assert supervisor.get(photo_url).headers["Content-Type"] == "image/jpeg"
    manager = login("a-manager", tenant="ganxian")
    assert "刘*英" in manager.get(f"/supervision/visits/{visit_id}").get_data(as_text=True)
    assert manager.get(photo_url).status_code == 200
    assert login("b-manager", tenant="ganxian").get(photo_url).status_code == 404
    assert login("b-manager", tenant="ganxian").get(f"/supervision/visits/{visit_id}").status_code == 404
    assert login("zg-officer").get(f"/supervision/visits/{visit_id}").status_code == 404
    assert login("b-worker1").get(photo_url).status_code == 404


def test_demo_visits_twice_create_nothing_and_show_every_rule(app):
    from portal.demo import seed
    from portal.tenancy.scope import all_tenants
    from portal.visits.models import Visit, VisitException
    support.seed_demo(app, history=True)  # portal.demo.seed, built once per run
    with support.platform_app(app).app_context():  # as `flask seed-demo` runs
        with all_tenants():
            visits = db.session.execute(select(func.count(Visit.id))).scalar_one()
            codes = dict(db.session.execute(select(VisitException.code, func.count())
                                            .group_by(VisitException.code)).all())
            decided = db.session.execute(select(func.count()).select_from(VisitException).where(
                VisitException.status.in_(("accepted", "rejected")))).scalar_one()
            verified = db.session.execute(select(func.count()).select_from(Visit).where(
                Visit.status == "verified")).scalar_one()
        assert set(codes) == {f"V{n:02d}" for n in range(1, 12)}
        assert visits >= 100 and verified > visits * 0.7 and decided >= 2
        assert seed(support.PASSWORD) == 0
        db.session.commit()
        with all_tenants():
            assert db.session.execute(select(func.count(Visit.id))).scalar_one() == visits


def test_a_contract_filter_of_unicode_digits_is_no_filter_never_a_500(app, login, world):
    """"²".isdigit() is true but int("²") raises: the pages read ids with query.chosen_id."""
    supervisor = login("gx-supervisor")
    for value in ("²", "٣", "x", str(2**40)):
        for path in ("/supervision/visits/timeline", "/supervision/visits/exception-counts"):
            assert supervisor.get(path, query_string={"contract": value}).status_code == 200, (path, value)
    from portal.visits.exceptions import selected_exceptions
    from portal.accounts.models import User
    with app.app_context(), scope(app):
        user = db.session.scalar(select(User).where(User.username == "gx-supervisor"))
        assert selected_exceptions(["²", "٣", "0", str(2**40)], user) == []
