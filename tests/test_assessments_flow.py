"""The assessment flow after submission (docs/DOMAIN.md §6): a publicity round and its notice, the
re-check sample (rate, at least one per assessor, reproducible from the stored seed), a re-check by
another assessor with its discrepancy, finalising (refused with what is missing, then final
classes), the bureau's pages, and the demo world holding all of it."""
import uuid
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from tests import support
from tests.assessment_world import indicators, scope

TOWNSHIPS_SHOWN = ("梅林镇", "王母渡镇", "储潭镇")


def at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def submitted(app, specs):
    """Insert submitted assessments on B's ADL-ASSESS contract: ``specs`` is [(assessor username,
    not met)], each for another ganxian person. Returns (contract id, [assessment ids])."""
    from portal.accounts.models import User
    from portal.assessments.models import Assessment, care_class
    from portal.beneficiaries.demo import demo_contract
    from portal.beneficiaries.models import Beneficiary
    with app.app_context(), scope(app):
        contract = demo_contract("B", "ADL-ASSESS")
        people = db.session.scalars(select(Beneficiary).order_by(Beneficiary.id.desc())).all()
        ids = []
        for (username, not_met), person in zip(specs, people):
            user = db.session.scalar(select(User).where(User.username == username))
            assessment = Assessment(
                client_id=str(uuid.uuid4()), body_hash="0" * 64, contract_id=contract.id,
                contractor_id=contract.contractor_id, beneficiary_id=person.id, assessor_user_id=user.id,
                assessed_at=utcnow() - timedelta(days=1), lat=person.lat, lon=person.lon,
                indicators=indicators(not_met), not_met=not_met, care_class=care_class(not_met),
                notes="私密备注", status="submitted")
            db.session.add(assessment)
            db.session.flush()
            ids.append(assessment.id)
        db.session.commit()
        return contract.id, ids


def user(username):
    from portal.accounts.models import User
    return db.session.scalar(select(User).where(User.username == username))


def open_round(app, specs, now=None):
    """A round opened at ``now`` (default: now) for new submitted assessments; its id."""
    from portal.assessments.publicity import open_publicity
    from portal.contracts.models import Contract
    contract_id, ids = submitted(app, specs)
    with app.app_context(), scope(app):
        from portal.assessments.models import Assessment
        contract = db.session.get(Contract, contract_id)
        rows = db.session.scalars(select(Assessment).where(Assessment.id.in_(ids))).all()
        round_ = open_publicity(contract, rows, user("gx-officer"), now or utcnow())
        db.session.commit()
        return round_.id


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def test_a_round_lasts_the_publicity_days_and_its_notice_names_nobody(app, world):
    from portal.assessments.models import Assessment, AssessmentPublicity
    from portal.beneficiaries.models import Beneficiary
    from portal.disclosures import Disclosure
    now = utcnow()
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 2), ("b-worker1", 5)], now)
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        assert round_.starts_on == local_today(now)
        assert (round_.ends_on - round_.starts_on).days == 7 - 1
        assert {a.status for a in round_.assessments} == {"publicity"}
        notice = db.session.get(Disclosure, round_.disclosure_id)
        assert notice.kind == "assessment_publicity" and notice.due_on == round_.starts_on
        assert notice.data["assessment_publicity_id"] == round_.id
        assert round_.ends_on.isoformat() in notice.body and f"/assessment-publicity/{round_.id}" in notice.body
        assert ": 1" in notice.body  # one person per class
        for person in db.session.scalars(select(Beneficiary)):
            assert person.name not in notice.body and person.address not in notice.body
        # a second round of the same (no longer submitted) assessments is refused
        from portal.assessments.publicity import open_publicity
        with pytest.raises(DomainError):
            open_publicity(round_.contract, list(round_.assessments), user("gx-officer"), now)
        assert db.session.scalar(select(Assessment).where(Assessment.notes == "私密备注")).notes not in notice.body


