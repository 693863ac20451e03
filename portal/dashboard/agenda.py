"""What a procurement officer must do, each with its due day and whether it is late (tender
notices, bidding to close, award results to publish, contracts to sign, late disclosures). It
reads tenders, contracts and disclosures, so it lives here, above those packages."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.contracts.models import Contract
from portal.core.timeutil import local_today, utcnow
from portal.core.workdays import UnknownCalendarYear
from portal.disclosures import late_disclosures
from portal.extensions import db
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.awards import answer_due, signing_blocked
from portal.tenders.models import Award, Challenge, Lot, Tender

LATE_SIGNING_SHOWN_DAYS = 30  # a contract signed late stays on the agenda for this long


def _signed_award_ids():
    """Awards whose contract is signed."""
    return set(db.session.execute(select(Contract.award_id).where(
        Contract.award_id.is_not(None), Contract.status != "draft")).scalars())


def officer_agenda(now=None):
    """What a procurement officer must do, each with its due day and whether it is late:
    tender notices, bidding to close, award results to publish, challenges to answer within 7
    working days (政府采购法 §53), upheld challenges waiting for the officer's choice, contracts to
    sign, late disclosures."""
    now = now or utcnow()
    today = local_today(now)
    calendar = tenant_calendar()
    items = []

    def add(kind, title, due_on, tender_id=None, late=None, award_id=None, warning=None):
        items.append({"kind": kind, "title": title, "due_on": due_on, "tender_id": tender_id, "award_id": award_id,
                      "late": (due_on is not None and today > due_on) if late is None else late,
                      "warning": warning})

    waiting = db.session.execute(select(Tender).where(Tender.status == "intention_published")).scalars()
    for tender in waiting:
        ready_on = deadlines.earliest_notice_date(deadlines.local_date(tender.intention.published_at))
        due_on = tender.documents_from or ready_on
        add("notice", _("Publish the tender notice of %(number)s (possible from %(day)s)",
                        number=tender.number, day=ready_on.isoformat()), due_on, tender.id)
    closing = db.session.execute(select(Tender).where(Tender.status == "tendering", Tender.bid_deadline <= now)).scalars()
    for tender in closing:
        add("closing", _("Bidding on %(number)s is past its deadline", number=tender.number),
            deadlines.local_date(tender.bid_deadline), tender.id, late=False)
    awards = db.session.execute(select(Award, Lot).join(Lot, Award.lot_id == Lot.id)
                                .where(Award.status == "active")).all()
    signed = _signed_award_ids()
    for award, lot in awards:
        if award.notice_published_at is None:
            title = _("Publish the award result of lot %(lot)s of %(number)s", lot=lot.number,
                      number=lot.tender.number)
            try:
                publish_by = deadlines.award_deadlines(award.confirmed_on, calendar).publish_by
            except UnknownCalendarYear as unknown:  # shown, not counted: the page still works
                add("result", title, None, lot.tender_id, late=False, warning=unknown.message)
                continue
            add("result", title, publish_by, lot.tender_id)
        elif award.id not in signed and lot.status == "awarded" and not signing_blocked(award)[0]:
            # (while a challenge that may change the result is open, its answer is what is due)
            sign_by = deadlines.contract_sign_by(deadlines.local_date(award.notice_published_at), calendar)
            title = (_("Sign the contract of lot %(lot)s of %(number)s", lot=lot.number, number=lot.tender.number)
                     if today <= sign_by else
                     _("Sign the contract of lot %(lot)s of %(number)s: day 30 has passed, record a late "
                       "signing with its reason", lot=lot.number, number=lot.tender.number))
            add("contract", title, sign_by, lot.tender_id)
    late_signed = db.session.execute(select(Contract).where(
        Contract.late_signing_reason != "", Contract.signed_on >= today - timedelta(days=LATE_SIGNING_SHOWN_DAYS))
        .order_by(Contract.signed_on)).scalars()
    for contract in late_signed:
        add("late_signing", _("Contract %(number)s was signed late on %(day)s: %(reason)s", number=contract.number,
                              day=contract.signed_on.isoformat(), reason=contract.late_signing_reason),
            contract.sign_by(), contract.award.lot.tender_id, late=True)
    for challenge, award, lot in db.session.execute(
            select(Challenge, Award, Lot).join(Award, Challenge.award_id == Award.id)
            .join(Lot, Award.lot_id == Lot.id).where(Challenge.status == "open", Award.status == "active")).all():
        answer_by, warning = answer_due(challenge, calendar)
        add("challenge", _("Answer the challenge by %(challenger)s against lot %(lot)s of %(number)s "
                           "(received %(day)s)", challenger=challenge.challenger, lot=lot.number,
                           number=lot.tender.number, day=deadlines.local_date(challenge.received_at).isoformat()),
            answer_by, lot.tender_id, award_id=award.id, warning=warning)
    for challenge, award, lot in db.session.execute(
            select(Challenge, Award, Lot).join(Award, Challenge.award_id == Award.id)
            .join(Lot, Award.lot_id == Lot.id)
            .where(Challenge.status == "upheld", Challenge.may_change_result.is_(True), Challenge.remedy == "",
                   Award.status == "active")).all():
        add("remedy", _("Decide what follows the upheld challenge against lot %(lot)s of %(number)s",
                        lot=lot.number, number=lot.tender.number),
            deadlines.local_date(challenge.answered_at or now), lot.tender_id, late=False, award_id=award.id)
    for disclosure in late_disclosures():
        add("disclosure", _("Late disclosure: %(title)s", title=disclosure.title), disclosure.due_on, late=True)
    items.sort(key=lambda item: (not item["late"], item["due_on"] or today + timedelta(days=3650)))
    return items
