"""The demo's household economic surveys (docs/DOMAIN.md §6), seeded after the assessments and
before the statements: contractor D's HH-SURVEY contract (GX-DEMO-002, from two months back) gets
d-worker1 on its work list and seven ganxian families, and the bureau its survey settings — the
standard before the first dated one (the setting), a mid-year rise recorded as dated standards
(urban 810, rural 620 yuan per person and month), asset tests and re-survey months. Then, through
the real code with clocks set back:

* the month before last: three surveys (eligible, marginal, not eligible) reviewed by
  gx-supervisor and signed off by gx-officer; the month's re-check draw (stored seed) made by
  gx-supervisor2 early last month, whose home visit finds another outcome — a discrepancy that D's
  statement of last month deducts;
* last month: an exit (the re-survey of a supported family whose income rose), an asset-test
  failure (deposits over the limit) and an eligible application signed off, and the re-survey of
  the marginal family reviewed, awaiting sign-off;
* a family whose household changed a month ago (a change report, due ten working days later)
  and which has not been re-surveyed since — its early re-survey is overdue — and one open change
  report this month, due soon. (Every survey falls within D's contract and the family's
  assignment: a survey dated outside them is refused.)

Each step looks before it creates (surveys by their client ids, the draw by its month, dated
standards by their day): a second run changes nothing."""
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.beneficiaries.demo import assign_round_robin, demo_contract
from portal.beneficiaries.models import Beneficiary
from portal.contractors.demo import id_number
from portal.core.months import add_months, month_text, previous_month
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from portal.surveys import rechecks, review, schedule, standards
from portal.surveys.models import HouseholdSurvey, SurveyChangeReport
from portal.tenancy.scope import tenant_scope
from portal.visits import verification
from portal.visits.demo import comparisons_in_process

ITEM = "HH-SURVEY"
NAMESPACE = uuid.UUID("3c9e1f47-8a2b-4d6c-b1e5-7f0a9d2c4e63")
SURVEYOR = "d-worker1"
USERS = (SURVEYOR, "gx-officer", "gx-supervisor", "gx-supervisor2")
SETTINGS = {
    "min_living_standard_fen": {"urban": 78_000, "rural": 59_000},  # before the first dated standard
    "asset_tests": {"deposits_per_capita_fen": 3_000_000, "vehicles": 0, "dwellings": 1},
    "resurvey_months": {"dibao": 12, "dibao_marginal": 6, "tekun": 12, "expense_poverty": 6},
}
RAISED = {"urban": 81_000, "rural": 62_000}
RAISE_NOTE = "赣县区民政局 赣县区财政局关于提高城乡最低生活保障标准的通知（演示）"
# (family, tag, months back from this month, day, area, kind, monthly wages fen, deposits fen, status)
SURVEYS = [
    ("胡兰香", "eligible", 2, 3, "urban", "review", 100_000, 0, "signed_off"),
    ("朱冬娣", "marginal", 2, 6, "rural", "application", 180_000, 500_000, "signed_off"),
    ("廖满英", "not-eligible", 2, 9, "urban", "application", 260_000, 0, "signed_off"),
    ("徐海明", "exit", 1, 4, "urban", "review", 300_000, 0, "signed_off"),
    ("蔡志强", "assets", 1, 8, "rural", "application", 60_000, 8_000_000, "signed_off"),
    ("李欣怡", "application", 1, 14, "rural", "application", 70_000, 0, "signed_off"),
    ("朱冬娣", "resurvey", 1, 20, "rural", "review", 150_000, 500_000, "reviewed"),
    ("王子豪", "overdue", 2, 12, "rural", "review", 50_000, 0, "signed_off"),
]
CHANGE_FAMILY = "胡兰香"
OVERDUE_FAMILY = "王子豪"  # its change report a month old, not re-surveyed since
NEIGHBOURS = ("邻居刘大姐", "村民小组长钟国平", "隔壁邻居谢师傅")


def _local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def rise_day(today):
    """The day of the demo's mid-year rise: the latest 1 July on or before the first day of the
    month before last, so that every demo survey (none older) is judged on the raised standard."""
    earliest = add_months(today.replace(day=1), -2)
    return date(earliest.year if earliest.month >= 7 else earliest.year - 1, 7, 1)


def _settings(tenant, today):
    """The bureau's survey settings and the mid-year rise, when not set yet (rows created)."""
    from portal.tenancy.services import change_settings
    created = 0
    missing = {key: value for key, value in SETTINGS.items() if key not in (tenant.settings or {})}
    if missing and change_settings(tenant, missing):
        created += 1
    raised_on = rise_day(today)
    for area, monthly_fen in RAISED.items():
        if standards.dated_standard(area, raised_on) is None:
            standards.add_standard(area, raised_on, monthly_fen, RAISE_NOTE, None)
            created += 1
    return created