def test_an_assessment_another_officer_published_meanwhile_is_not_published_again(app, world):
    """Two officers open rounds from the same page: the second one's rows, read before the first
    committed, still say "submitted"; open_publicity reads them afresh (locked) and refuses."""
    from portal.assessments.models import Assessment, AssessmentPublicity
    from portal.assessments.publicity import open_publicity
    from portal.contracts.models import Contract
    contract_id, ids = submitted(app, [("b-worker1", 1), ("b-worker1", 4)])
    with app.app_context(), scope(app):
        stale = db.session.scalars(select(Assessment).where(Assessment.id.in_(ids))).all()
        assert {a.status for a in stale} == {"submitted"}
        db.session.execute(Assessment.__table__.update().where(Assessment.id == ids[0]).values(status="publicity"))
        before = db.session.scalar(select(db.func.count(AssessmentPublicity.id)))
        with pytest.raises(DomainError):
            open_publicity(db.session.get(Contract, contract_id), stale, user("gx-officer"), utcnow())
        assert db.session.scalar(select(db.func.count(AssessmentPublicity.id))) == before


def test_the_period_follows_the_tenant_setting(app, world):
    from portal.assessments.models import AssessmentPublicity
    from portal.tenancy.models import Tenant
    with support.as_platform(app):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == "ganxian"))
        tenant.settings = {**(tenant.settings or {}), "assessment_publicity_days": 10}
        db.session.commit()
    publicity_id = open_round(app, [("b-worker1", 1)])
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        assert (round_.ends_on - round_.starts_on).days == 9


