"""What each role sees first. Later packages add their cards here."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.contracts import services
from portal.contracts.models import Contract
from portal.core.cards import card
from portal.core.timeutil import local_today
from portal.dashboard.agenda import officer_agenda
from portal.dashboard.disclosures import due_or_late_disclosures, officer_to_dos
from portal.extensions import db
from portal.jobs.models import JobRun

# role -> list of (title, endpoint) shortcuts shown on the dashboard and in the navigation
NAVIGATION = {
    "admin": [(_l("Users"), "accounts.users"), (_l("Contractors"), "contractors.registrations"),
              (_l("Background jobs"), "jobs.index"), (_l("Audit trail"), "audit.index"),
              (_l("Beneficiaries"), "beneficiaries.index"), (_l("Policy pages"), "disclosures.policies"),
              (_l("Bureau settings"), "tenancy.settings"), (_l("Working-day calendar"), "tenancy.bureau_calendar")],
    "officer": [(_l("Tenders"), "tenders.index"), (_l("Contractors"), "contractors.registrations"),
                (_l("Blacklist"), "contractors.blacklist"), (_l("Contracts"), "contracts.index"),
                (_l("Beneficiaries"), "beneficiaries.index"), (_l("Re-assessments due"), "assessments.reassessments"),
                (_l("Violations"), "violations.violations"), (_l("Quarterly scorecards"), "scorecards.scorecards_index"),
                (_l("Settlements"), "billing.index"), (_l("Budget"), "billing.budget_view"),
                (_l("Assessment publicity"), "assessments.rounds"),
                (_l("Disclosures due or late"), "dashboard.disclosures_due"),
                (_l("Procurement steps due"), "dashboard.tenders_due")],
    "supervisor": [(_l("Supervision"), "violations.index"), (_l("Visit exceptions"), "visits.exceptions"),
                   (_l("Visits by day"), "visits.visit_timeline"),
                   (_l("Spot checks"), "spotchecks.spot_checks"), (_l("Quarterly scorecards"), "scorecards.scorecards_index"),
                   (_l("Contracts"), "contracts.index"), (_l("Beneficiaries"), "beneficiaries.index"),
                   (_l("Self-care assessments"), "assessments.index"), (_l("Assessment publicity"), "assessments.rounds"),
                   (_l("Re-assessments due"), "assessments.reassessments")],
    "finance": [(_l("Settlements"), "billing.index"), (_l("Budget"), "billing.budget_view"),
                (_l("Contracts"), "contracts.index"),
                (_l("Beneficiaries"), "beneficiaries.index")],
    "auditor": [(_l("Audit trail"), "audit.index"), (_l("Tenders"), "tenders.index"),
                (_l("Contracts"), "contracts.index"), (_l("Settlements"), "billing.index"),
                (_l("Budget"), "billing.budget_view"), (_l("Beneficiaries"), "beneficiaries.index"),
                (_l("Violations"), "violations.violations"), (_l("Spot checks"), "spotchecks.spot_checks"),
                (_l("Quarterly scorecards"), "scorecards.scorecards_index"),
                (_l("Assessment publicity"), "assessments.rounds"),
                (_l("Bureau settings"), "tenancy.settings"), (_l("Working-day calendar"), "tenancy.bureau_calendar")],
    "contractor_manager": [(_l("My organisation"), "contractors.mine"), (_l("Staff roster"), "contractors.roster"),
                           (_l("Tenders"), "tenders.index"), (_l("My bids"), "tenders.my_bids"),
                           (_l("Contracts"), "contracts.index"), (_l("Violations"), "violations.violations"),
                           (_l("Visit exceptions"), "visits.exceptions"),
                           (_l("Beneficiaries"), "beneficiaries.index"),
                           (_l("Self-care assessments"), "assessments.index"),
                           (_l("Re-assessments due"), "assessments.reassessments"), (_l("Settlements"), "billing.index")],
    "field_worker": [(_l("Today's visits"), "field.index"), (_l("My beneficiaries"), "beneficiaries.index")],
    "platform_admin": [(_l("Bureaus"), "accounts.tenants"), (_l("Working-day calendar"), "tenancy.platform_calendar")],
}

# household economic surveys (issue 18): the surveys, their review and re-checks, the living
# standards, the re-survey lists, change reports and statistics
_SURVEYS = (_l("Household surveys"), "surveys.index")
_DUE = (_l("Re-surveys due"), "surveys.due")
_CHANGES = (_l("Survey change reports"), "surveys.changes")
_STATS = (_l("Survey statistics"), "surveys.stats_page")
_STANDARDS = (_l("Minimum living standards"), "surveys.standards_page")
for _role, _links in {
    "admin": [_STANDARDS],
    "officer": [_SURVEYS, (_l("Survey review queue"), "surveys.review_queue"), _STANDARDS, _DUE, _CHANGES, _STATS],
    "supervisor": [_SURVEYS, (_l("Survey review queue"), "surveys.review_queue"),
                   (_l("Survey re-checks"), "surveys.rechecks_page"), _DUE, _CHANGES, _STATS],
    "finance": [_SURVEYS],
    "auditor": [_SURVEYS, _DUE, _STATS],
    "contractor_manager": [_SURVEYS, _DUE, _CHANGES],
}.items():
    NAVIGATION[_role].extend(_links)

# social-work stations (issue 19): the stations, their staffing compliance, flagged check-ins,
# service logs and the field worker's check-in
_STATIONS = (_l("Stations"), "stations.index")
_COMPLIANCE = (_l("Staffing compliance"), "stations.compliance_page")
for _role, _links in {
    "admin": [_STATIONS, _COMPLIANCE],
    "officer": [_STATIONS, _COMPLIANCE],
    "supervisor": [_COMPLIANCE, (_l("Flagged check-ins"), "stations.flagged_checkins")],
    "auditor": [_STATIONS, _COMPLIANCE, (_l("Flagged check-ins"), "stations.flagged_checkins")],
    "contractor_manager": [(_l("My stations"), "stations.index"), _COMPLIANCE,
                           (_l("Service logs"), "stations.logs_page")],
    "field_worker": [(_l("Station check-in"), "station_field.checkin_page")],
}.items():
    NAVIGATION[_role].extend(_links)
# training of front-line staff (issue 19 point 9): the sessions and the attendance rates; officers,
# supervisors and managers add sessions and mark attendance, the auditor reads
_TRAINING = (_l("Training"), "training.index")
_TRAINING_RATES = (_l("Training attendance rates"), "training.rates_page")
for _role in ("officer", "supervisor", "auditor", "contractor_manager"):
    NAVIGATION[_role].extend([_TRAINING, _TRAINING_RATES])
# care plans (issue 19): the plans, the bureau's review queue, the people missed
_PLANS = (_l("Care plans"), "careplans.index")
_MISSED = (_l("People missed"), "careplans.missed_page")
_PLAN_QUEUE = (_l("Plans awaiting approval"), "careplans.review_queue")
for _role, _links in {
    "officer": [_PLAN_QUEUE, _PLANS, _MISSED],
    "supervisor": [_MISSED, _PLANS, _PLAN_QUEUE],
    "auditor": [_MISSED, _PLANS, _PLAN_QUEUE],
    "contractor_manager": [_PLANS, _MISSED],
}.items():
    NAVIGATION[_role].extend(_links)

# public feedback (issue 20 part 4): the bureau's list with its due and overdue tabs, for those who
# handle it (the admin too) and the auditor
for _role in ("officer", "supervisor", "auditor", "admin"):
    NAVIGATION[_role].append((_l("Public feedback"), "feedback.index"))

# the city's view (issue 20 part 5): the districts granted to the auditor side by side
NAVIGATION["auditor"].append((_l("City overview"), "city.overview"))

# contractors' financial reports (issue 20 part 3): the reports and the overdue months
for _role in ("finance", "officer", "supervisor", "auditor", "contractor_manager"):
    NAVIGATION[_role].append((_l("Financial reports"), "finreports.index"))
# annual performance evaluations (issue 20 part 1): the bureau's readers; officers and supervisors
# prepare and review
for _role in ("officer", "supervisor", "auditor", "finance"):
    NAVIGATION[_role].append((_l("Annual evaluations"), "evaluations.index"))
# acceptance (issue 20 part 2): the acceptances of contract periods, their samples and results
for _role in ("officer", "supervisor", "auditor"):
    NAVIGATION[_role].append((_l("Acceptances"), "acceptance.index"))


def dashboard_for(user, tenant):
    """The figures and shortcuts of one role's home page."""
    cards = []
    if tenant is not None and user.can("job.read"):
        failed = db.session.execute(
            select(func.count()).select_from(JobRun).where(JobRun.status == "failed")).scalar_one()
        cards.append(card(_l("Failed background jobs"), failed, "jobs.index"))
    if tenant is not None and user.role == "officer":
        cards.extend(_procurement_cards())
        cards.append(_disclosure_card())
    if tenant is not None and user.role in ("officer", "contractor_manager"):
        cards.extend(_contract_cards(user))
    if tenant is not None and user.role in ("officer", "supervisor"):
        from portal.violations.services import flagged_count
        cards.append(card(_l("Contracts flagged for suspension review"), flagged_count(), "violations.flagged"))
    if tenant is not None and user.role in ("officer", "supervisor", "contractor_manager"):
        cards.append(_reassessment_card(user))
    if tenant is not None and user.role in ("officer", "supervisor"):
        from portal.evaluations.services import renewal_card
        cards.append(renewal_card())
        from portal.feedback.stats import home_cards as feedback_cards
        cards.extend(feedback_cards())
    if tenant is not None:
        from portal.finreports.overdue import home_cards as finreport_cards
        cards.extend(finreport_cards(user))
        cards[:0] = _work_cards(user, tenant)  # the work waiting first
    return {"links": NAVIGATION.get(user.role, []), "cards": cards}


