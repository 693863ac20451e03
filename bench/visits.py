"""Benchmark of visit verification (issue 5): does verifying one visit cost the same whatever the
size of the visit table? With ``--set`` (issue 15): how many visits a second does the set path
judge (reverify.py), for an upload batch and for a whole month, at 1 k, 100 k and 1 M rows?

    .venv/bin/python bench/visits.py --set [--sizes 1000,100000,1000000] [--batch 1000]

    .venv/bin/python bench/visits.py [--visits 100000 --workers 500] [--sample 200]
    .venv/bin/python bench/visits.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

It builds a throw-away database (a temporary SQLite file, or the named PostgreSQL database, which
it creates and drops; the portal then connects as the non-owner role ``portal_app`` so that
row-level security applies), seeds the demo bureau, adds ``--workers`` field workers with four
beneficiaries each on contractor A's care contract, bulk-inserts 1,000 visits (ten each for a
hundred workers, so that a visit has neighbours on both sides as in the full table), verifies
a sample of them through ``verification.on_checked_out`` (single-visit rules, then the comparison
job inline: V04/V05/V07/V10 on the visit and its neighbours, one commit per visit as in a
request), then bulk-inserts the rest and verifies a sample spread over the whole table. It
prints visits per second, the mean and median time per visit at both sizes, and peak memory.
"""
import argparse
import cProfile
import os
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

APP_ROLE = "portal_app"
PLATFORM_ROLE = "portal_platform"  # workers and commands: the only role all_tenants() reaches past one bureau for
SLOTS = (9, 14)  # two visits a day per worker, Beijing hours
CHUNK = 5000


# --- the database ------------------------------------------------------------------------------

