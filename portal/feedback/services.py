"""Receiving, assigning, answering and publishing feedback (docs/DOMAIN.md §9 "Public feedback").

The answer is due ``feedback_answer_working_days`` working days (tenant setting) after the day of
receipt in Beijing, on the bureau's calendar (tenancy/workdays.py). An item is *due* while it is
unanswered and its due day is within DUE_SOON working days from today (today included: an item
due today is due, not overdue); *overdue* once today is past its due day. The answer is shown to
whoever holds the tracking number, so an answer holding the name of one of the bureau's
beneficiaries or of a worker on the roster of a contractor registered with it is refused when it
is saved (and, as before, at publishing, which also needs the sender's consent). An item is
assigned only to an active member of the bureau's staff who may handle feedback."""
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.permissions import roles_for
from portal.assessments.objections import Throttled, throttle_public_post  # noqa: F401  (one throttle)
from portal.beneficiaries.models import Beneficiary
from portal.contractors.models import Contractor, ContractorRegistration, StaffMember
from portal.core import crypto, query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_today, to_local
from portal.extensions import db
from portal.feedback.models import TOPICS, FeedbackItem
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.workdays import working_days_after

TEXT_LIMIT = 2000
CONTACT_LIMIT = 200
ANSWER_LIMIT = 4000
DUE_SOON = 2  # working days: the "due" tab
TRACKING_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32
TOPIC_LABELS = {"contractor": _l("A contractor"), "service": _l("A service"), "notice": _l("A notice"),
                "assessment_objection": _l("An assessment publicity"), "other": _l("Something else")}
STATUS_LABELS = {"received": _l("Received, not yet handled"), "assigned": _l("Being handled"),
                 "answered": _l("Answered to the sender")}
# the officer's finding on an item about a contractor, stored in FeedbackItem.upheld
FINDINGS = {"upheld": True, "not_upheld": False, "not_complaint": None}
FINDING_LABELS = {"upheld": _l("The complaint is upheld"), "not_upheld": _l("The complaint is not upheld"),
                  "not_complaint": _l("Not a complaint")}
UPHELD_FILTERS = {"": _l("Any finding"), "upheld": _l("Complaint upheld"), "not_upheld": _l("Not upheld"),
                  "none": _l("No finding")}
if set(TOPIC_LABELS) != set(TOPICS):  # checked on import, also under python -O (an assert would not be)
    raise RuntimeError("every feedback topic needs its label")


def random_number():
    """An unguessable tracking number: "FK" and ten random base32 characters."""
    return "FK" + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def _tracking_number():
    while True:
        number = random_number()
        if db.session.scalar(select(FeedbackItem.id).where(FeedbackItem.tracking_number == number)) is None:
            return number


def answer_days(tenant):
    try:
        return max(int(tenant.setting("feedback_answer_working_days")), 0)
    except (TypeError, ValueError):
        return 5


def submit(tenant, topic, text, now, *, contact="", consent=False, contractor_id=None):
    """Record feedback received ``now`` (UTC) for the current bureau; returns the FeedbackItem."""
    errors = {}
    text, contact = (text or "").strip(), (contact or "").strip()
    if topic not in TOPICS:
        errors["topic"] = [_("Choose what the feedback is about.")]
    if not text:
        errors["text"] = [_("Write your feedback.")]
    elif len(text) > TEXT_LIMIT:
        errors["text"] = [_("At most %(n)s characters.", n=TEXT_LIMIT)]
    if len(contact) > CONTACT_LIMIT:
        errors["contact"] = [_("At most %(n)s characters.", n=CONTACT_LIMIT)]
    if contractor_id is not None and contractor_id not in dict(serving_contractors()):
        errors["contractor"] = [_("Choose a contractor of this bureau, or none.")]
    if errors:
        raise DomainError(_("The feedback is not complete."), errors)
    due = working_days_after(local_today(now), answer_days(tenant), "text")
    item = FeedbackItem(tracking_number=_tracking_number(), topic=topic, contractor_id=contractor_id, text=text,
                        contact=crypto.encrypt(contact) if contact else "", consent_to_publish=bool(consent),
                        status="received", received_at=now, due_on=due, answer="")
    db.session.add(item)
    db.session.flush()
    return item


def contact_of(item):
    """The sender's contact, decrypted (bureau officers' detail page only)."""
    return crypto.decrypt(item.contact) if item.contact else ""


def serving_contractors():
    """[(id, name)] of the contractors registered with the current bureau."""
    return db.session.execute(select(Contractor.id, Contractor.name).join(
        ContractorRegistration, ContractorRegistration.contractor_id == Contractor.id).order_by(Contractor.name)).all()


def public_tenant(code):
    """The active bureau of a public API URL (its data then read in its scope), or NotFound."""
    from portal.tenancy.scope import set_request_tenant
    tenant = db.session.scalar(select(Tenant).where(Tenant.code == (code or "")[:32], Tenant.active.is_(True)))
    if tenant is None:
        raise NotFound(_("No such bureau."))
    set_request_tenant(tenant.id)
    return tenant


