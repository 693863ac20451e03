"""The public side of the assessment publicity (docs/DOMAIN.md §6, §9): the masked list during the
period and nothing after it, the notice linking to it, objections without an account (throttled,
only during the period, the contact private: neither on a public page nor in the audit values),
the lookup by tracking number, and the bureau's answer that calls for a re-check."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.crypto import mask_name, surname_only
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from tests import support
from tests.assessment_world import scope
from tests.test_assessments_flow import open_round, user

CONTACT = "王先生 13811112222 建设路8号"


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _listed(app, publicity_id):
    from portal.assessments.models import AssessmentPublicity
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        return [(a.id, a.beneficiary.name, a.beneficiary.township, a.beneficiary.address, a.beneficiary.phone)
                for a in round_.assessments]


def _end_period(app, publicity_id):
    from portal.assessments.models import AssessmentPublicity
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        round_.starts_on, round_.ends_on = local_today() - timedelta(days=8), local_today() - timedelta(days=1)
        db.session.commit()


def test_during_the_period_the_list_shows_masked_names_township_and_class_only(app, world, client):
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 2), ("b-worker1", 5)])
    page = client.get(f"/public/ganxian/assessment-publicity/{publicity_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for _id, name, township, address, phone in _listed(app, publicity_id):
        assert surname_only(name) in html and township in html
        assert len(name) < 3 or mask_name(name) not in html  # the surname and one star, no more
        assert name not in html and address not in html and phone not in html
    assert "私密备注" not in html  # the notes never leave the bureau
    assert f"/public/ganxian/assessment-publicity/{publicity_id}/objection" in html
    with app.app_context(), scope(app):
        from portal.assessments.models import AssessmentPublicity
        notice_id = db.session.get(AssessmentPublicity, publicity_id).disclosure_id
    notice = client.get(f"/public/ganxian/notices/{notice_id}").get_data(as_text=True)
    assert f"/public/ganxian/assessment-publicity/{publicity_id}" in notice


def test_after_the_period_the_page_says_it_ended_and_lists_nobody(app, world, client):
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 4)])
    _end_period(app, publicity_id)
    html = client.get(f"/public/ganxian/assessment-publicity/{publicity_id}").get_data(as_text=True)
    assert 'id="publicity-ended"' in html and 'id="publicity-list"' not in html
    for _id, name, township, _a, _p in _listed(app, publicity_id):
        assert surname_only(name) not in html
    form = client.get(f"/public/ganxian/assessment-publicity/{publicity_id}/objection").get_data(as_text=True)
    assert 'id="objections-closed"' in form


def test_another_bureau_or_no_round_is_not_found(app, world, client):
    publicity_id = open_round(app, [("b-worker1", 0)])
    assert client.get(f"/public/zhanggong/assessment-publicity/{publicity_id}").status_code == 404
    assert client.get("/public/ganxian/assessment-publicity/999999").status_code == 404


def test_an_objection_gets_a_tracking_number_and_its_contact_stays_private(app, world, client, login):
    from portal.assessments.models import AssessmentObjection
    from portal.audit.models import AuditEntry
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 3)])
    row = _listed(app, publicity_id)[1][0]
    url = f"/public/ganxian/assessment-publicity/{publicity_id}/objection"
    posted = support.form_post(client, url, {"assessment": str(row), "text": "这位老人其实生活不能自理。",
                                             "contact": CONTACT})
    assert posted.status_code == 303  # post/redirect/get: a reload does not post it again
    response = client.get(posted.headers["Location"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    number = re.search(r'id="tracking-number">([^<]+)<', html).group(1)
    assert number not in posted.headers["Location"]  # never in a URL others could read
    assert CONTACT not in html and response.headers["Cache-Control"] == "private, no-store"
    status = client.get("/public/ganxian/objections", query_string={"number": number}).get_data(as_text=True)
    assert number in status and CONTACT not in status and "13811112222" not in status
    assert client.get("/public/ganxian/objections", query_string={"number": "YY-NOPE"}).status_code == 404
    with app.app_context(), scope(app):
        objection = db.session.scalar(select(AssessmentObjection).where(AssessmentObjection.tracking_number == number))
        assert objection.contact == CONTACT and objection.assessment_id == row and objection.recorded_by_id is None
        for entry in db.session.scalars(select(AuditEntry)):
            assert "13811112222" not in repr(entry.before) + repr(entry.after)
        objection_id = objection.id
    # the bureau sees the contact, answers it (upheld), and a re-check of that assessment follows
    officer = login("gx-supervisor")
    page = officer.get(f"/assessments/objections/{objection_id}").get_data(as_text=True)
    assert CONTACT in page
    answered = support.form_post(officer, f"/assessments/objections/{objection_id}",
                                 {"decision": "upheld", "answer": "将安排复检。"})
    assert answered.status_code == 302
    with app.app_context(), scope(app):
        from portal.assessments.models import AssessmentRecheck
        recheck = db.session.scalar(select(AssessmentRecheck).where(AssessmentRecheck.assessment_id == row))
        assert recheck is not None and recheck.reason == "objection"
    status = client.get("/public/ganxian/objections", query_string={"number": number}).get_data(as_text=True)
    assert "将安排复检。" in status and CONTACT not in status


def test_an_objection_is_refused_outside_the_period_and_needs_text(app, world, client):
    from portal.assessments import objections
    from portal.assessments.models import AssessmentPublicity
    from portal.core.errors import DomainError
    publicity_id = open_round(app, [("b-worker1", 0)])
    url = f"/public/ganxian/assessment-publicity/{publicity_id}/objection"
    assert support.form_post(client, url, {"text": "  "}).status_code == 422
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        with pytest.raises(DomainError, match=round_.ends_on.isoformat()):
            objections.submit_objection(round_, "迟到的异议", utcnow() + timedelta(days=8))
        with pytest.raises(DomainError):  # not a row of this list
            objections.submit_objection(round_, "异议", utcnow(), assessment_id=10**6)


def test_public_objections_are_throttled_per_address(app, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_POST_LIMIT", "2 per hour")
    publicity_id = open_round(app, [("b-worker1", 0)])
    url = f"/public/ganxian/assessment-publicity/{publicity_id}/objection"
    statuses = [support.form_post(client, url, {"text": f"异议 {n}"}).status_code for n in range(3)]
    assert statuses == [303, 303, 429]


def test_the_bureau_records_an_objection_taken_by_phone(app, world, login):
    from portal.assessments.models import AssessmentObjection
    publicity_id = open_round(app, [("b-worker1", 0)])
    officer = login("gx-officer")
    response = support.form_post(officer, f"/assessments/rounds/{publicity_id}/objections/new",
                                 {"assessment": "", "text": "电话反映：名单有误。", "contact": "电话 13900001111"})
    assert response.status_code == 302
    with app.app_context(), scope(app):
        objection = db.session.scalar(select(AssessmentObjection).where(AssessmentObjection.publicity_id == publicity_id))
        assert objection.recorded_by_id == user("gx-officer").id and objection.tracking_number


def test_an_objection_naming_no_row_of_the_list_is_refused_not_saved_as_about_nobody(app, world, client, login):
    from portal.assessments.models import AssessmentObjection
    publicity_id = open_round(app, [("b-worker1", 0)])
    other_round = open_round(app, [("b-worker1", 2)])
    elsewhere = _listed(app, other_round)[0][0]
    url = f"/public/ganxian/assessment-publicity/{publicity_id}/objection"
    for bad in ("abc", str(elsewhere), "99999999999999", "-1"):
        refused = support.form_post(client, url, {"assessment": bad, "text": "名单有误"})
        assert refused.status_code == 422, bad
        assert "field-error" in refused.get_data(as_text=True)
    officer = login("gx-officer")
    refused = support.form_post(officer, f"/assessments/rounds/{publicity_id}/objections/new",
                                {"assessment": "abc", "text": "电话反映"})
    assert refused.status_code == 422
    with app.app_context(), scope(app):
        assert db.session.scalar(select(db.func.count(AssessmentObjection.id)).where(
            AssessmentObjection.publicity_id == publicity_id)) == 0


def test_the_received_page_shows_the_number_to_its_objector_only_and_a_reload_posts_nothing(app, world, client):
    from portal.assessments.models import AssessmentObjection
    publicity_id = open_round(app, [("b-worker1", 0)])
    url = f"/public/ganxian/assessment-publicity/{publicity_id}/objection"
    posted = support.form_post(client, url, {"text": "名单有误"})
    received = posted.headers["Location"]
    first = client.get(received).get_data(as_text=True)
    again = client.get(received).get_data(as_text=True)  # a reload shows the same number, posts nothing
    number = re.search(r'id="tracking-number">([^<]+)<', first).group(1)
    assert number in again
    with app.app_context(), scope(app):
        assert db.session.scalar(select(db.func.count(AssessmentObjection.id)).where(
            AssessmentObjection.publicity_id == publicity_id)) == 1
    assert number not in re.sub(r'id="tracking-number">[^<]+<', "", first)  # nowhere else, no link carries it
    stranger = app.test_client()  # another browser at the same address: no number, the form instead
    response = stranger.get(received)
    assert response.status_code == 302 and response.headers["Location"].endswith("/objection")
    # the next person at a shared computer, a quarter of an hour later, does not find it either
    from portal.public.assessment_views import RECEIVED_KEY, RECEIVED_SECONDS
    with client.session_transaction() as saved:
        saved[RECEIVED_KEY] = {**saved[RECEIVED_KEY], "at": saved[RECEIVED_KEY]["at"] - RECEIVED_SECONDS - 1}
    later = client.get(received)
    assert later.status_code == 302 and number not in later.get_data(as_text=True)


def test_the_public_page_words_the_period_and_the_last_day_to_object(app, world, client):
    publicity_id = open_round(app, [("b-worker1", 0)])
    html = client.get(f"/public/ganxian/assessment-publicity/{publicity_id}",
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "公示期" in html and "履行期限" not in html
    assert "截至" in html and "含当日" in html and " 前提出异议" not in html
