"""The bureau's side of household surveys (docs/DOMAIN.md §6): review and sign-off by two different
officers (four eyes; a returned survey is never signed; a second sign-off is refused, also when
another officer signed meanwhile), who sees which survey (another contractor's manager, another
bureau, bad ids → 404), the list past page 1, the printable form, the re-check draw (a month that
has ended, reproducible from its seed, idempotent, at least one per surveyor), a re-check by the
survey's reviewer refused, and discrepancies counted per contractor."""
import uuid
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.core.errors import Conflict, DomainError
from portal.core.months import month_bounds, month_text, previous_month
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from tests import support
from tests.survey_world import SURVEYED, record, scope, survey_world

LAST_MONTH = previous_month(local_today())


def user(username):
    from portal.accounts.models import User
    return db.session.scalar(select(User).where(User.username == username))


def survey(survey_id):
    from portal.surveys.models import HouseholdSurvey
    return db.session.get(HouseholdSurvey, survey_id)


@pytest.fixture
def world(app):
    return survey_world(app)


def inserted(app, world, specs, *, day=None, status="signed_off"):
    """Insert surveys straight into D's survey contract (no home visit): ``specs`` is [(surveyor
    username, outcome)], each on a day of ``day``'s month (default last month) at 10:00, reviewed
    by gx-officer and signed off by gx-admin (so that gx-supervisor may re-check them). Returns
    their ids."""
    from portal.contracts.models import Contract
    from portal.surveys.models import HouseholdSurvey
    day = day or LAST_MONTH
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, world["contract"])
        officer, signer = user("gx-officer"), user("gx-admin")
        ids = []
        for index, (username, outcome) in enumerate(specs):
            at = datetime.combine(day.replace(day=1 + index % 27), time(10), tzinfo=LOCAL_TZ)
            name = SURVEYED[index % len(SURVEYED)]
            row = HouseholdSurvey(
                client_id=str(uuid.uuid4()), body_hash="0" * 64, kind="application", category="dibao",
                area="urban", contract_id=contract.id, contractor_id=contract.contractor_id,
                beneficiary_id=world["people"][name], surveyor_user_id=user(username).id, surveyed_at=at,
                lat=30.0, lon=115.0, members_count=2, annual_income_fen=1_200_000, per_capita_income_fen=50_000,
                standard_fen=80_000, marginal_limit_fen=120_000, outcome=outcome, reasons=[], status=status,
                reviewed_by_id=officer.id if status != "recorded" else None,
                reviewed_at=at + timedelta(days=1) if status != "recorded" else None,
                signed_off_by_id=signer.id if status == "signed_off" else None,
                signed_off_at=at + timedelta(days=2) if status == "signed_off" else None)
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        return ids


# --- four eyes -----------------------------------------------------------------------------------

def test_the_reviewer_cannot_sign_off_and_another_officer_can(app, world):
    from portal.surveys import review
    survey_id = record(app, world)
    now = utcnow()
    with app.app_context(), scope(app):
        found = survey(survey_id)
        with pytest.raises(Conflict, match="须先审核"):  # not before the review
            review.sign_off(found, user("gx-supervisor"), now)
        review.review(found, user("gx-supervisor"), now, "材料齐全")
        db.session.commit()
        with pytest.raises(DomainError, match="另一位工作人员签发（双人复核）") as refused:
            review.sign_off(survey(survey_id), user("gx-supervisor"), now)
        assert refused.value.status == 422
        db.session.rollback()
        assert survey(survey_id).status == "reviewed"
        with pytest.raises(DomainError):  # a field worker never decides
            review.sign_off(survey(survey_id), user("d-worker1"), now)
        db.session.rollback()
        signed = review.sign_off(survey(survey_id), user("gx-officer"), now)
        db.session.commit()
        assert signed.status == "signed_off" and signed.signed_off_by_id == user("gx-officer").id
        assert signed.reviewed_by_id == user("gx-supervisor").id and signed.outcome == "eligible"
        with pytest.raises(Conflict, match="已经签发"):  # a second click
            review.sign_off(survey(survey_id), user("gx-officer"), now)
        db.session.rollback()
        from portal.audit.models import AuditEntry
        actions = db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "HouseholdSurvey", AuditEntry.object_id == str(survey_id))).all()
        assert {"survey_reviewed", "survey_signed_off"} <= set(actions)


