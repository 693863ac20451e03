"""Money and supervision around self-care assessments (docs/DOMAIN.md §6–§8): settlement pays the
visit of an assessment only once the assessment is final (later, as late-verified work, when it
became final after its month was approved); a re-check discrepancy is deducted once at the unit
price × the contract's penalty multiplier, never together with a spot-check deduction of the same
visit; the scorecard's re-check component; discrepancy rates per contractor and per assessor."""
import io
import uuid
from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from sqlalchemy import select

from portal.billing.models import StatementLine
from portal.core.timeutil import LOCAL_TZ
from portal.extensions import db
from tests import settlement_world as sw

AUGUST, SEPTEMBER, OCTOBER = "2026-08", "2026-09", "2026-10"
ALL_MET = {name: True for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing")}


def _local(day, hour=12):
    return datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(hours=hour)


def _assess(app, world, visit_ids, *, status="recorded", assessor="a-worker1"):
    """An assessment (class self_care) of the world's person behind each visit, in ``status``
    ("final" sets its final class). Returns their ids in the order of ``visit_ids``."""
    from portal.assessments.models import Assessment
    from portal.visits.models import Visit
    with app.app_context(), sw.scope(app):
        person = sw.user(assessor)
        ids = []
        for visit_id in visit_ids:
            visit = db.session.get(Visit, visit_id)
            row = Assessment(client_id=str(uuid.uuid4()), body_hash="0" * 64, contract_id=visit.contract_id,
                             contractor_id=person.contractor_id, beneficiary_id=visit.beneficiary_id,
                             assessor_user_id=person.id, visit_id=visit.id, assessed_at=visit.check_in_at,
                             lat=25.861, lon=115.012, indicators=dict(ALL_MET), not_met=0, care_class="self_care",
                             status=status, final_class="self_care" if status == "final" else None)
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        return ids


def _finalise(app, assessment_ids):
    from portal.assessments.models import Assessment
    from portal.core.timeutil import utcnow
    with app.app_context(), sw.scope(app):
        for assessment_id in assessment_ids:
            row = db.session.get(Assessment, assessment_id)
            row.status, row.final_at = "final", utcnow()
            row.final_class = row.recheck.care_class if row.recheck and row.recheck.discrepancy else row.care_class
        db.session.commit()


def _recheck(app, assessment_id, *, discrepancy, on, by="a-worker2"):
    """The bureau's re-check of one assessment, done on ``on`` (a date, Beijing time; None: drawn,
    not done), finding another class when ``discrepancy``."""
    from portal.assessments.models import Assessment, AssessmentPublicity, AssessmentRecheck
    with app.app_context(), sw.scope(app):
        assessment = db.session.get(Assessment, assessment_id)
        publicity = AssessmentPublicity(number=f"GS-{uuid.uuid4().hex[:8]}", contract_id=assessment.contract_id,
                                        starts_on=date(2026, 8, 1), ends_on=date(2026, 8, 7))
        db.session.add(publicity)
        db.session.flush()
        assessment.publicity_id = publicity.id
        found = "partial" if discrepancy else assessment.care_class
        db.session.add(AssessmentRecheck(
            assessment_id=assessment_id, publicity_id=publicity.id, assessor_user_id=sw.user(by).id,
            indicators=dict(ALL_MET, bathing=not discrepancy), not_met=1 if discrepancy else 0,
            care_class=found if on else None, discrepancy=bool(on) and discrepancy,
            rechecked_at=_local(on) if on else None))
        db.session.commit()


def _lines(app, statement_id):
    with app.app_context(), sw.scope(app):
        return [(line.kind, line.units, line.multiplier, line.amount_fen) for line in db.session.execute(
            select(StatementLine).where(StatementLine.statement_id == statement_id)
            .order_by(StatementLine.position)).scalars()]


def _line(app, statement_id, kind):
    found = [line for line in _lines(app, statement_id) if line[0] == kind]
    return found[0] if found else None


def _entries(app, statement_id, role):
    return sorted(sw.entry_visits(app, statement_id, role))


# --- paying -------------------------------------------------------------------------------------------

def test_only_the_visit_of_a_final_assessment_is_paid_and_plain_visits_are_untouched(app, demo):
    world = sw.care_contract(app)
    final, waiting, plain = sw.add_visits(app, world, AUGUST, 3)
    _assess(app, world, [final], status="final")
    [pending] = _assess(app, world, [waiting], status="publicity")
    statement = sw.prepare(app, world, AUGUST)
    assert _line(app, statement, "service")[1] == 2
    assert _entries(app, statement, "paid") == sorted([final, plain])
    assert _entries(app, statement, "capped") == []  # left out, not "over the cap": payable later
    _finalise(app, [pending])
    statement = sw.prepare(app, world, AUGUST)  # the draft is recomputed
    assert _entries(app, statement, "paid") == sorted([final, waiting, plain])


def test_a_plain_visit_of_an_item_paid_per_assessment_is_never_paid(app, demo):
    from portal.contracts.models import ServiceItem
    world = sw.care_contract(app)
    final, plain = sw.add_visits(app, world, AUGUST, 2)
    _assess(app, world, [final], status="final")
    with app.app_context(), sw.scope(app):
        for item in db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == world["contract"])).scalars():
            item.unit = "assessment"  # a visit recorded under it without an assessment is no assessment
        db.session.commit()
    august = sw.approved(app, world, AUGUST)
    assert _entries(app, august, "paid") == [final]
    assert _entries(app, sw.prepare(app, world, SEPTEMBER), "paid") == []  # nor later, as late work


