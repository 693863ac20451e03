"""What the audit trail listens to besides row changes: a bureau's settings changed (tenancy's
``settings_changed``), one chain entry per setting with its value before and after, in the same
transaction as the change. ``subscribe`` is called once by the app factory; connecting again is
a no-op."""
from portal.audit.chain import append
from portal.audit.recorder import current_actor
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.signals import settings_changed


def on_settings_changed(tenant, before, after, **_extra):
    actor_id, username, role, address = current_actor()
    now = utcnow()
    connection = db.session.connection()
    for key in after:
        append(connection, tenant_id=tenant.id, occurred_at=now, actor_id=actor_id, actor=username, actor_role=role,
               action="setting_changed", object_type="tenant_setting", object_id=key,
               before={key: before[key]}, after={key: after[key]}, address=address)


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    settings_changed.connect(on_settings_changed, weak=False)
