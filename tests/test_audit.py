"""The audit trail (docs/DOMAIN.md §10): every change and security event recorded with who, role,
tenant, when, before and after, in an append-only hash chain per tenant that an auditor can
verify end to end and that names the first row that no longer matches."""
import os
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_login import login_user
from sqlalchemy import func, select, text

from portal.accounts.models import User
from portal.audit.chain import GENESIS, append, entry_hash, verify_chain
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope
from portal.core.pgsecurity import show_scope
from tests import support

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")


def _entries(app, tenant_id, **filters):
    """The tenant's chain in order, as plain dicts (read in the tenant's own scope)."""
    with app.app_context(), tenant_scope(tenant_id):
        stmt = select(AuditEntry).where(AuditEntry.chain == tenant_id).order_by(AuditEntry.seq)
        for key, value in filters.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return [{c: getattr(e, c) for c in ("id", "tenant_id", "chain", "seq", "occurred_at", "actor_id",
                                            "actor", "actor_role", "action", "object_type", "object_id",
                                            "before", "after", "address")}
                for e in db.session.scalars(stmt)]


def _verify(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return verify_chain(db.session, tenant_id)


def _overrides(app, tenant_id, days):
    with app.app_context(), tenant_scope(tenant_id):
        rows = [CalendarOverride(day=d, is_working=False, note=f"holiday {d}") for d in days]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


# --- (6) row changes -------------------------------------------------------------------------

def test_insert_update_and_delete_are_recorded_with_actor_tenant_time_before_and_after(app, demo):
    gx = demo.tenant_id("ganxian")
    started = datetime.now(timezone.utc)
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        officer_id = officer.id
        login_user(officer)
        with tenant_scope(gx):
            row = CalendarOverride(day=date(2026, 10, 10), is_working=True, note="调休上班")
            db.session.add(row)
            db.session.flush()
            row_id = row.id
            db.session.commit()
            # Each step in its own transaction, as separate requests or jobs would do it: the
            # object is expired after each commit and changed without being read first.
            row.note = "调休上班（更正）"
            row.is_working = False
            db.session.commit()
            db.session.delete(row)
            db.session.commit()

    entries = _entries(app, gx, object_type="CalendarOverride")
    assert [e["action"] for e in entries] == ["insert", "update", "delete"]
    for e in entries:
        assert e["object_id"] == str(row_id)
        assert (e["actor_id"], e["actor"], e["actor_role"]) == (officer_id, "gx-officer", "officer")
        assert e["tenant_id"] == gx and e["chain"] == gx
        assert e["address"] == "10.1.2.3"
        assert e["occurred_at"].utcoffset() == timedelta(0), "times are recorded in UTC"
        assert started - timedelta(seconds=1) <= e["occurred_at"] <= datetime.now(timezone.utc)
    insert, change, removal = entries
    assert insert["before"] is None
    assert insert["after"] == {"id": row_id, "tenant_id": gx, "day": "2026-10-10", "is_working": True,
                               "note": "调休上班"}
    assert change["before"] == {"note": "调休上班", "is_working": True}
    assert change["after"] == {"note": "调休上班（更正）", "is_working": False}
    assert removal["before"] == {"id": row_id, "tenant_id": gx, "day": "2026-10-10", "is_working": False,
                                 "note": "调休上班（更正）"}
    assert removal["after"] is None
    assert _verify(app, gx).ok


def test_deleting_an_expired_row_records_its_full_before_state(app, demo):
    """Platform work (all tenants) deleting a row it has not read since the last commit."""
    gx = demo.tenant_id("ganxian")
    [row_id] = _overrides(app, gx, [date(2026, 10, 12)])
    with support.as_platform(app):
        row = db.session.get(CalendarOverride, row_id)
        db.session.commit()  # expires the row
        db.session.delete(row)
        db.session.commit()
    [removal] = _entries(app, gx, action="delete")
    assert removal["object_id"] == str(row_id)
    assert removal["before"] == {"id": row_id, "tenant_id": gx, "day": "2026-10-12", "is_working": False,
                                 "note": "holiday 2026-10-12"}


def test_a_change_made_outside_a_request_names_the_job_or_command(app, demo):
    from portal.audit.recorder import acting_as
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx), acting_as("job:tests.nightly"):
        db.session.add(CalendarOverride(day=date(2026, 10, 11), is_working=True))
        db.session.commit()
    [entry] = _entries(app, gx, object_type="CalendarOverride")
    assert entry["actor"] == "job:tests.nightly" and entry["actor_id"] is None


