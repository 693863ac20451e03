"""The beneficiary registry: all-or-nothing Excel import naming every bad row, a dated status
history that answers for any day, ID numbers never unmasked (pages, exports, audit trail, logs),
another bureau's people not found, and search that keeps names out of URLs."""
import io
import json
import logging
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.beneficiary_world import TODAY, number, register

GOOD_ROWS = [
    ("刘桂英", number(1), "特困人员", "梅林镇", "城郊村", "城郊村下坝组15号", "25.861", "115.012", "13979700001"),
    ("陈德福", number(3), "特困人员", "梅林镇", "大田村", "大田村上排组22号", "25.852", "115.020", "13979700002"),
    ("李欣怡", number(5, "360721", "20130506"), "事实无人抚养儿童", "王母渡镇", "高坑村", "高坑村岭下组1号", "", "", ""),
]

@pytest.fixture
def english(app):
    """Messages of services called directly come in English (the default language is Chinese)."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield



def _workbook(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(("姓名", "身份证号码", "类别", "乡镇", "村", "住址", "纬度", "经度", "电话"))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _officer(login):
    client = login("gx-officer")
    client.set_cookie("lang", "en")  # the assertions read English messages
    return client


def _upload(client, data, since=None):
    page = client.get("/beneficiaries/import")
    form = {"csrf_token": support.csrf_token_from(page.get_data(as_text=True)),
            "file": (io.BytesIO(data), "people.xlsx")}
    if since:
        form["active_since"] = since
    return client.post("/beneficiaries/import", data=form, content_type="multipart/form-data")


def _count(app, demo, code="ganxian"):
    from portal.beneficiaries.models import Beneficiary
    with app.app_context(), tenant_scope(demo.tenant_id(code)):
        return db.session.execute(select(func.count()).select_from(Beneficiary)).scalar_one()


def test_a_spreadsheet_with_a_bad_row_imports_nothing_and_names_every_row(app, demo, login):
    register(app, "ganxian", "黄秀兰", number(7))
    bad_id = number(9)[:-1] + ("0" if number(9)[-1] != "0" else "1")  # wrong check digit
    rows = [*GOOD_ROWS,
            ("钟长生", bad_id, "特困人员", "梅林镇", "水南村", "", "", "", ""),             # row 5
            ("刘桂英", number(1), "特困人员", "梅林镇", "城郊村", "", "", "", ""),          # row 6: same as row 2
            ("谢春花", number(13), "五保户", "梅林镇", "水南村", "", "", "", ""),            # row 7
            ("曾庆华", number(15), "特困人员", "梅林镇", "水南村", "", "95.5", "115.0", ""),  # row 8
            ("黄秀兰", number(7), "特困人员", "梅林镇", "大田村", "", "", "", "")]             # row 9
    officer = _officer(login)
    response = _upload(officer, _workbook(rows))
    assert response.status_code == 422
    html = response.get_data(as_text=True).split("Rows ready to import")[0]  # the wrong rows' table
    assert "5 rows are wrong; nothing will be imported" in html
    for row, reason in ((5, "check digit"), (6, "The same person as row 2"), (7, "Unknown category"),
                        (8, "outside China"), (9, "already registered")):
        assert f"<tr><td>{row}</td><td>" in html and reason in html, row
    for row in (2, 3, 4):
        assert f"<tr><td>{row}</td><td>" not in html
    assert "/beneficiaries/import/confirm" not in response.get_data(as_text=True)  # nothing to confirm
    assert _count(app, demo) == 1

    # The good rows alone: previewed (masked), confirmed, all imported.
    since = (TODAY - timedelta(days=30)).isoformat()
    response = _upload(officer, _workbook(GOOD_ROWS), since=since)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert all(row[1] not in html for row in GOOD_ROWS), "an ID number in clear in the preview"
    assert "3 people" in html
    token = support.csrf_token_from(html)
    preview = html.split('name="preview" type="hidden" value="')[1].split('"')[0]
    response = officer.post("/beneficiaries/import/confirm",
                            data={"csrf_token": token, "preview": preview, "active_since": since})
    assert response.status_code == 302
    assert _count(app, demo) == 4
    from portal.beneficiaries.models import Beneficiary
    from portal.beneficiaries.services import status_on
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        person = db.session.execute(select(Beneficiary).where(Beneficiary.name == "李欣怡")).scalar_one()
        assert person.category == "de_facto_orphan" and person.lat is None and person.status == "active"
        assert status_on(person, TODAY - timedelta(days=30)) == "active"
        assert status_on(person, TODAY - timedelta(days=31)) is None
    # Confirming the same preview again imports nothing: they are registered now.
    response = officer.post("/beneficiaries/import/confirm",
                            data={"csrf_token": token, "preview": preview, "active_since": since})
    assert response.status_code == 422 and "already registered" in response.get_data(as_text=True)
    assert _count(app, demo) == 4


def test_the_template_and_a_non_excel_file(app, demo, login):
    officer = _officer(login)
    template = officer.get("/beneficiaries/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data)).active
    assert [c.value for c in sheet[1]][:2] == ["姓名 Name", "身份证号码 ID number"]
    assert sheet["B2"].number_format == "@"
    response = _upload(officer, b"name,id\n")
    assert response.status_code == 200 and "Excel workbook" in response.get_data(as_text=True)
    assert _upload(officer, template.data).status_code == 200  # empty: nothing to import
    assert _count(app, demo) == 0


def test_status_history_answers_for_days_before_and_after_each_change(app, demo, english):
    from portal.beneficiaries import services
    from portal.beneficiaries.models import Beneficiary
    registered = TODAY - timedelta(days=100)
    person_id = register(app, "ganxian", "钟长生", number(31), since=registered)
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        person = db.session.get(Beneficiary, person_id)
        services.change_status(person, "hospitalised", TODAY - timedelta(days=60), note="县人民医院")
        services.change_status(person, "active", TODAY - timedelta(days=40))
        services.change_status(person, "deceased", TODAY - timedelta(days=10))
        # back-dated after the fact: moved for a while before the hospital stay
        services.change_status(person, "moved", TODAY - timedelta(days=80))
        db.session.commit()
        expected = {101: None, 100: "active", 81: "active", 80: "moved", 61: "moved", 60: "hospitalised",
                    41: "hospitalised", 40: "active", 11: "active", 10: "deceased", 0: "deceased"}
        for days_ago, status in expected.items():
            assert services.status_on(person, TODAY - timedelta(days=days_ago)) == status, days_ago
        assert (person.status, person.status_since) == ("deceased", TODAY - timedelta(days=10))
        with pytest.raises(DomainError, match="died"):
            services.change_status(person, "active", TODAY)
        with pytest.raises(DomainError, match="ahead of time"):
            services.change_status(person, "active", TODAY + timedelta(days=1))
        with pytest.raises(DomainError, match="before the person was registered"):
            services.change_status(person, "moved", registered - timedelta(days=1))
        with pytest.raises(DomainError, match="already recorded on that day"):
            services.change_status(person, "active", TODAY - timedelta(days=60))


def test_registration_refuses_a_bad_id_number_a_duplicate_and_bad_coordinates(app, demo, english):
    from portal.beneficiaries import services
    register(app, "ganxian", "刘桂英", number(41))
    fields = {"name": "刘桂英", "category": "tekun", "township": "梅林镇", "village": "城郊村"}
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        with pytest.raises(DomainError, match="already registered") as exc:
            services.register(fields, id_number=number(41))
        assert exc.value.errors == {"id_number": [exc.value.message]}
        with pytest.raises(DomainError, match="18 characters"):
            services.register(fields, id_number="36212119450101")
        with pytest.raises(DomainError) as exc:
            services.register({**fields, "lat": "25.86", "lon": ""}, id_number=number(43))
        assert "lat" in exc.value.errors
        with pytest.raises(DomainError) as exc:
            services.register({**fields, "category": "wubao"}, id_number=number(43))
        assert "category" in exc.value.errors
    # The same person may be registered with another bureau.
    register(app, "zhanggong", "刘桂英", number(41))


def test_a_refused_registration_page_does_not_send_the_number_back(app, demo, login):
    register(app, "ganxian", "刘桂英", number(41))
    fields = {"name": "刘桂英", "category": "tekun", "township": "梅林镇", "village": "城郊村"}
    officer = _officer(login)
    page = officer.get("/beneficiaries/new")
    response = officer.post("/beneficiaries/new", data={
        "csrf_token": support.csrf_token_from(page.get_data(as_text=True)), **fields, "id_number": number(41)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "already registered" in html and number(41) not in html


def test_id_numbers_are_never_unmasked_in_pages_exports_audit_or_logs(app, demo, login, caplog):
    from portal.audit.models import AuditEntry
    caplog.set_level(logging.DEBUG)
    secret = number(51)
    officer = _officer(login)
    page = officer.get("/beneficiaries/new")
    response = officer.post("/beneficiaries/new", data={
        "csrf_token": support.csrf_token_from(page.get_data(as_text=True)), "name": "谢春花", "id_number": secret,
        "category": "tekun", "township": "梅林镇", "village": "水南村", "address": "水南村河背组11号",
        "lat": "25.87", "lon": "115.03", "phone": "13979701234"})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    person_url = response.headers["Location"]
    token = support.csrf_token_from(officer.get(person_url).get_data(as_text=True))
    officer.post(person_url + "/status", data={"csrf_token": token, "status": "hospitalised",
                                               "effective_on": TODAY.isoformat()})
    officer.post(person_url + "/edit", data={"csrf_token": token, "name": "谢春花", "category": "tekun",
                                             "township": "梅林镇", "village": "水南村", "address": "水南村新址1号",
                                             "lat": "25.88", "lon": "115.02", "phone": "13979705678"})
    masked = secret[:4] + "*" * 10 + secret[-4:]
    pages = [officer.get(url).get_data(as_text=True)
             for url in ("/beneficiaries/", person_url, person_url + "/edit")]
    assert all(secret not in html for html in pages)
    assert masked in pages[0] and masked in pages[1]
    export = officer.get("/beneficiaries/export.xlsx")
    assert export.status_code == 200
    cells = [str(c) for row in load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True) for c in row]
    assert masked in cells and not any(secret in c for c in cells)
    # The audit trail records the changes without the number, the name, the phone or the address.
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        entries = db.session.execute(select(AuditEntry).where(AuditEntry.object_type.in_(
            ("Beneficiary", "BeneficiaryStatus")))).scalars().all()
        assert {e.action for e in entries} >= {"insert", "update"}
        trail = json.dumps([[e.before, e.after] for e in entries], ensure_ascii=False)
        for value in (secret, "谢春花", "13979701234", "13979705678", "水南村河背组11号", "水南村新址1号", "25.87"):
            assert value not in trail, value
        exported = db.session.execute(select(AuditEntry).where(AuditEntry.action == "beneficiaries_exported")).first()
        assert exported is not None
    audit_page = login("gx-admin").get("/audit/").get_data(as_text=True)
    assert secret not in audit_page and "谢春花" not in audit_page
    for value in (secret, "谢春花", "13979701234", "水南村河背组11号"):
        assert value not in caplog.text


def test_another_bureaus_beneficiary_is_not_found(app, demo, login, api_token, client):
    person = register(app, "ganxian", "刘桂英", number(61))
    zg = login("zg-officer")
    token = support.csrf_token_from(zg.get("/beneficiaries/new").get_data(as_text=True))
    for url in (f"/beneficiaries/{person}", f"/beneficiaries/{person}/edit"):
        assert zg.get(url).status_code == 404
    assert zg.post(f"/beneficiaries/{person}/status", data={
        "csrf_token": token, "status": "deceased", "effective_on": TODAY.isoformat()}).status_code == 404
    assert "刘桂英" not in zg.get("/beneficiaries/").get_data(as_text=True)
    response = client.get(f"/api/v1/beneficiaries/{person}", headers=api_token("zg-officer"))
    assert response.status_code == 404
    assert client.get(f"/api/v1/beneficiaries/{person}", headers=api_token("gx-officer")).status_code == 200
    from portal.beneficiaries.models import Beneficiary
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.get(Beneficiary, person).status == "active"


def test_readers_read_and_only_officers_and_supervisors_write(app, demo, login):
    person = register(app, "ganxian", "刘桂英", number(71))
    for username in ("gx-admin", "gx-finance", "gx-auditor"):
        reader = login(username, tenant="ganxian" if username == "gx-auditor" else None)
        assert reader.get(f"/beneficiaries/{person}").status_code == 200
        assert reader.get("/beneficiaries/new").status_code == 403
        assert reader.get("/beneficiaries/export.xlsx").status_code == 403
    assert login("gx-supervisor").get(f"/beneficiaries/{person}/edit").status_code == 200


def test_search_by_partial_and_masked_name_village_and_filters_without_names_in_urls(app, demo, login):
    register(app, "ganxian", "刘桂英", number(81), village="城郊村")
    register(app, "ganxian", "刘德福", number(83), village="大田村", category="dibao")
    register(app, "ganxian", "黄秀兰", number(85), village="大田村", township="王母渡镇")
    officer = _officer(login)
    token = support.csrf_token_from(officer.get("/beneficiaries/").get_data(as_text=True))

    def found(**form):
        response = officer.post("/beneficiaries/search", data={"csrf_token": token, **form})
        assert response.status_code == 302
        location = response.headers["Location"]
        assert all(not v or v not in location for k, v in form.items() if k == "text")
        html = officer.get(location).get_data(as_text=True)
        return {name for name in ("刘桂英", "刘德福", "黄秀兰") if name in html}

    assert found(text="刘") == {"刘桂英", "刘德福"}
    assert found(text="刘*英") == {"刘桂英"}
    assert found(text=number(85)) == {"黄秀兰"}
    assert found(village="大田") == {"刘德福", "黄秀兰"}
    assert found(category="dibao") == {"刘德福"}
    assert found(township="王母渡镇") == {"黄秀兰"}
    assert found(text="刘", village="大田村") == {"刘德福"}
    assert found(text="刘%") == set()  # wildcards typed by people are taken literally
