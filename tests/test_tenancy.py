"""Tenant isolation: every model declares its tenancy, the ORM scopes every statement to the
current tenant, PostgreSQL's row-level security is the second wall, and one bureau's people can
neither see nor change another bureau's objects by guessing ids."""
import os
import uuid
from datetime import date

import pytest
from sqlalchemy import delete, inspect, select, text, update

from portal.extensions import db
from portal.jobs.models import JobRun
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import TenancyError, TenantOwned, all_tenants, tenant_scope
from portal.core.pgsecurity import show_scope
from tests import support

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="row-level security is PostgreSQL's")


def _add_overrides(app, tenant_id, days, note):
    """Tenant-owned rows created the normal way, through a tenant scope; returns their ids."""
    with app.app_context(), tenant_scope(tenant_id):
        rows = [CalendarOverride(day=d, is_working=True, note=note) for d in days]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def _owner_rows(app):
    """Every calendar override as the table owner sees it: {id: (tenant_id, note)}."""
    with support.owner_connection(app) as conn:
        return {r.id: (r.tenant_id, r.note)
                for r in conn.execute(text("SELECT id, tenant_id, note FROM calendar_override"))}


# --- (1) every model declares its tenancy; tenant tables are indexed and walled ----------------

def _mapped_classes():
    return [m.class_ for m in db.Model.registry.mappers]


def test_every_model_declares_tenancy_and_tenant_tables_have_an_indexed_tenant_id(app):
    classes = _mapped_classes()
    assert classes, "no mapped classes found"
    with app.app_context():
        inspector = inspect(db.engine)
        existing = set(inspector.get_table_names())
        for cls in classes:
            tenancy = getattr(cls, "__tenancy__", None)
            assert tenancy in ("tenant", "global"), f"{cls.__name__} must declare __tenancy__ 'tenant' or 'global'"
            # The ORM hook scopes TenantOwned; row-level security covers __tenancy__ == "tenant":
            # a model must be inside both walls or outside both.
            assert issubclass(cls, TenantOwned) == (tenancy == "tenant"), (
                f"{cls.__name__}: __tenancy__ = {tenancy!r} but {'' if issubclass(cls, TenantOwned) else 'not '}"
                f"a TenantOwned model")
            if tenancy != "tenant":
                continue
            table = cls.__table__
            assert "tenant_id" in table.c, f"{table.name} has no tenant_id column"
            assert table.name in existing, f"{table.name} is not in the migrated database"
            leading = [ix["column_names"][0] for ix in inspector.get_indexes(table.name)]
            leading += [uq["column_names"][0] for uq in inspector.get_unique_constraints(table.name)]
            assert "tenant_id" in leading, f"{table.name}.tenant_id has no index in the database"
        # A table without a model cannot declare its tenancy: it may not hold tenant rows.
        mapped_tables = {cls.__table__.name for cls in classes}
        for name, table in db.metadata.tables.items():
            if name not in mapped_tables:
                assert "tenant_id" not in table.c, f"unmapped table {name} holds tenant rows"


