"""The anchored audit chain (issue 21, item 4): the head of each chain signed daily and on demand
with a key the database never holds (audit/checkpoints.py), published on the public site and in
the open data, and `audit-verify` checking every chain against its checkpoints — so that besides
an edited or deleted row, a tail rewritten with recomputed hashes, a cut-off end and a forged
checkpoint all exit 1 naming the problem."""
import base64
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from portal.audit.chain import GENESIS, entry_hash, verify_chain
from portal.audit.checkpoints import (
    CheckpointRefused, anchor_problems, head, sign, signed_text, write_checkpoint)
from portal.audit.models import PLATFORM_CHAIN, AuditCheckpoint, AuditEntry
from portal.config import ConfigError, checkpoint_keys, config_from_env
from portal.extensions import db
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import all_tenants, tenant_scope
from portal.core.pgsecurity import show_scope
from tests import support
from tests.conftest import BACKEND

SECRET_A = base64.b64encode(b"a" * 32).decode()
SECRET_B = base64.b64encode(b"b" * 32).decode()


def _overrides(app, tenant_id, days):
    with app.app_context(), tenant_scope(tenant_id):
        db.session.add_all([CalendarOverride(day=d, is_working=False, note=f"holiday {d}") for d in days])
        db.session.commit()


def _chain(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return [(e.id, e.seq, e.hash) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.chain == tenant_id).order_by(AuditEntry.seq))]


def _checkpoint(app, tenant_id, now=None):
    with app.app_context(), tenant_scope(tenant_id):
        checkpoint = write_checkpoint(tenant_id, now=now)
        db.session.commit()
        return None if checkpoint is None else (checkpoint.id, checkpoint.seq, checkpoint.hash)


def _checkpoints(app, chain):
    with app.app_context(), all_tenants():
        return db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.chain == chain)
                                  .order_by(AuditCheckpoint.id)).all()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _verify(app, code="ganxian", *extra):
    return _cli(app, "audit-verify", "--tenant", code, *extra)


def _anchored_world(app, demo):
    """ganxian's chain with a checkpoint at its head, then two more rows after it."""
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, d) for d in (1, 2, 3)])
    anchored = _checkpoint(app, gx)
    _overrides(app, gx, [date(2026, 10, d) for d in (4, 5)])
    return gx, anchored


def _rewrite_tail(app, tenant_id, from_seq, actor="forger"):
    """What someone with the database alone can do: rewrite every row from ``from_seq`` on with
    recomputed hashes, so that the chain verifies by itself."""
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.chain == tenant_id, AuditEntry.seq >= from_seq)
                                  .order_by(AuditEntry.seq)).all()
        prev = db.session.scalar(select(AuditEntry.hash).where(AuditEntry.chain == tenant_id,
                                                               AuditEntry.seq == from_seq - 1)) or GENESIS
        changes = []
        for row in rows:
            fields = {k: getattr(row, k) for k in AuditEntry.HASHED_FIELDS}
            fields["actor"], fields["prev_hash"] = actor, prev
            prev = entry_hash(fields)
            changes.append({"i": row.id, "p": fields["prev_hash"], "h": prev})
        db.session.rollback()
    with support.owner_connection(app) as conn:
        for change in changes:
            conn.execute(text("UPDATE audit_entry SET actor = :a, prev_hash = :p, hash = :h WHERE id = :i"),
                         {**change, "a": actor})


# --- writing checkpoints --------------------------------------------------------------------------

