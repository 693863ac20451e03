"""One person's plan (一人一策, docs/DOMAIN.md §2.2, §6) and its versions: drafted by the care
contractor's manager from its latest needs assessment, submitted, approved by the bureau (an
officer or supervisor) or returned with a reason.

The rules a version must keep, checked when it is drafted, when it is submitted and again when it
is approved (the setting or the person's class may have changed meanwhile):

- services from the catalogue (visits.catalogue.CARE_SERVICES), each 0–60 times a month;
- at least one visit in person a month (探视巡访);
- the sum of the frequencies at least the bureau's minimum for the person's final self-care class
  (tenant setting ``min_services_per_month``); a person without a final class gets no plan;
- in force from the first day of a month, not before the current month, not before the month of
  the latest approved version, and not after the care contract has ended;
- a reason for every version after the first.

A person has at most one version in the works (draft or awaiting approval). Approving a version
marks the earlier approved versions superseded: each keeps governing its own months (delivery.py).
Each step reads the plan's row afresh under a lock before deciding, so a second click is told that
it has been done already (409), never acts twice; drafting locks the person's row and the version
number is unique per person."""
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.permissions import reached
from portal.assessments.people import standing
from portal.audit.recorder import record_event
from portal.beneficiaries.models import Beneficiary
from portal.careplans import needs, people
from portal.careplans.delivery import IN_FORCE_STATUSES
from portal.careplans.labels import CLASS_LABELS, STATUS_LABELS
from portal.careplans.models import CarePlan
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.months import first_day, month_text, previous_month
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.services import settings_for
from portal.visits.catalogue import CARE_SERVICES

MAX_TIMES = 60  # times a month of one service (twice a day)
MAX_IN_PERSON = 31
REASON_LIMIT = 2000
OPEN_STATUSES = ("draft", "submitted")
ACTIONS = ("submit", "approve", "return")
# the columns a step depends on, read afresh (and locked) before it
LOCKED = ["status", "effective_from", "care_class", "services", "in_person_per_month"]


def plans_visible_to(user):
    """The select of plans ``user`` may read: the bureau's readers all, a contractor's manager its
    organisation's; anyone else none."""
    return reached(select(CarePlan), user, own=CarePlan.drafted_by_id, organisation=CarePlan.contractor_id,
                   read_all="careplan.read_all")


def visible_plan(plan_id, user):
    """The plan if ``user`` may read it, else NotFound (never 403)."""
    if not user.can("careplan.read"):
        raise NotFound(_("No such care plan."))
    return query.one_visible(plans_visible_to(user), CarePlan.id, plan_id, _("No such care plan."))


def versions_of(person, user):
    """The versions of ``person``'s plan that ``user`` may read, newest first."""
    if not user.can("careplan.read"):
        return []
    return db.session.scalars(plans_visible_to(user).where(CarePlan.beneficiary_id == person.id)
                              .order_by(CarePlan.version.desc())).all()


def minimum_for(tenant_id, care_class):
    """Services a month a plan of ``care_class`` needs at least (the bureau's setting)."""
    return int(settings_for(tenant_id)["min_services_per_month"].get(care_class, 0))


def latest_approved_start(beneficiary_id, excluding=None):
    """The first month of the person's latest approved version (superseded ones included), or None."""
    stmt = select(func.max(CarePlan.effective_from)).where(CarePlan.beneficiary_id == beneficiary_id,
                                                          CarePlan.status.in_(IN_FORCE_STATUSES))
    if excluding is not None:
        stmt = stmt.where(CarePlan.id != excluding)
    return db.session.scalar(stmt)


def _services(services):
    """{code: times} as stored (codes of the catalogue, zeros left out); errors by field name."""
    kept, errors = {}, {}
    for code, times in (services or {}).items():
        if code not in CARE_SERVICES:
            errors["services"] = [_("%(code)s is not a service of the catalogue.", code=code)]
        elif isinstance(times, bool) or not isinstance(times, int) or not 0 <= times <= MAX_TIMES:
            errors[f"service_{code}"] = [_("Give a number of times a month from 0 to %(n)s.", n=MAX_TIMES)]
        elif times:
            kept[code] = times
    return kept, errors


