"""Issue 21, item 5: the web tier cannot switch row-level security off for itself, nor name
another bureau (its proof, an HMAC under the RLS key, is checked by the database).

The policies honour ``app.all_tenants = 'on'`` only for the platform role (``portal_platform``:
workers, the scheduler, cross-bureau commands). The application role (``portal_app``) that an
injected query would run as sees, with the switch on, what it saw without it. What the web tier
reads across bureaus (a field worker's bureaus) goes through a SECURITY DEFINER function that
answers that one question."""
import os
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from portal.contractors.models import Contractor, ContractorRegistration
from portal.core import pgsecurity
from portal.extensions import db
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope
from tests import support

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="row-level security is PostgreSQL's")


def _scope(app, tenant, everyone=False):
    """The parameters of pgsecurity.SHOW_SCOPE, with the proof the app's RLS key gives."""
    return pgsecurity.scope_parameters(tenant, everyone, secret_key=app.config["SECRET_KEY"])


def _overrides(app, demo):
    """One calendar override in each bureau: {tenant id: row id}."""
    ids = {}
    for code, day in (("ganxian", date(2026, 10, 8)), ("zhanggong", date(2026, 10, 9))):
        tenant = demo.tenant_id(code)
        with app.app_context(), tenant_scope(tenant):
            row = CalendarOverride(day=day, is_working=True, note=code)
            db.session.add(row)
            db.session.commit()
            ids[tenant] = row.id
    return ids


def _connect(url):
    return create_engine(url, poolclass=NullPool)


