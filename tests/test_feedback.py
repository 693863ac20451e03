"""Public feedback (issue 20 part 4, docs/DOMAIN.md §9 "Public feedback"): the public API and form
(no login, honeypot, throttled per address), the contact kept private (never on a public page, an
API answer or in the audit values), the bureau's due and overdue lists at their boundary over a
holiday, assigning, answering and publishing (refused when the answer names a beneficiary)."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from tests import support
from tests.assessment_world import scope

CONTACT = "李女士 13977776666"
TEXT = "服务人员上门时间不固定，希望改进。"


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _items(app, code="ganxian"):
    from portal.feedback.models import FeedbackItem
    with app.app_context(), scope(app, code):
        return db.session.scalar(select(func.count()).select_from(FeedbackItem))


def _send(client, code="ganxian", **body):
    return client.post(f"/api/v1/public/{code}/feedback",
                       json={"topic": "service", "text": TEXT, "contact": CONTACT, **body})


def test_the_api_receives_feedback_and_answers_its_status_without_the_contact(app, world, client):
    from portal.audit.models import AuditEntry
    from portal.feedback.models import FeedbackItem
    before = _items(app)
    sent = _send(client)
    assert sent.status_code == 201
    number = sent.get_json()["tracking_number"]
    assert set(sent.get_json()) == {"tracking_number"}
    assert number.startswith("FK") and len(number) == 12
    assert _items(app) == before + 1
    status = client.get(f"/api/v1/public/ganxian/feedback/{number}")
    assert status.status_code == 200 and status.get_json() == {"status": "received"}
    for url in (f"/public/ganxian/feedback/{number}", f"/api/v1/public/ganxian/feedback/{number}",
                "/public/ganxian/feedback/answers"):
        body = client.get(url).get_data(as_text=True)
        assert "13977776666" not in body and "李女士" not in body and TEXT not in body
    with app.app_context(), scope(app):
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.tracking_number == number))
        assert "13977776666" not in item.contact  # stored encrypted
        for entry in db.session.scalars(select(AuditEntry)):
            values = repr(entry.before) + repr(entry.after)
            assert "13977776666" not in values and TEXT not in values


def test_unknown_bureau_number_or_another_bureaus_number_is_404(app, world, client):
    number = _send(client).get_json()["tracking_number"]
    assert client.get("/api/v1/public/ganxian/feedback/FKAAAAAAAAAA").status_code == 404
    assert client.get(f"/api/v1/public/zhanggong/feedback/{number}").status_code == 404
    assert client.get(f"/public/zhanggong/feedback/{number}").status_code == 404
    assert client.get(f"/api/v1/public/nowhere/feedback/{number}").status_code == 404
    assert _send(client, code="nowhere").status_code == 404
    assert client.get("/public/nowhere/feedback").status_code == 404
    problem = client.get("/api/v1/public/ganxian/feedback/FKAAAAAAAAAA")
    assert problem.mimetype == "application/problem+json"


def test_malformed_feedback_is_refused_never_500(app, world, client):
    assert _send(client, topic="weather").status_code == 422
    assert client.post("/api/v1/public/ganxian/feedback", json={"topic": "service"}).status_code == 422
    assert client.post("/api/v1/public/ganxian/feedback", data="x", content_type="text/plain").status_code == 415
    assert client.post("/api/v1/public/ganxian/feedback", data="{", content_type="application/json").status_code == 400


def test_the_form_gives_a_tracking_number_and_the_honeypot_stores_nothing(app, world, client):
    before = _items(app)
    posted = support.form_post(client, "/public/ganxian/feedback",
                               {"topic": "contractor", "text": TEXT, "contact": CONTACT, "consent": "y"})
    assert posted.status_code == 303
    thanks = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "FK" in thanks and "13977776666" not in thanks
    assert _items(app) == before + 1
    trapped = support.form_post(client, "/public/ganxian/feedback",
                                {"topic": "contractor", "text": TEXT, "website": "http://spam.example"})
    assert trapped.status_code == 303
    assert "FK" in client.get(trapped.headers["Location"]).get_data(as_text=True)  # the same thank-you page
    assert _items(app) == before + 1  # nothing stored
    assert support.form_post(client, "/public/ganxian/feedback", {"topic": "service", "text": " "}).status_code == 422
    assert client.post("/public/ganxian/feedback", data={"topic": "service", "text": TEXT}).status_code in (400, 422)
    assert _items(app) == before + 1  # no CSRF token: refused


def test_posts_are_throttled_per_address(app, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_POST_LIMIT", "2 per hour")
    assert [_send(client).status_code for _ in range(3)] == [201, 201, 429]
    refused = _send(client)
    assert refused.mimetype == "application/problem+json"
    form = support.form_post(client, "/public/ganxian/feedback", {"topic": "service", "text": TEXT})
    assert form.status_code == 429 and "请" in form.get_data(as_text=True)


def _received(app, when, **fields):
    """An item received at ``when`` (UTC), the bureau answering in 5 working days."""
    from portal.feedback import services
    from portal.tenancy.models import Tenant
    with app.app_context(), scope(app):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == "ganxian"))
        tenant.settings = {**(tenant.settings or {}), "feedback_answer_working_days": 5}
        item = services.submit(tenant, fields.pop("topic", "service"), fields.pop("text", TEXT), when, **fields)
        db.session.commit()
        return item.id, item.due_on, item.tracking_number


def test_the_due_day_counts_working_days_over_national_day_and_the_tabs_meet_at_it(app, world):
    from portal.feedback import services
    from portal.feedback.models import FeedbackItem
    # received 2025-09-30 10:00 in Beijing (02:00 UTC)
    item_id, due_on, _number = _received(app, datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc))
    # 1–8 October are holidays; 11 October (Saturday) is a working day: 9, 10, 11, 13, 14
    assert due_on == date(2025, 10, 14)
    # the day of receipt is Beijing's: 8 October 17:00 UTC is 9 October there (10, 11, 13, 14, 15)
    assert _received(app, datetime(2025, 10, 8, 15, 0, tzinfo=timezone.utc))[1] == date(2025, 10, 14)
    assert _received(app, datetime(2025, 10, 8, 17, 0, tzinfo=timezone.utc))[1] == date(2025, 10, 15)
    with app.app_context(), scope(app):
        def ids(tab, today):
            return {i.id for i in db.session.scalars(services.items_query(tab, today=today))}
        assert item_id in ids("due", date(2025, 10, 14)) and item_id not in ids("overdue", date(2025, 10, 14))
        assert item_id in ids("overdue", date(2025, 10, 15)) and item_id not in ids("due", date(2025, 10, 15))
        assert item_id in ids("due", date(2025, 10, 11)) and item_id not in ids("due", date(2025, 10, 10))
        db.session.get(FeedbackItem, item_id).status = "answered"
        db.session.flush()
        assert item_id not in ids("overdue", date(2025, 10, 20))
        db.session.rollback()


def test_officers_assign_answer_and_publish_and_a_name_is_never_published(app, world, client, login):
    from portal.beneficiaries.models import Beneficiary
    from portal.feedback.models import FeedbackItem
    item_id, _due, number = _received(app, datetime.now(timezone.utc), contact=CONTACT, consent=True)
    with app.app_context(), scope(app):
        person = db.session.scalars(select(Beneficiary).order_by(Beneficiary.id)).first().name
    officer = login("gx-officer")
    page = officer.get(f"/feedback/{item_id}").get_data(as_text=True)
    assert CONTACT in page  # the officer reads the contact, decrypted
    assert number in officer.get("/feedback/").get_data(as_text=True)
    assert number not in officer.get("/feedback/?tab=overdue").get_data(as_text=True)  # due in 5 working days
    officer_id = support.World(app).user_id("gx-officer")
    assert support.form_post(officer, f"/feedback/{item_id}/assign", {"assign-user": str(officer_id)},
                             token_url=f"/feedback/{item_id}").status_code == 303
    answer = f"已核实，{person}老人的服务时间已调整。"
    named = support.form_post(officer, f"/feedback/{item_id}/answer", {"answer-answer": answer},
                              token_url=f"/feedback/{item_id}")
    assert named.status_code == 422 and "请去掉姓名后再保存" in named.get_data(as_text=True)
    assert "answer" not in client.get(f"/api/v1/public/ganxian/feedback/{number}").get_json()
    with app.app_context(), scope(app):
        item = db.session.get(FeedbackItem, item_id)
        assert item.status == "assigned" and item.answer == "" and item.answered_at is None
        item.answer, item.status, item.answered_at = answer, "answered", datetime.now(timezone.utc)  # stored before
        db.session.commit()
    refused = support.form_post(officer, f"/feedback/{item_id}/publish", {"publish-confirm": "y"},
                                token_url=f"/feedback/{item_id}")
    assert refused.status_code == 422
    assert person not in client.get("/public/ganxian/feedback/answers").get_data(as_text=True)
    with app.app_context(), scope(app):
        item = db.session.get(FeedbackItem, item_id)
        assert item.published_at is None and item.status == "answered" and item.assigned_to_id == officer_id
        item.answer = "已核实，服务时间已调整。"  # the officer rewrites it without the name
        db.session.commit()
    assert support.form_post(officer, f"/feedback/{item_id}/publish", {"publish-confirm": "y"},
                             token_url=f"/feedback/{item_id}").status_code == 303
    public = client.get("/public/ganxian/feedback/answers").get_data(as_text=True)
    assert "服务时间已调整" in public and "13977776666" not in public and TEXT not in public
    status = client.get(f"/api/v1/public/ganxian/feedback/{number}").get_json()
    assert status["status"] == "answered" and status["answer"] == "已核实，服务时间已调整。" and "answered_at" in status


def test_publishing_needs_consent_and_readers_cannot_handle(app, world, login):
    item_id, _due, _number = _received(app, datetime.now(timezone.utc), consent=False)
    auditor = login("city-auditor", tenant="ganxian")
    assert auditor.get(f"/feedback/{item_id}").status_code == 200
    assert "13977776666" not in auditor.get(f"/feedback/{item_id}").get_data(as_text=True)
    assert login("a-manager").get("/feedback/").status_code == 403
    officer = login("gx-officer")
    assert officer.get("/feedback/999999").status_code == 404
    from portal.core.errors import DomainError
    from portal.feedback import services
    from portal.feedback.models import FeedbackItem
    with app.app_context(), scope(app):
        item = db.session.get(FeedbackItem, item_id)
        services.answer(item, "已处理。", db.session.get(__import__("portal.accounts.models", fromlist=["User"]).User,
                                                      support.World(app).user_id("gx-officer")), datetime.now(timezone.utc))
        with pytest.raises(DomainError):
            services.publish(item, datetime.now(timezone.utc))
        db.session.rollback()
