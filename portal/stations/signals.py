"""Signals stations sends. Blinker signals are synchronous: every receiver runs inside the sending
call, in the same database session, so stations never imports who answers.

``months_settled.send(contract, months=[...])``: asked before a station changes its staffing
contract (stations.py); each receiver returns the months ("YYYY-MM") of ``months`` that the
contract's approved (or paid) statement settled. Billing answers (portal/billing/receivers.py,
connected by the app factory).

``months_committed.send(contract, months=[...])``: asked before a check-in counts into a day, before
a flagged one is accepted and before a change of a station's required staff takes effect; each
receiver returns the months ("YYYY-MM") of ``months`` for which the contract has a statement that
is sent or later (its staffing deduction is fixed: the month is closed to changes). Billing
answers."""
from blinker import Namespace

_signals = Namespace()

months_settled = _signals.signal("station-months-settled")
months_committed = _signals.signal("station-months-committed")
