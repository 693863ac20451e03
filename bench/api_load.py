"""Load test of the write path (issue 15): how many visits a second can POST /api/v1/visits take,
beside GET /healthz, and how long until every posted visit's verification is final?

    .venv/bin/python bench/api_load.py
    .venv/bin/python bench/api_load.py --web-workers 1,4 --connections 1,8,32 --field-workers 192 \
        --post-seconds 10 --post-requests 1500 --time-limit 900 --worker-args "--no-schedule"

It makes a fresh PostgreSQL database (default ``portal_bench_load`` on 127.0.0.1, dropped at the
end, also on failure, Ctrl-C or SIGTERM), migrates it as the owner and runs everything else as the
non-owner role ``portal_app`` so that row-level security applies (bench/visits.py's ``Database``).
It seeds the demo bureau and adds ``--field-workers`` field workers on contractor A's care
contract, four beneficiaries each (bench/visits.py's ``add_workers``), and signs each in through
POST /api/v1/tokens (only failed sign-ins are throttled, so they all pass from one address). Two
changes to the throw-away bureau let every visit verify cleanly: the care item needs no photo here
(else V11 would make each visit an exception in the request itself, leaving nothing for the queue
to decide), and uploads count late after 720 h instead of 72 h (V09), so that the visits can
spread over 28 past days — four a day per worker at 08:00, 10:15, 13:30 and 15:45 Beijing time,
45–60 minutes each, one per beneficiary a day, at the beneficiary's home, the worker's own phone.

It starts one RQ worker (``flask --app wsgi worker`` plus ``--worker-args``, default
``--no-schedule`` so that no periodic job runs during the measurement) and, for each value of
``--web-workers``, gunicorn with that many workers bound to 127.0.0.1 (logs in a temporary
directory, kept when the run fails). For each number of ``--connections`` it drives GET /healthz
and then POST /api/v1/visits (a check-in + check-out body with a fresh client id, the field
workers' visits in turn), each phase until its request cap or time limit, after one unmeasured
request per connection. After each POST phase it polls the database until none of the visits it
posted is pending any more (the drain; the next phase starts after it), and reads the worst time
from a check-out's arrival to its verdict (``verified_at − checked_out_received_at``). At the end it
runs ``flask --app wsgi audit-verify`` for the bureau and the platform chain. Everything is
bounded: requests and seconds per phase, the drain, and ``--time-limit`` for the whole run.

Columns, per phase: requests completed, errors, req/s, p50 and p99 latency, POST/healthz
throughput at the same connections, connections opened per request, the client's own CPU time
per request and its share of the machine (the client is a thread per connection writing prepared
bytes to a socket, bench/httpload.py), the share of the machine busy (anyone's work: the machine
may be shared), and for POST the mean number of the database's backends waiting for a lock
(sampled every 0.1 s) with the kind most waited for, the visits still pending when the phase
ended, the drain time (visits settled a second) and the worst check-out → verdict time. Exit
status 1 when a request failed (an HTTP error status or a broken connection), a job failed, or
audit-verify failed.

After the portal's phases of each ``--web-workers``, the floor (``--no-floor`` skips it): the same
bodies POSTed at the same connections to bench/floor_app.py under gunicorn with as many workers, a
bare Flask app that stores each visit with one INSERT under row-level security and nothing else;
the summary gives POST / healthz, floor / healthz and POST / floor at the most connections.

Gunicorn runs its default sync workers, as in the README's production commands: they answer
each request with ``Connection: close``, so every request opens a connection ("conn/req" 1.00);
``--gunicorn-args "-k gthread --threads 4"`` tries threaded workers with keep-alive.

Before issue 15's changes (two default runs on 2026-12-06, 2 vCPUs shared with other work at load
average ≈ 5, PostgreSQL 15; full table in README "Benchmarks"): /healthz 200–890 req/s (as the
other work allowed); POST 7–23 req/s whatever the connections and web workers — 2–9 % of /healthz
at 32 connections, p99 1.7–2.2 s there; with 4 web workers 2.0–2.2 backends wait for the advisory
lock (the audit chain's) on average; the queue settles 2–9 visits/s, so 70–260 visits are still
pending when a 10 s phase ends and the worst verdict comes 23–124 s after its check-out; the
client used at most 280 µs of CPU a request (≤ 6 % of the machine); audit-verify passed.
"""
import argparse
import json
import os
import platform
import random
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, select, text, update  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

