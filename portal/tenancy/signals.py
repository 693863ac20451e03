"""Signals tenancy sends. Blinker signals are synchronous: every receiver runs inside the sending
call, in the same database transaction, so tenancy never imports who listens.

``settings_changed.send(tenant, before={key: old}, after={key: new})``: sent by
``services.change_settings`` once the bureau's settings are stored; the audit trail subscribes
(portal/audit/receivers.py, connected by the app factory)."""
from blinker import Namespace

_signals = Namespace()

settings_changed = _signals.signal("settings-changed")
