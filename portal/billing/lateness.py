"""Which visits are late-verified (docs/DOMAIN.md §8), decided from the approved statements'
entries, never from clocks: a visit is late when it is verified, its month (Beijing time) has an
approved (or paid) statement of its contract, that statement neither paid it nor recorded it as
left unpaid by the monthly cap or the quota (entry role "capped"), and no approved statement
recorded it as capped since. A verification committed while the month was being approved is
therefore never lost, whatever its ``verified_at``.

A visit that carries a self-care assessment (``Assessment.visit_id``, docs/DOMAIN.md §6) is
payable only once that assessment is "final" (after publicity and the re-check sample), which is
usually after its month was approved: the month's statement leaves it out (neither paid nor
capped), and once the assessment is final it is late work like any other, paid once by a later
statement. A visit of an item paid per assessment that carries no assessment is never paid.
Likewise a visit that carries a household economic survey (``HouseholdSurvey.visit_id``,
docs/DOMAIN.md §6) is payable only once that survey is "signed_off" (reviewed and signed off by two
bureau officers), and a plain visit under an item paid per survey (unit "household_survey") is
never paid. ``awaiting_final_record`` is the two conditions together, for the month's lines, the
late lines and the approval's check.

The statement engine (sources.py) pays late visits that no approved statement paid yet and that
have no V01 finding; the late-verified page (balances.py) lists them all, with where each was
paid since. Both use ``late_base`` below."""
from sqlalchemy import String, and_, exists, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.assessments.models import ASSESSMENT_UNIT, Assessment
from portal.billing.models import FROZEN_STATUSES, Statement, StatementEntry
from portal.contracts.models import ServiceItem
from portal.surveys.models import SURVEY_UNIT, HouseholdSurvey

CAPPED = "capped"  # entry role: a verified visit its month's statement left unpaid by the cap or quota


class local_month(FunctionElement):
    """``"YYYY-MM"`` of a UTC timestamp in Beijing time (UTC+8 all year, no daylight saving)."""
    type = String()
    inherit_cache = True
    name = "local_month"


@compiles(local_month)
def _local_month_default(element, compiler, **kw):
    return "to_char((%s) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')" % compiler.process(element.clauses, **kw)


@compiles(local_month, "sqlite")
def _local_month_sqlite(element, compiler, **kw):
    return "strftime('%%Y-%%m', %s, '+8 hours')" % compiler.process(element.clauses, **kw)


def month_approved(visit):
    """True when the visit's month has an approved (or paid) statement of its contract."""
    return exists().where(Statement.contract_id == visit.contract_id, Statement.status.in_(FROZEN_STATUSES),
                          Statement.month == local_month(visit.check_in_at))


def paid_by_month_statement(visit):
    """True when the approved statement of the visit's own month paid it or recorded it as capped."""
    return exists().where(StatementEntry.approved_visit_id == visit.id,
                          StatementEntry.role.in_(("paid", CAPPED)),
                          StatementEntry.statement_id == Statement.id,
                          Statement.contract_id == visit.contract_id,
                          Statement.month == local_month(visit.check_in_at))


def capped_by_approved(visit):
    return exists().where(StatementEntry.approved_visit_id == visit.id, StatementEntry.role == CAPPED)


def _awaiting(visit, record, payable_status, unit):
    """True for a visit whose ``record`` (an assessment, a survey) is not in ``payable_status`` yet,
    or a visit of an item of ``unit`` that carries no such record at all."""
    per_record = visit.service_item_id.in_(select(ServiceItem.id).where(ServiceItem.unit == unit))
    return or_(exists().where(record.visit_id == visit.id, record.status != payable_status),
               and_(per_record, ~exists().where(record.visit_id == visit.id)))


def awaiting_assessment(visit):
    """True for a visit not payable for want of a final assessment: its assessment is not final
    yet (a withdrawn one never is), or it is a visit of an item paid per assessment (unit
    "assessment") that carries no assessment at all — a plain visit under such an item is not an
    assessment and is never paid. Other visits are untouched (the unique ``assessment.visit_id``
    index serves the lookups)."""
    return _awaiting(visit, Assessment, "final", ASSESSMENT_UNIT)


def awaiting_survey(visit):
    """True for a visit not payable for want of a signed-off household survey: its survey is
    recorded, reviewed or returned (a returned one never becomes payable: the corrected survey is
    a new one, with its own visit), or it is a visit of an item paid per survey (unit
    "household_survey") that carries no survey at all. Other visits are untouched (the unique
    ``household_survey.visit_id`` index serves the lookups)."""
    return _awaiting(visit, HouseholdSurvey, "signed_off", SURVEY_UNIT)


def awaiting_final_record(visit):
    """True for a visit held back until the record it was made for is final: an assessment not
    final yet or a survey not signed off yet (or a visit of such an item without its record)."""
    return or_(awaiting_assessment(visit), awaiting_survey(visit))


def late_base(visit):
    """Conditions on Visit shared by the engine and the page (see the module docstring)."""
    return [visit.status == "verified", month_approved(visit), ~paid_by_month_statement(visit),
            ~capped_by_approved(visit), ~awaiting_final_record(visit)]
