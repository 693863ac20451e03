"""What the audit log listens to: every access refused by a gate (portal/core/auth.py ``deny``)
becomes an ``access_denied`` event, in the same transaction as the 403 (blinker signals are
synchronous). ``subscribe`` is called once by the app factory; connecting again is a no-op."""
from portal.audit.recorder import record_event
from portal.core.auth import access_denied
from portal.extensions import db


def on_access_denied(_sender, tenant_id=None, endpoint="", **_extra):
    record_event(db.session, "access_denied", tenant_id=tenant_id, object_type="endpoint", object_id=endpoint)


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    access_denied.connect(on_access_denied, weak=False)
