"""Benchmark of monthly settlement (issue 7): how long does preparing one contract's statement take
for a month of 100,000 verified visits, next to the floor — one hand-written SQL aggregate over the
same rows (COUNT of verified visits per service item in the month)?

    .venv/bin/python bench/settlement.py [--visits 100000] [--monthly-cap N]
    .venv/bin/python bench/settlement.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

It builds a throw-away database as bench/visits.py does (a temporary SQLite file, or the named
PostgreSQL database, created and dropped, the portal connecting as the non-owner role
``portal_app`` so that row-level security applies), seeds the demo bureau with contractor A's care
contract, raises the item's quota above ``--visits``, bulk-inserts the verified visits of last month
(plus 50 not confirmed by spot checks and 3 violations), then times ``prepare_statement`` (first
computation, then a recomputation that replaces the draft) with its commit, and the aggregate.
It prints both times, their ratio and peak memory (ru_maxrss).

Figures from 2026-11-29 on the development container (2 vCPUs shared; PostgreSQL 15 on localhost),
100,000 verified visits, no cap (every visit paid: 100,053 entries):

    backend      prepare (first)  recompute  floor (COUNT)  ratio    peak RSS
    SQLite            0.94 s       1.17 s      0.12 s       8.0×     182 MB
    PostgreSQL        2.00 s       2.14 s      0.035 s     55–60×    188 MB

The computation itself is set-based (one COUNT … GROUP BY per contract, the entries written by one
INSERT … SELECT, the old ones removed by one DELETE) and holds no visit in Python; what remains is
the cost per entry row that the schema asks for. On PostgreSQL EXPLAIN ANALYZE of the INSERT shows
it: of 1.9 s, 1.2 s go to the seven foreign-key checks per row. The guard that keeps a frozen
statement's entries fixed runs once per SQL statement (migration 31f852e98104; as a row trigger it
cost another 0.35 s).
"""
import argparse
import random
import resource
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import insert, select, text, update  # noqa: E402

from visits import Database, seed_demo  # noqa: E402

CHUNK = 5000


def world_facts(owner):
    """Contractor A's care contract in ganxian, its item, a worker and the bureau's beneficiaries."""
    from portal.accounts.models import User
    from portal.beneficiaries.models import Beneficiary
    from portal.contracts.models import Contract, ServiceItem
    from portal.tenancy.models import Tenant
    with owner.begin() as conn:
        tenant_id = conn.execute(select(Tenant.id).where(Tenant.code == "ganxian")).scalar_one()
        worker = conn.execute(select(User.id, User.contractor_id).where(User.username == "a-worker1")).one()
        contract = conn.execute(select(Contract).where(Contract.tenant_id == tenant_id,
                                                       Contract.contractor_id == worker.contractor_id,
                                                       Contract.status == "active")
                                .order_by(Contract.id)).first()
        item_id = conn.execute(select(ServiceItem.id).where(ServiceItem.contract_id == contract.id,
                                                            ServiceItem.code == "CARE-VISIT")).scalar_one()
        people = conn.execute(select(Beneficiary.id).where(Beneficiary.tenant_id == tenant_id)).scalars().all()
    return {"tenant_id": tenant_id, "contract_id": contract.id, "starts_on": contract.starts_on,
            "ends_on": contract.ends_on, "item_id": item_id, "worker_id": worker.id,
            "contractor_id": worker.contractor_id, "people": people}


def bench_month(facts):
    """Last calendar month if the contract covers it, else the contract's first month."""
    from portal.core.months import month_text, previous_month
    from portal.core.timeutil import local_today
    first = previous_month(local_today())
    if not facts["starts_on"] <= first <= facts["ends_on"]:
        first = facts["starts_on"]
    return month_text(first)