def test_a_checkpoint_signs_the_head_and_writing_it_again_changes_nothing(app, demo):
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    last_id, last_seq, last_hash = _chain(app, gx)[-1]
    moment = datetime(2026, 12, 6, 8, 30, 15, 123456, tzinfo=timezone.utc)
    written = _checkpoint(app, gx, now=moment)
    assert written is not None and written[1:] == (last_seq, last_hash)
    [checkpoint] = _checkpoints(app, gx)
    assert checkpoint.tenant_id == gx and checkpoint.key_id == "dev"
    assert checkpoint.created_at == moment.replace(microsecond=0)
    [(key_id, secret)] = checkpoint_keys(app.config["AUDIT_CHECKPOINT_KEY"])
    assert signed_text(gx, last_seq, last_hash, checkpoint.created_at) == (
        f"portal-audit-checkpoint/1|{gx}|{last_seq}|{last_hash}|2026-12-06T08:30:15Z")
    assert checkpoint.signature == sign(secret, gx, last_seq, last_hash, checkpoint.created_at)
    assert secret.hex() not in checkpoint.signature and app.config["AUDIT_CHECKPOINT_KEY"] not in checkpoint.signature

    # The same head again: nothing written (the job, the command and the demo may all run).
    assert _checkpoint(app, gx) is None
    result = _cli(app, "audit-checkpoint", "--tenant", "ganxian")
    assert result.exit_code == 0 and "already signed" in result.output
    assert len(_checkpoints(app, gx)) == 1
    # A new row: a new head, a new checkpoint.
    _overrides(app, gx, [date(2026, 10, 2)])
    assert _checkpoint(app, gx)[1] == last_seq + 1
    assert len(_checkpoints(app, gx)) == 2


def test_two_writers_signing_the_same_head_leave_one_checkpoint(app, demo, monkeypatch):
    """The job and the command at the same moment: the second insert meets the unique (chain,
    seq, key) and gives way inside its savepoint, the transaction goes on."""
    from portal.audit import checkpoints
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    assert _checkpoint(app, gx) is not None
    monkeypatch.setattr(checkpoints, "_checkpoints_with_rows", lambda session, chain: [])  # it did not see the first
    with app.app_context(), tenant_scope(gx):
        assert write_checkpoint(gx) is None
        db.session.add(CalendarOverride(day=date(2026, 10, 9), is_working=True))
        db.session.commit()
    assert len(_checkpoints(app, gx)) == 1 and len(_chain(app, gx)) > 0


def test_an_empty_chain_is_signed_at_seq_zero_with_the_genesis_hash(app, demo):
    with app.app_context(), all_tenants():
        from portal.tenancy.models import Tenant
        tenant = Tenant(code="kongbai", name="空白区民政局", region="测试", settings={})
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
    assert _chain(app, tenant_id) == []
    assert _checkpoint(app, tenant_id)[1:] == (0, GENESIS)
    result = _verify(app, "kongbai")
    assert result.exit_code == 0, result.output


