"""Settlement of household economic surveys (docs/DOMAIN.md §6, §8): a signed-off survey is one
payable unit of the survey contract's item (its home visit); a survey recorded, reviewed or
returned is not paid, nor is a plain visit under the survey item; one signed off after its month
was approved is paid once, later, as late-verified work; a survey the bureau's re-check found with
another outcome is deducted once at the unit price × the contract's penalty multiplier, never
together with a spot-check deduction of the same visit, and clawed back once when rejected later.

Surveys are recorded through recording.record_survey and decided through review.review,
review.sign_off, review.return_survey, rechecks.draw and rechecks.record_recheck on contractor D's
HH-SURVEY contract (tests/survey_world.py), whose period is moved back here so that three whole
months before the demo's own surveyed months can be settled. The home visits are marked verified
directly (verification is the visits package's and tested there)."""
from datetime import datetime, time

import pytest
from sqlalchemy import select

from portal.billing.models import StatementLine
from portal.core.months import add_months, first_day, month_text, previous_month
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from tests import settlement_world as sw
from tests import support
from tests import survey_world as world_of

# Three ended months before the two the demo surveys and settles itself (portal/surveys/demo.py).
FIRST = add_months(previous_month(local_today()), -4)
M1, M2, M3 = (month_text(add_months(FIRST, n)) for n in range(3))
REVIEWER, SIGNER, CHECKER = "gx-officer", "gx-officer2", "gx-supervisor"


def _at(month, day, hour=10):
    return datetime.combine(first_day(month).replace(day=day), time(hour), tzinfo=LOCAL_TZ)


def _officer2(app):
    """A second officer of ganxian (four eyes: the reviewer never signs off)."""
    from portal.accounts.models import User
    with app.app_context():
        if db.session.scalar(select(User).where(User.username == SIGNER)) is None:
            person = User(username=SIGNER, display_name="赣县区采购经办二", role="officer",
                          tenant_id=support.World(app).tenant_id("ganxian"))
            person.set_password(support.PASSWORD)
            db.session.add(person)
            db.session.commit()


def _build(app):
    """D's survey contract, its work list, assignments and d-worker1's roster entry from FIRST on."""
    from portal.contractors.models import StaffMember
    from portal.contracts.models import Assignment, Contract, ContractWorker
    base = world_of.survey_world(app)
    _officer2(app)
    with app.app_context(), world_of.scope(app):
        contract = db.session.get(Contract, base["contract"])
        contract.starts_on = FIRST
        for row in db.session.scalars(select(ContractWorker).where(ContractWorker.contract_id == contract.id)):
            row.from_on = FIRST
            staff = db.session.get(StaffMember, row.staff_id)
            staff.joined_on = min(staff.joined_on, FIRST)
        for row in db.session.scalars(select(Assignment).where(Assignment.contract_id == contract.id)):
            row.from_on = FIRST
        item = contract.items[0]
        db.session.commit()
        return {**base, "item": item.id, "price": item.unit_price_fen,
                "multiplier": contract.spot_check_penalty_multiplier}


@pytest.fixture
def world(app):
    world_of.survey_world(app)
    return support.built_once(app, "survey_money_world", _build, on="survey_world")


def _user(username):
    return sw.user(username)


def survey(app, world, month, day, *, status="signed_off", name=world_of.SURVEYED[0]):
    """A survey of ``name`` made on ``day`` of ``month`` through record_survey, its home visit
    verified, then taken to ``status`` (recorded, reviewed, signed_off, returned) now. Returns
    (survey id, visit id)."""
    from portal.surveys import review
    from portal.surveys.models import HouseholdSurvey
    survey_id = world_of.record(app, world, name, at=_at(month, day))
    with app.app_context(), world_of.scope(app):
        row = db.session.get(HouseholdSurvey, survey_id)
        row.visit.status, row.visit.verified_at = "verified", row.surveyed_at
        now = utcnow()
        if status in ("reviewed", "signed_off"):
            review.review(row, _user(REVIEWER), now)
        if status == "signed_off":
            review.sign_off(row, _user(SIGNER), now)
        if status == "returned":
            review.return_survey(row, _user(REVIEWER), now, "邻里走访记录不完整")
        assert row.status == status
        db.session.commit()
        return survey_id, row.visit_id