def test_the_sample_has_one_per_assessor_and_the_seed_redraws_it(app, world):
    from portal.assessments import rechecks
    from portal.assessments.models import AssessmentPublicity
    specs = [("b-worker1", n % 7) for n in range(12)] + [("a-worker1", 1), ("a-worker1", 4)]
    opened = utcnow() - timedelta(days=10)
    publicity_id = open_round(app, specs, opened)
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        with pytest.raises(DomainError, match=round_.ends_on.isoformat()):  # not before the period ended
            rechecks.draw_sample(round_, user("gx-supervisor"), opened + timedelta(days=1))
        chosen = rechecks.draw_sample(round_, user("gx-supervisor"), utcnow(), seed="fixed-seed")
        db.session.commit()
        assessors = {a.id: a.assessor_user_id for a in round_.assessments}
        assert {assessors[i] for i in chosen} == set(assessors.values())  # at least one per assessor
        assert len(chosen) == max(-(-14 * 100 // 1000), 2) == 2
        assert round_.rate_permille == 100 and round_.seed == "fixed-seed"
        assert {a.status for a in round_.assessments} == {"rechecking"}
        again = rechecks.redraw_sample(round_)
        assert again["assessment_ids"] == sorted(chosen) and again["matches"]
        assert rechecks.draw_sample(round_, user("gx-supervisor"), utcnow()) == sorted(chosen)  # drawn once
        from portal.spotchecks.services import choose
        other = choose(rechecks.sample_population(round_), "another-seed", 1000)
        assert len(other) == 14  # the rate decides the size: all at 100 %


def test_a_recheck_by_the_same_assessor_is_refused_and_a_different_class_is_a_discrepancy(app, world):
    from portal.assessments import rechecks
    from portal.assessments.models import AssessmentPublicity
    publicity_id = open_round(app, [("b-worker1", 0)], utcnow() - timedelta(days=10))
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        rechecks.draw_sample(round_, user("gx-supervisor"), utcnow())
        recheck = round_.assessments[0].recheck
        with pytest.raises(DomainError) as refused:
            rechecks.record_recheck(recheck, indicators(0), user("b-worker1"), "", user("gx-supervisor"), utcnow())
        same_assessor = refused.value.errors["assessor"]
        with pytest.raises(DomainError) as refused:  # A holds no assessment contract
            rechecks.record_recheck(recheck, indicators(0), user("a-worker1"), "", user("gx-supervisor"), utcnow())
        assert refused.value.errors["assessor"] != same_assessor  # another reason: not an assessor
        with pytest.raises(DomainError):
            rechecks.record_recheck(recheck, {"eating": True}, user("gx-supervisor"), "", user("gx-supervisor"), utcnow())
        assert recheck.rechecked_at is None
        rechecks.record_recheck(recheck, indicators(4), user("gx-supervisor"), "复检", user("gx-supervisor"), utcnow())
        assert recheck.care_class == "complete" and recheck.discrepancy


def test_the_recheck_form_refuses_the_original_assessor_and_records_another(app, world, login):
    from portal.assessments import rechecks
    from portal.assessments.models import AssessmentPublicity, AssessmentRecheck
    publicity_id = open_round(app, [("b-worker1", 2)], utcnow() - timedelta(days=10))
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        rechecks.draw_sample(round_, user("gx-supervisor"), utcnow())
        db.session.commit()
        recheck_id = round_.assessments[0].recheck.id
        original, supervisor = user("b-worker1").id, user("gx-supervisor").id
    client = login("gx-supervisor")
    url = f"/assessments/rechecks/{recheck_id}"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{supervisor}"' in page and f'value="{original}"' not in page
    answers = {name: "yes" for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing")}
    refused = support.form_post(client, url, {**answers, "assessor": str(original)})
    assert refused.status_code == 422 and "field-error" in refused.get_data(as_text=True)
    done = support.form_post(client, url, {**answers, "assessor": str(supervisor), "notes": "入户复检"})
    assert done.status_code == 302
    with app.app_context(), scope(app):
        recheck = db.session.get(AssessmentRecheck, recheck_id)
        assert recheck.assessor_user_id == supervisor and recheck.care_class == "self_care" and recheck.discrepancy
    assert login("gx-officer").post(url, data={}).status_code in (400, 403)


def test_finalise_names_what_is_missing_then_sets_final_classes(app, world):
    from portal.assessments import objections, rechecks
    from portal.assessments.models import AssessmentPublicity
    opened = utcnow() - timedelta(days=10)
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 2), ("a-worker1", 5)], opened)
    supervisor = None
    with app.app_context(), scope(app):
        supervisor = user("gx-supervisor")
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        objection = objections.submit_objection(round_, "结果不对", opened + timedelta(days=1),
                                                assessment_id=round_.assessments[0].id, contact="13812345678")
        with pytest.raises(DomainError) as refused:
            rechecks.finalise(round_, supervisor, opened + timedelta(days=2))
        message = refused.value.message
        missing = rechecks.missing_for_final(round_, local_today(opened + timedelta(days=2)))
        assert len(missing) == 3 and all(str(item) in message for item in missing)  # period, sample, objection
        assert round_.ends_on.isoformat() in message
        chosen = rechecks.draw_sample(round_, supervisor, utcnow(), seed="s")
        objections.answer_objection(objection, "upheld", "将复检", supervisor, utcnow())
        with pytest.raises(DomainError):
            rechecks.finalise(round_, supervisor, utcnow())
        assert len(rechecks.missing_for_final(round_, local_today())) == 1  # only the re-checks now
        checks = {a.id: a.recheck for a in round_.assessments if a.recheck is not None}
        assert round_.assessments[0].id in checks and checks[round_.assessments[0].id].reason in ("objection", "sample")
        assert set(chosen) <= set(checks)
        found = {}
        for assessment_id, recheck in checks.items():
            not_met = 6 if assessment_id == round_.assessments[0].id else recheck.assessment.not_met
            rechecks.record_recheck(recheck, indicators(not_met), supervisor, "", supervisor, utcnow())
            found[assessment_id] = recheck.care_class
        rechecks.finalise(round_, supervisor, utcnow())
        for a in round_.assessments:
            assert a.status == "final" and a.final_at is not None
            assert a.final_class == found.get(a.id, a.care_class)
        assert round_.assessments[0].final_class == "complete" != round_.assessments[0].care_class
        with pytest.raises(DomainError):
            rechecks.finalise(round_, supervisor, utcnow())