def test_the_command_signs_every_chain_and_the_platform_chain(app, demo):
    result = _cli(app, "audit-checkpoint", "--all")
    assert result.exit_code == 0, result.output
    assert {"platform:", "ganxian:", "zhanggong:"} <= set(re.findall(r"^(\S+:)", result.output, re.M))
    for chain in (PLATFORM_CHAIN, demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")):
        assert len(_checkpoints(app, chain)) == 1
    again = _cli(app, "audit-checkpoint")
    assert again.exit_code == 0 and again.output.count("already signed") == 3
    assert _cli(app, "audit-checkpoint", "--tenant", "nowhere").exit_code != 0


def test_the_daily_jobs_sign_each_bureau_and_the_platform_once(app, demo, monkeypatch):
    from portal.jobs import schedule
    from portal.jobs.queue import TASKS
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # jobs inline
    declared = {p.id: p for p in schedule.PERIODIC}
    assert declared["audit-checkpoint"].per_tenant and declared["audit-checkpoint"].every == "daily"
    assert not declared["audit-checkpoint-platform"].per_tenant
    now = datetime(2026, 12, 6, 1, 10, tzinfo=timezone.utc)
    assert {"audit-checkpoint", "audit-checkpoint-platform"} <= set(schedule.inline_tick(app, now=now))
    chains = (PLATFORM_CHAIN, demo.tenant_id("ganxian"), demo.tenant_id("zhanggong"))
    assert [len(_checkpoints(app, c)) for c in chains] == [1, 1, 1]
    assert schedule.inline_tick(app, now=now + timedelta(minutes=5)) == []
    # The job itself is idempotent: run again over the same heads, it writes nothing.
    with app.app_context():
        with tenant_scope(chains[1]):
            TASKS["audit.write_checkpoint"]()
        with all_tenants():
            TASKS["audit.write_platform_checkpoint"]()
        db.session.commit()
    assert [len(_checkpoints(app, c)) for c in chains] == [1, 1, 1]


# --- what audit-verify detects ----------------------------------------------------------------------

def test_an_intact_chain_verifies_and_reaches_its_checkpoint(app, demo):
    gx, (_id, seq, _hash) = _anchored_world(app, demo)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and f"(seq {seq})" in result.output


def test_an_edited_row_is_detected(app, demo):
    gx, _anchor = _anchored_world(app, demo)
    victim = _chain(app, gx)[2]
    with support.owner_connection(app) as conn:
        conn.execute(text("UPDATE audit_entry SET action = 'forged' WHERE id = :i"), {"i": victim[0]})
    result = _verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at entry id={victim[0]} seq={victim[1]}" in result.output


def test_a_chain_broken_below_its_checkpoint_is_never_signed_and_the_page_says_why_in_chinese(app, demo, login):
    """An old row edited in place (its hash left alone): the next checkpoint is refused (the
    daily job fails, so someone looks) and the auditor's page names the reason in Chinese."""
    gx, _anchor = _anchored_world(app, demo)
    victim = _chain(app, gx)[2]
    with support.owner_connection(app) as conn:
        conn.execute(text("UPDATE audit_entry SET action = 'forged' WHERE id = :i"), {"i": victim[0]})
    with app.app_context(), tenant_scope(gx), pytest.raises(CheckpointRefused, match="broken at seq"):
        write_checkpoint(gx)
    result = _cli(app, "audit-checkpoint", "--tenant", "ganxian")
    assert result.exit_code == 1 and "refused" in result.output
    assert len(_checkpoints(app, gx)) == 1
    html = _verify_page(login)
    assert "内容与其哈希不符" in html and "content does not match" not in html


def test_a_row_deleted_in_the_middle_is_detected(app, demo):
    gx, (_id, seq, _hash) = _anchored_world(app, demo)
    victim = _chain(app, gx)[1]
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": victim[0]})
    result = _verify(app)
    assert result.exit_code == 1
    assert "sequence gap" in result.output and f"seq={victim[1] + 1}" in result.output


def test_a_tail_rewritten_with_recomputed_hashes_is_detected(app, demo):
    gx, (_id, anchored_seq, anchored_hash) = _anchored_world(app, demo)
    _rewrite_tail(app, gx, from_seq=anchored_seq - 1)
    with app.app_context(), tenant_scope(gx):
        assert verify_chain(db.session, gx).ok  # the chain alone agrees with itself …
    result = _verify(app)
    assert result.exit_code == 1  # … the checkpoint does not
    assert f"REWRITTEN: the row at seq {anchored_seq} has hash" in result.output
    assert anchored_hash[:16] in result.output and "BROKEN" not in result.output


def _verify_page(login):
    auditor = login("gx-auditor")
    token = support.csrf_token_from(auditor.get("/audit/").get_data(as_text=True))
    response = auditor.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_rows_cut_off_the_end_are_detected(app, demo, login):
    gx, (_id, anchored_seq, _hash) = _anchored_world(app, demo)
    html = _verify_page(login)
    assert "flash-success" in html and 'id="anchor-result"' in html and "anchor-problems" not in html
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :c AND seq >= :s"), {"c": gx, "s": anchored_seq - 1})
    with app.app_context(), tenant_scope(gx):
        assert verify_chain(db.session, gx).ok
    result = _verify(app)
    assert result.exit_code == 1
    assert f"TRUNCATED: the chain ends at seq {anchored_seq - 2}" in result.output
    assert f"recorded seq {anchored_seq}" in result.output
    # The auditor's page says so too (in Chinese, by the checkpoint's time, without counts).
    html = _verify_page(login)
    assert 'class="flash flash-error"' in html and "末尾的记录被删除" in html and 'id="anchor-problems"' in html


def test_rows_after_the_last_checkpoint_cut_off_are_caught_by_the_next_checkpoint_attempt(app, demo):
    """Rows after the newest checkpoint are not covered yet — but the next checkpoint refuses a
    chain that no longer reaches the previous one, and the command exits 1."""
    gx, (_id, anchored_seq, _hash) = _anchored_world(app, demo)
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :c AND seq >= :s"), {"c": gx, "s": anchored_seq})
    _overrides(app, gx, [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)])  # the chain grows again
    with app.app_context(), tenant_scope(gx), pytest.raises(CheckpointRefused):
        write_checkpoint(gx)
    result = _cli(app, "audit-checkpoint", "--tenant", "ganxian")
    assert result.exit_code == 1 and "refused" in result.output
    assert len(_checkpoints(app, gx)) == 1
    assert "REWRITTEN" in _verify(app).output


