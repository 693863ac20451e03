"""The contract state machine (docs/DOMAIN.md §5), mixed into ``Contract``:

    draft → signed → active → completed
                     active ⇄ suspended
    signed / active / suspended → terminated (with a reason and the amount paid)

Each move is a method that refuses a wrong move with a DomainError saying why. Signing follows
the legal timetable of §3: within 30 days of the award notice, never while a challenge that may
change the result is open, and the contract notice (合同公告) is then due within 2 working days."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.contracts.totals import check_items_within_ceiling
from portal.core.errors import DomainError
from portal.core.money import format_fen
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.awards import signing_blocked

STATUS_LABELS = {
    "draft": _l("Draft"), "signed": _l("Signed"), "active": _l("In delivery"), "completed": _l("Completed"),
    "suspended": _l("Suspended"), "terminated": _l("Terminated"),
}
PAYMENT_TERMS = {"monthly_settlement": _l("Monthly settlement")}
RATIONALE_LABELS = {
    "additional_quantity": _l("Addition of the same subject matter"),
    "quantity_change": _l("Change of quantities (no money added)"),
    "extension": _l("Extension of the period"), "correction": _l("Correction"),
    "price_adjustment": _l("Price adjustment"), "other": _l("Other"),
    "additional_service": _l("Additional service"),  # older amendments only: no longer accepted
}
MAX_BOND_PERCENT = 10       # performance bond: at most 10 % of the amount
MAX_AMENDMENT_PERCENT = 10  # amendments add at most 10 % of the original amount, in total
AMENDABLE = ("signed", "active", "suspended")
TERMINABLE = ("signed", "active", "suspended")
# States in which the contract is in force: its notice goes out and its money is committed.
IN_FORCE = ("signed", "active", "suspended", "completed", "terminated")


def check_terms(contract):
    """The money and period terms: a positive amount, a period that ends after it starts, a
    performance bond of at most 10 % of the amount, a spot-check penalty multiplier of at least
    1, a fixed violation penalty that is not negative, monthly settlement. Raises DomainError."""
    errors = {}
    if not contract.amount_fen or contract.amount_fen <= 0:
        errors["amount"] = _("The contract amount must be greater than zero.")
    if contract.starts_on is None or contract.ends_on is None:
        errors["ends_on"] = _("Set the contract period.")
    elif contract.ends_on < contract.starts_on:
        errors["ends_on"] = _("The contract period ends before it starts.")
    bond = contract.performance_bond_fen or 0
    if bond < 0 or bond * 100 > (contract.amount_fen or 0) * MAX_BOND_PERCENT:
        errors["performance_bond"] = _(
            "The performance bond may be at most 10 %% of the contract amount: %(limit)s yuan.",
            limit=format_fen((contract.amount_fen or 0) * MAX_BOND_PERCENT // 100))
    if contract.spot_check_penalty_multiplier is None or contract.spot_check_penalty_multiplier < 1:
        errors["spot_check_penalty_multiplier"] = _("The spot-check penalty multiplier must be at least 1.")
    if contract.violation_penalty_fen is None or contract.violation_penalty_fen < 0:
        errors["violation_penalty"] = _("The penalty per subcontracting violation cannot be negative.")
    if contract.payment_terms not in PAYMENT_TERMS:
        errors["payment_terms"] = _("Contracts are paid by monthly settlement.")
    if errors:
        raise DomainError(" ".join(str(message) for message in errors.values()), errors)


class ContractLifecycle:
    """State-machine methods of ``Contract`` (mixed in; the columns are in contracts/models.py)."""

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def payment_terms_label(self):
        return PAYMENT_TERMS.get(self.payment_terms, self.payment_terms)

    @property
    def editable(self):
        return self.status == "draft"

    @property
    def added_fen(self):
        """What the amendments added to the original amount, in total."""
        return sum(a.added_fen for a in self.amendments)

    @property
    def total_fen(self):
        """The amount now: the original amount plus every amendment."""
        return self.amount_fen + self.added_fen

    @property
    def amendment_room_fen(self):
        """What amendments may still add: 10 % of the original amount less what they added."""
        return self.amount_fen * MAX_AMENDMENT_PERCENT // 100 - self.added_fen

    def visible_to(self, user):
        """Bureau staff and auditors see every contract of the bureau; a contractor manager only
        the contracts of their own organisation."""
        return user.can("contract.read", self)

    def sign_by(self):
        """The last day the contract may be signed: 30 days after the award notice."""
        award = self.award
        if award is None or award.notice_published_at is None:
            return None
        return deadlines.contract_sign_by(deadlines.local_date(award.notice_published_at), tenant_calendar())

    def _require(self, allowed, action):
        if self.status not in allowed:
            raise DomainError(_("A contract that is %(status)s cannot be %(action)s.",
                                status=self.status_label, action=action))

    def ensure_editable(self):
        self._require(("draft",), _("edited"))

    @property
    def signed_late(self):
        """Signed after day 30 of the award notice (recorded with its reason)."""
        return bool(self.late_signing_reason)

    def sign(self, on, calendar, late_reason=""):
        """draft → signed on day ``on``: within 30 days of the award notice, not before it, never
        while awards.signing_blocked says so, with complete terms and at least one service item, the
        items (quota × unit price) within the amount with its amendments. A signing after day 30
        is recorded only with its reason (``late_reason``) and stays flagged as late.
        The contract notice is then due 2 working days after signing."""
        self._require(("draft",), _("signed"))
        blocked, reason = signing_blocked(self.award)
        if blocked:
            raise DomainError(_("The contract cannot be signed: %(reason)s", reason=reason))
        notice_on = deadlines.local_date(self.award.notice_published_at)
        last_day = deadlines.contract_sign_by(notice_on, calendar)
        if on < notice_on:
            raise DomainError(_("A contract cannot be signed before its award notice (%(day)s).",
                                day=notice_on.isoformat()))
        late_reason = (late_reason or "").strip()
        if on > last_day and not late_reason:
            message = _("The contract must be signed within 30 days of the award notice of %(notice)s, by "
                        "%(last)s; %(day)s is too late. To record a late signing, give its reason.",
                        notice=notice_on.isoformat(), last=last_day.isoformat(), day=on.isoformat())
            raise DomainError(message, {"late_reason": message})
        check_terms(self)
        if not self.items:
            raise DomainError(_("Add at least one service item before signing."))
        check_items_within_ceiling(self)
        self.status = "signed"
        self.signed_on = on
        self.late_signing_reason = late_reason if on > last_day else ""
        self.notice_due_on = deadlines.contract_publish_by(on, calendar)

    def activate(self, on):
        """signed → active: delivery starts (on or after the signing day)."""
        self._require(("signed",), _("activated"))
        if on < self.signed_on:
            raise DomainError(_("A contract cannot start before it was signed (%(day)s).",
                                day=self.signed_on.isoformat()))
        self.status, self.activated_on = "active", on

    def suspend(self, on, reason):
        """active → suspended, with the reason kept on the record."""
        self._require(("active",), _("suspended"))
        if not (reason or "").strip():
            raise DomainError(_("Give the reason for the suspension."), {"reason": [_("This field is required.")]})
        self.status, self.suspended_on, self.suspension_reason = "suspended", on, reason.strip()

    def resume(self, on):
        """suspended → active again."""
        self._require(("suspended",), _("resumed"))
        if self.suspended_on is not None and on < self.suspended_on:
            raise DomainError(_("A contract cannot resume before it was suspended (%(day)s).",
                                day=self.suspended_on.isoformat()))
        self.status, self.suspended_on = "active", None

    def complete(self, on):
        """active → completed: every obligation is fulfilled."""
        self._require(("active",), _("completed"))
        if self.activated_on is not None and on < self.activated_on:
            raise DomainError(_("A contract cannot be completed before it started."))
        self.status, self.completed_on = "completed", on

    def terminate(self, on, reason, amount_paid_fen):
        """signed / active / suspended → terminated, with the reason and the amount paid so far
        (between zero and the amount with its amendments)."""
        self._require(TERMINABLE, _("terminated"))
        errors = {}
        if not (reason or "").strip():
            errors["reason"] = [_("This field is required.")]
        if amount_paid_fen is None or amount_paid_fen < 0 or amount_paid_fen > self.total_fen:
            errors["amount_paid"] = [_("The amount paid must be between 0 and %(total)s yuan.",
                                       total=format_fen(self.total_fen))]
        if errors:
            raise DomainError(_("Give the reason for the termination and the amount paid."), errors)
        if self.signed_on is not None and on < self.signed_on:
            raise DomainError(_("A contract cannot be terminated before it was signed."))
        self.status, self.terminated_on = "terminated", on
        self.termination_reason, self.amount_paid_at_termination_fen = reason.strip(), amount_paid_fen
