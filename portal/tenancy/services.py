"""Changing a bureau's settings (a bureau is created with its first administrator by
portal/accounts/services.py create_tenant)."""
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.settings import DEFAULT_SETTINGS
from portal.tenancy.signals import settings_changed

_CACHE_KEY = "portal_tenant_settings"


def settings_for(tenant_id):
    """The bureau's effective settings, read once per transaction (a rule judging many visits
    asks for them once per visit). A change through ``change_settings`` is seen at once."""
    cache = db.session.info.setdefault(_CACHE_KEY, {})
    if tenant_id not in cache:
        cache[tenant_id] = db.session.get(Tenant, tenant_id).effective_settings
    return cache[tenant_id]


@event.listens_for(Session, "after_transaction_end")
def _forget_settings(session, transaction):
    if transaction.parent is None:  # the outermost transaction ended: another may change them
        session.info.pop(_CACHE_KEY, None)


def change_settings(tenant, values):
    """Apply checked setting values (settings_catalogue.parse) to the bureau: a value equal to the
    default drops the override, others are stored; keys this page does not manage stay as they
    are. Each changed setting is recorded in the bureau's audit chain with its value before and
    after (by the audit trail's receiver of ``settings_changed``). Settings are read when a rule
    judges or a figure is computed, so a change applies from the next judgement on and never
    touches what was already judged or approved. Returns the keys changed."""
    effective = tenant.effective_settings
    changed = [key for key, value in values.items() if key in DEFAULT_SETTINGS and value != effective[key]]
    if not changed:
        return []
    overrides = dict(tenant.settings or {})
    for key in changed:
        if values[key] == DEFAULT_SETTINGS[key]:
            overrides.pop(key, None)
        else:
            overrides[key] = values[key]
    tenant.settings = overrides  # a new dict, so the change is seen (and audited as a row update)
    db.session.flush()
    db.session.info.pop(_CACHE_KEY, None)
    settings_changed.send(tenant, before={key: effective[key] for key in changed},
                          after={key: values[key] for key in changed})
    return changed