def test_a_recheck_another_supervisor_recorded_meanwhile_is_not_recorded_again_and_withdrawn_ones_stay(app, world):
    from portal.assessments import rechecks
    from portal.assessments.models import Assessment, AssessmentPublicity, AssessmentRecheck
    from portal.core.errors import Conflict
    opened = utcnow() - timedelta(days=10)
    publicity_id = open_round(app, [("b-worker1", 1), ("b-worker1", 4)], opened)
    with app.app_context(), scope(app):
        supervisor = user("gx-supervisor")
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        rechecks.draw_sample(round_, supervisor, utcnow(), seed="t")
        recheck = next(a.recheck for a in round_.assessments if a.recheck is not None)
        assert recheck.rechecked_at is None  # as this supervisor's page read it
        db.session.execute(AssessmentRecheck.__table__.update().where(AssessmentRecheck.id == recheck.id).values(
            rechecked_at=utcnow(), care_class="complete", not_met=6, indicators=indicators(6), discrepancy=True,
            assessor_user_id=supervisor.id))  # ... while another recorded it
        with pytest.raises(Conflict):
            rechecks.record_recheck(recheck, indicators(0), supervisor, "", supervisor, utcnow())
        assert db.session.get(AssessmentRecheck, recheck.id).care_class == "complete"  # not overwritten
        # an assessment withdrawn while its round was being opened is never made final
        other = next(a for a in round_.assessments if a.id != recheck.assessment_id)
        db.session.execute(Assessment.__table__.update().where(Assessment.id == other.id).values(status="withdrawn"))
        db.session.expire_all()
        rechecks.finalise(db.session.get(AssessmentPublicity, publicity_id), supervisor, utcnow())
        assert db.session.get(Assessment, other.id).status == "withdrawn"
        assert db.session.get(Assessment, recheck.assessment_id).status == "final"


def test_the_bureau_pages_open_a_round_and_show_it(app, world, login):
    from portal.assessments.models import AssessmentPublicity
    submitted(app, [("b-worker1", 0), ("b-worker1", 3)])
    officer = login("gx-officer")
    page = officer.get("/assessments/rounds/open")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ADL-ASSESS" in html or "contract" in html
    with app.app_context(), scope(app):
        contract_id = db.session.scalar(select(AssessmentPublicity.contract_id))
    response = support.form_post(officer, "/assessments/rounds/open", {"contract": str(contract_id)})
    assert response.status_code == 302
    detail = officer.get(response.headers["Location"])
    assert detail.status_code == 200 and "私密备注" not in detail.get_data(as_text=True)
    assert officer.get("/assessments/rounds/").status_code == 200
    assert login("b-manager").get("/assessments/rounds/").status_code in (403, 404)


def test_the_demo_world_holds_a_final_round_with_an_objection_and_a_discrepancy_and_a_round_in_publicity(app, world):
    from portal.assessments.models import Assessment, AssessmentPublicity
    from portal.assessments.publicity import phase
    from portal.billing.models import Statement
    from portal.core.months import month_text, previous_month
    with app.app_context(), scope(app):
        rounds = db.session.scalars(select(AssessmentPublicity).order_by(AssessmentPublicity.id)).all()
        finals = [r for r in rounds if r.finalised_at is not None]
        current = [r for r in rounds if phase(r, local_today()) == "open"]
        assert finals and current
        done = finals[0]
        assert {a.care_class for a in done.assessments} == {"self_care", "partial", "complete"}
        assert {a.status for a in done.assessments} == {"final"}
        assert len(done.objections) == 1 and done.objections[0].status != "open"
        assert done.seed and done.drawn_at and sum(1 for a in done.assessments if a.recheck and a.recheck.discrepancy) == 1
        assert {a.assessor_user_id for a in done.assessments} == {user("b-worker1").id}
        assert all(a.visit_id for a in done.assessments)
        month = month_text(previous_month(local_today()))
        statement = db.session.scalar(select(Statement).where(Statement.contract_id == done.contract_id,
                                                              Statement.month == month))
        assert statement is not None
        # the statement pays the month's final assessments, each through its visit, and deducts the discrepancy
        from portal.billing import entries
        kept = entries.rows(statement)
        paid = set(db.session.scalars(select(kept.c.visit_id).where(kept.c.role == "paid")))
        assert {a.visit_id for a in done.assessments} <= paid
        kinds = {line.kind: line for line in statement.lines}
        assert kinds["service"].units >= len(done.assessments)
        assert kinds["deduction_discrepancy"].units == 1
        assert db.session.scalar(select(db.func.count(Assessment.id)).where(Assessment.status == "publicity")) >= 1
        from portal.assessments.demo import DEMO_CARE_STANDARD_FEN
        from portal.tenancy.models import Tenant
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == "ganxian"))
        assert tenant.effective_settings["care_standard_fen"] == DEMO_CARE_STANDARD_FEN


