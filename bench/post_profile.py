"""What one POST /api/v1/visits costs, in process (issue 15): time, CPU, SQL statements and round
trips per request, and optionally where the Python time goes (cProfile).

    .venv/bin/python bench/post_profile.py [--posts 300] [--profile] [--echo]

It builds the same throw-away PostgreSQL database as bench/api_load.py (migrated as the owner, used
as ``portal_app`` so row-level security applies; dropped at the end), with ``--field-workers``
workers, signs each in through POST /api/v1/tokens, then sends ``--posts`` valid check-in +
check-out bodies through Flask's test client (no HTTP server, no network: the request's own cost),
after ``--warmup`` unmeasured ones. Redis is used as in production (an empty database of its own,
emptied at the end), so the comparison is queued, not run, as in a real request.

Beside it, the floor: the same bodies through a bare Flask route that parses the JSON, reads the
token's hash and inserts the visit with one Core statement in one transaction under row-level
security (``set_config`` and the INSERT … RETURNING in one round trip each) — what any Flask
request that stores a visit must spend on this machine.
"""
import argparse
import cProfile
import hashlib
import json
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

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

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


def floor_app(database_url):
    """A bare Flask app: JSON body, token looked up by hash, one INSERT of the visit in one
    transaction under row-level security, 201 with the id. Nothing else of the portal."""
    from flask import Flask, jsonify, request
    engine = create_engine(database_url, pool_size=2)
    app = Flask("floor")
    insert = text(
        "INSERT INTO visit (tenant_id, client_id, body_hash, contract_id, service_item_id, beneficiary_id, "
        "staff_id, worker_user_id, contractor_id, device_id, check_in_at, check_in_lat, check_in_lon, "
        "check_in_accuracy_m, check_out_at, check_out_lat, check_out_lon, services, notes, source, "
        "recorded_live, received_at, checked_out_received_at, status, comparison_due, penalised) "
        "SELECT t.tenant_id, :client_id, :hash, a.contract_id, :item, a.beneficiary_id, a.staff_id, t.user_id, "
        "u.contractor_id, :device, :in_at, :in_lat, :in_lon, :acc, :out_at, :out_lat, :out_lon, '[]', '', 'app', "
        "true, now(), now(), 'pending', true, false "
        "FROM api_token t JOIN user_account u ON u.id = t.user_id "
        "JOIN assignment a ON a.beneficiary_id = :beneficiary AND a.tenant_id = t.tenant_id "
        "WHERE t.token_hash = :token LIMIT 1 RETURNING id")
    setting = text("SELECT set_config('app.tenant_id', tenant_id::text, true), "
                   "set_config('app.all_tenants', 'off', true) FROM api_token WHERE token_hash = :token")

    @app.post("/floor")
    def floor():
        body = request.get_json()
        token = hashlib.sha256(request.headers["Authorization"][7:].encode()).hexdigest()
        with engine.begin() as conn:
            conn.execute(setting, {"token": token})
            visit_id = conn.execute(insert, {
                "client_id": body["client_id"], "hash": hashlib.sha256(request.get_data()).hexdigest(),
                "item": app.config["ITEM_ID"], "device": body["device_id"],
                "in_at": body["check_in"]["at"], "in_lat": body["check_in"]["lat"],
                "in_lon": body["check_in"]["lon"], "acc": body["check_in"]["accuracy_m"],
                "out_at": body["check_out"]["at"], "out_lat": body["check_out"]["lat"],
                "out_lon": body["check_out"]["lon"], "beneficiary": body["beneficiary_id"],
                "token": token}).scalar_one()
        response = jsonify({"id": visit_id})
        response.status_code = 201
        return response
    return app, engine


def summary(name, times, cpu, statements, commits, floor=None):
    n = len(times)
    mean = statistics.fmean(times)
    line = (f"{name:<28} {n:>5} POSTs  mean {1000 * mean:6.2f} ms  median {1000 * statistics.median(times):6.2f} ms  "
            f"CPU {1000 * cpu / n:6.2f} ms  {statements / n:5.1f} statements + {commits / n:.1f} commit")
    if floor:
        line += f"  ×{mean / floor:.1f} the floor"
    print(line, flush=True)
    return mean


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
            floor, floor_engine = floor_app(database.url)
            floor.config["ITEM_ID"] = world["item_id"]
            floor_client = floor.test_client()
            floor_stats = Statements(floor_engine)
            measure(floor_client, plan, args.warmup, "/floor", floor_stats)
            measure(client, plan, args.warmup, "/api/v1/visits", stats)
            result = measure(floor_client, plan, args.posts, "/floor", floor_stats)
            base = summary("floor (bare Flask, 1 INSERT)", *result)
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