def _work_cards(user, tenant):
    """Each package's cards of the work waiting for ``user`` (issue 22): visit exceptions, spot
    checks, people missed, statements and late-verified visits, the audit trail. Each package
    decides by capability whom its cards are for."""
    from portal.audit.homecards import home_cards as audit_cards
    from portal.billing.homecards import home_cards as billing_cards
    from portal.careplans.missed import home_cards as missed_cards
    from portal.spotchecks.homecards import home_cards as spotcheck_cards
    from portal.visits.homecards import home_cards as exception_cards
    return (exception_cards(user) + spotcheck_cards(user) + missed_cards(user) + billing_cards(user)
            + audit_cards(user, tenant))


def _procurement_cards():
    """The officer's count of what is due and of what is late (notices, results to publish,
    contracts to sign, late disclosures), both leading to the list."""
    agenda = officer_agenda()
    today = local_today()
    late = [item for item in agenda if item["late"]]
    week = [item for item in agenda if not item["late"] and item["due_on"] is not None
            and item["due_on"] <= today + timedelta(days=7)]
    challenges = [item for item in agenda if item["kind"] == "challenge"]  # 7 working days (政府采购法 §53)

    def oldest(items):
        return min((item["due_on"] for item in items if item["due_on"] is not None), default=None)
    return [card(_l("Procurement steps due"), len(agenda) - len(late), "dashboard.tenders_due"),
            card(_l("Procurement deadlines this week"), len(week), "dashboard.tenders_due"),
            card(_l("Procurement steps late"), len(late), "dashboard.tenders_due", oldest=oldest(late)),
            card(_l("Challenges to answer"), len(challenges), "dashboard.tenders_due")]


def _contract_cards(user):
    """Awards still waiting for their contract (officers) and the contracts in delivery (the
    officer's bureau, or the manager's own organisation)."""
    active = services.contracts_query(user, status="active").with_only_columns(func.count(Contract.id)).order_by(None)
    cards = [card(_l("Contracts in delivery"), db.session.execute(active).scalar_one(), "contracts.index")]
    if user.role == "officer":
        cards.insert(0, card(_l("Awards waiting for a contract"), len(services.awards_awaiting_contract()),
                             "contracts.index"))
    return cards


def _reassessment_card(user):
    """The re-assessments still due after a reported change, overdue ones included (docs/DOMAIN.md
    §6): the bureau's, or the manager's own assigned people."""
    from portal.assessments.changes import due_query
    due = due_query(user, state="open").with_only_columns(func.count()).order_by(None)
    return card(_l("Re-assessments due"), db.session.execute(due).scalar_one(), "assessments.reassessments")


def _disclosure_card():
    """Public notices still due, overdue or published late (docs/DOMAIN.md §9), leading to their list."""
    return card(_l("Disclosures due or late"), len(officer_to_dos(due_or_late_disclosures())), "dashboard.disclosures_due")
