"""Recording household economic surveys (docs/DOMAIN.md §6, ``POST /api/v1/surveys``): the judgement
stored with each, idempotent uploads by client id (replay, conflict, race), refused bodies, the
family's assignment to the surveyor, the home visit recorded and judged with it, members' ID
numbers kept encrypted, who may read which survey, and the month's signed-off list in docs/API.md's
fixed shape."""
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import to_local, utcnow
from portal.extensions import db
from tests.survey_world import SURVEYED, WORKER, body, record, scope, survey_world

PROBLEM = "application/problem+json"
MONTH_KEYS = {"id", "category", "members", "per_capita_income_fen", "standard_fen", "outcome", "reasons"}


@pytest.fixture
def world(app):
    return survey_world(app)


@pytest.fixture
def token(api_token):
    """token("d-worker1") -> the headers of a ganxian bearer token for that user."""
    return lambda username=WORKER: api_token(username, tenant="ganxian")


def post(client, headers, payload):
    return client.post("/api/v1/surveys", json=payload, headers=headers)


def count(app, model_name="HouseholdSurvey"):
    from portal.surveys.models import HouseholdSurvey
    from portal.visits.models import Visit
    model = {"HouseholdSurvey": HouseholdSurvey, "Visit": Visit}[model_name]
    with app.app_context(), scope(app):
        return db.session.execute(select(func.count(model.id))).scalar_one()


def user(username):
    from portal.accounts.models import User
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def sign_off(app, survey_ids):
    """Reviewed by the bureau's officer, signed off by its supervisor (four eyes: review.py)."""
    from portal.surveys import review
    from portal.surveys.models import HouseholdSurvey
    with app.app_context(), scope(app):
        for survey_id in survey_ids:
            survey = db.session.get(HouseholdSurvey, survey_id)
            review.review(survey, user("gx-officer"), utcnow())
            review.sign_off(survey, user("gx-supervisor"), utcnow())
        db.session.commit()


# --- recording and the judgement ----------------------------------------------------------------

def test_a_survey_is_recorded_judged_and_shown_without_names(app, world, client, token):
    payload = body(world, incomes=[
        {"member": 1, "kind": "wages", "period": "monthly", "amount_fen": 100_000},
        {"member": None, "kind": "transfers", "period": "annual", "amount_fen": 240_000, "note": "亲属资助"}],
        expenses=[{"kind": "medical", "annual_fen": 120_000, "note": "慢性病门诊"}])
    response = post(client, token(), payload)
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    # 1,200,000 + 240,000 − 120,000 = 1,320,000 a year for 2 members: 55,000 a month each
    assert (shown["annual_income_fen"], shown["deductions_fen"], shown["per_capita_income_fen"]) == \
        (1_440_000, 120_000, 55_000)
    assert (shown["standard_fen"], shown["marginal_limit_fen"], shown["outcome"]) == (80_000, 120_000, "eligible")
    assert (shown["members"], shown["status"], shown["kind"], shown["category"], shown["area"]) == \
        (2, "recorded", "application", "dibao", "urban")
    assert shown["reasons"] == ["年收入 ¥14,400.00 扣除刚性支出 ¥1,200.00 后，按 ¥13,200.00 计算。",
                                "人均月收入 ¥550.00 低于最低生活保障标准 ¥800.00。"]
    assert shown["beneficiary"] == {"id": world["people"][SURVEYED[0]], "display_name": "郭*根"}
    assert shown["contract_id"] == world["contract"] and shown["visit_id"]
    assert response.headers["Location"].endswith(f"/api/v1/surveys/{shown['id']}")
    text = response.get_data(as_text=True)
    for secret in [m["id_number"] for m in payload["members"]] + ["测试配偶", "邻居王大姐", "亲属资助"]:
        assert secret not in text
    again = client.get(f"/api/v1/surveys/{shown['id']}", headers=token())
    assert again.status_code == 200 and again.get_json() == shown


def test_members_are_kept_encrypted_with_their_age_on_the_survey_day(app, world, client, token):
    from portal.core.crypto import decrypt, keyed_hash
    from portal.surveys.models import HouseholdSurvey
    at = utcnow() - timedelta(days=3)
    payload = body(world, at=at)
    shown = post(client, token(), payload).get_json()
    with app.app_context(), scope(app):
        survey = db.session.get(HouseholdSurvey, shown["id"])
        day = to_local(survey.surveyed_at).date()
        for member, sent in zip(survey.members, payload["members"]):
            number = sent["id_number"]
            assert number not in member.id_number_encrypted and decrypt(member.id_number_encrypted) == number
            assert member.id_number_hash == keyed_hash(number) and member.id_number_masked == number[:4] + "*" * 10 + number[-4:]
            born = (int(number[6:10]), int(number[10:12]), int(number[12:14]))
            assert member.age == day.year - born[0] - ((day.month, day.day) < born[1:])
        assert [(i.period, i.amount_fen, i.annual_fen, i.member_position) for i in survey.incomes] == \
            [("monthly", 100_000, 1_200_000, 1)]
        assert [i.neighbour for i in survey.interviews] == ["邻居王大姐"] and survey.source == "app"