def test_a_sign_off_racing_another_is_refused_never_twice(app, world):
    """Two officers open the confirmation page at once: the second one's row, read before the first
    committed, still says "reviewed"; sign_off reads it afresh (locked) and refuses."""
    from portal.surveys import review
    from portal.surveys.models import HouseholdSurvey
    survey_id = record(app, world, SURVEYED[1])
    with app.app_context(), scope(app):
        review.review(survey(survey_id), user("gx-officer"), utcnow())
        db.session.commit()
        stale = survey(survey_id)
        assert stale.status == "reviewed"
        db.session.execute(HouseholdSurvey.__table__.update().where(HouseholdSurvey.id == survey_id)
                           .values(status="signed_off", signed_off_by_id=user("gx-admin").id))
        with pytest.raises(Conflict):
            review.sign_off(stale, user("gx-supervisor"), utcnow())
        assert stale.status == "signed_off" and stale.signed_off_by_id == user("gx-admin").id  # read, not overwritten


def test_a_returned_survey_cannot_be_signed_off(app, world):
    from portal.surveys import review
    survey_id = record(app, world, SURVEYED[2])
    now = utcnow()
    with app.app_context(), scope(app):
        review.review(survey(survey_id), user("gx-officer"), now)
        with pytest.raises(DomainError, match="退回原因"):
            review.return_survey(survey(survey_id), user("gx-supervisor"), now, "  ")
        review.return_survey(survey(survey_id), user("gx-supervisor"), now, "邻里走访记录不全")
        db.session.commit()
        assert survey(survey_id).status == "returned" and survey(survey_id).return_reason == "邻里走访记录不全"
        with pytest.raises(Conflict, match="已退回调查员"):
            review.sign_off(survey(survey_id), user("gx-supervisor"), now)
        db.session.rollback()
        assert survey(survey_id).status == "returned" and survey(survey_id).signed_off_at is None


def test_the_audit_trail_keeps_that_a_survey_was_returned_never_why(app, world):
    """The review note and the return reason may speak of the family's finances: the trail of the
    survey's row changes says they changed, never what they say (models.py ``__audit_redact__``)."""
    import json
    from portal.audit.models import AuditEntry
    from portal.surveys import review
    survey_id = record(app, world, SURVEYED[2])
    with app.app_context(), scope(app):
        review.review(survey(survey_id), user("gx-officer"), utcnow(), "存款账户多一个")
        review.return_survey(survey(survey_id), user("gx-supervisor"), utcnow(), "儿子在外务工收入未登记")
        db.session.commit()
    with support.as_platform(app):
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "HouseholdSurvey", AuditEntry.object_id == str(survey_id))).all()
        trail = json.dumps([[e.action, e.before, e.after] for e in entries], ensure_ascii=False)
    assert "survey_returned" in trail and "return_reason" in trail
    assert "儿子在外务工" not in trail and "存款账户" not in trail


def test_a_recheck_trail_keeps_that_it_was_done_never_what_was_found(app):
    from portal.surveys.models import SurveyRecheck
    redacted = set(SurveyRecheck.__audit_redact__)
    assert {"outcome_found", "members_found", "per_capita_found_fen", "notes"} <= redacted


