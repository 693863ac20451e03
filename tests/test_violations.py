"""Violations of the subcontracting ban (docs/DOMAIN.md §7): the detectors (two rosters, insured
elsewhere, not on the roster) find their case once, the entry point is idempotent, three
violations within 12 months flag the contract for suspension review and a dismissal clears it,
the daily job runs through the queue, supervisors decide with a note, contractors see only their
own contracts' violations, and no raw ID number is ever stored or shown."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.contractors import roster
from portal.contractors.demo import id_number
from portal.contractors.models import Contractor, StaffEmployment
from portal.contracts.models import Contract, ContractWorker
from portal.extensions import db
from portal.jobs.models import JobRun
from portal.jobs.queue import enqueue
from portal.tenancy.scope import tenant_scope
from portal.tenders.models import Award, Tender
from portal.violations import detection as detectors
from portal.violations.models import Violation
from tests import support
from tests.tender_world import add_opened_bid, make_contractor, make_tender, tenant_id

TODAY = date(2026, 11, 29)
PEOPLE = {  # raw ID numbers that must never appear in evidence, pages or audit rows
    "overlapping": id_number("36072119990101101"),
    "consecutive": id_number("36072119990202202"),
    "insured": id_number("36072120000303303"),
    "left": id_number("36072120010404404"),
}


pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    """Two contractors (甲 with an active contract of the bureau, 乙 without one) and their managers."""
    x = make_contractor(app, name="甲社工服务中心", manager="x-manager", staff=0)
    y = make_contractor(app, name="乙养老服务公司", manager="y-manager", staff=0)
    return {"x": x, "y": y, "tenant": tenant_id(app, "ganxian"),
            "contract": make_contract(app, x["id"], "GX-HT-001")}


def make_contract(app, contractor_id, number, status="active", code="ganxian"):
    """An active contract of ``contractor_id`` built directly from a tender, a bid and an award."""
    tender = make_tender(app, code)
    lot = tender["lots"][0]
    bid = add_opened_bid(app, lot, contractor_id, 150_000_00, code=code)
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        line_id = db.session.get(Tender, tender["tender"]).budget_line_id
        award = Award(lot_id=lot, bid_id=bid, contractor_id=contractor_id, amount_fen=150_000_00,
                      confirmed_on=date(2026, 1, 5), challenge_until=date(2026, 1, 14))
        db.session.add(award)
        db.session.flush()
        contract = Contract(number=number, title="特困人员照料护理服务", award_id=award.id,
                            contractor_id=contractor_id, budget_line_id=line_id, amount_fen=150_000_00,
                            starts_on=date(2026, 1, 15), ends_on=date(2027, 1, 14), status=status,
                            signed_on=date(2026, 1, 15), activated_on=date(2026, 1, 15))
        db.session.add(contract)
        db.session.commit()
        return contract.id


def add_person(app, contractor_id, key, joined_on, left_on=None, name="周敏"):
    """Put a person (by their raw ID number) on a contractor's roster through the roster service."""
    with app.app_context():
        member = roster.add_staff(db.session.get(Contractor, contractor_id), name=name, id_number=PEOPLE[key],
                                  joined_on=joined_on)
        if left_on is not None:
            roster.end_staff(member, left_on)
        db.session.commit()
        return member.id


def on_work_list(app, world, staff_id, from_on, until_on=None):
    with app.app_context(), tenant_scope(world["tenant"]):
        db.session.add(ContractWorker(contract_id=world["contract"], staff_id=staff_id, from_on=from_on,
                                      until_on=until_on))
        db.session.commit()


def detect(app, world, detector):
    """Run one detector as the bureau and commit; returns the kinds found."""
    with app.app_context(), tenant_scope(world["tenant"]):
        found = detector(TODAY)
        db.session.commit()
        return [(v.kind, v.staff_id, v.occurred_on) for v in found]


def violations(app, world):
    with app.app_context(), tenant_scope(world["tenant"]):
        return [(v.kind, v.contract_id, v.staff_id, v.occurred_on, v.evidence) for v in
                db.session.scalars(select(Violation).order_by(Violation.id))]


def record(app, world, occurred_on, key=None):
    with app.app_context(), tenant_scope(world["tenant"]):
        violation = detectors.record_violation(
            "unlisted_worker", contract_id=world["contract"], staff_id=None, occurred_on=occurred_on,
            evidence={"visit": "1"}, summary="V01", dedupe_key=key or f"test:{occurred_on}")
        db.session.commit()
        return violation.id


