"""Signals tenders sends. Blinker signals are synchronous: every receiver runs inside the sending
call, in the same database session, so tenders never imports who answers.

``budget_committed.send(budget_line, exclude_award=award_or_None)``: asked by
``planning.committed_fen``; each receiver returns ``(fen, award_ids)``: the money it commits on
the line (leaving out what comes from ``exclude_award``) and a select of the ids of the awards
whose money that already counts, so an award is counted once. Contracts answers
(portal/contracts/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

budget_committed = _signals.signal("budget-committed")
# ``award_contracts.send(award_ids)``: each receiver returns ``{award_id: {"contract_id", "number",
# "signed_on", "signed_late", "notice_published_at"}}`` for the awards that have a contract (the
# stage bar, portal/tenders/stages.py). Contracts answers (portal/contracts/receivers.py).
award_contracts = _signals.signal("award-contracts")
