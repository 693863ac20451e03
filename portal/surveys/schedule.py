"""The re-survey schedule (docs/DOMAIN.md §6: "re-surveys are scheduled per category, with what is
due and overdue listed") and the change reports that bring a re-survey forward.

- At sign-off a survey's ``next_due_on`` is its local day + ``resurvey_months[category]`` calendar
  months (the tenant setting; a day the target month lacks falls on its last day), where the
  category is the one the family holds after the outcome: eligible keeps the survey's category,
  marginal becomes "dibao_marginal"; not eligible or exit, or a category without a schedule → None.
- A family is *due* when the next_due_on of its latest signed-off survey falls within the next 30
  days (today and the 30th day included), *overdue* from the day after it — unless a later survey
  (any but a returned one) was recorded since: that one answers the schedule.
- A change report (income, members, assets changed) makes the family due 10 working days after the
  day it was reported (the bureau's calendar); the family's next recorded survey made on or after
  that day closes it (``close_by_survey``, receiver of ``survey_recorded``); when that survey is
  returned, the next standing one answers it or it is open again (``reopen_for_returned``).

The lists are one row per reason: a family may be due by its schedule and by a report at once."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import registered_by
from portal.contracts.models import Assignment, Contract, ServiceItem
from portal.core.errors import DomainError
from portal.core.months import add_months
from portal.core.query import is_id
from portal.core.timeutil import local_today, to_local, utcnow
from portal.extensions import db
from portal.surveys.models import CATEGORIES, CHANGE_KINDS, SURVEY_UNIT, HouseholdSurvey, SurveyChangeReport
from portal.tenancy.services import settings_for
from portal.tenancy.workdays import working_days_after

DUE_WITHIN_DAYS = 30
RESURVEY_WORKING_DAYS = 10
REASONS = ("schedule", "change_report")
STATES = ("due", "overdue")


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


# --- the schedule of one survey --------------------------------------------------------------------

def scheduled_category(survey):
    """The category the family holds after ``survey``'s outcome (None: it holds none)."""
    if survey.outcome == "eligible":
        return survey.category
    if survey.outcome == "marginal":
        return "dibao_marginal"
    return None


def resurvey_months(tenant_id, category):
    """The bureau's months between surveys of ``category`` (None: no schedule)."""
    value = (settings_for(tenant_id).get("resurvey_months") or {}).get(category)
    try:
        months = int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
    return months if months and months > 0 else None


def next_due_on(survey):
    """The day ``survey``'s family is due again: its local day + the months of its category after
    the outcome, clamped to the month's end; None when not eligible, an exit, or no schedule."""
    category = scheduled_category(survey)
    months = resurvey_months(survey.tenant_id, category) if category in CATEGORIES else None
    if months is None:
        return None
    return add_months(to_local(survey.surveyed_at).date(), months)


# --- who may see which family ------------------------------------------------------------------------

def survey_assignment(contractor_id=None, day=None):
    """The condition on Beneficiary "assigned on ``day`` (today) to a contract with a survey item"
    (of ``contractor_id``'s contracts only, when given)."""
    day = day or local_today()
    conditions = [Assignment.beneficiary_id == Beneficiary.id, Assignment.from_on <= day,
                  or_(Assignment.until_on.is_(None), Assignment.until_on >= day),
                  exists().where(ServiceItem.contract_id == Assignment.contract_id, ServiceItem.unit == SURVEY_UNIT)]
    if contractor_id is not None:
        conditions.append(exists().where(Contract.id == Assignment.contract_id, Contract.contractor_id == contractor_id))
    return exists().where(*conditions)


def families_condition(user):
    """The condition on Beneficiary of the families whose re-surveys ``user`` may list: None (all)
    for the bureau's readers, those assigned to their contractor's survey contracts for a manager."""
    if user.can("survey.read_all"):
        return None
    return survey_assignment(user.contractor_id if user.contractor_id is not None else -1)


def visible_family(beneficiary_id, user):
    """The family ``user`` may report a change for, else DomainError on "beneficiary" (a page's
    form message; the lookup is tenant-scoped)."""
    stmt = select(Beneficiary).where(Beneficiary.id == beneficiary_id)
    condition = families_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    family = db.session.execute(stmt).scalar_one_or_none() if is_id(beneficiary_id) else None
    if family is None:
        _refuse("beneficiary", _("No such family among those you may report for."))
    return family


# --- change reports --------------------------------------------------------------------------------

def due_day(reported_on):
    """10 working days after ``reported_on`` on the bureau's calendar (refused on "reported_on"
    for a year the calendar does not know)."""
    return working_days_after(reported_on, RESURVEY_WORKING_DAYS, "reported_on")


