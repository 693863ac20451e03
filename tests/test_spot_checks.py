"""Spot checks (docs/DOMAIN.md §7): the monthly sample (size, one per worker, a stored seed that redraws
the same visits, one sample per contract and month), the outcomes (not confirmed rejects and
penalises the visit; unreachable three times leaves it verified), who sees the phone number, the
API for auditors and for another bureau, the work list and its export, and the CLI."""
import io
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.core.timeutil import local_today
from portal.extensions import db
from portal.spotchecks import services as spotchecks
from portal.spotchecks.models import SpotCheck, SpotCheckAttempt, SpotCheckSample
from portal.visits.models import Visit
from tests import support
from tests.beneficiary_world import care_world
from tests.visit_world import HOME, at, scope

MONTH = spotchecks.previous_month(local_today())  # a month that has ended
PHONE = "13979700001"  # beneficiary_world.register's phone number


pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


def add_visits(app, contract_id, person_id, username, count, *, month=MONTH, status="verified", hour=8,
               verified_at=None):
    """``count`` visits of ``username`` to ``person_id`` in ``month`` (one a day, cycling through
    days 1–28), inserted as already judged with ``status``. Returns their ids."""
    from portal.accounts.models import User
    from portal.contractors.models import StaffMember
    from portal.contracts.models import Contract
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, contract_id)
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        staff = db.session.execute(select(StaffMember).where(StaffMember.user_id == user.id)).scalar_one()
        visits = []
        for n in range(count):
            start = at(month.replace(day=1 + n % 28), hour + 2 * (n // 28))
            visit = Visit(client_id=str(uuid.uuid4()), body_hash="0" * 64, contract_id=contract.id,
                          service_item_id=contract.items[0].id, beneficiary_id=person_id, staff_id=staff.id,
                          worker_user_id=user.id, contractor_id=contract.contractor_id, device_id=f"dev-{username}",
                          check_in_at=start, check_in_lat=HOME[0], check_in_lon=HOME[1],
                          check_out_at=start + timedelta(minutes=90), check_out_lat=HOME[0], check_out_lon=HOME[1],
                          status=status, verified_at=(verified_at or start + timedelta(minutes=95))
                          if status == "verified" else None)
            db.session.add(visit)
            visits.append(visit)
        db.session.commit()
        return [v.id for v in visits]


def month_world(app, world):
    """41 verified visits in MONTH (40 by a-worker1, 1 by a-worker2), plus visits that must never
    be drawn: an exception and a pending one in MONTH, a verified one the month before."""
    people = world["people"]
    first = add_visits(app, world["a_contract"], people["刘桂英"], "a-worker1", 40)
    only = add_visits(app, world["a_contract"], people["黄秀兰"], "a-worker2", 1)
    excluded = (add_visits(app, world["a_contract"], people["黄秀兰"], "a-worker2", 1, status="exception", hour=14)
                + add_visits(app, world["a_contract"], people["黄秀兰"], "a-worker2", 1, status="pending", hour=16)
                + add_visits(app, world["a_contract"], people["陈德福"], "a-worker1", 1,
                             month=spotchecks.previous_month(MONTH)))
    return {"verified": set(first + only), "worker2": only[0], "excluded": set(excluded)}


def draw_now(app, contract_id, month=MONTH):
    from portal.contracts.models import Contract
    from portal.tenancy.models import Tenant
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, contract_id)
        tenant = db.session.get(Tenant, contract.tenant_id)
        result = spotchecks.draw(contract, month, tenant=tenant)
        db.session.commit()
        return (result.sample.id if result.sample else None), result.created


def sample_state(app, sample_id):
    with app.app_context(), scope(app):
        sample = db.session.get(SpotCheckSample, sample_id)
        return {"seed": sample.seed, "rate": sample.rate_permille, "population": sample.population,
                "visits": sorted(c.visit_id for c in sample.checks), "checks": [c.id for c in sample.checks]}


def check_state(app, check_id):
    with app.app_context(), scope(app):
        check = db.session.get(SpotCheck, check_id)
        return {"outcome": check.outcome, "satisfaction": check.satisfaction, "visit_status": check.visit.status,
                "penalised": check.visit.penalised, "reason": check.rejection_reason,
                "attempts": [(a.reached, a.attempted_at is not None) for a in check.attempts]}


def count(app, model):
    with support.as_platform(app):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- the draw -------------------------------------------------------------------------------------------

def test_sample_size_is_the_rate_rounded_up_with_one_visit_per_worker(app, world):
    visits = month_world(app, world)
    sample_id, created = draw_now(app, world["a_contract"])
    state = sample_state(app, sample_id)
    assert created and state["rate"] == 50 and state["population"] == 41
    assert len(state["visits"]) == 3  # ceil(41 × 50 / 1000) = ceil(2.05) = 3
    assert set(state["visits"]) <= visits["verified"] and not set(state["visits"]) & visits["excluded"]
    assert visits["worker2"] in state["visits"]  # a-worker2's only visit: one per worker who worked
    # With a rate too small for two workers the size is raised to one visit per worker.
    population = [(n, "w1") for n in range(1, 41)] + [(41, "w2")]
    assert spotchecks.sample_size(41, 2, 10) == 2  # ceil(0.41) = 1, raised to 2
    for seed in ("a", "b", "c", "d"):
        chosen = spotchecks.choose(population, seed, 10)
        assert len(chosen) == 2 and 41 in chosen
    assert spotchecks.sample_size(0, 0, 50) == 0 and spotchecks.sample_size(3, 1, 1000) == 3


def test_the_stored_seed_redraws_the_same_sample_and_a_redraw_changes_nothing(app, world, login):
    month_world(app, world)
    sample_id, _ = draw_now(app, world["a_contract"])
    before = sample_state(app, sample_id)
    with app.app_context(), scope(app):
        sample = db.session.get(SpotCheckSample, sample_id)
        population = spotchecks.population(sample.contract_id, MONTH, sample.drawn_at, sample)
        again = spotchecks.choose(population, before["seed"], before["rate"])
        others = {tuple(spotchecks.choose(population, seed, before["rate"])) for seed in ("x", "y", "z", "w")}
    assert again == before["visits"]
    assert any(list(other) != before["visits"] for other in others)  # the seed matters: the check has teeth
    # A decided check (the visit leaves "verified") and a visit verified after the draw change nothing.
    supervisor = login("gx-supervisor")
    response = supervisor.get(f"/supervision/spot-checks/{before['checks'][0]}")
    assert response.status_code == 200
    token = support.csrf_token_from(response.get_data(as_text=True))
    assert supervisor.post(f"/supervision/spot-checks/{before['checks'][0]}", data={
        "csrf_token": token, "method": "home_visit", "outcome": "not_confirmed",
        "reason": "无人上门"}).status_code == 302
    from portal.core.timeutil import utcnow
    add_visits(app, world["a_contract"], world["people"]["陈德福"], "a-worker1", 1, hour=18,
               verified_at=utcnow() + timedelta(seconds=1))  # an exception accepted after the draw
    with app.app_context(), scope(app):
        sample = db.session.get(SpotCheckSample, sample_id)
        comparison = spotchecks.redraw(sample)
    assert comparison["matches"] and comparison["visit_ids"] == before["visits"]
    assert not comparison["population_changed"]
    page = login("gx-auditor").get(f"/supervision/spot-checks/samples/{sample_id}?redraw=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'class="flash flash-success" role="status" id="redraw-result"' in html
    assert before["seed"] in html
    assert sample_state(app, sample_id) == before


def test_drawing_the_same_month_again_changes_nothing(app, world, login, run_worker):
    month_world(app, world)
    sample_id, created = draw_now(app, world["a_contract"])
    before = sample_state(app, sample_id)
    again_id, again_created = draw_now(app, world["a_contract"])
    assert created and not again_created and again_id == sample_id
    # The supervisor's button (a background job) draws nothing new either.
    supervisor = login("gx-supervisor")
    response = support.form_post(supervisor, "/supervision/spot-checks/draw", {"month": MONTH.strftime("%Y-%m")},
                                 token_url="/supervision/spot-checks/")
    assert response.status_code == 302
    run_worker()
    assert count(app, SpotCheckSample) == 1 and sample_state(app, sample_id) == before
    # The current month has not ended: the form refuses it.
    refused = support.form_post(supervisor, "/supervision/spot-checks/draw",
                                {"month": local_today().strftime("%Y-%m")}, token_url="/supervision/spot-checks/")
    assert refused.status_code == 422 and "field-error" in refused.get_data(as_text=True)
    assert support.form_post(supervisor, "/supervision/spot-checks/draw", {"month": "2026-13"},
                             token_url="/supervision/spot-checks/").status_code == 422


def test_the_supervisor_button_draws_a_new_month(app, world, login, run_worker):
    month_world(app, world)
    response = support.form_post(login("gx-supervisor"), "/supervision/spot-checks/draw",
                                 {"month": MONTH.strftime("%Y-%m")}, token_url="/supervision/spot-checks/")
    assert response.status_code == 302
    run_worker()
    with app.app_context(), scope(app):
        sample = db.session.scalars(select(SpotCheckSample)).one()
        assert (sample.month, len(sample.checks), sample.drawn_by_id) == (
            MONTH.strftime("%Y-%m"), 3, support.World(app).user_id("gx-supervisor"))


def test_cli_draws_and_a_second_run_draws_nothing_new(app, world):
    visits = month_world(app, world)
    runner = support.platform_app(app).test_cli_runner()
    month = MONTH.strftime("%Y-%m")
    first = runner.invoke(args=["draw-sample", "--tenant", "ganxian", "--month", month])
    assert first.exit_code == 0, first.output
    assert "1 new sample(s)" in first.output and "3 of 41 verified visits" in first.output
    state = sample_state(app, db_sample_id(app))
    listed = [int(v) for v in first.output.split("; visits ")[1].splitlines()[0].split(", ")]
    assert sorted(listed) == state["visits"] and visits["worker2"] in listed
    second = runner.invoke(args=["draw-sample", "--tenant", "ganxian", "--month", month])
    assert second.exit_code == 0 and "0 new sample(s)" in second.output and "unchanged" in second.output
    assert count(app, SpotCheckSample) == 1 and count(app, SpotCheck) == 3
    assert sample_state(app, db_sample_id(app)) == state
    bad = runner.invoke(args=["draw-sample", "--tenant", "ganxian", "--month", "2026-1"])
    assert bad.exit_code != 0 and count(app, SpotCheckSample) == 1
    assert runner.invoke(args=["draw-sample", "--tenant", "nowhere", "--month", month]).exit_code != 0


def db_sample_id(app):
    with support.as_platform(app):
        return db.session.execute(select(SpotCheckSample.id)).scalar_one()


# --- outcomes -------------------------------------------------------------------------------------------

def test_not_confirmed_rejects_the_visit_and_marks_it_for_penalty(app, world, api_token, client):
    month_world(app, world)
    sample_id, _ = draw_now(app, world["a_contract"])
    check_id = sample_state(app, sample_id)["checks"][0]
    headers = api_token("gx-supervisor")
    response = client.post(f"/api/v1/spot-checks/{check_id}/outcome", headers=headers, json={
        "method": "home_visit", "outcome": "not_confirmed", "reason": "邻居和老人都说当天没人来过。"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["outcome"] == "not_confirmed" and body["visit_status"] == "rejected" and body["penalised"]
    state = check_state(app, check_id)
    assert (state["outcome"], state["visit_status"], state["penalised"]) == ("not_confirmed", "rejected", True)
    assert state["reason"] == "邻居和老人都说当天没人来过。" and state["attempts"] == [(True, True)]
    again = client.post(f"/api/v1/spot-checks/{check_id}/outcome", headers=headers,
                        json={"method": "phone", "outcome": "confirmed", "satisfaction": 5})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert check_state(app, check_id)["outcome"] == "not_confirmed"


def test_unreachable_three_times_is_unreachable_and_the_visit_stays_verified(app, world, api_token, client):
    month_world(app, world)
    check_id = sample_state(app, draw_now(app, world["a_contract"])[0])["checks"][1]
    headers = api_token("gx-supervisor")
    url = f"/api/v1/spot-checks/{check_id}/outcome"
    for tries in (1, 2):
        response = client.post(url, headers=headers, json={"method": "phone", "outcome": "unreachable"})
        assert response.status_code == 200 and response.get_json()["outcome"] is None
        assert response.get_json()["unreachable_tries"] == tries
    third = client.post(url, headers=headers, json={"method": "home_visit", "outcome": "unreachable"})
    assert third.status_code == 200 and third.get_json()["outcome"] == "unreachable"
    state = check_state(app, check_id)
    assert state["outcome"] == "unreachable" and state["attempts"] == [(False, True)] * 3
    assert (state["visit_status"], state["penalised"]) == ("verified", False)
    assert client.post(url, headers=headers, json={"method": "phone", "outcome": "unreachable"}).status_code == 409
    assert count(app, SpotCheckAttempt) == 3


def test_bad_outcomes_are_refused_with_the_fields_named(app, world, api_token, client):
    month_world(app, world)
    check_id = sample_state(app, draw_now(app, world["a_contract"])[0])["checks"][0]
    headers = api_token("gx-supervisor")
    url = f"/api/v1/spot-checks/{check_id}/outcome"
    for body, field in (({"method": "letter", "outcome": "confirmed"}, "method"),
                        ({"method": "phone", "outcome": "maybe"}, "outcome"),
                        ({"method": "phone", "outcome": "confirmed", "satisfaction": 7}, "satisfaction"),
                        ({"method": "phone", "outcome": "confirmed", "satisfaction": "5"}, "satisfaction"),
                        ({"method": "phone", "outcome": "unreachable", "satisfaction": 3}, "satisfaction"),
                        ({"outcome": "confirmed"}, "method")):
        response = client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
        assert response.mimetype == "application/problem+json" and field in response.get_json()["errors"], body
    assert client.post(url, headers=headers, data="{", content_type="application/json").status_code == 400
    assert client.post(url, headers=headers, data="x", content_type="text/plain").status_code == 415
    assert check_state(app, check_id) == {**check_state(app, check_id), "outcome": None, "attempts": []}
    lists = [client.get(f"/api/v1/spot-checks?contract_id={world['a_contract']}&month={m}", headers=headers)
             for m in ("2026-13", "", "garbage")]
    assert [r.status_code for r in lists] == [422, 422, 422]
    assert client.get(f"/api/v1/spot-checks?month={MONTH:%Y-%m}", headers=headers).status_code == 422
    assert client.get(f"/api/v1/spot-checks?contract_id=99999999&month={MONTH:%Y-%m}",
                      headers=headers).status_code == 404


def test_the_web_form_records_a_confirmation_and_refuses_a_rejection_without_a_reason(app, world, login):
    month_world(app, world)
    first, second = sample_state(app, draw_now(app, world["a_contract"])[0])["checks"][:2]
    supervisor = login("gx-supervisor")
    refused = support.form_post(supervisor, f"/supervision/spot-checks/{first}",
                                {"method": "phone", "outcome": "not_confirmed", "reason": ""})
    assert refused.status_code == 422 and "field-error" in refused.get_data(as_text=True)
    assert check_state(app, first)["outcome"] is None
    done = support.form_post(supervisor, f"/supervision/spot-checks/{second}",
                             {"method": "phone", "outcome": "confirmed", "satisfaction": "4", "complaint": "希望多来"})
    assert done.status_code == 302
    assert check_state(app, second) | {"attempts": None} == {
        "outcome": "confirmed", "satisfaction": 4, "visit_status": "verified", "penalised": False, "reason": "",
        "attempts": None}
    # An auditor reads the page but cannot record anything.
    auditor = login("gx-auditor")
    assert auditor.get(f"/supervision/spot-checks/{first}").status_code == 200
    token = support.csrf_token_from(supervisor.get(f"/supervision/spot-checks/{first}").get_data(as_text=True))
    assert auditor.post(f"/supervision/spot-checks/{first}", data={
        "csrf_token": token, "method": "phone", "outcome": "confirmed"}).status_code in (400, 403)
    assert check_state(app, first)["outcome"] is None


# --- who sees what ------------------------------------------------------------------------------------

def test_the_phone_number_is_shown_only_to_the_supervisor_on_the_check_page(app, world, login, api_token, client):
    month_world(app, world)
    sample_id, _ = draw_now(app, world["a_contract"])
    check_id = sample_state(app, sample_id)["checks"][0]
    supervisor_page = login("gx-supervisor").get(f"/supervision/spot-checks/{check_id}").get_data(as_text=True)
    assert PHONE in supervisor_page
    auditor = login("gx-auditor")
    pages = [auditor.get(f"/supervision/spot-checks/{check_id}"), auditor.get(f"/supervision/spot-checks/?month={MONTH:%Y-%m}"),
             auditor.get(f"/supervision/spot-checks/samples/{sample_id}"),
             login("gx-supervisor").get(f"/supervision/spot-checks/?month={MONTH:%Y-%m}")]
    assert all(p.status_code == 200 for p in pages)
    assert not any(PHONE in p.get_data(as_text=True) for p in pages)
    response = client.get(f"/api/v1/spot-checks?contract_id={world['a_contract']}&month={MONTH:%Y-%m}",
                          headers=api_token("gx-auditor"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["seed"] and body["rate"] == 0.05 and len(body["items"]) == 3
    assert {"id", "visit_id", "worker", "method", "outcome", "satisfaction"} <= set(body["items"][0])
    text = response.get_data(as_text=True)
    assert PHONE not in text and "刘桂英" not in text and "黄秀兰" not in text
    # The auditor changes nothing through the API.
    assert client.post(f"/api/v1/spot-checks/{check_id}/outcome", headers=api_token("gx-auditor"),
                       json={"method": "phone", "outcome": "confirmed"}).status_code == 403


def test_the_export_has_masked_names_and_no_phone_numbers(app, world, login):
    month_world(app, world)
    draw_now(app, world["a_contract"])
    response = login("gx-supervisor").get(f"/supervision/spot-checks/export.xlsx?month={MONTH:%Y-%m}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert sheet.max_row == 4  # the header and three checks
    assert not any(PHONE in c or "刘桂英" in c for c in cells) and any(c == "刘*英" for c in cells)


def test_a_supervisor_of_another_bureau_gets_404(app, world, login, api_token, client):
    from portal.accounts.services import create_user
    month_world(app, world)
    sample_id, _ = draw_now(app, world["a_contract"])
    check_id = sample_state(app, sample_id)["checks"][0]
    with support.as_platform(app):
        create_user(username="zg-supervisor", display_name="章贡区监管员", role="supervisor",
                    password=support.PASSWORD, tenant_id=support.World(app).tenant_id("zhanggong"))
        db.session.commit()
    headers = api_token("zg-supervisor")
    assert client.get(f"/api/v1/spot-checks?contract_id={world['a_contract']}&month={MONTH:%Y-%m}",
                      headers=headers).status_code == 404
    response = client.post(f"/api/v1/spot-checks/{check_id}/outcome", headers=headers,
                           json={"method": "phone", "outcome": "not_confirmed"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    zg = login("zg-supervisor")
    assert zg.get(f"/supervision/spot-checks/{check_id}").status_code == 404
    assert zg.get(f"/supervision/spot-checks/samples/{sample_id}").status_code == 404
    assert "#%s" % check_id not in zg.get(f"/supervision/spot-checks/?month={MONTH:%Y-%m}&state=").get_data(as_text=True)
    assert check_state(app, check_id)["outcome"] is None
    # The same requests by ganxian's supervisor succeed (the 404 above is about the bureau).
    assert client.get(f"/api/v1/spot-checks?contract_id={world['a_contract']}&month={MONTH:%Y-%m}",
                      headers=api_token("gx-supervisor")).status_code == 200


def test_the_work_list_shows_progress_by_contract_and_method(app, world, api_token, client, login):
    month_world(app, world)
    checks = sample_state(app, draw_now(app, world["a_contract"])[0])["checks"]
    client.post(f"/api/v1/spot-checks/{checks[0]}/outcome", headers=api_token("gx-supervisor"),
                json={"method": "phone", "outcome": "confirmed", "satisfaction": 5})
    with app.app_context(), scope(app):
        [entry] = spotchecks.progress(MONTH)
    assert (entry["total"], entry["done"], entry["open"], entry["percent"]) == (3, 1, 2, 33)
    assert [(m["method"], m["total"], m["done"]) for m in entry["methods"]] == [("phone", 3, 1)]
    html = login("gx-supervisor").get(f"/supervision/spot-checks/?month={MONTH:%Y-%m}").get_data(as_text=True)
    assert '<progress max="3" value="1"' in html
    assert f"#{checks[0]}<" not in html and f"#{checks[1]}<" in html  # open checks by default
    trends = login("gx-auditor").get(f"/supervision/spot-checks/trends?contract={world['a_contract']}")
    page = trends.get_data(as_text=True)
    assert trends.status_code == 200 and "<svg" in page and ("<polyline" in page or "<circle" in page)
    assert "style=" not in page and MONTH.strftime("%Y-%m") in page


def test_the_demo_month_has_a_sample_with_every_kind_of_outcome(app):
    from portal.demo import seed
    from portal.tenancy.scope import all_tenants
    support.seed_demo(app, history=True)  # portal.demo.seed, built once per run
    with support.platform_app(app).app_context():  # as `flask seed-demo` runs
        with all_tenants():
            # last month's: the months before it are A's previous contract (scorecards/demo.py)
            samples = db.session.scalars(select(SpotCheckSample).where(
                SpotCheckSample.month == MONTH.strftime("%Y-%m"))).all()
            outcomes = [c.outcome for s in samples for c in s.checks]
            penalised = db.session.execute(select(func.count()).select_from(Visit).where(
                Visit.penalised, Visit.contract_id == samples[0].contract_id)).scalar_one()
        assert len(samples) == 1
        assert {"confirmed", "not_confirmed", "unreachable", None} <= set(outcomes) and penalised == 1
        with all_tenants():
            rows = [count(app, model) for model in (SpotCheckSample, SpotCheck, SpotCheckAttempt)]
        assert seed(support.PASSWORD) == 0
        db.session.commit()
        assert [count(app, model) for model in (SpotCheckSample, SpotCheck, SpotCheckAttempt)] == rows


def test_the_periodic_job_draws_last_month_from_the_fifth_on(app, world, monkeypatch):
    from portal.jobs.queue import TASKS
    from portal.jobs.schedule import PERIODIC
    tasks = {p.task for p in PERIODIC}
    assert {"supervision.draw_samples", "supervision.compute_scorecards"} <= tasks and tasks <= set(TASKS)
    month_world(app, world)
    this_month = spotchecks.next_month(MONTH)
    for day, expected in ((3, 0), (4, 0), (5, 1), (6, 1)):
        monkeypatch.setattr(spotchecks, "local_today", lambda now=None, day=day: this_month.replace(day=day))
        with app.app_context(), scope(app):
            spotchecks.draw_samples()
            db.session.commit()
        assert count(app, SpotCheckSample) == expected, day
    with app.app_context(), scope(app):
        assert db.session.scalars(select(SpotCheckSample.month)).one() == MONTH.strftime("%Y-%m")


def test_every_contract_in_delivery_is_sampled_a_terminated_one_too_but_not_a_draft(app, world):
    """One rule for spot checks and scorecards (Contract.in_delivery): a contract terminated since
    still had its delivered months paid, so their visits are checked too; a draft or a merely
    signed contract delivered nothing."""
    from portal.contracts.models import Contract
    with app.app_context(), scope(app):
        for status, expected in (("terminated", True), ("completed", True), ("suspended", True),
                                 ("signed", False), ("draft", False)):
            contract = db.session.get(Contract, world["a_contract"])
            contract.status = status
            db.session.flush()
            assert (contract in spotchecks.sampled_contracts(MONTH)) is expected, status
        db.session.rollback()