def flagged_at(app, world):
    with app.app_context(), tenant_scope(world["tenant"]):
        return db.session.get(Contract, world["contract"]).suspension_review_flagged_at


# --- detectors ---------------------------------------------------------------------------------

def test_a_person_on_two_rosters_over_overlapping_dates_is_found_once(app, world):
    mine = add_person(app, world["x"]["id"], "overlapping", date(2026, 1, 1), left_on=date(2026, 6, 30))
    add_person(app, world["y"]["id"], "overlapping", date(2026, 6, 1))
    on_work_list(app, world, mine, date(2026, 2, 1), until_on=date(2026, 6, 30))

    assert detect(app, world, detectors.detect_two_rosters) == [("two_rosters", mine, date(2026, 6, 1))]
    detect(app, world, detectors.detect_two_rosters)

    [(kind, contract_id, staff_id, occurred_on, evidence)] = violations(app, world)
    assert (kind, contract_id, staff_id) == ("two_rosters", world["contract"], mine)
    assert evidence["overlap"] == "2026-06-01 – 2026-06-30"
    assert "乙养老服务公司" in evidence["other_roster"] and evidence["id_number"].count("*") == 10


def test_a_person_whose_roster_periods_do_not_overlap_is_not_flagged(app, world):
    mine = add_person(app, world["x"]["id"], "consecutive", date(2026, 1, 1), left_on=date(2026, 3, 31))
    add_person(app, world["y"]["id"], "consecutive", date(2026, 4, 1))
    on_work_list(app, world, mine, date(2026, 2, 1), until_on=date(2026, 3, 31))

    assert detect(app, world, detectors.detect_two_rosters) == []
    assert detect(app, world, detectors.detect_not_on_roster) == []


def test_insurance_paid_by_another_employer_is_found_and_by_the_own_contractor_is_not(app, world):
    mine = add_person(app, world["x"]["id"], "insured", date(2026, 1, 1))
    on_work_list(app, world, mine, date(2026, 2, 1))
    with app.app_context():
        own, other = (db.session.get(Contractor, world[k]["id"]).credit_code for k in ("x", "y"))
        db.session.add_all([StaffEmployment(staff_id=mine, month=date(2026, 3, 1), insured_by_credit_code=other),
                            StaffEmployment(staff_id=mine, month=date(2026, 4, 1), insured_by_credit_code=own)])
        db.session.commit()

    assert detect(app, world, detectors.detect_insured_elsewhere) == [("insured_elsewhere", mine, date(2026, 3, 1))]
    assert detect(app, world, detectors.detect_insured_elsewhere) == [("insured_elsewhere", mine, date(2026, 3, 1))]

    [(kind, _, _, _, evidence)] = violations(app, world)
    assert evidence["month"] == "2026-03" and evidence["insured_by_credit_code"] == other
    assert evidence["insured_by_name"] == "乙养老服务公司"


def test_a_worker_on_the_work_list_after_leaving_the_roster_or_never_on_it_is_found_once(app, world):
    gone = add_person(app, world["x"]["id"], "left", date(2026, 1, 1), left_on=date(2026, 5, 31))
    stranger = add_person(app, world["y"]["id"], "insured", date(2026, 1, 1), name="吴强")
    on_work_list(app, world, gone, date(2026, 2, 1))
    on_work_list(app, world, stranger, date(2026, 3, 1))

    assert sorted(detect(app, world, detectors.detect_not_on_roster)) == [
        ("not_on_roster", gone, date(2026, 6, 1)), ("not_on_roster", stranger, date(2026, 3, 1))]
    detect(app, world, detectors.detect_not_on_roster)

    found = violations(app, world)
    assert len(found) == 2
    assert {e["reason"] for *_, e in found} == {"left", "never"}


def test_the_entry_point_returns_the_existing_violation_for_a_known_dedupe_key(app, world):
    first = record(app, world, date(2026, 5, 1), key="visit:42:V01")
    assert record(app, world, date(2026, 5, 2), key="visit:42:V01") == first
    assert len(violations(app, world)) == 1


def test_the_entry_point_refuses_a_raw_id_number_in_the_evidence(app, world):
    with app.app_context(), tenant_scope(world["tenant"]), pytest.raises(detectors.RawIdNumberError):
        detectors.record_violation("shared_device", contract_id=world["contract"], staff_id=None,
                                   occurred_on=TODAY, evidence={"worker": f"张三 {PEOPLE['left']}"},
                                   summary="", dedupe_key="device:1")


