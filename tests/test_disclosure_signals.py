"""Publishing talks to open data through signals (docs/DOMAIN.md §9): ``disclosure_published``
and ``statement_paid`` are synchronous, so the OCDS release is written in the same transaction as
the disclosure (a rollback takes both away) and an error in a receiver stops the publication."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import local_today, utcnow
from portal.disclosures import Disclosure, disclosure_published, publish
from portal.extensions import db
from portal.opendata.models import OcdsRelease
from portal.tenancy.scope import tenant_scope
from portal.tenders.models import BudgetLine
from portal.tenders.planning import new_intention


def _counts():
    return (db.session.scalar(select(func.count()).select_from(Disclosure)),
            db.session.scalar(select(func.count()).select_from(OcdsRelease)))


def test_the_release_is_written_in_the_transaction_of_the_disclosure(app, demo):
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        line = BudgetLine(year=2026, name="社会救助专项资金（信号）", fund_source="专项", amount_fen=10**9)
        db.session.add(line)
        db.session.flush()
        intention = new_intention(budget_line=line, title="困难群众探访关爱服务", description="",
                                  budget_fen=1_000_000, expected_month=date(2027, 3, 1))
        disclosures, releases = _counts()
        publish("purchase_intention", "采购意向（测试）", "采购人：某区民政局", intention, local_today(), utcnow())
        assert _counts() == (disclosures + 1, releases + 1)  # the receiver ran inside publish
        db.session.rollback()
        assert _counts() == (disclosures, releases)


def test_an_error_in_a_receiver_stops_the_publication(app, demo):
    def refuse(disclosure, **_extra):
        raise RuntimeError("receiver failed")

    disclosure_published.connect(refuse, weak=False)
    try:
        with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
            with pytest.raises(RuntimeError):
                publish("scorecard", "考核结果（测试）", "", None, local_today(), utcnow() - timedelta(minutes=1))
    finally:
        disclosure_published.disconnect(refuse)


def test_the_app_factory_subscribes_open_data_to_both_signals(app):
    from portal.billing.signals import statement_paid
    from portal.opendata import receivers
    assert receivers.on_disclosure_published in disclosure_published.receivers_for(object())
    assert receivers.on_statement_paid in statement_paid.receivers_for(object())