def test_the_pages_offer_only_the_decisions_open_to_the_reader(app, world, login):
    survey_id = record(app, world, SURVEYED[3])
    supervisor = login("gx-supervisor")
    page = supervisor.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert f"/surveys/{survey_id}/review" in page and f"/surveys/{survey_id}/sign-off" not in page
    assert 'id="action-sign_off" disabled' in page and 'id="action-sign_off-why"' in page  # why not now
    confirm = supervisor.get(f"/surveys/{survey_id}/review").get_data(as_text=True)
    assert 'id="what-happens"' in confirm and "500.00" in confirm  # the per-capita income in yuan
    done = support.form_post(supervisor, f"/surveys/{survey_id}/review", {"note": ""})
    assert done.status_code == 302
    queue = supervisor.get("/surveys/review?stage=sign_off").get_data(as_text=True)
    assert f'id="survey-{survey_id}"' in queue and "reviewed-by-you" in queue
    refused = support.form_post(supervisor, f"/surveys/{survey_id}/sign-off", {})
    assert refused.status_code == 422 and 'id="not-open"' in refused.get_data(as_text=True)
    officer = login("gx-officer")
    assert support.form_post(officer, f"/surveys/{survey_id}/sign-off", {}).status_code == 302
    again = officer.post(f"/surveys/{survey_id}/sign-off", data={
        "csrf_token": support.csrf_token_from(officer.get(f"/surveys/{survey_id}/return").get_data(as_text=True))})
    assert again.status_code == 409
    with app.app_context(), scope(app):
        assert survey(survey_id).status == "signed_off"
    page = officer.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert page.count('class="not-open"') == 1 and 'id="actions-closed"' in page  # said once, not per action
    assert "入户核查，材料齐全" in page.split('id="survey-notes"')[1][:40]  # the surveyor's notes shown
    # the manager and the surveyor read it, and are offered no decision
    for username in ("d-manager", "d-worker1"):
        page = login(username, tenant="ganxian").get(f"/surveys/{survey_id}")
        assert page.status_code == 200 and 'id="actions"' not in page.get_data(as_text=True)


def test_the_sign_off_page_shows_the_judgement_as_it_will_be_signed(app, world, login):
    """A standard dated back to the survey's day after it was recorded: sign-off judges again, so
    the confirmation page shows the new judgement and says that it differs from the recorded one."""
    from portal.surveys import review, standards
    survey_id = record(app, world, SURVEYED[0], monthly_wages_fen=180_000)  # 900 yuan per capita: marginal
    with app.app_context(), scope(app):
        assert survey(survey_id).outcome == "marginal"
        review.review(survey(survey_id), user("gx-officer"), utcnow())
        db.session.commit()
    supervisor = login("gx-supervisor")
    supervisor.set_cookie("lang", "en")
    unchanged = supervisor.get(f"/surveys/{survey_id}/sign-off").get_data(as_text=True)
    assert 'id="judgement-changed"' not in unchanged and "Marginal" in unchanged
    with app.app_context(), scope(app):
        day = survey(survey_id).surveyed_at.astimezone(LOCAL_TZ).date()
        standards.add_standard("urban", day, 95_000, "", user("gx-officer"))
        db.session.commit()
        assert survey(survey_id).outcome == "marginal"  # nothing stored by the page
    page = supervisor.get(f"/surveys/{survey_id}/sign-off").get_data(as_text=True)
    outcome = page.split('id="outcome">', 1)[1].split("<", 1)[0]
    assert outcome == "Eligible" and 'id="standard">950.00<' in page
    assert 'id="judgement-changed"' in page and "800.00" in page and "950.00" in page
    assert support.form_post(supervisor, f"/surveys/{survey_id}/sign-off", {}).status_code == 302
    with app.app_context(), scope(app):
        assert (survey(survey_id).outcome, survey(survey_id).standard_fen) == ("eligible", 95_000)


# --- who sees which survey -----------------------------------------------------------------------

def test_another_contractor_another_bureau_and_bad_ids_are_not_found(app, world, login):
    survey_id = record(app, world)
    for username, tenant in (("a-manager", "ganxian"), ("a-worker1", "ganxian"), ("zg-officer", None)):
        client = login(username, tenant=tenant)
        assert client.get(f"/surveys/{survey_id}").status_code == 404, username
        assert client.get(f"/surveys/{survey_id}/print").status_code == 404, username
        listed = client.get("/surveys/").get_data(as_text=True)
        assert f'id="survey-{survey_id}"' not in listed, username
    officer = login("gx-officer")
    for bad in (0, -1, 2**40):
        assert officer.get(f"/surveys/{bad}").status_code == 404
        assert officer.get(f"/surveys/{bad}/review").status_code == 404
        assert officer.get(f"/surveys/rechecks/{bad}").status_code == 404
    assert officer.get("/surveys/x").status_code == 404
    assert login("zg-officer").get(f"/surveys/{survey_id}/sign-off").status_code in (403, 404)
    for username in ("d-manager", "d-worker1", "gx-auditor"):
        assert login(username, tenant="ganxian").get(f"/surveys/{survey_id}").status_code == 200, username