def test_a_rolled_back_change_leaves_no_audit_row(app, demo):
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    before = _entries(app, gx)
    with app.app_context(), tenant_scope(gx):
        row = CalendarOverride(day=date(2026, 10, 2), is_working=True, note="never happened")
        db.session.add(row)
        db.session.flush()  # the audit entry is collected; reading the trail appends it, in the same transaction …
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.chain == gx)) == len(before) + 1
        db.session.rollback()  # … and goes with it
        existing = db.session.scalars(select(CalendarOverride)).one()
        existing.note = "nor this"
        db.session.flush()
        db.session.rollback()
    assert _entries(app, gx) == before
    # The chain goes on without a gap after the rollback.
    _overrides(app, gx, [date(2026, 10, 3)])
    after = _entries(app, gx)
    assert [e["seq"] for e in after] == list(range(1, len(before) + 2))
    assert _verify(app, gx).ok


# --- (7) security events -------------------------------------------------------------------

def test_login_logout_failed_login_and_denied_access_are_in_the_tenants_chain(app, demo, login, client):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    officer_id = demo.user_id("gx-officer")
    zg_before = _entries(app, zg)

    response = support.form_post(client, "/login", {"username": "gx-officer", "password": "wrong-password"})
    assert response.status_code == 200  # the form again, with an error
    signed_in = login("gx-officer")
    assert signed_in.get("/users").status_code == 403
    response = support.form_post(signed_in, "/logout", {}, token_url="/")
    assert response.status_code == 302

    events = [e for e in _entries(app, gx) if e["action"] not in ("insert", "update", "delete")]
    actions = [e["action"] for e in events]
    assert actions == ["login_failed", "login", "access_denied", "logout"], actions
    failed, signin, denied, signout = events
    assert failed["after"] == {"username": "gx-officer"} and failed["actor_role"] == ""
    for e in (signin, denied, signout):
        assert (e["actor_id"], e["actor"], e["actor_role"]) == (officer_id, "gx-officer", "officer")
    assert denied["object_type"] == "endpoint" and denied["object_id"] == "accounts.users"
    for e in events:
        assert e["tenant_id"] == gx and e["occurred_at"].utcoffset() == timedelta(0)
    assert _entries(app, zg) == zg_before, "ganxian's events went into zhanggong's chain"
    assert _verify(app, gx).ok


# --- (8) tampering is detected and the broken row named ------------------------------------

def _cli(app, code):
    return support.platform_app(app).test_cli_runner().invoke(args=["audit-verify", "--tenant", code])


def _verify_page(login):
    auditor = login("gx-auditor")
    token = support.csrf_token_from(auditor.get("/audit/").get_data(as_text=True))
    response = auditor.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = re.search(r'<p class="flash flash-(\w+)"[^>]*id="verify-result">(.*?)</p>', html, re.S)
    assert match, html[:2000]
    return match.group(1), match.group(2), html


def _numbers(text_):
    return {int(n) for n in re.findall(r"\d+", text_)}


def test_tampering_with_a_row_is_detected_and_named_by_verify_the_command_and_the_page(app, demo, login):
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, d) for d in (1, 2, 3, 4)])
    entries = _entries(app, gx)
    assert len(entries) >= 4

    assert _verify(app, gx).ok
    result = _cli(app, "ganxian")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and f"{len(entries)} entries" in result.output
    kind, message, _ = _verify_page(login)
    assert kind == "success"

    victim = entries[2]
    with support.owner_connection(app) as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'someone-else' WHERE id = :i"), {"i": victim["id"]})

    verification = _verify(app, gx)
    assert not verification.ok
    assert (verification.broken_id, verification.broken_seq) == (victim["id"], victim["seq"])
    assert verification.checked == victim["seq"] - 1

    result = _cli(app, "ganxian")
    assert result.exit_code == 1
    assert f"id={victim['id']}" in result.output and f"seq={victim['seq']}" in result.output

    kind, message, html = _verify_page(login)
    assert kind == "error"
    assert {victim["id"], victim["seq"]} <= _numbers(message), message
    assert "someone-else" in html  # the broken row is shown

    # Another tenant's chain is not affected.
    assert _cli(app, "zhanggong").exit_code == 0


def test_deleting_a_row_in_the_middle_is_detected(app, demo):
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, d) for d in (1, 2, 3, 4)])
    entries = _entries(app, gx)
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": entries[1]["id"]})
    verification = _verify(app, gx)
    assert not verification.ok
    assert (verification.broken_id, verification.broken_seq) == (entries[2]["id"], entries[2]["seq"])
    result = _cli(app, "ganxian")
    assert result.exit_code == 1 and f"id={entries[2]['id']}" in result.output