class Database:
    """A fresh database: ``url`` for the app, ``owner_url`` for migrations and bulk inserts."""

    def __init__(self, url):
        self.given = url
        self.tmpdir = None
        if url is None:
            self.tmpdir = tempfile.TemporaryDirectory(prefix="portal-bench-")
            self.url = self.owner_url = f"sqlite:///{self.tmpdir.name}/bench.db"
            self.backend = "sqlite"
        else:
            parsed = make_url(url)
            self.backend = "postgresql"
            self.name = parsed.database
            self.owner_url = url
            self.admin_url = parsed.set(database="postgres").render_as_string(hide_password=False)
            self.url = parsed.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
        self.platform_url = platform_url(self.url)

    def __enter__(self):
        if self.backend == "postgresql":
            admin = create_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
                for role in (APP_ROLE, PLATFORM_ROLE):
                    if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
            admin.dispose()
        self._migrate()
        return self

    def _migrate(self):
        from flask_migrate import upgrade

        from portal import create_app
        if self.backend == "postgresql":
            os.environ["DATABASE_OWNER_URL"] = self.owner_url
        app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "TESTING": True})
        with app.app_context():
            upgrade()
        os.environ.pop("DATABASE_OWNER_URL", None)

    def __exit__(self, *exc):
        if self.backend == "postgresql":
            admin = create_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                             {"n": self.name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
            admin.dispose()
        if self.tmpdir is not None:
            self.tmpdir.cleanup()


def platform_url(url):
    """The URL of the platform role beside the app role's ``url`` (on SQLite ``url`` itself)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(username=PLATFORM_ROLE, password=None).render_as_string(hide_password=False)


def platform_twin(app):
    """The app as `flask seed-demo` and the workers run it, as the platform role (README "Database
    roles and the two walls"): seeding crosses bureaus. On SQLite the app itself."""
    url = platform_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url == app.config["SQLALCHEMY_DATABASE_URI"]:
        return app
    from portal import create_app
    return create_app({**app.config, "SQLALCHEMY_DATABASE_URI": url})


# --- the world ---------------------------------------------------------------------------------

def seed_demo(app):
    """The demo bureaus, contractors and contractor A's care contract with its people."""
    from portal.beneficiaries.demo import seed_beneficiaries
    from portal.contracts.demo import seed_contracts
    from portal.demo import seed
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants
    from portal.tenders.demo import seed_tenders
    with platform_twin(app).app_context():
        seed("bench-pass-2026", history=False)
        with all_tenants():
            tenants = {t.code: t for t in db.session.scalars(select(Tenant))}
        seed_tenders(tenants)
        seed_contracts(tenants)
        seed_beneficiaries(tenants)
        db.session.commit()


def _template(conn, table, **where):
    row = conn.execute(select(table).filter_by(**where).limit(1)).mappings().one()
    values = dict(row)
    values.pop("id")
    return values


def add_workers(app, owner, workers, rng):
    """``workers`` field workers of contractor A on its care contract's work list, four people
    each (cloned from the demo's rows, homes spread around the demo township). Returns the facts
    the visit generator needs."""
    from portal.accounts.models import User
    from portal.beneficiaries.models import Beneficiary, BeneficiaryStatus
    from portal.contractors.models import StaffMember
    from portal.contracts.models import Assignment, Contract, ContractWorker, ServiceItem
    from portal.tenancy.models import Tenant
    tag = uuid.uuid4().hex[:6]
    with owner.begin() as conn:
        tenant_id = conn.execute(select(Tenant.id).where(Tenant.code == "ganxian")).scalar_one()
        user_t = _template(conn, User.__table__, username="a-worker1")
        contract_id, contractor_id = conn.execute(
            select(Contract.id, Contract.contractor_id).where(Contract.tenant_id == tenant_id,
                                                             Contract.contractor_id == user_t["contractor_id"])
            .order_by(Contract.id)).first()
        item_id = conn.execute(select(ServiceItem.id).where(ServiceItem.contract_id == contract_id,
                                                            ServiceItem.code == "CARE-VISIT")).scalar_one()
        staff_t = _template(conn, StaffMember.__table__, contractor_id=contractor_id)
        person_t = _template(conn, Beneficiary.__table__, tenant_id=tenant_id)
        start = date.today() - timedelta(days=400)
        conn.execute(insert(User.__table__), [{**user_t, "username": f"bench-{tag}-{i}",
                                               "display_name": f"护理员{i}"} for i in range(workers)])
        users = conn.execute(select(User.id).where(User.username.like(f"bench-{tag}-%"))
                             .order_by(User.id)).scalars().all()
        conn.execute(insert(StaffMember.__table__), [
            {**staff_t, "name": f"护理员{i}", "id_number_hash": f"bench-{tag}-{i}", "user_id": uid,
             "joined_on": start, "left_on": None} for i, uid in enumerate(users)])
        staff = dict(conn.execute(select(StaffMember.user_id, StaffMember.id)
                                  .where(StaffMember.id_number_hash.like(f"bench-{tag}-%"))).all())
        conn.execute(insert(ContractWorker.__table__), [
            {"tenant_id": tenant_id, "contract_id": contract_id, "staff_id": staff[uid], "from_on": start,
             "until_on": None} for uid in users])
        homes = [(25.86 + rng.uniform(-0.1, 0.1), 115.01 + rng.uniform(-0.1, 0.1)) for _ in range(workers * 4)]
        conn.execute(insert(Beneficiary.__table__), [
            {**person_t, "id_number_hash": f"bench-{tag}-{i}", "lat": lat, "lon": lon, "status": "active",
             "status_since": start} for i, (lat, lon) in enumerate(homes)])
        people = conn.execute(select(Beneficiary.id).where(Beneficiary.id_number_hash.like(f"bench-{tag}-%"))
                              .order_by(Beneficiary.id)).scalars().all()
        conn.execute(insert(BeneficiaryStatus.__table__), [
            {"tenant_id": tenant_id, "beneficiary_id": pid, "status": "active", "effective_on": start, "note": "",
             "recorded_at": datetime.now(timezone.utc)} for pid in people])
        conn.execute(insert(Assignment.__table__), [
            {"tenant_id": tenant_id, "contract_id": contract_id, "beneficiary_id": pid,
             "staff_id": staff[users[i // 4]], "from_on": start, "until_on": None} for i, pid in enumerate(people)])
    return {"tenant_id": tenant_id, "contract_id": contract_id, "contractor_id": contractor_id, "item_id": item_id,
            "workers": [(uid, staff[uid], people[4 * i:4 * i + 4]) for i, uid in enumerate(users)],
            "homes": dict(zip(people, homes))}


def schedule(workers, total, small):
    """(worker index, visit number) pairs: ``small`` visits first, kept by the first hundred workers
    (ten each: five days) so that a sampled visit has neighbours on both sides, as in the full
    table; then the rest up to ``total`` (each worker's visits n = 0, 1, … two a day going back)."""
    per_worker = max(total // workers, 1)
    few = min(workers, 100)
    first = [(w, k) for k in range(per_worker) for w in range(few)][:small]
    taken = set(first)
    rest = [(w, k) for k in range(per_worker) for w in range(workers) if (w, k) not in taken]
    return first, rest[:max(total - len(first), 0)]


def visit_rows(world, pairs, rng):
    """The visits of ``pairs``: visit k of a worker is on the k // 2-th day before the day
    before yesterday, at 09:00 or 14:00 Beijing, 45–90 minutes, the worker's own phone, at the
    person's home. About 2 % are a little off (far from home: V02; too short: V03)."""
    from portal.core.timeutil import LOCAL_TZ
    workers = world["workers"]
    day0 = date.today() - timedelta(days=2)
    rows = []
    for w, k in pairs:
        user_id, staff_id, people = workers[w]
        day = day0 - timedelta(days=k // len(SLOTS))
        start = datetime(day.year, day.month, day.day, SLOTS[k % len(SLOTS)], rng.randint(0, 20), tzinfo=LOCAL_TZ)
        minutes = rng.randint(45, 90)
        person = people[k % len(people)]
        lat, lon = world["homes"][person]
        odd = rng.random()
        if odd < 0.01:
            lat += 0.01  # ~1.1 km from home: V02
        elif odd < 0.02:
            minutes = 20  # V03
        end = start + timedelta(minutes=minutes)
        rows.append({
            "tenant_id": world["tenant_id"], "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "body_hash": "0" * 64, "contract_id": world["contract_id"], "service_item_id": world["item_id"],
            "beneficiary_id": person, "staff_id": staff_id, "worker_user_id": user_id,
            "contractor_id": world["contractor_id"], "device_id": f"phone-{user_id}",
            "check_in_at": start.astimezone(timezone.utc), "check_in_lat": lat, "check_in_lon": lon,
            "check_in_accuracy_m": 10.0, "check_out_at": end.astimezone(timezone.utc), "check_out_lat": lat,
            "check_out_lon": lon, "services": [], "notes": "", "source": "app", "recorded_live": True,
            "received_at": end.astimezone(timezone.utc) + timedelta(minutes=2),
            "checked_out_received_at": end.astimezone(timezone.utc) + timedelta(minutes=2),
            "status": "pending", "penalised": False})
    return rows


def bulk_insert_visits(owner, world, pairs, rng):
    from portal.visits.models import Visit
    table = Visit.__table__
    for start in range(0, len(pairs), CHUNK):
        rows = visit_rows(world, pairs[start:start + CHUNK], rng)
        with owner.begin() as conn:  # Core: the table's UTCDateTime columns still convert the times
            conn.execute(insert(table), rows)
    with owner.begin() as conn:
        conn.execute(text("ANALYZE"))


# --- measuring ---------------------------------------------------------------------------------

def sample_ids(app, tenant_id, size, rng):
    """``size`` visit ids spread evenly over the whole table (by id), each a little jittered."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.visits.models import Visit
    with app.app_context(), tenant_scope(tenant_id):
        low, high = db.session.execute(select(db.func.min(Visit.id), db.func.max(Visit.id))).one()
        db.session.rollback()
    step = max((high - low) // size, 1)
    return sorted({min(high, low + i * step + rng.randrange(step)) for i in range(size)})


def verify(app, tenant_id, ids):
    """Verify each visit as the check-out request would (single rules, the comparison job
    inline, one commit per visit). Returns the seconds each took."""
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.visits.models import Visit
    from portal.visits.verification import Neighbourhood, on_checked_out
    times, rechecked = [], []
    with app.app_context(), tenant_scope(tenant_id):
        for visit_id in ids:
            began = time.perf_counter()
            visit = db.session.get(Visit, visit_id)
            on_checked_out(visit, utcnow())
            db.session.commit()
            times.append(time.perf_counter() - began)
            rechecked.append(len(Neighbourhood(visit).visits()))  # not timed: what the job looked at
            db.session.rollback()
            db.session.expunge_all()  # each visit starts cold, like a new request
        db.session.remove()
    return times, rechecked


def explain_neighbourhood(app, tenant_id, visit_id):
    """The query plans of one visit's neighbourhood lookups: each should be an index range scan."""
    from sqlalchemy import event

    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.visits.models import Visit
    from portal.visits.verification import Neighbourhood
    seen = []

    def collect(conn, cursor, statement, parameters, context, executemany):
        if "FROM visit" in statement and "visit_correction" not in statement and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))
    with app.app_context(), tenant_scope(tenant_id):
        visit = db.session.get(Visit, visit_id)
        event.listen(db.engine, "before_cursor_execute", collect)
        try:
            Neighbourhood(visit)
        finally:
            event.remove(db.engine, "before_cursor_execute", collect)
        connection = db.session.connection()
        prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
        for statement, parameters in seen:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            plan = " / ".join(str(r[-1]).strip() for r in rows if "Scan" in str(r[-1]) or "SEARCH" in str(r[-1])
                              or "SCAN" in str(r[-1]))
            print("  " + plan[:160])
        db.session.rollback()


def summary(measured):
    times, rechecked = measured
    return {"n": len(times), "rechecked": statistics.fmean(rechecked), "per_second": len(times) / sum(times),
            "mean_ms": 1000 * statistics.fmean(times), "median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * sorted(times)[int(0.95 * (len(times) - 1))]}


def count_visits(app, tenant_id):
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.visits.models import Visit
    with app.app_context(), tenant_scope(tenant_id):
        total = db.session.execute(select(db.func.count(Visit.id))).scalar_one()
        db.session.rollback()
        return total


# --- the set path (issue 15): many visits judged at once -----------------------------------------

def set_verify(app, tenant_id, ids, month):
    """The set path at the table's current size: the comparison job for an upload batch of
    ``ids`` (the visits and every neighbour they affect), then every rule on every visit of
    ``month`` (``reverify``), each one transaction. Returns {what: (visits judged, seconds)}."""
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.visits import reverify
    measured = {}
    with app.app_context(), tenant_scope(tenant_id):
        began = time.perf_counter()
        outcome = reverify.compare_batch(ids, utcnow())
        db.session.commit()
        measured["batch"] = (outcome.judged, time.perf_counter() - began)
        began = time.perf_counter()
        outcome = reverify.reverify_month(month, utcnow())
        db.session.commit()
        measured["month"] = (outcome.judged, time.perf_counter() - began)
        began = time.perf_counter()
        outcome = reverify.reverify_month(month, utcnow())  # judged already: what `reverify` costs
        db.session.commit()
        measured["again"] = (outcome.judged, time.perf_counter() - began)
    return measured


def main_set(args, rng):
    """``--set``: the table grows through ``--sizes``; at each size one batch and one month."""
    from portal import create_app
    began = time.perf_counter()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    month = (date.today() - timedelta(days=2)).replace(day=1)
    results = {}
    with Database(args.database_url) as database:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": None, "TESTING": True,
                          "FAST_PASSWORD_HASHING": True})
        owner = create_engine(database.owner_url, poolclass=NullPool)
        seed_demo(app)
        world = add_workers(app, owner, args.workers, rng)
        tenant_id = world["tenant_id"]
        from portal.contracts.models import ServiceItem
        with owner.begin() as conn:  # the bulk visits carry no photos: as in a real month, most verify
            conn.execute(ServiceItem.__table__.update().where(ServiceItem.__table__.c.id == world["item_id"])
                         .values(photo_required=False))
        base = count_visits(app, tenant_id)
        print(f"backend: {database.backend}; {args.workers} workers; setup {time.perf_counter() - began:.1f} s")
        _first, pairs = schedule(args.workers, sizes[-1] - base, 0)
        done = 0
        for size in sizes:
            t0 = time.perf_counter()
            bulk_insert_visits(owner, world, pairs[done:max(size - base, 0)], rng)
            done = max(size - base, 0)
            rows = count_visits(app, tenant_id)
            print(f"inserted up to {rows:,} visits in {time.perf_counter() - t0:.1f} s")
            profile = cProfile.Profile() if args.profile and size == sizes[-1] else None
            if profile:
                profile.enable()
            results[rows] = set_verify(app, tenant_id, sample_ids(app, tenant_id, args.batch, rng), month)
            if profile:
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        owner.dispose()
    print()
    print("visits judged per second by the set path; batch: the comparison job of an upload batch spread over\n"
          "the table (with the visits it affects); month: every rule on the month's visits, first judgement;\n"
          "again: the same month judged again (reverify, nothing changes)")
    print(f"{'visits in table':>16} {'batch: judged':>14} {'visits/s':>9} {'month: judged':>14} {'visits/s':>9} "
          f"{'again: visits/s':>16} {'µs per visit (again)':>21}")
    for rows, m in results.items():
        (bn, bs), (mn, ms), (an, as_) = m["batch"], m["month"], m["again"]
        print(f"{rows:>16,} {bn:>14,} {bn / bs:>9,.0f} {mn:>14,} {mn / ms:>9,.0f} {an / as_:>16,.0f} "
              f"{as_ / max(an, 1) * 1e6:>21.0f}")
    (small_rows, small), (big_rows, big) = list(results.items())[0], list(results.items())[-1]
    for what in ("month", "again"):
        per = [m[what][1] / max(m[what][0], 1) for m in (small, big)]
        print(f"{what}: time per visit judged at {big_rows:,} / at {small_rows:,} rows: {per[1] / per[0]:.2f}×")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB resident")
    print(f"total {time.perf_counter() - began:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=500)
    parser.add_argument("--small", type=int, default=1_000, help="rows in the first, small measurement")
    parser.add_argument("--sample", type=int, default=200, help="visits verified at each size")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a database to create and drop (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--explain", action="store_true", help="print the query plans of one neighbourhood")
    parser.add_argument("--set", action="store_true", help="the set path: a batch and a month at each of --sizes")
    parser.add_argument("--sizes", default="1000,100000,1000000", help="table sizes for --set")
    parser.add_argument("--profile", action="store_true", help="--set: cProfile the passes at the largest size")
    parser.add_argument("--batch", type=int, default=1000, help="visits of the upload batch for --set")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    os.environ.setdefault("PORTAL_ENV", "development")
    os.environ.pop("REDIS_URL", None)  # the comparison job runs inline: it is part of the cost measured
    if args.set:
        return main_set(args, rng)

    from portal import create_app
    began = time.perf_counter()
    with Database(args.database_url) as database:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": None, "TESTING": True,
                          "FAST_PASSWORD_HASHING": True})
        owner = create_engine(database.owner_url, poolclass=NullPool)
        seed_demo(app)
        world = add_workers(app, owner, args.workers, rng)
        tenant_id = world["tenant_id"]
        base = count_visits(app, tenant_id)
        print(f"backend: {database.backend}; {args.workers} workers, {len(world['homes'])} beneficiaries; "
              f"setup {time.perf_counter() - began:.1f} s")

        results = {}
        first, rest = schedule(args.workers, args.visits - base, max(args.small - base, 0))
        t0 = time.perf_counter()
        bulk_insert_visits(owner, world, first, rng)
        rows = count_visits(app, tenant_id)
        print(f"inserted {rows:,} visits in {time.perf_counter() - t0:.1f} s")
        results[rows] = summary(verify(app, tenant_id, sample_ids(app, tenant_id, args.sample, rng)))

        t0 = time.perf_counter()
        bulk_insert_visits(owner, world, rest, rng)
        rows = count_visits(app, tenant_id)
        print(f"inserted up to {rows:,} visits in {time.perf_counter() - t0:.1f} s")
        results[rows] = summary(verify(app, tenant_id, sample_ids(app, tenant_id, args.sample, rng)))

        if args.explain:
            print("query plans of one neighbourhood at full size:")
            explain_neighbourhood(app, tenant_id, sample_ids(app, tenant_id, 1, rng)[0])
        tracemalloc.start()
        verify(app, tenant_id, sample_ids(app, tenant_id, min(args.sample, 100), random.Random(args.seed + 1)))
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        owner.dispose()

    print()
    print(f"{'visits in table':>16} {'verified':>9} {'visits/s':>9} {'mean ms':>8} {'median ms':>10} {'p95 ms':>7} "
          f"{'visits judged each':>19} {'ms per visit judged':>20}")
    for rows, s in results.items():
        print(f"{rows:>16,} {s['n']:>9} {s['per_second']:>9.1f} {s['mean_ms']:>8.1f} {s['median_ms']:>10.1f} "
              f"{s['p95_ms']:>7.1f} {s['rechecked']:>19.2f} {s['mean_ms'] / s['rechecked']:>20.1f}")
    (small_rows, small_s), (big_rows, big_s) = list(results.items())[:2]
    print(f"per-visit time at {big_rows:,} / at {small_rows:,} rows: {big_s['median_ms'] / small_s['median_ms']:.2f}× "
          f"(median)")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB resident (whole run), "
          f"{heap_peak / 2**20:.1f} MB Python heap while verifying (tracemalloc)")
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
