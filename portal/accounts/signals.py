"""Signals accounts sends. Blinker signals are synchronous: every receiver runs inside the sending
call, in the same database session, so accounts never imports who answers.

``worker_tenants.send(user)``: asked by ``User.tenant_ids`` for a field worker of a contractor;
each receiver returns the ids of the bureaus where the worker's contractor may work. Contractors
answers (portal/contractors/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

worker_tenants = _signals.signal("worker-tenants")