def test_a_supported_family_above_the_limit_exits(app, world, client, token):
    # 2 members, 300,000 a month: 150,000 per capita, above 120,000
    shown = post(client, token(), body(world, kind="review", monthly_wages_fen=300_000)).get_json()
    assert (shown["per_capita_income_fen"], shown["outcome"]) == (150_000, "exit")
    applying = post(client, token(), body(world, "杨细妹", monthly_wages_fen=300_000)).get_json()
    assert applying["outcome"] == "not_eligible"


def test_an_asset_test_set_by_the_bureau_excludes_whatever_the_income(app, world, client, token):
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    from tests import support
    with app.app_context(), scope(app):
        change_settings(db.session.get(Tenant, support.World(app).tenant_id("ganxian")),
                        {"asset_tests": {"vehicles": 0}})
        db.session.commit()
    assets = {"deposits_fen": 0, "dwellings": 1, "housing_area_m2": 60, "vehicles": 1}
    shown = post(client, token(), body(world, monthly_wages_fen=0, assets=assets)).get_json()
    assert shown["outcome"] == "not_eligible" and shown["per_capita_income_fen"] == 0
    assert shown["reasons"][-1] == "机动车 1 辆，超过限额 0 辆。"


# --- idempotency --------------------------------------------------------------------------------

def test_a_replay_answers_200_with_the_same_survey_and_one_visit(app, world, client, token):
    headers, payload = token(), body(world)
    first = post(client, headers, payload)
    assert first.status_code == 201, first.get_json()
    before = count(app), count(app, "Visit")
    again = post(client, headers, dict(reversed(list(payload.items()))))  # key order does not matter
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert (count(app), count(app, "Visit")) == before


def test_the_same_client_id_with_another_body_or_surveyor_is_409(app, world, client, token):
    payload = body(world)
    assert post(client, token(), payload).status_code == 201
    before = count(app), count(app, "Visit")
    changed = post(client, token(), {**payload, "notes": "改过的备注"})
    assert changed.status_code == 409 and changed.mimetype == PROBLEM
    assert changed.get_json()["errors"]["client_id"] == ["此 client_id 已用于另一份家计调查。"]
    other = post(client, token("a-worker1"), payload)  # a field worker of another contractor
    assert other.status_code == 409, other.get_json()
    assert (count(app), count(app, "Visit")) == before


def test_a_race_on_the_client_id_is_a_replay_or_a_conflict(app, world, monkeypatch):
    """The loser's insert fails on the unique constraint (the id was not there when it looked) and
    it answers like a replay, or 409."""
    from portal.core.errors import Conflict
    from portal.surveys import recording
    payload = body(world)
    with app.test_request_context(), scope(app):
        surveyor = user(WORKER)
        first, created = recording.record_survey(payload, surveyor, utcnow())
        assert created
        real, calls = recording._by_client_id, []

        def not_there_at_first(client_id):
            calls.append(client_id)
            return None if len(calls) == 1 else real(client_id)

        monkeypatch.setattr(recording, "_by_client_id", not_there_at_first)
        again, created = recording.record_survey(payload, surveyor, utcnow())
        assert (again.id, created) == (first.id, False) and len(calls) == 2
        calls.clear()
        with pytest.raises(Conflict):
            recording.record_survey({**payload, "notes": "不同"}, surveyor, utcnow())
        db.session.rollback()


def test_four_phones_sending_one_survey_at_once_store_it_once(app, world, api_token):
    headers, payload = api_token(WORKER, tenant="ganxian"), body(world)
    before = count(app), count(app, "Visit")
    barrier, answers, errors = threading.Barrier(4), [None] * 4, []

    def upload(n):
        client = app.test_client()  # each thread: its own client, app context and session
        try:
            barrier.wait(timeout=30)
            response = post(client, headers, payload)
            answers[n] = (response.status_code, response.get_json())
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(a[0] for a in answers) == [200, 200, 200, 201], answers
    assert len({a[1]["id"] for a in answers}) == 1
    assert (count(app), count(app, "Visit")) == (before[0] + 1, before[1] + 1)


