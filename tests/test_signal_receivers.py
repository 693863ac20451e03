"""The signals a lower package sends to ask a question of a higher one answer nothing, silently,
when no receiver is connected: the app factory must connect one for each (portal/__init__.py)."""
import pytest


@pytest.mark.parametrize("module, name", [
    ("portal.accounts.signals", "worker_tenants"),          # contractors: a field worker's bureaus
    ("portal.tenders.signals", "budget_committed"),        # contracts: money committed on a budget line
    ("portal.contracts.signals", "count_units_delivered"),  # visits: units delivered under a contract
    ("portal.disclosures.signals", "disclosure_published"),  # open data: the OCDS release
    ("portal.billing.signals", "statement_paid"),          # open data: the implementation release
    ("portal.tenancy.signals", "settings_changed"),        # audit: the chain entry per setting
    ("portal.core.auth", "access_denied"),                 # audit: the refused access
    ("portal.visits.signals", "violation_found"),          # violations: the breach recorded
    ("portal.visits.signals", "unlisted_worker_confirmed"),  # violations: V01 confirmed
    ("portal.visits.signals", "unlisted_worker_cleared"),  # violations: V01 cleared on a corrected roster
    ("portal.stations.signals", "months_settled"),         # billing: a staffing contract's approved months
])
def test_every_question_and_event_a_lower_package_sends_has_a_receiver(app, module, name):
    from importlib import import_module
    signal = getattr(import_module(module), name)
    assert signal.receivers, f"{module}.{name} has no receiver: connect it in create_app"