@postgres_only
def test_the_app_role_flipping_the_switch_sees_and_writes_nothing_more(app, demo):
    ids = _overrides(app, demo)
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    engine = _connect(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == "portal_app"
            # An injected set_config with no tenant: still nothing.
            conn.execute(pgsecurity.SHOW_SCOPE, _scope(app, None, everyone=True))
            assert conn.execute(text("SELECT count(*) FROM calendar_override")).scalar_one() == 0
            conn.rollback()
            # Acting for ganxian with the switch on: ganxian's row only.
            conn.execute(pgsecurity.SHOW_SCOPE, _scope(app, gx, everyone=True))
            assert conn.execute(text("SELECT id FROM calendar_override")).scalars().all() == [ids[gx]]
            assert conn.execute(text("UPDATE calendar_override SET note = 'hijacked' WHERE tenant_id = :z"),
                                {"z": zg}).rowcount == 0
            assert conn.execute(text("DELETE FROM calendar_override WHERE tenant_id = :z"), {"z": zg}).rowcount == 0
            with pytest.raises(Exception, match="row-level security"):
                conn.execute(text("INSERT INTO calendar_override (tenant_id, day, is_working, note) "
                                  "VALUES (:z, '2026-12-01', true, 'x')"), {"z": zg})
            conn.rollback()
    finally:
        engine.dispose()
    with support.owner_connection(app) as conn:
        rows = dict(conn.execute(text("SELECT tenant_id, note FROM calendar_override")).all())
    assert rows == {gx: "ganxian", zg: "zhanggong"}


@postgres_only
def test_the_platform_role_sees_every_bureau_only_with_the_switch_on(app, demo):
    ids = _overrides(app, demo)
    gx = demo.tenant_id("ganxian")
    engine = _connect(app.config["PLATFORM_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == "portal_platform"
            me = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
            assert not me.rolsuper and not me.rolbypassrls
            # Without the switch the platform role is walled in like the app role.
            assert conn.execute(text("SELECT count(*) FROM calendar_override")).scalar_one() == 0
            conn.execute(pgsecurity.SHOW_SCOPE, _scope(app, gx))
            assert conn.execute(text("SELECT id FROM calendar_override")).scalars().all() == [ids[gx]]
            conn.rollback()
            conn.execute(pgsecurity.SHOW_SCOPE, _scope(app, None, everyone=True))
            assert sorted(conn.execute(text("SELECT id FROM calendar_override")).scalars()) == sorted(ids.values())
            conn.rollback()
            # The append-only audit trail stays append-only for it too.
            with pytest.raises(Exception, match="permission denied"):
                conn.execute(text("DELETE FROM audit_entry"))
            conn.rollback()
    finally:
        engine.dispose()
    with support.as_platform(app):  # the ORM in all_tenants() as the platform role
        assert sorted(db.session.scalars(select(CalendarOverride.id))) == sorted(ids.values())


@postgres_only
def test_every_tenant_policy_names_the_platform_role(app):
    with support.owner_connection(app) as conn:
        policies = conn.execute(text(
            "SELECT tablename, qual FROM pg_policies WHERE schemaname = 'public' AND policyname = :p"),
            {"p": pgsecurity.POLICY}).all()
    assert len(policies) >= len(pgsecurity.tenant_tables(db.metadata)) > 10
    for table, qual in policies:
        assert "all_tenants" in qual and "'portal_platform'" in qual and "CURRENT_USER" in qual.upper(), (table, qual)


def _registrations(app, demo):
    """Contractor A approved in ganxian (the demo's) and in zhanggong, pending nowhere else;
    contractor C (zhanggong's) pending in ganxian. Returns the contractors' ids by key."""
    with support.as_platform(app):
        found = {c.name: c.id for c in db.session.scalars(select(Contractor))}
        a = found["赣州市阳光社会工作服务中心"]
        c = found["赣州市章贡区仁爱社会工作服务社"]
        db.session.add(ContractorRegistration(tenant_id=demo.tenant_id("zhanggong"), contractor_id=a, status="approved"))
        db.session.add(ContractorRegistration(tenant_id=demo.tenant_id("ganxian"), contractor_id=c, status="pending"))
        db.session.commit()
    return {"A": a, "C": c}


@postgres_only
def test_the_definer_function_answers_only_one_contractors_approved_bureaus(app, demo):
    ids = _registrations(app, demo)
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    with app.app_context():  # the app role, no tenant: the tables show it nothing
        assert db.session.scalar(select(func.count()).select_from(ContractorRegistration)) == 0
        assert db.session.execute(text("SELECT count(*) FROM contractor_registration")).scalar_one() == 0
        assert sorted(db.session.execute(select(func.contractor_tenants(ids["A"]))).scalars()) == sorted([gx, zg])
        assert db.session.execute(select(func.contractor_tenants(ids["C"]))).scalars().all() == [zg]  # not the pending one
        assert db.session.execute(select(func.contractor_tenants(999_999))).scalars().all() == []
    with support.owner_connection(app) as conn:
        function = conn.execute(text(
            "SELECT p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner) AS owner, "
            "has_function_privilege('public', p.oid, 'EXECUTE') AS public_may, "
            "has_function_privilege('portal_app', p.oid, 'EXECUTE') AS app_may "
            "FROM pg_proc p WHERE p.proname = 'contractor_tenants'")).one()
        table_owner = conn.execute(text(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'contractor_registration'")).scalar_one()
    assert function.prosecdef and function.proconfig == ["search_path=pg_catalog, public, pg_temp"]
    assert function.owner == table_owner and function.app_may


@postgres_only
def test_a_temporary_table_does_not_change_what_the_definer_functions_answer(app, demo):
    ids = _registrations(app, demo)
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    fake = pgsecurity.rls_pads("an attacker's own key")
    engine = _connect(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TEMP TABLE contractor_registration (tenant_id integer, contractor_id integer, "
                              "status text)"))
            conn.execute(text("INSERT INTO contractor_registration VALUES (:t, :c, 'approved')"),
                         {"t": 424242, "c": ids["C"]})
            assert sorted(conn.execute(select(func.contractor_tenants(ids["C"]))).scalars()) == [zg]
            assert sorted(conn.execute(select(func.contractor_tenants(ids["A"]))).scalars()) == sorted([gx, zg])
            # Nor does a temporary key table make the attacker's own proofs valid.
            conn.execute(text("CREATE TEMP TABLE portal_rls_key (id integer, inner_pad bytea, outer_pad bytea)"))
            conn.execute(text("INSERT INTO portal_rls_key VALUES (1, :inner, :outer)"), fake)
            conn.execute(pgsecurity.SHOW_SCOPE, pgsecurity.scope_parameters(zg, secret_key="an attacker's own key"))
            assert conn.execute(text("SELECT portal_tenant()")).scalar_one() == -1
            assert conn.execute(text("SELECT count(*) FROM contractor_registration")).scalar_one() == 1  # its own temp row
            assert conn.execute(text("SELECT count(*) FROM public.contractor_registration")).scalar_one() == 0
            conn.rollback()
    finally:
        engine.dispose()


@postgres_only
def test_a_tenant_without_its_proof_sees_and_writes_nothing(app, demo):
    """Issue 21 review: an injected set_config('app.tenant_id', <another bureau>) must not open
    that bureau: the database checks the proof (an HMAC of the tenant under the RLS key)."""
    ids = _overrides(app, demo)
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    own = _scope(app, gx)
    forged = {
        "no proof": {**_scope(app, zg), "p": ""},
        "ganxian's proof": {**_scope(app, zg), "p": own["p"]},
        "a wrong proof": {**_scope(app, zg), "p": "0" * 64},
        "another key's proof": pgsecurity.scope_parameters(zg, secret_key="not the portal's key"),
    }
    engine = _connect(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == "portal_app"
            for what, parameters in forged.items():
                conn.execute(pgsecurity.SHOW_SCOPE, parameters)
                assert conn.execute(text("SELECT portal_tenant()")).scalar_one() == -1, what
                assert conn.execute(text("SELECT count(*) FROM calendar_override")).scalar_one() == 0, what
                assert conn.execute(text("UPDATE calendar_override SET note = 'x'")).rowcount == 0, what
                with pytest.raises(Exception, match="row-level security"):
                    conn.execute(text("INSERT INTO calendar_override (tenant_id, day, is_working, note) "
                                      "VALUES (:z, '2026-12-01', true, 'x')"), {"z": zg})
                conn.rollback()
            # The key itself is the owner's: the app role cannot read it.
            with pytest.raises(Exception, match="permission denied"):
                conn.execute(text("SELECT * FROM portal_rls_key"))
            conn.rollback()
            # With its own proof the bureau sees its own row (and the app works: the other tests).
            conn.execute(pgsecurity.SHOW_SCOPE, own)
            assert conn.execute(text("SELECT portal_tenant()")).scalar_one() == gx
            assert conn.execute(text("SELECT id FROM calendar_override")).scalars().all() == [ids[gx]]
            conn.rollback()
    finally:
        engine.dispose()
    with support.owner_connection(app) as conn:
        rows = dict(conn.execute(text("SELECT tenant_id, note FROM calendar_override")).all())
        policies = conn.execute(text("SELECT qual FROM pg_policies WHERE policyname = :p"),
                                {"p": pgsecurity.POLICY}).scalars().all()
    assert rows == {gx: "ganxian", zg: "zhanggong"}
    assert policies and all("portal_tenant()" in qual for qual in policies)


def test_a_field_worker_works_in_each_bureau_of_an_approved_registration_only(app, demo, client, api_token):
    _registrations(app, demo)
    for tenant in ("ganxian", "zhanggong"):
        headers = api_token("a-worker1", tenant=tenant)
        me = client.get("/api/v1/me", headers=headers)
        assert me.status_code == 200 and me.get_json()["tenant"] == tenant, me.get_json()
    # C is approved in zhanggong only: its pending ganxian registration opens nothing.
    refused = client.post("/api/v1/tokens", json={"username": "zg-worker1", "password": support.PASSWORD,
                                                  "tenant": "ganxian"})
    assert refused.status_code in (400, 403, 422), refused.get_json()
    assert client.post("/api/v1/tokens", json={"username": "zg-worker1", "password": support.PASSWORD,
                                               "tenant": "zhanggong"}).status_code == 201


def test_a_field_worker_signs_in_to_the_web_app(app, demo, login):
    browser = login("a-worker1", tenant="ganxian")
    assert browser.get("/field/").status_code == 200


def test_role_names_are_plain_identifiers(monkeypatch):
    monkeypatch.setenv("PORTAL_PLATFORM_ROLE", "x' OR true --")
    with pytest.raises(ValueError):
        pgsecurity.platform_role()
    monkeypatch.setenv("PORTAL_PLATFORM_ROLE", "city_platform")
    assert pgsecurity.platform_role() == "city_platform"
    assert "current_user = 'city_platform'" in pgsecurity.all_tenants_expr(pgsecurity.platform_role())
    monkeypatch.setenv("PORTAL_APP_ROLE", 'portal"app')
    with pytest.raises(ValueError):
        pgsecurity.app_role()
