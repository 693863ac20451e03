"""The bureau settings page (issue 12 point 8): the administrator sees every tenant setting of
docs/DOMAIN.md with its unit, default, current value and allowed range, changes them through a form
checked per key (a bad value: an error beside it, nothing saved), every change audited with its
value before and after; a change applies from the next judgement on. Other roles are refused, an
auditor only reads, and no bureau ever sees another's settings."""
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.audit.chain import verify_chain
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import tenant_scope
from portal.tenancy.settings import DEFAULT_SETTINGS
from tests import support
from tests.test_verification import DAY, HOME, at, north_of, visits  # noqa: F401  (visits: fixture)


def _settings(app, code="ganxian"):
    with support.as_platform(app):
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one()
        return dict(tenant.settings or {}), tenant.effective_settings


def _form(app, code="ganxian", **changes):
    """Every field of the page with its current value, then ``changes`` (field name: text)."""
    from portal.tenancy.settings_catalogue import rows
    _overrides, effective = _settings(app, code)
    values = {row["name"]: row["current"] for row in rows(effective)}
    for name, text in changes.items():
        values[name.replace("__", ".")] = text
    return values


def _setting_entries(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return [(e.actor, e.object_id, e.before, e.after) for e in db.session.execute(
            select(AuditEntry).where(AuditEntry.chain == tenant_id, AuditEntry.action == "setting_changed")
            .order_by(AuditEntry.seq)).scalars()]


def test_the_admin_sees_every_setting_with_label_unit_default_and_range(app, demo, login):
    page = login("gx-admin").get("/settings/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    from portal.tenancy.settings_catalogue import BY_KEY
    assert set(BY_KEY) == set(DEFAULT_SETTINGS)  # every tenant setting is on the page
    for key, default in DEFAULT_SETTINGS.items():
        names = [f"{key}.{part}" for part in default] if isinstance(default, dict) and default else [key]
        if key in ("asset_tests", "resurvey_months"):  # empty by default: their parts
            names = [f"{key}.{part}" for part, _label in BY_KEY[key].parts]
        for name in names:
            assert f'name="{name}"' in body, name
    assert "地理围栏半径" in body and "50–5000 米" in body and 'value="300"' in body
    assert "km/h" in body and "小时" in body and "元/月" in body and "倍" in body
    assert "0.1–100 %" in body  # the spot-check rate, one decimal allowed
    # linked from the administrator's navigation and home page
    assert 'href="/settings/"' in login("gx-admin").get("/").get_data(as_text=True)


def test_a_change_is_saved_converted_to_fen_audited_before_and_after(app, demo, login):
    admin = login("gx-admin")
    saved = support.form_post(admin, "/settings/", _form(
        app, geofence_radius_m="500", care_standard_fen__self_care="1,200.50", spot_check_percent="2.5",
        scorecard_weights__completion="25", scorecard_weights__satisfaction="5",
        ocid_prefix="OCDS-Ab12cd", resurvey_months__tekun="12"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
    overrides, effective = _settings(app)
    assert overrides["geofence_radius_m"] == 500 and effective["max_travel_kmh"] == 80
    assert effective["care_standard_fen"] == {"self_care": 120_050, "partial": 0, "complete": 0}
    assert effective["spot_check_percent"] == 2.5 and effective["ocid_prefix"] == "ocds-ab12cd"
    assert effective["scorecard_weights"]["completion"] == 25 and sum(effective["scorecard_weights"].values()) == 100
    assert effective["resurvey_months"] == {"tekun": 12}
    assert "max_travel_kmh" not in overrides  # unchanged values stay defaults
    tenant_id = demo.tenant_id("ganxian")
    entries = {key: (actor, before, after) for actor, key, before, after in _setting_entries(app, tenant_id)}
    assert set(entries) == {"geofence_radius_m", "care_standard_fen", "spot_check_percent", "scorecard_weights",
                            "ocid_prefix", "resurvey_months"}
    assert entries["geofence_radius_m"] == ("gx-admin", {"geofence_radius_m": 300}, {"geofence_radius_m": 500})
    assert entries["care_standard_fen"][2]["care_standard_fen"]["self_care"] == 120_050
    with app.app_context(), tenant_scope(tenant_id):
        assert verify_chain(db.session, tenant_id).ok
    page = admin.get("/settings/").get_data(as_text=True)
    assert 'value="500"' in page and 'value="1,200.50"' in page and 'value="2.5"' in page
    # saving the same values again changes and records nothing
    again = support.form_post(admin, "/settings/", _form(app))
    assert again.status_code == 302 and len(_setting_entries(app, tenant_id)) == 6


@pytest.mark.parametrize("field, text, message", [
    ("geofence_radius_m", "49", "50–5000 米"),
    ("geofence_radius_m", "abc", "请输入数字"),
    ("geofence_radius_m", "1e100000000", "请输入数字"),
    ("late_upload_hours", "1.5", "请输入整数"),
    ("care_standard_fen__partial", "12.345", "最多两位小数"),
    ("min_living_standard_fen__rural", "", "必填"),
    ("spot_check_percent", "2.55", "最多一位小数"),
    ("spot_check_percent", "0", "0.1–100 %"),
    ("scorecard_weights__recheck", "11", "合计应为 100"),
    ("ocid_prefix", "ocds-abc", "ocds-"),
    ("resurvey_months__orphan", "37", "1–36"),
    ("contract_penalty_multiplier", "11", "1–10"),
])
def test_a_bad_value_gives_a_form_error_and_saves_nothing(app, demo, login, field, text, message):
    admin = login("gx-admin")
    before = _settings(app)
    refused = support.form_post(admin, "/settings/", _form(app, **{"max_travel_kmh": "90", field: text}))
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert message in body and "未保存" in body
    assert 'aria-invalid="true"' in body or "field-error" in body
    assert _settings(app) == before  # not even the valid speed change
    assert _setting_entries(app, demo.tenant_id("ganxian")) == []


def test_other_roles_are_refused_and_an_auditor_only_reads(app, demo, login, client):
    for username in ("gx-officer", "gx-supervisor", "gx-finance"):
        assert login(username).get("/settings/").status_code == 403
    assert login("a-manager", tenant="ganxian").get("/settings/").status_code == 403
    assert client.get("/settings/").status_code == 302  # to the sign-in page
    auditor = login("gx-auditor")
    page = auditor.get("/settings/")
    assert page.status_code == 200 and "地理围栏半径" in page.get_data(as_text=True)
    assert 'name="geofence_radius_m"' not in page.get_data(as_text=True)
    token = support.csrf_token_from(page.get_data(as_text=True))
    posted = auditor.post("/settings/", data={**_form(app, geofence_radius_m="400"), "csrf_token": token})
    assert posted.status_code == 403 and _settings(app)[0] == {}


def test_another_bureaus_settings_are_never_visible(app, demo, login):
    from portal.accounts.services import create_user
    with app.app_context():
        create_user(username="zg-admin", display_name="章贡区管理员", role="admin", password=support.PASSWORD,
                    tenant_id=demo.tenant_id("zhanggong"))
        db.session.commit()
    saved = support.form_post(login("gx-admin"), "/settings/", _form(app, geofence_radius_m="777"))
    assert saved.status_code == 302
    zg_page = login("zg-admin").get("/settings/").get_data(as_text=True)
    assert 'value="777"' not in zg_page and 'value="300"' in zg_page
    assert _settings(app, "zhanggong")[0] == {} and _settings(app)[0]["geofence_radius_m"] == 777
    assert _setting_entries(app, demo.tenant_id("zhanggong")) == []


def test_a_changed_geofence_radius_applies_to_the_next_verification_only(app, visits, login):  # noqa: F811
    first = visits.record("a-worker1", "刘桂英", at(9), place=north_of(HOME, 400))
    assert "V02" in visits.codes(first)
    saved = support.form_post(login("gx-admin"), "/settings/", _form(app, geofence_radius_m="500"))
    assert saved.status_code == 302
    second = visits.record("a-worker1", "刘桂英", at(9, day=DAY + timedelta(days=1)), place=north_of(HOME, 400))
    assert "V02" not in visits.codes(second) and visits.status(second) == "verified"
    assert "V02" in visits.codes(first)  # what was judged stays judged


def test_the_penalty_multiplier_setting_proposes_new_contracts_and_never_changes_signed_ones(app, demo, login):
    from portal.contracts import services
    from portal.contracts.models import Contract
    from portal.tenders.models import Award
    from tests import contract_world as cw
    signed_id = cw.signed(app, cw.awarded(app))
    saved = support.form_post(login("gx-admin"), "/settings/", _form(app, contract_penalty_multiplier="3"))
    assert saved.status_code == 302
    world = cw.awarded(app, manager="b-manager")
    with app.app_context(), cw.scope(app):
        assert db.session.get(Contract, signed_id).spot_check_penalty_multiplier == 2
        assert services.proposed_terms(db.session.get(Award, world["award"]))["spot_check_penalty_multiplier"] == 3
    form = login("gx-officer").get(f"/contracts/new/{world['award']}").get_data(as_text=True)
    assert re.search(r'name="spot_check_penalty_multiplier"[^>]*value="3"', form)


def test_values_read_from_json_are_checked_by_the_same_rules(app):
    from portal.tenancy.settings_catalogue import parse
    with app.test_request_context(), force_locale("en"):
        values, errors = parse({"geofence_radius_m": 250, "care_standard_fen": {"partial": 150_000},
                                "spot_check_percent": 7.5}, from_json=True, only_given=True)
        assert errors == {"care_standard_fen.self_care": ["This field is required."],
                          "care_standard_fen.complete": ["This field is required."]}
        values, errors = parse({"geofence_radius_m": 250, "spot_check_percent": 7.5, "ocid_prefix": ""},
                               from_json=True, only_given=True)
        assert errors == {} and values == {"geofence_radius_m": 250, "spot_check_percent": 7.5, "ocid_prefix": ""}
        _values, errors = parse({"geofence_radius_m": True, "min_living_standard_fen": {"urban": 1.5, "rural": 0},
                                 "scorecard_weights": {"speed": 1}}, from_json=True, only_given=True)
        assert set(errors) == {"geofence_radius_m", "min_living_standard_fen.urban", "scorecard_weights"}


def test_the_settings_api_reads_and_changes_with_the_same_checks(app, demo, client, api_token):
    admin = api_token("gx-admin")
    read = client.get("/api/v1/settings", headers=admin)
    assert read.status_code == 200
    body = read.get_json()
    assert body["tenant"] == "ganxian" and body["settings"]["geofence_radius_m"] == 300
    assert body["fields"]["care_standard_fen.partial"]["kind"] == "money"
    bad = client.put("/api/v1/settings", headers=admin,
                     json={"geofence_radius_m": 20, "care_standard_fen": {"self_care": 1, "partial": 2, "complete": 3}})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert set(bad.get_json()["errors"]) == {"geofence_radius_m"}
    assert client.put("/api/v1/settings", headers=admin, json={"speed": 1}).status_code == 422
    assert _settings(app)[0] == {}
    standards = {"self_care": 1, "partial": 2, "complete": 3}
    good = client.put("/api/v1/settings", headers=admin, json={"geofence_radius_m": 350, "care_standard_fen": standards})
    assert good.status_code == 200 and good.get_json()["settings"]["care_standard_fen"]["complete"] == 3
    assert _settings(app)[0] == {"geofence_radius_m": 350, "care_standard_fen": standards}
    assert {key for _actor, key, _b, _a in _setting_entries(app, demo.tenant_id("ganxian"))} == {
        "geofence_radius_m", "care_standard_fen"}
    assert client.get("/api/v1/settings", headers=api_token("gx-auditor")).status_code == 200
    auditor_put = client.put("/api/v1/settings", headers=api_token("gx-auditor"), json={"geofence_radius_m": 400})
    assert auditor_put.status_code == 403
    assert client.get("/api/v1/settings", headers=api_token("gx-officer")).status_code == 403
