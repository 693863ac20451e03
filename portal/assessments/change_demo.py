"""The demo's re-assessments due (docs/DOMAIN.md §6): the registry's demo person in hospital since
last month has the change report the registry would have opened (overdue by now), and one demo
person assigned to contractor A had a changed condition reported three days ago (due). Seeded
after the registry; a second run creates nothing."""
from datetime import timedelta

from sqlalchemy import select

from portal.assessments.changes import AUTOMATIC_KINDS, report_change
from portal.assessments.models import ChangeReport
from portal.beneficiaries.models import Beneficiary
from portal.contracts.models import Assignment
from portal.core.errors import DomainError
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.scope import tenant_scope


def _reported(person, kind):
    return db.session.execute(select(ChangeReport.id).where(ChangeReport.beneficiary_id == person.id,
                                                            ChangeReport.kind == kind)).first() is not None


def _report(person, kind, day):
    """One report, unless the person has one of that kind; a day the calendar cannot count from
    (a year nobody imported) leaves it out rather than stopping the seed."""
    if _reported(person, kind):
        return 0
    try:
        with db.session.begin_nested():
            report_change(person, kind, day, note="演示数据")
    except DomainError:
        return 0
    return 1


def seed_change_reports(tenants):
    """Create what is missing of the demo's change reports in 赣县区; returns the rows created."""
    created = 0
    with tenant_scope(tenants["ganxian"].id):
        away = db.session.scalars(select(Beneficiary).where(Beneficiary.status.in_(AUTOMATIC_KINDS))
                                  .order_by(Beneficiary.id)).all()
        for person in away:
            created += _report(person, person.status, person.status_since)
        assigned = select(Assignment.beneficiary_id)
        person = db.session.scalars(select(Beneficiary).where(Beneficiary.status == "active",
                                                              Beneficiary.id.in_(assigned))
                                    .order_by(Beneficiary.id).limit(1)).first()
        if person is not None:
            created += _report(person, "condition_changed", max(local_today() - timedelta(days=3), person.status_since))
    return created
