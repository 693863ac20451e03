"""Publishing disclosures (docs/DOMAIN.md §9): what goes out, when it was due, and which are late.

Every package that must publish something (tender notices, award results, contract notices …)
calls ``publish``, which sends ``disclosure_published`` (open data turns procurement notices into
OCDS releases, in the same transaction); the officer's agenda reads ``late_disclosures``."""
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.disclosures.models import DISCLOSURE_KINDS, Disclosure
from portal.disclosures.signals import disclosure_published
from portal.extensions import db


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
    # Synchronous: every receiver (open data's OCDS release) runs here, in the same transaction.
    disclosure_published.send(disclosure, subject=subject)
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
        if is_late(disclosure, today):
            disclosure.late_flagged_at = now
            flagged.append(disclosure)
    db.session.flush()
    return flagged


def is_late(disclosure, today):
    """Unpublished past its due day, or published after the end of that day (Beijing time)."""
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
