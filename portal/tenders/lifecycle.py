"""The tender state machine (docs/DOMAIN.md §3), mixed into ``Tender``:

    draft → intention_published → tendering → evaluation → awarded
                                                          ↘ failed
    any state before awarded/failed → cancelled (with a reason)

Each move is a method that refuses a wrong move with a DomainError saying why; the dates are
checked by the pure rules of tenders/deadlines.py on the bureau's working-day calendar."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.errors import DomainError
from portal.core.money import format_fen
from portal.extensions import db
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines

STATUS_LABELS = {
    "draft": _l("Draft"), "intention_published": _l("Intention published"), "tendering": _l("Open for bids"),
    "evaluation": _l("Under evaluation"), "awarded": _l("Awarded"), "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}
METHOD_LABELS = {
    "open_tender": _l("Open tender"), "invited_tender": _l("Invited tender"),
    "competitive_negotiation": _l("Competitive negotiation"),
    "competitive_consultation": _l("Competitive consultation"),
    "request_for_quotation": _l("Request for quotation"), "single_source": _l("Single source"),
}
UNIT_LABELS = {
    "assessment": _l("per assessment"), "visit": _l("per visit"), "household_survey": _l("per household survey"),
    "station_month": _l("per station-month"), "training_session": _l("per training session"),
}
EDITABLE = ("draft", "intention_published")
CANCELLABLE = ("draft", "intention_published", "tendering", "evaluation")
# Methods decided by comprehensive scoring, so they need criteria and a price weight.
SCORED_METHODS = ("open_tender", "invited_tender", "competitive_consultation")
PRICE_WEIGHT_RANGE = (10, 30)   # per cent, for services
MAX_BID_BOND_PERCENT = 2
MIN_INVITED = 3


def check_terms(tender):
    """The money and scoring terms of a tender: price weight 10–30 % for services, a bid bond
    of at most 2 % of the budget, a positive budget. Raises DomainError."""
    low, high = PRICE_WEIGHT_RANGE
    if tender.price_weight_percent is None or not low <= tender.price_weight_percent <= high:
        raise DomainError(_("For services the price weight must be between 10 %% and 30 %%, not %(value)s %%.",
                            value=tender.price_weight_percent))
    if not tender.budget_fen or tender.budget_fen <= 0:
        raise DomainError(_("The budget amount must be greater than zero."))
    if tender.bid_bond_fen < 0 or tender.bid_bond_fen * 100 > tender.budget_fen * MAX_BID_BOND_PERCENT:
        from portal.core.money import format_fen
        raise DomainError(_("The bid bond may be at most 2 %% of the budget: %(limit)s yuan.",
                            limit=format_fen(tender.budget_fen * MAX_BID_BOND_PERCENT // 100)))


def check_lot(lot):
    """A lot's maximum price is positive and within its budget, and so are its service items."""
    if lot.budget_fen <= 0 or lot.max_price_fen <= 0:
        raise DomainError(_("A lot's budget and maximum price must be greater than zero."))
    if lot.max_price_fen > lot.budget_fen:
        raise DomainError(_("A lot's maximum price cannot exceed its budget amount."))
    check_lot_items_within_budget(lot, [(item.quantity, item.max_unit_price_fen) for item in lot.items])


def check_lot_items_within_budget(lot, quantities_and_prices):
    """Σ(quantity × maximum unit price) of a lot's service items may not exceed the lot's budget
    (docs/DOMAIN.md §5: what is bought never adds up to more than what is budgeted for it)."""
    total = sum((quantity or 0) * (price or 0) for quantity, price in quantities_and_prices)
    if total > (lot.budget_fen or 0):
        raise DomainError(_(
            "Lot %(number)s: its service items add up to %(items)s yuan (quantity × maximum unit price), more "
            "than the lot budget of %(budget)s yuan.", number=lot.number or "", items=format_fen(total),
            budget=format_fen(lot.budget_fen or 0)))


