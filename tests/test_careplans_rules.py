"""The rules of a care plan (docs/DOMAIN.md §6 "Care plans", careplans/plans.py): the class minimum
at its boundary, at least one visit in person, no plan without a final class or a needs assessment,
the months a version may start in, a reason for every version after the first, one version in the
works at a time; submission, approval (earlier version superseded) and return, each step once
(a second click is a 409 told in words); the needs assessment's own rules."""
import html as htmllib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.core.months import month_text, next_month
from portal.extensions import db
from tests import support
from tests.careplan_world import (CLASSES, LAST_MONTH, MINIMUM, NOTES, SCORES, THIS_MONTH, UNCLASSED, approved,
                                  careplan_world, draft, last_month_plan, scope)


@pytest.fixture
def world(app, demo):
    return careplan_world(app)


def _text(response):
    """The page's text with HTML entities read (an apostrophe is &#39; in the page)."""
    return htmllib.unescape(response.get_data(as_text=True))


def _form(services, in_person="1", month=None, reason=""):
    data = {f"service_{code}": str(times) for code, times in services.items()}
    data.update({"in_person_per_month": in_person, "effective_from": month or month_text(THIS_MONTH),
                 "reason": reason})
    return data


def _plans(app, person_id):
    from portal.careplans.models import CarePlan
    with app.app_context(), scope(app):
        return [(p.version, p.status, p.planned_total, p.in_person_per_month)
                for p in db.session.scalars(select(CarePlan).where(CarePlan.beneficiary_id == person_id)
                                            .order_by(CarePlan.version))]


@pytest.mark.parametrize("name", list(CLASSES))
def test_the_class_minimum_refuses_one_below_and_accepts_exactly_it(app, world, login, name):
    person = world["people"][name]
    minimum = MINIMUM[CLASSES[name]]
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    url = f"/care-plans/people/{person}/plans/new"
    below = support.form_post(manager, url, _form({"daily_watch": minimum - 2, "counselling": 1}))
    assert below.status_code == 422
    html = below.get_data(as_text=True)
    assert f"The plan has {minimum - 1} services a month" in html and f"at least {minimum} a month" in html
    assert _plans(app, person) == []
    at_minimum = support.form_post(manager, url, _form({"daily_watch": minimum - 1, "counselling": 1}))
    assert at_minimum.status_code == 302
    assert _plans(app, person) == [(1, "draft", minimum, 1)]


def test_no_visit_in_person_is_refused_with_the_numbers(app, world, login):
    person = world["people"]["陈德福"]
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    response = support.form_post(manager, f"/care-plans/people/{person}/plans/new",
                                 _form({"daily_watch": 5}, in_person="0"))
    assert response.status_code == 422
    assert "At least one visit in person" in response.get_data(as_text=True)
    assert "the plan has 0" in response.get_data(as_text=True)
    assert _plans(app, person) == []


def test_the_refusals_are_in_chinese_by_default(app, world, login):
    person = world["people"]["陈德福"]
    manager = login("a-manager", tenant="ganxian")
    html = support.form_post(manager, f"/care-plans/people/{person}/plans/new",
                             _form({"daily_watch": 1}, in_person="0")).get_data(as_text=True)
    assert "探视巡访" in html and "至少" in html


def test_a_person_without_a_final_class_gets_no_plan(app, world, login):
    from portal.beneficiaries.models import Beneficiary
    from portal.careplans import plans
    from portal.core.errors import DomainError
    from portal.core.timeutil import utcnow
    from tests.careplan_world import _user, record_needs
    person = world["people"][UNCLASSED]
    record_needs(app, person, world["a_contract"], THIS_MONTH)
    with app.app_context(), scope(app):
        with pytest.raises(DomainError) as refused:
            plans.draft(db.session.get(Beneficiary, person), _user("a-manager"), utcnow(),
                        services={"daily_watch": 30}, in_person=2, effective_from=THIS_MONTH, reason="")
        assert "care_class" in refused.value.errors
    manager = login("a-manager", tenant="ganxian")
    html = support.form_post(manager, f"/care-plans/people/{person}/plans/new",
                             _form({"daily_watch": 30}, in_person="2")).get_data(as_text=True)
    assert "自理能力评估" in html and "最终" in html  # the self-care class is not final yet, in Chinese
    assert _plans(app, person) == []