def test_an_objection_is_answered_within_the_working_days_and_an_unknown_year_is_said(app, world, login):
    from datetime import timezone

    from portal.assessments import objections
    from portal.assessments.models import AssessmentPublicity
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import current_tenant_id
    from portal.tenancy.workdays import tenant_calendar
    publicity_id = open_round(app, [("b-worker1", 0)])
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        objection = objections.submit_objection(round_, "有误", utcnow(), contact="")
        tenant = db.session.get(Tenant, current_tenant_id())
        due_on, why = objections.answer_due(objection, tenant)
        assert why is None and due_on == tenant_calendar().add_working_days(local_today(), 5)
        db.session.commit()
        objection_id = objection.id
        objection.received_at = datetime(2090, 6, 1, 2, tzinfo=timezone.utc)  # a year nobody has a schedule for
        due_on, why = objections.answer_due(objection, tenant)
        assert due_on is None and "2090" in why
        db.session.commit()
    page = login("gx-supervisor").get(f"/assessments/objections/{objection_id}")
    assert page.status_code == 200
    due_cell = page.get_data(as_text=True).split('id="objection-due"')[1].split("</dd>")[0]
    assert "2090" in due_cell and "2090-06" not in due_cell  # the reason, not a date


# --- what a tester found on the bureau's pages -------------------------------------------------

def row_of(html, marker):
    """The table row of ``html`` holding ``marker`` (an id or a link), or ""."""
    return next((row for row in html.split("<tr")[1:] if marker in row.split("</tr>")[0]), "").split("</tr>")[0]


