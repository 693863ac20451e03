"""What a procurement officer must do, each with its due day and whether it is late (tender
notices, bidding to close, award results to publish, contracts to sign, late disclosures). It
reads tenders, contracts and disclosures, so it lives here, above those packages."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.contracts.models import Contract
from portal.core.timeutil import local_today, utcnow
from portal.disclosures import late_disclosures
from portal.extensions import db
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.models import Award, Challenge, Lot, Tender


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

    def add(kind, title, due_on, tender_id=None, late=None, award_id=None):
        items.append({"kind": kind, "title": title, "due_on": due_on, "tender_id": tender_id, "award_id": award_id,
                      "late": (due_on is not None and today > due_on) if late is None else late})

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
            publish_by = deadlines.award_deadlines(award.confirmed_on, calendar).publish_by
            add("result", _("Publish the award result of lot %(lot)s of %(number)s",
                            lot=lot.number, number=lot.tender.number), publish_by, lot.tender_id)
        elif award.id not in signed and lot.tender.status == "awarded":
            sign_by = deadlines.contract_sign_by(deadlines.local_date(award.notice_published_at))
            add("contract", _("Sign the contract of lot %(lot)s of %(number)s", lot=lot.number,
                              number=lot.tender.number), sign_by, lot.tender_id)
    for challenge, award, lot in db.session.execute(
            select(Challenge, Award, Lot).join(Award, Challenge.award_id == Award.id)
            .join(Lot, Award.lot_id == Lot.id).where(Challenge.status == "open")).all():
        add("challenge", _("Answer the challenge by %(challenger)s against lot %(lot)s of %(number)s "
                           "(received %(day)s)", challenger=challenge.challenger, lot=lot.number,
                           number=lot.tender.number, day=deadlines.local_date(challenge.received_at).isoformat()),
            deadlines.challenge_answer_due(deadlines.local_date(challenge.received_at), calendar), lot.tender_id,
            award_id=award.id)
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
