"""Publishing disclosures (docs/DOMAIN.md §9): what goes out, when it was due, and which are late.

Every package that must publish something (tender notices, award results, contract notices …)
calls ``publish``; the late list of the officer dashboard reads ``late_disclosures``."""
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.extensions import db
from portal.public.models import DISCLOSURE_KINDS, Disclosure


def publish(kind, title, body, subject, due_on, now, data=None):
    """Publish one disclosure now. ``subject`` is the record it is about (an ORM object with an
    id, or None); ``due_on`` the legal last day, so a publication after it shows as late. The
    body is read by the public: callers must put nothing private in it (no ID numbers, phones,
    addresses of people, bid contents)."""
    if kind not in DISCLOSURE_KINDS:
        raise ValueError(f"unknown disclosure kind {kind!r}")
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError("publish needs an aware datetime")
    subject_type, subject_id = "", None
    if subject is not None:
        if getattr(subject, "id", None) is None:
            db.session.flush()  # a new subject gets its id first
        subject_type, subject_id = subject.__tablename__, subject.id
    disclosure = Disclosure(kind=kind, title=title, body=body, subject_type=subject_type,
                            subject_id=subject_id, data=dict(data or {}), due_on=due_on,
                            published_at=now)
    db.session.add(disclosure)
    db.session.flush()
    # Every procurement disclosure is also open data: its OCDS release, in the same transaction.
    from portal.opendata.releases import release_disclosure
    release_disclosure(disclosure, subject)
    return disclosure


def disclosures_of(subject, kind=None):
    """The disclosures published about one record, oldest first."""
    stmt = select(Disclosure).where(Disclosure.subject_type == subject.__tablename__,
                                    Disclosure.subject_id == subject.id).order_by(Disclosure.id)
    if kind:
        stmt = stmt.where(Disclosure.kind == kind)
    return db.session.execute(stmt).scalars().all()


def flag_late_disclosures(now=None):
    """Mark every late disclosure of the current tenant that is not flagged yet (idempotent:
    a second run flags nothing). Returns the newly flagged disclosures."""
    now = now or utcnow()
    today = local_today(now)
    candidates = db.session.execute(
        select(Disclosure).where(Disclosure.due_on.is_not(None), Disclosure.late_flagged_at.is_(None),
                                 Disclosure.due_on < today)).scalars().all()
    flagged = []
    for disclosure in candidates:
        if _is_late(disclosure, today):
            disclosure.late_flagged_at = now
            flagged.append(disclosure)
    db.session.flush()
    return flagged


def _is_late(disclosure, today):
    if disclosure.due_on is None:
        return False
    if disclosure.published_at is None:
        return today > disclosure.due_on
    return disclosure.published_at >= local_midnight_utc(disclosure.due_on + timedelta(days=1))


def late_disclosures():
    """Disclosures the periodic job flagged as late, newest due date first."""
    return db.session.execute(
        select(Disclosure).where(Disclosure.late_flagged_at.is_not(None))
        .order_by(Disclosure.due_on.desc(), Disclosure.id.desc())).scalars().all()


def due_or_late_disclosures(now=None):
    """What the public must be told and when, for the officer (docs/DOMAIN.md §9: published on
    time): notices still to publish (tender notices, award results, contract notices,
    amendments, unpublished disclosure rows) with their due day, late once the day has passed,
    and disclosures that went out after their due day. Late ones first, then by due day.

    Each item is a dict: ``title``, ``due_on``, ``published_at`` (None while pending),
    ``state`` ("due", "late" or "published_late"), ``late`` and the ``disclosure_id`` or
    ``tender_id`` it links to."""
    from datetime import date

    from flask_babel import gettext as _

    from portal.contracts.lifecycle import IN_FORCE
    from portal.contracts.models import Amendment, Contract
    from portal.contracts.services import amendment_due_on
    from portal.core.workdays import tenant_calendar
    from portal.tenders.services import officer_agenda
    now = now or utcnow()
    today = local_today(now)
    items = []

    def add(title, due_on, state, disclosure_id=None, tender_id=None, published_at=None):
        items.append({"title": title, "due_on": due_on, "state": state, "late": state != "due",
                      "published_at": published_at, "disclosure_id": disclosure_id, "tender_id": tender_id})

    def pending_state(due_on):
        return "late" if due_on is not None and today > due_on else "due"

    for step in officer_agenda(now):
        if step["kind"] in ("notice", "result"):
            add(step["title"], step["due_on"], pending_state(step["due_on"]), tender_id=step["tender_id"])
    contracts = db.session.execute(
        select(Contract).where(Contract.status.in_(IN_FORCE), Contract.notice_due_on.is_not(None),
                               Contract.notice_published_at.is_(None)).order_by(Contract.id)).scalars()
    for contract in contracts:
        add(_("Contract notice of %(number)s", number=contract.number), contract.notice_due_on,
            pending_state(contract.notice_due_on))
    amendments = db.session.execute(
        select(Amendment).where(Amendment.published_at.is_(None)).order_by(Amendment.id)).scalars().all()
    calendar = tenant_calendar() if amendments else None
    for amendment in amendments:
        due_on = amendment_due_on(amendment, calendar)
        add(_("Amendment %(n)s of contract %(number)s", n=amendment.number, number=amendment.contract.number),
            due_on, pending_state(due_on))
    disclosures = db.session.execute(
        select(Disclosure).where(Disclosure.due_on.is_not(None)).order_by(Disclosure.id)).scalars()
    for disclosure in disclosures:
        if disclosure.published_at is None:
            add(disclosure.title, disclosure.due_on, pending_state(disclosure.due_on))
        elif _is_late(disclosure, today):
            add(disclosure.title, disclosure.due_on, "published_late", disclosure_id=disclosure.id,
                published_at=disclosure.published_at)
    items.sort(key=lambda item: (not item["late"], item["due_on"] or date.max))
    return items


def publication_fingerprint():
    """What changes whenever the current tenant publishes something or edits a policy page:
    (newest published disclosure id, its time, how many are published, newest policy edit).
    Public pages build their ETag from it."""
    from sqlalchemy import func

    from portal.public.models import PolicyPage
    newest_id, newest_at, count = db.session.execute(
        select(func.max(Disclosure.id), func.max(Disclosure.published_at), func.count(Disclosure.id))
        .where(Disclosure.published_at.is_not(None))).one()
    policy_at = db.session.execute(select(func.max(PolicyPage.updated_at))).scalar_one()
    return newest_id, newest_at, count, policy_at