def test_without_a_final_class_the_draft_button_is_not_offered_and_the_form_says_why(app, world, login):
    person = world["people"][UNCLASSED]
    manager = login("a-manager", tenant="ganxian")
    page = _text(manager.get(f"/care-plans/people/{person}"))
    assert 'id="draft-plan"' not in page and 'id="record-needs"' in page
    assert 'id="no-class"' in page and "该对象尚无最终的自理能力评估等级" in page
    form = manager.get(f"/care-plans/people/{person}/plans/new")
    html = _text(form)
    assert form.status_code == 200 and 'id="no-class"' in html and "该对象尚无最终的自理能力评估等级" in html
    assert 'id="plan-form"' not in html and 'id="minimum"' not in html and "<dt>每月最低服务次数</dt>" not in html
    classed = _text(manager.get(f"/care-plans/people/{world['people']['陈德福']}"))
    assert 'id="draft-plan"' in classed and 'id="no-class"' not in classed


def test_a_plan_needs_the_contractors_needs_assessment_first(app, world):
    from portal.careplans.models import NeedsAssessment
    from portal.core.errors import DomainError
    person = world["people"]["刘桂英"]
    with app.app_context(), scope(app):
        for row in db.session.scalars(select(NeedsAssessment)).all():
            db.session.delete(row)
        db.session.commit()
    with pytest.raises(DomainError, match="needs assessment"):
        with app.test_request_context(headers={"Cookie": "lang=en"}):
            draft(app, person, {"daily_watch": 12})


@pytest.mark.parametrize("month,expected", [
    (lambda: LAST_MONTH, f"The plan starts in a month from the current month ({month_text(THIS_MONTH)}) to "),
    (lambda: next_month(THIS_MONTH), None),
])
def test_a_version_starts_in_the_current_month_or_later(app, world, login, month, expected):
    person = world["people"]["陈德福"]
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    response = support.form_post(manager, f"/care-plans/people/{person}/plans/new",
                                 _form({"daily_watch": 3}, month=month_text(month())))
    if expected:
        assert response.status_code == 422 and expected in response.get_data(as_text=True)
    else:
        assert response.status_code == 302


def test_a_bad_month_or_number_is_a_form_message_not_a_500(app, world, login):
    person = world["people"]["陈德福"]
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    for data in (_form({"daily_watch": 3}, month="2026-13"), _form({"daily_watch": "x"}),
                 _form({"daily_watch": "-1"}), _form({"daily_watch": 3}, in_person="１"),
                 _form({"daily_watch": 99999999}), {"in_person_per_month": "", "effective_from": ""}):
        response = support.form_post(manager, f"/care-plans/people/{person}/plans/new", data)
        assert response.status_code == 422, data
    assert _plans(app, person) == []


def test_a_month_out_of_range_a_huge_count_and_an_empty_assessment_are_worded_in_full(app, world, login):
    person = world["people"]["陈德福"]
    manager = login("a-manager", tenant="ganxian")
    url = f"/care-plans/people/{person}/plans/new"
    far = _text(support.form_post(manager, url, _form({"daily_watch": 3}, month="9999-12")))
    assert f"方案生效月份须在本月（{month_text(THIS_MONTH)}）至 " in far and "照料服务合同于 " in far
    assert "请填写方案生效月份" not in far
    huge = _text(support.form_post(manager, url, _form({"daily_watch": 3}, in_person="99999999")))
    assert "每月探视巡访次数请填写 1 至 31 之间的整数。" in huge and "本方案为 — 次" not in huge and "—" not in \
        huge.split('id="plan-form"')[1]
    assert _plans(app, person) == []
    empty = support.form_post(manager, f"/care-plans/people/{person}/needs", {})
    html = _text(empty)
    assert empty.status_code == 422 and 'id="needs-refused"' in html
    summary = html.split('id="needs-refused"')[1].split("</p>")[0]
    for words in ("照料服务合同", "健康维护的评分", "健康维护的评分依据", "居家安全的评分", "能力提升的评分依据"):
        assert words in summary, words
    assert html.count("请选择 1 至 5 分的评分。") == 4 and html.count("请写明评分依据") + html.count("field-error") >= 9


# --- versions: reasons, months, one in the works ------------------------------------------------