def test_rewriting_a_row_with_a_fresh_hash_breaks_the_next_row(app, demo):
    """A forger who recomputes the changed row's hash is caught by the next row's link."""
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, d) for d in (1, 2, 3)])
    entries = _entries(app, gx)
    victim, following = entries[0], entries[1]
    with app.app_context(), tenant_scope(gx):
        row = db.session.get(AuditEntry, victim["id"])
        fields = {k: getattr(row, k) for k in AuditEntry.HASHED_FIELDS}
        fields["actor"] = "forger"
        forged_hash = entry_hash(fields)
        db.session.rollback()
    with support.owner_connection(app) as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'forger', hash = :h WHERE id = :i"),
                     {"h": forged_hash, "i": victim["id"]})
    verification = _verify(app, gx)
    assert not verification.ok
    assert (verification.broken_id, verification.broken_seq) == (following["id"], following["seq"])


def test_unknown_tenant_code_is_refused_by_the_command(app, demo):
    result = _cli(app, "nowhere")
    assert result.exit_code != 0 and "nowhere" in result.output


# --- (9) the app role may only append --------------------------------------------------------

@pytest.mark.skipif(BACKEND != "postgresql", reason="grants are PostgreSQL's")
def test_the_app_role_can_insert_and_select_audit_rows_but_not_update_or_delete_them(app, demo):
    from psycopg import errors as pg_errors
    from sqlalchemy.exc import ProgrammingError
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    with app.app_context():
        with db.engine.begin() as conn:
            show_scope(conn, gx)
            before = conn.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
            assert before >= 1
            append(conn, tenant_id=gx, occurred_at=datetime.now(timezone.utc), actor_id=None,
                   actor="tests", actor_role="", action="probe")
            assert conn.execute(text("SELECT count(*) FROM audit_entry")).scalar_one() == before + 1
        for statement in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry",
                          "TRUNCATE audit_entry"):
            with db.engine.connect() as conn:
                show_scope(conn, gx)
                with pytest.raises(ProgrammingError) as caught:
                    conn.execute(text(statement))
                assert isinstance(caught.value.orig, pg_errors.InsufficientPrivilege), statement
                conn.rollback()
        # Through the ORM, in the tenant's own scope, too.
        with tenant_scope(gx):
            entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).first()
            entry.actor = "x"
            with pytest.raises(ProgrammingError):
                db.session.flush()
            db.session.rollback()
    assert _verify(app, gx).ok


# --- (10) one chain per tenant ----------------------------------------------------------------

def test_each_tenant_has_its_own_chain_starting_at_one(app, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    _overrides(app, gx, [date(2026, 10, 1), date(2026, 10, 2)])
    _overrides(app, zg, [date(2026, 10, 1)])
    _overrides(app, gx, [date(2026, 10, 3)])
    _overrides(app, zg, [date(2026, 10, 2), date(2026, 10, 3)])
    for tenant in (gx, zg):
        entries = _entries(app, tenant)
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        assert {e["tenant_id"] for e in entries} == {tenant}
        assert len([e for e in entries if e["object_type"] == "CalendarOverride"]) == 3
        with app.app_context(), tenant_scope(tenant):
            first = db.session.scalars(select(AuditEntry).where(AuditEntry.chain == tenant)
                                       .order_by(AuditEntry.seq)).first()
            assert first.prev_hash == GENESIS
        assert _verify(app, tenant).ok
    # Breaking one chain leaves the other intact.
    victim = _entries(app, zg)[0]
    with support.owner_connection(app) as conn:
        conn.execute(text("UPDATE audit_entry SET action = 'forged' WHERE id = :i"), {"i": victim["id"]})
    assert _verify(app, gx).ok
    assert (_verify(app, zg).ok, _verify(app, zg).broken_id) == (False, victim["id"])
    assert _cli(app, "ganxian").exit_code == 0 and _cli(app, "zhanggong").exit_code == 1


def test_platform_events_have_their_own_chain(app, demo, client):
    support.form_post(client, "/login", {"username": "no-such-user", "password": "x"})
    with support.as_platform(app):
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.tenant_id.is_(None))
                                     .order_by(AuditEntry.seq)).all()
        assert [e.action for e in entries if e.action == "login_failed"] == ["login_failed"]
        assert {e.chain for e in entries} == {0}
        assert verify_chain(db.session, None).ok
    assert _cli(app, "platform").exit_code == 0