import httpload  # noqa: E402
from visits import Database, add_workers, seed_demo  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_load"
PASSWORD = "bench-pass-2026"  # bench/visits.py seeds the demo with it; the added workers share it
BEIJING = timezone(timedelta(hours=8))
SLOTS = ((8, 0), (10, 15), (13, 30), (15, 45))  # one per beneficiary a day; ≥ 65 min between visits
DAYS = 28  # back from yesterday; uploads count late (V09) after LATE_HOURS
LATE_HOURS = 720
CLAIM_KEY = "portal-bench-api-load"


# --- the machine, Redis -----------------------------------------------------------------------------

def machine(owner):
    model = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with owner.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
    except OSError:
        commit = "?"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {cpus} CPUs ({model}); load average "
            f"{os.getloadavg()[0]:.1f} at the start; PostgreSQL {pg}; Python {platform.python_version()}; "
            f"commit {commit}")


def free_redis_url(base="redis://127.0.0.1:6379"):
    """An empty Redis database, claimed with a key of ours: 0 first (the test suites take 1–15 by
    process id and empty theirs between tests), then 15 … 1. An RQ worker attached to a database
    leaves keys in it, so an empty one has no worker that could take the bench's jobs."""
    from redis import Redis
    for number in (0, *range(15, 0, -1)):
        url = f"{base}/{number}"
        conn = Redis.from_url(url)
        if conn.dbsize() == 0 and conn.set(CLAIM_KEY, os.getpid(), nx=True):
            return url
    raise SystemExit("no empty Redis database: give one with --redis-url")


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- processes ----------------------------------------------------------------------------------

GUNICORN_HOOKS = '''
import os
def post_worker_init(worker):  # the app is loaded: this worker accepts requests from now on
    open(os.path.join({logdir!r}, "ready-%d" % worker.pid), "w").close()
'''


class Process:
    """A child in a session of its own (so Ctrl-C reaches the bench, which stops it in order),
    its output in ``log``."""

    def __init__(self, name, argv, env, log):
        self.name, self.log = name, log
        self.handle = open(log, "ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, grace=30):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.handle.close()


def start_gunicorn(workers, port, env, logdir, extra, app="wsgi:app", name="gunicorn"):
    ready_dir = Path(logdir) / f"{name}-w{workers}"
    ready_dir.mkdir()
    hooks = ready_dir / "hooks.py"
    hooks.write_text(GUNICORN_HOOKS.format(logdir=str(ready_dir)))
    argv = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{HOST}:{port}", "-c", str(hooks),
            *shlex.split(extra), app]
    server = Process(f"{name} -w {workers}", argv, env, Path(logdir) / f"{name}-w{workers}.log")
    deadline = time.monotonic() + 120
    while len(list(ready_dir.glob("ready-*"))) < workers:
        if not server.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn -w {workers} did not start; see {server.log}")
        time.sleep(0.2)
    return server


# --- the world and the requests -------------------------------------------------------------------

def prepare_world(database, field_workers, rng):
    """Migrated, seeded database with ``field_workers`` workers; returns (world, usernames)."""
    from portal import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": None, "TESTING": True,
                      "FAST_PASSWORD_HASHING": True})
    owner = create_engine(database.owner_url, poolclass=NullPool)
    try:
        seed_demo(app)
        world = add_workers(app, owner, field_workers, rng)
        from portal.accounts.models import User
        from portal.contracts.models import ServiceItem
        from portal.tenancy.models import Tenant
        with owner.begin() as conn:
            conn.execute(update(ServiceItem.__table__).where(ServiceItem.id == world["item_id"])
                         .values(photo_required=False))
            tenant = Tenant.__table__
            settings = conn.execute(select(tenant.c.settings).where(tenant.c.id == world["tenant_id"])).scalar_one()
            conn.execute(update(tenant).where(tenant.c.id == world["tenant_id"])
                         .values(settings={**(settings or {}), "late_upload_hours": LATE_HOURS}))
            names = dict(conn.execute(select(User.id, User.username)
                                      .where(User.id.in_([w[0] for w in world["workers"]]))).all())
            conn.execute(text("ANALYZE"))
    finally:
        owner.dispose()
    return world, [names[w[0]] for w in world["workers"]]


