"""The audit trail is written at commit (portal/audit/recorder.py): entries are collected in the
session while the work runs, savepoint-aware, and appended once per chain when the outermost
transaction commits, so a bureau's writers never wait on each other while they work and the
statements the audit adds to a commit do not grow with the number of rows it records."""
import os
import threading
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from portal.audit.chain import verify_chain
from portal.audit.models import AuditEntry
from portal.audit.recorder import append_pending, record_event
from portal.extensions import db, sqlite_writing
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import all_tenants, tenant_scope
from tests import support

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
postgresql_only = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's locks and sessions")


def _day(n):
    return date(2027, 1, 1) + timedelta(days=n)


def _written(session, chain):
    """Audit rows of ``chain`` in the table now, read in the session's own transaction with plain
    SQL (an ORM select of AuditEntry would append the collected entries first)."""
    return session.execute(text("SELECT count(*) FROM audit_entry WHERE chain = :c"), {"c": chain}).scalar_one()


def _chain(app, tenant_id):
    """(action, object_type, object_id) of the chain's entries in order, and its verification."""
    with app.app_context(), tenant_scope(tenant_id):
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.chain == tenant_id)
                                     .order_by(AuditEntry.seq)).all()
        rows = [(e.action, e.object_type, e.object_id) for e in entries]
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        return rows, verify_chain(db.session, tenant_id)


def _overrides_in(rows):
    return sorted(int(object_id) for action, kind, object_id in rows if kind == "CalendarOverride")


@contextmanager
def _statements(engine):
    """The SQL statements run on ``engine`` inside the block, in order."""
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


# --- written at commit, with the transaction and its savepoints ---------------------------------

