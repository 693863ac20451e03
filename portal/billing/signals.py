"""Signals the billing engine sends. Blinker signals are synchronous: every receiver runs inside
the sending call, in the same database transaction, so billing never imports who listens.

``statement_paid.send(statement)``: sent by ``workflow.mark_paid`` once the statement is paid;
open data subscribes (portal/opendata/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

statement_paid = _signals.signal("statement-paid")
