"""PORTAL_DATA_KEY rotation (README "Rotating PORTAL_DATA_KEY"): several keys, the first encrypts,
every one decrypts, lookups by ID number match under any; `rotate-data-key` rewrites every
encrypted column and keyed hash under the first key in committed batches, and resumes."""
import re
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from portal.config import ConfigError, config_from_env
from portal.extensions import db
from tests import support
from tests.beneficiary_world import number, register


@contextmanager
def data_key(app, value):
    """Run with PORTAL_DATA_KEY set to ``value`` (the app is shared by the whole run)."""
    before = app.config["PORTAL_DATA_KEY"]
    app.config["PORTAL_DATA_KEY"] = value
    try:
        yield
    finally:
        app.config["PORTAL_DATA_KEY"] = before


def _tenants(app):
    from portal.tenancy.models import Tenant
    with app.app_context():
        return dict(db.session.execute(select(Tenant.id, Tenant.code)).all())


def _every_encrypted_row(app):
    """[(table, {column: value})] of every row with an encrypted column, in every bureau."""
    from portal.ops.rotation import encrypted_models
    from portal.tenancy.scope import TenantOwned, tenant_scope
    rows = []
    with app.app_context():
        for model, columns in encrypted_models():
            wanted = [getattr(model, c) for pair in columns.items() for c in pair if c]
            scopes = list(_tenants(app)) if issubclass(model, TenantOwned) else [None]
            for tenant_id in scopes:
                with tenant_scope(tenant_id):
                    ordered = select(*wanted).order_by(model.__mapper__.primary_key[0])
                    for values in db.session.execute(ordered).mappings():
                        rows.append((model.__tablename__, columns, dict(values)))
        db.session.rollback()
    return rows


def _found(app, code, id_number, worker_number):
    """(beneficiary found by the registry's lookups and its import check, staff member found by the
    roster's lookup and its import check)."""
    from portal.accounts.models import User
    from portal.beneficiaries import importing, services
    from portal.contractors import roster
    from portal.contractors.models import Contractor
    from portal.contractors.roster import active_entry
    from portal.core import crypto
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(support.World(app).tenant_id(code)):
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        by_search = db.session.execute(services.search(officer, text=id_number)).scalars().all()
        registered = services.already_registered(id_number)
        _good, refused = importing.check_rows([(2, {"name": "重复", "id_number": id_number, "category": "特困人员",
                                                    "township": "梅林镇", "village": "城郊村"})])
        member = active_entry(crypto.keyed_hashes(worker_number))
        contractor = db.session.execute(select(Contractor).order_by(Contractor.id).limit(1)).scalar_one()
        _good, taken = roster.check_rows(contractor, [(2, {"name": "重复", "id_number": worker_number,
                                                            "joined_on": "2026-01-05"})])
        return registered and len(by_search) == 1, bool(refused), member is not None, bool(taken)


@pytest.fixture
def people(app):
    """The demo world with its history (beneficiaries, roster, surveys, feedback) and two more
    registered people, all under the run's key A: [(a beneficiary's ID number, a worker's)]."""
    from portal.contractors.models import StaffMember
    from portal.core import crypto
    support.seed_demo(app, history=True)
    ids = [number(901), number(902)]
    for seq, id_number in enumerate(ids):
        register(app, "ganxian", f"轮换测试{seq}", id_number)
    with app.app_context():
        worker = crypto.decrypt(db.session.execute(select(StaffMember.id_number_encrypted).limit(1)).scalar_one())
    return [(id_number, worker) for id_number in ids]


def test_several_keys_are_accepted_and_a_bad_one_among_them_refused():
    a, b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert config_from_env({"PORTAL_DATA_KEY": f"{b}, {a}"})["PORTAL_DATA_KEY"] == f"{b}, {a}"
    with pytest.raises(ConfigError, match="PORTAL_DATA_KEY"):
        config_from_env({"PORTAL_DATA_KEY": f"{b},not-a-key"})


def test_every_encrypted_column_is_declared_for_the_rotation(app):
    from portal.ops.rotation import encrypted_models
    declared = {(model.__tablename__, column) for model, columns in encrypted_models() for column in columns}
    named = {(table.name, column.name) for table in db.metadata.tables.values() for column in table.columns
             if column.name.endswith("_encrypted")}
    assert named <= declared, named - declared
    assert ("feedback_item", "contact") in declared and ("beneficiary", "id_number_encrypted") in declared


