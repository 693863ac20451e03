"""Helpers for tests: migrating, seeding the demo, submitting forms with their CSRF token."""
import copy
import functools
import os
import re
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

PASSWORD = "Tq8#vLm2Rw9z-2026"  # strong enough for the password policy (tests create users with it)
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def migrate_to_head(url, owner_url=None):
    """`flask db upgrade` against ``url`` (as ``owner_url`` when the tables have an owner)."""
    from flask_migrate import upgrade

    from portal import create_app
    previous = os.environ.get("DATABASE_OWNER_URL")
    if owner_url and owner_url != url:
        os.environ["DATABASE_OWNER_URL"] = owner_url
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade()
    finally:
        if previous is None:
            os.environ.pop("DATABASE_OWNER_URL", None)
        else:
            os.environ["DATABASE_OWNER_URL"] = previous


FIXTURE_CALENDARS = ("calendar-2027.txt",)


def seed_fixture_calendars(url):
    """Keep the tests' fixture schedules (tests/fixtures/calendar-*.txt, not official data) in the
    fresh database, before its "empty" state is captured: "now" in the suite is late 2026, so
    deadlines fall in 2027, a year the chinese-calendar library does not know."""
    from pathlib import Path

    from portal import create_app
    from portal.extensions import db
    from portal.tenancy.calendar_file import parse_schedule
    from portal.tenancy.calendar_store import import_schedule
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        for name in FIXTURE_CALENDARS:
            text = (Path(__file__).resolve().parent / "fixtures" / name).read_text(encoding="utf-8")
            import_schedule(parse_schedule(text), "tests")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def fixture_calendar(overrides=None):
    """The national calendar every test database holds: the library's years plus the fixture
    schedules (tests/fixtures/calendar-*.txt), for tests that compare with what the app counted."""
    from pathlib import Path

    from portal.core.workdays import Calendar
    from portal.tenancy.calendar_file import parse_schedule
    schedules = [parse_schedule((Path(__file__).resolve().parent / "fixtures" / name).read_text(encoding="utf-8"))
                 for name in FIXTURE_CALENDARS]
    return Calendar(overrides, {schedule.year: schedule for schedule in schedules})


def release_connections(app):
    """End the app's sessions (before the rows are swapped): their connections go back to the pool,
    rolled back. On SQLite the pooled connections are closed as well, since the file is written
    under them; PostgreSQL keeps them (an idle connection holds no lock, and a new backend per
    test would cost more than many a test)."""
    from portal.extensions import db
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "postgresql":
            db.engine.dispose()


def built_once(app, name, build, on):
    """``build(app)`` (which returns plain data: ids, names), run on top of the database state
    ``on`` ("empty", "demo", …). The first time, the state it leaves is captured under ``name``;
    afterwards that state is restored and a copy of the first value returned. When the database
    does not hold state ``on`` (a test wrote something first), or Redis does not hold what it held
    with ``on``, it is simply built.

    With Redis (PostgreSQL pass) what the build left in Redis (jobs it queued, batches waiting for
    their job) is part of the state: captured with the rows (DUMP) and put back with them
    (RESTORE, same time to live) and compared by what its keys hold (_redis_view), and the state is
    kept apart per job queue name (JOB_QUEUE, the short queue), since the keys and the queued jobs
    name their queue."""
    states = app.extensions.get("test_snapshots")
    release_connections(app)
    redis = _redis(app)
    name, on = _state_name(app, name, redis), _state_name(app, on, redis)
    if states is None or not states.holds(on):
        return build(app)
    if redis is not None and _redis_view(redis) != states.redis_view_of(on):
        return build(app)
    if name in states:
        states.restore(name)
        if redis is not None:
            _put_back(redis, states.redis_of(name))
        return copy.deepcopy(states.values[name])
    value = build(app)
    release_connections(app)
    if redis is None:
        states.capture(name, copy.deepcopy(value))
    else:
        states.capture(name, copy.deepcopy(value), redis=_redis_content(redis), redis_view=_redis_view(redis))
    return value