def test_a_withdrawn_assessment_is_never_paid(app, demo):
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    _assess(app, world, [visit], status="withdrawn")
    august = sw.approved(app, world, AUGUST)
    assert _entries(app, august, "paid") == []
    assert _entries(app, sw.prepare(app, world, SEPTEMBER), "paid") == []


def test_an_assessment_made_final_after_its_month_was_approved_is_paid_once_later(app, demo):
    from portal.billing import settlement
    from portal.billing.models import Statement
    world = sw.care_contract(app)
    plain, assessed = sw.add_visits(app, world, AUGUST, 2)
    [assessment] = _assess(app, world, [assessed], status="rechecking")
    august = sw.approved(app, world, AUGUST)
    assert _entries(app, august, "paid") == [plain]
    september = sw.prepare(app, world, SEPTEMBER)
    assert [line[0] for line in _lines(app, september)] == ["service"]  # not final: nothing late yet
    _finalise(app, [assessment])
    with app.app_context(), sw.scope(app):
        assert settlement.is_stale(db.session.get(Statement, september))  # the digest sees it
    september = sw.approved(app, world, SEPTEMBER)
    assert _line(app, september, "late_verified") == ("late_verified", 1, 1, sw.PRICE)
    assert _entries(app, september, "paid") == [assessed]  # written as an entry of the approved statement
    october = sw.prepare(app, world, OCTOBER)
    assert _line(app, october, "late_verified") is None
    assert _entries(app, october, "paid") == []  # paid once, never again


def test_approval_refuses_a_drafted_visit_whose_assessment_is_no_longer_final(app, demo):
    from portal.assessments.models import Assessment
    from portal.billing import workflow
    from portal.billing.models import Statement
    from portal.core.errors import DomainError
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    [assessment] = _assess(app, world, [visit], status="final")
    statement_id = sw.prepare(app, world, AUGUST, by="gx-officer")
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        workflow.confirm(statement, sw.user("a-manager"))
        db.session.get(Assessment, assessment).status = "rechecking"
        db.session.flush()
        with pytest.raises(DomainError):
            workflow.approve(statement, sw.user("gx-finance"))
        db.session.rollback()


# --- the discrepancy deduction ------------------------------------------------------------------------

def test_a_discrepancy_is_deducted_once_at_price_times_multiplier(app, demo):
    world = sw.care_contract(app)
    wrong, right = sw.add_visits(app, world, AUGUST, 2)
    found, confirmed = _assess(app, world, [wrong, right], status="final")
    _recheck(app, found, discrepancy=True, on=date(2026, 8, 20))
    _recheck(app, confirmed, discrepancy=False, on=date(2026, 8, 21))
    august = sw.approved(app, world, AUGUST)
    assert _line(app, august, "deduction_discrepancy") == ("deduction_discrepancy", 1, sw.MULTIPLIER,
                                                           sw.PRICE * sw.MULTIPLIER)
    assert _entries(app, august, "penalty") == [wrong]
    gross, deduction = 2 * sw.PRICE, sw.PRICE * sw.MULTIPLIER
    assert sw.statement_row(app, august) == ("approved", gross, deduction, max(gross - deduction, 0))
    september = sw.approved(app, world, SEPTEMBER)
    assert _line(app, september, "deduction_discrepancy") is None
    assert _entries(app, september, "penalty") == []