def test_every_version_after_the_first_needs_a_reason_and_cannot_start_before_the_approved_one(app, world, login):
    person = world["people"]["刘桂英"]
    last_month_plan(app, person, {"daily_watch": 8, "counselling": 4})
    upcoming = next_month(THIS_MONTH)
    approved(app, person, {"daily_watch": 10, "counselling": 4}, month=upcoming, reason="病情加重")
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    url = f"/care-plans/people/{person}/plans/new"
    no_reason = support.form_post(manager, url, _form({"daily_watch": 12, "counselling": 4},
                                                      month=month_text(upcoming)))
    assert no_reason.status_code == 422 and "a reason is required for every version after the first" in \
        no_reason.get_data(as_text=True)
    too_early = support.form_post(manager, url, _form({"daily_watch": 12, "counselling": 4}, reason="调整"))
    assert too_early.status_code == 422
    assert f"latest approved version ({month_text(upcoming)})" in too_early.get_data(as_text=True)
    ok = support.form_post(manager, url, _form({"daily_watch": 12, "counselling": 4}, month=month_text(upcoming),
                                               reason="家属要求增加看护"))
    assert ok.status_code == 302
    assert [v[:2] for v in _plans(app, person)] == [(1, "superseded"), (2, "approved"), (3, "draft")]
    # one version in the works at a time
    again = support.form_post(manager, url, _form({"daily_watch": 12, "counselling": 4}, month=month_text(upcoming),
                                                  reason="再次调整"))
    assert again.status_code == 409 and "Version 3 of this person's plan is still" in _text(again)
    assert len(_plans(app, person)) == 3


def test_the_manager_changes_its_draft_then_submits_it_once(app, world, login):
    person = world["people"]["陈德福"]
    plan = draft(app, person, {"daily_watch": 3})
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    edit = support.form_post(manager, f"/care-plans/{plan}/edit", _form({"daily_watch": 4, "counselling": 1},
                                                                       in_person="2"))
    assert edit.status_code == 302
    assert _plans(app, person) == [(1, "draft", 5, 2)]
    page = manager.get(f"/care-plans/{plan}/submit")
    assert page.status_code == 200 and "The plan goes to the bureau" in page.get_data(as_text=True)
    token = support.csrf_token_from(page.get_data(as_text=True))
    assert manager.post(f"/care-plans/{plan}/submit", data={"csrf_token": token}).status_code == 302
    second = manager.post(f"/care-plans/{plan}/submit", data={"csrf_token": token})
    assert second.status_code == 409 and _text(second).count("This version has already been submitted.") == 1
    assert _plans(app, person) == [(1, "submitted", 5, 2)]
    # a submitted version cannot be changed any more: back to its page, told why
    for method, data in (("GET", None), ("POST", {"csrf_token": token, **_form({"daily_watch": 9})})):
        edit = manager.open(f"/care-plans/{plan}/edit", method=method, data=data)
        assert edit.status_code == 302 and edit.headers["Location"].endswith(f"/care-plans/{plan}")
        shown = _text(manager.get(f"/care-plans/{plan}"))
        assert shown.count("Only a draft can be changed; this version is “Awaiting the bureau's approval”.") == 1
    assert _plans(app, person) == [(1, "submitted", 5, 2)]


def _submitted(app, person, services, **kwargs):
    from portal.careplans import plans
    from portal.careplans.models import CarePlan
    from portal.core.timeutil import utcnow
    from tests.careplan_world import _user
    plan_id = draft(app, person, services, **kwargs)
    with app.app_context(), scope(app):
        plans.submit(db.session.get(CarePlan, plan_id), _user("a-manager"), utcnow())
        db.session.commit()
    return plan_id


def test_approval_says_what_will_happen_supersedes_the_old_version_and_is_audited(app, world, login):
    person = world["people"]["黄秀兰"]
    old = last_month_plan(app, person, {"daily_watch": 10, "personal_care": 8})
    new = _submitted(app, person, {"daily_watch": 12, "personal_care": 8}, reason="增加日常看护")
    officer = login("gx-officer")
    officer.set_cookie("lang", "en")
    queue = officer.get("/care-plans/review").get_data(as_text=True)
    assert f'id="plan-{new}"' in queue and "增加日常看护" in queue
    page = officer.get(f"/care-plans/{new}/approve").get_data(as_text=True)
    assert f"in force from {month_text(THIS_MONTH)}, replacing version 1" in page
    assert "version 1 keeps governing the months before" in page
    token = support.csrf_token_from(page)
    done = officer.post(f"/care-plans/{new}/approve", data={"csrf_token": token, "note": "同意"})
    assert done.status_code == 302
    twice = officer.post(f"/care-plans/{new}/approve", data={"csrf_token": token, "note": "同意"})
    assert twice.status_code == 409 and "already been approved" in twice.get_data(as_text=True)
    assert [v[:2] for v in _plans(app, person)] == [(1, "superseded"), (2, "approved")]
    with app.app_context(), scope(app):
        events = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "care_plan_approved",
                                                             AuditEntry.object_id == str(new))).all()
        assert len(events) == 1 and events[0].actor == "gx-officer"
        assert events[0].after["superseded"] == [1]
        assert old != new