def sign_off(app, survey_id):
    from portal.surveys import review
    from portal.surveys.models import HouseholdSurvey
    with app.app_context(), world_of.scope(app):
        row = db.session.get(HouseholdSurvey, survey_id)
        if row.status == "recorded":
            review.review(row, _user(REVIEWER), utcnow())
        review.sign_off(row, _user(SIGNER), utcnow())
        db.session.commit()


def recheck(app, world, month, *, found_other):
    """The bureau's draw of ``month`` on the contract (every signed-off survey of it drawn: the
    tests sign off one a month) and the re-check of each on the 3rd of the next month, finding
    another outcome when ``found_other``. Returns the survey ids re-checked."""
    from portal.contracts.models import Contract
    from portal.surveys import rechecks
    with app.app_context(), world_of.scope(app):
        checker = _user(CHECKER)
        drawn = rechecks.draw(db.session.get(Contract, world["contract"]), month, checker, utcnow())
        done = []
        for row in drawn.rechecks:
            survey = row.survey
            outcome = "not_eligible" if found_other else survey.outcome
            rechecks.record_recheck(row, checker, utcnow(), outcome_found=outcome,
                                    per_capita_found_fen=survey.per_capita_income_fen + (90_000 if found_other else 0),
                                    members_found=survey.members_count, notes="复核入户",
                                    rechecked_at=_at(add_months(first_day(month), 1), 3))
            done.append(survey.id)
        db.session.commit()
        return done


def approved(app, world, month):
    return sw.approved(app, world, month, manager="d-manager")


def lines(app, statement_id):
    with app.app_context(), world_of.scope(app):
        return [(line.kind, line.units, line.multiplier, line.amount_fen) for line in db.session.scalars(
            select(StatementLine).where(StatementLine.statement_id == statement_id).order_by(StatementLine.position))]


def line(app, statement_id, kind):
    found = [row for row in lines(app, statement_id) if row[0] == kind]
    return found[0] if found else None


def entries(app, statement_id, role):
    return sorted(sw.entry_visits(app, statement_id, role))


# --- paying -------------------------------------------------------------------------------------

def test_a_signed_off_survey_is_one_unit_at_the_items_price_and_the_others_are_not_paid(app, world):
    people = world_of.SURVEYED
    _signed, paid_visit = survey(app, world, M1, 3, status="signed_off", name=people[0])
    unpaid = [survey(app, world, M1, 4 + n, status=status, name=people[1 + n])[1]
              for n, status in enumerate(("recorded", "reviewed", "returned"))]
    statement = approved(app, world, M1)
    assert line(app, statement, "service") == ("service", 1, 1, world["price"])
    assert entries(app, statement, "paid") == [paid_visit]
    assert entries(app, statement, "capped") == []  # left out, not "over the cap"
    assert set(unpaid).isdisjoint(entries(app, statement, "paid"))
    assert sw.statement_row(app, statement) == ("approved", world["price"], 0, world["price"])


def test_a_plain_visit_under_the_survey_item_is_never_paid(app, world):
    [plain] = sw.add_visits(app, {**world, "person": world["people"][world_of.SURVEYED[0]]}, M1, 1,
                            worker=world_of.WORKER)
    _survey, visit = survey(app, world, M1, 5)
    statement = approved(app, world, M1)
    assert entries(app, statement, "paid") == [visit]
    assert plain not in entries(app, approved(app, world, M2), "paid")  # nor later, as late work


def test_a_survey_signed_off_after_its_month_was_approved_is_paid_once_later(app, world):
    waiting, visit = survey(app, world, M1, 6, status="reviewed")
    first = approved(app, world, M1)
    assert line(app, first, "service")[1] == 0 and entries(app, first, "paid") == []
    second = sw.prepare(app, world, M2)
    assert line(app, second, "late_verified") is None  # not signed off: nothing late yet
    sign_off(app, waiting)
    second = approved(app, world, M2)
    assert line(app, second, "late_verified") == ("late_verified", 1, 1, world["price"])
    assert entries(app, second, "paid") == [visit]
    third = sw.prepare(app, world, M3)
    assert line(app, third, "late_verified") is None and entries(app, third, "paid") == []  # once


def test_a_returned_survey_is_never_paid_even_later(app, world):
    _survey, visit = survey(app, world, M1, 7, status="returned")
    assert entries(app, approved(app, world, M1), "paid") == []
    assert entries(app, sw.prepare(app, world, M2), "paid") == []


