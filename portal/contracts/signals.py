"""Signals contracts sends. Blinker signals are synchronous: every receiver runs inside the sending
call, in the same database session, so contracts never imports who answers.

``count_units_delivered.send(contract, item=item)``: asked by the contract dashboard; each receiver
returns how many units of the service item were delivered under the contract so far. Visits
answers with the verified visits (portal/visits/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

count_units_delivered = _signals.signal("count-units-delivered")