# --- refused bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, message", [
    ({"members": []}, "members", "请至少登记一名家庭成员。"),
    ({"interviews": []}, "interviews", "请至少登记一次邻里走访（走访对象、时间及其陈述）。"),
    ({"interviews": None}, "interviews", None),
    ({"incomes": [{"member": 0, "kind": "wages", "period": "monthly", "amount_fen": -1}]},
     "incomes.0.amount_fen", None),
    ({"incomes": [{"member": 5, "kind": "wages", "period": "monthly", "amount_fen": 1}]}, "incomes.0.member",
     "没有该序号的家庭成员。"),
    ({"expenses": [{"kind": "medical", "annual_fen": -100}]}, "expenses.0.annual_fen", None),
    ({"assets": {"deposits_fen": -1, "dwellings": 0, "housing_area_m2": 0, "vehicles": 0}}, "assets.deposits_fen",
     None),
    ({"kind": "renewal"}, "kind", None), ({"area": "suburban"}, "area", None),
    ({"surveyed_at": "yesterday"}, "surveyed_at", None), ({"lat": 123.0}, "lat", None),
    ({"client_id": "not-a-uuid-but-long-enough-to-pass-x"}, "client_id", None),
])
def test_a_refused_body_is_422_naming_the_field(app, world, client, token, change, field, message):
    before = count(app), count(app, "Visit")
    payload = body(world, **change)
    if change.get("interviews", 1) is None:
        del payload["interviews"]
    response = post(client, token(), payload)
    assert response.status_code == 422 and response.mimetype == PROBLEM, response.get_json()
    errors = response.get_json()["errors"]
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
    assert (count(app), count(app, "Visit")) == before


def test_money_written_with_a_fraction_is_422_naming_the_field(app, world, client, token):
    """1200.0 is an "integer" to JSON Schema 2020-12: it would be stored as a float (api/body.py)."""
    payload = body(world, incomes=[{"member": 0, "kind": "wages", "period": "monthly", "amount_fen": 1200.0}])
    payload["assets"]["vehicles"] = 1.0
    payload["members"][0]["disability_grade"] = 0.0
    response = post(client, token(), payload)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert {"incomes.0.amount_fen", "assets.vehicles", "members.0.disability_grade"} <= set(errors), errors
    assert errors["incomes.0.amount_fen"] == ["请填写整数。"]
    assert count(app) == 0


def test_a_name_a_neighbour_or_a_statement_of_blanks_only_is_422_on_that_field(app, world, client, token):
    payload = body(world)
    payload["members"][0]["name"] = "  \u3000 "
    payload["interviews"][0]["neighbour"] = " \t"
    payload["interviews"][0]["statement"] = "   "
    response = post(client, token(), payload)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert set(errors) == {"members.0.name", "interviews.0.neighbour", "interviews.0.statement"}, errors
    assert errors["interviews.0.statement"] == ["请填写此项：只有空格不算填写。"]
    assert count(app) == 0


def test_bad_or_repeated_id_numbers_are_422_naming_the_member(app, world, client, token):
    payload = body(world)
    good = payload["members"][0]["id_number"]
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    payload["members"][1]["id_number"] = wrong_check
    errors = post(client, token(), payload).get_json()["errors"]
    assert list(errors) == ["members.1.id_number"] and "校验码" in errors["members.1.id_number"][0]
    payload["members"][1]["id_number"] = good
    repeated = post(client, token(), payload)
    assert repeated.status_code == 422
    assert repeated.get_json()["errors"]["members.1.id_number"] == ["该身份证号码已用于另一名家庭成员。"]
    payload["members"][1]["id_number"] = "12345"
    assert "members.1.id_number" in post(client, token(), payload).get_json()["errors"]
    assert count(app) == 0


def test_a_survey_or_interview_dated_in_the_future_is_422(app, world, client, token):
    ahead = to_local(utcnow() + timedelta(hours=3)).isoformat()
    answer = post(client, token(), body(world, surveyed_at=ahead))
    assert answer.status_code == 422 and "surveyed_at" in answer.get_json()["errors"]
    late_interview = body(world)
    late_interview["interviews"][0]["interviewed_at"] = ahead
    answer = post(client, token(), late_interview)
    assert answer.status_code == 422 and "interviews.0.interviewed_at" in answer.get_json()["errors"]
    skewed = to_local(utcnow() + timedelta(minutes=2)).isoformat()  # a phone clock a little ahead is fine
    assert post(client, token(), body(world, surveyed_at=skewed)).status_code == 201