def test_approval_refuses_a_drafted_survey_visit_no_longer_signed_off(app, world):
    from portal.billing import workflow
    from portal.billing.models import Statement
    from portal.core.errors import DomainError
    from portal.surveys.models import HouseholdSurvey
    survey_id, _visit = survey(app, world, M1, 8)
    statement_id = sw.prepare(app, world, M1, by="gx-officer")
    with app.app_context(), world_of.scope(app):
        statement = db.session.get(Statement, statement_id)
        workflow.send_to_contractor(statement, _user("gx-officer"))
        workflow.confirm(statement, _user("d-manager"))
        db.session.get(HouseholdSurvey, survey_id).status = "reviewed"  # as if its sign-off were undone
        db.session.flush()
        with pytest.raises(DomainError):
            workflow.approve(statement, _user("gx-finance"))
        db.session.rollback()


# --- the re-check discrepancy deduction ------------------------------------------------------------

def test_a_discrepancy_is_deducted_once_at_price_times_multiplier(app, world):
    _survey, visit = survey(app, world, M1, 9)
    assert recheck(app, world, M1, found_other=True) == [_survey]
    statement = approved(app, world, M2)  # re-checked in M2 (the month's draw waits for its end)
    price, multiplier = world["price"], world["multiplier"]
    assert multiplier >= 2
    assert line(app, statement, "deduction_survey_discrepancy") == ("deduction_survey_discrepancy", 1, multiplier,
                                                                    price * multiplier)
    assert entries(app, statement, "penalty") == [visit]
    assert line(app, sw.prepare(app, world, M3), "deduction_survey_discrepancy") is None  # never twice


def test_a_recheck_that_agrees_deducts_nothing(app, world):
    survey(app, world, M1, 10)
    recheck(app, world, M1, found_other=False)
    assert line(app, approved(app, world, M2), "deduction_survey_discrepancy") is None


def test_a_visit_a_spot_check_did_not_confirm_is_not_deducted_twice(app, world):
    _survey, visit = survey(app, world, M1, 11)
    recheck(app, world, M1, found_other=True)
    sw.not_confirmed(app, world, [visit], M2)
    statement = approved(app, world, M2)  # the unique entries would refuse a second penalty
    kinds = [row[0] for row in lines(app, statement)]
    assert "deduction_spot_check" in kinds and "deduction_survey_discrepancy" not in kinds
    assert entries(app, statement, "penalty") == [visit]
    assert sw.statement_row(app, statement)[2] == world["price"] * world["multiplier"]


def test_a_paid_survey_penalised_then_rejected_by_a_spot_check_is_clawed_back_once(app, world):
    _survey, visit = survey(app, world, M1, 12)
    assert entries(app, approved(app, world, M1), "paid") == [visit]
    recheck(app, world, M1, found_other=True)
    second = approved(app, world, M2)
    assert entries(app, second, "penalty") == [visit]
    sw.not_confirmed(app, world, [visit], M3)
    third = approved(app, world, M3)
    kinds = [row[0] for row in lines(app, third)]
    assert entries(app, third, "penalty") == []  # the visit's one penalty is taken
    assert "deduction_spot_check" not in kinds and kinds.count("deduction_clawback") == 1
    assert line(app, third, "deduction_clawback")[3] == world["price"]  # its price, once


def test_the_statement_page_names_the_survey_discrepancy_line(app, world, login):
    from flask_babel import force_locale, gettext
    survey(app, world, M1, 13)
    recheck(app, world, M1, found_other=True)
    statement = sw.prepare(app, world, M2)
    with app.test_request_context(), force_locale("zh_CN"):
        label = gettext("Deduction: household survey found with another outcome on re-check")
    assert label != "Deduction: household survey found with another outcome on re-check"  # translated
    assert label in login("gx-officer").get(f"/billing/{statement}").get_data(as_text=True)


def test_finance_traces_each_paid_survey_unit_to_its_survey(app, world, login):
    """The statement lists under each line the visits it paid, and for a survey's visit the survey
    itself, which finance may open (finance cannot open the supervisors' visit pages)."""
    survey_id, paid_visit = survey(app, world, M1, 3, status="signed_off", name=world_of.SURVEYED[0])
    statement = approved(app, world, M1)
    finance = login("gx-finance")
    page = finance.get(f"/billing/{statement}").get_data(as_text=True)
    assert f'data-survey="{survey_id}"' in page and f'href="/surveys/{survey_id}"' in page
    assert finance.get(f"/surveys/{survey_id}").status_code == 200
