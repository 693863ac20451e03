"""The compiled release of every record is what an independent, standard OCDS merge makes of the
process's releases, in whatever order they come (docs/DOMAIN.md §9): ``ocdsmerge`` with the merge
rules of the release schema the project carries (portal/opendata/schema/), offline."""
import json
import random

import pytest

from tests.opendata_world import API, pages, scope, seed_full


@pytest.fixture
def merger(monkeypatch):
    """ocdsmerge's Merger on the carried release schema; asking the network for a schema fails."""
    import ocdsmerge
    import ocdsmerge.rules

    from portal.opendata import schema

    def offline(*_args, **_kwargs):
        raise AssertionError("ocdsmerge tried to fetch a schema from the network")
    monkeypatch.setattr(ocdsmerge.rules, "get_tags", offline)
    monkeypatch.setattr(ocdsmerge.rules, "get_release_schema_url", offline)
    return ocdsmerge.Merger(schema=schema.load("release"))


def _by_process(releases):
    processes = {}
    for release in releases:
        processes.setdefault(release["ocid"], []).append(release)
    return processes


def _amend_and_pay(app):
    """An amendment of the first contract, published at once, and a paid statement of it (with
    the same publication instant as the amendment): contract amendments and transactions merge too."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from portal.billing.models import Statement
    from portal.contracts import services
    from portal.contracts.models import Contract
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.opendata.releases import record_payment
    with app.app_context(), scope(app):
        contract = db.session.execute(select(Contract).order_by(Contract.id)).scalars().first()
        item = contract.items[0]  # about 5 % more of its first service, at its unit price
        units = contract.amount_fen // 20 // item.unit_price_fen
        services.add_amendment(contract, rationale="additional_quantity", description="增加上门服务",
                               added_fen=units * item.unit_price_fen, new_ends_on=None,
                               signed_on=max(contract.signed_on, date.today() - timedelta(days=1)), user=None,
                               added_quotas={item.code: units})
        now = utcnow()
        services.publish_due_notices(now)
        statement = Statement(contract_id=contract.id, month="2026-10", number="JS-2026-10-001", status="paid",
                              gross_fen=1_234_600, deductions_fen=1_000, net_fen=1_233_600,
                              paid_on=date(2026, 11, 10), paid_at=now, payment_reference="银行回单 0001")
        db.session.add(statement)
        db.session.flush()
        record_payment(statement)
        db.session.commit()


def test_any_order_of_a_process_releases_merges_to_the_portals_compiled_release(app, client, merger):
    """The demo's awarded tender has its two lots' award results (and its two contracts) published
    at the same moment, then an amendment and a payment; a standard merge of the releases page,
    shuffled, still gives the record."""
    seed_full(app)
    _amend_and_pay(app)
    shuffle = random.Random(20261010).shuffle
    compared = 0
    for code in ("ganxian", "zhanggong"):
        releases = [r for page in pages(client, code) for r in page["releases"]]
        for ocid, own in _by_process(releases).items():
            [record] = client.get(f"{API}/{code}/ocds/records/{ocid}").get_json()["records"]
            assert sorted(r["id"] for r in record["releases"]) == sorted(r["id"] for r in own)
            for attempt in range(6):
                order = list(own)
                shuffle(order)
                assert merger.create_compiled_release(order) == record["compiledRelease"], (ocid, attempt)
            compared += 1
    assert compared >= 3
    ganxian = [r for page in pages(client, "ganxian") for r in page["releases"]]
    awarded = [r for r in ganxian if r["tag"] == ["award"] and r["tender"]["id"] == "GX-DEMO-001"]
    assert len(awarded) == 2 and len({r["ocid"] for r in awarded}) == 1  # two lots of one tender
    compiled = client.get(f"{API}/ganxian/ocds/records/{awarded[0]['ocid']}").get_json()["records"][0]["compiledRelease"]
    assert compiled["tender"]["status"] == "complete" and len(compiled["awards"]) == 2
    assert any(c.get("amendments") for c in compiled["contracts"])
    assert any(c.get("implementation", {}).get("transactions") for c in compiled["contracts"])


def test_release_dates_strictly_increase_within_a_process_in_publication_order(app, client):
    seed_full(app)
    for code in ("ganxian", "zhanggong"):
        releases = [r for page in pages(client, code) for r in page["releases"]]
        for ocid, own in _by_process(releases).items():
            bulk_order = [r for r in client.get(f"{API}/{code}/ocds/bulk").get_json()["releases"] if r["ocid"] == ocid]
            dates = [r["date"] for r in bulk_order]  # the bulk file is in publication order
            assert dates == sorted(set(dates)), (ocid, dates)


def test_releases_of_one_process_published_at_the_same_moment_get_increasing_dates(app, demo):
    """Two releases stored at one instant, then one stamped earlier still: each is dated a second
    after the last one of its process; another process keeps its own time."""
    from datetime import timedelta

    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.opendata.releases import _store
    moment = utcnow().replace(microsecond=123456)

    def store(ocid, suffix, at):
        release = {"ocid": ocid, "id": f"{ocid}-{suffix}", "tag": ["tenderUpdate"], "date": "unset"}
        row = _store(release, at)
        return row.data["date"], row.date

    with app.app_context(), scope(app):
        first = store("ocds-test01-ganxian-t1", "a", moment)
        second = store("ocds-test01-ganxian-t1", "b", moment)
        third = store("ocds-test01-ganxian-t1", "c", moment - timedelta(hours=1))
        other = store("ocds-test01-ganxian-t2", "a", moment)
        db.session.rollback()
    assert first[1] == moment.replace(microsecond=0)
    assert second[1] == first[1] + timedelta(seconds=1) and third[1] == first[1] + timedelta(seconds=2)
    assert first[0] < second[0] < third[0] and other == first



def test_the_migration_re_dates_releases_stored_with_equal_dates_in_publication_order(app, demo):
    """Releases stored before the rule (two of one process at one instant, then one dated before
    them) are moved on by seconds in publication order; a release already in order, and other
    processes, are left alone."""
    import importlib.util
    from datetime import datetime, timezone
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import select, text

    from tests import support
    [path] = (Path(__file__).resolve().parents[1] / "migrations" / "versions").glob("*_5c0d2e7a91b4_*.py")
    spec = importlib.util.spec_from_file_location("redate_ocds_releases", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    tenant = demo.tenant_id("ganxian")
    at = datetime(2026, 10, 10, 8, 0, tzinfo=timezone.utc)
    rows = [("t1", "a", at), ("t1", "b", at), ("t1", "c", at.replace(hour=7)), ("t2", "a", at)]
    with support.owner_connection(app) as conn:
        for process, suffix, moment in rows:
            ocid = f"ocds-test01-ganxian-{process}"
            conn.execute(text("INSERT INTO ocds_release (tenant_id, ocid, release_id, tags, date, data, created_at) "
                              "VALUES (:t, :o, :r, '[]', :d, :j, :d)"),
                         {"t": tenant, "o": ocid, "r": f"{ocid}-{suffix}", "j": json.dumps({"date": "as stored"}),
                          "d": moment.replace(tzinfo=None) if conn.dialect.name == "sqlite" else moment})
        with Operations.context(MigrationContext.configure(conn)):
            migration.upgrade()
        table = migration.releases
        found = conn.execute(select(table.c.ocid, table.c.date, table.c.data).order_by(table.c.id)).all()
    dates = [(ocid[-2:], migration._utc(moment).strftime("%H:%M:%S"), data["date"]) for ocid, moment, data in found]
    assert dates == [("t1", "08:00:00", "as stored"), ("t1", "08:00:01", "2026-10-10T16:00:01+08:00"),
                     ("t1", "08:00:02", "2026-10-10T16:00:02+08:00"), ("t2", "08:00:00", "as stored")]