def _state_name(app, name, redis):
    """The name a state is captured under: with Redis, apart per job queue name (the captured
    "empty", taken before any queue was named, stands for every queue). The state a builder
    starts ``on`` is named the same way, or it would never be found held."""
    if redis is None or name == "empty":
        return name
    from portal.jobs.queue import short_queue_name
    return f"{name}@{app.config['JOB_QUEUE']}+{short_queue_name(app.config)}"


def once_per_run(on):
    """Decorate a builder ``build(app, *args, **kwargs)`` of plain data so that, called on state
    ``on``, it goes through built_once (one captured state per distinct set of arguments)."""
    def decorate(build):
        @functools.wraps(build)
        def cached(app, *args, **kwargs):
            name = f"{build.__module__}.{build.__name__}{args!r}{sorted(kwargs.items())!r}"
            return built_once(app, name, lambda app: build(app, *args, **kwargs), on=on)
        return cached
    return decorate


def _redis(app):
    if not app.config.get("REDIS_URL"):
        return None
    from redis import Redis
    return Redis.from_url(app.config["REDIS_URL"])


def _redis_content(redis):
    """{key: (DUMP of its value, ms to live or 0)} of the test's Redis db, to be put back (RESTORE)."""
    keys = sorted(redis.keys())
    if not keys:
        return {}
    pipe = redis.pipeline(transaction=True)
    for key in keys:
        pipe.dump(key)
        pipe.pttl(key)
    replies = pipe.execute()
    return {key: (replies[2 * i], max(replies[2 * i + 1], 0)) for i, key in enumerate(keys)}


# Every key of the db with its type and its value in an order of its own (a hash's fields and a
# set's members sorted), in one round trip. DUMPs cannot be compared: a hash kept as a hash table
# (an RQ job's) dumps its fields in the table's order, which a RESTORE does not keep, so the bytes
# of a key put back differ from those captured while what it holds is the same.
_VIEW_SCRIPT = """
local out = {}
local keys = redis.call('KEYS', '*')
table.sort(keys)
for _, key in ipairs(keys) do
  local kind = redis.call('TYPE', key)['ok']
  local items
  if kind == 'string' then
    items = {redis.call('GET', key)}
  elseif kind == 'list' then
    items = redis.call('LRANGE', key, 0, -1)
  elseif kind == 'set' then
    items = redis.call('SMEMBERS', key)
    table.sort(items)
  elseif kind == 'zset' then
    items = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  elseif kind == 'hash' then
    local flat, fields, values = redis.call('HGETALL', key), {}, {}
    for i = 1, #flat, 2 do
      fields[#fields + 1] = flat[i]
      values[flat[i]] = flat[i + 1]
    end
    table.sort(fields)
    items = {}
    for _, field in ipairs(fields) do
      items[#items + 1] = field
      items[#items + 1] = values[field]
    end
  else
    items = {redis.call('DUMP', key)}
  end
  out[#out + 1] = key
  out[#out + 1] = kind
  out[#out + 1] = #items
  for _, item in ipairs(items) do
    out[#out + 1] = item
  end
end
return out
"""


def _redis_view(redis):
    """What the test's Redis db holds, comparable between a capture and a later RESTORE of it:
    [key, type, number of items, items…] per key (see _VIEW_SCRIPT)."""
    return redis.eval(_VIEW_SCRIPT, 0)


def _put_back(redis, content):
    """Make the Redis db hold exactly ``content`` ({key: (DUMP, ms to live)})."""
    pipe = redis.pipeline(transaction=True)
    pipe.flushdb()
    for key, (dumped, ttl) in content.items():
        if dumped is not None:
            pipe.restore(key, ttl, dumped, replace=True)
    pipe.execute()


_APART = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_BINDS", "SQLALCHEMY_ENGINE_OPTIONS")


