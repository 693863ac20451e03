"""关怀版 and the read-friendly public site (issue 22 point 8): the bureau's public telephone number
is a setting its administrator edits (checked as a Chinese number, a Chinese message when it is
not one, another bureau's number never shown), shown as a tap-to-call link on the big entry tiles
of 关怀版, in the footer and in the guides (the 低保 guide's "call the bureau" sentence); notices are
read as numbered sections with their attachments' type and size; the feed link is explained and
the feed, still valid Atom, names a stylesheet that makes it readable in a browser; /favicon.ico."""
import re
from datetime import timedelta
from xml.etree import ElementTree as ET  # nosec B405 # parses the app's own feed in a test

import pytest
from sqlalchemy import select

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.test_bureau_settings import _form, _settings

ATOM = "{http://www.w3.org/2005/Atom}"
PDF = b"%PDF-1.4\n" + b"x" * 3000 + b"\n%%EOF\n"


def _set_phone(app, code, number):
    with support.as_platform(app):
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one()
        tenant.settings = {**(tenant.settings or {}), "public_phone": number}
        db.session.commit()


def _publish(app, tenant_id, title, body, kind="tender_notice", data=None):
    from portal.disclosures import publish
    when = utcnow() - timedelta(minutes=5)
    with app.app_context(), tenant_scope(tenant_id):
        notice = publish(kind, title, body, None, None, when, data=data)
        db.session.commit()
        return notice.id


def _care(client):
    client.set_cookie("care", "1")
    return client


def _text(response):
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("typed, stored", [("0797-4441234", "0797-4441234"), ("010 62345678", "010-62345678"),
                                           ("12345", "12345"), ("138 0013 8000", "13800138000"),
                                           ("+86 771 5234567", "0771-5234567"), ("400-123-4567", "400-123-4567"),
                                           ("+86 10 6512 3456", "010-65123456"), ("0086 20 8123 4567", "020-81234567"),
                                           ("+86 138 0013 8000", "13800138000"), ("0771-5234567", "0771-5234567")])
def test_a_chinese_number_is_accepted_and_tidied(typed, stored):
    from portal.tenancy.phone import normalise_phone, tel_uri
    assert normalise_phone(typed) == stored
    assert tel_uri(stored) == "tel:" + re.sub(r"\D", "", stored)


def test_every_example_number_the_setting_shows_is_one_it_accepts(app):
    """The hint, the note and the refusal message of the public-phone setting (and the phone
    module's own docstrings) give only numbers the check accepts."""
    from portal.tenancy import phone
    from portal.tenancy.settings_catalogue import BY_KEY, _check, range_text
    setting = BY_KEY["public_phone"]
    with app.test_request_context():
        _value, refusal = _check(setting.rule, "abc")
        texts = [str(setting.note), range_text(setting.rule), refusal, phone.__doc__, phone.normalise_phone.__doc__]
    examples = [n for text in texts for n in re.findall(r"(?<![\d+])(?:0\d{2,3}-\d{7,8}|1[3-9]\d{9}|[48]00-\d{3}-\d{4})", text)]
    assert len(examples) >= 5 and "0771-5234567" in examples
    refused = [n for n in examples if phone.normalise_phone(n) != n]
    assert not refused, refused


@pytest.mark.parametrize("typed", ["abc", "1234", "0771-123", "27381234567", "0771-12345678901",
                                   "tel:12345", "<script>", "12345678901234567890123"])
def test_what_is_not_a_chinese_number_is_refused(typed):
    from portal.tenancy.phone import normalise_phone
    assert normalise_phone(typed) is None


def test_the_admin_sets_the_number_and_a_bad_one_gets_a_chinese_message(app, demo, login):
    admin = login("gx-admin")
    page = _text(admin.get("/settings/"))
    assert 'name="public_phone"' in page and "公开咨询电话" in page and 'type="tel"' in page
    bad = support.form_post(admin, "/settings/", _form(app, public_phone="电话12"))
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "请输入有效的电话号码" in body and 'aria-invalid="true"' in body
    assert "public_phone" not in _settings(app)[0]  # nothing saved
    good = support.form_post(admin, "/settings/", _form(app, public_phone="0797 444 1234"))
    assert good.status_code == 302
    assert _settings(app)[0]["public_phone"] == "0797-4441234"
    assert _settings(app, "zhanggong")[0].get("public_phone") is None
    home = _text(_care(app.test_client()).get("/public/ganxian/"))
    assert 'href="tel:07974441234"' in home


