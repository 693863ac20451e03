"""What the audit trail listens to besides row changes, collected in the transaction of the event
(blinker signals are synchronous) and appended with it at its commit (recorder.py):

- a bureau's settings changed (tenancy's ``settings_changed``): one chain entry per setting with
  its value before and after;
- an access refused by a gate (portal/core/auth.py ``deny`` sends ``access_denied``): an
  ``access_denied`` event.

``subscribe`` is called once by the app factory; connecting again is a no-op."""
from portal.audit.recorder import collect, current_actor, record_event
from portal.core.auth import access_denied
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.signals import settings_changed


def on_settings_changed(tenant, before, after, **_extra):
    actor_id, username, role, address = current_actor()
    now = utcnow()
    for key in after:
        collect(db.session, tenant_id=tenant.id, occurred_at=now, actor_id=actor_id, actor=username,
                actor_role=role, action="setting_changed", object_type="tenant_setting", object_id=key,
                before={key: before[key]}, after={key: after[key]}, address=address)


def on_access_denied(_sender, tenant_id=None, endpoint="", **_extra):
    record_event(db.session, "access_denied", tenant_id=tenant_id, object_type="endpoint", object_id=endpoint)


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    settings_changed.connect(on_settings_changed, weak=False)
    access_denied.connect(on_access_denied, weak=False)