def find(number):
    """The current bureau's item with this tracking number, or None."""
    number = (number or "").strip().upper()[:16]
    if not number:
        return None
    return db.session.scalar(select(FeedbackItem).where(FeedbackItem.tracking_number == number))


def get_item(item_id):
    item = db.session.get(FeedbackItem, item_id) if query.is_id(item_id) else None
    if item is None:
        raise NotFound(_("No such feedback."))
    return item


def bureau_users():
    """[(id, name)] of the current bureau's active staff an item can be assigned to: those who may
    handle feedback (capability feedback.handle)."""
    rows = db.session.execute(select(User.id, User.display_name, User.username).where(
        User.tenant_id == current_tenant_id(), User.role.in_(roles_for("feedback.handle")), User.active.is_(True))
        .order_by(User.username)).all()
    return [(row.id, row.display_name or row.username) for row in rows]


def assign(item, user_id):
    if item.status == "answered":
        raise Conflict(_("This feedback has already been answered."))
    if user_id not in dict(bureau_users()):
        raise DomainError(_("Choose a member of the bureau's staff."), {"user": [_("Choose a member of the bureau's staff.")]})
    item.assigned_to_id, item.status = user_id, "assigned"
    db.session.flush()
    return item


def about_contractor(item):
    """An item names a contractor (topic contractor, or a service with a contractor chosen): its
    answer carries a finding (FINDINGS), which the contractor's scorecard counts."""
    return item.contractor_id is not None


def answer(item, text, by, now, finding=None):
    """Answer an item once (Conflict the second time). An item about a contractor needs a finding
    from FINDINGS (upheld, not upheld, not a complaint); any other item takes none. An answer naming
    a beneficiary or a worker (names_in) is refused: the sender's tracking number shows it."""
    if item.status == "answered":
        raise Conflict(_("This feedback has already been answered."))
    text = (text or "").strip()
    errors = {}
    if not text or len(text) > ANSWER_LIMIT:
        errors["answer"] = [_("Write the answer the sender will read.") if not text
                            else _("At most %(n)s characters.", n=ANSWER_LIMIT)]
    elif names_in(text):  # whoever holds the tracking number reads the answer
        errors["answer"] = [_("The answer names a person served or a worker; anyone with the tracking number "
                              "reads it: write it without the name.")]
    if about_contractor(item) and finding not in FINDINGS:
        errors["finding"] = [_("Say whether the complaint about the contractor is upheld.")]
    if errors:
        raise DomainError(_("The answer is not complete."), errors)
    item.upheld = FINDINGS[finding] if about_contractor(item) else None
    item.answer, item.status, item.answered_at, item.answered_by_id = text, "answered", now, by.id
    if item.assigned_to_id is None:
        item.assigned_to_id = by.id
    db.session.flush()
    return item


def names_in(text):
    """The names of the bureau's beneficiaries and of the workers of its contractors that ``text``
    holds (two characters at least)."""
    people = db.session.scalars(select(Beneficiary.name)).all()
    workers = db.session.scalars(select(StaffMember.name).join(
        ContractorRegistration, ContractorRegistration.contractor_id == StaffMember.contractor_id)).all()
    return sorted({name for name in (*people, *workers) if name and len(name) >= 2 and name in text})


def publish(item, now):
    """Publish the answer (topic and answer only). Refused without consent, before an answer, or
    when the answer names a beneficiary or a worker."""
    if item.published_at is not None:
        raise Conflict(_("This answer is already published."))
    if item.status != "answered":
        raise DomainError(_("Only an answered item can be published."))
    if not item.consent_to_publish:
        raise DomainError(_("The sender did not agree to publication."))
    if names_in(item.answer):
        raise DomainError(_("The answer names a person served or a worker; write it without the name before "
                            "publishing."))
    item.published_at = now
    db.session.flush()
    return item


def items_query(tab="all", today=None, upheld=""):
    """The current bureau's items for a tab: all, due (unanswered, due within DUE_SOON working days,
    today included) or overdue (unanswered, past the due day); ``upheld`` (UPHELD_FILTERS) keeps
    the items with that finding ("none": no finding)."""
    today = today or local_today()
    stmt = select(FeedbackItem).order_by(FeedbackItem.due_on, FeedbackItem.id)
    open_ = FeedbackItem.status != "answered"
    if tab == "due":
        stmt = stmt.where(open_, FeedbackItem.due_on >= today,
                          FeedbackItem.due_on <= working_days_after(today, DUE_SOON, "tab"))
    elif tab == "overdue":
        stmt = stmt.where(open_, FeedbackItem.due_on < today)
    else:
        stmt = select(FeedbackItem).order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc())
    if upheld in ("upheld", "not_upheld"):
        stmt = stmt.where(FeedbackItem.upheld.is_(upheld == "upheld"))
    elif upheld == "none":
        stmt = stmt.where(FeedbackItem.upheld.is_(None))
    return stmt


def published_query():
    return select(FeedbackItem).where(FeedbackItem.published_at.is_not(None)).order_by(
        FeedbackItem.published_at.desc(), FeedbackItem.id.desc())


def received_day(item):
    return to_local(item.received_at).date()


def no_such_number():
    return _("No feedback has this tracking number.")
