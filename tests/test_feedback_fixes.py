"""Fixes to public feedback (issue 20, docs/DOMAIN.md §9 "Public feedback"): an answer naming a
person served or a worker is refused when saved (whoever holds the tracking number reads it), only
active staff who may handle feedback are assigned, the public status labels and the thank-you
page read right in Chinese, and the form page leads to an item's page by its tracking number."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from tests import support
from tests.assessment_world import scope
from tests.test_feedback import _received


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _names(app):
    """(a beneficiary's name, a registered contractor's worker's name) of ganxian."""
    from portal.beneficiaries.models import Beneficiary
    from portal.contractors.models import ContractorRegistration, StaffMember
    with app.app_context(), scope(app):
        person = db.session.scalars(select(Beneficiary.name).order_by(Beneficiary.id)).first()
        worker = db.session.scalars(select(StaffMember.name).join(
            ContractorRegistration, ContractorRegistration.contractor_id == StaffMember.contractor_id)
            .order_by(StaffMember.id)).first()
    assert person and worker
    return person, worker


def test_an_answer_naming_a_person_or_a_worker_is_refused_when_saved_and_nothing_is_stored(app, world):
    from portal.accounts.models import User
    from portal.core.errors import DomainError
    from portal.feedback import services
    from portal.feedback.models import FeedbackItem
    item_id, _due, _number = _received(app, datetime.now(timezone.utc))
    officer_id = support.World(app).user_id("gx-officer")
    for name in _names(app):
        with app.app_context(), scope(app):
            item = db.session.get(FeedbackItem, item_id)
            with pytest.raises(DomainError) as refused:
                services.answer(item, f"已联系{name}，问题已解决。", db.session.get(User, officer_id),
                                datetime.now(timezone.utc))
            assert "answer" in refused.value.errors
            db.session.rollback()
        with app.app_context(), scope(app):
            item = db.session.get(FeedbackItem, item_id)
            assert item.status == "received" and item.answer == "" and item.answered_at is None


def test_only_active_staff_who_may_handle_feedback_are_offered_and_assigned(app, world, login):
    from portal.accounts.models import User
    from portal.core.errors import DomainError
    from portal.feedback import services
    from portal.feedback.models import FeedbackItem
    item_id, _due, _number = _received(app, datetime.now(timezone.utc))
    users = support.World(app)
    finance, inactive = users.user_id("gx-finance"), users.user_id("gx-supervisor2")
    with app.app_context(), scope(app):
        db.session.get(User, inactive).active = False
        db.session.commit()
    with app.app_context(), scope(app):
        offered = dict(services.bureau_users())
        assert users.user_id("gx-officer") in offered and users.user_id("gx-supervisor") in offered
        assert users.user_id("gx-admin") in offered
        assert finance not in offered and inactive not in offered
        for user_id in (finance, inactive):
            with pytest.raises(DomainError):
                services.assign(db.session.get(FeedbackItem, item_id), user_id)
        db.session.rollback()
    officer = login("gx-officer")
    page = officer.get(f"/feedback/{item_id}").get_data(as_text=True)
    assert "赣县区财务审核" not in page and "赣县区采购经办" in page
    refused = support.form_post(officer, f"/feedback/{item_id}/assign", {"assign-user": str(finance)},
                                token_url=f"/feedback/{item_id}")
    assert refused.status_code == 422
    with app.app_context(), scope(app):
        item = db.session.get(FeedbackItem, item_id)
        assert item.assigned_to_id is None and item.status == "received"


def test_public_labels_read_right_in_chinese(app, world, client):
    from portal.accounts.models import User
    from portal.feedback import services
    from portal.feedback.models import FeedbackItem
    form = client.get("/public/ganxian/feedback").get_data(as_text=True)
    assert "不针对具体机构" in form and "不针对具体人员" not in form
    posted = support.form_post(client, "/public/ganxian/feedback", {"topic": "service", "text": "上门时间不固定。"})
    thanks = client.get(posted.headers["Location"]).get_data(as_text=True)
    number = re.search(r'id="tracking-number">(FK[A-Z2-7]{10})</strong>。', thanks).group(1)
    status = client.get(f"/public/ganxian/feedback/{number}").get_data(as_text=True)
    assert "已受理" in status and "接收时间" not in status
    with app.app_context(), scope(app):
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.tracking_number == number))
        officer = db.session.get(User, support.World(app).user_id("gx-officer"))
        services.answer(item, "已调整上门时间。", officer, datetime.now(timezone.utc))
        db.session.commit()
    status = client.get(f"/public/ganxian/feedback/{number}").get_data(as_text=True)
    assert "已答复" in status and "已说明" not in status


def test_the_form_page_looks_an_item_up_by_its_tracking_number(app, world, client):
    _item_id, _due, number = _received(app, datetime.now(timezone.utc))
    form = client.get("/public/ganxian/feedback").get_data(as_text=True)
    assert 'action="/public/ganxian/feedback/lookup"' in form and 'name="number"' in form
    found = client.get(f"/public/ganxian/feedback/lookup?number=%20{number.lower()}%20")
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/public/ganxian/feedback/{number}")
    assert client.get(found.headers["Location"]).status_code == 200
    for query in ("?number=FKAAAAAAAAAA", "?number=", ""):
        unknown = client.get(f"/public/ganxian/feedback/lookup{query}")
        assert unknown.status_code == 404 and "没有该查询编号的意见" in unknown.get_data(as_text=True)
    assert client.get(f"/public/zhanggong/feedback/lookup?number={number}").status_code == 404  # another bureau's
    assert client.get(f"/public/nowhere/feedback/lookup?number={number}").status_code == 404


def test_an_item_answered_after_its_due_day_is_marked_late_on_its_page_and_in_the_list(app, world, login):
    """Due 2 March: answered at 23:30 that day in Beijing (on time), at 00:30 the next day (late,
    though still 2 March in UTC), or not yet (not marked)."""
    from datetime import date, timedelta

    from portal.feedback.models import FeedbackItem
    local = timezone(timedelta(hours=8))
    answered = {"FKLATE000001": datetime(2026, 3, 2, 23, 30, tzinfo=local),
                "FKLATE000002": datetime(2026, 3, 3, 0, 30, tzinfo=local), "FKLATE000003": None}
    ids = {}
    with app.app_context(), scope(app):
        for number, at in answered.items():
            item = FeedbackItem(tracking_number=number, topic="service", text="意见", due_on=date(2026, 3, 2),
                                received_at=datetime(2026, 2, 20, 2, tzinfo=timezone.utc), answered_at=at,
                                status="answered" if at else "received", answer="已处理。" if at else "")
            db.session.add(item)
            db.session.flush()
            ids[number] = item.id
        db.session.commit()
    officer = login("gx-officer")
    for number, late in (("FKLATE000001", False), ("FKLATE000002", True), ("FKLATE000003", False)):
        page = officer.get(f"/feedback/{ids[number]}").get_data(as_text=True)
        assert ('id="answered-late"' in page) is late and ("逾期答复" in page) is late, number
    listing = officer.get("/feedback/?per_page=200").get_data(as_text=True)
    rows = {number: listing.split(f'data-item="{ids[number]}"')[1].split("</tr>")[0] for number in ids}
    assert "逾期答复" in rows["FKLATE000002"]
    assert "逾期答复" not in rows["FKLATE000001"] and "逾期答复" not in rows["FKLATE000003"]
