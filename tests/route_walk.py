"""Helpers of the tests generated from the URL map (test_route_walk.py, test_list_pages.py): the demo
world with its history plus what it lacks for every list to have a second page, signed-in clients
of the demo roles, and URLs built from a rule with chosen values for its arguments."""
import re
import uuid
from datetime import date

from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter

from tests import support

# Who walks: anonymous and a demo user of every role (the auditor is the city's, who acts for
# several bureaus and picks one).
ROLES = {"anonymous": None, "platform": ("platform", None), "gx-admin": ("gx-admin", None),
         "gx-officer": ("gx-officer", None), "gx-supervisor": ("gx-supervisor", None),
         "gx-finance": ("gx-finance", None), "city-auditor": ("city-auditor", "ganxian"),
         "a-manager": ("a-manager", None), "a-worker1": ("a-worker1", None)}
SKIPPED_ENDPOINTS = {"static", "accounts.logout"}  # files on disk; signing out would end the walk
TEXT_SAMPLES = {"code": "ganxian", "slug": "dibao"}
_ARGUMENT = re.compile(r"<(?:([a-zA-Z_]+)(?:\(([^)]*)\))?:)?([a-zA-Z_]+)>")


def seed_lists(app):
    """The demo world with its history, plus a second row for the lists the history leaves with
    fewer than two: statements, violations, scorecards, job runs (built once per run, then
    restored: support.built_once)."""
    support.built_once(app, "walk_lists", _build_lists, on="empty")


def _build_lists(app):
    from portal.billing.settlement import prepare_statement
    from portal.contracts.models import Contract
    from portal.core.months import month_text, previous_month
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.jobs.models import JobRun
    from portal.tenancy.scope import tenant_scope
    from portal.violations.models import Violation
    support.seed_demo(app, history=True)
    gx = support.World(app).tenant_id("ganxian")
    last_month = month_text(previous_month(utcnow().date()))
    with app.app_context(), tenant_scope(gx):
        for contract in db.session.execute(select(Contract).where(Contract.status == "active")).scalars():
            prepare_statement(contract, last_month)
        for n in range(2):
            db.session.add(JobRun(id=str(uuid.uuid4()), name="walk.sample", tenant_id=gx, status="failed",
                                  error="sample", requested_by="gx-admin"))
        model = db.session.execute(select(Violation)).scalars().first()
        if model is not None:
            copy = {c.key: getattr(model, c.key) for c in Violation.__table__.columns if c.key != "id"}
            db.session.add(Violation(**{**copy, "dedupe_key": f"{model.dedupe_key}-walk", "occurred_on": date.today()}))
        db.session.commit()
        _scorecards(gx)
        db.session.commit()
        _late_verified_and_pending_corrections(gx)
        db.session.commit()
        _change_reports()
        db.session.commit()
    _assessments(app)
    _surveys(app)
    _survey_change_reports(app)
    _stations(app)
    _care_plans(app)
    with app.app_context(), tenant_scope(gx):
        _living_standards()
        db.session.commit()
        _training()
        db.session.commit()
        _feedback(gx)
        db.session.commit()
        _financial_reports()
        _evaluations()
        _acceptances()
        db.session.commit()


def _living_standards():
    """Two dated minimum living standards (surveys, core engineer): the standards page's list has a
    second page. Next year's, so that no survey of the walk is judged differently (and after the
    survey world, whose set_standard removes the dated ones)."""
    from datetime import timedelta

    from portal.accounts.models import User
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.surveys import standards
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    for area, fen in (("urban", 88_000), ("rural", 66_000)):
        standards.add_standard(area, local_today() + timedelta(days=365), fen, "", officer)


def _feedback(tenant_id):
    """Two answered and published feedback items (feedback/services.py): the bureau's list and the
    public answers have a second page."""
    from portal.accounts.models import User
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.feedback import services
    from portal.tenancy.models import Tenant
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    for n in range(2):
        item = services.submit(db.session.get(Tenant, tenant_id), "service", f"走查意见{n}", utcnow(), consent=True)
        services.publish(services.answer(item, "已处理。", officer, utcnow()), utcnow())


def _financial_reports():
    """Two financial reports of A's active contract for the last two months (finreports/services.py):
    the list has a second page for the bureau and for A's manager; the overdue list has its months."""
    from portal.accounts.models import User
    from portal.contracts.models import Contract
    from portal.core.months import month_text, previous_month
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.finreports import services
    from portal.finreports.models import FinancialReport
    manager = db.session.execute(select(User).where(User.username == "a-manager")).scalar_one()
    contract = db.session.execute(select(Contract).where(Contract.status == "active", Contract.contractor_id
                                                         == manager.contractor_id).order_by(Contract.id)).scalars().first()
    month = previous_month(local_today())
    for period in (month_text(month), month_text(previous_month(month))):
        if db.session.scalar(select(FinancialReport.id).where(  # the demo reports last month (finreports/demo.py)
                FinancialReport.contract_id == contract.id, FinancialReport.period == period)) is None:
            services.create(manager, contract.id, period, {"staff": "1,000.00"}, "走查")
