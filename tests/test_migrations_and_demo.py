"""One migration chain that matches the models; the demo world is idempotent."""
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tests import support

ROOT = Path(__file__).resolve().parent.parent


def _flask(args, env_extra):
    env = {**os.environ, **env_extra}
    env.pop("PORTAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_flask_db_upgrade_and_check_agree_with_the_models(database, tmp_path):
    if database["backend"] == "sqlite":
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    else:
        env = {"DATABASE_URL": database["url"], "DATABASE_OWNER_URL": database["owner_url"]}
    upgrade = _flask(["db", "upgrade"], env)
    assert upgrade.returncode == 0, upgrade.stderr
    check = _flask(["db", "check"], env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_migration_files_have_dated_names_and_one_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    versions = sorted((ROOT / "migrations" / "versions").glob("*.py"))
    assert versions
    for path in versions:
        assert path.name[:8].isdigit() and path.name[8] == "_", path.name
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1


def test_constraint_names_follow_the_convention(app):
    from portal.extensions import db
    for table in db.metadata.tables.values():
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"


def test_seed_demo_twice_changes_nothing(app):
    from portal.accounts.models import TenantGrant, User
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    runner = support.platform_app(app).test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--password", "pw-for-the-demo"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = [db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Tenant, User, TenantGrant)]
    second = runner.invoke(args=["seed-demo", "--password", "pw-for-the-demo"])
    assert second.exit_code == 0 and "(0 new rows)" in second.output
    with app.app_context():
        again = [db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Tenant, User, TenantGrant)]
        names = set(db.session.execute(select(User.username)).scalars())
        codes = set(db.session.execute(select(Tenant.code)).scalars())
    assert counts == again
    assert {"gx-admin", "gx-officer", "gx-supervisor", "gx-finance", "gx-auditor", "zg-officer"} <= names
    assert {"ganxian", "zhanggong"} <= codes


def test_demo_users_sign_in_with_the_given_password(app, client):
    support.platform_app(app).test_cli_runner().invoke(args=["seed-demo", "--password", "pw-for-the-demo"])
    response = client.post("/api/v1/tokens", json={"username": "gx-officer", "password": "pw-for-the-demo"})
    assert response.status_code == 201
    assert response.get_json()["user"] == {"username": "gx-officer", "display_name": "赣县区采购经办",
                                           "role": "officer", "tenant": "ganxian"}


def test_demo_procurement_history_follows_the_rules(app):
    """seed-demo's tenders went through the real lifecycle: one awarded to A and B with its
    notices on time, the household-survey tender awarded to D on score, one open for bids with
    A's bid sealed, and the audit chain intact."""
    from portal.audit.chain import verify_chain
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    from portal.contracts.models import Contract
    from portal.tenders.models import Award, Bid, Tender
    result = support.platform_app(app).test_cli_runner().invoke(args=["seed-demo"])  # the command itself, on an empty database
    assert result.exit_code == 0 and "new rows" in result.output
    with app.app_context():
        with all_tenants():
            gx = db.session.execute(select(Tenant.id).where(Tenant.code == "ganxian")).scalar_one()
        with tenant_scope(gx):
            statuses = dict(db.session.execute(select(Tender.number, Tender.status)).all())
            assert statuses == {"GX-DEMO-000": "awarded", "GX-DEMO-001": "awarded", "GX-DEMO-002": "awarded",
                                "GX-DEMO-003": "awarded", "GX-DEMO-004": "tendering"}
            first = db.session.execute(select(Tender).where(Tender.number == "GX-DEMO-001")).scalar_one()
            winners = sorted((a.lot.number, a.contractor.name, a.amount_fen) for a in db.session.scalars(
                select(Award).where(Award.lot_id.in_([lot.id for lot in first.lots]))))
            assert winners == [(1, "赣州市阳光社会工作服务中心", 108_000_000), (2, "赣州康宁养老服务有限公司", 27_000_000)]
            # GX-DEMO-003: the first award cancelled after an upheld challenge, the next-ranked bidder awarded
            challenged = db.session.execute(select(Tender).where(Tender.number == "GX-DEMO-003")).scalar_one()
            results = [(a.status, a.amount_fen, a.supersedes_id is not None) for a in db.session.scalars(
                select(Award).where(Award.lot_id == challenged.lots[0].id).order_by(Award.id))]
            assert results == [("cancelled", 45_000_000, False), ("active", 46_500_000, True)]
            # four valid bids: three qualified suppliers were left for the next-ranked bidder (94号令 §16(二))
            assert len([b for b in db.session.scalars(select(Bid).where(Bid.lot_id == challenged.lots[0].id))
                        if b.counts]) == 4
            # GX-DEMO-002 (household surveys): D awarded on score over A's lower price, its contract active
            survey = db.session.execute(select(Tender).where(Tender.number == "GX-DEMO-002")).scalar_one()
            [award] = db.session.scalars(select(Award).where(Award.lot_id == survey.lots[0].id)).all()
            assert (award.status, award.contractor.name, award.amount_fen) == ("active", "赣州市同心社会工作服务中心",
                                                                               38_000_000)
            lowest = min(b.price_fen for b in db.session.scalars(select(Bid).where(Bid.lot_id == survey.lots[0].id)))
            assert lowest < award.amount_fen
            [contract] = db.session.scalars(select(Contract).where(Contract.award_id == award.id)).all()
            assert contract.status == "active" and [(i.code, i.unit) for i in contract.items] == [
                ("HH-SURVEY", "household_survey")]
            # The open tender's bid is sealed: nobody outside its contractor can load it.
            open_lot = db.session.execute(select(Tender).where(Tender.number == "GX-DEMO-004")).scalar_one().lots[0]
            assert db.session.execute(select(Bid).where(Bid.lot_id == open_lot.id)).first() is None
            disclosures = db.session.scalars(select(Disclosure).order_by(Disclosure.id)).all()
            assert {d.kind for d in disclosures} == {"purchase_intention", "tender_notice", "award_result",
                                                     "contract_notice",  # the contracts of the awarded lots
                                                     "assessment_publicity",  # B's two publicity rounds
                                                     "scorecard",  # A's previous contract's quarters
                                                     "acceptance_result",  # last month's acceptance of A
                                                     "performance_evaluation"}  # the previous year's of A
            challenged_results = [d.title for d in disclosures
                                  if d.kind == "award_result" and challenged.title in d.title]
            assert challenged_results[-1].startswith("更正后的中标（成交）结果公告")
            assert not [d.title for d in disclosures if d.late]
            # every award result is published with the tender documents (87号令 §69)
            assert all((d.data or {}).get("tender_documents") for d in disclosures if d.kind == "award_result")
            assert verify_chain(db.session, gx).ok


def _fill_every_table(url):
    """One row in every table (ids 1, foreign keys to those rows, a value of the column's type in
    every NOT NULL column) so that a migration meets a populated database; tables a CHECK refuses
    are left empty. Returns the names of the tables filled."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    from datetime import date, datetime
    samples = [(sa.Boolean, False), (sa.Integer, 1), (sa.Numeric, 1), (sa.DateTime, datetime(2026, 1, 5)),
               (sa.Date, date(2026, 1, 5)), (sa.JSON, []), (sa.LargeBinary, b"x"), (sa.String, "x"), (sa.Text, "x")]
    filled = set()
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = {}
            for column in table.columns:
                if column.nullable and not column.primary_key and not column.foreign_keys:
                    continue
                value = 1 if column.foreign_keys or column.primary_key else next(
                    (v for kind, v in samples if isinstance(column.type, kind)), "x")
                row[column.name] = value
            try:
                with connection.begin_nested():
                    connection.execute(table.insert().values(**row))
                filled.add(table.name)
            except (sa.exc.DBAPIError, sa.exc.StatementError):
                pass
        connection.commit()
    engine.dispose()
    return filled


def test_the_migrations_upgrade_a_populated_sqlite_database(database, tmp_path):
    """The batch migrations rebuild tables other rows point at (award, tender): a database in use
    upgrades from the last released revision without a foreign-key failure, and keeps its rows."""
    if database["backend"] != "sqlite":
        import pytest
        pytest.skip("SQLite rebuilds tables to alter them")
    url = f"sqlite:///{tmp_path / 'in-use.db'}"
    env = {"DATABASE_URL": url}
    assert _flask(["db", "upgrade", "c4e8a1f09d27"], env).returncode == 0
    filled = _fill_every_table(url)
    assert {"tender", "lot", "award", "challenge"} <= filled
    upgrade = _flask(["db", "upgrade"], env)
    assert upgrade.returncode == 0, upgrade.stderr
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM award").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM challenge").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    engine.dispose()


def test_a_bureau_s_own_scorecard_weights_get_a_care_plan_weight_of_nothing(database, tmp_path):
    """Migration c8e3a5f1d420: the default weights give care plans 5 of 100, but a bureau that stored
    its own weights keeps them (care_plans 0, total still 100); a bureau without its own gets the
    defaults; downgrading takes the added key away again."""
    import json
    import sqlalchemy as sa
    if database["backend"] == "sqlite":
        url = f"sqlite:///{tmp_path / 'weights.db'}"
        env = {"DATABASE_URL": url}
    else:
        import pytest
        pytest.skip("the SQLite pass checks the data step; the PostgreSQL pass runs every migration above")
    assert _flask(["db", "upgrade", "b7d2f4a9c318"], env).returncode == 0
    own = {"completion": 30, "verification": 20, "confirmation": 20, "satisfaction": 10, "violations": 10,
           "recheck": 10}
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for code, settings in (("own", {"scorecard_weights": own, "spot_check_percent": 3}), ("plain", {})):
            connection.execute(sa.text("INSERT INTO tenant (code, name, region, settings, active, created_at) "
                                       "VALUES (:code, :code, '', :settings, 1, '2026-01-01 00:00:00')"),
                               {"code": code, "settings": json.dumps(settings)})
    upgrade = _flask(["db", "upgrade", "c8e3a5f1d420"], env)
    assert upgrade.returncode == 0, upgrade.stderr

    def stored():
        with engine.connect() as connection:
            return {code: json.loads(settings) for code, settings in
                    connection.execute(sa.text("SELECT code, settings FROM tenant"))}
    after = stored()
    assert after["own"] == {"scorecard_weights": {**own, "care_plans": 0}, "spot_check_percent": 3}
    assert after["plain"] == {}
    from portal.tenancy.settings import merged_settings
    assert sum(after["own"]["scorecard_weights"].values()) == 100  # complaints come one migration later
    assert merged_settings(after["plain"])["scorecard_weights"]["care_plans"] == 5
    downgrade = _flask(["db", "downgrade", "b7d2f4a9c318"], env)
    assert downgrade.returncode == 0, downgrade.stderr
    assert stored()["own"] == {"scorecard_weights": own, "spot_check_percent": 3}
    engine.dispose()


def test_a_bureau_s_own_scorecard_weights_get_a_complaints_weight_of_nothing(database, tmp_path):
    """Migration e5a2c9d7b813: the default weights give complaints 5 of 100 (satisfaction 10), but a
    bureau that stored its own weights keeps them (complaints 0, total still 100); a bureau
    without its own gets the defaults; downgrading takes the added key away again."""
    import json
    import sqlalchemy as sa
    if database["backend"] == "sqlite":
        url = f"sqlite:///{tmp_path / 'complaints.db'}"
        env = {"DATABASE_URL": url}
    else:
        import pytest
        pytest.skip("the SQLite pass checks the data step; the PostgreSQL pass runs every migration above")
    assert _flask(["db", "upgrade", "d4f1b7c2e905"], env).returncode == 0
    own = {"completion": 30, "verification": 20, "confirmation": 20, "satisfaction": 10, "violations": 10,
           "recheck": 5, "care_plans": 5}
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for code, settings in (("own", {"scorecard_weights": own}), ("plain", {})):
            connection.execute(sa.text("INSERT INTO tenant (code, name, region, settings, active, created_at) "
                                       "VALUES (:code, :code, '', :settings, 1, '2026-01-01 00:00:00')"),
                               {"code": code, "settings": json.dumps(settings)})
    upgrade = _flask(["db", "upgrade", "e5a2c9d7b813"], env)
    assert upgrade.returncode == 0, upgrade.stderr

    def stored():
        with engine.connect() as connection:
            return {code: json.loads(settings) for code, settings in
                    connection.execute(sa.text("SELECT code, settings FROM tenant"))}
    after = stored()
    assert after["own"] == {"scorecard_weights": {**own, "complaints": 0}}
    assert after["plain"] == {}
    from portal.tenancy.settings import merged_settings
    assert merged_settings(after["own"])["scorecard_weights"] == {**own, "complaints": 0}
    assert sum(merged_settings(after["own"])["scorecard_weights"].values()) == 100
    plain = merged_settings(after["plain"])["scorecard_weights"]
    assert plain["complaints"] == 5 and plain["satisfaction"] == 10 and sum(plain.values()) == 100
    downgrade = _flask(["db", "downgrade", "d4f1b7c2e905"], env)
    assert downgrade.returncode == 0, downgrade.stderr
    assert stored()["own"] == {"scorecard_weights": own}
    engine.dispose()