def test_rotation_in_resumable_batches_leaves_everything_under_the_new_key(app, people):
    from portal.core import crypto
    key_a = app.config["PORTAL_DATA_KEY"]
    key_b = Fernet.generate_key().decode()
    before = _every_encrypted_row(app)
    tables = {table for table, _columns, _values in before}
    assert {"beneficiary", "staff_member"} <= tables, tables
    assert all(_found(app, "ganxian", *pair) == (True,) * 4 for pair in people)
    with data_key(app, key_b):  # B alone cannot read what A wrote, nor find it: the test can fail
        assert _found(app, "ganxian", *people[0]) == (False,) * 4

    with data_key(app, f"{key_b},{key_a}"):
        assert all(_found(app, "ganxian", *pair) == (True,) * 4 for pair in people)  # found before the rotation
        runner = app.test_cli_runner()
        first = runner.invoke(args=["rotate-data-key", "--batch-size", "2", "--max-batches", "1"])
        assert first.exit_code == 0, first.output
        assert re.search(r"^2 rows rewritten, ", first.output, re.M) and "run the command again" in first.output
        halfway = _every_encrypted_row(app)
        with app.app_context():
            moved = sum(1 for _t, columns, values in halfway
                        if any(values[c] and crypto.under_first_key(values[c]) for c in columns))
        assert moved == 2
        assert all(_found(app, "ganxian", *pair) == (True,) * 4 for pair in people)  # mixed keys: still found

        second = runner.invoke(args=["rotate-data-key", "--batch-size", "3"])
        assert second.exit_code == 0, second.output
        empty = sum(1 for _t, columns, values in before if not any(values[c] for c in columns))
        assert re.search(rf"^{len(before) - empty - 2} rows rewritten, {empty + 2} already under the first key, 0 skipped",
                         second.output, re.M), second.output
        assert "can now be removed" in second.output
        again = runner.invoke(args=["rotate-data-key"])
        assert re.search(rf"^0 rows rewritten, {len(before)} already", again.output, re.M), again.output

    with data_key(app, key_b):
        after = _every_encrypted_row(app)
        assert len(after) == len(before)
        only_b = Fernet(key_b)
        with app.app_context():
            for (table, columns, old), (_t, _c, new) in zip(before, after):
                for column, hash_column in columns.items():
                    if not old[column]:
                        continue
                    with data_key(app, key_a):
                        plain = crypto.decrypt(old[column])
                    assert only_b.decrypt(new[column].encode()).decode() == plain, (table, column)
                    with pytest.raises(InvalidToken):
                        Fernet(key_a).decrypt(new[column].encode())
                    if hash_column:
                        assert new[hash_column] == crypto.keyed_hash(plain) != old[hash_column]
        assert all(_found(app, "ganxian", *pair) == (True,) * 4 for pair in people)


def test_a_row_that_cannot_be_rewritten_is_skipped_named_and_the_run_goes_on(app, people):
    """A value no key decrypts, and a person registered twice (once under each key, so the rebuilt
    hash collides with the other row's): each row is skipped in its savepoint and named by table
    and id, every other row is rewritten, the command exits 1 and never says the old key can go."""
    from portal.beneficiaries.models import Beneficiary
    from portal.core import crypto
    from portal.tenancy.scope import tenant_scope
    key_a, key_b = app.config["PORTAL_DATA_KEY"], Fernet.generate_key().decode()
    stray = Fernet(Fernet.generate_key()).encrypt(b"110101199001011234").decode()
    with data_key(app, f"{key_b},{key_a}"), app.app_context(), \
            tenant_scope(support.World(app).tenant_id("ganxian")):
        rows = db.session.execute(select(Beneficiary).order_by(Beneficiary.id).limit(3)).scalars().all()
        corrupted, original, duplicate = rows
        corrupted.id_number_encrypted = stray
        duplicate.id_number_encrypted = crypto.encrypt(crypto.decrypt(original.id_number_encrypted))  # under B
        duplicate.id_number_hash = crypto.keyed_hash(crypto.decrypt(original.id_number_encrypted))
        plain = crypto.decrypt(original.id_number_encrypted)
        ids = corrupted.id, original.id
        db.session.commit()

    with data_key(app, f"{key_b},{key_a}"):
        result = app.test_cli_runner().invoke(args=["rotate-data-key", "--batch-size", "3"])
        assert result.exit_code == 1, result.output
        assert f"skipped beneficiary id={ids[0]}: no configured key decrypts" in result.output
        assert f"skipped beneficiary id={ids[1]}: its rebuilt keyed hash is another row's" in result.output
        assert re.search(r"^[1-9]\d* rows rewritten, \d+ already under the first key, 2 skipped", result.output, re.M)
        assert "can now be removed" not in result.output and "keep every key" in result.output
        assert stray not in result.output and plain not in result.output
        with app.app_context():
            left = [(table, columns, values) for table, columns, values in _every_encrypted_row(app)
                    if any(values[c] and not crypto.under_first_key(values[c]) for c in columns)]
        assert len(left) == 2, left  # only the two skipped rows are not under the first key
