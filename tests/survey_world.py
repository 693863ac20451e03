"""Household economic surveys recorded through the real recording code on the demo world
(docs/DOMAIN.md §6): contractor D's ``HH-SURVEY`` contract (GX-DEMO-002's award) with d-worker1 on
its work list and a few ganxian demo people assigned to it, and the bureau's minimum living
standard set to STANDARD_FEN (the setting, with no dated standard left, so it applies on every
day). The world starts with no survey: the demo's own (portal/surveys/demo.py: its surveys of
other families, re-checks and change report, its asset tests and re-survey months) are removed, so each test
counts only what it made; tests/test_surveys_demo.py looks at the demo's. Their home visits and
D's demo statements stay. Each helper opens its own app context and tenant scope and commits."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from portal.contractors.demo import id_number
from portal.core.timeutil import local_midnight_utc, local_today, to_local, utcnow
from tests import support

# Assigned to D's contract with d-worker1; none of them is assessed (tests/assessment_world.py) or
# surveyed by the demo itself, so the worlds never collide.
SURVEYED = ("郭水根", "杨细妹", "叶春林", "邹丽娟")
STANDARD_FEN = {"urban": 80_000, "rural": 60_000}  # per person and month
WORKER = "d-worker1"


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id(code))


def survey_world(app):
    """{"contract": D's HH-SURVEY contract id, "people": {name: id} of ganxian's demo people,
    "homes": {name: (lat, lon)}}; SURVEYED are assigned to the contract with d-worker1 and the
    standard is STANDARD_FEN. Built once per run on the demo world with its history
    (portal.demo.seed), then restored (support.built_once)."""
    support.seed_demo(app, history=True)
    return support.built_once(app, "survey_world", build, on="history")


def build(app):
    """What survey_world builds, on the database as it is (for worlds built on top of it)."""
    from portal.accounts.models import User
    from portal.beneficiaries import assignments
    from portal.beneficiaries.demo import demo_contract
    from portal.beneficiaries.models import Beneficiary
    from portal.contractors.models import StaffMember
    from portal.contracts import assignments as work_list
    from portal.contracts.models import Assignment, ContractWorker
    from portal.extensions import db
    with app.app_context(), scope(app):
        contract = demo_contract("D", "HH-SURVEY")
        staff = db.session.execute(select(StaffMember).join(User, User.id == StaffMember.user_id)
                                   .where(User.username == WORKER, StaffMember.left_on.is_(None))).scalar_one()
        start = max(contract.starts_on, staff.joined_on)
        listed = db.session.execute(select(ContractWorker).where(
            ContractWorker.contract_id == contract.id, ContractWorker.staff_id == staff.id)).scalars().first()
        if listed is None:
            work_list.add_worker(contract, staff.id, start)
        else:  # on the list since the demo put them there (the contract may start earlier since)
            start = max(start, listed.from_on)
        people = {p.name: p for p in db.session.execute(select(Beneficiary)).scalars()}
        for name in SURVEYED:
            assigned = db.session.execute(select(Assignment.id).where(
                Assignment.contract_id == contract.id, Assignment.beneficiary_id == people[name].id)).first()
            if assigned is None:
                assignments.assign(contract, people[name].id, staff.id, start)
        db.session.commit()
        world = {"contract": contract.id, "people": {name: p.id for name, p in people.items()},
                 "homes": {name: (p.lat, p.lon) for name, p in people.items()}}
    without_demo_surveys(app)
    set_standard(app, STANDARD_FEN["urban"], STANDARD_FEN["rural"])
    return world


def without_demo_surveys(app, code="ganxian"):
    """Remove the demo's surveys (those of families outside SURVEYED) with what hangs on them
    (members, incomes, expenses, interviews, re-checks, the demo's draws, change reports) and set
    the survey settings the demo chose (asset tests, re-survey months) back to their defaults. What
    tests made of SURVEYED is kept, so building again on top of a world is harmless."""
    from portal.beneficiaries.models import Beneficiary
    from portal.extensions import db
    from portal.surveys.models import HouseholdSurvey, SurveyChangeReport, SurveyRecheck, SurveyRecheckDraw
    from portal.tenancy.models import Tenant
    from portal.tenancy.settings import DEFAULT_SETTINGS
    from portal.tenancy.services import change_settings
    with app.app_context(), scope(app, code):
        others = select(Beneficiary.id).where(Beneficiary.name.not_in(SURVEYED))
        demo_surveys = select(HouseholdSurvey.id).where(HouseholdSurvey.beneficiary_id.in_(others))
        for query in (select(SurveyRecheck).where(SurveyRecheck.survey_id.in_(demo_surveys)),
                      select(SurveyRecheckDraw).where(SurveyRecheckDraw.seed.like("demo:%")),
                      select(SurveyChangeReport).where(SurveyChangeReport.beneficiary_id.in_(others)),
                      select(HouseholdSurvey).where(HouseholdSurvey.id.in_(demo_surveys))):
            for row in db.session.execute(query).scalars().all():
                db.session.delete(row)  # a survey takes its members, incomes, expenses and interviews along
            db.session.flush()
        tenant = db.session.get(Tenant, support.World(app).tenant_id(code))
        change_settings(tenant, {key: DEFAULT_SETTINGS[key] for key in ("asset_tests", "resurvey_months")})
        db.session.commit()


def set_standard(app, urban_fen, rural_fen, code="ganxian"):
    """Make the bureau's setting ``min_living_standard_fen`` the standard on every day: the
    setting changed through tenancy.services.change_settings, and the dated standards
    (LivingStandard rows, which would take precedence from their day on) removed."""
    from portal.extensions import db
    from portal.surveys.models import LivingStandard
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    with app.app_context(), scope(app, code):
        for row in db.session.execute(select(LivingStandard)).scalars():
            db.session.delete(row)
        tenant = db.session.get(Tenant, support.World(app).tenant_id(code))
        change_settings(tenant, {"min_living_standard_fen": {"urban": urban_fen, "rural": rural_fen}})
        db.session.commit()


def member_id_number(family_index, member_index, born="19780315"):
    """A valid resident ID number (check digit computed) for a member of a test family."""
    return id_number(f"360721{born}{(family_index * 10 + member_index) % 1000:03d}")


def body(world, name=SURVEYED[0], *, at=None, monthly_wages_fen=100_000, **overrides):
    """A valid POST /api/v1/surveys body for ``name`` at their home, surveyed two hours ago (or at
    Beijing midnight when that was yesterday): an urban application for the minimum living
    allowance, two members (the applicant and a spouse), one monthly wage income (100,000 fen: 500
    yuan per member and month, eligible under STANDARD_FEN), no assets, no expenses and one
    neighbour interview."""
    lat, lon = world["homes"][name]
    # two hours ago, but never before today's Beijing midnight (tests compare with local_today())
    at = at or max(utcnow() - timedelta(hours=2), local_midnight_utc(local_today()))
    family = world["people"][name] % 97
    payload = {
        "client_id": str(uuid.uuid4()), "beneficiary_id": world["people"][name],
        "surveyed_at": to_local(at).isoformat(), "lat": lat, "lon": lon, "accuracy_m": 6, "device_id": "phone-d1",
        "kind": "application", "category": "dibao", "area": "urban",
        "members": [
            {"name": name, "relation": "self", "id_number": member_id_number(family, 1),
             "work_ability": "limited", "disability_grade": 0},
            {"name": "测试配偶", "relation": "spouse", "id_number": member_id_number(family, 2, "19800721"),
             "work_ability": "able", "disability_grade": 0},
        ],
        "incomes": [{"member": 1, "kind": "wages", "period": "monthly", "amount_fen": monthly_wages_fen,
                     "note": "零工收入"}],
        "assets": {"deposits_fen": 0, "dwellings": 0, "housing_area_m2": 0, "vehicles": 0},
        "expenses": [],
        "interviews": [{"neighbour": "邻居王大姐", "interviewed_at": to_local(at).isoformat(),
                        "statement": "这家人确实困难，男的打零工，没有别的收入。"}],
        "notes": "入户核查，材料齐全",
    }
    payload.update(overrides)
    return payload


def record(app, world, name=SURVEYED[0], *, username=WORKER, **overrides):
    """A survey recorded through recording.record_survey; returns its id."""
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.surveys import recording
    with app.app_context(), scope(app):
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        survey, _created = recording.record_survey(body(world, name, **overrides), user, utcnow())
        db.session.commit()
        return survey.id


TODAY = local_today()