def end_period(app, publicity_id):
    from portal.assessments.models import AssessmentPublicity
    from tests.assessment_world import scope as tenant
    with app.app_context(), tenant(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        round_.starts_on, round_.ends_on = local_today() - timedelta(days=8), local_today() - timedelta(days=1)
        db.session.commit()


def test_a_home_visit_that_failed_its_checks_is_flagged_on_every_step_up_to_final(app, world, login):
    from portal.assessments import rechecks
    from portal.assessments.models import Assessment, AssessmentPublicity
    from tests.assessment_world import assessment_world, record
    aw = assessment_world(app)
    far = record(app, aw, "黄秀兰", not_met=2, offset_m=2_000, device_id=None)  # V02: far from home
    near = record(app, aw, "刘桂英", not_met=0)
    with app.app_context(), scope(app):
        visit = db.session.get(Assessment, far).visit
        assert visit.status in ("exception", "rejected") and "V02" in {e.code for e in visit.exceptions}
        contract_id = db.session.get(Assessment, far).contract_id
    manager = login("b-manager", tenant="ganxian")
    html = manager.get("/assessments/submit").get_data(as_text=True)
    assert 'id="visit-warning"' in html
    assert "V02" in row_of(html, f"/assessments/{far}\"") and "visit-flag" in row_of(html, f"/assessments/{far}\"")
    with app.app_context(), scope(app):  # a row is flagged exactly when its visit failed
        near_failed = db.session.get(Assessment, near).visit_failed
    assert ("visit-flag" in row_of(html, f"/assessments/{near}\"")) == near_failed
    assert support.form_post(manager, "/assessments/submit", {}).status_code == 302

    officer = login("gx-officer")
    html = officer.get("/assessments/rounds/open").get_data(as_text=True)
    assert 'id="visit-warning"' in html and "V02" in row_of(html, f"#{far}<")
    opened = support.form_post(officer, "/assessments/rounds/open", {"contract": str(contract_id)})
    assert opened.status_code == 302
    html = officer.get(opened.headers["Location"]).get_data(as_text=True)
    assert 'id="visit-warning"' in html and "V02" in row_of(html, f"#{far}<")
    with app.app_context(), scope(app):
        publicity_id = db.session.get(Assessment, far).publicity_id
    end_period(app, publicity_id)
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        rechecks.draw_sample(round_, user("gx-supervisor"), utcnow())
        for a in round_.assessments:
            if a.recheck is not None:
                rechecks.record_recheck(a.recheck, indicators(a.not_met), user("gx-supervisor"), "",
                                        user("gx-supervisor"), utcnow())
        db.session.commit()
    html = login("gx-supervisor").get(f"/assessments/rounds/{publicity_id}/finalise").get_data(as_text=True)
    assert 'id="visit-warning"' in html and "V02" in row_of(html, f'data-assessment="{far}"')


def test_finalise_asks_first_listing_each_final_class_then_makes_them_final(app, world, login):
    from portal.assessments import rechecks
    from portal.assessments.models import AssessmentPublicity
    from portal.assessments.publicity import CLASS_LABELS
    from flask_babel import force_locale
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 2)], utcnow() - timedelta(days=10))
    supervisor = login("gx-supervisor")
    url = f"/assessments/rounds/{publicity_id}/finalise"
    waiting = supervisor.get(url).get_data(as_text=True)
    assert 'id="round-missing"' in waiting and 'id="confirm-finalise"' not in waiting  # the sample is not drawn
    # on the round's page the step is shown disabled with what is missing, said once
    round_page = supervisor.get(f"/assessments/rounds/{publicity_id}").get_data(as_text=True)
    assert 'id="finalise" disabled' in round_page and 'id="finalise-why"' in round_page
    assert 'id="round-missing"' not in round_page and f"/assessments/rounds/{publicity_id}/finalise" not in round_page
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        rechecks.draw_sample(round_, user("gx-supervisor"), utcnow())
        first, second = round_.assessments
        for a in round_.assessments:
            if a.recheck is None:  # both re-checked: the first finds another class
                db.session.add(rechecks.AssessmentRecheck(assessment=a, publicity_id=round_.id, reason="sample"))
                db.session.flush()
        rechecks.record_recheck(first.recheck, indicators(5), user("gx-supervisor"), "", user("gx-supervisor"), utcnow())
        rechecks.record_recheck(second.recheck, indicators(2), user("gx-supervisor"), "", user("gx-supervisor"),
                                utcnow())
        db.session.commit()
        first_id, second_id = first.id, second.id
        with force_locale("zh_CN"):
            complete, partial = str(CLASS_LABELS["complete"]), str(CLASS_LABELS["partial"])
    round_page = supervisor.get(f"/assessments/rounds/{publicity_id}").get_data(as_text=True)
    assert f'href="{url}"' in round_page and f'action="{url}"' not in round_page  # a link to ask, not a post
    page = supervisor.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "不可撤销" in html and 'id="confirm-finalise"' in html
    assert complete in row_of(html, f'data-assessment="{first_id}"').split('class="final-class"')[1]
    assert partial in row_of(html, f'data-assessment="{second_id}"').split('class="final-class"')[1]
    with app.app_context(), scope(app):
        assert db.session.get(AssessmentPublicity, publicity_id).finalised_at is None  # asking changed nothing
    assert support.form_post(supervisor, url, {}).status_code == 302
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        assert round_.finalised_at is not None
        assert [a.final_class for a in round_.assessments] == ["complete", "partial"]
    again = supervisor.get(url).get_data(as_text=True)
    assert 'id="already-final"' in again and 'id="confirm-finalise"' not in again