def test_a_forged_or_altered_checkpoint_is_reported_and_never_published(app, demo, client):
    gx, (anchor_id, anchored_seq, _hash) = _anchored_world(app, demo)
    [*_, (_last_id, last_seq, last_hash)] = _chain(app, gx)
    # Someone with the database writes a checkpoint of their own (no key) …
    with support.owner_connection(app) as conn:
        conn.execute(text(
            "INSERT INTO audit_checkpoint (chain, seq, hash, created_at, key_id, signature, tenant_id) "
            "VALUES (:c, :s, :h, :t, 'dev', :sig, :c)"),
            {"c": gx, "s": last_seq, "h": last_hash, "t": datetime.now(timezone.utc) + timedelta(hours=1),
             "sig": "0" * 64})
    result = _verify(app)
    assert result.exit_code == 1
    assert "FORGED CHECKPOINT" in result.output and f"seq {last_seq}" in result.output
    published = client.get("/api/v1/public/audit-heads").get_json()
    [ganxian] = [h for h in published["heads"] if h["bureau"] == "ganxian"]
    assert ganxian["head_hash"] == _hash  # the last validly signed one
    # … or moves a real one to another seq.
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_checkpoint WHERE signature = :s"), {"s": "0" * 64})
        conn.execute(text("UPDATE audit_checkpoint SET seq = :s, hash = :h WHERE id = :i"),
                     {"s": last_seq, "h": last_hash, "i": anchor_id})
    result = _verify(app)
    assert result.exit_code == 1 and "does not verify" in result.output


def test_a_checkpoint_of_an_unknown_key_is_reported(app, demo, monkeypatch):
    gx, _anchor = _anchored_world(app, demo)
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_KEY", f"k2:{SECRET_B}")
    result = _verify(app)
    assert result.exit_code == 1 and "unknown key" in result.output and "'dev'" in result.output


def test_old_keys_still_verify_after_rotation_and_the_first_key_signs(app, demo, monkeypatch):
    gx, _anchor = _anchored_world(app, demo)
    old = app.config["AUDIT_CHECKPOINT_KEY"]
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_KEY", f"k2:{SECRET_B},{old}")
    assert _verify(app).exit_code == 0
    _checkpoint(app, gx)
    assert [c.key_id for c in _checkpoints(app, gx)] == ["dev", "k2"]
    assert _verify(app).exit_code == 0


def test_a_published_head_kept_outside_catches_what_the_database_alone_could_hide(app, demo, client):
    """The worst case: the tail rewritten AND the checkpoints deleted, then a fresh checkpoint
    signed over the forgery. Only a copy kept outside the portal shows it (--expect)."""
    gx, (_id, anchored_seq, anchored_hash) = _anchored_world(app, demo)
    published = client.get("/api/v1/public/audit-heads").get_json()
    [kept] = [h["head_hash"] for h in published["heads"] if h["bureau"] == "ganxian"]
    assert kept == anchored_hash
    assert _verify(app, "ganxian", "--expect", kept).exit_code == 0
    assert _verify(app, "ganxian", "--expect", f"{anchored_seq}:{kept}").exit_code == 0

    _rewrite_tail(app, gx, from_seq=anchored_seq)
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_checkpoint WHERE chain = :c"), {"c": gx})
    _checkpoint(app, gx)
    assert _verify(app).exit_code == 0  # the database agrees with itself now …
    for expect in (kept, f"{anchored_seq}:{kept}"):
        result = _verify(app, "ganxian", "--expect", expect)
        assert result.exit_code == 1 and "REWRITTEN: the expected head" in result.output, result.output
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :c AND seq >= :s"), {"c": gx, "s": anchored_seq})
    result = _verify(app, "ganxian", "--expect", f"{anchored_seq}:{kept}")
    assert result.exit_code == 1 and "TRUNCATED" in result.output
    bad = _verify(app, "ganxian", "--expect", "not-a-hash")
    assert bad.exit_code == 2 and "--expect" in bad.output