class TenderLifecycle:
    """State-machine methods of ``Tender`` (mixed in; the columns are in tenders/models.py)."""

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def method_label(self):
        return METHOD_LABELS.get(self.method, self.method)

    @property
    def editable(self):
        return self.status in EDITABLE

    @property
    def bidding_closed(self):
        """The bid deadline has passed: no bid and no clarification any more, the bids may be opened."""
        from portal.core.timeutil import utcnow
        return self.bid_deadline is not None and utcnow() >= self.bid_deadline

    @property
    def published(self):
        """Visible outside the bureau: the tender notice is out."""
        return self.notice_published_at is not None

    def _require(self, allowed, action):
        if self.status not in allowed:
            raise DomainError(_("A tender that is %(status)s cannot be %(action)s.",
                                status=self.status_label, action=action))

    def ensure_editable(self):
        self._require(EDITABLE, _("edited"))

    def check_ready(self):
        """Everything the notice will promise: terms, lots with items, criteria, invitations."""
        check_terms(self)
        if not self.lots:
            raise DomainError(_("Add at least one lot before publishing."))
        for lot in self.lots:
            check_lot(lot)
            if not lot.items:
                raise DomainError(_("Lot %(number)s has no service items.", number=lot.number))
        if sum(lot.budget_fen for lot in self.lots) != self.budget_fen:
            raise DomainError(_("The lots' budget amounts must add up to the tender's budget amount."))
        if self.method in SCORED_METHODS:
            points = sum(c.max_points for c in self.criteria)
            if points != 100 - self.price_weight_percent:
                raise DomainError(_(
                    "The evaluation criteria must give %(needed)s points (100 less the price weight); they give %(points)s.",
                    needed=100 - self.price_weight_percent, points=points))
        if self.method == "invited_tender" and len(self.invited_contractor_ids or []) < MIN_INVITED:
            raise DomainError(_("An invited tender invites at least 3 contractors."))

    def publish_intention(self, now, calendar):
        """draft → intention_published: the purchase intention (采购意向) is published, unless
        it already was (an intention published from the procurement plan)."""
        self._require(("draft",), _("given a purchase intention"))
        check_terms(self)
        from portal.tenders.planning import check_budget_room, create_intention, publish_intention
        check_budget_room(self.budget_line, self.budget_fen, exclude_tender=self)
        if self.intention is None:
            self.intention = create_intention(self, now)
        if self.intention.published_at is None:
            publish_intention(self.intention, now)
        self.status = "intention_published"

    def publish_notice(self, now, calendar):
        """intention_published → tendering: checks the whole tender and its timetable, then
        publishes the tender notice (招标/采购公告) as a disclosure."""
        self._require(("intention_published",), _("published"))
        self.check_ready()
        from portal.tenders.planning import check_budget_room
        check_budget_room(self.budget_line, self.budget_fen, exclude_tender=self)
        intention_on = (deadlines.local_date(self.intention.published_at)
                        if self.intention is not None and self.intention.published_at else None)
        notice_on = deadlines.local_date(now)
        deadlines.check_timetable(self.method, notice_on, self.documents_from, self.documents_until,
                                  self.bid_deadline, calendar, intention_published_on=intention_on)
        self.status = "tendering"
        self.notice_published_at = now
        if self.method == "single_source":  # the notice publicises the reasons (实施条例 §38)
            self.single_source_publicity_from = notice_on
        from portal.tenders.notices import publish_tender_notice
        publish_tender_notice(self, now)

    def clarify(self, body, changes_documents, now, calendar):
        """Issue a clarification while bids are open. One that changes the documents less than
        15 days before the deadline moves the deadline (and every sealed bid's opening time)
        to 15 days after it."""
        self._require(("tendering",), _("clarified"))
        if not (body or "").strip():
            raise DomainError(_("Write the clarification."))
        if now >= self.bid_deadline:
            raise DomainError(_("The bid deadline has passed; no clarification can be issued."))
        from portal.tenders.models import Clarification
        previous = self.bid_deadline
        new = (deadlines.clarified_deadline(now, previous, calendar, self.method)
               if changes_documents else previous)
        clarification = Clarification(tender=self, issued_at=now, body=body.strip(),
                                      changes_documents=bool(changes_documents),
                                      previous_deadline=previous, new_deadline=new)
        db.session.add(clarification)
        if new != previous:
            self.bid_deadline = new
            self._move_bid_opening(new)
        from portal.tenders.notices import publish_clarification
        publish_clarification(self, clarification, now)
        return clarification

    def _move_bid_opening(self, opens_at):
        """Sealed bids open at the deadline: keep every bid's ``opens_at`` in step with it, by
        one ORM bulk update that is allowed past the seal (tenders/sealing.py)."""
        from portal.tenders.sealing import move_opening
        db.session.flush()
        move_opening(db.session, [lot.id for lot in self.lots], opens_at)

    def close_bidding(self, now):
        """tendering → evaluation at or after the bid deadline; the bids can now be opened."""
        self._require(("tendering",), _("closed for bids"))
        if now < self.bid_deadline:
            raise DomainError(_("Bidding closes at the bid deadline, not before."))
        self.status = "evaluation"
        self.opened_at = now

    def single_source_decision_from(self, calendar):
        """The first day a single-source purchase may be decided (None for other methods): after
        its reasons were publicised for 5 working days (实施条例 §38)."""
        if self.method != "single_source":
            return None
        started = self.single_source_publicity_from or (
            deadlines.local_date(self.notice_published_at) if self.notice_published_at else None)
        if started is None:
            raise DomainError(_("The reasons for a single-source purchase must be publicised for 5 working days "
                                "before the decision; publish the notice first."))
        return deadlines.single_source_decision_from(started, calendar)

    def check_decision_day(self, on, calendar):
        """Refuse a single-source decision before the end of its 5-working-day publicity."""
        earliest = self.single_source_decision_from(calendar)
        if earliest is not None and on < earliest:
            started = self.single_source_publicity_from or deadlines.local_date(self.notice_published_at)
            raise DomainError(_(
                "The reasons for this single-source purchase are publicised from %(start)s for 5 working days "
                "(实施条例 §38): the decision may be taken on %(earliest)s at the earliest.",
                start=started.isoformat(), earliest=earliest.isoformat()))

    def confirm_award(self, confirmed_on, calendar):
        """evaluation → awarded: the result is confirmed; it must be published within 2 working
        days and challenges are accepted for 7 working days after it. A single-source purchase is
        decided only after its publicity period."""
        self._require(("evaluation",), _("awarded"))
        self.check_decision_day(confirmed_on, calendar)
        self.status = "awarded"
        self.result_confirmed_on = confirmed_on
        self.challenge_until = deadlines.award_deadlines(confirmed_on, calendar).challenge_until

    def record_result_published(self, now, calendar):
        """The award result went out: the challenge period counts from that day."""
        self._require(("awarded", "failed"), _("announced"))
        self.result_published_at = now
        if self.result_confirmed_on is not None:
            self.challenge_until = deadlines.award_deadlines(
                self.result_confirmed_on, calendar, published_on=deadlines.local_date(now)).challenge_until

    def fail(self, reason):
        """evaluation → failed (废标), e.g. an open tender with fewer than 3 valid bids."""
        self._require(("evaluation",), _("declared failed"))
        if not (reason or "").strip():
            raise DomainError(_("Give the reason the tender failed."))
        self.status = "failed"
        self.closed_reason = reason.strip()

    def cancel(self, reason):
        """Any state before a result → cancelled, with the reason kept on the record."""
        self._require(CANCELLABLE, _("cancelled"))
        if not (reason or "").strip():
            raise DomainError(_("Give the reason for the cancellation."))
        self.status = "cancelled"
        self.closed_reason = reason.strip()

    def contract_sign_by(self):
        """The day the contract must be signed by (30 days after the award notice)."""
        if self.result_published_at is None:
            return None
        return deadlines.contract_sign_by(deadlines.local_date(self.result_published_at), tenant_calendar())

    def deadline_passed(self, now):
        return self.bid_deadline is not None and now >= self.bid_deadline
