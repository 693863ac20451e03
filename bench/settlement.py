"""Benchmark of monthly settlement (issues 7 and 15): how long does preparing one contract's statement
take for a month of 100,000 verified visits, next to the honest comparison — hand-written SQL
writing the same rows — and the read floor (COUNT of verified visits per service item in the month)?
And what does approving it cost, next to a hand-written INSERT of the same entry rows?

    .venv/bin/python bench/settlement.py [--visits 100000] [--monthly-cap N]
    .venv/bin/python bench/settlement.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

It builds a throw-away database as bench/visits.py does (a temporary SQLite file, or the named
PostgreSQL database, created and dropped, the portal connecting as the non-owner role
``portal_app`` so that row-level security applies), seeds the demo bureau with contractor A's care
contract, raises the item's quota above ``--visits`` and the contract amount above what the month
pays (so every visit is paid), bulk-inserts the verified visits of last month (plus 50 not
confirmed by spot checks and 3 violations), then times, each with its commit:

* ``prepare_statement``: the first computation, then a recomputation that replaces the draft;
* the hand-written SQL that writes what a draft writes (its lines, each with the ids behind it
  aggregated in SQL under the same conditions — verified, in the month, not paid by an approved
  statement, no V01 finding — and the statement's totals; no audit trail), on a scratch statement;
* the floor: one COUNT … GROUP BY over the same visits;
* sending and confirming the draft (each computes the plan again to compare its digest), then
  ``workflow.approve`` (the same, the re-checks of the ids kept, and the entry rows written);
* the hand-written INSERT … SELECT of the same entry rows, approved ids filled in.

It prints the times, both ratios of the draft (prepare / hand-written, prepare / floor), the ratio
of the approval to its hand-written INSERT, and peak memory (ru_maxrss).

Figures from 2026-12-06 on the development container (2 vCPUs shared with other sessions, load
average 4–5 during the runs; PostgreSQL 15 on localhost), 100,000 verified visits, no cap, every
visit paid (100,053 visits and violations behind the lines); the calmer of two runs (the other,
under heavier load, gave prepare 0.94 s / 1.5× / 3.7× on SQLite and 0.66 s / 1.8× / 8.2× on
PostgreSQL):

    backend     prepare  recompute  hand-written  floor   prepare/hand-written  prepare/floor  approve  its INSERT
    SQLite      0.38 s    0.35 s      0.28 s     0.26 s        1.4×               1.5×        2.96 s    0.81 s
    PostgreSQL  0.35 s    0.29 s      0.22 s     0.064 s       1.5×               5.4×        6.29 s    5.2–8.7 s

The same runs against the code before (a draft wrote one entry row per visit, approval filled in
their approved ids with an UPDATE): prepare 6.8–7.8 s on SQLite (21–31× the floor, 3–4× its
hand-written SQL) and 8.9–12.7 s on PostgreSQL (134–241× the floor, 2.7–4.3× its hand-written
SQL); approval 6.0–6.3 s on SQLite, 5.4–7.6 s on PostgreSQL. (Figures of 2026-11-29, with the
contract amount then capping what was paid, were 0.94 s / 8.0× on SQLite and 2.00 s / 55–60× on
PostgreSQL.)

Where the time went and where it goes now: a draft is computed again and again (the monthly job,
reworks, stale drafts), and each computation wrote one entry row per paid visit — on PostgreSQL
seven foreign-key checks per row. Now a draft keeps the ids behind each line in one JSON column of
the line (portal/billing/entries.py): the month's payable visits are read once, in order (Core rows),
and written as one value per line. What remains above the floor is reading 100,000 ids in order
under the rules' anti-joins (the hand-written SQL pays the same) and hashing them into the digest.
The entry rows, with the unique guard that keeps a visit to one approved statement, are written
once, at approval, from the ids kept, after re-checking them: on PostgreSQL EXPLAIN ANALYZE of that
INSERT (4.2 s under the load above) shows 2.7 s in the seven foreign-key checks per row and 2 ms in
the frozen-statement guard, which runs once per SQL statement (migration 31f852e98104).
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

    from portal.contracts.models import Contract
    table = Visit.__table__
    with owner.begin() as conn:
        item = conn.execute(update(ServiceItem.__table__).where(ServiceItem.id == facts["item_id"])
                            .values(quota=count * 2, monthly_cap=monthly_cap)
                            .returning(ServiceItem.__table__.c.unit_price_fen)).scalar_one()
        conn.execute(update(Contract.__table__).where(Contract.id == facts["contract_id"])  # no total binds
                     .values(amount_fen=Contract.__table__.c.amount_fen + count * 2 * item))
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
    from portal.billing import entries
    from portal.billing.models import Statement
    from portal.billing.settlement import prepare_statement
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(facts["tenant_id"]):
        began = time.perf_counter()
        statement = prepare_statement(db.session.get(Contract, facts["contract_id"]), month)
        db.session.commit()
        seconds = time.perf_counter() - began
        statement = db.session.get(Statement, statement.id)
        kept = entries.rows(statement)
        behind = db.session.execute(select(db.func.count()).select_from(kept)).scalar_one()
        figures = (statement.id, statement.number, statement.gross_fen, statement.deductions_fen,
                   statement.net_fen, behind, [(line.kind, line.units) for line in statement.lines])
        db.session.remove()
    return seconds, figures


def _users(*names):
    from portal.accounts.models import User
    from portal.extensions import db
    return [db.session.execute(select(User).where(User.username == name)).scalar_one() for name in names]


def time_approval(app, facts, statement_id):
    """Seconds for sending and confirming the draft (each computes the plan again to compare its
    digest), and for approving it (the same, the re-checks, and the entry rows written)."""
    from portal.billing import workflow
    from portal.billing.models import Statement, StatementEntry
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(facts["tenant_id"]):
        officer, manager, finance = _users("gx-officer", "a-manager", "gx-finance")
        began = time.perf_counter()
        workflow.send_to_contractor(db.session.get(Statement, statement_id), officer)
        workflow.confirm(db.session.get(Statement, statement_id), manager)
        db.session.commit()
        sending = time.perf_counter() - began
        began = time.perf_counter()
        workflow.approve(db.session.get(Statement, statement_id), finance)
        db.session.commit()
        approving = time.perf_counter() - began
        written = db.session.execute(select(db.func.count()).select_from(StatementEntry).where(
            StatementEntry.statement_id == statement_id, StatementEntry.approved_visit_id.is_not(None))).scalar_one()
        db.session.remove()
    return sending, approving, written


# --- the honest comparison: hand-written SQL writing the same rows -------------------------------------

PAYABLE = ("v.tenant_id = :t AND v.contract_id = :c AND v.status = 'verified' "
           "AND v.check_in_at >= :s AND v.check_in_at < :e "
           "AND NOT EXISTS (SELECT 1 FROM statement_entry x WHERE x.approved_visit_id = v.id AND x.role = 'paid') "
           "AND NOT EXISTS (SELECT 1 FROM visit_exception f WHERE f.visit_id = v.id AND f.code = 'V01')")
PENALISED = ("v.tenant_id = :t AND v.contract_id = :c AND v.check_in_at < :e "
             "AND NOT EXISTS (SELECT 1 FROM statement_entry x WHERE x.approved_visit_id = v.id "
             "AND x.role = 'penalty') AND EXISTS (SELECT 1 FROM spot_check k WHERE k.visit_id = v.id "
             "AND k.outcome = 'not_confirmed')")
LINE_COLUMNS = ("tenant_id, statement_id, position, kind, service_item_id, description, verified_units, units, "
                "unit_price_fen, multiplier, amount_fen, disputed, dispute_note, details, entry_ids")


def _ids(dialect, key, column, order):
    """A JSON object {key: [ids in order]} aggregated in SQL."""
    if dialect == "postgresql":
        return f"json_build_object('{key}', json_agg({column} ORDER BY {order}))"
    return f"json_object('{key}', json_group_array({column}))"  # rows come ordered from the subquery


def handwritten_draft(dialect):
    """The statements that write what prepare_statement writes for the month (the draft's lines
    with the ids behind each, the statement's totals), set-based, without the audit trail."""
    ordered = "" if dialect == "postgresql" else " ORDER BY v.service_item_id, v.check_in_at, v.id"
    penalised = "" if dialect == "postgresql" else " ORDER BY v.service_item_id, v.check_in_at, v.id"
    violations = "" if dialect == "postgresql" else " ORDER BY occurred_on, id"
    return [
        "DELETE FROM statement_line WHERE tenant_id = :t AND statement_id = :st",
        f"INSERT INTO statement_line ({LINE_COLUMNS}) SELECT :t, :st, 1, 'service', item, '', COUNT(*), COUNT(*), "
        f"price, 1, COUNT(*) * price, false, '', '{{}}', {_ids(dialect, 'paid', 'id', 'check_in_at, id')} "
        f"FROM (SELECT v.id, v.check_in_at, v.service_item_id AS item, i.unit_price_fen AS price FROM visit v "
        f"JOIN service_item i ON i.id = v.service_item_id WHERE {PAYABLE}{ordered}) AS p GROUP BY item, price",
        f"INSERT INTO statement_line ({LINE_COLUMNS}) SELECT :t, :st, 2, 'deduction_spot_check', item, '', 0, "
        f"COUNT(*), price, 2, COUNT(*) * price * 2, false, '', {_ids(dialect, 'visit_ids', 'id', 'check_in_at, id')}, "
        f"{_ids(dialect, 'penalty', 'id', 'check_in_at, id')} "
        f"FROM (SELECT v.id, v.check_in_at, v.service_item_id AS item, i.unit_price_fen AS price FROM visit v "
        f"JOIN service_item i ON i.id = v.service_item_id WHERE {PENALISED}{penalised}) AS p GROUP BY item, price",
        f"INSERT INTO statement_line ({LINE_COLUMNS}) SELECT :t, :st, 3, 'deduction_violation', NULL, '', 0, "
        f"COUNT(*), 50000, 1, COUNT(*) * 50000, false, '', '{{}}', "
        f"{_ids(dialect, 'violations', 'id', 'occurred_on, id')} FROM (SELECT id, occurred_on FROM violation w "
        f"WHERE w.tenant_id = :t AND w.contract_id = :c AND w.status <> 'dismissed' AND w.occurred_on <= :last "
        f"AND NOT EXISTS (SELECT 1 FROM statement_entry x WHERE x.approved_violation_id = w.id){violations}) AS p "
        f"HAVING COUNT(*) > 0",
        "UPDATE statement SET gross_fen = (SELECT COALESCE(SUM(amount_fen), 0) FROM statement_line "
        "WHERE statement_id = :st AND kind = 'service'), deductions_fen = (SELECT COALESCE(SUM(amount_fen), 0) "
        "FROM statement_line WHERE statement_id = :st AND kind LIKE 'deduction%') WHERE id = :st AND tenant_id = :t",
    ]


def handwritten_entries(dialect):
    """The statement that writes what approval writes: one entry row per visit paid, approved (the
    unique guard checked), in the order of the line."""
    return [f"INSERT INTO statement_entry (tenant_id, statement_id, line_id, role, visit_id, approved_visit_id) "
            f"SELECT :t, :st, (SELECT MIN(id) FROM statement_line WHERE statement_id = :st), 'paid', v.id, v.id "
            f"FROM visit v WHERE {PAYABLE} ORDER BY v.check_in_at, v.id"]


def scratch_statement(owner, facts):
    """A draft statement of the same contract for a month of its own, for the hand-written SQL."""
    from portal.billing.models import Statement
    with owner.begin() as conn:
        return conn.execute(insert(Statement.__table__).values(
            tenant_id=facts["tenant_id"], contract_id=facts["contract_id"], month="2000-01", number="bench-scratch",
            status="draft", gross_fen=0, deductions_fen=0, net_fen=0, computed_at=datetime.now(timezone.utc),
            dispute_reason="", payment_reference="", created_at=datetime.now(timezone.utc))
            .returning(Statement.__table__.c.id)).scalar_one()


def _bounds(month, dialect):
    from portal.core.months import month_bounds, month_days
    start, end = month_bounds(month)
    last = month_days(month)[1]
    if dialect == "sqlite":
        return start.strftime("%Y-%m-%d %H:%M:%S.%f"), end.strftime("%Y-%m-%d %H:%M:%S.%f"), last.isoformat()
    return start, end, last


def time_handwritten(app, facts, month, scratch, statements, repeat=3, undo=None):
    """Best of ``repeat`` runs of ``statements`` with their commit, as the application role (row-level
    security applies), on the scratch statement; ``undo`` statements run (untimed) after each."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    best = None
    with app.app_context(), tenant_scope(facts["tenant_id"]):
        dialect = db.engine.dialect.name
        start, end, last = _bounds(month, dialect)
        values = {"t": facts["tenant_id"], "c": facts["contract_id"], "st": scratch, "s": start, "e": end, "last": last}
        for _ in range(repeat):
            began = time.perf_counter()
            for sql in statements(dialect):
                db.session.execute(text(sql), values)
            db.session.commit()
            elapsed = time.perf_counter() - began
            best = elapsed if best is None else min(best, elapsed)
            for sql in undo or ():
                db.session.execute(text(sql), values)
            db.session.commit()
        db.session.remove()
    return best


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
        scratch = scratch_statement(owner, facts)
        by_hand = time_handwritten(app, facts, month, scratch, handwritten_draft)
        entries_by_hand = time_handwritten(app, facts, month, scratch, handwritten_entries,
                                           undo=["DELETE FROM statement_entry WHERE statement_id = :st"])
        floor, counts = time_floor(app, facts, month)
        statement_id, number, gross, deductions, net, behind, lines = figures
        sending, approving, written = time_approval(app, facts, statement_id)
        print(f"statement {number}: gross {gross} fen, deductions {deductions} fen, net {net} fen; "
              f"{behind:,} visits and violations behind its lines; lines {lines}")
        print(f"floor (COUNT per item): {counts}")
        print(f"prepare_statement, first:         {first * 1000:9.1f} ms")
        print(f"prepare_statement, recompute:     {again * 1000:9.1f} ms")
        print(f"hand-written SQL, same rows:      {by_hand * 1000:9.1f} ms")
        print(f"SQL aggregate (floor):            {floor * 1000:9.1f} ms")
        print(f"ratio prepare/hand-written:       {first / by_hand:9.1f}x (recompute {again / by_hand:.1f}x)")
        print(f"ratio prepare/floor:              {first / floor:9.1f}x (recompute {again / floor:.1f}x)")
        print(f"send + confirm (digest twice):    {sending * 1000:9.1f} ms")
        print(f"approve ({written:,} entry rows):   {approving * 1000:9.1f} ms")
        print(f"hand-written entry INSERT:        {entries_by_hand * 1000:9.1f} ms")
        print(f"ratio approve/hand-written:       {approving / entries_by_hand:9.1f}x")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak memory (ru_maxrss):      {peak / 1024:9.1f} MB")
        owner.dispose()
        from portal.extensions import db
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