def no_class_message():
    """Why a person without a final self-care class gets no plan (the form and the person's page say it)."""
    return _("This person has no final self-care class yet: a plan can be drafted once the self-care assessment "
             "is final (the class sets the minimum of services).")


def terms_errors(person, contract, care_class, services, in_person, effective_from, today, plan_id=None):
    """{field: [message]} of every rule the terms break (see the module docstring); {} when none."""
    errors = {}
    if care_class is None:
        errors["care_class"] = [no_class_message()]
    if isinstance(in_person, bool) or not isinstance(in_person, int):
        errors["in_person_per_month"] = [_("Give the visits in person (探视巡访) a month as a whole number from 1 to "
                                           "%(most)s.", most=MAX_IN_PERSON)]
    elif not 1 <= in_person <= MAX_IN_PERSON:
        errors["in_person_per_month"] = [_("At least one visit in person (探视巡访) a month is required, at most "
                                           "%(most)s; the plan has %(n)s.", most=MAX_IN_PERSON, n=in_person)]
    kept, service_errors = _services(services)
    errors.update(service_errors)
    total = sum(kept.values())
    if care_class is not None and not service_errors:
        minimum = minimum_for(person.tenant_id, care_class)
        if total < minimum:
            errors["services"] = [_("The plan has %(total)s services a month; a person of the class “%(cls)s” needs "
                                    "at least %(minimum)s a month (the bureau's minimum).", total=total,
                                    cls=CLASS_LABELS.get(care_class, care_class), minimum=minimum)]
    if effective_from is None:
        errors["effective_from"] = [_("Give the month the plan starts (YYYY-MM).")]
    else:
        current, latest = first_day(today), latest_approved_start(person.id, excluding=plan_id)
        earliest = max(current, latest) if latest is not None else current
        last = first_day(contract.ends_on) if contract is not None else None
        if effective_from < earliest or last is not None and effective_from > last:
            errors["effective_from"] = [_months_allowed(earliest, last, contract, earliest != current)]
    return errors


def _months_allowed(earliest, last, contract, after_approved):
    """The months a version may start in, in words (the first month, and the last one the care
    contract runs in)."""
    if last is not None and last < earliest:
        return _("The care contract ends on %(day)s: no month is left for the plan to start in.",
                 day=contract.ends_on.isoformat())
    first = (_("the month of the latest approved version (%(month)s)", month=month_text(earliest)) if after_approved
             else _("the current month (%(month)s)", month=month_text(earliest)))
    if last is None:
        return _("The plan starts in a month from %(first)s on.", first=first)
    return _("The plan starts in a month from %(first)s to %(last)s, when the care contract ends (%(day)s).",
             first=first, last=month_text(last), day=contract.ends_on.isoformat())


def _refuse(errors):
    first = next(iter(errors.values()))[0]
    raise DomainError(first, errors)


def _reason(version, reason):
    reason = (reason or "").strip()
    if version > 1 and not reason:
        return reason, {"reason": [_("Say why the plan changes: a reason is required for every version after the "
                                     "first.")]}
    if len(reason) > REASON_LIMIT:
        return reason, {"reason": [_("At most %(n)s characters.", n=REASON_LIMIT)]}
    return reason, {}


def _still_served(plan, person, today):
    """Is ``person`` still assigned, on ``today``, to the care contract ``plan`` was drafted under?"""
    return plan.contract_id in {c.id for c in people.care_contracts(person, plan.contractor_id, today)}


def _open_version(person, today):
    """The person's version in the works (draft or submitted), or None. One of a contract the person
    has left since is returned on the spot: it can never be approved, and it must not block the
    care contractor who serves the person now."""
    waiting = db.session.scalars(select(CarePlan).where(CarePlan.beneficiary_id == person.id,
                                                        CarePlan.status.in_(OPEN_STATUSES))).first()
    if waiting is not None and not _still_served(waiting, person, today):
        waiting.status = "returned"
        waiting.decision_note = _("Returned on its own: the person is no longer assigned to this care contract.")
        db.session.flush()
        return None
    return waiting