def test_a_family_not_assigned_to_the_surveyor_is_404(app, world, client, token, api_token):
    from portal.beneficiaries.models import Beneficiary
    from portal.tenancy.scope import tenant_scope
    from tests import support
    before = count(app), count(app, "Visit")
    elsewhere = next(name for name in world["people"] if name not in SURVEYED)
    response = post(client, token(), body(world, SURVEYED[0], beneficiary_id=world["people"][elsewhere]))
    assert response.status_code == 404 and response.mimetype == PROBLEM
    # a-worker1 has no survey contract; the bureau's officer is no surveyor at all
    assert post(client, token("a-worker1"), body(world)).status_code == 404
    assert post(client, token("gx-officer"), body(world)).status_code == 403
    for missing in (999_999, 2**31 - 1):
        assert post(client, token(), body(world, beneficiary_id=missing)).status_code == 404
    with app.app_context(), tenant_scope(support.World(app).tenant_id("zhanggong")):
        other_bureau = db.session.execute(select(Beneficiary.id).limit(1)).scalar_one()
    assert post(client, token(), body(world, beneficiary_id=other_bureau)).status_code == 404
    assert (count(app), count(app, "Visit")) == before

    # assigned, but not on the survey's day: a survey dated before the assignment is not this contract's work
    early = post(client, token(), body(world, surveyed_at="2020-01-01T10:00:00+08:00"))
    assert early.status_code == 422
    assert early.get_json()["errors"]["surveyed_at"] == ["2020-01-01 该家庭未分派给您调查，请核对调查日期。"]
    assert (count(app), count(app, "Visit")) == before


def test_one_member_only_is_the_applicant(app, world, client, token):
    payload = body(world)
    payload["members"][1]["relation"] = "self"
    answer = post(client, token(), payload)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == ["members.1.relation"]
    assert count(app) == 0


# --- the home visit -----------------------------------------------------------------------------

def test_the_home_visit_is_recorded_with_it_and_judged(app, world, client, token):
    from portal.surveys.models import HouseholdSurvey
    lat, lon = world["homes"][SURVEYED[1]]
    near = post(client, token(), body(world, SURVEYED[0])).get_json()
    far = post(client, token(), body(world, SURVEYED[1], lat=lat + 2_000 / 111_320, device_id=None)).get_json()
    with app.app_context(), scope(app):
        for shown, device in ((near, "phone-d1"), (far, f"survey:{user(WORKER).id}")):
            survey = db.session.get(HouseholdSurvey, shown["id"])
            visit = survey.visit
            assert visit.id == shown["visit_id"] and visit.service_item.unit == "household_survey"
            assert visit.contract_id == survey.contract_id == world["contract"]
            assert visit.check_in_at == visit.check_out_at == survey.surveyed_at
            assert visit.worker_user_id == survey.surveyor_user_id and visit.device_id == device
            assert survey.distance_from_home_m == visit.distance_from_home_m and survey.staff_id == visit.staff_id
        near_visit = db.session.get(HouseholdSurvey, near["id"]).visit
        far_visit = db.session.get(HouseholdSurvey, far["id"]).visit
        assert "V02" not in {e.code for e in near_visit.exceptions}
        assert "V02" in {e.code for e in far_visit.exceptions} and far_visit.status == "exception"


def test_the_recorded_signal_is_sent_for_a_new_survey_only(app, world):
    from portal.surveys import recording, signals
    received = []

    def receiver(sender, **_extra):
        received.append(sender.id)

    signals.survey_recorded.connect(receiver)
    try:
        payload = body(world)
        with app.test_request_context(), scope(app):
            surveyor = user(WORKER)
            survey, _created = recording.record_survey(payload, surveyor, utcnow())
            recording.record_survey(payload, surveyor, utcnow())  # a replay: no signal
            assert received == [survey.id]
            db.session.rollback()
    finally:
        signals.survey_recorded.disconnect(receiver)


# --- who reads what -----------------------------------------------------------------------------

def test_reading_is_limited_to_the_surveyor_the_contractor_and_the_bureau(app, world, client, token, api_token):
    shown = post(client, token(), body(world)).get_json()
    path = f"/api/v1/surveys/{shown['id']}"
    for username in (WORKER, "d-manager", "gx-officer", "gx-supervisor", "gx-finance", "gx-auditor"):
        assert client.get(path, headers=token(username)).status_code == 200, username
    for username in ("a-manager", "a-worker1"):  # another contractor
        assert client.get(path, headers=token(username)).status_code == 404, username
    other_bureau = api_token("zg-officer", tenant="zhanggong")
    assert client.get(path, headers=other_bureau).status_code == 404
    for bad in ("0", "-1", str(2**40), "x"):
        assert client.get(f"/api/v1/surveys/{bad}", headers=token("gx-officer")).status_code == 404
    assert client.get(path).status_code == 401