@postgres_only
def test_tenant_tables_have_row_level_security_and_the_app_role_owns_nothing(app):
    tenant_tables = sorted({c.__table__.name for c in _mapped_classes() if c.__tenancy__ == "tenant"})
    assert {"calendar_override", "job_run", "audit_entry"} <= set(tenant_tables)
    with app.app_context(), db.engine.connect() as conn:
        me = conn.execute(text(
            "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert me.name == "portal_app"
        assert not me.rolsuper and not me.rolbypassrls, "the app role must not bypass row-level security"
        for table in tenant_tables:
            rls = conn.execute(text(
                "SELECT c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = :t"), {"t": table}).scalar_one()
            assert rls, f"row-level security is not enabled on {table}"
            policies = conn.execute(text(
                "SELECT count(*) FROM pg_policies WHERE schemaname = 'public' AND tablename = :t"),
                {"t": table}).scalar_one()
            assert policies >= 1, f"{table} has no row-level security policy"
            owner = conn.execute(text(
                "SELECT tableowner, pg_has_role(current_user, tableowner, 'USAGE') AS member "
                "FROM pg_tables WHERE schemaname = 'public' AND tablename = :t"), {"t": table}).one()
            assert owner.tableowner != me.name and not owner.member, (
                f"the app role owns {table} (or is a member of its owner): row-level security would not apply")


# --- (2) raw SQL through the app's connection sees nothing without a tenant ------------------

@postgres_only
def test_raw_sql_without_a_tenant_sees_no_rows_and_with_one_sees_only_its_own(app, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    gx_ids = _add_overrides(app, gx, [date(2026, 10, 8), date(2026, 10, 9)], "gx")
    _add_overrides(app, zg, [date(2026, 10, 8)], "zg")
    assert len(_owner_rows(app)) == 3  # the rows are there, for both tenants

    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM calendar_override")).all() == []
        assert conn.execute(text("SELECT count(*) FROM calendar_override")).scalar_one() == 0
        conn.rollback()
        show_scope(conn, gx)
        rows = conn.execute(text("SELECT id, tenant_id FROM calendar_override")).all()
        assert sorted(r.id for r in rows) == sorted(gx_ids)
        assert {r.tenant_id for r in rows} == {gx}
        # Nor can the app write another tenant's row while acting for this one.
        with pytest.raises(Exception, match="row-level security"):
            conn.execute(text("INSERT INTO calendar_override (tenant_id, day, is_working, note) "
                              "VALUES (:t, '2026-12-01', true, 'x')"), {"t": zg})
        conn.rollback()
        # The setting is transaction-local: the next transaction sees nothing again.
        assert conn.execute(text("SELECT count(*) FROM calendar_override")).scalar_one() == 0


# --- (3) ORM bulk UPDATE and DELETE stay inside the tenant ----------------------------------

def test_bulk_update_and_delete_in_one_tenant_cannot_touch_another(app, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    gx_ids = _add_overrides(app, gx, [date(2026, 10, 8), date(2026, 10, 9)], "gx")
    zg_ids = _add_overrides(app, zg, [date(2026, 10, 8), date(2026, 10, 10)], "zg")

    with app.app_context():
        with tenant_scope(gx):
            result = db.session.execute(update(CalendarOverride).values(note="changed by gx"))
            assert result.rowcount == len(gx_ids)
            # Guessed ids of the other bureau: nothing matches.
            result = db.session.execute(update(CalendarOverride).where(CalendarOverride.id.in_(zg_ids))
                                        .values(note="hijacked"))
            assert result.rowcount == 0
            result = db.session.execute(update(CalendarOverride).where(CalendarOverride.id.in_(zg_ids))
                                        .values(note="hijacked").execution_options(synchronize_session=False))
            assert result.rowcount == 0
            result = db.session.execute(delete(CalendarOverride).where(CalendarOverride.id.in_(zg_ids)))
            assert result.rowcount == 0
            db.session.commit()
    rows = _owner_rows(app)
    assert {i: rows[i] for i in zg_ids} == {i: (zg, "zg") for i in zg_ids}
    assert {i: rows[i] for i in gx_ids} == {i: (gx, "changed by gx") for i in gx_ids}

    with app.app_context():
        with tenant_scope(gx):
            result = db.session.execute(delete(CalendarOverride))
            assert result.rowcount == len(gx_ids)
            db.session.commit()
    rows = _owner_rows(app)
    assert sorted(rows) == sorted(zg_ids), "deleting in ganxian's scope removed zhanggong rows"


def test_queries_and_get_by_id_are_scoped(app, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    [gx_id] = _add_overrides(app, gx, [date(2026, 10, 8)], "gx")
    [zg_id] = _add_overrides(app, zg, [date(2026, 10, 8)], "zg")
    with app.app_context():
        with tenant_scope(zg):
            assert db.session.get(CalendarOverride, gx_id) is None
            assert db.session.scalars(select(CalendarOverride.id)).all() == [zg_id]
        db.session.rollback()
        # Outside any scope nothing is visible. all_tenants() lifts the ORM's filter; on PostgreSQL
        # row-level security still shows the app role nothing (the switch is the platform role's).
        assert db.session.scalars(select(CalendarOverride.id)).all() == []
        db.session.rollback()
        with all_tenants():
            seen = sorted(db.session.scalars(select(CalendarOverride.id)).all())
            assert seen == ([] if BACKEND == "postgresql" else sorted([gx_id, zg_id]))
        db.session.rollback()
    with support.as_platform(app):  # the platform role sees both
        assert sorted(db.session.scalars(select(CalendarOverride.id)).all()) == sorted([gx_id, zg_id])


# --- (4) stamping and refusing writes -----------------------------------------------------

def test_insert_in_a_scope_is_stamped_with_the_tenant(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        row = CalendarOverride(day=date(2026, 10, 8), is_working=True)
        db.session.add(row)
        db.session.flush()
        assert row.tenant_id == gx
        db.session.commit()
    assert {t for t, _ in _owner_rows(app).values()} == {gx}


def test_insert_without_a_scope_raises(app, demo):
    zg = demo.tenant_id("zhanggong")
    with app.app_context():
        db.session.add(CalendarOverride(day=date(2026, 10, 8), is_working=True))
        with pytest.raises(TenancyError):
            db.session.flush()
        db.session.rollback()
        # Naming the tenant yourself is not a way around it: platform code uses all_tenants().
        db.session.add(CalendarOverride(day=date(2026, 10, 8), is_working=True, tenant_id=zg))
        with pytest.raises(TenancyError):
            db.session.flush()
        db.session.rollback()
        with all_tenants():
            db.session.add(CalendarOverride(day=date(2026, 10, 8), is_working=True))
            with pytest.raises(TenancyError):
                db.session.flush()
            db.session.rollback()
    assert _owner_rows(app) == {}


def test_writing_a_row_of_another_tenant_inside_a_scope_raises(app, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    [zg_id] = _add_overrides(app, zg, [date(2026, 10, 8)], "zg")
    with app.app_context():
        with tenant_scope(gx):
            db.session.add(CalendarOverride(day=date(2026, 10, 9), is_working=True, tenant_id=zg))
            with pytest.raises(TenancyError):
                db.session.flush()
            db.session.rollback()
        # A row of zhanggong that is already in the session (loaded while acting for zhanggong, or
        # by platform code) cannot be changed, moved or deleted while acting for ganxian.
        with tenant_scope(zg):
            row = db.session.get(CalendarOverride, zg_id)
            row.note  # loaded
        with tenant_scope(gx):
            row.note = "changed by ganxian"
            with pytest.raises(TenancyError):
                db.session.flush()
            db.session.rollback()
        with tenant_scope(zg):
            row = db.session.get(CalendarOverride, zg_id)
            row.note
        with tenant_scope(gx):
            db.session.delete(row)
            with pytest.raises(TenancyError):
                db.session.flush()
            db.session.rollback()
        [gx_id] = _add_overrides(app, gx, [date(2026, 10, 10)], "gx")
        with tenant_scope(gx):
            mine = db.session.get(CalendarOverride, gx_id)
            mine.tenant_id = zg  # handing a row to another bureau
            with pytest.raises(TenancyError):
                db.session.flush()
            db.session.rollback()
    rows = _owner_rows(app)
    assert rows == {zg_id: (zg, "zg"), gx_id: (gx, "gx")}


# --- (5) another bureau's objects answer 404, by page and by API ----------------------------

def _zhanggong_admin(app, demo):
    from portal.accounts.services import create_user
    zg = demo.tenant_id("zhanggong")
    with support.as_platform(app):
        create_user(username="zg-admin", display_name="章贡区管理员", role="admin",
                    password=support.PASSWORD, tenant_id=zg)
        db.session.commit()


def _ganxian_failed_job(app, demo):
    gx = demo.tenant_id("ganxian")
    run_id = str(uuid.uuid4())
    with app.app_context(), tenant_scope(gx):
        db.session.add(JobRun(id=run_id, name="accounts.purge_expired_sessions", status="failed",
                              error="GX-SECRET-ERROR", attempts=1, requested_by="gx-admin"))
        db.session.commit()
    return run_id


def _job_state(app, run_id):
    with support.as_platform(app):
        run = db.session.get(JobRun, run_id)
        return run.status, run.attempts, run.error


def _user_state(app, username):
    from portal.accounts.models import User
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return user.active, user.password_hash, user.must_change_password


def test_zhanggong_cannot_see_or_change_ganxian_objects_by_guessed_ids(app, demo, login, client):
    _zhanggong_admin(app, demo)
    gx = demo.tenant_id("ganxian")
    run_id = _ganxian_failed_job(app, demo)
    _add_overrides(app, gx, [date(2026, 10, 8)], "GX-SECRET-NOTE")  # audited in ganxian's chain
    gx_officer = demo.user_id("gx-officer")
    job_before, user_before = _job_state(app, run_id), _user_state(app, "gx-officer")

    zg_admin = login("zg-admin")
    jobs_page = zg_admin.get("/jobs/")
    assert jobs_page.status_code == 200
    token = support.csrf_token_from(jobs_page.get_data(as_text=True))
    missing_job, missing_user = str(uuid.uuid4()), 999999

    # The ganxian job: the same answer as for an id that does not exist, never 403.
    for method in ("get", "post"):
        response = getattr(zg_admin, method)(f"/jobs/{run_id}/retry", data={"csrf_token": token})
        unknown = getattr(zg_admin, method)(f"/jobs/{missing_job}/retry", data={"csrf_token": token})
        assert response.status_code != 403
        assert response.status_code == unknown.status_code
        assert response.status_code == (404 if method == "post" else 405)  # retry is POST only
    for action in ("disable", "enable", "reset"):
        for method in ("get", "post"):
            response = getattr(zg_admin, method)(f"/users/{gx_officer}/{action}", data={"csrf_token": token})
            unknown = getattr(zg_admin, method)(f"/users/{missing_user}/{action}", data={"csrf_token": token})
            assert response.status_code != 403
            assert response.status_code == unknown.status_code
            assert response.status_code == (404 if method == "post" else 405)
    assert _job_state(app, run_id) == job_before
    assert _user_state(app, "gx-officer") == user_before

    # The lists show none of ganxian's rows …
    assert "GX-SECRET-ERROR" not in zg_admin.get("/jobs/").get_data(as_text=True)
    assert "GX-SECRET-ERROR" not in zg_admin.get("/jobs/?status=failed").get_data(as_text=True)
    audit = zg_admin.get("/audit/")
    assert audit.status_code == 200
    assert "GX-SECRET-NOTE" not in audit.get_data(as_text=True)
    users = zg_admin.get("/users").get_data(as_text=True)
    assert "gx-officer" not in users and "zg-officer" in users
    # … which ganxian's own admin does see (so the checks above can fail).
    gx_admin = login("gx-admin")
    assert "GX-SECRET-ERROR" in gx_admin.get("/jobs/").get_data(as_text=True)
    assert "GX-SECRET-NOTE" in gx_admin.get("/audit/").get_data(as_text=True)

    # By API: a zhanggong user cannot get a token for ganxian.
    response = client.post("/api/v1/tokens", json={"username": "zg-officer", "password": support.PASSWORD,
                                                   "tenant": "ganxian"})
    assert response.status_code in (403, 404, 422) and "token" not in (response.get_json() or {})

    # Ganxian's admin can retry the same job (the 404 above was about the tenant, not the job).
    gx_token = support.csrf_token_from(gx_admin.get("/jobs/").get_data(as_text=True))
    assert gx_admin.post(f"/jobs/{run_id}/retry", data={"csrf_token": gx_token}).status_code == 302
    assert _job_state(app, run_id)[0] == ("queued" if BACKEND == "postgresql" else "finished")


def test_a_request_does_not_leave_its_tenant_behind(app, demo, login):
    """The tenant bound for a request is reset when the request ends."""
    from portal.tenancy.scope import all_tenants_mode, current_tenant_id
    client = login("gx-admin")
    assert client.get("/users").status_code == 200
    assert current_tenant_id() is None and not all_tenants_mode()