def test_entries_are_written_at_commit_not_at_flush(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        before = _written(db.session, gx)
        with _statements(db.engine) as during_work:
            row = CalendarOverride(day=_day(0), is_working=True, note="at commit")
            db.session.add(row)
            db.session.flush()
            row.note = "changed"
            db.session.flush()
        assert not [s for s in during_work if "audit_entry" in s or "advisory" in s], during_work
        assert _written(db.session, gx) == before
        db.session.commit()
        row_id = row.id
        assert _written(db.session, gx) == before + 2
    rows, verification = _chain(app, gx)
    assert rows[-2:] == [("insert", "CalendarOverride", str(row_id)), ("update", "CalendarOverride", str(row_id))]
    assert verification.ok


def test_a_rolled_back_transaction_leaves_nothing_and_the_next_commit_continues_the_chain(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        db.session.add(CalendarOverride(day=_day(0), is_working=True))
        db.session.flush()
        record_event(db.session, "probe", tenant_id=gx)
        db.session.rollback()
        db.session.add(CalendarOverride(day=_day(1), is_working=True))
        db.session.commit()
        kept = db.session.scalars(select(CalendarOverride.id)).all()
    rows, verification = _chain(app, gx)
    assert _overrides_in(rows) == kept and ("probe", "", "") not in rows
    assert verification.ok


def test_savepoints_rolled_back_drop_their_entries_and_released_ones_keep_them(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        outside = CalendarOverride(day=_day(0), is_working=True)
        db.session.add(outside)
        db.session.flush()
        with db.session.begin_nested():  # released: kept
            released = CalendarOverride(day=_day(1), is_working=True)
            db.session.add(released)
        try:
            with db.session.begin_nested():  # rolled back, with a released savepoint inside it
                db.session.add(CalendarOverride(day=_day(2), is_working=True))
                with db.session.begin_nested():
                    db.session.add(CalendarOverride(day=_day(3), is_working=True))
                    record_event(db.session, "inner_event", tenant_id=gx)
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        record_event(db.session, "outer_event", tenant_id=gx)
        db.session.commit()
        kept = sorted([outside.id, released.id])
        assert db.session.scalars(select(CalendarOverride.id).order_by(CalendarOverride.id)).all() == kept
    rows, verification = _chain(app, gx)
    assert _overrides_in(rows) == kept
    assert ("outer_event", "", "") in rows and ("inner_event", "", "") not in rows
    assert verification.ok


def test_reading_the_trail_in_the_transaction_sees_its_entries_and_a_savepoint_rollback_keeps_the_older_ones(app, demo):
    """An ORM select of AuditEntry appends the collected entries first. Appended inside a savepoint
    that then rolls back, the entries collected before it are collected again, not lost."""
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        before = _written(db.session, gx)
        kept = CalendarOverride(day=_day(0), is_working=True)
        db.session.add(kept)
        db.session.flush()
        try:
            with db.session.begin_nested():
                db.session.add(CalendarOverride(day=_day(1), is_working=True))
                db.session.flush()
                count = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.chain == gx))
                assert count == before + 2  # both, appended now
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        assert _written(db.session, gx) == before  # the savepoint took the rows it wrote …
        db.session.commit()  # … and the commit appends the entry collected outside it again
        assert _written(db.session, gx) == before + 1
        kept_id = kept.id
    rows, verification = _chain(app, gx)
    assert _overrides_in(rows) == [kept_id] and verification.ok


def test_append_pending_writes_now_and_the_commit_adds_only_what_came_after(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        before = _written(db.session, gx)
        db.session.add(CalendarOverride(day=_day(0), is_working=True))
        db.session.flush()
        append_pending(db.session)
        assert _written(db.session, gx) == before + 1
        db.session.add(CalendarOverride(day=_day(1), is_working=True))
        db.session.commit()
        assert _written(db.session, gx) == before + 2
    assert _chain(app, gx)[1].ok


def test_a_change_flushed_at_commit_after_the_entries_were_appended_is_recorded(app, demo):
    """Another before_commit hook (run after the audit's) adds a row: SQLAlchemy flushes it after
    the entries were appended, and its entry is appended at once."""
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        session = db.session()
        late = CalendarOverride(day=_day(1), is_working=True, note="late")

        def add_late(session_):
            if late not in session_:
                session_.add(late)
        event.listen(session, "before_commit", add_late)
        try:
            db.session.add(CalendarOverride(day=_day(0), is_working=True))
            db.session.commit()
        finally:
            event.remove(session, "before_commit", add_late)
        ids = db.session.scalars(select(CalendarOverride.id).order_by(CalendarOverride.id)).all()
        assert late.id in ids and len(ids) == 2
    rows, verification = _chain(app, gx)
    assert _overrides_in(rows) == ids and verification.ok


def test_committing_the_outer_transaction_object_with_a_savepoint_open_loses_no_entry(app, demo, caplog):
    """``transaction.commit()`` of the outermost transaction while a savepoint is still open: the
    entries follow the commit in a transaction of their own (and say so in the log)."""
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        db.session.add(CalendarOverride(day=_day(0), is_working=True))
        db.session.flush()
        outer = db.session().get_transaction()
        db.session.begin_nested()
        db.session.add(CalendarOverride(day=_day(1), is_working=True))
        db.session.flush()
        with caplog.at_level("WARNING", logger="portal.audit"):
            outer.commit()
        ids = db.session.scalars(select(CalendarOverride.id).order_by(CalendarOverride.id)).all()
    assert "2 audit entries appended after" in caplog.text
    rows, verification = _chain(app, gx)
    assert _overrides_in(rows) == ids and len(ids) == 2 and verification.ok


def test_an_event_recorded_outside_a_transaction_is_dropped_by_a_rollback(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        db.session.commit()
        record_event(db.session, "never_kept", tenant_id=gx)
        db.session.rollback()
        record_event(db.session, "kept", tenant_id=gx)
        db.session.commit()
    rows, _ = _chain(app, gx)
    assert ("kept", "", "") in rows and ("never_kept", "", "") not in rows


# --- the cost of a commit ----------------------------------------------------------------------

def _commit_statements(app, tenant_id, rows, first_day):
    """Statements run by the commit of ``rows`` audited inserts (already flushed) and one platform event."""
    with app.app_context(), tenant_scope(tenant_id):
        db.session.add_all([CalendarOverride(day=_day(first_day + n), is_working=True) for n in range(rows)])
        db.session.flush()
        with all_tenants():
            record_event(db.session, "probe")  # the platform chain: a second chain in the same commit
        with _statements(db.engine) as seen:
            db.session.commit()
    return seen


def test_the_statements_the_audit_adds_to_a_commit_do_not_grow_with_the_rows(app, demo):
    gx = demo.tenant_id("ganxian")
    one = _commit_statements(app, gx, 1, 0)
    fifty = _commit_statements(app, gx, 50, 10)
    assert len(one) == len(fifty), (one, fifty)
    # PostgreSQL: the bureau's chain, whose tenant the connection already shows, takes lock, head
    # and insert; the platform chain lock and setting, head, insert, restore. SQLite: head, insert.
    assert len(fifty) == (3 + 4 if BACKEND == "postgresql" else 2 + 2), fifty
    if BACKEND == "postgresql":
        assert sum("set_config" in s for s in fifty) == 2  # the platform chain's setting and restore
    assert sum("INSERT INTO audit_entry" in s for s in fifty) == 2
    rows, verification = _chain(app, gx)
    assert len(_overrides_in(rows)) == 51 and verification.ok
    with support.as_platform(app):
        assert verify_chain(db.session, None).ok


@postgresql_only
def test_appending_another_chain_gives_the_transaction_its_tenant_setting_back(app, demo):
    """A platform event appended in a bureau's transaction switches row-level security to the
    platform chain for its statements only: the bureau's rows are seen again after."""
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        db.session.add(CalendarOverride(day=_day(0), is_working=True))
        db.session.flush()
        append_pending(db.session)  # the bureau's chain
        with all_tenants():
            record_event(db.session, "probe")
        append_pending(db.session)  # the platform chain only
        assert db.session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() == str(gx)
        assert db.session.execute(text("SELECT count(*) FROM calendar_override")).scalar_one() == 1
        db.session.commit()
    assert _chain(app, gx)[1].ok


# --- one bureau's writers do not wait on each other --------------------------------------------

@postgresql_only
def test_a_writer_of_the_same_bureau_does_not_wait_for_an_open_transaction(app, demo):
    """A holds a flushed, audited change open; B of the same bureau flushes and commits its own
    (a lock wait fails it after 2 s instead of hanging); A commits after; the chain has both."""
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        first = CalendarOverride(day=_day(0), is_working=True, note="A")
        db.session.add(first)
        db.session.flush()
        with Session(db.engine) as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            second = CalendarOverride(day=_day(1), is_working=True, note="B")
            other.add(second)
            other.flush()
            other.commit()
            second_id = second.id
        db.session.commit()
        first_id = first.id
    rows, verification = _chain(app, gx)
    assert [int(i) for _a, kind, i in rows if kind == "CalendarOverride"] == [second_id, first_id]
    assert verification.ok


def test_many_threads_committing_for_one_bureau_leave_a_whole_chain(app, demo):
    gx = demo.tenant_id("ganxian")
    threads_, commits, rows_per_commit = 6, 5, 3
    failures = []
    start = threading.Barrier(threads_)

    def work(worker):
        try:
            with app.app_context(), tenant_scope(gx), sqlite_writing():
                start.wait(timeout=30)
                for commit in range(commits):
                    first = (worker * commits + commit) * rows_per_commit
                    db.session.add_all([CalendarOverride(day=_day(first + n), is_working=True)
                                        for n in range(rows_per_commit)])
                    record_event(db.session, "probe", tenant_id=gx)
                    db.session.commit()
        except Exception as exc:  # reported below, with the worker's number
            failures.append((worker, repr(exc)))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads_)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not failures, failures
    rows, verification = _chain(app, gx)
    assert len(_overrides_in(rows)) == threads_ * commits * rows_per_commit
    assert sum(action == "probe" for action, _k, _i in rows) == threads_ * commits
    assert verification.ok, verification