def open_change_report(beneficiary, kind, reported_on, note="", by=None):
    """Record that ``beneficiary``'s household changed on ``reported_on`` (today or before, not
    before the family was registered): a re-survey is due 10 working days later. Only a family
    assigned today to a survey contract. Returns the open SurveyChangeReport."""
    if kind not in CHANGE_KINDS:
        _refuse("kind", _("Choose what changed."))
    if reported_on is None:
        _refuse("reported_on", _("Give a date (YYYY-MM-DD)."))
    if reported_on > local_today():
        _refuse("reported_on", _("A change cannot be reported ahead of time."))
    registered_by(beneficiary, reported_on, "reported_on")
    assigned = db.session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id,
                                                               survey_assignment())).first()
    if assigned is None:
        _refuse("beneficiary", _("The family is not assigned to a survey contract: no re-survey can be made."))
    report = SurveyChangeReport(beneficiary_id=beneficiary.id, kind=kind, reported_on=reported_on,
                                due_on=due_day(reported_on), note=(note or "").strip()[:2000],
                                reported_by_id=by.id if by is not None else None)
    db.session.add(report)
    db.session.flush()
    return report


def open_reports(beneficiary_id):
    """The family's change reports still waiting for a survey, oldest first."""
    return db.session.scalars(select(SurveyChangeReport).where(
        SurveyChangeReport.beneficiary_id == beneficiary_id, SurveyChangeReport.closed_at.is_(None))
        .order_by(SurveyChangeReport.reported_on, SurveyChangeReport.id)).all()


def close_by_survey(survey, **_extra):
    """Receiver of ``survey_recorded``: the family's open reports made on or before the survey's
    day are answered by it."""
    day = to_local(survey.surveyed_at).date()
    closed = [report for report in open_reports(survey.beneficiary_id) if report.reported_on <= day]
    for report in closed:
        report.survey_id, report.closed_at = survey.id, utcnow()
    if closed:
        db.session.flush()
    return closed


def reopen_for_returned(survey, **_extra):
    """Receiver of ``survey_returned``: a returned survey answers no report. Each report it had
    closed is answered by the family's next survey still standing (not returned), made on or after
    the report day, if there is one; else it is open (and due, or overdue) again."""
    reports = db.session.scalars(select(SurveyChangeReport).where(SurveyChangeReport.survey_id == survey.id)).all()
    standing = db.session.scalars(select(HouseholdSurvey).where(
        HouseholdSurvey.beneficiary_id == survey.beneficiary_id, HouseholdSurvey.status != "returned",
        HouseholdSurvey.id != survey.id).order_by(HouseholdSurvey.surveyed_at, HouseholdSurvey.id)).all()
    for report in reports:
        answer = next((s for s in standing if to_local(s.surveyed_at).date() >= report.reported_on), None)
        report.survey_id = answer.id if answer else None
        report.closed_at = utcnow() if answer else None
    if reports:
        db.session.flush()
    return reports


def reports_query(user, *, state="open", township=""):
    """The change reports ``user`` may list ("open", "closed" or "all"), the latest first."""
    stmt = select(SurveyChangeReport).join(Beneficiary, Beneficiary.id == SurveyChangeReport.beneficiary_id)
    condition = families_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    if state == "open":
        stmt = stmt.where(SurveyChangeReport.closed_at.is_(None))
    elif state == "closed":
        stmt = stmt.where(SurveyChangeReport.closed_at.is_not(None))
    if township.strip():
        stmt = stmt.where(Beneficiary.township == township.strip())
    return stmt.order_by(SurveyChangeReport.reported_on.desc(), SurveyChangeReport.id.desc())


# --- the due and overdue lists -----------------------------------------------------------------------

@dataclass(frozen=True)
class DueRow:
    """One reason a family is due: ``survey`` its last survey (None: never surveyed), ``due_on``,
    ``reason`` ("schedule" or "change_report") and the open ``report`` behind the latter."""
    beneficiary: Beneficiary
    survey: HouseholdSurvey | None
    due_on: date
    reason: str
    report: SurveyChangeReport | None = None


def _later(survey, returned_too=False):
    """The condition "a survey of the same family was made after ``survey``" (ties by id)."""
    other = aliased(HouseholdSurvey)
    conditions = [other.beneficiary_id == survey.beneficiary_id,
                  or_(other.surveyed_at > survey.surveyed_at,
                      and_(other.surveyed_at == survey.surveyed_at, other.id > survey.id))]
    if not returned_too:
        conditions.append(other.status != "returned")
    return exists().where(*conditions)


