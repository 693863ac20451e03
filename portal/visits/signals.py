"""Signals visits send, so that visits never import the violations they lead to. Blinker signals
are synchronous: every receiver runs inside the sending call, in the same database transaction, and
an exception in a receiver reaches the caller.

- ``violation_found.send(visit, kind=…, contract_id=…, staff_id=…, occurred_on=…, evidence=…,
  summary=…, dedupe_key=…)``: verification found a breach of the subcontracting ban (V01, a worker
  on no roster; V10 across contractors, a shared device).
- ``unlisted_worker_confirmed.send(exception, by=user)``: a supervisor rejected a V01 finding.
- ``unlisted_worker_cleared.send(exception, by=user, note=text)``: a roster re-check cleared a V01
  finding.

Violations subscribes (portal/violations/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

violation_found = _signals.signal("violation-found")
unlisted_worker_confirmed = _signals.signal("unlisted-worker-confirmed")
unlisted_worker_cleared = _signals.signal("unlisted-worker-cleared")