def test_only_the_bureaus_admin_changes_the_number(app, demo, login):
    from portal.accounts.services import create_user
    assert login("gx-officer").get("/settings/").status_code == 403
    auditor = login("gx-auditor")
    token = support.csrf_token_from(auditor.get("/settings/").get_data(as_text=True))
    refused = auditor.post("/settings/", data={**_form(app, public_phone="0797-4441234"), "csrf_token": token})
    assert refused.status_code == 403 and "public_phone" not in _settings(app)[0]
    # the other bureau's administrator changes only the other bureau
    with app.app_context():
        create_user(username="zg-admin", display_name="章贡区管理员", role="admin", password=support.PASSWORD,
                    tenant_id=demo.tenant_id("zhanggong"))
        db.session.commit()
    done = support.form_post(login("zg-admin"), "/settings/", _form(app, "zhanggong", public_phone="0797-8212349"))
    assert done.status_code == 302
    assert _settings(app, "zhanggong")[0]["public_phone"] == "0797-8212349"
    assert "public_phone" not in _settings(app)[0]
    assert "8212349" not in _text(_care(app.test_client()).get("/public/ganxian/"))


def test_the_number_is_checked_by_the_api_too(app, demo, client, api_token):
    admin = api_token("gx-admin")
    bad = client.put("/api/v1/settings", headers=admin, json={"public_phone": "12"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"public_phone"}
    good = client.put("/api/v1/settings", headers=admin, json={"public_phone": "12349"})
    assert good.status_code == 200 and good.get_json()["settings"]["public_phone"] == "12349"


def test_care_mode_home_has_the_four_tiles_with_this_bureaus_number_only(app, demo):
    _set_phone(app, "ganxian", "0797-4441234")
    _set_phone(app, "zhanggong", "0797-8212349")
    page = _text(_care(app.test_client()).get("/public/ganxian/"))
    tiles = re.search(r'<nav class="care-tiles".*?</nav>', page, re.S).group(0)
    labels = re.findall(r'<span class="tile-label">([^<]+)</span>', tiles)
    assert labels == ["通知公告", "办事指南", "意见反馈", "联系电话"]
    assert 'href="/public/ganxian/notices"' in tiles and 'href="/public/ganxian/guides"' in tiles
    assert 'href="/public/ganxian/feedback"' in tiles
    assert re.search(r'<a class="tile tile-phone" href="tel:07974441234">.*0797-4441234', tiles, re.S)
    assert "8212349" not in page  # the other bureau's number is never on this bureau's pages
    # one column, a simple search (the words only): no side column, no kind or date fields
    assert 'id="q"' in page and 'id="kind"' not in page and 'type="date"' not in page
    assert "public-columns" not in page
    assert "8212349" in _text(_care(app.test_client()).get("/public/zhanggong/"))
    # the standard view keeps its layout (no tiles) but shows the number to call too
    standard = _text(app.test_client().get("/public/ganxian/"))
    assert "care-tiles" not in standard and 'href="tel:07974441234"' in standard
    assert 'id="kind"' in standard and "public-columns" in standard
    # a change of the number is seen at once (the page's validator changes with it)
    client = _care(app.test_client())
    first = client.get("/public/ganxian/")
    _set_phone(app, "ganxian", "0797-4400000")
    again = client.get("/public/ganxian/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "0797-4400000" in again.get_data(as_text=True)


def test_care_mode_without_a_number_sends_people_to_the_township(app, demo):
    page = _text(_care(app.test_client()).get("/public/ganxian/"))
    assert "tel:" not in page and "请到户籍所在地乡镇" in page


def test_the_dibao_guide_gives_the_number_to_call(app):
    support.seed_demo(app, history=True)
    guide = _text(app.test_client().get("/public/ganxian/policies/dibao"))
    sentence = re.search(r"或拨打县（区）民政局社会救助股电话(.*?)。", guide).group(1)
    assert re.search(r'<a class="phone-link" href="tel:07974441234">0797-4441234</a>', sentence)
    assert "【咨询电话】" not in guide
    assert "8212349" not in guide
    guides = _text(_care(app.test_client()).get("/public/ganxian/guides"))
    assert guides.count('class="guide-link"') == 3 and 'href="tel:07974441234"' in guides


def test_a_notice_is_read_as_numbered_sections_with_its_attachments(app, demo):
    from portal.files.services import store_upload
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        stored = store_upload(None, data=PDF)
        db.session.commit()
        file_id = stored.id
    body = "采购人：赣县区民政局\n项目编号：GX-2026-001\n预算金额：120,000.00 元\n评标方法：综合评分法\n  · 服务方案：40\n  · 价格：30"
    notice_id = _publish(app, gx, "招标公告：居家照料服务", body, kind="award_result",
                         data={"tender_documents": {"file_id": file_id, "name": "招标文件.pdf"}})
    for care in (False, True):
        client = _care(app.test_client()) if care else app.test_client()
        page = _text(client.get(f"/public/ganxian/notices/{notice_id}"))
        headings = re.findall(r'<h2 id="section-\d+"><span class="section-number">([^<]+)</span>([^<]+)</h2>', page)
        assert headings == [("一、", "采购人"), ("二、", "项目编号"), ("三、", "预算金额"), ("四、", "评标方法")]
        assert "<li>服务方案：40</li>" in page and "<li>价格：30</li>" in page
        attachments = re.search(r'<section class="notice-attachments".*?</section>', page, re.S).group(0)
        assert "招标文件.pdf" in attachments and "PDF 文件，3 KB" in attachments
        assert f'href="/public/ganxian/notices/{notice_id}/documents"' in attachments
        assert 'href="/public/ganxian/notices"' in page and "返回通知公告" in page
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert '<span class="section-number">1. </span>' in _text(english.get(f"/public/ganxian/notices/{notice_id}"))
    assert app.test_client().get(f"/public/ganxian/notices/{notice_id}/documents").status_code == 200


def test_the_feed_is_explained_and_stays_valid_atom_with_a_stylesheet(app, demo):
    gx = demo.tenant_id("ganxian")
    _publish(app, gx, "最新公告", "采购人：赣县区民政局")
    home = _text(app.test_client().get("/public/ganxian/"))
    assert "订阅是什么" in home and "订阅阅读器" in home
    # the visible links open the page explaining the feed, not the XML
    assert re.search(r'<a href="/public/ganxian/subscribe">订阅（Atom）</a>\s*<small class="feed-note">', home)
    explained = _text(app.test_client().get("/public/ganxian/subscribe"))
    assert "什么是订阅" in explained and "怎样订阅" in explained
    assert 'value="http://localhost/public/ganxian/feed.atom"' in explained
    response = app.test_client().get("/public/ganxian/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    assert re.search(rb'^<\?xml version="1.0" encoding="utf-8"\?>\n<\?xml-stylesheet type="text/xsl" '
                     rb'href="/public/feed.xsl"\?>', response.data)
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}entry/{ATOM}title").text == "最新公告"
    sheet = app.test_client().get("/public/feed.xsl")
    assert sheet.status_code == 200 and sheet.mimetype == "text/xsl"
    root = ET.fromstring(sheet.data)
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    assert "这是一个订阅源" in sheet.get_data(as_text=True)


def test_favicon_is_served_and_named_on_every_kind_of_page(app, demo, login):
    icon = app.test_client().get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype.startswith("image/") and b"<svg" in icon.data
    assert app.test_client().get("/static/favicon.svg").status_code == 200
    link = '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">'
    assert link in _text(app.test_client().get("/public/ganxian/"))
    assert link in _text(app.test_client().get("/login"))
    assert link in _text(login("gx-admin").get("/settings/"))
