"""A job run's lease: who runs a JobRun now, held for as long as the runner lives.

On PostgreSQL a run's lease is a session advisory lock (LOCK_SPACE, hash of the run id) taken on
a connection of its own for the whole run. Two deliveries of one run (a hand-over repeated by the
recovery sweep, RQ's retry of an abandoned job) never run it at the same time: the second finds
the lease held and leaves. A runner that dies (a worker killed, a machine lost) loses its
connection, and PostgreSQL releases the lease with it: a run still "running" whose lease is free
is an orphan (jobs/recovery.py hands it over again). SQLite (no Redis, jobs inline, one process)
has no lease: there the sweep leaves "running" runs alone.
"""
from contextlib import contextmanager

from sqlalchemy import text

from portal.extensions import db

LOCK_SPACE = 7302  # beside audit/chain.py's 7301: the first key of the two-key advisory locks
_TAKE = text("SELECT pg_try_advisory_lock(:space, hashtext(:run_id))")
_GIVE = text("SELECT pg_advisory_unlock(:space, hashtext(:run_id))")


def leases_exist(engine):
    """Are runs leased on this database? (PostgreSQL only: on SQLite every run_lease is granted
    and every lease looks free, so a "running" run cannot be told from an orphan.)"""
    return engine.dialect.name == "postgresql"


@contextmanager
def run_lease(run_id):
    """Hold the lease of ``run_id`` inside the block; yields False (and holds nothing) if another
    runner holds it."""
    engine = db.engine
    if not leases_exist(engine):
        yield True
        return
    connection = engine.connect()
    try:
        held = connection.execute(_TAKE, {"space": LOCK_SPACE, "run_id": run_id}).scalar()
        connection.commit()  # a session lock outlives the transaction; the connection idles meanwhile
        yield bool(held)
        if held:
            connection.execute(_GIVE, {"space": LOCK_SPACE, "run_id": run_id})
            connection.commit()
    except BaseException:
        connection.invalidate()  # closed, not pooled: the lease (if held) goes with it
        raise
    finally:
        connection.close()


def lease_is_free(connection, run_id):
    """Does nobody hold the lease of ``run_id``? (Taken and given back at once if free.) Always
    True where leases do not exist (see leases_exist): callers must not infer an orphan from it there."""
    if not leases_exist(connection.engine):
        return True
    if not connection.execute(_TAKE, {"space": LOCK_SPACE, "run_id": run_id}).scalar():
        return False
    connection.execute(_GIVE, {"space": LOCK_SPACE, "run_id": run_id})
    return True