def sign_in(port, usernames):
    """A bearer token per field worker, through POST /api/v1/tokens."""
    conn, tokens = httpload.Connection(HOST, port), []
    for username in usernames:
        body = json.dumps({"username": username, "password": PASSWORD}).encode()
        status, answer = conn.request(httpload.post_json("/api/v1/tokens", HOST, port, body))
        if status != 201:
            raise RuntimeError(f"sign-in of {username} answered {status}: {answer[:200]!r}")
        tokens.append(json.loads(answer)["token"])
    conn.close()
    return tokens


class VisitPlan:
    """The next visit of each worker in turn: visit k of a worker is on day k // 4 before
    yesterday (Beijing), at slot k % 4, with the beneficiary (slot + day) % 4, at their home."""

    def __init__(self, world, tokens, rng):
        self.workers, self.homes, self.tokens, self.rng = world["workers"], world["homes"], tokens, rng
        self.taken = [0] * len(self.workers)
        self.turn = 0
        self.slots, self.returned = {}, []  # client id -> (worker, k); slots of visits never sent
        self.yesterday = datetime.now(BEIJING).date() - timedelta(days=1)

    def capacity(self):
        return len(self.workers) * DAYS * len(SLOTS) - sum(self.taken) + len(self.returned)

    def give_back(self, client_ids):
        """The slots of visits planned but not sent, to be used first by the next phase."""
        self.returned.extend(self.slots.pop(cid) for cid in client_ids)

    def next(self, port):
        client_id, body, w = self.body()
        raw = httpload.post_json("/api/v1/visits", HOST, port, json.dumps(body, separators=(",", ":")).encode(),
                                 self.tokens[w])
        return client_id, raw

    def body(self):
        """(client id, JSON body, worker index) of the next visit."""
        if self.returned:
            w, k = self.returned.pop(0)
        else:
            w = self.turn % len(self.workers)
            self.turn += 1
            k = self.taken[w]
            self.taken[w] += 1
        day_index, slot = divmod(k, len(SLOTS))
        if day_index >= DAYS:
            raise RuntimeError("every slot of every worker is taken: add --field-workers or lower the caps")
        _user_id, _staff_id, people = self.workers[w]
        person = people[(slot + day_index) % len(people)]
        lat, lon = self.homes[person]
        day = self.yesterday - timedelta(days=day_index)
        hour, minute = SLOTS[slot]
        start = datetime(day.year, day.month, day.day, hour, minute + self.rng.randint(0, 10), tzinfo=BEIJING)
        end = start + timedelta(minutes=self.rng.randint(45, 60))
        jitter = lambda: self.rng.uniform(-0.0002, 0.0002)  # ≈ 20 m  # noqa: E731
        client_id = str(uuid.uuid4())
        self.slots[client_id] = (w, k)
        body = {"client_id": client_id, "beneficiary_id": person, "service_item": "CARE-VISIT",
                "device_id": f"bench-phone-{w}",
                "check_in": {"at": start.isoformat(), "lat": lat + jitter(), "lon": lon + jitter(), "accuracy_m": 8},
                "check_out": {"at": end.isoformat(), "lat": lat + jitter(), "lon": lon + jitter()}}
        return client_id, body, w


# --- the drain --------------------------------------------------------------------------------------

DRAIN_SQL = text("""
    SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'verified'),
           count(*) FILTER (WHERE status NOT IN ('pending', 'verified')), count(*),
           extract(epoch FROM max(verified_at - checked_out_received_at))
    FROM visit WHERE client_id = ANY(:ids)""")


def drain(owner, client_ids, timeout):
    """Poll until none of the visits is pending or ``timeout`` passes: (pending at the start,
    seconds to drain or None, the final counts)."""
    began = time.monotonic()
    with owner.connect() as conn:
        first = None
        while True:
            row = conn.execute(DRAIN_SQL, {"ids": client_ids}).one()
            conn.rollback()
            first = row[0] if first is None else first
            if row[0] == 0:
                return first, time.monotonic() - began, row
            if time.monotonic() - began > timeout:
                return first, None, row
            time.sleep(0.25)


