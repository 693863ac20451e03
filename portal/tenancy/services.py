"""Changing a bureau's settings (a bureau is created with its first administrator by
portal/accounts/services.py create_tenant)."""
from portal.extensions import db
from portal.tenancy.settings import DEFAULT_SETTINGS
from portal.tenancy.signals import settings_changed


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
    settings_changed.send(tenant, before={key: effective[key] for key in changed},
                          after={key: values[key] for key in changed})
    return changed