def platform_app(app):
    """The app as a worker or a cross-bureau command runs it in production: connected as the
    platform role (PLATFORM_DATABASE_URI), the only role for which ``all_tenants()`` reaches past
    one bureau on PostgreSQL. Made once per run, with the test app's current configuration (the
    database URL apart); on SQLite (one URL) the app itself."""
    url = app.config.get("PLATFORM_DATABASE_URI")
    if not url or url == app.config["SQLALCHEMY_DATABASE_URI"]:
        return app
    platform = app.extensions.get("test_platform_app")
    if platform is None:
        from portal import create_app
        platform = create_app({**{k: v for k, v in app.config.items() if k not in _APART},
                               "SQLALCHEMY_DATABASE_URI": url})
        app.extensions["test_platform_app"] = platform
    platform.config.update({k: v for k, v in app.config.items() if k not in _APART})
    platform.extensions["test_snapshots"] = app.extensions.get("test_snapshots")
    return platform


@contextmanager
def as_platform(app):
    """``with as_platform(app):`` an application context of the platform app in ``all_tenants()``:
    the tests' own cross-bureau reads and writes (checking what a request or a job left in several
    bureaus, preparing rows of several bureaus at once)."""
    from portal.tenancy.scope import all_tenants
    with platform_app(app).app_context(), all_tenants():
        yield


def seed_demo(app, history=False):
    """The demo world (``portal.demo.seed``; only its people without ``history``), committed:
    built once per run on an empty database, then restored (tests/snapshots.py). Seeded as
    ``flask seed-demo`` is run, as the platform role."""
    def build(app):
        from portal.demo import seed
        from portal.extensions import db
        with platform_app(app).app_context():
            seed(PASSWORD, history=history)
            db.session.commit()
    built_once(app, "history" if history else "demo", build, on="empty")


@contextmanager
def owner_connection(app):
    """A connection as the owner of the tables (bypasses row-level security), for tampering."""
    engine = create_engine(app.config["OWNER_DATABASE_URI"], poolclass=NullPool)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def csrf_token_from(html):
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def form_post(client, url, data, follow_redirects=False, token_url=None):
    """GET the form page for its CSRF token, then POST ``data`` with it."""
    page = client.get(token_url or url)
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=follow_redirects)


class World:
    """Handles on the demo world for tests."""

    def __init__(self, app):
        self.app = app

    def tenant_id(self, code):
        from sqlalchemy import select

        from portal.extensions import db
        from portal.tenancy.models import Tenant
        from portal.tenancy.scope import all_tenants
        with self.app.app_context(), all_tenants():
            return db.session.execute(select(Tenant.id).where(Tenant.code == code)).scalar_one()

    def user_id(self, username):
        from sqlalchemy import select

        from portal.accounts.models import User
        from portal.extensions import db
        with self.app.app_context():
            return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def passed_acceptance(contract, status="passed", period_start=None, period_end=None, attempt=1):
    """A decided acceptance of ``contract`` covering its whole period (in the caller's app context
    and tenant scope, flushed): the final payment of the contract may then be approved
    (acceptance/results.py final_payment_refusal), or, with status "failed", it is refused."""
    from datetime import datetime, timezone

    from portal.acceptance.models import Acceptance
    from portal.core.timeutil import local_today
    from portal.extensions import db
    row = Acceptance(contract_id=contract.id, period_start=period_start or contract.starts_on, period_end=period_end or contract.ends_on,
                     status=status, attempt=attempt, seed="fixture", sample_size=0, members=[], conclusion="",
                     decided_at=datetime.now(timezone.utc), decided_on=local_today())
    db.session.add(row)
    db.session.flush()
    return row


def zh(app, message, **values):
    """``message`` (a msgid, with its values) as the Chinese interface says it."""
    from flask_babel import force_locale, gettext
    with app.test_request_context(), force_locale("zh_CN"):
        return gettext(message, **values)


def zh_html(app, message, **values):
    """``message`` in Chinese as it stands in a page's HTML (escaped as the templates escape it)."""
    from markupsafe import escape
    return str(escape(zh(app, message, **values)))
