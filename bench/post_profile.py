"""What one POST /api/v1/visits costs, in process (issue 15): time, CPU, SQL statements and round
trips per request, and optionally where the Python time goes (cProfile).

    .venv/bin/python bench/post_profile.py [--posts 300] [--profile] [--echo]

It builds the same throw-away PostgreSQL database as bench/api_load.py (migrated as the owner, used
as ``portal_app`` so row-level security applies; dropped at the end), with ``--field-workers``
workers, signs each in through POST /api/v1/tokens, then sends ``--posts`` valid check-in +
check-out bodies through Flask's test client (no HTTP server, no network: the request's own cost),
after ``--warmup`` unmeasured ones. Redis is used as in production (an empty database of its own,
emptied at the end), so the comparison is queued, not run, as in a real request.

Beside it, the floor (bench/floor_app.py): the same bodies through a bare Flask route that stores
the visit with one INSERT under row-level security — what any Flask request that stores a visit
spends on this machine — and GET /healthz of the portal.
"""
import argparse
import cProfile
import os
import pstats
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event  # noqa: E402

import floor_app  # noqa: E402

from api_load import DEFAULT_DB, PASSWORD, VisitPlan, free_redis_url, prepare_world, CLAIM_KEY  # noqa: E402
from visits import Database  # noqa: E402


class Statements:
    """Counts the statements sent on an engine (each a round trip; COMMIT/ROLLBACK counted apart)."""

    def __init__(self, engine, echo=False):
        self.count, self.echo = 0, echo
        event.listen(engine, "before_cursor_execute", self._seen)
        event.listen(engine, "commit", self._commit)
        self.commits = 0

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.echo:
            print("   ", " ".join(statement.split())[:160])

    def _commit(self, conn):
        self.commits += 1


def measure(client, plan, posts, path, stats, profile=None):
    """Send ``posts`` bodies to ``path``; (wall seconds each, cpu seconds, statements, commits)."""
    times, before, commits = [], stats.count, stats.commits
    cpu = time.process_time()
    for _ in range(posts):
        _cid, body, w = plan.body()
        headers = {"Authorization": f"Bearer {plan.tokens[w]}"}
        began = time.perf_counter()
        if profile:
            profile.enable()
        answer = client.post(path, json=body, headers=headers)
        if profile:
            profile.disable()
        times.append(time.perf_counter() - began)
        if answer.status_code != 201:
            raise SystemExit(f"{path} answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
    return times, time.process_time() - cpu, stats.count - before, stats.commits - commits


def healthz(client, n):
    """GET /healthz ``n`` times: (wall seconds each, cpu seconds, 0, 0)."""
    times, cpu = [], time.process_time()
    for _ in range(n):
        began = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        times.append(time.perf_counter() - began)
    return times, time.process_time() - cpu, 0, 0


def summary(name, times, cpu, statements, commits, floor=None):
    """Print one line; returns (median wall, CPU) per request. ``floor``: those of the floor."""
    n = len(times)
    median, cpu_each = statistics.median(times), cpu / n
    line = (f"{name:<30} {n:>5} requests  mean {1000 * statistics.fmean(times):6.2f} ms  median "
            f"{1000 * median:6.2f} ms  CPU {1000 * cpu_each:6.2f} ms  {statements / n:5.1f} statements + "
            f"{commits / n:.1f} commit")
    if floor:
        line += f"  ×{median / floor[0]:.1f} the floor's median, ×{cpu_each / floor[1]:.1f} its CPU"
    print(line, flush=True)
    return median, cpu_each


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB.replace("_load", "_post"))
    parser.add_argument("--field-workers", type=int, default=24)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="print the 35 functions with the most own time")
    parser.add_argument("--echo", action="store_true", help="print the statements of one POST")
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args(argv)
    os.environ.setdefault("PORTAL_ENV", "development")
    rng = random.Random(args.seed)
    redis_url = free_redis_url()
    from redis import Redis
    redis = Redis.from_url(redis_url)
    try:
        with Database(args.database_url) as database:
            world, usernames = prepare_world(database, args.field_workers, rng)
            from portal import create_app
            app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": redis_url})
            client = app.test_client()
            tokens = []
            for username in usernames:
                answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
                assert answer.status_code == 201, answer.get_data(as_text=True)
                tokens.append(answer.get_json()["token"])
            plan = VisitPlan(world, tokens, rng)
            with app.app_context():
                from portal.extensions import db
                stats = Statements(db.engine)
            print(f"PostgreSQL, {len(tokens)} field workers; Python {sys.version.split()[0]}; "
                  f"load average {os.getloadavg()[0]:.1f}")
            if args.echo:
                stats.echo = True
                print("the statements of one POST /api/v1/visits:")
                measure(client, plan, 1, "/api/v1/visits", stats)
                stats.echo = False
            floor = floor_app.make_app(database.url, world["item_id"])
            floor_engine = floor.config["ENGINE"]
            floor_client = floor.test_client()
            floor_stats = Statements(floor_engine)
            measure(floor_client, plan, args.warmup, "/floor", floor_stats)
            measure(client, plan, args.warmup, "/api/v1/visits", stats)
            healthz(client, args.warmup)
            summary("GET /healthz (portal)", *healthz(client, args.posts))
            result = measure(floor_client, plan, args.posts, "/floor", floor_stats)
            base = summary("POST /floor (bare Flask, INSERT)", *result)
            profile = cProfile.Profile() if args.profile else None
            result = measure(client, plan, args.posts, "/api/v1/visits", stats, profile)
            summary("POST /api/v1/visits", *result, floor=base)
            floor_engine.dispose()
            print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
            if profile:
                pstats.Stats(profile).sort_stats("tottime").print_stats(35)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
    finally:
        if redis.get(CLAIM_KEY) is not None or redis.dbsize():
            redis.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