def test_a_discrepancy_counts_in_the_month_its_recheck_was_done(app, demo):
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    [assessment] = _assess(app, world, [visit], status="final")
    _recheck(app, assessment, discrepancy=True, on=date(2026, 9, 3))
    august = sw.approved(app, world, AUGUST)
    assert _line(app, august, "deduction_discrepancy") is None
    september = sw.approved(app, world, SEPTEMBER)
    assert _line(app, september, "deduction_discrepancy")[1:] == (1, sw.MULTIPLIER, sw.PRICE * sw.MULTIPLIER)
    assert _entries(app, september, "penalty") == [visit]


def test_a_recheck_not_done_yet_deducts_nothing(app, demo):
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    [assessment] = _assess(app, world, [visit], status="rechecking")
    _recheck(app, assessment, discrepancy=True, on=None)
    assert _line(app, sw.prepare(app, world, AUGUST), "deduction_discrepancy") is None


def test_a_visit_a_spot_check_did_not_confirm_is_never_deducted_twice(app, demo):
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    [assessment] = _assess(app, world, [visit], status="final")
    _recheck(app, assessment, discrepancy=True, on=date(2026, 8, 20))
    sw.not_confirmed(app, world, [visit], AUGUST)
    august = sw.approved(app, world, AUGUST)  # the unique entries would refuse a second penalty
    kinds = [line[0] for line in _lines(app, august)]
    assert "deduction_spot_check" in kinds and "deduction_discrepancy" not in kinds
    assert _entries(app, august, "penalty") == [visit]
    assert sw.statement_row(app, august)[2] == sw.PRICE * sw.MULTIPLIER


def test_a_paid_visit_penalised_for_a_discrepancy_then_rejected_by_a_spot_check_is_clawed_back_once(app, demo):
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    [assessment] = _assess(app, world, [visit], status="final")
    _recheck(app, assessment, discrepancy=True, on=date(2026, 8, 20))
    august = sw.approved(app, world, AUGUST)
    assert _entries(app, august, "penalty") == [visit]
    sw.not_confirmed(app, world, [visit], SEPTEMBER)
    september = sw.approved(app, world, SEPTEMBER)
    assert _entries(app, september, "penalty") == []  # the visit's one penalty is taken
    kinds = [line[0] for line in _lines(app, september)]
    assert "deduction_spot_check" not in kinds and "deduction_discrepancy" not in kinds
    assert kinds.count("deduction_clawback") == 1 and _entries(app, september, "clawback") == [visit]
    [clawback] = [line for line in _lines(app, september) if line[0] == "deduction_clawback"]
    assert clawback[3] == sw.PRICE  # its price, once: never kept, never twice
    october = sw.approved(app, world, OCTOBER)
    assert "deduction_clawback" not in [line[0] for line in _lines(app, october)]


def test_the_statement_page_export_and_api_name_the_discrepancy_line(app, demo, login, api_token):
    world = sw.care_contract(app)
    [visit] = sw.add_visits(app, world, AUGUST, 1)
    [assessment] = _assess(app, world, [visit], status="final")
    _recheck(app, assessment, discrepancy=True, on=date(2026, 8, 20))
    statement = sw.prepare(app, world, AUGUST)
    with app.test_request_context(), force_locale("zh_CN"):
        label = gettext("Deduction: assessment found in another class on re-check")
    assert label != "Deduction: assessment found in another class on re-check"  # translated
    officer = login("gx-officer")
    page = officer.get(f"/billing/{statement}").get_data(as_text=True)
    assert label in page
    book = load_workbook(io.BytesIO(officer.get(f"/billing/{statement}.xlsx").data))
    assert any(label in str(cell) for row in book.worksheets[0].iter_rows(values_only=True) for cell in row)
    answer = app.test_client().get("/api/v1/settlements", query_string={"contract_id": world["contract"]},
                                   headers=api_token("gx-officer")).get_json()
    [found] = [line for item in answer["items"] for line in item["deductions"]]
    assert found["kind"] == "deduction_discrepancy" and found["amount_fen"] == sw.PRICE * sw.MULTIPLIER


