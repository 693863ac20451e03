"""The demo's household economic surveys (portal/surveys/demo.py, issue 18 §7): D's contract from
GX-DEMO-002 with every outcome judged by the real code against the standard of each survey's day,
the four-eyes decisions, a re-check discrepancy, an overdue family and an open change report; a
second seed run changes nothing. (D's statements: tests/test_billing_demo.py.)"""
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.core.months import add_months
from portal.core.timeutil import local_today, to_local, utcnow
from portal.extensions import db
from tests import support


def _surveys(app):
    from portal.surveys.models import HouseholdSurvey
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(support.World(app).tenant_id("ganxian")):
        return [(s.beneficiary.name, to_local(s.surveyed_at).date(), s.kind, s.status, s.outcome, s.standard_fen,
                 s.standard_effective_from, s.next_due_on, s.reviewed_by_id, s.signed_off_by_id, s.contract.number)
                for s in db.session.scalars(select(HouseholdSurvey).order_by(HouseholdSurvey.surveyed_at))]


def test_the_demo_surveys_show_every_outcome_through_the_real_code(app):
    support.seed_demo(app, history=True)
    world = support.World(app)
    rows = _surveys(app)
    assert {row[4] for row in rows} == {"eligible", "marginal", "not_eligible", "exit"}
    assert {row[10] for row in rows} == {_d_contract_number(app)}
    statuses = [row[3] for row in rows]
    assert statuses.count("reviewed") == 1 and set(statuses) == {"signed_off", "reviewed"}
    reviewer, signer = world.user_id("gx-supervisor"), world.user_id("gx-officer")
    assert all((row[8], row[9]) == (reviewer, signer) for row in rows if row[3] == "signed_off")  # four eyes
    exits = [row for row in rows if row[4] == "exit"]
    assert len(exits) == 1 and exits[0][2] == "review"  # only a supported family exits
    assert all(row[6] is not None for row in rows)  # judged on the dated standards (the mid-year rise)
    assert all(row[1] >= _d_contract_start(app) for row in rows)  # every survey within D's contract


def test_the_demo_has_a_discrepancy_an_overdue_family_and_an_open_change_report(app):
    from portal.surveys import rechecks, schedule
    from portal.surveys.models import SurveyChangeReport, SurveyRecheck
    from portal.tenancy.scope import tenant_scope
    support.seed_demo(app, history=True)
    with app.app_context(), tenant_scope(support.World(app).tenant_id("ganxian")):
        done = db.session.scalars(select(SurveyRecheck).where(SurveyRecheck.rechecked_at.is_not(None))).all()
        assert [r.discrepancy for r in done].count(True) == 1
        assert all(r.checker_user_id not in (r.survey.reviewed_by_id, r.survey.signed_off_by_id) for r in done)
        today = local_today()
        [row] = rechecks.discrepancies_by_contractor(utcnow() - timedelta(days=120), utcnow())
        assert (row.discrepancies, row.rechecked) == (1, len(done))
        overdue = schedule.overdue_families(today)
        assert [(r.reason, r.beneficiary.name) for r in overdue] == [("change_report", "王子豪")]
        reports = db.session.scalars(select(SurveyChangeReport).order_by(SurveyChangeReport.reported_on)).all()
        assert [r.closed_at for r in reports] == [None, None]
        # the demo was seeded today or, in a run crossing Beijing midnight, yesterday
        assert reports[1].reported_on in (today, today - timedelta(days=1))
        assert reports[0].reported_on == reports[1].reported_on - timedelta(days=30)
        assert reports[0].due_on < today <= reports[1].due_on
        assert any(r.reason == "change_report" for r in schedule.due_families(today))


def test_a_second_demo_run_adds_no_survey(app):
    from portal.demo import seed
    from portal.surveys.demo import seed_surveys
    from portal.surveys.models import HouseholdSurvey
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    support.seed_demo(app, history=True)
    with support.platform_app(app).app_context():  # as `flask seed-demo` runs
        with all_tenants():
            tenants = {t.code: t for t in db.session.scalars(select(Tenant))}
        assert seed_surveys(tenants) == 0
        assert seed(support.PASSWORD) == 0
        with tenant_scope(tenants["ganxian"].id):
            assert db.session.scalar(select(func.count(HouseholdSurvey.id))) == len(_surveys(app))


def _d_contract_start(app):
    from portal.beneficiaries.demo import demo_contract
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(support.World(app).tenant_id("ganxian")):
        return demo_contract("D", "HH-SURVEY").starts_on


def _d_contract_number(app):
    from portal.beneficiaries.demo import demo_contract
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(support.World(app).tenant_id("ganxian")):
        return demo_contract("D", "HH-SURVEY").number


def test_the_demo_rise_comes_before_its_oldest_survey_in_any_month():
    from portal.surveys.demo import rise_day
    for today in (date(2026, 8, 20), date(2026, 9, 1), date(2026, 12, 7), date(2027, 1, 3), date(2026, 7, 31)):
        day = rise_day(today)
        assert (day.month, day.day) == (7, 1) and day <= add_months(today.replace(day=1), -2), today
    assert rise_day(date(2026, 9, 1)) == date(2026, 7, 1) and rise_day(date(2026, 8, 20)) == date(2025, 7, 1)
