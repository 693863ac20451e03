"""Work a session collects during its transaction and carries out when the outermost transaction
commits (jobs handed to RQ, audit entries appended to their chains), savepoint-aware.

Each item is kept in ``session.info[key]`` with the innermost savepoint open when it was added.
SQLAlchemy fires ``after_rollback`` for a savepoint as for the whole transaction, and
``before_commit``/``after_commit`` when a savepoint is released as well as at the real commit:

- ``drop_rolled_back`` (from ``after_rollback``) drops the items added inside the savepoint rolled
  back, or all of them when the whole transaction is;
- ``outermost`` tells a commit hook whether this is the real commit (no savepoint open) or only a
  savepoint released, whose items wait for the outermost commit (and go if an enclosing
  savepoint rolls back later);
- ``take`` hands the items over (and forgets them) in the order they were added.
"""


def inside(transaction, outer):
    """Is ``transaction`` ``outer`` or one begun inside it?"""
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def collect(session, key, item):
    """Remember ``item`` until the outermost transaction commits or the savepoint open now rolls back."""
    session.info.setdefault(key, []).append((item, session.get_nested_transaction()))


def has_pending(session, key):
    return bool(session.info.get(key))


def outermost(session):
    """In a commit hook: True at the outermost transaction's commit, False when a savepoint is released."""
    return session.get_nested_transaction() is None


def take(session, key, savepoints=False):
    """The items collected so far, oldest first, each with the savepoint it was added in if
    ``savepoints``; they are forgotten."""
    taken = session.info.pop(key, [])
    return taken if savepoints else [item for item, _savepoint in taken]


def give_back(session, key, taken):
    """Collect again, ahead of the items collected since, items ``take``n with their savepoints."""
    session.info[key] = list(taken) + session.info.get(key, [])


def drop_rolled_back(session, key):
    """From ``after_rollback``: forget the items of the savepoint rolled back, or all of them."""
    savepoint = session.get_nested_transaction()  # the one rolled back, or None for the whole transaction
    if savepoint is None:
        session.info.pop(key, None)
        return
    pending = session.info.get(key)
    if pending:
        pending[:] = [(item, sp) for item, sp in pending if not inside(sp, savepoint)]


def forget(session, key):
    session.info.pop(key, None)
