"""Recording self-care assessments (docs/DOMAIN.md §6, docs/API.md ``POST /api/v1/assessments``):
the class from the indicators not met, idempotent uploads by client id, incomplete indicators,
the person's assignment to the assessor, the home visit recorded and judged with it, who may see
which assessment, photos, and the contractor's submission."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from tests.assessment_world import assessment_world, body, record, scope

PROBLEM = "application/problem+json"


@pytest.fixture
def world(app):
    return assessment_world(app)


@pytest.fixture
def token(api_token):
    """token("b-worker1") -> the headers of a ganxian bearer token for that user."""
    return lambda username="b-worker1": api_token(username, tenant="ganxian")


def post(client, headers, payload):
    return client.post("/api/v1/assessments", json=payload, headers=headers)


def count(app, model_name="Assessment"):
    from portal.assessments.models import Assessment
    from portal.visits.models import Visit
    model = {"Assessment": Assessment, "Visit": Visit}[model_name]
    with app.app_context(), scope(app):
        return db.session.execute(select(func.count(model.id))).scalar_one()


def stored(app, assessment_id):
    from portal.assessments.models import Assessment
    with app.app_context(), scope(app):
        a = db.session.get(Assessment, assessment_id)
        visit = a.visit
        return {"status": a.status, "kind": a.kind, "care_class": a.care_class, "visit_id": a.visit_id,
                "contract_id": a.contract_id, "staff_id": a.staff_id, "distance": a.distance_from_home_m,
                "visit": None if visit is None else {
                    "service_item": visit.service_item.code, "check_in_at": visit.check_in_at,
                    "check_out_at": visit.check_out_at, "status": visit.status, "contract_id": visit.contract_id,
                    "exceptions": sorted(e.code for e in visit.exceptions), "distance": visit.distance_from_home_m,
                    "worker_user_id": visit.worker_user_id, "device_id": visit.device_id},
                "assessor": a.assessor_user_id, "assessed_at": a.assessed_at}


# --- the class ----------------------------------------------------------------------------------

@pytest.mark.parametrize("not_met, expected", [(0, "self_care"), (1, "partial"), (3, "partial"),
                                               (4, "complete"), (6, "complete")])
def test_the_class_follows_the_indicators_not_met(app, world, client, token, not_met, expected):
    response = post(client, token(), body(world, not_met=not_met))
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    assert (shown["not_met"], shown["care_class"], shown["status"]) == (not_met, expected, "recorded")
    assert sum(1 for met in shown["indicators"].values() if not met) == not_met
    assert shown["final_class"] is None
    assert shown["beneficiary"] == {"id": world["people"]["刘桂英"], "display_name": "刘*英"}
    assert response.headers["Location"].endswith(f"/api/v1/assessments/{shown['id']}")
    again = client.get(f"/api/v1/assessments/{shown['id']}", headers=token())
    assert again.status_code == 200 and again.get_json()["care_class"] == expected


# --- idempotency --------------------------------------------------------------------------------

def test_a_replay_answers_200_with_the_same_assessment_and_one_visit(app, world, client, token):
    headers, payload = token(), body(world, not_met=2)
    first = post(client, headers, payload)
    assert first.status_code == 201, first.get_json()
    assessments, visits = count(app), count(app, "Visit")
    again = post(client, headers, dict(reversed(list(payload.items()))))  # key order does not matter
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    assert (count(app), count(app, "Visit")) == (assessments, visits)


def test_the_same_client_id_with_another_body_or_assessor_is_409(app, world, client, token):
    payload = body(world, not_met=1)
    assert post(client, token(), payload).status_code == 201
    assessments = count(app)
    changed = post(client, token(), {**payload, "indicators": {**payload["indicators"], "bathing": False}})
    assert changed.status_code == 409 and changed.mimetype == PROBLEM
    assert "client_id" in changed.get_json()["errors"]
    # another assessor (a manager cannot record at all; a field worker of contractor A can)
    other = post(client, token("a-worker1"), payload)
    assert other.status_code == 409, other.get_json()
    assert count(app) == assessments


def test_a_race_on_the_client_id_is_a_replay_or_a_conflict(app, world, monkeypatch):
    """Two uploads of one client id at once: the loser's insert fails on the unique constraint
    (the id was not there when it looked) and it answers like a replay, or 409."""
    from portal.accounts.models import User
    from portal.assessments import recording
    payload = body(world, not_met=3)
    with app.test_request_context(), scope(app):
        user = db.session.execute(select(User).where(User.username == "b-worker1")).scalar_one()
        first, created = recording.record_assessment(payload, user, utcnow())
        assert created
        real = recording._by_client_id
        calls = []

        def not_there_at_first(client_id):
            calls.append(client_id)
            return None if len(calls) == 1 else real(client_id)

        monkeypatch.setattr(recording, "_by_client_id", not_there_at_first)
        again, created = recording.record_assessment(payload, user, utcnow())
        assert (again.id, created) == (first.id, False) and len(calls) == 2
        calls.clear()
        with pytest.raises(recording.Conflict):
            recording.record_assessment({**payload, "notes": "不同"}, user, utcnow())


# --- bad bodies ---------------------------------------------------------------------------------

def test_missing_or_non_boolean_indicators_are_422_naming_each(app, world, client, token):
    before = count(app)
    payload = body(world)
    del payload["indicators"]["bathing"], payload["indicators"]["eating"]
    payload["indicators"]["dressing"] = "yes"
    response = post(client, token(), payload)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert {"indicators.bathing", "indicators.eating", "indicators.dressing"} <= set(errors)
    assert "indicators.toileting" not in errors
    # in the bureau's language, like every other message of the API
    assert response.get_json()["detail"] == "请求内容无效。"
    assert errors["indicators.bathing"] == ["此项为必填项。"] and errors["indicators.dressing"] == ["请填写“true”或“false”。"]
    no_indicators = body(world)
    del no_indicators["indicators"]
    assert "indicators" in post(client, token(), no_indicators).get_json()["errors"]
    bad_time = post(client, token(), body(world, assessed_at="yesterday"))
    assert bad_time.status_code == 422 and "assessed_at" in bad_time.get_json()["errors"]
    bad_place = post(client, token(), body(world, lat=123.0))
    assert bad_place.status_code == 422 and "lat" in bad_place.get_json()["errors"]
    assert count(app) == before


def test_an_assessment_dated_in_the_future_is_422(app, world, client, token):
    ahead = (utcnow() + timedelta(hours=3)).isoformat()
    answer = post(client, token(), body(world, "陈德福", assessed_at=ahead))
    assert answer.status_code == 422 and "assessed_at" in answer.get_json()["errors"]
    skewed = (utcnow() + timedelta(minutes=2)).isoformat()  # a phone clock a little ahead is fine
    assert post(client, token(), body(world, "陈德福", assessed_at=skewed)).status_code == 201


def test_an_assessor_not_assigned_to_the_person_is_404(app, world, client, token):
    before = count(app), count(app, "Visit")
    # 钟长生 is a demo person not assigned to B's assessment contract
    response = post(client, token(), body(world, "钟长生") | {"beneficiary_id": world["people"]["钟长生"]})
    assert response.status_code == 404 and response.mimetype == PROBLEM
    # a-worker1 serves 刘桂英 under A's care contract, which has no assessment item
    assert post(client, token("a-worker1"), body(world)).status_code == 404
    # a person of another bureau (zhanggong), or none at all
    assert post(client, token(), body(world, beneficiary_id=999_999)).status_code == 404
    from portal.beneficiaries.models import Beneficiary
    from portal.tenancy.scope import tenant_scope
    from tests import support
    with app.app_context(), tenant_scope(support.World(app).tenant_id("zhanggong")):
        elsewhere = db.session.execute(select(Beneficiary.id).limit(1)).scalar_one()
    assert post(client, token(), body(world, beneficiary_id=elsewhere)).status_code == 404
    assert (count(app), count(app, "Visit")) == before


def test_a_colleague_of_the_assigned_assessor_is_404_until_the_person_is_reassigned(app, world):
    """The assessor is the field worker assigned to the person, not any worker of the contractor."""
    from portal.accounts.models import User
    from portal.assessments import recording
    from portal.beneficiaries import assignments
    from portal.beneficiaries.demo import demo_contract
    from portal.contractors.models import Contractor
    from portal.contractors.roster import add_staff
    from portal.contracts import assignments as work_list
    from portal.core.errors import NotFound
    from tests.beneficiary_world import number
    with app.app_context(), scope(app):
        contract = demo_contract("B", "ADL-ASSESS")
        colleague = User(username="b-worker2", display_name="B 评估员二", role="field_worker", password_hash="x",
                         contractor_id=contract.contractor_id)
        db.session.add(colleague)
        db.session.flush()
        staff = add_staff(db.session.get(Contractor, contract.contractor_id), name="钟评估", id_number=number(88),
                          joined_on=contract.starts_on, user_id=colleague.id)
        work_list.add_worker(contract, staff.id, contract.starts_on)
        with pytest.raises(NotFound):  # 刘桂英 is b-worker1's to assess
            recording.record_assessment(body(world, "刘桂英"), colleague, utcnow())
        assignments.assign(contract, world["people"]["钟长生"], staff.id, local_today() - timedelta(days=1))
        assessment, created = recording.record_assessment(body(world, "钟长生"), colleague, utcnow())
        assert created and assessment.assessor_user_id == colleague.id
        b_worker1 = db.session.execute(select(User).where(User.username == "b-worker1")).scalar_one()
        with pytest.raises(NotFound):  # and 钟长生 is not b-worker1's
            recording.record_assessment(body(world, "钟长生"), b_worker1, utcnow())
        db.session.rollback()


# --- the home visit -----------------------------------------------------------------------------

def test_the_home_visit_is_recorded_with_it_and_judged(app, world, client, token):
    near = post(client, token(), body(world, "陈德福", offset_m=20)).get_json()
    far = post(client, token(), body(world, "黄秀兰", offset_m=2_000, device_id=None)).get_json()
    near_row, far_row = stored(app, near["id"]), stored(app, far["id"])
    for row, shown in ((near_row, near), (far_row, far)):
        visit = row["visit"]
        assert visit is not None and shown["visit_id"] == row["visit_id"]
        assert visit["service_item"] == "ADL-ASSESS" and visit["contract_id"] == world["contract"] == row["contract_id"]
        assert visit["check_in_at"] == visit["check_out_at"] == row["assessed_at"]
        assert visit["worker_user_id"] == row["assessor"] and row["staff_id"] is not None
        assert row["distance"] == visit["distance"] == shown["distance_from_home_m"]
    # without a device id the assessor's own stands in, never one every assessor would share (V10)
    assert near_row["visit"]["device_id"] == "phone-b1"
    assert far_row["visit"]["device_id"] == f"assessment:{far_row['assessor']}"
    assert "V02" not in near_row["visit"]["exceptions"] and near_row["distance"] < 100
    assert "V02" in far_row["visit"]["exceptions"] and far_row["distance"] > 1_500
    assert far_row["visit"]["status"] == "exception"


def test_a_second_assessment_of_the_person_is_a_reassessment(app, world):
    from portal.assessments.models import Assessment
    with app.app_context(), scope(app):
        earlier = db.session.execute(select(func.count(Assessment.id)).where(
            Assessment.beneficiary_id == world["people"]["刘桂英"], Assessment.status != "withdrawn")).scalar_one()
    first = record(app, world, "刘桂英", not_met=0, assessed_at=(utcnow() - timedelta(days=3)).isoformat())
    second = record(app, world, "刘桂英", not_met=5)
    assert stored(app, first)["kind"] == ("reassessment" if earlier else "initial")
    assert (stored(app, second)["kind"], stored(app, second)["care_class"]) == ("reassessment", "complete")


def test_the_recorded_signal_is_sent_for_a_new_assessment_only(app, world):
    from portal.accounts.models import User
    from portal.assessments import recording, signals
    received = []

    def receiver(sender, **_extra):
        received.append(sender.id)

    signals.assessment_recorded.connect(receiver)
    try:
        payload = body(world)
        with app.test_request_context(), scope(app):
            user = db.session.execute(select(User).where(User.username == "b-worker1")).scalar_one()
            assessment, _ = recording.record_assessment(payload, user, utcnow())
            recording.record_assessment(payload, user, utcnow())
            assert received == [assessment.id]
            db.session.rollback()
    finally:
        signals.assessment_recorded.disconnect(receiver)


# --- who sees what ------------------------------------------------------------------------------

def test_reading_is_limited_to_the_assessor_the_contractor_and_the_bureau(app, world, client, token):
    shown = post(client, token(), body(world, not_met=4)).get_json()
    path = f"/api/v1/assessments/{shown['id']}"
    for username in ("b-manager", "gx-officer", "gx-supervisor"):
        response = client.get(path, headers=token(username))
        assert response.status_code == 200, (username, response.get_json())
        assert response.get_json()["indicators"] == shown["indicators"]
    for username in ("a-manager", "a-worker1"):  # another contractor
        assert client.get(path, headers=token(username)).status_code == 404, username
    other_bureau = api_token_of(client, "zg-officer", "zhanggong")
    assert client.get(path, headers=other_bureau).status_code == 404
    listed = client.get("/api/v1/assessments", headers=token("a-manager")).get_json()
    assert listed["total"] == 0  # contractor A assesses nobody
    own = client.get("/api/v1/assessments?status=recorded", headers=token("b-manager")).get_json()
    assert shown["id"] in [item["id"] for item in own["items"]]
    assert {item["status"] for item in own["items"]} == {"recorded"}
    final = client.get("/api/v1/assessments?status=final", headers=token("b-manager")).get_json()
    assert shown["id"] not in [item["id"] for item in final["items"]]
    assert client.get("/api/v1/assessments?status=nonsense", headers=token("b-manager")).status_code == 422
    assert client.get("/api/v1/assessments?month=2026-13", headers=token("b-manager")).status_code == 422
    by_person = client.get(f"/api/v1/assessments?beneficiary_id={world['people']['陈德福']}",
                           headers=token("gx-officer")).get_json()
    assert shown["id"] not in [item["id"] for item in by_person["items"]]
    assert {item["beneficiary"]["id"] for item in by_person["items"]} <= {world["people"]["陈德福"]}


def api_token_of(client, username, tenant):
    from tests import support
    response = client.post("/api/v1/tokens", json={"username": username, "password": support.PASSWORD,
                                                   "tenant": tenant})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- photos -------------------------------------------------------------------------------------

def test_photos_follow_the_visit_photo_rules(app, world, client, token):
    from portal.visits.demo import tiny_jpeg
    shown = post(client, token(), body(world)).get_json()
    path = f"/api/v1/assessments/{shown['id']}/photos"

    def upload(data, headers=None):
        return client.post(path, data={"file": (io.BytesIO(data), "p.jpg")}, headers=headers or token(),
                           content_type="multipart/form-data")

    first = upload(tiny_jpeg())
    assert first.status_code == 201, first.get_json()
    assert upload(tiny_jpeg()).status_code == 200  # the same photo is not stored twice
    assert upload(b"GIF89a not a photo").status_code == 415
    assert upload(tiny_jpeg(), token("b-manager")).status_code == 403  # managers do not record
    assert upload(tiny_jpeg(), token("a-worker1")).status_code == 404  # another contractor's assessor
    photo = client.get(f"{path}/{first.get_json()['id']}", headers=token("gx-officer"))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert client.get(f"{path}/{first.get_json()['id']}", headers=token("a-manager")).status_code == 404
    assert client.get(f"/api/v1/assessments/{shown['id']}", headers=token()).get_json()["photos"] == [
        first.get_json()["id"]]


# --- submission ---------------------------------------------------------------------------------

def _user(username):
    from portal.accounts.models import User
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def test_the_contractors_manager_submits_its_recorded_assessments(app, world):
    from portal.assessments import recording
    from portal.assessments.models import Assessment
    from portal.audit.models import AuditEntry
    from portal.core.errors import DomainError, NotFound
    first, second = record(app, world, "刘桂英"), record(app, world, "陈德福", not_met=2)
    with app.test_request_context(), scope(app):
        chosen = [db.session.get(Assessment, first), db.session.get(Assessment, second)]
        for username in ("a-manager", "b-worker1", "gx-officer"):
            with pytest.raises(NotFound):
                recording.submit(chosen, _user(username), utcnow())
        assert {a.status for a in chosen} == {"recorded"}
        earlier = db.session.execute(select(AuditEntry.id).where(AuditEntry.action == "assessments_submitted")
                                     ).scalars().all()  # the demo's own submissions
        done = recording.submit(chosen, _user("b-manager"), utcnow())
        assert [a.status for a in done] == ["submitted", "submitted"]
        assert all(a.submitted_by_id == _user("b-manager").id and a.submitted_at for a in done)
        with pytest.raises(DomainError):  # not waiting any more
            recording.submit(chosen[:1], _user("b-manager"), utcnow())
        db.session.commit()
        actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.action == "assessments_submitted",
                                                                     AuditEntry.id.not_in(earlier))).scalars().all()
        assert actions == ["assessments_submitted"]


def test_withdrawal_needs_a_reason_and_comes_before_publicity(app, world):
    from portal.assessments import recording
    from portal.assessments.models import Assessment
    from portal.core.errors import DomainError, NotFound
    first, second = record(app, world, "刘桂英"), record(app, world, "陈德福")
    with app.test_request_context(), scope(app):
        manager = _user("b-manager")
        assessment = db.session.get(Assessment, first)
        with pytest.raises(DomainError):
            recording.withdraw(assessment, manager, utcnow(), "  ")
        with pytest.raises(NotFound):
            recording.withdraw(assessment, _user("a-manager"), utcnow(), "录错了")
        recording.withdraw(assessment, manager, utcnow(), "录错了对象")
        assert assessment.status == "withdrawn"
        later = db.session.get(Assessment, second)
        later.status = "publicity"
        db.session.flush()  # as a round's opening left it in the database
        with pytest.raises(DomainError):
            recording.withdraw(later, manager, utcnow(), "录错了")
        db.session.flush()
        # a withdrawn assessment does not make the next one a re-assessment (the demo's own, of
        # last month, does)
        kept = db.session.execute(select(Assessment.id).where(
            Assessment.beneficiary_id == world["people"]["刘桂英"], Assessment.status != "withdrawn")).all()
        again, _ = recording.record_assessment(body(world, "刘桂英"), _user("b-worker1"), utcnow())
        assert again.kind == ("reassessment" if kept else "initial")
        db.session.rollback()


# --- pages --------------------------------------------------------------------------------------

def test_the_pages_show_the_indicators_in_chinese_and_the_manager_submits(app, world, login):
    from tests import support
    recorded = record(app, world, "陈德福", not_met=4, offset_m=1_500)
    officer = login("gx-officer", tenant="ganxian")
    page = officer.get(f"/assessments/{recorded}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for words in ("自主吃饭", "自主穿衣", "自主上下床", "自主如厕", "室内行走", "自主洗澡", "完全丧失生活自理能力"):
        assert words in html, words
    assert html.count('data-met="false"') == 4 and html.count('data-met="true"') == 2
    assert "陈德福" in html  # the bureau sees the name
    assert "V02" in html  # the home visit's exception
    assert recorded_row_in(officer.get("/assessments/?status=recorded&care_class=complete"), recorded)
    assert not recorded_row_in(officer.get("/assessments/?care_class=self_care"), recorded)
    assert officer.get("/assessments/?month=nonsense&page=x").status_code == 200

    manager = login("b-manager", tenant="ganxian")
    detail = manager.get(f"/assessments/{recorded}").get_data(as_text=True)
    assert "陈*福" in detail and "陈德福" not in detail  # contractor pages show the masked name
    assert login("a-manager", tenant="ganxian").get(f"/assessments/{recorded}").status_code == 404
    confirmation = manager.get("/assessments/submit")
    assert confirmation.status_code == 200 and "公示" in confirmation.get_data(as_text=True)
    done = support.form_post(manager, "/assessments/submit", {})
    assert done.status_code == 302
    with app.app_context(), scope(app):
        from portal.assessments.models import Assessment
        assert db.session.get(Assessment, recorded).status == "submitted"
    assert officer.get("/assessments/submit").status_code == 403  # the bureau does not submit


def recorded_row_in(response, assessment_id):
    assert response.status_code == 200
    return f'id="assessment-{assessment_id}"' in response.get_data(as_text=True)


def test_the_field_form_is_for_assessors(app, world, login):
    page = login("b-worker1", tenant="ganxian").get("/field/assessments/")
    assert page.status_code == 200 and "field-assessment.js" in page.get_data(as_text=True)
    assert login("gx-officer", tenant="ganxian").get("/field/assessments/").status_code == 403