def test_the_round_pages_word_the_period_the_opening_the_rate_and_the_objections_as_publicity(app, world, login):
    from portal.assessments import objections, rechecks
    from portal.assessments.models import AssessmentPublicity
    opened = utcnow() - timedelta(days=10)
    publicity_id = open_round(app, [("b-worker1", 0), ("b-worker1", 3)], opened)
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        objection = objections.submit_objection(round_, "有误", opened + timedelta(days=1),
                                                assessment_id=round_.assessments[0].id)
        objections.answer_objection(objection, "upheld", "将复检", user("gx-supervisor"), utcnow())
        rechecks.draw_sample(round_, user("gx-supervisor"), utcnow())
        db.session.commit()
        objection_id, number = objection.id, objection.tracking_number
    officer = login("gx-supervisor")
    for url in ("/assessments/rounds/", f"/assessments/rounds/{publicity_id}"):
        html = officer.get(url).get_data(as_text=True)
        assert "公示期" in html and "履行期限" not in html, url
    html = officer.get(f"/assessments/rounds/{publicity_id}").get_data(as_text=True)
    assert "开始公示" in html and "已开标" not in html
    assert "10%" in html and "‰" not in html
    assert "异议成立" in html and "质疑成立" not in html
    detail = officer.get(f"/assessments/objections/{objection_id}").get_data(as_text=True)
    assert "异议成立" in detail and "答复时间" in detail and "已说明" not in detail
    public = app.test_client().get("/public/ganxian/objections", query_string={"number": number})
    assert "异议成立" in public.get_data(as_text=True) and "质疑成立" not in public.get_data(as_text=True)
    with app.test_request_context():  # the procurement pages keep their own words
        from flask_babel import force_locale, gettext
        with force_locale("zh_CN"):
            assert gettext("Upheld") == "质疑成立"


def test_the_list_shows_the_assessors_class_and_the_final_class_apart_when_they_differ(app, world, login):
    from portal.assessments.models import Assessment
    _contract, (differs, same) = submitted(app, [("b-worker1", 2), ("b-worker1", 5)])
    with app.app_context(), scope(app):
        for assessment_id, final in ((differs, "complete"), (same, "complete")):
            row = db.session.get(Assessment, assessment_id)
            row.status, row.final_class, row.final_at = "final", final, utcnow()
        db.session.commit()
    html = login("gx-officer").get("/assessments/?status=final").get_data(as_text=True)
    cell = row_of(html, f'id="assessment-{differs}"').split('class="care-class"')[1].split("</td>")[0]
    assert "部分丧失" in cell and "完全丧失" in cell and "final-class" in cell  # assessor's, then the final
    cell = row_of(html, f'id="assessment-{same}"').split('class="care-class"')[1].split("</td>")[0]
    assert "完全丧失" in cell and "final-class" not in cell and "部分丧失" not in cell


def test_a_phone_objection_is_not_offered_outside_the_period_and_a_refused_withdrawal_says_why(app, world, login):
    from portal.assessments.models import Assessment, AssessmentObjection
    publicity_id = open_round(app, [("b-worker1", 1)])
    end_period(app, publicity_id)
    officer = login("gx-officer")
    url = f"/assessments/rounds/{publicity_id}/objections/new"
    html = officer.get(url).get_data(as_text=True)
    assert 'id="objections-closed"' in html and 'name="text"' not in html
    refused = support.form_post(officer, url, {"text": "电话反映"})  # (the token of the page's sign-out form)
    assert refused.status_code == 422
    with app.app_context(), scope(app):
        assert db.session.scalar(select(db.func.count(AssessmentObjection.id)).where(
            AssessmentObjection.publicity_id == publicity_id)) == 0
        assessment_id = db.session.scalar(select(Assessment.id).where(Assessment.publicity_id == publicity_id))
    manager = login("b-manager", tenant="ganxian")
    refused = support.form_post(manager, f"/assessments/{assessment_id}/withdraw", {"reason": "录错了"},
                                token_url=f"/assessments/{assessment_id}")
    assert refused.status_code == 422
    assert "只有尚未进入公示的评估才能撤回。" in refused.get_data(as_text=True)
    with app.app_context(), scope(app):
        assert db.session.get(Assessment, assessment_id).status == "publicity"


def test_the_objectors_contact_is_shown_to_who_may_answer_only(app, world, login):
    from portal.assessments import objections
    from portal.assessments.models import AssessmentPublicity
    publicity_id = open_round(app, [("b-worker1", 0)])
    with app.app_context(), scope(app):
        round_ = db.session.get(AssessmentPublicity, publicity_id)
        objection = objections.submit_objection(round_, "有误", utcnow(), contact="联系电话 13700009999")
        db.session.commit()
        objection_id = objection.id
    url = f"/assessments/objections/{objection_id}"
    assert "13700009999" in login("gx-supervisor").get(url).get_data(as_text=True)
    reader = login("gx-finance").get(url)
    assert reader.status_code == 200 and "13700009999" not in reader.get_data(as_text=True)