def insert_month(owner, facts, month, count, monthly_cap, rng):
    """``count`` verified visits checked in during ``month`` (Beijing), bulk-inserted with Core;
    50 more rejected by spot checks and 3 violations, as a month has them."""
    from portal.contracts.models import ServiceItem
    from portal.core.timeutil import LOCAL_TZ
    from portal.spotchecks.models import SpotCheck, SpotCheckSample
    from portal.violations.models import Violation
    from portal.visits.models import Visit
    year, number = int(month[:4]), int(month[5:])
    days = ((date(year + number // 12, number % 12 + 1, 1) - date(year, number, 1)).days)
    seconds = days * 86400

    def row(i, status):
        start = (datetime(year, number, 1, tzinfo=LOCAL_TZ) + timedelta(seconds=rng.randrange(seconds - 7200)))
        return {"tenant_id": facts["tenant_id"], "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "body_hash": "0" * 64, "contract_id": facts["contract_id"], "service_item_id": facts["item_id"],
                "beneficiary_id": facts["people"][i % len(facts["people"])], "staff_id": None,
                "worker_user_id": facts["worker_id"], "contractor_id": facts["contractor_id"],
                "device_id": "bench-phone", "check_in_at": start.astimezone(timezone.utc),
                "check_in_lat": 25.86, "check_in_lon": 115.01, "check_out_at": (start + timedelta(hours=1))
                .astimezone(timezone.utc), "check_out_lat": 25.86, "check_out_lon": 115.01, "services": [],
                "notes": "", "source": "app", "recorded_live": True, "received_at": start.astimezone(timezone.utc),
                "status": status, "penalised": status == "rejected"}

    table = Visit.__table__
    with owner.begin() as conn:
        conn.execute(update(ServiceItem.__table__).where(ServiceItem.id == facts["item_id"])
                     .values(quota=count * 2, monthly_cap=monthly_cap))
    for start in range(0, count, CHUNK):
        with owner.begin() as conn:
            conn.execute(insert(table), [row(i, "verified") for i in range(start, min(start + CHUNK, count))])
    with owner.begin() as conn:
        conn.execute(insert(table), [row(i, "rejected") for i in range(50)])
        rejected = conn.execute(select(table.c.id).where(table.c.status == "rejected",
                                                         table.c.device_id == "bench-phone")).scalars().all()
        sample_id = conn.execute(insert(SpotCheckSample.__table__).values(
            tenant_id=facts["tenant_id"], contract_id=facts["contract_id"], month=month, seed="bench",
            rate_permille=50, population=count, drawn_at=datetime.now(timezone.utc))
            .returning(SpotCheckSample.__table__.c.id)).scalar_one()
        conn.execute(insert(SpotCheck.__table__), [
            {"tenant_id": facts["tenant_id"], "sample_id": sample_id, "visit_id": vid, "method": "phone",
             "outcome": "not_confirmed", "complaint": "", "rejection_reason": ""} for vid in rejected])
        conn.execute(insert(Violation.__table__), [
            {"tenant_id": facts["tenant_id"], "kind": "unlisted_worker", "contract_id": facts["contract_id"],
             "occurred_on": date(year, number, 10 + i), "evidence": {}, "summary": "", "status": "confirmed",
             "dedupe_key": f"bench-{i}", "detected_at": datetime.now(timezone.utc), "decision_note": ""}
            for i in range(3)])
        conn.execute(text("ANALYZE"))


def time_prepare(app, facts, month):
    """Seconds for prepare_statement and its commit, and the statement's figures."""
    from portal.billing.models import StatementEntry
    from portal.billing.settlement import prepare_statement
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(facts["tenant_id"]):
        began = time.perf_counter()
        statement = prepare_statement(db.session.get(Contract, facts["contract_id"]), month)
        db.session.commit()
        seconds = time.perf_counter() - began
        entries = db.session.execute(select(db.func.count()).select_from(StatementEntry)
                                     .where(StatementEntry.statement_id == statement.id)).scalar_one()
        figures = (statement.number, statement.gross_fen, statement.deductions_fen, statement.net_fen, entries,
                   [(line.kind, line.units) for line in statement.lines])
        db.session.remove()
    return seconds, figures


def time_floor(app, facts, month, repeat=3):
    """Best of ``repeat`` runs of the hand-written aggregate, as the application role."""
    from portal.core.months import month_bounds
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    start, end = month_bounds(month)
    sql = text("SELECT service_item_id, COUNT(*) FROM visit WHERE tenant_id = :t AND contract_id = :c "
               "AND status = 'verified' AND check_in_at >= :s AND check_in_at < :e GROUP BY service_item_id")
    best, counts = None, None
    with app.app_context(), tenant_scope(facts["tenant_id"]):
        for _ in range(repeat):
            began = time.perf_counter()
            counts = db.session.execute(sql.bindparams(
                t=facts["tenant_id"], c=facts["contract_id"],
                s=start if db.engine.dialect.name == "postgresql" else start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                e=end if db.engine.dialect.name == "postgresql" else end.strftime("%Y-%m-%d %H:%M:%S.%f"))).all()
            elapsed = time.perf_counter() - began
            best = elapsed if best is None else min(best, elapsed)
        db.session.rollback()
        db.session.remove()
    return best, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of a throw-away database (created and dropped)")
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--monthly-cap", type=int, default=None, help="Cap the item (default: no cap)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from portal import create_app
    with Database(args.database_url) as database:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "TESTING": True, "REDIS_URL": None})
        owner = create_engine(database.owner_url, poolclass=NullPool)
        began = time.perf_counter()
        seed_demo(app)
        facts = world_facts(owner)
        month = bench_month(facts)
        insert_month(owner, facts, month, args.visits, args.monthly_cap, rng)
        print(f"backend {database.backend}: {args.visits:,} verified visits of {month} inserted "
              f"(with the demo world) in {time.perf_counter() - began:.1f} s")
        first, figures = time_prepare(app, facts, month)
        again, figures_again = time_prepare(app, facts, month)
        assert figures == figures_again, "recomputing a draft must give the same statement"
        floor, counts = time_floor(app, facts, month)
        number, gross, deductions, net, entries, lines = figures
        print(f"statement {number}: gross {gross} fen, deductions {deductions} fen, net {net} fen; "
              f"{entries:,} entries; lines {lines}")
        print(f"floor (COUNT per item): {counts}")
        print(f"prepare_statement, first:     {first * 1000:9.1f} ms")
        print(f"prepare_statement, recompute: {again * 1000:9.1f} ms")
        print(f"SQL aggregate (floor):        {floor * 1000:9.1f} ms")
        print(f"ratio prepare/floor:          {first / floor:9.1f}x (recompute {again / floor:.1f}x)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak memory (ru_maxrss):      {peak / 1024:9.1f} MB")
        owner.dispose()
        from portal.extensions import db
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