def _last_survey_id(beneficiary_id):
    last = aliased(HouseholdSurvey)
    return (select(last.id).where(last.beneficiary_id == beneficiary_id)
            .order_by(last.surveyed_at.desc(), last.id.desc()).limit(1).scalar_subquery())


def _reasons():
    """Every reason a family is due, as a subquery (key, beneficiary_id, survey_id, due_on,
    reason): schedule keys are even (survey id × 2), change-report keys odd (report id × 2 + 1)."""
    survey = aliased(HouseholdSurvey)
    schedule = (select((survey.id * 2).label("key"), survey.beneficiary_id.label("beneficiary_id"),
                       survey.id.label("survey_id"), survey.next_due_on.label("due_on"),
                       literal("schedule").label("reason"))
                .where(survey.status == "signed_off", survey.next_due_on.is_not(None), ~_later(survey)))
    report = SurveyChangeReport
    changes = (select((report.id * 2 + 1).label("key"), report.beneficiary_id, _last_survey_id(report.beneficiary_id),
                      report.due_on, literal("change_report")).where(report.closed_at.is_(None)))
    return union_all(schedule, changes).subquery("due_reason")


def due_select(today, state="due", *, within_days=DUE_WITHIN_DAYS, user=None, township="", category=""):
    """The select of the keys of the rows listed (``rows_for`` reads them): ``state`` "due" (due
    within ``within_days`` days, today included) or "overdue" (past their day); for ``user`` (None:
    all), of a township, of the last survey's category; soonest due first."""
    reasons = _reasons()
    last = aliased(HouseholdSurvey)
    stmt = (select(reasons.c.key).join(Beneficiary, Beneficiary.id == reasons.c.beneficiary_id)
            .outerjoin(last, last.id == reasons.c.survey_id))
    if state == "overdue":
        stmt = stmt.where(reasons.c.due_on < today)
    else:
        stmt = stmt.where(reasons.c.due_on >= today, reasons.c.due_on <= today + timedelta(days=within_days))
    condition = families_condition(user) if user is not None else None
    if condition is not None:
        stmt = stmt.where(condition)
    if township.strip():
        stmt = stmt.where(Beneficiary.township == township.strip())
    if category:
        stmt = stmt.where(last.category == category)
    return stmt.order_by(reasons.c.due_on, Beneficiary.township, reasons.c.key)


def rows_for(keys):
    """The DueRows of ``keys`` (as ``due_select`` gives them), in that order."""
    keys = list(keys)
    reports = {r.id: r for r in db.session.scalars(select(SurveyChangeReport).where(
        SurveyChangeReport.id.in_([k // 2 for k in keys if k % 2])))}
    last_of = {report.id: db.session.execute(select(_last_survey_id(report.beneficiary_id))).scalar()
               for report in reports.values()}
    wanted = {k // 2 for k in keys if not k % 2} | {i for i in last_of.values() if i is not None}
    surveys = {s.id: s for s in db.session.scalars(select(HouseholdSurvey).where(HouseholdSurvey.id.in_(wanted)))}
    rows = []
    for key in keys:
        if key % 2:
            report = reports[key // 2]
            rows.append(DueRow(report.beneficiary, surveys.get(last_of[report.id]), report.due_on, "change_report",
                               report))
        else:
            survey = surveys[key // 2]
            rows.append(DueRow(survey.beneficiary, survey, survey.next_due_on, "schedule"))
    return rows


def due_families(today, *, within_days=DUE_WITHIN_DAYS, user=None, township="", category=""):
    """[DueRow] of the families due within ``within_days`` days of ``today`` (both included)."""
    return rows_for(db.session.scalars(due_select(today, "due", within_days=within_days, user=user,
                                                  township=township, category=category)))


def overdue_families(today, *, user=None, township="", category=""):
    """[DueRow] of the families whose re-survey day has passed with no survey since."""
    return rows_for(db.session.scalars(due_select(today, "overdue", user=user, township=township,
                                                  category=category)))


def due_counts(today, user=None):
    """{"due": families, "overdue": families} (a family counted once whatever its reasons)."""
    return {state: len({row.beneficiary.id for row in rows}) for state, rows in
            (("due", due_families(today, user=user)), ("overdue", overdue_families(today, user=user)))}


def due_townships(user):
    """The townships of the families ``user`` may list, for the filter."""
    stmt = select(Beneficiary.township).distinct().order_by(Beneficiary.township)
    condition = families_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    return db.session.scalars(stmt).all()