def test_return_needs_a_reason_and_the_contractor_then_drafts_anew(app, world, login):
    person = world["people"]["陈德福"]
    plan = _submitted(app, person, {"daily_watch": 3})
    supervisor = login("gx-supervisor")
    supervisor.set_cookie("lang", "en")
    page = supervisor.get(f"/care-plans/{plan}/return").get_data(as_text=True)
    assert "returned to the contractor with your reason" in page
    empty = support.form_post(supervisor, f"/care-plans/{plan}/return", {"reason": "  "})
    assert empty.status_code == 422
    assert support.form_post(supervisor, f"/care-plans/{plan}/return", {"reason": "服务频次过低"}).status_code == 302
    assert _plans(app, person) == [(1, "returned", 3, 1)]
    manager = login("a-manager", tenant="ganxian")
    person_page = _text(manager.get(f"/care-plans/people/{person}"))
    governs = person_page.split('id="version-1"')[1].split("</tr>")[0]
    assert "已退回，未生效：服务频次过低" in governs and "批准后" not in governs
    detail = _text(manager.get(f"/care-plans/{plan}"))
    assert "已退回，未生效" in detail.split('id="plan-months"')[1].split("</dd>")[0]
    for url in (f"/assessments/people/{person}", f"/assessments/people/{person}/print"):
        in_file = _text(login("gx-supervisor").get(url)).split('id="file-plan-1"')[1].split("</tr>")[0]
        assert "已退回，未生效：服务频次过低" in in_file and "批准后" not in in_file, url
    assert support.form_post(manager, f"/care-plans/people/{person}/plans/new",
                             _form({"daily_watch": 6}, reason="按退回意见增加")).status_code == 302
    assert [v[:2] for v in _plans(app, person)] == [(1, "returned"), (2, "draft")]