def _evaluations():
    """Two annual evaluations of one contract (evaluations/services.py data, rows made directly):
    last year's awaiting review, the year before's approved below the threshold (flagged): the
    list has a second page and each page its actions."""
    from datetime import timedelta

    from portal.accounts.models import User
    from portal.contracts.models import Contract
    from portal.core.timeutil import local_today
    from portal.evaluations.models import PerformanceEvaluation
    from portal.extensions import db
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    contract = db.session.execute(select(Contract).where(Contract.status != "draft").order_by(Contract.id)).scalars().first()
    year = local_today().year - 1
    indicators = [{"code": code, "name": code, "weight": 10, "score_centi": 7000}
                  for code in ("finance", "management", "benefit")]
    for offset, status in ((0, "submitted"), (1, "approved")):
        db.session.add(PerformanceEvaluation(
            contract_id=contract.id, year=year - offset, status=status, scorecard_centi=5000, score_centi=5600,
            quarters=[{"quarter": f"{year - offset}-Q4", "scorecard_id": None, "score_centi": 5000, "published": False}],
            indicators=indicators, weights={"scorecards": 70, "finance": 10, "management": 10, "benefit": 10},
            finance={}, acceptance={}, threshold_centi=6000, below_threshold=True, conclusion="走查评价结论",
            review_note="", due_on=date(year - offset, 12, 31) + timedelta(days=90), prepared_by_id=officer.id))
def _acceptances():
    """Two acceptances of an active contract, one sampled person each (acceptance/services.py draws
    from verified visits; the walk needs only the rows): the list has a second page, and the
    detail page shows the opinion form."""
    from portal.acceptance.models import Acceptance, AcceptanceOpinion
    from portal.beneficiaries.models import Beneficiary
    from portal.contracts.models import Contract
    from portal.extensions import db
    contract = db.session.execute(select(Contract).where(Contract.status == "active").order_by(Contract.id)).scalars().first()
    person = db.session.execute(select(Beneficiary).order_by(Beneficiary.id)).scalars().first()
    for n in range(2):
        row = Acceptance(contract_id=contract.id, period_start=contract.starts_on.replace(day=1 + n),
                         period_end=contract.ends_on, status="open", seed=f"walk{n}", sample_size=1, members=[],
                         conclusion="")
        db.session.add(row)
        db.session.flush()
        db.session.add(AcceptanceOpinion(acceptance_id=row.id, beneficiary_id=person.id, position=1, comment=""))


def _training():
    """Two training sessions with a-worker1 expected (stations/training.py): the sessions list has a
    second page for the bureau and for A's manager, and a session and a worker record to open."""
    from datetime import timedelta

    from portal.accounts.models import User
    from portal.contractors.models import StaffMember
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.stations import training
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    worker = db.session.execute(select(StaffMember).join(User, User.id == StaffMember.user_id)
                                .where(User.username == "a-worker1")).scalar_one()
    for n, mode in enumerate(("online", "offline"), start=1):
        session = training.create_session({"topic": f"走查培训{n}", "mode": mode, "trainer": "走查",
                                           "held_on": local_today() - timedelta(days=n), "hours": 2}, officer)
        training.add_attendees(session, [worker.id], officer)
        training.mark_attendance(session, [session.attendees[0].id] if n == 1 else [], officer)


def _assessments(app):
    """Two recorded assessments of B's assessment contract (the demo assigns it nobody), and two
    open change reports of a third person (the assessments answer the demo's own report)."""
    from datetime import timedelta

    from portal.assessments.changes import report_change
    from portal.beneficiaries.models import Beneficiary
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from tests import assessment_world
    world = assessment_world.build(app)
    for name in assessment_world.ASSESSED[:2]:
        assessment_world.record(app, world, name)
    with app.app_context(), assessment_world.scope(app):
        person = db.session.get(Beneficiary, world["people"][assessment_world.ASSESSED[2]])
        for kind in ("condition_changed", "moved"):
            report_change(person, kind, local_today() - timedelta(days=1))
        db.session.commit()