def draft(person, user, now, *, services, in_person, effective_from, reason, plan=None):
    """Draft a new version of ``person``'s plan (``plan`` None) or change the draft ``plan``, by the
    care contractor's manager ``user``, from its latest needs assessment of the person. Returns the
    plan (status draft)."""
    if not user.can("careplan.draft") or user.contractor_id is None:
        raise NotFound(_("No such beneficiary."))
    today = local_today(now)
    if plan is not None:
        _locked(plan)
        if plan.status != "draft" or plan.contractor_id != user.contractor_id:
            raise Conflict(not_a_draft(plan))
    assessment = needs.latest_needs(person, user.contractor_id)
    if assessment is None:
        message = _("Record the person's needs assessment first: the plan follows from it.")
        raise DomainError(message, {"services": [message]})
    contracts = {c.id: c for c in people.care_contracts(person, user.contractor_id, today)}
    contract = contracts.get(assessment.contract_id)
    if contract is None:
        message = _("The person is no longer assigned to the care contract of the needs assessment: record a "
                    "needs assessment under the current contract first.")
        raise DomainError(message, {"services": [message]})
    care_class = standing(person).care_class
    effective_from = first_day(effective_from) if effective_from is not None else None
    errors = terms_errors(person, contract, care_class, services, in_person, effective_from, today,
                          plan_id=plan.id if plan is not None else None)
    if plan is None:
        db.session.execute(select(Beneficiary.id).where(Beneficiary.id == person.id).with_for_update())
        if (waiting := _open_version(person, today)) is not None:
            if waiting.contractor_id != user.contractor_id:  # another organisation's: say no more of it
                raise Conflict(_("Another version of this person's plan is in the works: it must be decided "
                                 "first."))
            raise Conflict(_("Version %(n)s of this person's plan is still “%(status)s”: finish it first.",
                             n=waiting.version, status=STATUS_LABELS[waiting.status]))
        version = (db.session.scalar(select(func.max(CarePlan.version)).where(
            CarePlan.beneficiary_id == person.id)) or 0) + 1
    else:
        version = plan.version
    reason, reason_errors = _reason(version, reason)
    errors.update(reason_errors)
    if errors:
        _refuse(errors)
    terms = {"contract_id": contract.id, "contractor_id": contract.contractor_id, "needs_assessment_id": assessment.id,
             "care_class": care_class, "services": _services(services)[0], "in_person_per_month": in_person,
             "effective_from": effective_from, "reason": reason, "drafted_by_id": user.id, "drafted_at": now}
    if plan is not None:
        for name, value in terms.items():
            setattr(plan, name, value)
        db.session.flush()
        return plan
    plan = CarePlan(beneficiary_id=person.id, version=version, status="draft", **terms)
    try:
        with db.session.begin_nested():
            db.session.add(plan)
            db.session.flush()
    except IntegrityError:  # the same draft sent twice at once: the other one is kept
        raise Conflict(_("This version of the plan has just been drafted (a second click?)."))
    return plan


def not_a_draft(plan):
    """Why ``plan`` cannot be changed: only a draft can."""
    return _("Only a draft can be changed; this version is “%(status)s”.",
             status=STATUS_LABELS.get(plan.status, plan.status))


def _locked(plan):
    if plan is None:
        raise NotFound(_("No such care plan."))
    db.session.refresh(plan, LOCKED, with_for_update=True)


def _status_refusal(plan):
    return _("This version is “%(status)s”: nothing more can be decided on it.",
             status=STATUS_LABELS.get(plan.status, plan.status))


def refusal(action, plan, user):
    """Why ``user`` may not take ``action`` ("submit", "approve", "return") on ``plan`` now, as
    ``(message, error class)``; None when it is open to them."""
    if action == "submit":
        if not user.can("careplan.draft") or plan.contractor_id != user.contractor_id:
            return _("Only the care contractor's manager submits its plan."), DomainError
        if plan.status != "draft":
            return (_("This version has already been submitted.") if plan.status == "submitted"
                    else _status_refusal(plan)), Conflict
        return None
    if not user.can("careplan.approve"):
        return _("Only a bureau officer or supervisor approves or returns a plan."), DomainError
    if plan.status != "submitted":
        if plan.status in ("approved", "superseded"):
            return _("This version has already been approved."), Conflict
        if plan.status == "returned":
            return _("This version has already been returned to the contractor."), Conflict
        return _("This version has not been submitted yet."), Conflict
    return None