def test_the_list_has_a_second_page_with_masked_names(app, world, login):
    ids = inserted(app, world, [("d-worker1", "eligible")] * 27)
    officer = login("gx-officer")
    first = officer.get("/surveys/").get_data(as_text=True)
    second = officer.get("/surveys/?page=2")
    assert second.status_code == 200
    text = second.get_data(as_text=True)
    shown = [i for i in ids if f'id="survey-{i}"' in text]
    assert shown and not any(f'id="survey-{i}"' in first for i in shown)
    for name in SURVEYED:
        assert name not in first + text
    filtered = officer.get("/surveys/", query_string={"month": month_text(LAST_MONTH), "outcome": "exit"})
    assert not any(f'id="survey-{i}"' in filtered.get_data(as_text=True) for i in ids)
    assert officer.get("/surveys/?month=2026-13").status_code == 200


def test_the_printable_form_has_the_household_and_three_signature_lines(app, world, login):
    survey_id = record(app, world)
    client = login("gx-officer")
    for url in (f"/surveys/{survey_id}/print", f"/surveys/{survey_id}?print=1"):
        page = client.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert 'class="print-page survey-print"' in text and 'id="signatures"' in text
        assert text.count('class="signature-line"') == 6
        assert "测试配偶" in text and 'id="members"' in text and 'id="interviews"' in text


# --- re-checks -----------------------------------------------------------------------------------

def test_the_draw_is_reproducible_idempotent_and_takes_one_per_surveyor(app, world):
    from portal.contracts.models import Contract
    from portal.spotchecks.services import choose
    from portal.surveys import rechecks
    from portal.surveys.models import SurveyRecheck
    ids = inserted(app, world, [("d-worker1", "eligible")] * 12 + [("a-worker1", "marginal")] * 2)
    inserted(app, world, [("d-worker1", "eligible")], status="reviewed")  # not signed off: not drawn
    with app.app_context(), scope(app):
        contract = db.session.get(Contract, world["contract"])
        supervisor = user("gx-supervisor")
        with pytest.raises(DomainError, match="尚未结束") as refused:
            rechecks.draw(contract, local_today(), supervisor, utcnow())
        assert "month" in refused.value.errors
        drawn = rechecks.draw(contract, month_text(LAST_MONTH), supervisor, utcnow(), seed="fixed-seed")
        db.session.commit()
        chosen = sorted(r.survey_id for r in drawn.rechecks)
        assert set(chosen) <= set(ids) and len(chosen) == 2  # ceil(14 × 10 %) = 2, one per surveyor
        surveyors = {survey(i).surveyor_user_id for i in chosen}
        assert surveyors == {user("d-worker1").id, user("a-worker1").id}
        assert drawn.rate_permille == 100 and drawn.seed == "fixed-seed"
        assert rechecks.redraw(drawn)["matches"]
        population = rechecks.population(contract.id, LAST_MONTH, drawn.drawn_at)
        assert choose(population, "fixed-seed", 100) == chosen
        again = rechecks.draw(contract, LAST_MONTH, supervisor, utcnow())
        assert again.id == drawn.id
        assert db.session.scalar(select(db.func.count(SurveyRecheck.id))) == 2


