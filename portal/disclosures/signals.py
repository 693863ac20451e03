"""The signal sent when a disclosure goes out. Blinker signals are synchronous: every receiver
runs inside ``publish``, in the same database transaction, and an exception in a receiver
reaches the caller (nothing is published half-way).

``disclosure_published.send(disclosure, subject=record_or_None)``: open data subscribes
(portal/opendata/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

disclosure_published = _signals.signal("disclosure-published")