def test_approval_checks_the_rules_again(app, world, login):
    """The bureau raised the minimum after the draft: approving is refused in words; return is open."""
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    person = world["people"]["陈德福"]
    plan = _submitted(app, person, {"daily_watch": 3})
    with app.app_context(), scope(app):
        change_settings(db.session.get(Tenant, support.World(app).tenant_id("ganxian")),
                        {"min_services_per_month": {**MINIMUM, "self_care": 4}})
        db.session.commit()
    supervisor = login("gx-supervisor")
    supervisor.set_cookie("lang", "en")
    response = support.form_post(supervisor, f"/care-plans/{plan}/approve", {"note": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The plan has 3 services a month" in html and "at least 4 a month" in html
    assert "Return it to the contractor" in html
    assert _plans(app, person) == [(1, "submitted", 3, 1)]


@pytest.mark.parametrize("username,path,status", [
    ("gx-finance", "approve", 403), ("a-manager", "approve", 403), ("gx-auditor", "return", 403),
    ("gx-officer", "submit", 403), ("b-manager", "submit", 404), ("zg-officer", "approve", 404),
])
def test_only_the_right_people_take_each_step(app, world, login, username, path, status):
    plan = _submitted(app, world["people"]["陈德福"], {"daily_watch": 3})
    client = login(username, tenant="ganxian" if username.startswith("b-") else None)
    assert client.get(f"/care-plans/{plan}/{path}").status_code == status
    assert client.post(f"/care-plans/{plan}/{path}", data={}).status_code in (status, 400)
    assert _plans(app, world["people"]["陈德福"])[0][1] == "submitted"


# --- the needs assessment ----------------------------------------------------------------------

def _needs_form(contract, day, **changes):
    data = {"contract": str(contract), "assessed_on": day.isoformat()}
    for dimension, score in SCORES.items():
        data[f"score_{dimension}"] = str(score)
        data[f"note_{dimension}"] = NOTES[dimension]
    data.update(changes)
    return data


def test_the_manager_records_a_needs_assessment_with_a_score_and_note_per_dimension(app, world, login):
    from portal.careplans.models import NeedsAssessment
    from portal.core.timeutil import local_today
    person = world["people"][UNCLASSED]
    manager = login("a-manager", tenant="ganxian")
    manager.set_cookie("lang", "en")
    url = f"/care-plans/people/{person}/needs"
    page = manager.get(url).get_data(as_text=True)
    assert "Health maintenance" in page and "Capability building" in page
    bad = support.form_post(manager, url, _needs_form(world["a_contract"], local_today(), score_health="7",
                                                      note_emotional=""))
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Choose a score from 1 to 5." in html and "Write what the score rests on." in html
    future = support.form_post(manager, url, _needs_form(world["a_contract"], local_today() + timedelta(days=1)))
    assert future.status_code == 422 and "cannot be in the future" in future.get_data(as_text=True)
    other = support.form_post(manager, url, _needs_form(world["b_contract"], local_today()))
    assert other.status_code in (404, 422)
    ok = support.form_post(manager, url, _needs_form(world["a_contract"], local_today()))
    assert ok.status_code == 302
    with app.app_context(), scope(app):
        rows = db.session.scalars(select(NeedsAssessment).where(NeedsAssessment.beneficiary_id == person)).all()
        assert [(r.scores, r.notes, r.contract_id) for r in rows] == [(SCORES, NOTES, world["a_contract"])]
    assert "独居，情绪低落" in manager.get(f"/care-plans/people/{person}").get_data(as_text=True)


def test_someone_not_serving_the_person_cannot_assess_or_plan(app, world, login):
    person = world["people"]["钟长生"]  # on B's assessment contract only
    manager = login("a-manager", tenant="ganxian")
    assert manager.get(f"/care-plans/people/{person}").status_code == 404
    assert manager.get(f"/care-plans/people/{person}/needs").status_code == 404
    b_manager = login("b-manager", tenant="ganxian")
    assert b_manager.get(f"/care-plans/people/{world['people']['刘桂英']}").status_code == 404
    worker = login("a-worker1", tenant="ganxian")
    assert worker.get(f"/care-plans/people/{world['people']['刘桂英']}/needs").status_code == 403
    assert login("gx-officer").get(f"/care-plans/people/{person}/needs").status_code == 403
    with app.app_context(), scope(app):
        from portal.careplans.models import NeedsAssessment
        assert db.session.scalar(select(func.count()).select_from(NeedsAssessment)
                                 .where(NeedsAssessment.beneficiary_id == person)) == 0


def test_a_draft_of_a_contract_the_person_has_left_is_never_approved_nor_blocks_anyone(app, world):
    """The person leaves the care contract while its draft waits: submitting it is refused, and
    the next look for a version in the works returns it on its own, so it blocks nobody."""
    from portal.beneficiaries.models import Beneficiary
    from portal.careplans import plans
    from portal.careplans.models import CarePlan
    from portal.contracts.models import Assignment
    from portal.core.errors import DomainError
    from portal.core.timeutil import local_today, utcnow
    from tests.careplan_world import _user
    name = next(iter(CLASSES))
    person = world["people"][name]
    plan_id = draft(app, person, {"daily_watch": MINIMUM[CLASSES[name]]})
    yesterday = local_today() - timedelta(days=1)
    with app.app_context(), scope(app):
        for row in db.session.scalars(select(Assignment).where(Assignment.beneficiary_id == person,
                                                               Assignment.contract_id == world["a_contract"])):
            row.from_on, row.until_on = min(row.from_on, yesterday), yesterday
        db.session.commit()
    with app.app_context(), scope(app):
        plan = db.session.get(CarePlan, plan_id)
        with pytest.raises(DomainError) as refused:
            plans.submit(plan, _user("a-manager"), utcnow())
        assert refused.value.errors == {"plan": [refused.value.message]} and refused.value.message.startswith("该对象已不再分配")
        db.session.rollback()
    with app.app_context(), scope(app):
        assert plans._open_version(db.session.get(Beneficiary, person), local_today()) is None
        db.session.commit()
        assert db.session.get(CarePlan, plan_id).status == "returned"