class LockWaits:
    """How many backends of the bench database wait for a lock, sampled every 0.1 s while a
    phase runs: the column "lock waits" shows the mean and the kind of lock most waited for."""
    SQL = text("SELECT l.locktype, count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
               "WHERE NOT l.granted AND a.datname = :db GROUP BY l.locktype")

    def __init__(self, owner, name):
        self.owner, self.name, self.samples, self.cpu = owner, name, [], 0.0
        self.kinds = {}  # lock type -> waiting backends summed over the samples
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with self.owner.connect() as conn:
            while not self.stop.wait(0.1):
                waiting = dict(conn.execute(self.SQL, {"db": self.name}).all())
                conn.rollback()
                self.samples.append(sum(waiting.values()))
                for kind, n in waiting.items():
                    self.kinds[kind] = self.kinds.get(kind, 0) + n
        self.cpu = time.thread_time()  # not the load client's: taken off its CPU time

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def mean(self):
        return sum(self.samples) / len(self.samples) if self.samples else float("nan")

    def __str__(self):
        kind = max(self.kinds, key=self.kinds.get, default="")
        return f"{self.mean:.1f} {kind}".strip()


def exception_codes(owner, client_ids):
    with owner.connect() as conn:
        return dict(conn.execute(text(
            "SELECT e.code, count(*) FROM visit_exception e JOIN visit v ON v.id = e.visit_id "
            "WHERE v.client_id = ANY(:ids) GROUP BY e.code ORDER BY e.code"), {"ids": client_ids}).all())


def failed_jobs(owner):
    with owner.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM job_run WHERE status = 'failed'")).scalar_one()


# --- the report -----------------------------------------------------------------------------------

HEADER = (f"{'web':>3} {'conns':>5} {'endpoint':<18} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>7} "
          f"{'p99 ms':>8} {'POST/healthz':>12} {'conn/req':>8} {'client CPU':>15} {'machine busy':>12} "
          f"{'lock waits':>14} {'pending at end':>14} {'drain s (visits/s)':>18} {'worst final s':>13}")


def row(web, result, name, healthz=None, drained=None, waits=None):
    """One line of the table; ``drained`` = drain()'s answer and ``waits`` the LockWaits of a POST phase."""
    ratio = f"{result.rate / healthz.rate:.1%}" if healthz and healthz.rate else ""
    pending = drain_s = worst = ""
    lock_waits = str(waits) if waits is not None else ""
    if drained is not None:
        pending, seconds, counts = drained
        drain_s = "timeout" if seconds is None else f"{seconds:.1f}"
        if seconds and pending:
            drain_s += f" ({pending / seconds:.1f}/s)"
        worst = f"{counts[4]:.1f}" if counts[4] is not None else "—"
    per_request = 1e6 * result.client_cpu / max(result.completed + len(result.failures), 1)
    client = f"{per_request:.0f} µs {result.client_share:.0%}"
    return (f"{web:>3} {result.connections:>5} {name:<18} {result.completed:>8} {result.errors:>6} "
            f"{result.rate:>8.1f} {1000 * result.median:>7.1f} {1000 * result.quantile(0.99):>8.1f} {ratio:>12} "
            f"{result.connects / max(result.completed, 1):>8.2f} {client:>15} {result.machine_busy:>12.0%} "
            f"{lock_waits:>14} {pending:>14} {drain_s:>18} {worst:>13}")


def audit_verify(env):
    """(ok, lines) of ``flask --app wsgi audit-verify`` for the bureau and the platform chain."""
    ok, lines = True, []
    for code in ("ganxian", "platform"):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "audit-verify", "--tenant", code],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        said = [line for line in (done.stdout + done.stderr).splitlines() if "audit chain" in line]
        lines.append(f"{' / '.join(said) or 'no answer'} (exit {done.returncode})")
        ok = ok and done.returncode == 0
    return ok, lines


# --- the run ----------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    parser.add_argument("--database-url", default=DEFAULT_DB, help="a PostgreSQL database to create and drop")
    parser.add_argument("--redis-url", default=None, help="an empty Redis database, emptied at the end "
                        "(default: the first empty one of redis://127.0.0.1:6379, 0 first)")
    parser.add_argument("--web-workers", type=ints, default=[1, 4], help="gunicorn -w, one run each (1,4)")
    parser.add_argument("--connections", type=ints, default=[1, 8, 32], help="concurrent connections (1,8,32)")
    parser.add_argument("--field-workers", type=int, default=192)
    parser.add_argument("--healthz-requests", type=int, default=10_000, help="cap per /healthz phase")
    parser.add_argument("--healthz-seconds", type=float, default=5)
    parser.add_argument("--post-requests", type=int, default=1500, help="cap per POST phase")
    parser.add_argument("--post-seconds", type=float, default=10)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--time-limit", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--worker-args", default="--no-schedule", help="arguments after `flask --app wsgi worker`")
    parser.add_argument("--rq-workers", type=int, default=1)
    parser.add_argument("--gunicorn-args", default="", help="more gunicorn arguments, e.g. '-k gthread --threads 4'")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip the floor: bench/floor_app.py (a bare Flask POST, one INSERT) under gunicorn")
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs also when the run passes")
    parser.add_argument("--seed", type=int, default=20261206)
    return parser.parse_args(argv)