def _body(person, tag, at, area, kind, wages_fen, deposits_fen, index):
    """The survey as the field app sends it: the applicant and a working family member."""
    return {
        "client_id": str(uuid.uuid5(NAMESPACE, f"{person.id}:{tag}")), "beneficiary_id": person.id,
        "surveyed_at": at.isoformat(), "lat": person.lat, "lon": person.lon, "accuracy_m": 7,
        "device_id": "demo-d-worker1-phone", "kind": kind, "category": "dibao", "area": area,
        "members": [
            {"name": person.name, "relation": "self", "id_number": id_number(f"36072119680412{300 + index * 2:03d}"),
             "work_ability": "limited", "disability_grade": 3 if tag == "assets" else 0},
            {"name": f"{person.name[0]}建军", "relation": "child",
             "id_number": id_number(f"36072119950108{301 + index * 2:03d}"), "work_ability": "able",
             "disability_grade": 0},
        ],
        "incomes": [{"member": 1, "kind": "wages", "period": "monthly", "amount_fen": wages_fen,
                     "note": "演示：在县城务工"}],
        "assets": {"deposits_fen": deposits_fen, "dwellings": 1, "housing_area_m2": 60, "vehicles": 0},
        "expenses": [{"kind": "medical", "annual_fen": 240_000, "note": "演示：慢性病门诊"}] if index % 2 else [],
        "interviews": [{"neighbour": NEIGHBOURS[index % len(NEIGHBOURS)], "interviewed_at": (at + timedelta(minutes=40))
                        .isoformat(), "statement": "演示：家中情况与申报一致，未见大额消费。"}],
        "notes": "演示：入户核查，查看了存折和务工证明。",
    }


def _record(person, spec, index, users, today):
    """One survey through the recording code, its home visit verified, then reviewed and signed off
    as ``spec`` says, each step at its own moment. Returns the survey."""
    from portal.surveys.recording import record_survey
    _name, tag, back, day, area, kind, wages, deposits, status = spec
    month = add_months(today.replace(day=1), -back)
    at = _local(month.replace(day=day), 9 + index % 6)
    client_id = str(uuid.uuid5(NAMESPACE, f"{person.id}:{tag}"))
    survey = db.session.scalar(select(HouseholdSurvey).where(HouseholdSurvey.client_id == client_id))
    if survey is None:
        with comparisons_in_process():
            survey, _created = record_survey(_body(person, tag, at, area, kind, wages, deposits, index),
                                             users[SURVEYOR], at + timedelta(hours=2))
        visit = survey.visit
        if visit is not None and visit.status == "pending":
            moment = survey.received_at + timedelta(minutes=5)
            verification.run_comparative_rules(visit, moment)
            verification.settle_status(visit, moment, final=True)
    if survey.status == "recorded" and status in ("reviewed", "signed_off"):
        review.review(survey, users["gx-supervisor"], at + timedelta(days=1), "演示：材料齐全，邻里走访属实。")
    if survey.status == "reviewed" and status == "signed_off":
        review.sign_off(survey, users["gx-officer"], at + timedelta(days=2))
    return survey


def _recheck(contract, month, users):
    """The month's re-check draw early the next month and the home visit of each drawn survey; the
    first finds another outcome (a discrepancy). Returns rows created."""
    checker = users["gx-supervisor2"]
    after = add_months(month, 1)
    drawn = rechecks.find_draw(contract.id, month)
    created = 0
    if drawn is None:
        drawn = rechecks.draw(contract, month, checker, _local(after.replace(day=2), 9),
                              seed=f"demo:{contract.id}:{month_text(month)}")
        created += 1 + len(drawn.rechecks)
    for index, row in enumerate(sorted(drawn.rechecks, key=lambda r: r.survey_id)):
        if row.rechecked_at is not None:
            continue
        survey = row.survey
        found = survey.outcome
        if index == 0:  # the discrepancy: the household's income was more than declared
            found = "not_eligible" if survey.outcome != "not_eligible" else "marginal"
        moment = _local(after.replace(day=5), 15 + index)
        rechecks.record_recheck(row, checker, moment, outcome_found=found,
                                per_capita_found_fen=survey.per_capita_income_fen + (60_000 if index == 0 else 0),
                                members_found=survey.members_count, notes="演示：复核入户，核对务工收入。",
                                rechecked_at=moment)
        created += 1
    return created


def _change_reports(people, users, today):
    """A change report a month old whose early re-survey is overdue, and one of today, due soon."""
    created = 0
    for name, kind, day, note in (
            (OVERDUE_FAMILY, "members_changed", today - timedelta(days=30), "演示：其孙子女随父母迁回，家庭人口增加。"),
            (CHANGE_FAMILY, "income_changed", today, "演示：村委会反映其子女已外出务工，家庭收入增加。")):
        person = people[name]
        if db.session.scalar(select(SurveyChangeReport.id).where(SurveyChangeReport.beneficiary_id == person.id)):
            continue
        schedule.open_change_report(person, kind, day, note, users["gx-supervisor"])
        created += 1
    return created


def seed_surveys(tenants, now=None):
    """Seed what is missing of the above; returns how many rows were created (0 on a second run)."""
    now = now or utcnow()
    today = local_today(now)
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("D", ITEM)
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(USERS)))}
        names = [spec[0] for spec in SURVEYS]
        people = {p.name: p for p in db.session.scalars(select(Beneficiary).where(Beneficiary.name.in_(names)))}
        if contract is None or len(users) < len(USERS) or len(people) < len(set(names)):
            return 0
        created = _settings(tenants["ganxian"], today)
        created += assign_round_robin(contract, [people[name] for name in dict.fromkeys(names)], (SURVEYOR,))
        before = db.session.scalar(select(db.func.count(HouseholdSurvey.id)))
        for index, spec in enumerate(SURVEYS):
            _record(people[spec[0]], spec, index, users, today)
        created += db.session.scalar(select(db.func.count(HouseholdSurvey.id))) - before
        created += _recheck(contract, previous_month(previous_month(today)), users)
        created += _change_reports(people, users, today)
        db.session.flush()
    return created