def test_each_chain_is_checked_against_its_own_checkpoints(app, demo):
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    _overrides(app, zg, [date(2026, 10, 1), date(2026, 10, 2)])
    assert _cli(app, "audit-checkpoint", "--all").exit_code == 0
    with support.owner_connection(app) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :c AND seq = (SELECT max(seq) FROM audit_entry "
                          "WHERE chain = :c)"), {"c": zg})
    assert _verify(app, "ganxian").exit_code == 0 and _verify(app, "platform").exit_code == 0
    assert _verify(app, "zhanggong").exit_code == 1
    with app.app_context(), tenant_scope(gx):
        assert anchor_problems(db.session, gx).ok


@pytest.mark.skipif(BACKEND != "postgresql", reason="grants are PostgreSQL's")
def test_the_app_role_can_add_checkpoints_but_not_change_or_delete_them(app, demo):
    from sqlalchemy.exc import ProgrammingError
    gx, _anchor = _anchored_world(app, demo)
    for statement in ("UPDATE audit_checkpoint SET seq = 1", "DELETE FROM audit_checkpoint"):
        with app.app_context(), db.engine.connect() as conn:
            show_scope(conn, gx)
            with pytest.raises(ProgrammingError):
                conn.execute(text(statement))
            conn.rollback()


# --- publication ------------------------------------------------------------------------------------

def test_the_public_page_and_the_open_data_show_each_head_and_nothing_else(app, demo, client):
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    page = client.get("/public/audit-heads")
    assert page.status_code == 200 and "尚无签名检查点" in page.get_data(as_text=True)
    assert _cli(app, "audit-checkpoint", "--all").exit_code == 0
    heads = {c: _checkpoints(app, c)[-1] for c in (PLATFORM_CHAIN, gx, demo.tenant_id("zhanggong"))}

    page = client.get("/public/audit-heads")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "审计日志签名摘要" in html and "赣县区民政局" in html and "平台" in html
    for checkpoint in heads.values():
        assert checkpoint.hash in html and checkpoint.signature in html
    assert page.headers["ETag"] and "no-cache" in page.headers["Cache-Control"]
    assert client.get("/public/audit-heads", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
    assert "/public/audit-heads" in client.get("/public/").get_data(as_text=True)

    data = client.get("/api/v1/public/audit-heads")
    assert data.status_code == 200 and data.mimetype == "application/json"
    body = data.get_json()
    assert body["algorithm"] == "HMAC-SHA256"
    by_bureau = {h["bureau"]: h for h in body["heads"]}
    assert set(by_bureau) == {"platform", "ganxian", "zhanggong"}
    assert by_bureau["ganxian"] == {
        "bureau": "ganxian", "name": "赣县区民政局", "head_hash": heads[gx].hash, "key_id": "dev",
        "checkpoint_time": heads[gx].created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "signature": heads[gx].signature}
    assert client.get("/api/v1/public/audit-heads",
                      headers={"If-None-Match": data.headers["ETag"]}).status_code == 304

    # Nothing of the trail: no actor, action, object, snapshot — and not the seq, whose count would
    # tell a bureau how many rows its sealed bids hold (audit/withholding.py).
    with app.app_context(), tenant_scope(gx):
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.chain == gx)).all()
    for entry in entries:
        for secret in (entry.actor, entry.prev_hash):
            if secret:
                assert secret not in html and secret not in data.get_data(as_text=True)
    assert "seq" not in data.get_data(as_text=True)

    # A new checkpoint changes the ETag of both.
    _overrides(app, gx, [date(2026, 10, 2)])
    _checkpoint(app, gx)
    assert client.get("/public/audit-heads", headers={"If-None-Match": page.headers["ETag"]}).status_code == 200
    assert client.get("/api/v1/public/audit-heads", headers={"If-None-Match": data.headers["ETag"]}).status_code == 200