# --- the scorecard component ------------------------------------------------------------------------------

def _parts(app, world, quarter="2026-Q3"):
    from portal.contracts.models import Contract
    from portal.scorecards import services
    with app.app_context(), sw.scope(app):
        start, end = services.parse_quarter(quarter)
        weights = dict.fromkeys(services.COMPONENTS, 10)
        _score, parts = services.compute_components(db.session.get(Contract, world["contract"]), start, end, weights)
        return {part["key"]: part for part in parts}


def test_the_scorecard_recheck_component_is_one_minus_the_discrepancy_rate(app, demo):
    world = sw.care_contract(app)
    visits = sw.add_visits(app, world, AUGUST, 5)
    assessments = _assess(app, world, visits, status="final")
    assert not _parts(app, world)["recheck"]["applicable"]  # no re-check: not applicable
    for assessment, found in zip(assessments[:4], (True, False, False, False)):
        _recheck(app, assessment, discrepancy=found, on=date(2026, 9, 30))
    _recheck(app, assessments[4], discrepancy=True, on=date(2026, 10, 1))  # the next quarter
    part = _parts(app, world)["recheck"]
    assert part["applicable"] and part["rate"] == "3/4" and part["rate_percent"] == "75.00"
    assert part["raw"] == {"rechecked": 4, "discrepancies": 1}
    # scored like the other rates: points = rate × the weight applied, the same weight as theirs
    assert Fraction(part["points"]) == Fraction(3, 4) * Fraction(part["effective_weight"])
    assert part["effective_weight"] == _parts(app, world)["verification"]["effective_weight"]
    assert _parts(app, world, "2026-Q4")["recheck"]["rate"] == "0/1"


def test_the_scorecard_page_explains_the_recheck_component(app, demo, login):
    from portal.contracts.models import Contract
    from portal.scorecards import services
    from portal.tenancy.models import Tenant
    world = sw.care_contract(app)
    visits = sw.add_visits(app, world, AUGUST, 2)
    first, second = _assess(app, world, visits, status="final")
    _recheck(app, first, discrepancy=True, on=date(2026, 8, 30))
    _recheck(app, second, discrepancy=False, on=date(2026, 8, 30))
    with app.app_context(), sw.scope(app):
        contract = db.session.get(Contract, world["contract"])
        tenant = db.session.get(Tenant, contract.tenant_id)
        scorecard = services.compute(contract, "2026-Q3", tenant=tenant)
        db.session.commit()
        scorecard_id = scorecard.id
    page = login("gx-officer").get(f"/supervision/scorecards/{scorecard_id}").get_data(as_text=True)
    row = page.split('id="component-recheck"')[1].split("</tr>")[0]
    assert "50.00%" in row
    assert "/assessments/discrepancies?from=2026-07&amp;to=2026-09" in row


# --- discrepancy rates ----------------------------------------------------------------------------------

@pytest.fixture
def rechecked(app, demo):
    """A's contract: a-worker1's assessments re-checked twice in August (one discrepancy) and once
    in October, a-worker2's once (no discrepancy), one drawn but not done; B's contract: b-worker1's
    once (a discrepancy)."""
    a = sw.care_contract(app)
    b = sw.care_contract(app, manager="b-manager")
    visits = sw.add_visits(app, a, AUGUST, 5)
    one = _assess(app, a, visits[:3])
    two = _assess(app, a, visits[3:5], assessor="a-worker2")
    [three] = _assess(app, b, sw.add_visits(app, b, AUGUST, 1, worker="b-worker1"), assessor="b-worker1")
    _recheck(app, one[0], discrepancy=True, on=date(2026, 8, 10))
    _recheck(app, one[1], discrepancy=False, on=date(2026, 8, 31))
    _recheck(app, one[2], discrepancy=True, on=date(2026, 10, 2))
    _recheck(app, two[0], discrepancy=False, on=date(2026, 8, 12), by="a-worker1")
    _recheck(app, two[1], discrepancy=True, on=None)
    _recheck(app, three, discrepancy=True, on=date(2026, 8, 15), by="a-worker1")
    return {"a": a, "b": b}


