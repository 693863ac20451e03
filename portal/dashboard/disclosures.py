"""The officer's list of disclosures due or late (docs/DOMAIN.md §9: published on time). It reads
what tenders and contracts still owe the public besides the disclosure records, so it lives here,
above those packages, and not in portal/disclosures."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal.contracts.lifecycle import IN_FORCE
from portal.contracts.models import Amendment, Contract
from portal.contracts.services import amendment_due_on
from portal.core.timeutil import local_today, utcnow
from portal.core.workdays import UnknownCalendarYear
from portal.dashboard.agenda import officer_agenda
from portal.disclosures import Disclosure, is_late
from portal.extensions import db
from portal.tenancy.workdays import tenant_calendar


def due_or_late_disclosures(now=None):
    """What the public must be told and when, for the officer: notices still to publish (tender
    notices, award results, contract notices, amendments, unpublished disclosure rows) with their
    due day, late once the day has passed, and disclosures that went out after their due day.
    Late ones first, then by due day.

    Each item is a dict: ``title``, ``due_on``, ``published_at`` (None while pending),
    ``state`` ("due", "late" or "published_late"), ``late`` and the ``disclosure_id``,
    ``tender_id`` or ``contract_id`` it links to. Contract notices and amendments are
    ``automatic``: the hourly job publishes them, so they are no to-do for the officer (listed
    apart, with the contract they belong to)."""
    now = now or utcnow()
    today = local_today(now)
    items = []

    def add(title, due_on, state, disclosure_id=None, tender_id=None, published_at=None, contract_id=None):
        items.append({"title": title, "due_on": due_on, "state": state, "late": state != "due",
                      "published_at": published_at, "disclosure_id": disclosure_id, "tender_id": tender_id,
                      "contract_id": contract_id, "automatic": contract_id is not None})

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
            pending_state(contract.notice_due_on), contract_id=contract.id)
    amendments = db.session.execute(
        select(Amendment).where(Amendment.published_at.is_(None)).order_by(Amendment.id)).scalars().all()
    calendar = tenant_calendar() if amendments else None
    for amendment in amendments:
        try:
            due_on = amendment_due_on(amendment, calendar)
        except UnknownCalendarYear:  # listed as due without a day rather than breaking the page
            due_on = None
        add(_("Amendment %(n)s of contract %(number)s", n=amendment.number, number=amendment.contract.number),
            due_on, pending_state(due_on), contract_id=amendment.contract_id)
    disclosures = db.session.execute(
        select(Disclosure).where(Disclosure.due_on.is_not(None)).order_by(Disclosure.id)).scalars()
    for disclosure in disclosures:
        if disclosure.published_at is None:
            add(disclosure.title, disclosure.due_on, pending_state(disclosure.due_on))
        elif is_late(disclosure, today):
            add(disclosure.title, disclosure.due_on, "published_late", disclosure_id=disclosure.id,
                published_at=disclosure.published_at)
    items.sort(key=lambda item: (not item["late"], item["due_on"] or date.max))
    return items


def officer_to_dos(items):
    """The items the officer has something to do about: all but the automatic ones still on time."""
    return [item for item in items if not (item["automatic"] and item["state"] == "due")]