def _step(action, plan, user):
    _locked(plan)
    refused = refusal(action, plan, user)
    if refused is not None:
        message, error = refused
        raise error(message, {"plan": [message]})


def _check_again(plan, today, approving):
    """The terms again, as they stand now (class, minimum, months)."""
    person = db.session.get(Beneficiary, plan.beneficiary_id)
    care_class = standing(person).care_class
    errors = terms_errors(person, plan.contract, care_class, dict(plan.services or {}), plan.in_person_per_month,
                          plan.effective_from, today, plan_id=plan.id)
    if not _still_served(plan, person, today):
        errors["contract"] = [_("The person is no longer assigned to the care contract this plan was drafted "
                                "under.")]
    if care_class is not None and care_class != plan.care_class:
        errors["care_class"] = [_("The person's final self-care class is now “%(now)s”, not “%(then)s” as when the "
                                  "plan was drafted.", now=CLASS_LABELS.get(care_class, care_class),
                                  then=CLASS_LABELS.get(plan.care_class, plan.care_class))]
    if errors:
        message = next(iter(errors.values()))[0]
        hint = (_("Return it to the contractor to draft it again.") if approving
                else _("Change the draft first."))
        raise DomainError(f"{message} {hint}", {"plan": [f"{message} {hint}"]})


def _audit(action, plan, user, after):
    record_event(db.session, action, tenant_id=plan.tenant_id, actor=user, object_type="CarePlan",
                 object_id=str(plan.id), after=after)


def submit(plan, user, now):
    """The manager sends its draft to the bureau: draft → submitted."""
    _step("submit", plan, user)
    _check_again(plan, local_today(now), approving=False)
    plan.status, plan.submitted_at = "submitted", now
    db.session.flush()
    _audit("care_plan_submitted", plan, user, {"version": plan.version})
    return plan


def approve(plan, user, now, note=""):
    """The bureau approves the version: submitted → approved, in force from its month; the person's
    earlier approved version becomes superseded (it keeps governing its own months)."""
    note = (note or "").strip()
    if len(note) > REASON_LIMIT:
        message = _("At most %(n)s characters.", n=REASON_LIMIT)
        raise DomainError(message, {"note": [message]})
    _step("approve", plan, user)
    _check_again(plan, local_today(now), approving=True)
    earlier = db.session.scalars(select(CarePlan).where(CarePlan.beneficiary_id == plan.beneficiary_id,
                                                        CarePlan.status == "approved", CarePlan.id != plan.id)
                                 .with_for_update()).all()
    for old in earlier:
        old.status = "superseded"
    plan.status, plan.decided_by_id, plan.decided_at, plan.decision_note = "approved", user.id, now, note
    db.session.flush()
    _audit("care_plan_approved", plan, user, {"version": plan.version, "effective_from": month_text(plan.effective_from),
                                              "superseded": [old.version for old in earlier]})
    return plan


def return_plan(plan, user, now, reason):
    """The bureau returns the version with a reason (required): submitted → returned; the contractor
    drafts a new version."""
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the plan is returned.")
        raise DomainError(message, {"reason": [message]})
    if len(reason) > REASON_LIMIT:
        message = _("At most %(n)s characters.", n=REASON_LIMIT)
        raise DomainError(message, {"reason": [message]})
    _step("return", plan, user)
    plan.status, plan.decided_by_id, plan.decided_at, plan.decision_note = "returned", user.id, now, reason
    db.session.flush()
    _audit("care_plan_returned", plan, user, {"version": plan.version})
    return plan


def governed_months(plans):
    """{plan id: (first month, last month or None)} of the approved and superseded versions among
    ``plans`` (one person's): the months each governs; a version replaced from its own first month
    governs none (absent)."""
    approved = sorted((p for p in plans if p.status in IN_FORCE_STATUSES), key=lambda p: (p.effective_from, p.version))
    spans = {}
    for index, plan in enumerate(approved):
        following = approved[index + 1] if index + 1 < len(approved) else None
        if following is None:
            spans[plan.id] = (plan.effective_from, None)
        elif following.effective_from > plan.effective_from:
            spans[plan.id] = (plan.effective_from, previous_month(following.effective_from))
    return spans