def test_the_demo_signs_every_chain_once(app):
    support.seed_demo(app, history=True)
    with support.as_platform(app):  # reading every chain: the platform role (the app role sees none)
        counts = dict(db.session.execute(select(AuditCheckpoint.chain, func.count()).group_by(AuditCheckpoint.chain)).all())
        assert len(counts) == 3 and set(counts.values()) == {1}
        for chain in counts:
            [checkpoint] = db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.chain == chain)).all()
            assert (checkpoint.seq, checkpoint.hash) == head(db.session, chain)
    # Seeding again changes nothing: no new checkpoint either.
    from portal.audit.recorder import acting_as
    from portal.demo import seed
    with support.platform_app(app).app_context(), acting_as("seed-demo"):  # as `flask seed-demo` runs
        assert seed(support.PASSWORD) == 0
        db.session.commit()
    with support.as_platform(app):
        assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 3
    assert _verify(app, "ganxian").exit_code == 0 and _verify(app, "platform").exit_code == 0


# --- configuration ----------------------------------------------------------------------------------

def test_the_key_comes_from_the_environment_and_production_requires_it():
    from cryptography.fernet import Fernet
    production = {"PORTAL_ENV": "production", "SECRET_KEY": "x" * 40, "PORTAL_DATA_KEY": Fernet.generate_key().decode()}
    with pytest.raises(ConfigError, match="AUDIT_CHECKPOINT_KEY"):
        config_from_env(production)
    cfg = config_from_env({**production, "AUDIT_CHECKPOINT_KEY": f"k2:{SECRET_B}, k1:{SECRET_A}"})
    assert checkpoint_keys(cfg["AUDIT_CHECKPOINT_KEY"]) == [("k2", b"b" * 32), ("k1", b"a" * 32)]
    development = config_from_env({})
    [(key_id, secret)] = checkpoint_keys(development["AUDIT_CHECKPOINT_KEY"])
    assert key_id == "dev" and len(secret) == 32
    assert config_from_env({"SECRET_KEY": "y" * 40})["AUDIT_CHECKPOINT_KEY"] != development["AUDIT_CHECKPOINT_KEY"]
    for bad in ("no-separator", f":{SECRET_A}", "k1:not base64!", f"k1:{base64.b64encode(b'short').decode()}",
                f"k1:{SECRET_A},k1:{SECRET_B}", f"{'x' * 17}:{SECRET_A}"):
        with pytest.raises(ConfigError, match="AUDIT_CHECKPOINT_KEY"):
            config_from_env({"AUDIT_CHECKPOINT_KEY": bad})


# --- review of issue 21: chains belong to their bureau, planted checkpoints, malformed input --------

_ENTRY = text("INSERT INTO audit_entry (tenant_id, chain, seq, occurred_at, actor, actor_role, action, object_type, "
              "object_id, address, prev_hash, hash) VALUES (:t, :c, :s, :at, 'x', '', 'probe', '', '', '', :h, :h)")
_CHECKPOINT = text("INSERT INTO audit_checkpoint (chain, seq, hash, created_at, key_id, signature, tenant_id) "
                   "VALUES (:c, :s, :h, :at, 'dev', :sig, :t)")


def test_no_row_or_checkpoint_goes_into_another_bureaus_chain(app, demo):
    """CHECK (chain = COALESCE(tenant_id, 0)): not even the owner can put a row of ganxian into
    zhanggong's chain (and block its next seq through UNIQUE(chain, seq)), or a checkpoint there."""
    from sqlalchemy.exc import IntegrityError
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    at = datetime.now(timezone.utc)
    wrong = [(_ENTRY, {"t": gx, "c": zg, "s": 10**6, "at": at, "h": "0" * 64}),
             (_ENTRY, {"t": None, "c": zg, "s": 10**6, "at": at, "h": "0" * 64}),
             (_ENTRY, {"t": gx, "c": PLATFORM_CHAIN, "s": 10**6, "at": at, "h": "0" * 64}),
             (_CHECKPOINT, {"t": gx, "c": zg, "s": 1, "at": at, "h": "0" * 64, "sig": "0" * 64}),
             (_CHECKPOINT, {"t": None, "c": gx, "s": 1, "at": at, "h": "0" * 64, "sig": "0" * 64})]
    for statement, values in wrong:
        with pytest.raises(IntegrityError, match="(?i)check constraint|chain_of_tenant"):
            with support.owner_connection(app) as conn:
                conn.execute(statement, values)
    with support.owner_connection(app) as conn:  # its own chain is fine
        conn.execute(_ENTRY, {"t": zg, "c": zg, "s": 10**6, "at": at, "h": "0" * 64})