def _surveys(app):
    """Household surveys (the bureau's pages, tests/test_surveys_flow.py): two recorded ones (the
    list and the review queue), and two signed off in each of the two months before this one, each
    month drawn for re-checks (the re-check page lists the draws)."""
    from datetime import datetime, time

    from portal.accounts.models import User
    from portal.contracts.models import Contract
    from portal.core.months import previous_month
    from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
    from portal.extensions import db
    from portal.surveys import rechecks, review
    from portal.surveys.models import HouseholdSurvey
    from tests import survey_world
    world = survey_world.build(app)
    for name in survey_world.SURVEYED[:2]:
        survey_world.record(app, world, name)
    months = [previous_month(local_today()), previous_month(previous_month(local_today()))]
    signed = [survey_world.record(app, world, name, at=datetime.combine(month.replace(day=10 + n), time(10),
                                                                        tzinfo=LOCAL_TZ))
              for month in months for n, name in enumerate(survey_world.SURVEYED[2:])]
    with app.app_context(), survey_world.scope(app):
        people = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("gx-officer", "gx-supervisor"))))}
        for survey_id in signed:
            found = db.session.get(HouseholdSurvey, survey_id)
            review.review(found, people["gx-officer"], utcnow())
            review.sign_off(found, people["gx-supervisor"], utcnow())
        contract = db.session.get(Contract, world["contract"])
        for month in months:
            rechecks.draw(contract, month, people["gx-supervisor"], utcnow())
        db.session.commit()


def _stations(app):
    """Stations beside the demo's (tests/station_world.py: three in ganxian, A's workers posted to
    one), two flagged check-ins there today and two service logs: the station list, the flagged
    check-ins and the logs each get a second page."""
    from portal.core.timeutil import local_today, utcnow
    from portal.extensions import db
    from portal.stations import checkins, logs
    from portal.stations.models import Station
    from tests import station_world
    world = station_world.build(app, clear=False)
    with app.app_context(), station_world.scope(app):
        for username in station_world.WORKERS:
            checkins.record_checkin(station_world.body(world, offset_m=900), station_world.user(username),
                                    utcnow())
        station = db.session.get(Station, world["stations"]["TS-01"])
        for group in ("tekun", "orphan"):
            logs.record_log(station, {"day": local_today(), "target_group": group, "service": "走访慰问", "people": 3,
                                      "volunteers": 1}, station_world.user("a-worker1"), local_today())
        db.session.commit()


def _survey_change_reports(app):
    """Two open change reports of D's surveyed families (made after their surveys, so none closes
    them): the re-survey due list and the change reports each get a second page."""
    from datetime import timedelta

    from portal.beneficiaries.models import Beneficiary
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.surveys.schedule import open_change_report
    from tests import survey_world
    world = survey_world.build(app)
    with app.app_context(), survey_world.scope(app):
        for name, kind in zip(survey_world.SURVEYED[:2], ("income_changed", "members_changed")):
            open_change_report(db.session.get(Beneficiary, world["people"][name]), kind,
                               local_today() - timedelta(days=1), "walk")
        db.session.commit()


def _care_plans(app):
    """Care plans (issue 19, tests/test_careplans_*.py): for two people with a final self-care class
    on A's care contract, a needs assessment by a-manager, a version approved from this month that
    asks far more than anyone delivers (the missed list, current month by default, has two rows
    for the bureau and for A's manager) and a next version submitted (the review queue has two). People the demo already has a version in the works for are left alone."""
    from portal.accounts.models import User
    from portal.assessments.models import Assessment
    from portal.beneficiaries.demo import demo_contract
    from portal.beneficiaries.models import Beneficiary
    from portal.careplans import needs, people, plans
    from portal.careplans.models import CarePlan
    from portal.core.timeutil import local_today, utcnow
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    gx = support.World(app).tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("a-manager", "gx-supervisor"))))}
        contract, today, now = demo_contract("A", "CARE-VISIT"), local_today(), utcnow()
        this_month = today.replace(day=1)
        classified = select(Assessment.beneficiary_id).where(Assessment.status == "final")
        busy = select(CarePlan.beneficiary_id).where(CarePlan.status.in_(plans.OPEN_STATUSES))
        chosen = [p for p in db.session.scalars(select(Beneficiary).where(
            Beneficiary.id.in_(classified), Beneficiary.id.not_in(busy)).order_by(Beneficiary.id))
            if contract.id in {c.id for c in people.care_contracts(p, contract.contractor_id, today)}
            and (plans.latest_approved_start(p.id) or this_month) <= this_month][:2]
        for person in chosen:
            needs.record_needs(person, contract.id, today, {d: 3 for d in ("health", "emotional", "home_safety",
                                                                          "capability")},
                               {d: "walk" for d in ("health", "emotional", "home_safety", "capability")},
                               users["a-manager"], now)
            for status in ("approved", "submitted"):
                plan = plans.draft(person, users["a-manager"], now, services={"daily_watch": 40, "counselling": 20},
                                   in_person=20, effective_from=this_month, reason="walk")
                plans.submit(plan, users["a-manager"], now)
                if status == "approved":
                    plans.approve(plan, users["gx-supervisor"], now)
        db.session.commit()


