"""Publicity rounds (结果公示, docs/DOMAIN.md §2.1, §6, §9): the bureau opens a round for the
assessments one contract submitted; the public reads them, masked, for ``assessment_publicity_days``
days from the day it opens, and may object meanwhile (portal/assessments/objections.py).

The notice is a disclosure (``kind="assessment_publicity"``, due the day the round opens) whose
body names nobody: the period, how to object, and how many people per class. The masked list
itself is a page of the public site that shows nothing once the period has ended."""
from collections import Counter
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.contracts.models import Contract
from portal.core import query
from portal.core.crypto import surname_only
from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import local_today
from portal.disclosures import publish
from portal.extensions import db
from portal.assessments.models import CARE_CLASSES, Assessment, AssessmentPublicity
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id

CLASS_LABELS = {"self_care": _l("Able to care for oneself (具备生活自理能力)"),
                "partial": _l("Partly unable to care for oneself (部分丧失)"),
                "complete": _l("Fully unable to care for oneself (完全丧失)")}
# Where a round is shown on the public site (portal/public/assessment_views.py serves it): written
# here as a path because the notice is composed without a request (the demo, jobs).
PUBLIC_PATH = "/public/{code}/assessment-publicity/{id}"


def publicity_days(tenant):
    """The bureau's publicity period in days (``assessment_publicity_days``), at least one."""
    try:
        return max(int(tenant.setting("assessment_publicity_days")), 1)
    except (TypeError, ValueError):
        return 7


def phase(publicity, today):
    """Where a round stands on ``today`` (Beijing): "upcoming", "open" (objections accepted),
    "ended" (the sample may be drawn) or "final"."""
    if publicity.finalised_at is not None:
        return "final"
    if today < publicity.starts_on:
        return "upcoming"
    return "open" if today <= publicity.ends_on else "ended"


def get_publicity(publicity_id):
    """One round of the current bureau, or NotFound (another bureau's round is not found either)."""
    publicity = db.session.get(AssessmentPublicity, publicity_id) if query.is_id(publicity_id) else None
    if publicity is None:
        raise NotFound(_("No such publicity round."))
    return publicity


def rounds_query():
    """The current bureau's rounds, newest first."""
    return select(AssessmentPublicity).order_by(AssessmentPublicity.starts_on.desc(), AssessmentPublicity.id.desc())


def submitted_by_contract():
    """``[(contract, [assessment, …])]``: what each contract has submitted and no round holds yet,
    contracts by number, assessments by id."""
    rows = db.session.scalars(select(Assessment).where(Assessment.status == "submitted",
                                                       Assessment.publicity_id.is_(None))
                              .order_by(Assessment.contract_id, Assessment.id)).all()
    grouped = {}
    for assessment in rows:
        grouped.setdefault(assessment.contract_id, []).append(assessment)
    contracts = db.session.scalars(select(Contract).where(Contract.id.in_(list(grouped)))).all() if grouped else []
    return [(c, grouped[c.id]) for c in sorted(contracts, key=lambda c: c.number)]


def class_counts(assessments):
    """{class: how many} over CARE_CLASSES (the assessor's class), zeros included."""
    counts = Counter(a.care_class for a in assessments)
    return {name: counts.get(name, 0) for name in CARE_CLASSES}


def planned_period(tenant, now):
    """(starts_on, ends_on) of a round opened at ``now``: from today (Beijing), inclusive."""
    starts_on = local_today(now)
    return starts_on, starts_on + timedelta(days=publicity_days(tenant) - 1)


def notice_text(tenant, publicity, counts):
    """(title, body) of the round's notice: the period, how to object and where, and the number of
    people per class; never a name, village, address or indicator."""
    title = _("Self-care assessment results publicity %(number)s", number=publicity.number)
    lines = [
        _("%(bureau)s publishes the results of the self-care ability assessments of people in extreme "
          "poverty (contract %(contract)s) from %(start)s to %(end)s inclusive.",
          bureau=tenant.name, contract=publicity.contract.number, start=publicity.starts_on.isoformat(),
          end=publicity.ends_on.isoformat()),
        _("People assessed: %(n)s.", n=sum(counts.values())),
    ]
    lines += [f"{CLASS_LABELS[name]}: {counts[name]}" for name in CARE_CLASSES]
    lines.append(_("The list (masked names, township and class) and the objection form are at %(path)s. "
                   "Anyone may object during the period, without an account; the contact given stays "
                   "private and the objection gets a tracking number.",
                   path=PUBLIC_PATH.format(code=tenant.code, id=publicity.id)))
    return title, "\n".join(lines)


def lock_round(publicity):
    """Serialise the steps of one round (drawing its sample, answering its objections, making it
    final): its row is locked until the transaction ends and read afresh (SELECT … FOR UPDATE;
    nothing on SQLite, whose writers are serialised anyway). Call it before reading the round's
    assessments, objections or re-checks, so what is read next is what the other step left."""
    db.session.execute(select(AssessmentPublicity).where(AssessmentPublicity.id == publicity.id)
                       .with_for_update().execution_options(populate_existing=True)).all()
    return publicity


def open_publicity(contract, assessments, by, now):
    """Open a round for ``assessments`` (submitted, of ``contract``, in no round) from today for
    ``assessment_publicity_days`` days, move them to "publicity" and publish the notice (due
    today). Returns the AssessmentPublicity. DomainError when there is nothing to publish or an
    assessment does not belong."""
    if not assessments:
        raise DomainError(_("There is no submitted assessment to publish."))
    # locked and read afresh: two officers opening rounds at once never publish one assessment twice
    assessments = db.session.execute(
        select(Assessment).where(Assessment.id.in_([a.id for a in assessments])).order_by(Assessment.id)
        .with_for_update().execution_options(populate_existing=True)).scalars().all()
    wrong = [a.id for a in assessments
             if a.contract_id != contract.id or a.status != "submitted" or a.publicity_id is not None]
    if wrong:
        raise DomainError(_("Only the submitted assessments of this contract that are in no round can be "
                            "published (not: %(ids)s).", ids=", ".join(map(str, wrong))))
    tenant = db.session.get(Tenant, current_tenant_id())
    starts_on, ends_on = planned_period(tenant, now)
    publicity = AssessmentPublicity(number="", contract=contract, starts_on=starts_on,
                                    ends_on=ends_on, opened_by_id=by.id if by else None, opened_at=now)
    db.session.add(publicity)
    db.session.flush()
    publicity.number = f"PGS-{starts_on:%Y%m%d}-{publicity.id:03d}"  # unique by its id, however many open at once
    for assessment in assessments:
        assessment.publicity, assessment.status = publicity, "publicity"
    title, body = notice_text(tenant, publicity, class_counts(assessments))
    disclosure = publish("assessment_publicity", title, body, publicity, due_on=starts_on, now=now,
                         data={"assessment_publicity_id": publicity.id, "starts_on": starts_on.isoformat(),
                               "ends_on": ends_on.isoformat()})
    publicity.disclosure_id = disclosure.id
    db.session.flush()
    return publicity


def public_rows(publicity):
    """What the public list shows of each assessment: (assessment id, surname + "*", township,
    class) — the id lets an objection name its row; nothing else leaves the bureau."""
    return [(a.id, surname_only(a.beneficiary.name), a.beneficiary.township, a.care_class)
            for a in publicity.assessments]
