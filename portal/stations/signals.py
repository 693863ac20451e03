"""Signals stations sends. Blinker signals are synchronous: every receiver runs inside the sending
call, in the same database session, so stations never imports who answers.

``months_settled.send(contract, months=[...])``: asked before a station changes its staffing
contract (stations.py); each receiver returns the months ("YYYY-MM") of ``months`` that the
contract's approved (or paid) statement settled. Billing answers (portal/billing/receivers.py,
connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

months_settled = _signals.signal("station-months-settled")