def _recheck_rows(app, world):
    """Two surveys of last month, both drawn (rate 100 %): the first reviewed by gx-supervisor, the
    second by gx-officer (both signed off by gx-admin). Returns ({survey id: recheck id}, draw id)."""
    from portal.contracts.models import Contract
    from portal.surveys import rechecks
    from portal.surveys.models import HouseholdSurvey
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    ids = inserted(app, world, [("d-worker1", "eligible"), ("d-worker1", "marginal")])
    with app.app_context(), scope(app):
        tenant = db.session.get(Tenant, support.World(app).tenant_id("ganxian"))
        change_settings(tenant, {"survey_recheck_percent": 100})
        db.session.execute(HouseholdSurvey.__table__.update().where(HouseholdSurvey.id == ids[0])
                           .values(reviewed_by_id=user("gx-supervisor").id))
        db.session.commit()
        drawn = rechecks.draw(db.session.get(Contract, world["contract"]), LAST_MONTH, user("gx-supervisor"),
                              utcnow())
        db.session.commit()
        return {r.survey_id: r.id for r in drawn.rechecks}, ids


def second_supervisor(app):
    from portal.accounts.models import User
    with app.app_context():
        found = db.session.scalar(select(User).where(User.username == "gx-supervisor2"))
        if found is None:
            found = User(username="gx-supervisor2", display_name="第二监管员", role="supervisor",
                         tenant_id=support.World(app).tenant_id("ganxian"))
            found.set_password(support.PASSWORD)
            db.session.add(found)
            db.session.commit()


def test_a_reviewer_may_not_recheck_and_discrepancies_count_per_contractor(app, world, login):
    from portal.surveys import rechecks
    checks, ids = _recheck_rows(app, world)
    assert sorted(checks) == ids
    second_supervisor(app)
    now = utcnow()
    visited = now - timedelta(hours=1)
    with app.app_context(), scope(app):
        own_review = rechecks.get_recheck(checks[ids[0]])
        with pytest.raises(DomainError, match="另一位监管员") as refused:
            rechecks.record_recheck(own_review, user("gx-supervisor"), now, outcome_found="eligible",
                                    per_capita_found_fen=50_000, members_found=2, notes="", rechecked_at=visited)
        assert refused.value.status == 422
        db.session.rollback()
        with pytest.raises(DomainError) as invalid:
            rechecks.record_recheck(rechecks.get_recheck(checks[ids[1]]), user("gx-supervisor"), now,
                                    outcome_found="rich", per_capita_found_fen=-1, members_found=0, notes="",
                                    rechecked_at=now + timedelta(days=1))
        assert {"outcome_found", "per_capita_found_fen", "members_found", "rechecked_at"} <= set(invalid.value.errors)
        db.session.rollback()
        found = rechecks.record_recheck(rechecks.get_recheck(checks[ids[1]]), user("gx-supervisor"), now,
                                        outcome_found="not_eligible", per_capita_found_fen=130_000,
                                        members_found=2, notes="家中新增经营收入", rechecked_at=visited)
        assert found.discrepancy
        same = rechecks.record_recheck(rechecks.get_recheck(checks[ids[0]]), user("gx-supervisor2"), now,
                                       outcome_found="eligible", per_capita_found_fen=50_000, members_found=None,
                                       notes="", rechecked_at=visited)
        assert not same.discrepancy
        db.session.commit()
        with pytest.raises(Conflict):  # once only
            rechecks.record_recheck(rechecks.get_recheck(checks[ids[0]]), user("gx-supervisor2"), now,
                                    outcome_found="exit", per_capita_found_fen=0, members_found=None, notes="",
                                    rechecked_at=visited)
        db.session.rollback()
        start, end = month_bounds(local_today(now))
        rows = rechecks.discrepancies_by_contractor(start, end)
        contractor_id = survey(ids[0]).contractor_id
        row = next(r for r in rows if r.contractor_id == contractor_id)
        assert (row.rechecked, row.discrepancies, row.percent) == (2, 1, "50.00")
        assert rechecks.discrepancies_by_contractor(*month_bounds(LAST_MONTH)) == []
    supervisor = login("gx-supervisor")
    page = supervisor.get("/surveys/rechecks").get_data(as_text=True)
    assert f'data-contractor="{contractor_id}"' in page and "50.00" in page
    for name in SURVEYED:
        assert name not in page
    refused_draw = support.form_post(supervisor, "/surveys/rechecks/draw",
                                     {"contract": str(world["contract"]), "month": month_text(local_today())},
                                     token_url="/surveys/rechecks")
    assert refused_draw.status_code == 422
    idempotent = support.form_post(supervisor, "/surveys/rechecks/draw",
                                   {"contract": str(world["contract"]), "month": month_text(LAST_MONTH)},
                                   token_url="/surveys/rechecks")
    assert idempotent.status_code == 302