def _late_verified_and_pending_corrections(tenant_id):
    """A second visit verified after its month was approved (the demo has one) and two corrections
    by the contractor's manager waiting for a supervisor (the demo has one at most)."""
    from datetime import timedelta

    from portal.accounts.models import User
    from portal.billing import lateness
    from portal.billing.balances import late_verified_select
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.visits.corrections import correct_times
    from portal.visits.models import Visit
    now = utcnow()
    late = db.session.execute(late_verified_select()).scalars().all()
    verified = db.session.execute(select(Visit).where(Visit.status == "verified", Visit.check_out_at.is_not(None))
                                  .order_by(Visit.id)).scalars().all()
    # late = verified in an approved month without being in its statement (billing/lateness.py)
    unverified = db.session.execute(select(Visit).where(Visit.status != "verified", lateness.month_approved(Visit))
                                    .order_by(Visit.id)).scalars().all()
    for visit in unverified[:2 - len(late)] if len(late) < 2 else []:
        visit.status, visit.verified_at = "verified", now
    manager = db.session.execute(select(User).where(User.username == "a-manager")).scalar_one()
    corrected = 0
    for visit in reversed(verified):
        if corrected == 2:
            break
        if visit.contractor_id != manager.contractor_id or visit.pending_correction is not None:
            continue
        correct_times(visit, reason_code="left_early", user=manager, now=now,
                      check_out_at=visit.check_out_at - timedelta(minutes=1), note="walk")
        corrected += 1


def _change_reports():
    """Re-assessments due for the first people of the registry, so the due list has a second page
    as every role that reads it (the demo's own reports may be answered by its assessments)."""
    from datetime import timedelta

    from portal.assessments.changes import report_change
    from portal.beneficiaries.models import Beneficiary
    from portal.core.timeutil import local_today
    from portal.extensions import db
    people = db.session.execute(select(Beneficiary).where(Beneficiary.status.not_in(("deceased", "moved")))
                                .order_by(Beneficiary.id).limit(4)).scalars()
    for person in people:
        report_change(person, "condition_changed", local_today() - timedelta(days=3), note="walk")


def _scorecards(tenant_id):
    """The scorecards of the last quarter that has ended, the active contracts made to reach
    back into it (the demo's start last month)."""
    from portal.contracts.models import Contract
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.scorecards import services as scorecards
    from portal.tenancy.models import Tenant
    today = utcnow().date()
    year, number = (today.year, (today.month - 1) // 3) if today.month > 3 else (today.year - 1, 4)
    start = date(year, 3 * number - 2, 1)
    for contract in db.session.execute(select(Contract).where(Contract.status == "active")).scalars():
        contract.starts_on = min(contract.starts_on, start)
    db.session.flush()
    scorecards.compute_quarter(f"{year}-Q{number}", tenant=db.session.get(Tenant, tenant_id))


def sign_in(app, role):
    """A test client signed in as ``role`` (a key of ROLES) through the real forms."""
    client = app.test_client()
    if ROLES[role] is None:
        return client
    username, tenant = ROLES[role]
    response = support.form_post(client, "/login", {"username": username, "password": support.PASSWORD})
    assert response.status_code == 302, (role, response.status_code)
    if "choose-tenant" in response.headers.get("Location", ""):
        choice = tenant or "ganxian"
        response = support.form_post(client, "/choose-tenant", {"tenant": choice})
        assert response.status_code == 302, (role, response.status_code)
    return client


def clients(app, roles=None):
    return {role: sign_in(app, role) for role in dict.fromkeys(roles or ROLES)}


def walked_rules(app):
    """Every rule of the URL map the walk covers, sorted."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS),
                  key=lambda r: (r.rule, r.endpoint))


def methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def has_id(rule):
    return any(isinstance(c, IntegerConverter) for c in rule._converters.values())


def path_for(rule, value, text=None):
    """The path of ``rule`` with ``value`` for every int argument (as text: any number, even
    one the converter refuses), the first choice of every any(…), a sample for code/slug, and
    ``text`` (else ``value``) for any other string."""
    def replace(match):
        converter_name, converter_args, name = match.groups()
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            return str(value)
        if isinstance(converter, AnyConverter):
            return converter_args.split(",")[0].strip().strip("'\"")
        if name in TEXT_SAMPLES:
            return TEXT_SAMPLES[name]
        sample = str(text if text is not None else value)
        return sample if isinstance(converter, PathConverter) else sample.replace("/", "-")
    return _ARGUMENT.sub(replace, rule.rule)