def test_a_planted_checkpoint_at_the_head_is_not_taken_for_a_signature(app, demo):
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    [*_, (_id, last_seq, last_hash)] = _chain(app, gx)
    with support.owner_connection(app) as conn:  # a checkpoint of the signing key's id, not signed by it
        conn.execute(_CHECKPOINT, {"t": gx, "c": gx, "s": last_seq, "h": last_hash,
                                   "at": datetime.now(timezone.utc) - timedelta(hours=1), "sig": "0" * 64})
    with pytest.raises(CheckpointRefused, match="does not verify"):
        _checkpoint(app, gx)
    result = _cli(app, "audit-checkpoint", "--tenant", "ganxian")
    assert result.exit_code == 1 and "refused" in result.output


def test_the_checkpoint_signs_the_head_the_verification_read(app, demo, monkeypatch):
    from portal.audit import checkpoints
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1), date(2026, 10, 2)])
    [*_, (_id, last_seq, last_hash)] = _chain(app, gx)
    monkeypatch.setattr(checkpoints, "head", lambda session, chain: (last_seq + 7, "f" * 64))  # a later re-read
    assert _checkpoint(app, gx)[1:] == (last_seq, last_hash)


def test_the_published_head_is_the_highest_signed_seq_never_one_dated_in_the_future(app, demo, client):
    gx = demo.tenant_id("ganxian")
    [(key_id, secret)] = checkpoint_keys(app.config["AUDIT_CHECKPOINT_KEY"])
    _overrides(app, gx, [date(2026, 10, 1)])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    _checkpoint(app, gx, now=now)
    _overrides(app, gx, [date(2026, 10, 2)])
    [*_, (_id, last_seq, last_hash)] = _chain(app, gx)
    _checkpoint(app, gx, now=now - timedelta(days=1))  # a higher seq with an earlier time (a clock set back)
    future = now + timedelta(days=2)
    with support.owner_connection(app) as conn:  # validly signed (a leaked key), but dated ahead
        conn.execute(_CHECKPOINT, {"t": gx, "c": gx, "s": last_seq + 50, "h": "e" * 64, "at": future,
                                   "sig": sign(secret, gx, last_seq + 50, "e" * 64, future)})
    published = client.get("/api/v1/public/audit-heads").get_json()
    [ganxian] = [h for h in published["heads"] if h["bureau"] == "ganxian"]
    assert ganxian["head_hash"] == last_hash


def test_published_heads_read_past_many_forged_checkpoints(app, demo):
    from portal.audit.checkpoints import PUBLISHED_TRIES, published_heads
    gx = demo.tenant_id("ganxian")
    _overrides(app, gx, [date(2026, 10, 1)])
    [*_, (_id, _seq, last_hash)] = _chain(app, gx)
    _checkpoint(app, gx)
    at = datetime.now(timezone.utc) - timedelta(minutes=5)
    with support.owner_connection(app) as conn:
        for n in range(PUBLISHED_TRIES + 2):
            conn.execute(_CHECKPOINT, {"t": gx, "c": gx, "s": 1000 + n, "h": "d" * 64, "at": at, "sig": "0" * 64})
    with app.app_context(), tenant_scope(gx):
        assert published_heads([gx])[gx].hash == last_hash


@pytest.mark.parametrize("value", ["１２:" + "a" * 64, f"{2**31}:" + "a" * 64, "9" * 40 + ":" + "a" * 64,
                                   "-1:" + "a" * 64, "+1:" + "a" * 64])
def test_an_expected_seq_that_is_not_a_plain_small_number_is_malformed(app, demo, value):
    from portal.audit.checkpoints import parse_expect
    with pytest.raises(ValueError):
        parse_expect(value)
    result = _verify(app, "ganxian", "--expect", value)
    assert result.exit_code == 2 and "--expect" in result.output and "Traceback" not in result.output
    assert parse_expect(f"{2**31 - 1}:" + "A" * 64) == (2**31 - 1, "a" * 64)