# --- suspension review ----------------------------------------------------------------------------

def test_the_third_violation_within_12_months_flags_the_contract_and_a_dismissal_clears_it(app, world, login):
    record(app, world, date(2026, 1, 10))
    record(app, world, date(2026, 6, 1))
    assert flagged_at(app, world) is None
    third = record(app, world, date(2027, 1, 10))  # exactly 12 months after the first
    assert flagged_at(app, world) is not None

    supervisor = login("gx-supervisor")
    supervisor.set_cookie("lang", "en")
    assert "GX-HT-001" in supervisor.get("/supervision/flagged").get_data(as_text=True)
    response = support.form_post(supervisor, f"/supervision/violations/{third}/dismiss",
                                 {"note": "The worker was on the roster; the roster import was late."})
    assert response.status_code == 302
    assert flagged_at(app, world) is None
    with app.app_context(), tenant_scope(world["tenant"]):
        audit = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "Violation", AuditEntry.object_id == str(third),
            AuditEntry.action == "update")).one()
        assert audit.actor == "gx-supervisor" and audit.after["status"] == "dismissed"


def test_three_violations_spread_over_more_than_12_months_do_not_flag(app, world):
    for day in (date(2025, 1, 1), date(2025, 8, 1), date(2026, 1, 2)):
        record(app, world, day)
    assert flagged_at(app, world) is None


def test_the_flag_shows_on_the_officer_and_supervisor_dashboards(app, world, login):
    for day in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        record(app, world, day)
    for username in ("gx-officer", "gx-supervisor"):
        client = login(username)
        client.set_cookie("lang", "en")
        page = client.get("/").get_data(as_text=True)
        assert "Contracts flagged for suspension review" in page
        assert '<span class="card-value">1</span> <span class="card-title">Contracts flagged' in page


# --- the job and the pages ------------------------------------------------------------------------

def test_the_detection_job_runs_through_the_queue_and_a_second_run_adds_nothing(app, world, run_worker):
    gone = add_person(app, world["x"]["id"], "left", date(2026, 1, 1), left_on=date(2026, 5, 31))
    on_work_list(app, world, gone, date(2026, 2, 1))
    runs = []
    for _ in range(2):
        with app.app_context():
            runs.append(enqueue("supervision.detect_violations", tenant_id=world["tenant"], on=TODAY.isoformat()).id)
            db.session.commit()
        run_worker()
    with app.app_context(), tenant_scope(world["tenant"]):
        assert [db.session.get(JobRun, r).status for r in runs] == ["finished", "finished"]
        assert db.session.get(JobRun, runs[0]).progress == 100
        assert db.session.execute(select(func.count()).select_from(Violation)).scalar_one() == 1


def test_a_supervisor_starts_the_checks_from_the_page_and_sees_the_run(app, world, login, run_worker):
    gone = add_person(app, world["x"]["id"], "left", date(2026, 1, 1), left_on=date(2026, 5, 31))
    on_work_list(app, world, gone, date(2026, 2, 1))
    supervisor = login("gx-supervisor")
    supervisor.set_cookie("lang", "en")
    assert support.form_post(supervisor, "/supervision/detect", {}, token_url="/supervision/").status_code == 302
    run_worker()
    home = supervisor.get("/supervision/").get_data(as_text=True)
    assert "Finished" in home and "gx-supervisor" in home
    assert len(violations(app, world)) == 1
    assert login("gx-officer").post("/supervision/detect").status_code in (400, 403)


