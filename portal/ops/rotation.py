"""Re-encrypting every personal identifier under the first key of PORTAL_DATA_KEY (README
"Rotating PORTAL_DATA_KEY").

The columns are those the models name in ``__encrypted__`` ({encrypted column: its keyed-hash
column or None}), found through the model registry, so this package imports no feature package.
Rows are read in primary-key order, a batch at a time, and each batch is committed: an interrupted
run loses at most one batch's work, and a run started again skips every row already under the
first key whose keyed hash is the first key's. Tenant-owned tables are read bureau by bureau in
``tenant_scope`` (the bureaus listed from the global tenant table), global ones (the staff roster)
once. Every rewrite is an ordinary ORM update, so the audit trail records it (redacted).

Each row is rewritten in its own savepoint: a value no configured key decrypts (InvalidToken) or a
rebuilt hash that collides with another row's (IntegrityError: the same person registered twice,
once under each key) skips that row only, named by table and id (never by its values), and the
run goes on; the command then exits non-zero."""
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.recorder import acting_as
from portal.core import crypto
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import TenantOwned, tenant_scope


def encrypted_models():
    """[(model class, {encrypted column: keyed-hash column or None})] of every mapped model that
    declares ``__encrypted__``, by table name."""
    found = [(mapper.class_, mapper.class_.__dict__["__encrypted__"]) for mapper in db.Model.registry.mappers
             if "__encrypted__" in mapper.class_.__dict__]
    return sorted(found, key=lambda pair: pair[0].__tablename__)


@dataclass
class Progress:
    rewritten: int = 0
    already: int = 0
    batches: int = 0
    stopped: bool = False  # the batch limit ended the run before the end
    per_table: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)  # (table, id, why) of each row left as it was


def _rewrite(row, columns):
    """Bring one row under the first key; True if anything changed. Every new value is computed
    before any is set: InvalidToken leaves the row as it was."""
    new = {}
    for column, hash_column in columns.items():
        token = getattr(row, column)
        if not token:
            continue
        if not crypto.under_first_key(token):
            token = new[column] = crypto.reencrypt(token)
        if hash_column:
            digest = crypto.keyed_hash(crypto.decrypt(token))
            if getattr(row, hash_column) != digest:
                new[hash_column] = digest
    for column, value in new.items():
        setattr(row, column, value)
    return bool(new)


def _rewrite_or_skip(row, columns, key, progress):
    """``_rewrite`` in a savepoint, flushed there; True if rewritten, None if the row was skipped
    (recorded in ``progress``), False if it was already under the first key."""
    row_id = getattr(row, key.key)
    try:
        with db.session.begin_nested():
            changed = _rewrite(row, columns)
            db.session.flush()
    except InvalidToken:
        progress.skipped.append((row.__tablename__, row_id, "no configured key decrypts a value of it"))
        return None
    except IntegrityError:
        progress.skipped.append((row.__tablename__, row_id, "its rebuilt keyed hash is another row's (a duplicate "
                                 "person, one row under each key)"))
        return None
    return changed


def _rotate_table(model, columns, progress, batch_size, max_batches, echo, where=""):
    key = model.__mapper__.primary_key[0]
    last = None
    while True:
        if max_batches is not None and progress.batches >= max_batches:
            progress.stopped = True
            return
        stmt = select(model).order_by(key).limit(batch_size)
        if last is not None:
            stmt = stmt.where(key > last)
        rows = db.session.execute(stmt).scalars().all()
        if not rows:
            return
        last = getattr(rows[-1], key.key)
        outcomes = [_rewrite_or_skip(row, columns, key, progress) for row in rows]
        db.session.commit()
        rewritten, skipped = outcomes.count(True), outcomes.count(None)
        progress.batches += 1
        progress.rewritten += rewritten
        progress.already += outcomes.count(False)
        table = progress.per_table.setdefault(model.__tablename__, [0, 0])
        table[0] += rewritten
        table[1] += outcomes.count(False)
        echo(f"{model.__tablename__}{where}: {rewritten} of {len(rows)} rows rewritten"
             f"{f', {skipped} skipped' if skipped else ''} (up to id {last})")


def rotate_all(batch_size=500, max_batches=None, echo=print):
    """Rewrite every encrypted column and keyed hash under the first key; returns a Progress."""
    progress = Progress()
    models = encrypted_models()
    with acting_as("rotate-data-key"):
        tenants = db.session.execute(select(Tenant.id, Tenant.code).order_by(Tenant.id)).all()
        db.session.rollback()
        for model, columns in models:
            if not issubclass(model, TenantOwned):
                _rotate_table(model, columns, progress, batch_size, max_batches, echo)
            for tenant_id, code in (tenants if issubclass(model, TenantOwned) else ()):
                if progress.stopped:
                    break
                with tenant_scope(tenant_id):
                    _rotate_table(model, columns, progress, batch_size, max_batches, echo, f" [{code}]")
            if progress.stopped:
                break
    return progress