def test_discrepancy_counts_per_contract_contractor_and_assessor(app, rechecked):
    from portal.assessments import stats
    from portal.core import months
    start, end = months.month_bounds(AUGUST)
    with app.app_context(), sw.scope(app):
        assert stats.discrepancy_counts(rechecked["a"]["contract"], start, end) == (3, 1)
        assert stats.discrepancy_counts(rechecked["b"]["contract"], start, end) == (1, 1)
        assert stats.discrepancy_counts(rechecked["a"]["contract"], start, months.month_bounds(OCTOBER)[1]) == (4, 2)
        contractors = {row.name: (row.rechecked, row.discrepancies, row.percent)
                       for row in stats.per_contractor(start, end)}
        assessors = {row.key: (row.rechecked, row.discrepancies, row.percent) for row in stats.per_assessor(start, end)}
        worker1, worker2, b_worker = (sw.user(name).id for name in ("a-worker1", "a-worker2", "b-worker1"))
    assert sorted(contractors.values()) == [(1, 1, "100.00"), (3, 1, "33.33")]
    assert assessors == {worker1: (2, 1, "50.00"), worker2: (1, 0, "0.00"), b_worker: (1, 1, "100.00")}


def test_the_discrepancy_page_and_its_export(app, rechecked, login):
    officer = login("gx-officer")
    page = officer.get("/assessments/discrepancies", query_string={"from": AUGUST, "to": AUGUST})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    contractors = text.split('id="per-contractor"')[1].split("</table>")[0]
    assert "33.33%" in contractors and "100.00%" in contractors and "50.00%" in contractors  # total 2 of 4
    assessors = text.split('id="per-assessor"')[1].split("</table>")[0]
    assert "刘建国" in assessors and "0.00%" in assessors
    wider = officer.get("/assessments/discrepancies", query_string={"from": AUGUST, "to": OCTOBER})
    assert "60.00%" in wider.get_data(as_text=True).split('id="per-contractor"')[1].split("</tfoot>")[0]
    refused = officer.get("/assessments/discrepancies", query_string={"from": "2026-13", "to": "x"})
    assert refused.status_code == 200 and 'id="period-message"' in refused.get_data(as_text=True)
    export = officer.get("/assessments/discrepancies.xlsx", query_string={"from": AUGUST, "to": AUGUST})
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.data)).worksheets[1].iter_rows(values_only=True))
    assert any("刘建国" in str(cell) for row in rows for cell in row)
    assert login("a-manager").get("/assessments/discrepancies").status_code in (403, 404)


# --- through the recording service ----------------------------------------------------------------------

def _plan_ids(app, contract_id, month):
    """{line kind: visit ids it pays or penalises} of computing ``month`` now (nothing is written)."""
    from portal.billing import settlement
    from portal.billing.plans import Period
    from portal.contracts.models import Contract
    from portal.core import months
    with app.app_context(), sw.scope(app):
        contract = db.session.get(Contract, contract_id)
        start, end = months.month_bounds(month)
        first, last = months.month_days(month)
        plans = settlement.compute_plans(Period(contract, month, start, end, first, last, None))
        found = {}
        for plan in plans:
            ids = plan.selected()["visits"] + [v for role, v, _x in plan.entries if v is not None and role != "capped"]
            found.setdefault(plan.kind, []).extend(ids)
        return found


@pytest.mark.usefixtures("own_queue")
def test_a_recorded_assessment_is_paid_through_its_visit_once_final(app, run_worker):
    from portal.assessments.models import Assessment
    from portal.core import months
    from portal.core.timeutil import to_local
    from tests.assessment_world import assessment_world, record
    world = assessment_world(app)
    assessment_id = record(app, world)
    run_worker()  # the visit's rules (inline on SQLite)
    with app.app_context(), sw.scope(app):
        assessment = db.session.get(Assessment, assessment_id)
        visit_id, status = assessment.visit_id, assessment.visit.status
        month = months.month_text(to_local(assessment.visit.check_in_at).date())
    assert status == "verified"
    assert visit_id not in _plan_ids(app, world["contract"], month).get("service", [])
    _finalise(app, [assessment_id])
    assert visit_id in _plan_ids(app, world["contract"], month)["service"]