def test_the_month_list_shows_the_signed_off_surveys_in_the_fixed_shape(app, world, client, token, api_token):
    ids = [record(app, world, name, monthly_wages_fen=wages)
           for name, wages in zip(SURVEYED, (100_000, 200_000, 300_000))]
    sign_off(app, ids[:2])
    from portal.surveys import review
    from portal.surveys.models import HouseholdSurvey
    with app.app_context(), scope(app):  # the third is reviewed, still waiting for its sign-off
        review.review(db.session.get(HouseholdSurvey, ids[2]), user("gx-officer"), utcnow())
        db.session.commit()
    month = to_local(utcnow() - timedelta(hours=2)).strftime("%Y-%m")
    listed = client.get(f"/api/v1/surveys?month={month}", headers=token("gx-officer"))
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [item["id"] for item in items] == ids[:2]
    assert all(set(item) == MONTH_KEYS for item in items)
    assert items[0] == {"id": ids[0], "category": "dibao", "members": 2, "per_capita_income_fen": 50_000,
                        "standard_fen": 80_000, "outcome": "eligible",
                        "reasons": ["人均月收入 ¥500.00 低于最低生活保障标准 ¥800.00。"]}
    assert items[1]["outcome"] == "marginal"
    for username in ("d-manager", WORKER, "gx-auditor", "gx-finance"):
        seen = client.get(f"/api/v1/surveys?month={month}", headers=token(username)).get_json()["items"]
        assert [item["id"] for item in seen] == ids[:2], username
    for username in ("a-manager", "a-worker1"):  # another contractor's manager and worker see none
        assert client.get(f"/api/v1/surveys?month={month}", headers=token(username)).get_json()["items"] == []
    assert client.get(f"/api/v1/surveys?month={month}", headers=api_token("zg-officer", tenant="zhanggong")
                      ).get_json()["items"] == []
    other_month = "2020-01"
    assert client.get(f"/api/v1/surveys?month={other_month}", headers=token("gx-officer")).get_json()["items"] == []
    for bad in ("", "2026-13", "2026-1", "x", "１２３４-05"):
        refused = client.get(f"/api/v1/surveys?month={bad}", headers=token("gx-officer"))
        assert refused.status_code == 422 and "month" in refused.get_json()["errors"], bad
    assert client.get("/api/v1/surveys", headers=token("gx-officer")).status_code == 422


def test_the_month_list_answers_every_survey_of_the_month_in_items(app, world, client, token, monkeypatch):
    """docs/API.md fixes the shape as {"items": [...]}: a client reading only ``items`` must miss
    none, so the month comes whole, whatever the page size of the portal's lists."""
    ids = [record(app, world, name) for name in SURVEYED[:3]]
    sign_off(app, ids)
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 2)
    month = to_local(utcnow() - timedelta(hours=2)).strftime("%Y-%m")
    answer = client.get(f"/api/v1/surveys?month={month}", headers=token("gx-officer")).get_json()
    assert list(answer) == ["items"] and [i["id"] for i in answer["items"]] == ids


def test_judge_survey_recomputes_from_the_stored_rows_and_the_standard_of_its_day(app, world):
    from portal.surveys import recording, standards
    from portal.surveys.models import HouseholdSurvey
    survey_id = record(app, world, monthly_wages_fen=180_000)  # 90,000 per capita: marginal under 80,000
    with app.app_context(), scope(app):
        survey = db.session.get(HouseholdSurvey, survey_id)
        assert survey.outcome == "marginal"
        day = to_local(survey.surveyed_at).date()
        standards.add_standard("urban", day, 95_000, "", user("gx-officer"))
        judged = recording.judge_survey(survey)
        assert (judged.outcome, survey.outcome, survey.standard_fen, survey.standard_effective_from) == \
            ("eligible", "eligible", 95_000, day)
        assert survey.reasons == [dict(r) for r in judged.reasons] and survey.members_count == 2
        db.session.rollback()


def test_the_field_web_app_is_told_by_its_header(app, world, client, token):
    from portal.surveys.models import HouseholdSurvey
    shown = client.post("/api/v1/surveys", json=body(world), headers={**token(), "X-Visit-Source": "web"}).get_json()
    with app.app_context(), scope(app):
        assert db.session.get(HouseholdSurvey, shown["id"]).source == "web"
    assert client.post("/api/v1/surveys", data="x", headers=token()).status_code == 415
    assert post(client, token(), [body(world)]).status_code == 422
    assert str(uuid.UUID(shown["client_id"])) == shown["client_id"]