@pytest.mark.parametrize("contract", ["x", "²", str(2**40), "0", "-1"])
def test_a_draw_for_a_bad_contract_id_is_a_form_message_never_a_500(app, world, login, contract):
    supervisor = login("gx-supervisor")
    answer = support.form_post(supervisor, "/surveys/rechecks/draw",
                               {"contract": contract, "month": month_text(LAST_MONTH)}, token_url="/surveys/rechecks")
    assert answer.status_code == 422
    assert "请选择含家计调查服务的合同。" in answer.get_data(as_text=True)


def test_a_recheck_drawn_but_not_done_is_shown_to_the_bureau_only(app, world, login):
    """The contractor must not learn before the bureau's home visit which surveys are re-checked;
    once the re-check is done, its result is on the survey's page for the contractor too."""
    from portal.surveys import rechecks
    checks, ids = _recheck_rows(app, world)
    for username in ("gx-officer", "d-manager", "d-worker1"):
        page = login(username, tenant="ganxian").get(f"/surveys/{ids[1]}")
        assert page.status_code == 200, username
        assert ('id="recheck"' in page.get_data(as_text=True)) is (username == "gx-officer"), username
    with app.app_context(), scope(app):
        rechecks.record_recheck(rechecks.get_recheck(checks[ids[1]]), user("gx-supervisor"), utcnow(),
                                outcome_found="marginal", per_capita_found_fen=50_000, members_found=None, notes="",
                                rechecked_at=utcnow() - timedelta(hours=1))
        db.session.commit()
    for username in ("d-manager", "d-worker1"):
        page = login(username, tenant="ganxian").get(f"/surveys/{ids[1]}")
        assert page.status_code == 200 and 'id="recheck"' in page.get_data(as_text=True), username


def test_the_recheck_form_records_in_yuan_and_refuses_the_reviewer(app, world, login):
    checks, ids = _recheck_rows(app, world)
    supervisor = login("gx-supervisor")
    own = supervisor.get(f"/surveys/rechecks/{checks[ids[0]]}").get_data(as_text=True)
    assert 'id="not-open"' in own and 'id="record"' not in own
    url = f"/surveys/rechecks/{checks[ids[1]]}"
    bad = support.form_post(supervisor, url, {"rechecked_at": "2020-01-01T10:00", "outcome_found": "marginal",
                                              "per_capita_found": "-3"})
    assert bad.status_code == 422
    for extreme in ("9999-12-31T23:00-12:00", "0001-01-01T00:00+14:00"):  # overflow when converted: a message
        answer = support.form_post(supervisor, url, {"rechecked_at": extreme, "outcome_found": "marginal",
                                                     "per_capita_found": "10"})
        assert answer.status_code == 422 and "请填写入户复核的日期和时间" in answer.get_data(as_text=True), extreme
    # a time typed with an offset is converted (not relabelled as Beijing time)
    at_utc = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
    done = support.form_post(supervisor, url, {"rechecked_at": at_utc.isoformat(), "outcome_found": "marginal",
                                               "per_capita_found": "1,000.5", "members_found": "2"})
    assert done.status_code == 302
    from portal.surveys.models import SurveyRecheck
    with app.app_context(), scope(app):
        row = db.session.get(SurveyRecheck, checks[ids[1]])
        assert row.per_capita_found_fen == 100_050 and not row.discrepancy and row.checker_user_id
        assert row.rechecked_at == at_utc
    assert login("gx-officer").post(url, data={}).status_code in (400, 403)
