"""The demo's self-care assessments (docs/DOMAIN.md §2.1, §6), seeded after the visits and spot
checks and before the statements: contractor B's ADL-ASSESS contract gets b-worker1 on its work
list and a few ganxian people in extreme poverty (特困) to assess. Then, through the real code with
clocks set back:

* the previous month: six assessments by b-worker1 (every class), submitted by b-manager, one
  publicity round opened by gx-officer whose period has ended, one objection from the public
  (answered by gx-supervisor, rejected), the re-check sample drawn with a stored seed, its
  re-checks made by gx-supervisor — one of them finds another class (a discrepancy) — and the
  round made final, so B's statement of that month pays them;
* the current month: three more assessments of other people in a round still in publicity, so
  the public masked list exists, with one objection waiting for an answer.

Each step looks before it creates (the assessments by their client ids, the rounds by their
assessments): a second run changes nothing."""
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.assessments import objections, publicity, rechecks
from portal.assessments.models import INDICATORS, Assessment
from portal.beneficiaries.demo import DECEASED, HOSPITALISED, assign_round_robin, demo_contract
from portal.beneficiaries.models import Beneficiary
from portal.core.months import previous_month
from portal.core.timeutil import LOCAL_TZ, local_midnight_utc, local_today, to_local, utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.visits import verification
from portal.visits.demo import comparisons_in_process

ITEM = "ADL-ASSESS"
NAMESPACE = uuid.UUID("0b6d5e3a-1c2f-4e8d-9a7b-3f4c5d6e7f80")
ASSESSOR = "b-worker1"
USERS = (ASSESSOR, "b-manager", "gx-officer", "gx-supervisor")
# Indicators not met, per person of the previous month's round (0 → self_care, 1–3 partial, 4+ complete)
LAST_MONTH = (0, 1, 3, 4, 6, 2)
THIS_MONTH = (0, 2, 5)
# The first sampled re-check disagrees: the indicators not met it finds, by the assessor's class
DISCREPANCY_FOUND = {"self_care": 2, "partial": 5, "complete": 2}


def _indicators(not_met):
    return {name: index >= not_met for index, name in enumerate(INDICATORS)}


def _local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def _people(contract):
    """The 特困 people of ganxian the demo assesses: in care (neither in hospital nor deceased), by id."""
    people = db.session.scalars(select(Beneficiary).where(
        Beneficiary.category == "tekun", Beneficiary.name.not_in((HOSPITALISED, DECEASED)))
        .order_by(Beneficiary.id)).all()
    return people[:len(LAST_MONTH) + len(THIS_MONTH)]


def _record_all(specs, users):
    """Record ``[(person, not_met, assessed_at)]`` by b-worker1 through the recording code; returns
    the assessments (existing ones found again by their client ids)."""
    from portal.assessments.recording import record_assessment
    done = []
    with comparisons_in_process():
        for person, not_met, at in specs:
            client_id = str(uuid.uuid5(NAMESPACE, f"{person.id}:{to_local(at):%Y-%m}"))  # one a month per person
            existing = db.session.scalar(select(Assessment).where(Assessment.client_id == client_id))
            if existing is not None:
                done.append(existing)
                continue
            home = (person.lat, person.lon)
            payload = {"client_id": client_id, "beneficiary_id": person.id, "assessed_at": at.isoformat(),
                       "lat": home[0], "lon": home[1], "accuracy_m": 8, "indicators": _indicators(not_met),
                       "notes": "演示：入户评估，六项指标逐项核对。", "device_id": "demo-b-worker1-phone"}
            assessment, _created = record_assessment(payload, users[ASSESSOR], at + timedelta(minutes=5),
                                                     source="app")
            done.append(assessment)
    for assessment in done:
        visit = assessment.visit
        if visit is not None and visit.status == "pending":
            moment = assessment.received_at + timedelta(minutes=5)
            verification.run_comparative_rules(visit, moment)
            verification.settle_status(visit, moment, final=True)
    db.session.flush()
    return done


def _submit(assessments, users, at):
    from portal.assessments.recording import submit
    waiting = [a for a in assessments if a.status == "recorded"]
    if waiting:
        submit(waiting, users["b-manager"], at)


def _open_round(contract, assessments, users, at):
    """The round holding ``assessments`` (opened at ``at`` when none does)."""
    held = next((a.publicity for a in assessments if a.publicity is not None), None)
    if held is not None:
        return held, 0
    waiting = [a for a in assessments if a.status == "submitted"]
    return publicity.open_publicity(contract, waiting, users["gx-officer"], at), 1


