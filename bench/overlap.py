"""Benchmark of verification with many overlapping visits (issue 13, point 5): how long does
checking out a visit take when its worker has n pending visits overlapping it, next to the floor —
the same check-out for a worker with no other visit that day — measured in the same run?

    .venv/bin/python bench/overlap.py [--overlapping 10,100,400]
    .venv/bin/python bench/overlap.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

It builds a throw-away database as bench/visits.py does (a temporary SQLite file, or the named
PostgreSQL database, created and dropped, the portal connecting as the non-owner role
``portal_app`` so that row-level security applies), seeds the demo bureau, adds one field worker
per measurement, bulk-inserts for each the n pending visits of one day (08:00 on, 20 s apart,
150 minutes each: every one overlaps 09:00–10:00 and each other), then checks out a visit at
09:00–10:00 through ``verification.on_checked_out`` and commits, as the request would: V04 on the
visit and on each of the n visits it now overlaps. The check-out is
measured as under `make run`: the comparison job runs inline in the request for the visit and its
NEIGHBOURS_PER_JOB nearest neighbours, the others are judged by ``supervision.judge_visits`` jobs
that the in-process scheduler runs (a worker, with Redis), timed apart. It prints the time of each
check-out, its ratio to the floor, its statements, and the time of the deferred jobs.

Before the set-based pass (neighbourhoods.py) each neighbour's neighbourhood was queried for it
alone: 400 overlapping visits took 37 s on SQLite and 47 s on PostgreSQL. The target is < 1 s.
"""
import argparse
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, event, insert  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from visits import Database, add_workers, seed_demo  # noqa: E402


def overlapping_rows(world, worker, day, n):
    from portal.core.timeutil import LOCAL_TZ
    user_id, staff_id, people = worker
    rows = []
    for i in range(n):
        start = datetime(day.year, day.month, day.day, 8, tzinfo=LOCAL_TZ) + timedelta(seconds=20 * i)
        end = start + timedelta(minutes=150)
        lat, lon = world["homes"][people[i % len(people)]]
        rows.append({
            "tenant_id": world["tenant_id"], "client_id": str(uuid.uuid4()), "body_hash": "0" * 64,
            "contract_id": world["contract_id"], "service_item_id": world["item_id"],
            "beneficiary_id": people[i % len(people)], "staff_id": staff_id, "worker_user_id": user_id,
            "contractor_id": world["contractor_id"], "device_id": f"phone-{user_id}",
            "check_in_at": start.astimezone(timezone.utc), "check_in_lat": lat, "check_in_lon": lon,
            "check_in_accuracy_m": 10.0, "check_out_at": end.astimezone(timezone.utc), "check_out_lat": lat,
            "check_out_lon": lon, "services": [], "notes": "", "source": "app", "recorded_live": True,
            "received_at": end.astimezone(timezone.utc) + timedelta(minutes=2),
            "checked_out_received_at": end.astimezone(timezone.utc) + timedelta(minutes=2),
            "status": "pending", "penalised": False})
    return rows


def check_out(app, world, worker, day):
    """Record a visit 09:00–10:00 on ``day`` and check it out as the request does under `make run`
    (single rules, the comparison job inline: the visit and its NEIGHBOURS_PER_JOB nearest
    neighbours), commit; then run the deferred judge_visits jobs as the in-process scheduler's
    tick would. Returns (check-out seconds, statements of the check-out, deferred seconds,
    deferred jobs, visits judged)."""
    from portal.core.timeutil import LOCAL_TZ, utcnow
    from portal.extensions import db
    from portal.jobs.schedule import run_queued
    from portal.tenancy.scope import tenant_scope
    from portal.visits import verification
    from portal.visits.models import Visit
    user_id, staff_id, people = worker
    lat, lon = world["homes"][people[0]]
    start = datetime(day.year, day.month, day.day, 9, tzinfo=LOCAL_TZ).astimezone(timezone.utc)
    statements = []
    with app.app_context(), tenant_scope(world["tenant_id"]):
        row = overlapping_rows(world, worker, day, 1)[0]
        row.update(check_in_at=start, check_out_at=start + timedelta(hours=1), check_in_lat=lat, check_in_lon=lon,
                   check_out_lat=lat, check_out_lon=lon, beneficiary_id=people[0])
        counter = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", counter)
        began = time.perf_counter()
        visit = Visit(**row)
        db.session.add(visit)
        db.session.flush()
        verification.on_checked_out(visit, utcnow())
        db.session.commit()
        request_seconds = time.perf_counter() - began
        event.remove(db.engine, "before_cursor_execute", counter)
        db.session.remove()
    began = time.perf_counter()
    deferred = run_queued(app)
    deferred_seconds = time.perf_counter() - began
    with app.app_context(), tenant_scope(world["tenant_id"]):
        judged = db.session.query(Visit).filter(Visit.staff_id == staff_id, Visit.status != "pending").count()
        db.session.remove()
    return request_seconds, len(statements), deferred_seconds, deferred, judged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--overlapping", default="10,100,400", help="comma-separated numbers of overlapping visits")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a database to create and drop (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.overlapping.split(",")]
    rng = random.Random(20261206)

    from portal import create_app
    with Database(args.database_url) as database:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": None, "TESTING": True,
                          "FAST_PASSWORD_HASHING": True, "INLINE_SCHEDULER": True})  # as `make run`
        owner = create_engine(database.owner_url, poolclass=NullPool)
        seed_demo(app)
        world = add_workers(app, owner, len(sizes) + 2, rng)
        day = date.today() - timedelta(days=2)
        for worker, n in zip(world["workers"][2:], sizes):
            with owner.begin() as conn:
                conn.execute(insert(Visit.__table__), overlapping_rows(world, worker, day, n))
        check_out(app, world, world["workers"][1], day - timedelta(days=1))  # warm-up: caches, first connection
        floor = check_out(app, world, world["workers"][0], day)
        results = [(n, check_out(app, world, worker, day)) for worker, n in zip(world["workers"][2:], sizes)]
        owner.dispose()

    print(f"backend: {database.backend}")
    print(f"{'overlapping':>12} {'check-out s':>12} {'× floor':>8} {'statements':>11} {'deferred s':>11} "
          f"{'deferred jobs':>14} {'visits judged':>14}")
    for n, (request_s, statements, deferred_s, jobs, judged) in [(0, floor), *results]:
        print(f"{n:>12} {request_s:>12.3f} {request_s / floor[0]:>8.1f} {statements:>11} {deferred_s:>11.3f} "
              f"{jobs:>14} {judged:>14}" + ("   (floor: no other visit that day)" if n == 0 else ""))
    n, (request_s, statements, deferred_s, jobs, judged) = results[-1]
    print(f"with {n} overlapping visits: check-out {request_s:.2f} s, {request_s / floor[0]:.1f}× the floor "
          f"({'under' if request_s < 1 else 'OVER'} the 1 s target); the other neighbours judged by {jobs} "
          f"deferred job(s) in {deferred_s:.2f} s (about {deferred_s / max(jobs, 1):.2f} s each)")

if __name__ == "__main__":
    from portal.visits.models import Visit  # noqa: E402  (after sys.path is set)
    main()
