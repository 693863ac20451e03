"""The statement workflow by role (docs/DOMAIN.md §8, issue 12 point 7): which step is open now, who
may take it, whose move it is, and one entry point that takes a step by name for the pages and
the API (POST /api/v1/settlements/{id}/transitions).

A step is offered only to someone the engine (workflow.py) would let take it: finance who
prepared or sent a statement is not offered its approval, and the page says who must act next.
Officers are expected to prepare and send, so that any finance reviewer can approve; a finance
reviewer who sends is warned first that another finance reviewer will have to approve."""
from datetime import date
from typing import NamedTuple

from flask_babel import gettext as _

from portal.billing import settlement, workflow
from portal.core.errors import DomainError, Forbidden

class Step(NamedTuple):
    capability: str  # who takes it (portal/accounts/permissions.py)
    statuses: tuple  # the statuses it is open in


STEPS = {
    "send": Step("statement.prepare", ("draft",)),
    "recompute": Step("statement.prepare", workflow.RECOMPUTABLE),
    "confirm": Step("statement.answer", ("sent",)),
    "dispute": Step("statement.answer", ("sent",)),
    "rework": Step("statement.prepare", ("disputed",)),
    "approve": Step("statement.approve", ("confirmed",)),
    "pay": Step("statement.pay", ("approved",)),
}
API_ACTIONS = ("send", "confirm", "dispute", "approve", "pay", "recompute")


def may_take(statement, user, step):
    """True when ``user`` may take ``step`` on ``statement`` now (the engine still decides)."""
    capability, statuses = STEPS[step]
    if not user.can(capability, statement) or statement.status not in statuses:
        return False
    if step == "approve":
        return (user.id not in (statement.prepared_by_id, statement.sent_by_id)
                and user.id not in workflow.adjusters(statement))
    if step == "recompute" and statement.status != "draft":
        return (statement.status == "disputed" or settlement.is_stale(statement)
                or workflow.nobody_can_approve(statement))
    return True


def offered_steps(statement, user, stale=None):
    """The steps shown as buttons for ``user``. ``stale`` (when known) hides "send" from a stale
    draft and offers "recompute" instead; "rework" covers a disputed statement."""
    offered = []
    for step in STEPS:
        if step == "recompute":
            stuck = statement.status == "confirmed" and workflow.nobody_can_approve(statement)
            if user.can("statement.prepare") and (statement.status == "draft" or stuck or
                                                    (stale and statement.status in ("sent", "confirmed"))):
                offered.append(step)
            continue
        if step == "send" and stale:
            continue
        if may_take(statement, user, step):
            offered.append(step)
    return offered


def blocked_steps(statement, user, stale=False):
    """{step: why not now} for the steps ``user``'s role takes in the statement's status that the
    engine would refuse them now: shown disabled with the reason, never as an enabled button that
    ends in a refusal. Approval by who prepared, sent or adjusted it (four eyes), and sending or
    approving a statement whose records changed (recompute first)."""
    blocked = {}
    open_now = {step for step, (capability, statuses) in STEPS.items()
                if statement.status in statuses and user.can(capability, statement)}
    if "approve" in open_now:
        if user.id in (statement.prepared_by_id, statement.sent_by_id):
            blocked["approve"] = _("You prepared or sent this statement: another finance reviewer must approve it "
                                   "(four eyes).")
        elif user.id in workflow.adjusters(statement):
            blocked["approve"] = _("You added or removed an adjustment on this statement: another finance reviewer "
                                   "must approve it (four eyes).")
        elif stale:
            blocked["approve"] = _("Its records changed since it was computed: it must be recomputed first.")
    if "send" in open_now and stale:
        blocked["send"] = _("Its records changed since it was computed: it must be recomputed first.")
    return blocked


def next_move(statement, stale=False, internal=True, told_why=False):
    """Whose move it is, as a sentence for the statement page (``internal``: for the bureau, who
    also learns when nobody could approve it as it stands; ``told_why``: the reader's own approval
    is shown disabled with its reason, which is not said a second time here)."""
    if stale and statement.status in workflow.RECOMPUTABLE:
        return _("Next: an officer or finance reviewer recomputes it (its records changed since it was computed).")
    if statement.status == "draft":
        return _("Next: an officer (preferably, so that finance can approve) or a finance reviewer sends it to the "
                 "contractor.")
    if statement.status == "sent":
        return _("Next: the contractor's manager confirms or disputes it.")
    if statement.status == "disputed":
        return _("Next: an officer or finance reviewer reworks it.")
    if statement.status == "confirmed":
        if internal and workflow.nobody_can_approve(statement):
            return _("Next: finance review — but every finance reviewer of the bureau prepared, sent or adjusted it: "
                     "an officer recomputes it (it goes back to draft) and sends it again, or the administrator adds "
                     "another finance reviewer.")
        if told_why:
            return _("Next: finance review.")
        return _("Next: finance review (not by the person who prepared, sent or adjusted it).")
    if statement.status == "approved":
        return _("Next: finance records the payment.")
    return _("Nothing left to do: the statement is paid.")


def send_warning(statement, user):
    """The warning shown before ``user`` sends, or None: a finance reviewer who sends cannot
    approve; nobody could approve when every finance reviewer prepared or sends it."""
    others = workflow.finance_reviewers_besides(statement, (user.id, statement.prepared_by_id))
    if user.can("statement.approve"):
        if others == 0:
            return _("You are the only finance reviewer who could approve this statement: if you send it, nobody in "
                     "the bureau can approve it. Let an officer send it instead.")
        return _("If you send it, you cannot approve it: another finance reviewer (%(n)s in the bureau) will have to.",
                 n=others)
    if others == 0:
        return _("Nobody in the bureau could approve this statement once sent: it was prepared by the only finance "
                 "reviewer. Recompute it first (you become its preparer), then send it.")
    return None


def take(statement, user, step, *, note="", line_ids=None, paid_on=None, reference=""):
    """Take ``step`` on ``statement`` as ``user`` through the engine: Forbidden (403) when the
    step is not for this user, Conflict (409) when it is not open now or the statement is stale,
    DomainError (422) for a bad note, line or payment."""
    if step not in STEPS:
        raise DomainError(_("Unknown step."), {"action": [_("Choose one of: %(steps)s.", steps=", ".join(API_ACTIONS))]})
    capability, _statuses = STEPS[step]
    if not user.can(capability, statement):
        raise Forbidden(_("This step is not yours to take."))
    if step == "send":
        return workflow.send_to_contractor(statement, user)
    if step == "recompute":
        return workflow.recompute(statement, user)
    if step == "confirm":
        return workflow.confirm(statement, user)
    if step == "dispute":
        lines = line_ids if line_ids else [line.id for line in statement.lines]
        return workflow.dispute(statement, user, note, lines)
    if step == "rework":
        return workflow.rework(statement, user)
    if step == "approve":
        return workflow.approve(statement, user)
    if isinstance(paid_on, str):
        try:
            paid_on = date.fromisoformat(paid_on)
        except ValueError:
            raise DomainError(_("The payment cannot be recorded."),
                              {"paid_on": [_("Give the payment day as YYYY-MM-DD.")]}) from None
    return workflow.mark_paid(statement, user, paid_on, reference)