def _last_month(contract, people, users, today):
    """The previous month's round, carried to final."""
    first = previous_month(today)
    specs = [(person, not_met, _local(first + timedelta(days=1 + index // 3), 9 + 2 * (index % 3)))
             for index, (person, not_met) in enumerate(zip(people, LAST_MONTH))]
    assessments = _record_all(specs, users)
    _submit(assessments, users, _local(first + timedelta(days=4), 10))
    round_, created = _open_round(contract, assessments, users, _local(first + timedelta(days=5), 9))
    if round_.finalised_at is not None:
        return created
    supervisor = users["gx-supervisor"]
    if not round_.objections:
        objection = objections.submit_objection(
            round_, "演示：我是邻居，认为名单中这位老人的评估结果偏轻，请核实。", _local(round_.starts_on + timedelta(days=2), 15),
            assessment_id=assessments[1].id, contact="演示联系人 13800000000")
        objections.answer_objection(objection, "rejected", "经调阅评估记录并电话回访家属，评估结果属实，异议不成立。", supervisor,
                                    _local(round_.ends_on, 11))
        created += 1
    after = round_.ends_on + timedelta(days=1)
    rechecks.draw_sample(round_, supervisor, _local(after, 9), seed=f"demo:{round_.number}")
    for index, recheck in enumerate(sorted((a.recheck for a in round_.assessments if a.recheck is not None),
                                           key=lambda r: r.assessment_id)):
        if recheck.rechecked_at is not None:
            continue
        found = recheck.assessment.not_met
        if index == 0:  # the discrepancy: the re-check finds more indicators not met, another class
            found = DISCREPANCY_FOUND[recheck.assessment.care_class]
        rechecks.record_recheck(recheck, _indicators(found), supervisor, "演示：复检入户核对。", supervisor,
                                _local(after + timedelta(days=1), 10 + index))
        created += 1
    rechecks.finalise(round_, supervisor, _local(after + timedelta(days=2), 16))
    return created


def _this_month(contract, people, users, now):
    """A round of this month still in publicity, with one objection waiting."""
    start = local_midnight_utc(local_today(now).replace(day=1))
    span = max(now - start, timedelta(minutes=len(people) + 2))
    specs = [(person, not_met, start + span * (index + 1) / (len(people) + 2))
             for index, (person, not_met) in enumerate(zip(people, THIS_MONTH))]
    assessments = _record_all(specs, users)
    _submit(assessments, users, now)
    round_, created = _open_round(contract, assessments, users, now)
    if not round_.objections and publicity.phase(round_, local_today(now)) == "open":
        objections.submit_objection(round_, "演示：名单中有一位老人已搬到女儿家居住，请核实是否仍需评估。", now,
                                    contact="演示联系人 13900000000")
        created += 1
    return created


# The monthly care standard per class (fen), demonstration amounts (演示数据): 10 %, 30 % and 60 %
# of a 1,850-yuan monthly minimum wage, the proportions many bureaus use for 特困人员 care.
DEMO_CARE_STANDARD_FEN = {"self_care": 18_500, "partial": 55_500, "complete": 111_000}


def _care_standard(tenant):
    """Set the bureau's care standard when it has none of its own yet (1 when set, else 0)."""
    from portal.tenancy.services import change_settings
    if "care_standard_fen" in (tenant.settings or {}):
        return 0
    return 1 if change_settings(tenant, {"care_standard_fen": dict(DEMO_CARE_STANDARD_FEN)}) else 0


def seed_assessments(tenants, now=None):
    """Seed what is missing of the above; returns how many rows were created (0 on a second run)."""
    now = now or utcnow()
    with tenant_scope(tenants["ganxian"].id):
        created = _care_standard(tenants["ganxian"])
        contract = demo_contract("B", ITEM)
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(USERS)))}
        if contract is None or len(users) < len(USERS):
            return created
        people = _people(contract)
        if len(people) < len(LAST_MONTH) + len(THIS_MONTH):
            return created
        created += assign_round_robin(contract, people, (ASSESSOR,))
        before = db.session.scalar(select(db.func.count(Assessment.id)))
        created += _last_month(contract, people[:len(LAST_MONTH)], users, local_today(now))
        created += _this_month(contract, people[len(LAST_MONTH):], users, now)
        created += db.session.scalar(select(db.func.count(Assessment.id))) - before
        db.session.flush()
    return created