def run_floor(args, web, env, logdir, plan, healthz, left):
    """POST the same kind of bodies to bench/floor_app.py under gunicorn -w ``web`` at each number
    of connections: what a bare Flask request storing a visit with one INSERT reaches here."""
    results = {}
    if plan is None or left() < 30:
        return results
    port = free_port()
    server = start_gunicorn(web, port, env, logdir, f"{args.gunicorn_args} --chdir {ROOT / 'bench'}",
                            app="floor_app:app", name="floor")
    try:
        for conns in args.connections:
            if left() < 10 or plan.capacity() < args.post_requests + conns:
                break
            bodies = [plan.next(port) for _ in range(args.post_requests + conns)]
            raws = [raw.replace(b"POST /api/v1/visits ", b"POST /floor ", 1) for _, raw in bodies]
            result = httpload.run_phase(HOST, port, raws[conns:], conns, min(args.post_seconds, max(left(), 1)),
                                        warmup=raws[:conns])
            results[conns] = result
            print(row(web, result, "POST /floor", healthz.get(conns)), flush=True)
    finally:
        server.stop()
    return results


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM cleans up as Ctrl-C does: servers stopped, database dropped


def main(argv=None):
    args = parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("the load test needs PostgreSQL (--database-url postgresql+psycopg://…)")
    signal.signal(signal.SIGTERM, _interrupt)
    os.environ.setdefault("PORTAL_ENV", "development")
    os.environ.pop("REDIS_URL", None)
    rng = random.Random(args.seed)
    began = time.monotonic()
    left = lambda: args.time_limit - (time.monotonic() - began)  # noqa: E731
    failed, results = [], []
    logdir = tempfile.mkdtemp(prefix="portal-api-load-")
    redis_url = args.redis_url or free_redis_url()
    from redis import Redis
    redis = Redis.from_url(redis_url)
    if args.redis_url and redis.dbsize():
        raise SystemExit(f"{redis_url} is not empty: the bench empties its Redis database at the end")
    redis.set(CLAIM_KEY, os.getpid())
    with ExitStack() as stack:
        stack.callback(redis.flushdb)
        database = stack.enter_context(Database(args.database_url))
        owner = create_engine(database.owner_url, poolclass=NullPool)
        stack.callback(owner.dispose)
        print(machine(owner))
        world, usernames = prepare_world(database, args.field_workers, rng)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_OWNER_URL", "PORTAL_INLINE_SCHEDULER")}
        env.update(DATABASE_URL=database.url, REDIS_URL=redis_url, PORTAL_ENV="development")
        worker_env = {**env, "DATABASE_URL": database.platform_url}  # workers run as the platform role
        for n in range(args.rq_workers):
            rq = Process(f"rq worker {n}", [sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                            *shlex.split(args.worker_args)], worker_env, Path(logdir) / f"worker-{n}.log")
            stack.callback(rq.stop, 60)
        print(f"setup {time.monotonic() - began:.0f} s: {len(usernames)} field workers, "
              f"{len(world['homes'])} beneficiaries; {args.rq_workers} RQ worker(s) `flask --app wsgi worker "
              f"{args.worker_args}`; Redis {redis_url}; logs in {logdir}")
        tokens, plan, all_ids, floors = None, None, [], {}
        env["FLOOR_ITEM_ID"] = str(world["item_id"])
        print()
        print(HEADER)
        for web in args.web_workers:
            if left() < 30:
                print(f"(-w {web} skipped: the time limit is near)")
                continue
            port = free_port()
            with ExitStack() as server_stack:
                server = start_gunicorn(web, port, env, logdir, args.gunicorn_args)
                server_stack.callback(server.stop)
                if tokens is None:
                    tokens = sign_in(port, usernames)
                    plan = VisitPlan(world, tokens, rng)
                healthz = {}
                for conns in args.connections:
                    raw = httpload.get("/healthz", HOST, port)
                    result = httpload.run_phase(HOST, port, [raw] * args.healthz_requests, conns,
                                                min(args.healthz_seconds, max(left(), 1)), warmup=[raw] * conns)
                    healthz[conns] = result
                    results.append((web, "GET /healthz", result))
                    print(row(web, result, "GET /healthz"), flush=True)
                for conns in args.connections:
                    if left() < 10:
                        print(f"(POST at {conns} connections skipped: the time limit is near)")
                        continue
                    need = args.post_requests + conns
                    if plan.capacity() < need:
                        print(f"(POST at {conns} connections skipped: no free visit slots left)")
                        continue
                    warm = [plan.next(port) for _ in range(conns)]
                    planned = [plan.next(port) for _ in range(args.post_requests)]
                    with LockWaits(owner, database.name) as waits:
                        result = httpload.run_phase(HOST, port, [raw for _, raw in planned], conns,
                                                    min(args.post_seconds, max(left(), 1)),
                                                    warmup=[raw for _, raw in warm])
                    result.client_cpu = max(result.client_cpu - waits.cpu, 0.0)
                    plan.give_back([cid for i, (cid, _) in enumerate(planned) if i not in result.sent])
                    ids = [cid for cid, _ in warm] + [planned[i][0] for i in sorted(result.sent)]
                    drained = drain(owner, ids, max(min(args.drain_timeout, left()), 1))
                    all_ids += ids
                    results.append((web, "POST /api/v1/visits", result))
                    print(row(web, result, "POST /api/v1/visits", healthz.get(conns), drained, waits), flush=True)
            if args.floor:
                floors[web] = run_floor(args, web, env, logdir, plan, healthz, left)
        for web, by_conns in floors.items():
            results += [(web, "POST /floor", result) for result in by_conns.values()]
        for web, name, result in results:
            if result.errors:
                failed.append(f"-w {web} {name} at {result.connections} connections: {result.errors} errors "
                              f"{dict(sorted(result.statuses.items()))} {result.failures[:2]} {result.bodies[:1]}")
        if all_ids:
            codes = exception_codes(owner, all_ids)
            pending, seconds, counts = drain(owner, all_ids, 0)
            print(f"\nvisits posted: {counts[3]} — verified {counts[1]}, exception or rejected {counts[2]}, "
                  f"pending {counts[0]}; worst check-out → verdict {counts[4] or 0:.1f} s; exception codes "
                  f"{codes or 'none'}")
        jobs_failed = failed_jobs(owner)
        if jobs_failed:
            failed.append(f"{jobs_failed} jobs failed (see the worker's log)")
        ok, lines = audit_verify(env)
        for line in lines:
            print(line)
        if not ok:
            failed.append("audit-verify failed")
        if redis.get(CLAIM_KEY) is None:
            print(f"warning: {redis_url} was emptied by someone else during the run; the queue figures are unsure")
        for web in args.web_workers:
            posts = {r.connections: r for w, n, r in results if w == web and n == "POST /api/v1/visits"}
            gets = {r.connections: r for w, n, r in results if w == web and n.startswith("GET")}
            top = max(posts, default=None)
            if top is not None and gets.get(top):
                post, get = posts[top], gets[top]
                line = (f"-w {web}: POST {post.rate:.1f} req/s = {post.rate / get.rate:.1%} of /healthz at {top} "
                        f"connections, p99 {1000 * post.quantile(0.99):.0f} ms")
                floor = floors.get(web, {}).get(top)
                if floor is not None and floor.rate:
                    line += (f"; the floor (bare Flask, one INSERT) {floor.rate:.1f} req/s = "
                             f"{floor.rate / get.rate:.1%} of /healthz, p99 {1000 * floor.quantile(0.99):.0f} ms; "
                             f"POST = {post.rate / floor.rate:.1%} of the floor")
                print(line)
        print(f"total {time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.1f} at the end")
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed) + f"\nlogs kept in {logdir}")
        return 1
    if args.keep_logs:
        return 0
    for path in sorted(Path(logdir).rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    os.rmdir(logdir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: servers stopped, database dropped (logs kept)", file=sys.stderr)
        sys.exit(130)