def test_supervisors_filter_and_confirm_with_a_note_and_officers_only_read(app, world, login):
    gone = add_person(app, world["x"]["id"], "left", date(2026, 1, 1), left_on=date(2026, 5, 31))
    on_work_list(app, world, gone, date(2026, 2, 1))
    detect(app, world, detectors.detect_not_on_roster)
    [violation_id] = [v.id for v in _all(app, world)]

    supervisor = login("gx-supervisor")
    supervisor.set_cookie("lang", "en")
    listed = supervisor.get("/supervision/violations?kind=not_on_roster&status=open").get_data(as_text=True)
    assert f"/supervision/violations/{violation_id}" in listed
    assert f"/supervision/violations/{violation_id}" not in supervisor.get(
        "/supervision/violations?kind=two_rosters").get_data(as_text=True)
    empty_note = support.form_post(supervisor, f"/supervision/violations/{violation_id}/confirm", {"note": ""})
    assert empty_note.status_code == 200 and _all(app, world)[0].status == "open"
    confirmed = support.form_post(supervisor, f"/supervision/violations/{violation_id}/confirm",
                                  {"note": "Confirmed by a phone call to the worker."})
    assert confirmed.status_code == 302 and _all(app, world)[0].status == "confirmed"

    officer = login("gx-officer")
    assert officer.get(f"/supervision/violations/{violation_id}").status_code == 200
    assert officer.get(f"/supervision/violations/{violation_id}/dismiss").status_code == 403
    auditor = login("gx-auditor", tenant="ganxian")
    assert auditor.get("/supervision/violations").status_code == 200


def test_a_contractor_manager_sees_the_own_contracts_violations_and_404_for_another_contractors(
        app, world, login):
    gone = add_person(app, world["x"]["id"], "left", date(2026, 1, 1), left_on=date(2026, 5, 31))
    on_work_list(app, world, gone, date(2026, 2, 1))
    detect(app, world, detectors.detect_not_on_roster)
    [violation_id] = [v.id for v in _all(app, world)]

    own = login("x-manager", tenant="ganxian")
    assert own.get(f"/supervision/violations/{violation_id}").status_code == 200
    assert f"/supervision/violations/{violation_id}" in own.get("/supervision/violations").get_data(as_text=True)
    other = login("y-manager", tenant="ganxian")
    assert other.get(f"/supervision/violations/{violation_id}").status_code == 404
    assert f"/supervision/violations/{violation_id}" not in other.get("/supervision/violations").get_data(as_text=True)
    assert login("zg-officer").get(f"/supervision/violations/{violation_id}").status_code == 404


def test_no_raw_id_number_in_evidence_pages_or_audit_rows(app, world, login):
    mine = add_person(app, world["x"]["id"], "overlapping", date(2026, 1, 1), left_on=date(2026, 6, 30))
    add_person(app, world["y"]["id"], "overlapping", date(2026, 6, 1))
    insured = add_person(app, world["x"]["id"], "insured", date(2026, 1, 1), name="吴强")
    gone = add_person(app, world["x"]["id"], "left", date(2026, 1, 1), left_on=date(2026, 5, 31), name="郑丽")
    for staff_id in (mine, insured, gone):
        on_work_list(app, world, staff_id, date(2026, 2, 1))
    with app.app_context():
        db.session.add(StaffEmployment(staff_id=insured, month=date(2026, 3, 1),
                                       insured_by_credit_code="91360700MA35ABCDE1"))
        db.session.commit()
    with app.app_context(), tenant_scope(world["tenant"]):
        found = detectors.detect_all(TODAY)
        db.session.commit()
    assert {kind for kind, items in found.items() if items} == {"two_rosters", "insured_elsewhere", "not_on_roster"}

    texts = [json.dumps([(v.summary, v.evidence) for v in _all(app, world)], ensure_ascii=False)]
    supervisor = login("gx-supervisor")
    texts.append(supervisor.get("/supervision/violations").get_data(as_text=True))
    texts.append(supervisor.get("/supervision/").get_data(as_text=True))
    for violation in _all(app, world):
        texts.append(supervisor.get(f"/supervision/violations/{violation.id}").get_data(as_text=True))
        texts.append(supervisor.get(f"/supervision/violations/{violation.id}/confirm").get_data(as_text=True))
    two_rosters = next(v.id for v in _all(app, world) if v.kind == "two_rosters")
    contractor_page = login("x-manager", tenant="ganxian").get(
        f"/supervision/violations/{two_rosters}").get_data(as_text=True)
    assert "乙养老服务公司" not in contractor_page  # the other employer is the bureau's business
    texts.append(contractor_page)
    with support.as_platform(app):
        texts.extend(json.dumps([a.before, a.after], ensure_ascii=False, default=str)
                     for a in db.session.scalars(select(AuditEntry)))
    blob = "\n".join(texts)
    assert "**********" in blob  # the masked numbers are there
    for number in PEOPLE.values():
        assert number not in blob


def _all(app, world):
    with app.app_context(), tenant_scope(world["tenant"]):
        rows = db.session.scalars(select(Violation).order_by(Violation.id)).all()
        db.session.expunge_all()
        return rows
